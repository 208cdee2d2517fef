#pragma once
// The routing protocol: a pure process manager between the call, agent and queue aggregates. It
// owns no stream and appends nothing itself: it reads the events those aggregates emit, keeps a
// `routing_view` of what routing needs, and answers with commands for the aggregates, which stay
// the only place where rules are decided (the agent aggregate is the only place capacity is
// reserved). Run by the routing actor; driven the same way by tests/sim/routing_sim.h.
//
// Driving it (the shell's loop; every call is pure, time comes in as `now_us`):
//
//   request(view, req, now)  ->  steps    a call needs routing, a callback is cancelled, ...
//   next_commands(view, now) ->  steps    reactions to folded events, matching, timeouts
//   for each step, in order: send its commands in order to their aggregates; fold every event
//     emitted into the view with apply(view, stream, event); at the first refusal stop the
//     step and report it with on_refused(view, step, index, rejection)
//   arm a timer for next_deadline_us(view) and call next_commands again when it fires
//
// What the protocol does (every step is an event of some aggregate):
// - PSR: a call that needs an agent is a queue item (queue `enqueued`; cleared by `dequeued`,
//   `abandoned`, `routing_cleared` or `overflowed`, which re-enqueues it in the fallback queue
//   with its original enqueue time).
// - Matching: waiting items in global order (priority, then enqueue time, then queue name) each
//   get the free agent their queue's strategy picks (routing.h `pick_agent`), never one they
//   tried. An agent's pending callback requests come before any queue work. An offer is a step:
//   agent `reserve_offer` (refused when a race took the last slot: the step stops, the agent is
//   skipped until their state changes, and the item goes to the next agent), queue
//   `offer_made`, call `ring`.
// - Ring timeout (routing_config::ring_timeout_ms, default 20 s): agent `offer_timed_out` (a
//   missed offer); decline, timeout and withdrawal (the agent went offline or away while ringing)
//   end the queue offer and the item waits for the next agent. The queue has no withdrawal
//   event, so a withdrawal ends the queue offer as `offer_declined`; the agent stream keeps the
//   reason.
// - Accept: queue `dequeue`, call `answer` (the agent joins, the call connects).
// - Internal calls (`internal_call`): the target is an agent id, an extension or a queue name;
//   no IVR. Queue: the call waits like a customer call. Agent: Offline/Away refused with the
//   rule (agent_offline, agent_away); Busy, in ACW or at capacity: a callback request on the
//   target's stream; otherwise the call rings them alone (decline or timeout ends it with reason
//   "no_answer"). An accepted callback places a new internal call (initiation_method callback)
//   from the target to the original caller, routed the same way.
// - Customer calls (`customer_call`): the phone channel's flow (routing.h `evaluate_flow`); an
//   agent named by a rule is offered the item first; the item waits in the decided queue, else
//   the channel's fallback queue, which becomes the call record's queue (call `assign_queue`).
// - Blind transfers (call `blind_transferred`): the transferring agent's work is released. To
//   a queue: the new segment waits there. To an agent: they are offered the new segment alone
//   (the call already rings them) when they can take it; accept answers it. Decline, timeout,
//   a target who is busy, away or offline, or a lost reservation race: the new segment waits in
//   the queue the customer last waited in, else the record's queue (the event's
//   `fallback_queue`, so a restarted view that never saw the call wait still has it), or, for a
//   call that never had a queue, ends with reason "no_answer".
// - A call that ends while waiting is abandoned (queue `abandon`); one that ends while ringing
//   withdraws the offer; when an agent's segment ends their work is released (ACW follows).
//
// Ids the protocol creates (offers, PSRs, callbacks, callback calls) come from a counter in the
// view prefixed with `routing_config::id_prefix`, so a replay creates the same ids.
// Not thread-safe: one owner (the routing actor). Bounded by the aggregates' own limits.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "actors/domain/agent.h"
#include "actors/domain/call.h"
#include "actors/domain/directory.h"
#include "actors/domain/errc.h"
#include "actors/domain/queue.h"
#include "actors/domain/routing.h"

