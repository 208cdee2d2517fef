// The queue aggregate: `decide`, `evolve` and the live figures. See queue.h.
#include "actors/domain/queue.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <cassert>
#include <tuple>

#include "actors/domain/call_rules.h"

namespace backline::domain {

std::string_view command_name(const queue_command& c) {
  static constexpr std::string_view names[] = {
      "enqueue",       "dequeue",        "abandon",
      "clear_routing", "overflow",       "request_customer_callback",
      "offer_made",    "offer_declined", "offer_timed_out"};
  static_assert(std::size(names) == std::variant_size_v<queue_command>);
  return names[c.index()];
}

std::string_view event_type_name(const queue_event_body& e) {
  static constexpr std::string_view names[] = {
      "enqueued",        "dequeued",       "abandoned",
      "routing_cleared", "overflowed",     "customer_callback_requested",
      "offer_made",      "offer_declined", "offer_timed_out"};
  static_assert(std::size(names) == std::variant_size_v<queue_event_body>);
  return names[e.index()];
}

bool queue_item::tried(std::string_view agent_id) const {
  return std::ranges::find(tried_agents, agent_id) != tried_agents.end();
}

const queue_item* queue_state::find(std::string_view item_id) const {
  auto it = std::ranges::find(items, item_id, &queue_item::item_id);
  return it == items.end() ? nullptr : &*it;
}
const queue_item* queue_state::find_call(std::string_view voice_call_id) const {
  auto it = std::ranges::find(items, voice_call_id, &queue_item::voice_call_id);
  return it == items.end() ? nullptr : &*it;
}

namespace {

using rules::check_id;
using rules::reject;
using queue_events = std::vector<queue_event>;

bool before(const queue_item& a, const queue_item& b) {
  return std::tuple(-a.priority, a.enqueued_at_us, std::string_view(a.item_id)) <
         std::tuple(-b.priority, b.enqueued_at_us, std::string_view(b.item_id));
}

std::expected<void, rejection> check_skills(const std::vector<skill>& skills) {
  if (skills.size() > required_skills_max) {
    return reject(errc::limit_exceeded, fmt::format("{} required skills; at most {}", skills.size(),
                                                    required_skills_max));
  }
  for (const auto& s : skills) {
    if (auto ok = check_id("skill name", s.name); !ok) return ok;
    if (s.level < 1 || s.level > 10) {
      return reject(errc::invalid_argument,
                    fmt::format("skill {} level is {}; between 1 and 10", s.name, s.level));
    }
    if (std::ranges::count(skills, s.name, &skill::name) > 1) {
      return reject(errc::invalid_argument, fmt::format("skill {} is named twice", s.name));
    }
  }
  return {};
}

std::expected<void, rejection> check_enqueue(const queue_cmd::enqueue& c,
                                             const queue_context& ctx) {
  if (auto ok = check_id("item_id", c.item_id); !ok) return ok;
  if (auto ok = check_id("voice_call_id", c.voice_call_id); !ok) return ok;
  if (c.priority < -queue_priority_max || c.priority > queue_priority_max) {
    return reject(errc::invalid_argument,
                  fmt::format("priority is {}; between -{} and {}", c.priority, queue_priority_max,
                              queue_priority_max));
  }
  if (c.enqueued_at_us < 0 || c.enqueued_at_us > ctx.now_us) {
    return reject(errc::invalid_argument, "enqueued_at_us must not be in the future");
  }
  return check_skills(c.required_skills);
}

queue_decision decide_enqueue(const queue_state& s, const queue_cmd::enqueue& c,
                              const queue_context& ctx) {
  if (auto ok = check_enqueue(c, ctx); !ok) return std::unexpected(ok.error());
  std::vector<skill> skills = c.required_skills;
  std::ranges::sort(skills, {}, &skill::name);
  const std::int64_t at = c.enqueued_at_us == 0 ? ctx.now_us : c.enqueued_at_us;
  if (const queue_item* it = s.find(c.item_id)) {
    if (it->voice_call_id == c.voice_call_id && it->priority == c.priority &&
        it->required_skills == skills && (c.enqueued_at_us == 0 || it->enqueued_at_us == at)) {
      return queue_events{};  // a repeat
    }
    return reject(errc::queue_item_exists,
                  fmt::format("item {} is already waiting with other facts", c.item_id));
  }
  if (const queue_item* it = s.find_call(c.voice_call_id)) {
    return reject(errc::queue_item_exists,
                  fmt::format("voice call {} already waits as item {}; clear it first",
                              c.voice_call_id, it->item_id));
  }
  if (s.items.size() >= queue_items_max) {
    return reject(errc::limit_exceeded, fmt::format("the queue holds {} items; at most {}",
                                                    s.items.size(), queue_items_max));
  }
  return queue_events{{ctx.now_us, queue_evt::enqueued{c.item_id, c.voice_call_id, c.priority,
                                                       std::move(skills), at}}};
}

std::expected<const queue_item*, rejection> find_item(const queue_state& s, std::string_view id) {
  if (const queue_item* it = s.find(id)) return it;
  return reject(errc::queue_item_not_found, fmt::format("no item {} waits in this queue", id));
}

std::int64_t wait_of(const queue_item& it, std::int64_t now_us) {
  return std::max<std::int64_t>(0, now_us - it.enqueued_at_us);
}

queue_decision decide_dequeue(const queue_state& s, const queue_cmd::dequeue& c,
                              const queue_context& ctx) {
  auto it = find_item(s, c.item_id);
  if (!it) return std::unexpected(it.error());
  if (auto ok = check_id("agent_id", c.agent_id); !ok) return std::unexpected(ok.error());
  if ((*it)->offering() && (*it)->offer_agent != c.agent_id) {
    return reject(errc::offer_in_progress,
                  fmt::format("item {} is ringing {}", c.item_id, (*it)->offer_agent));
  }
  return queue_events{
      {ctx.now_us, queue_evt::dequeued{c.item_id, c.agent_id, wait_of(**it, ctx.now_us)}}};
}

queue_decision decide_overflow(const queue_state& s, const queue_cmd::overflow& c,
                               const queue_context& ctx) {
  auto it = find_item(s, c.item_id);
  if (!it) return std::unexpected(it.error());
  const queue_entry* q = ctx.config;
  if (q == nullptr || q->overflow_after_s <= 0 || q->overflow_queue.empty()) {
    return reject(errc::overflow_not_due, "this queue has no overflow configured");
  }
  const std::int64_t wait = wait_of(**it, ctx.now_us);
  if (wait < std::int64_t{q->overflow_after_s} * 1'000'000) {
    return reject(errc::overflow_not_due, fmt::format("item {} waited {} us; overflow after {} s",
                                                      c.item_id, wait, q->overflow_after_s));
  }
  if ((*it)->offering()) {
    return reject(errc::offer_in_progress,
                  fmt::format("item {} is ringing {}: overflow when the offer ends", c.item_id,
                              (*it)->offer_agent));
  }
  return queue_events{{ctx.now_us, queue_evt::overflowed{c.item_id, q->overflow_queue, wait}}};
}

queue_decision decide_callback(const queue_state& s, const queue_cmd::request_customer_callback& c,
                               const queue_context& ctx) {
  auto it = find_item(s, c.item_id);
  if (!it) return std::unexpected(it.error());
  if (auto ok = check_id("number", c.number); !ok) return std::unexpected(ok.error());
  if ((*it)->is_callback && (*it)->callback_number == c.number) return queue_events{};
  return queue_events{{ctx.now_us, queue_evt::customer_callback_requested{c.item_id, c.number}}};
}

queue_decision decide_offer_made(const queue_state& s, const queue_cmd::offer_made& c,
                                 const queue_context& ctx) {
  auto it = find_item(s, c.item_id);
  if (!it) return std::unexpected(it.error());
  const queue_item& item = **it;
  if (auto ok = check_id("agent_id", c.agent_id); !ok) return std::unexpected(ok.error());
  if (auto ok = check_id("offer_id", c.offer_id); !ok) return std::unexpected(ok.error());
  if (item.offer_id == c.offer_id && item.offer_agent == c.agent_id) return queue_events{};
  if (item.offering()) {
    return reject(errc::offer_in_progress,
                  fmt::format("item {} is ringing {}", c.item_id, item.offer_agent));
  }
  if (item.tried(c.agent_id)) {
    return reject(
        errc::agent_already_tried,
        fmt::format("{} was already offered item {}; pick another agent", c.agent_id, c.item_id));
  }
  if (item.tried_agents.size() >= tried_agents_per_item_max) {
    return reject(errc::limit_exceeded,
                  fmt::format("item {} was offered to {} agents; at most {}", c.item_id,
                              item.tried_agents.size(), tried_agents_per_item_max));
  }
  return queue_events{{ctx.now_us, queue_evt::offer_made{c.item_id, c.agent_id, c.offer_id}}};
}

template <class Event>
queue_decision decide_offer_end(const queue_state& s, const std::string& item_id,
                                const std::string& offer_id, const queue_context& ctx) {
  auto it = find_item(s, item_id);
  if (!it) return std::unexpected(it.error());
  if ((*it)->offer_id != offer_id || offer_id.empty()) {
    return reject(errc::offer_not_found,
                  fmt::format("item {} is not ringing offer {}", item_id, offer_id));
  }
  return queue_events{{ctx.now_us, Event{item_id, offer_id}}};
}

}  // namespace

queue_decision decide(const queue_state& s, const queue_command& c, const queue_context& ctx) {
  return std::visit(
      [&](const auto& x) -> queue_decision {
        using T = std::decay_t<decltype(x)>;
        namespace qc = queue_cmd;
        if constexpr (std::is_same_v<T, qc::enqueue>)
          return decide_enqueue(s, x, ctx);
        else if constexpr (std::is_same_v<T, qc::dequeue>)
          return decide_dequeue(s, x, ctx);
        else if constexpr (std::is_same_v<T, qc::abandon>) {
          auto it = find_item(s, x.item_id);
          if (!it) return std::unexpected(it.error());
          return queue_events{
              {ctx.now_us, queue_evt::abandoned{x.item_id, wait_of(**it, ctx.now_us)}}};
        } else if constexpr (std::is_same_v<T, qc::clear_routing>) {
          auto it = find_item(s, x.item_id);
          if (!it) return std::unexpected(it.error());
          return queue_events{{ctx.now_us, queue_evt::routing_cleared{x.item_id}}};
        } else if constexpr (std::is_same_v<T, qc::overflow>)
          return decide_overflow(s, x, ctx);
        else if constexpr (std::is_same_v<T, qc::request_customer_callback>)
          return decide_callback(s, x, ctx);
        else if constexpr (std::is_same_v<T, qc::offer_made>)
          return decide_offer_made(s, x, ctx);
        else if constexpr (std::is_same_v<T, qc::offer_declined>)
          return decide_offer_end<queue_evt::offer_declined>(s, x.item_id, x.offer_id, ctx);
        else
          return decide_offer_end<queue_evt::offer_timed_out>(s, x.item_id, x.offer_id, ctx);
      },
      c);
}

// ---------------------------------------------------------------------------------------------
// evolve
namespace {

queue_item& must_find(queue_state& s, std::string_view item_id) {
  auto it = std::ranges::find(s.items, item_id, &queue_item::item_id);
  assert(it != s.items.end() && "event names an item the queue does not hold");
  return *it;
}

void erase_item(queue_state& s, std::string_view item_id) {
  auto n = std::erase_if(s.items, [&](const queue_item& i) { return i.item_id == item_id; });
  assert(n == 1 && "event removes an item the queue does not hold");
  (void)n;
}

std::int64_t ewma(std::int64_t average, std::int64_t sample) {
  if (average < 0) return sample;  // the first sample starts the average
  return average + (sample - average) / 8;
}

void apply_dequeued(queue_state& s, const queue_evt::dequeued& e, std::int64_t at) {
  const queue_item& item = must_find(s, e.item_id);
  const std::int64_t since = std::max(s.last_dequeue_us, item.enqueued_at_us);
  s.ewma_service_interval_us =
      ewma(s.ewma_service_interval_us, std::max<std::int64_t>(0, at - since));
  s.ewma_wait_us = ewma(s.ewma_wait_us, e.wait_us);
  s.last_dequeue_us = at;
  ++s.answered;
  erase_item(s, e.item_id);
}

void apply_enqueued(queue_state& s, const queue_evt::enqueued& e) {
  queue_item item{e.item_id,
                  e.voice_call_id,
                  e.priority,
                  e.enqueued_at_us,
                  e.required_skills,
                  {},
                  false,
                  {},
                  {},
                  {},
                  0};
  auto pos = std::ranges::upper_bound(s.items, item, before);
  s.items.insert(pos, std::move(item));
}

}  // namespace

void evolve(queue_state& s, const queue_event& e) {
  const std::int64_t at = e.at_us;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        namespace qe = queue_evt;
        if constexpr (std::is_same_v<T, qe::enqueued>) {
          apply_enqueued(s, x);
        } else if constexpr (std::is_same_v<T, qe::dequeued>) {
          apply_dequeued(s, x, at);
        } else if constexpr (std::is_same_v<T, qe::abandoned>) {
          erase_item(s, x.item_id);
          ++s.abandoned;
        } else if constexpr (std::is_same_v<T, qe::routing_cleared>) {
          erase_item(s, x.item_id);
          ++s.cleared;
        } else if constexpr (std::is_same_v<T, qe::overflowed>) {
          erase_item(s, x.item_id);
          ++s.overflowed;
        } else if constexpr (std::is_same_v<T, qe::customer_callback_requested>) {
          queue_item& item = must_find(s, x.item_id);
          item.is_callback = true;
          item.callback_number = x.number;
        } else if constexpr (std::is_same_v<T, qe::offer_made>) {
          queue_item& item = must_find(s, x.item_id);
          assert(!item.offering() && "an item rings one agent at a time");
          item.offer_agent = x.agent_id;
          item.offer_id = x.offer_id;
          item.offer_at_us = at;
          item.tried_agents.push_back(x.agent_id);
        } else {  // offer declined or timed out
          queue_item& item = must_find(s, x.item_id);
          assert(item.offer_id == x.offer_id && "event ends an offer the item does not ring");
          item.offer_agent.clear();
          item.offer_id.clear();
          item.offer_at_us = 0;
        }
      },
      e.body);
  ++s.version;
}

