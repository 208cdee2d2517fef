#pragma once
// The messages between the engine's actors, and the typed actor interfaces.
//
//   client ──command_request──► router ──delegate──► call actor ──append──► eventlog writer
//   client ◄──────────────────────── command_result (sent once durable) ◄──── (writer thread)
//
// These are local messages: CAF 0.17 carries them as opaque values between actors of one
// process (no remote actors), hence CAF_ALLOW_UNSAFE_MESSAGE_TYPE below.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/domain/agent.h"
#include "actors/domain/call.h"
#include "actors/domain/queue.h"
#include "actors/domain/routing_protocol.h"

namespace backline::eventlog {
class log;
}

namespace backline::actors {

// A command with its envelope facts. `command_id` makes it idempotent: the same id on the same
// stream returns the first outcome again and appends nothing.
template <class Body>
struct basic_request {
  std::string command_id;
  std::uint64_t expected_version = 0;  // 0: any version; else the stream's current version
  std::string tenant, principal;
  Body body;
  std::string correlation_id;  // the root customer call; empty: the stream's own id
  std::string target;          // agent and queue commands: the agent id / queue name
  bool with_events = false;    // reply with the events appended (the routing actor folds them)
};
using command_request = basic_request<domain::command_body>;

// What every aggregate actor needs (see actors/aggregate_core.h).
struct stream_actor_config {
  eventlog::log* log = nullptr;              // REQUIRES: outlives the actors
  std::function<std::int64_t()> clock_us;    // unix µs; injected for tests
  std::string tenant;                        // the call center's api name
  std::size_t pending_commands_max = 64;     // appends in flight per stream
  std::size_t remembered_commands_max = 32;  // idempotency window per stream (recent retries)
};

enum class outcome : std::uint8_t {
  accepted = 0,    // events appended (maybe none: the command changed nothing)
  rejected = 1,    // a domain rule refused it (`rule`); nothing appended
  conflict = 2,    // expected_version did not match (HTTP 409)
  overloaded = 3,  // a bounded queue is full: retry later (HTTP 503)
  failed = 4,      // the log failed (I/O): nothing acknowledged
};
std::string_view to_string(outcome o);

struct command_result {
  outcome status = outcome::accepted;
  domain::errc rule = domain::errc::ok;
  std::string detail;
  std::string stream_id;  // the conversation (root voice call id)
  // Log position of the first event; 0 when none, and in a replay of a command decided in this
  // activation (the actor learns positions only on reload).
  std::uint64_t first_position = 0;
  std::uint64_t stream_version = 0;  // the stream's version after the command
  std::uint32_t events = 0;
  bool replayed = false;  // an idempotent repeat: this is the first outcome
  // With `with_events`: the events this command appended, as decided (the same the log holds
  // in envelopes), in the vector of the stream's kind. The routing actor folds them as they are:
  // decoding the envelopes again cost it a tenth of its time (bench/routing_bench.cc).
  std::vector<domain::event> call_events;
  std::vector<domain::agent_event> agent_events;
  std::vector<domain::queue_event> queue_events;
};

// Sent from the log's writer thread (an append's `done` callback) to the stream actor whose
// append failed: its state is then ahead of the log and it must stop (crash-only).
struct append_failed {
  int error = 0;  // eventlog::errc value
};

using command_atom = caf::atom_constant<caf::atom("command")>;
using committed_atom = caf::atom_constant<caf::atom("committed")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;

// One conversation (stream "call/<root id>").
using call_actor =
    caf::typed_actor<caf::replies_to<command_atom, command_request>::with<command_result>,
                     caf::reacts_to<committed_atom, append_failed>, caf::reacts_to<idle_atom>>;

struct router_stats {
  std::uint64_t active_calls = 0, spawned = 0, passivated = 0, routed = 0;
};

using agent_request = basic_request<domain::agent_command>;
using queue_request = basic_request<domain::queue_command>;

// Activates call, agent and queue actors on demand and delivers commands to them.
using router_actor = caf::typed_actor<
    caf::replies_to<command_atom, command_request>::with<command_result>,
    caf::replies_to<command_atom, agent_request>::with<command_result>,
    caf::replies_to<command_atom, queue_request>::with<command_result>,
    // A stream actor stopped: its stream, "call/<id>", "agent/<id>" or "queue/<name>".
    caf::reacts_to<passivate_atom, std::string>, caf::replies_to<stats_atom>::with<router_stats>,
    // A call actor with no active segment: its root id and when it would be idle (unix µs). The
    // router's sweep sends it idle_atom then, so call actors hold no timer each.
    caf::reacts_to<idle_atom, std::string, std::int64_t>, caf::reacts_to<sweep_atom>,
    // Stops every stream actor, then the router; replies once they were told to stop.
    caf::replies_to<shutdown_atom>::with<caf::atom_value>>;

// The routing actor (actors/routing_actor.h): requests from outside and the agent console.
using route_atom = caf::atom_constant<caf::atom("route")>;
using accept_atom = caf::atom_constant<caf::atom("accept")>;
using decline_atom = caf::atom_constant<caf::atom("decline")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using pump_atom = caf::atom_constant<caf::atom("pump")>;

// The answer to a routing request, sent once the request's steps ran (the offer, the enqueue or
// the callback request is durable). `detail` also says when a step was refused by a race.
struct route_result {
  domain::route_outcome outcome = domain::route_outcome::done;
  std::string agent, queue, callback_id;
  std::string offer_id;  // ringing: the offer the agent's console accepts or declines
  domain::errc rule = domain::errc::ok;  // refused: the rule
  std::string detail;
};

using routing_actor =
    caf::typed_actor<caf::replies_to<route_atom, domain::routing_request>::with<route_result>,
                     // The agent's console: accept or decline an offer (agent id, offer id).
                     caf::replies_to<accept_atom, std::string, std::string>::with<command_result>,
                     caf::replies_to<decline_atom, std::string, std::string>::with<command_result>,
                     // Commands that routing must see (presence, wrap-up, ending a call): sent on
                     // to the router and their events folded into the routing view.
                     caf::replies_to<command_atom, agent_request>::with<command_result>,
                     caf::replies_to<command_atom, command_request>::with<command_result>,
                     // Timers: `tick` with generation 0 says "the injected clock moved, look again"
                     // (tests on virtual time send it); the actor's own timers send the generation
                     // they armed.
                     caf::reacts_to<tick_atom, std::uint64_t>, caf::reacts_to<pump_atom>,
                     caf::reacts_to<sweep_atom>>;

}  // namespace backline::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(backline::actors::command_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(backline::actors::agent_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(backline::actors::queue_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(backline::actors::command_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(backline::actors::append_failed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(backline::actors::router_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(backline::actors::route_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(backline::domain::routing_request)