namespace backline::domain {

struct routing_config {
  std::int64_t ring_timeout_ms = ring_timeout_ms_default;
  std::int64_t overflow_check_every_us = 1'000'000;  // how often overflow_due is evaluated
  std::string id_prefix = "r";
};

// ---------------------------------------------------------------------------------------------
// Commands for the aggregates.
namespace route {
struct to_agent {
  std::string agent_id;
  agent_command command;
};
struct to_queue {
  std::string queue;
  queue_command command;
};
struct to_call {
  std::string call_id;  // the stream: the root voice call id
  command_body command;
};
}  // namespace route
using routing_command = std::variant<route::to_agent, route::to_queue, route::to_call>;

// Commands sent in order; the first refusal stops the step (see on_refused).
struct routing_step {
  std::vector<routing_command> commands;
};

// ---------------------------------------------------------------------------------------------
// Requests from outside (the Telephony Integration API, consoles).
namespace route_req {
struct customer_call {  // Execute Omni-Channel Flow for a new inbound call
  std::string call_id, from, dialled_number, flow_override, fallback_queue_override;
  call_attributes attributes;
  int priority = 0;
};
struct internal_call {
  std::string call_id, from_agent, target;  // target: agent id, extension or queue name
  std::string parent_call_id;  // the call it is placed from, if any (create_call parent_id)
};
struct consult {  // an agent on a call consults a specialist (rings only if they can take it)
  std::string call_id, segment_id, consult_call_id, from_agent, target_agent;
  bool hold_customer = true;
};
struct cancel_callback {
  std::string target_agent, callback_id;
};
struct customer_callback {  // the waiting customer asks to be called back; keeps the position
  std::string call_id, number;
};
struct clear_routing {  // Clear Routing: delete the PSR of a missed or abandoned call
  std::string call_id;
};
}  // namespace route_req
using routing_request = std::variant<route_req::customer_call, route_req::internal_call,
                                     route_req::consult, route_req::cancel_callback,
                                     route_req::customer_callback, route_req::clear_routing>;

enum class route_outcome : std::uint8_t {
  queued = 0,
  ringing = 1,
  callback = 2,
  refused = 3,
  done = 4
};
std::string_view to_string(route_outcome o);

// The answer to a request: what happened (the API's reply names the agent or the queue) and
// the steps to run.
struct request_result {
  route_outcome outcome = route_outcome::done;
  std::string agent, queue, callback_id;
  std::optional<rejection> refusal;  // refused: the rule and what to do
  std::vector<routing_step> steps;
};

// ---------------------------------------------------------------------------------------------
// The view.
enum class flight_kind : std::uint8_t {
  queue = 0,
  direct = 1,
  consult = 2,
  callback = 3,
  transfer = 4  // a blind transfer's new segment, ringing the agent it was transferred to
};

// An offer the protocol made and that has not ended.
struct offer_in_flight {
  flight_kind kind = flight_kind::queue;
  std::string agent_id, voice_call_id, call_id;  // call_id: the stream of voice_call_id
  std::string queue, item_id;                    // kind queue; kind transfer: the fallback
  std::string callback_id, caller_agent;         // kind callback
  std::string consult_parent;                    // kind consult: the segment consulted from
  bool hold_customer = false;
  bool accepted = false;
  std::int64_t deadline_us = 0;
};

struct routing_view {
  explicit routing_view(const directory& dir, routing_config config = {});

  const directory* dir;
  routing_config config;
  std::uint64_t next_id = 1;
  std::map<std::string, agent_state, std::less<>> agents;            // every directory agent
  std::map<std::string, queue_state, std::less<>> queues;            // every directory queue
  std::set<std::string, std::less<>> free_agents;                    // available with a free slot
  std::map<std::string, offer_in_flight, std::less<>> offers;        // by offer id
  std::unordered_multimap<std::string, std::string> offers_of_call;  // voice call -> offer ids
  std::unordered_map<std::string, std::string> waiting;              // voice call -> queue
  std::unordered_map<std::string, std::string> stream_of;            // voice call -> call stream
  std::unordered_map<std::string, std::string> queue_of;             // voice call -> last queue
  std::unordered_map<std::string, std::string> preferred;            // item -> flow's agent
  std::unordered_map<std::string, std::uint64_t> refused;            // agent -> version refused at
  // Segment -> consults whose agents moved onto it (warm transfer, conference): their work,
  // reserved for the consult, is released when the segment ends.
  std::unordered_multimap<std::string, std::string> carried;
  std::set<std::pair<std::int64_t, std::string>> ring_deadlines;  // ringing offers, by deadline
  std::int64_t next_overflow_check_us = 0;
  bool dirty = true;                    // matching may have work to do
  std::vector<routing_step> followups;  // reactions to folded events, drained by next_commands

  const agent_entry* agent_entry_of(std::string_view id) const;
  // Keep `offers` and `offers_of_call` in step (ending a call must not walk every offer).
  void add_offer(std::string offer_id, offer_in_flight f);
  void erase_offer(std::string_view offer_id);
  std::vector<std::string> offers_for_call(const std::string& voice_call_id) const;
};

// Folds an event of each aggregate. REQUIRES: events in stream order, each once.
void apply(routing_view& v, std::string_view agent_id, const agent_event& e);
void apply(routing_view& v, std::string_view queue, const queue_event& e);
void apply(routing_view& v, std::string_view call_id, const event& e);

request_result request(routing_view& v, const routing_request& r, std::int64_t now_us);

// Reactions, matching, ring timeouts and overflow due at `now_us`.
std::vector<routing_step> next_commands(routing_view& v, std::int64_t now_us);

// Reports that command `index` of `step` was refused.
void on_refused(routing_view& v, const routing_step& step, std::size_t index, const rejection& why,
                std::int64_t now_us);

// A blind transfer's target did not take the new segment `f.voice_call_id`: it waits in
// `f.queue` (the queue the customer last waited in), else it ends with reason "no_answer".
void transfer_unanswered(routing_view& v, const offer_in_flight& f);

// The earliest ring deadline or overflow check still pending; nullopt when nothing is timed.
std::optional<std::int64_t> next_deadline_us(const routing_view& v);

std::string_view command_name(const routing_command& c);
std::string render(const routing_command& c);

}  // namespace backline::domain
