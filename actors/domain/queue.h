#pragma once
// The queue aggregate: the work waiting in one queue. Its stream is "queue/<name>". Each waiting
// item is a PendingServiceRouting (PSR): one call that needs an agent. Items are kept ordered by
// priority (higher first), then enqueue time, then item id, so the head is always the next item
// to route and, within a priority, order is FIFO.
//
// The queue records routing bookkeeping, not agents' capacity: the router offers the head to one
// agent at a time (`offer_made`), reserving capacity in the agent aggregate first (agent.h);
// decline or timeout clears the offer and the item waits for the next agent. An agent is never
// offered the same item twice (`tried_agents`). Accept dequeues the item.
//
// - A customer who asks to be called back (`request_customer_callback`) keeps their position:
//   the item stays where it was, marked as a callback with the number to dial.
// - Overflow: after the queue's `overflow_after_s`, an item that is not ringing anyone leaves
//   for the configured fallback queue (`overflowed`); the router enqueues it there with its
//   original enqueue time, so the customer does not lose the time they already waited.
// - Live figures are pure functions of the state and `now_us` (`figures`).
//
// Estimated wait: the queue keeps an exponentially weighted moving average (weight 1/8, as
// TCP's smoothed RTT) of the *service interval*: for each dequeued item, the time since the later
// of the previous dequeue and that item's enqueue. In a busy queue that is the time between
// departures; in a quiet one it is the item's own short wait, so idle inter-arrival gaps do not
// inflate it. The estimate for position k (1 = head) is k x that average; a new arrival's is
// (waiting + 1) x average. With no history the estimate is unknown (-1).
//
// Pure: `decide` and `evolve` read no clock, randomness or I/O; time and the queue's
// configuration (from the directory) come in through `queue_context`. Run by the queue actor;
// tested in tests/domain/. Events are storage formats: never reorder, reuse or remove fields.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/domain/call.h"
#include "actors/domain/directory.h"
#include "actors/domain/errc.h"

namespace backline::domain {

inline constexpr std::size_t queue_items_max = 10'000;
inline constexpr std::size_t tried_agents_per_item_max = 64;
inline constexpr std::size_t required_skills_max = 16;
inline constexpr int queue_priority_max = 1'000;  // priorities are in [-max, max]

// ---------------------------------------------------------------------------------------------
// Commands.
namespace queue_cmd {
struct enqueue {
  std::string item_id, voice_call_id;  // item id: the PSR id
  int priority = 0;                    // higher is served first
  std::vector<skill> required_skills;  // minimum levels; names unique
  std::int64_t enqueued_at_us = 0;     // 0: now; an overflowed item keeps its original time
};
struct dequeue {
  std::string item_id, agent_id;
};  // an agent accepted (or was assigned) it
struct abandon {
  std::string item_id;
};  // the caller hung up while waiting
struct clear_routing {
  std::string item_id;
};  // Clear Routing: delete the PSR
struct overflow {
  std::string item_id;
};  // the wait passed overflow_after_s
struct request_customer_callback {
  std::string item_id, number;
};
struct offer_made {
  std::string item_id, agent_id, offer_id;
};
struct offer_declined {
  std::string item_id, offer_id;
};
struct offer_timed_out {
  std::string item_id, offer_id;
};
}  // namespace queue_cmd

using queue_command = std::variant<queue_cmd::enqueue, queue_cmd::dequeue, queue_cmd::abandon,
                                   queue_cmd::clear_routing, queue_cmd::overflow,
                                   queue_cmd::request_customer_callback, queue_cmd::offer_made,
                                   queue_cmd::offer_declined, queue_cmd::offer_timed_out>;
std::string_view command_name(const queue_command& c);

// ---------------------------------------------------------------------------------------------
// Events.
namespace queue_evt {
struct enqueued {
  std::string item_id, voice_call_id;
  int priority = 0;
  std::vector<skill> required_skills;  // sorted by name
  std::int64_t enqueued_at_us = 0;
};
struct dequeued {
  std::string item_id, agent_id;
  std::int64_t wait_us = 0;
};
struct abandoned {
  std::string item_id;
  std::int64_t wait_us = 0;
};
struct routing_cleared {
  std::string item_id;
};
struct overflowed {
  std::string item_id, to_queue;
  std::int64_t wait_us = 0;
};
struct customer_callback_requested {
  std::string item_id, number;
};
struct offer_made {
  std::string item_id, agent_id, offer_id;
};
struct offer_declined {
  std::string item_id, offer_id;
};
struct offer_timed_out {
  std::string item_id, offer_id;
};
}  // namespace queue_evt

using queue_event_body =
    std::variant<queue_evt::enqueued, queue_evt::dequeued, queue_evt::abandoned,
                 queue_evt::routing_cleared, queue_evt::overflowed,
                 queue_evt::customer_callback_requested, queue_evt::offer_made,
                 queue_evt::offer_declined, queue_evt::offer_timed_out>;

struct queue_event {
  std::int64_t at_us = 0;
  queue_event_body body;
};
std::string_view event_type_name(const queue_event_body& e);

// ---------------------------------------------------------------------------------------------
// State.
struct queue_item {
  std::string item_id, voice_call_id;
  int priority = 0;
  std::int64_t enqueued_at_us = 0;
  std::vector<skill> required_skills;     // sorted by name
  std::vector<std::string> tried_agents;  // in offer order
  bool is_callback = false;               // the customer asked to be called back
  std::string callback_number;
  std::string offer_agent, offer_id;  // non-empty while an offer rings
  std::int64_t offer_at_us = 0;

