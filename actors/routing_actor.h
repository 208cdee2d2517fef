#pragma once
// The routing actor: runs the pure routing protocol (actors/domain/routing_protocol.h) over the
// real agent, queue and call actors and the log. It owns the one `routing_view`; nothing else
// reads or writes it.
//
//   client ──route──► routing actor: request(view) -> steps
//                       each step: its commands in order ──command──► router ──► aggregate
//                         (or straight to the agent's / call's actor that answered last time)
//                       each reply (with_events): fold its events, apply(view), next command
//                       a refusal: on_refused(view), the step stops
//                     after steps: next_commands(view): reactions at once; matching coalesced
//                       (one pump message at a time, none when nothing is due)
//                     one timer armed for next_deadline_us(view) (ring timeouts, overflow)
//   client ◄──route_result── once the request's own steps ran (durable)
//
// The aggregates reply with the events they decided (command_result::agent_events, ...), not
// envelopes: the view folds them without decoding. A reply's sender is the aggregate's actor;
// the routing actor remembers it per agent and per call stream and sends that stream's next
// commands there, one hop instead of two. Only the router spawns stream actors, so there is
// still one actor per agent; a remembered actor that stopped fails the request, which then goes
// again through the router (the aggregate never saw it).
//
// Steps run concurrently (they mostly touch different streams); the protocol tolerates the
// races this allows, since the agent aggregate is the only place capacity is reserved.
// Bounded: at most `steps_in_flight_max` steps in flight; beyond that a route request is
// answered `refused` with detail "overloaded" (its commands are not sent).
// Start: the view folds every directory agent's and queue's stream, so presence and waiting
// calls survive a restart. Ids the protocol draws get a prefix from the clock at start, so a
// restarted actor does not reuse the previous activation's offer and command ids.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "actors/messages.h"

namespace backline::domain {
struct directory;
}

namespace backline::actors {

struct routing_actor_config {
  eventlog::log* log = nullptr;  // REQUIRES: outlives the actor (read at start only)
  std::shared_ptr<const domain::directory> directory;
  std::function<std::int64_t()> clock_us;  // the injected clock: every deadline is read from it
  // Virtual time (tests): arm no real timers; whoever moves `clock_us` sends `tick_atom` with
  // generation 0 and the actor acts on every deadline now due.
  bool virtual_timers = false;
  std::string tenant;
  std::int64_t ring_timeout_ms = domain::ring_timeout_ms_default;
  std::size_t steps_in_flight_max = 4096;
  // One command through the router; checked by a watchdog every second, not a timer per command.
  std::chrono::milliseconds command_timeout{10'000};
};

routing_actor spawn_routing_actor(caf::actor_system& system, router_actor router,
                                  std::shared_ptr<const routing_actor_config> config);

}  // namespace backline::actors
