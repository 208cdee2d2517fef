#pragma once
// The agent aggregate: one contact-center user's presence, the voice work they hold and the
// callback requests waiting for them. Its stream is "agent/<id>". It is the single place where
// an agent's capacity is reserved: every offer (queue work, a direct internal call, a callback)
// is a `reserve_offer` (or `offer_callback`) decided here, one command at a time, so several
// queues and direct calls racing for the same agent can never push them over capacity.
//
// Pure: `decide` and `evolve` read no clock, randomness or I/O. Time, the agent's capacity and
// the presence policy come in through `agent_context`; offer and callback ids are chosen by the
// caller (the actor shell draws UUIDv7s). Run by the agent actor; tested in tests/domain/.
//
// Presence (what the console shows and what routing reads):
//
//   offline --set--> available --accept, at capacity--> busy --release, no work left--> acw
//      ^                ^  |                                |                              |
//      |                |  +--set away/busy/offline         +--release, work left,        |
//      |                |     (ringing offers withdrawn)      capacity free -> available   |
//      |                +----------- finish_wrap_up / acw_timed_out / set available -------+
//
// - after_call_work (ACW) is entered only by the system, when the last work item is released
//   while the agent was available or busy because of work (reason "on_call"); it is left by
//   `finish_wrap_up`, by `acw_timed_out` (the shell's timer, after the configured ACW time) or by
//   setting a presence explicitly. A timer that fires late for an earlier ACW period does nothing
//   (`acw_timed_out.since_us`).
// - A missed offer (`offer_timed_out`) is recorded (`missed_offers`) and releases its capacity.
//   Policy (agent_context::away_on_missed_offer, default on, as Salesforce Omni-Channel and
//   Amazon Connect do): an agent who misses an offer while available goes away with reason
//   "missed_offer", so the router stops ringing someone who is not at their desk. A decline is
//   deliberate and leaves the agent available.
// - Going offline or away withdraws offers that are still ringing (`offer_withdrawn`): the
//   router moves each call to its next agent. Accepted calls go on; their release then does not
//   start ACW. Pending callbacks are kept and offered when the agent is available again.
//
// Callback requests: the target of a direct internal call who is busy gets a callback request
// instead of a ring (see `classify_direct_target`). Requests are kept ordered by their original
// request time, then id, and are offered before new queue work (routing.h,
// `next_work_for_agent`). An offered callback that is declined or missed keeps its place; once
// accepted, it is completed by `complete_callback` or when its call is released.
//
// Events are storage formats: never reorder, reuse or remove fields or alternatives.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/domain/call.h"
#include "actors/domain/errc.h"