  bool offering() const { return !offer_id.empty(); }
  bool tried(std::string_view agent_id) const;
  friend bool operator==(const queue_item&, const queue_item&) = default;
};

struct queue_state {
  std::uint64_t version = 0;
  std::vector<queue_item> items;  // by priority desc, enqueued_at_us asc, item_id asc
  // Estimated-wait history (see the top of this file).
  std::int64_t ewma_service_interval_us = -1;  // -1: no history yet
  std::int64_t ewma_wait_us = -1;              // answered items' wait (average speed of answer)
  std::int64_t last_dequeue_us = 0;
  std::uint64_t answered = 0, abandoned = 0, overflowed = 0, cleared = 0;

  const queue_item* find(std::string_view item_id) const;
  const queue_item* find_call(std::string_view voice_call_id) const;
  friend bool operator==(const queue_state&, const queue_state&) = default;
};

struct queue_context {
  std::int64_t now_us = 0;
  const queue_entry* config = nullptr;  // the queue's directory entry; null: no overflow
};

using queue_decision = std::expected<std::vector<queue_event>, rejection>;

// Decides what `c` means in `state`. A command that changes nothing returns no events.
queue_decision decide(const queue_state& state, const queue_command& c, const queue_context& ctx);

// Folds one event. REQUIRES: `e` was emitted by `decide` on a state equal to `state`.
void evolve(queue_state& state, const queue_event& e);

// Live figures at `now_us`.
struct queue_figures {
  std::size_t waiting = 0;              // items in the queue (ringing ones included)
  std::size_t ringing = 0;              // items with an offer in progress
  std::size_t callbacks = 0;            // items waiting as customer callbacks
  std::int64_t oldest_wait_us = 0;      // 0 when empty
  std::int64_t estimated_wait_us = -1;  // for a new arrival; -1: unknown (no history)
};
queue_figures figures(const queue_state& state, std::int64_t now_us);
// The estimated wait of the item at `position` (1 = head); -1 when unknown.
std::int64_t estimated_wait_us(const queue_state& state, std::size_t position);

// Items whose wait reached the queue's overflow_after_s and are not ringing, head first. Empty
// when the queue has no overflow configured. The router sends each an `overflow` command.
std::vector<std::string> overflow_due(const queue_state& state, const queue_entry& config,
                                      std::int64_t now_us);

std::string render(const queue_state& state);

}  // namespace backline::domain
