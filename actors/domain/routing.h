#pragma once
// Routing decisions as pure functions: which queue or agent a customer call goes to (the phone
// channel's flow, as in Omni-Channel's Execute Omni-Channel Flow), what an internal call's target
// names, which agent gets a waiting item, and which work an agent that just became free gets
// next. No state of their own: the router (the routing actor) feeds them the directory and the
// states of the agent and queue aggregates (agent.h, queue.h), then sends the resulting commands
// to those aggregates, which remain the only place capacity is reserved.
//
// Determinism: every choice breaks ties by a total order (time, then id or name), so the same
// inputs always give the same answer and a seeded simulation replays exactly.

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "actors/domain/agent.h"
#include "actors/domain/call.h"
#include "actors/domain/directory.h"
#include "actors/domain/errc.h"
#include "actors/domain/queue.h"

namespace backline::domain {

// ---------------------------------------------------------------------------------------------
// Customer calls: the flow of a phone channel.
struct flow_decision {
  std::string queue;  // the queue to wait in; empty when a rule names only an agent
  std::string agent;  // a rule that names an agent: offer them first (the queue, if any, is
                      // where the call waits when they cannot take it)
  std::vector<skill> required_skills;  // the rule's and the queue's, max level per name, by name
  std::string channel_number, flow;    // the channel and flow that were evaluated (may be empty)
  int rule_index = -1;                 // 0-based index of the rule that matched; -1: fallback
  bool fallback() const { return rule_index < 0; }
  friend bool operator==(const flow_decision&, const flow_decision&) = default;
};

// Evaluates the flow for a call to `dialled_number` with `attributes`:
// - the flow is the dialled channel's, or the one named by `flow_name_override` (the first
//   channel in the directory with that flow name);
// - rules are tried in order; a rule matches when the attribute named by `field` (case_id,
//   contact_id, account_id, subject, case_category, or a custom attribute) equals `value`; a rule
//   with an empty field always matches. A rule whose queue and agent are both unknown to the
//   directory is skipped (a misconfiguration must not send a customer nowhere);
// - no match: the fallback queue, `fallback_queue_override` when given, else the flow's channel's,
//   else the dialled channel's.
// Errors: errc::no_route when the number has no channel and no override applies, the flow name
// is unknown, or no rule matched and the fallback queue is missing or unknown.
std::expected<flow_decision, rejection> evaluate_flow(const directory& dir,
                                                      std::string_view dialled_number,
                                                      std::string_view flow_name_override,
                                                      std::string_view fallback_queue_override,
                                                      const call_attributes& attributes);

// Internal calls: a target is an agent id, an extension (an agent's, then a queue's) or a queue
// name, tried in that order. Exactly one of the fields is set. errc::no_route when unknown.
struct internal_target {
  std::string agent, queue;
  friend bool operator==(const internal_target&, const internal_target&) = default;
};
std::expected<internal_target, rejection> resolve_internal_target(const directory& dir,
                                                                  std::string_view target);

// ---------------------------------------------------------------------------------------------
// Agent selection.

// True when `skills` has every required skill at its minimum level or above.
bool qualifies(std::span<const skill> required, std::span<const skill> skills);
// Sum of the agent's levels in the required skills (the most-skilled strategy's score).
int skill_score(std::span<const skill> required, std::span<const skill> skills);

struct agent_candidate {
  std::string agent_id;
  presence current = presence::offline;
  int free_capacity = 0;
  std::vector<skill> skills;
  std::int64_t idle_since_us = 0;  // agent_state::last_idle_since_us
};
agent_candidate make_candidate(const agent_entry& entry, const agent_state& state);

// The agent to offer an item needing `required` to, or none. Never an agent that is not
// available, has no free capacity, lacks a required skill level or is in `excluded` (the item's
// tried agents). longest_idle: the earliest idle_since_us; most_skilled: the highest
// skill_score, then longest idle. Remaining ties: the smaller agent id.
std::optional<std::string> pick_agent(std::span<const skill> required,
                                      std::span<const agent_candidate> candidates,
                                      routing_strategy strategy,
                                      std::span<const std::string> excluded);

// ---------------------------------------------------------------------------------------------
// Work for an agent who has a free slot.

// The first item (queue order) that is not ringing anyone: the one to route next, or null.
const queue_item* next_item_to_offer(const queue_state& queue);
// The first item (queue order) this agent may be offered: not ringing, not tried by them, and
// within their skills. Null when none.
const queue_item* first_item_for_agent(const queue_state& queue, std::string_view agent_id,
                                       std::span<const skill> skills);

struct queue_view {
  std::string_view name;
  const queue_state* state = nullptr;
};

enum class work_kind : std::uint8_t { none = 0, callback = 1, queue_item = 2 };
struct next_work {
  work_kind kind = work_kind::none;
  std::string callback_id;     // kind callback
  std::string queue, item_id;  // kind queue_item
  friend bool operator==(const next_work&, const next_work&) = default;
};

// What to offer an agent next. Nothing unless they are available with a free slot. Their pending
// callbacks come first, oldest original request first (then id), skipping one already offered;
// then the best item they may take across `queues`: higher priority, then earlier enqueue, then
// queue name.
next_work next_work_for_agent(const agent_state& agent, int capacity, std::string_view agent_id,
                              std::span<const skill> skills, std::span<const queue_view> queues);

}  // namespace backline::domain