namespace backline::domain {

// Bounds (STYLE: a limit on everything).
inline constexpr int agent_capacity_max = 32;  // work items (offers + accepted calls) at once
inline constexpr std::size_t callbacks_per_agent_max = 256;
inline constexpr std::int64_t ring_timeout_ms_default = 20'000;
inline constexpr std::int64_t ring_timeout_ms_max = 600'000;
// The reason of the busy presence the system sets when every slot holds work (with at least one
// accepted call); it turns back to available when a slot frees. Busy by the agent's choice (any
// other reason) is never changed by the system.
inline constexpr std::string_view on_call_reason = "on_call";

enum class presence : std::uint8_t {
  offline = 0,
  available = 1,
  busy = 2,
  away = 3,
  after_call_work = 4
};
enum class offer_kind : std::uint8_t { queue = 0, direct = 1, callback = 2 };
std::string_view to_string(presence p);
std::string_view to_string(offer_kind k);

// ---------------------------------------------------------------------------------------------
// Commands.
namespace agent_cmd {
// By the agent (console). `after_call_work` is entered only by the system; `away` needs a reason.
struct set_presence {
  presence to = presence::available;
  std::string reason;
};
// The single place capacity is reserved. Refused unless available with free capacity.
struct reserve_offer {
  std::string offer_id, voice_call_id;
  offer_kind kind = offer_kind::queue;
  std::string queue;  // kind queue: the queue the work comes from (for the record)
  std::int64_t ring_timeout_ms = ring_timeout_ms_default;
};
struct accept_offer {
  std::string offer_id;
};
struct decline_offer {
  std::string offer_id;
};
struct offer_timed_out {
  std::string offer_id;
};  // the shell's ring timer fired
struct release_work {
  std::string voice_call_id;
};  // the agent's segment ended
struct finish_wrap_up {};
struct acw_timed_out {
  std::int64_t since_us = 0;
};  // the ACW period the timer was set for
struct request_callback {
  std::string callback_id, caller_agent;
  std::string voice_call_id;         // optional: the call the caller was on (for the record)
  std::int64_t requested_at_us = 0;  // original request time; 0: now
};
struct cancel_callback {
  std::string callback_id;
};
// Offers a pending callback: reserves capacity like `reserve_offer` (kind callback);
// `voice_call_id` is the id of the call the agent will place when they accept.
struct offer_callback {
  std::string callback_id, offer_id, voice_call_id;
  std::int64_t ring_timeout_ms = ring_timeout_ms_default;
};
struct complete_callback {
  std::string callback_id;
};  // the agent called back
}  // namespace agent_cmd

using agent_command =
    std::variant<agent_cmd::set_presence, agent_cmd::reserve_offer, agent_cmd::accept_offer,
                 agent_cmd::decline_offer, agent_cmd::offer_timed_out, agent_cmd::release_work,
                 agent_cmd::finish_wrap_up, agent_cmd::acw_timed_out, agent_cmd::request_callback,
                 agent_cmd::cancel_callback, agent_cmd::offer_callback,
                 agent_cmd::complete_callback>;
std::string_view command_name(const agent_command& c);

// ---------------------------------------------------------------------------------------------
// Events.
namespace agent_evt {
struct presence_changed {
  presence to = presence::available;
  std::string reason;
};
struct offer_reserved {
  std::string offer_id, voice_call_id;
  offer_kind kind = offer_kind::queue;
  std::string queue, callback_id;
  std::int64_t ring_timeout_ms = ring_timeout_ms_default;
};
struct offer_accepted {
  std::string offer_id;
};
struct offer_declined {
  std::string offer_id;
};
struct offer_timed_out {
  std::string offer_id;
};  // a missed offer
// A ringing offer the agent can no longer take (went offline or away, callback cancelled or
// completed): its capacity is released and the router moves on.
struct offer_withdrawn {
  std::string offer_id, reason;
};
struct work_released {
  std::string voice_call_id;
};
struct callback_requested {
  std::string callback_id, caller_agent, voice_call_id;
  std::int64_t requested_at_us = 0;
};
struct callback_offered {
  std::string callback_id, offer_id;
};
struct callback_completed {
  std::string callback_id;
};
struct callback_cancelled {
  std::string callback_id;
};
}  // namespace agent_evt

using agent_event_body =
    std::variant<agent_evt::presence_changed, agent_evt::offer_reserved, agent_evt::offer_accepted,
                 agent_evt::offer_declined, agent_evt::offer_timed_out, agent_evt::offer_withdrawn,
                 agent_evt::work_released, agent_evt::callback_requested,
                 agent_evt::callback_offered, agent_evt::callback_completed,
                 agent_evt::callback_cancelled>;

struct agent_event {
  std::int64_t at_us = 0;
  agent_event_body body;
};
std::string_view event_type_name(const agent_event_body& e);

// ---------------------------------------------------------------------------------------------
// State.
struct work_item {
  std::string offer_id, voice_call_id;
  offer_kind kind = offer_kind::queue;
  std::string queue, callback_id;
  bool accepted = false;  // false: reserved, ringing
  std::int64_t offered_at_us = 0, ring_timeout_ms = 0, accepted_at_us = 0;
  friend bool operator==(const work_item&, const work_item&) = default;
};

struct callback_request {
  std::string callback_id, caller_agent, voice_call_id;
  std::int64_t requested_at_us = 0;
  std::string offer_id;  // non-empty while offered (ringing or accepted)
  friend bool operator==(const callback_request&, const callback_request&) = default;
};

struct agent_state {
  std::uint64_t version = 0;  // number of events folded
  presence current = presence::offline;
  std::string reason;  // away: why
  std::int64_t presence_since_us = 0;
  std::int64_t last_idle_since_us = 0;      // when the agent last became available with no work
  std::int64_t acw_since_us = 0;            // start of the current ACW period
  std::vector<work_item> work;              // in reservation order
  std::vector<callback_request> callbacks;  // by requested_at_us, then callback_id
  std::uint32_t missed_offers = 0, declined_offers = 0, accepted_offers = 0;

  const work_item* find_offer(std::string_view offer_id) const;
  const work_item* find_call(std::string_view voice_call_id) const;
  const callback_request* find_callback(std::string_view callback_id) const;
  friend bool operator==(const agent_state&, const agent_state&) = default;
};

struct agent_context {
  std::int64_t now_us = 0;
  int capacity = 1;  // from the directory (agent_entry::capacity); clamped to [1, max]
  bool away_on_missed_offer = true;
};

using agent_decision = std::expected<std::vector<agent_event>, rejection>;

// Decides what `c` means in `state`. A command that changes nothing returns no events.
agent_decision decide(const agent_state& state, const agent_command& c, const agent_context& ctx);

// Folds one event. REQUIRES: `e` was emitted by `decide` on a state equal to `state`;
// violations are programmer errors and assert.
void evolve(agent_state& state, const agent_event& e);

// Work items (ringing offers and accepted calls) the agent could still take: capacity minus
// held work, never negative.
int free_capacity(const agent_state& state, int capacity);

// What a direct internal call to this agent does: ring them, leave a callback request (busy,
// in after-call work or at capacity), or refuse with a rule (agent_offline, agent_away).
enum class direct_target_outcome : std::uint8_t { ring = 0, callback = 1, refuse = 2 };
struct direct_target {
  direct_target_outcome outcome = direct_target_outcome::refuse;
  errc rule = errc::ok;  // refuse: why
};
direct_target classify_direct_target(const agent_state& state, int capacity);

// A compact, deterministic text rendering (tests compare states through it).
std::string render(const agent_state& state);

}  // namespace backline::domain