std::int64_t estimated_wait_us(const queue_state& s, std::size_t position) {
  if (s.ewma_service_interval_us < 0) return -1;
  return static_cast<std::int64_t>(std::max<std::size_t>(position, 1)) * s.ewma_service_interval_us;
}

queue_figures figures(const queue_state& s, std::int64_t now_us) {
  queue_figures f;
  f.waiting = s.items.size();
  for (const auto& item : s.items) {
    if (item.offering()) ++f.ringing;
    if (item.is_callback) ++f.callbacks;
    f.oldest_wait_us = std::max(f.oldest_wait_us, wait_of(item, now_us));
  }
  f.estimated_wait_us = estimated_wait_us(s, s.items.size() + 1);
  return f;
}

std::vector<std::string> overflow_due(const queue_state& s, const queue_entry& config,
                                      std::int64_t now_us) {
  std::vector<std::string> due;
  if (config.overflow_after_s <= 0 || config.overflow_queue.empty()) return due;
  const std::int64_t after_us = std::int64_t{config.overflow_after_s} * 1'000'000;
  for (const auto& item : s.items) {
    if (!item.offering() && wait_of(item, now_us) >= after_us) due.push_back(item.item_id);
  }
  return due;
}

std::string render(const queue_state& s) {
  std::string out = fmt::format(
      "v{} interval={} asa={} last={} answered={} abandoned={} overflowed={} cleared={}", s.version,
      s.ewma_service_interval_us, s.ewma_wait_us, s.last_dequeue_us, s.answered, s.abandoned,
      s.overflowed, s.cleared);
  for (const auto& i : s.items) {
    out += fmt::format(" [{} {} p{} @{}", i.item_id, i.voice_call_id, i.priority, i.enqueued_at_us);
    for (const auto& k : i.required_skills) out += fmt::format(" {}>={}", k.name, k.level);
    if (!i.tried_agents.empty()) out += fmt::format(" tried={}", fmt::join(i.tried_agents, ","));
    if (i.is_callback) out += " callback=" + i.callback_number;
    if (i.offering())
      out += fmt::format(" ringing={}/{}@{}", i.offer_agent, i.offer_id, i.offer_at_us);
    out += "]";
  }
  return out;
}

}  // namespace backline::domain
