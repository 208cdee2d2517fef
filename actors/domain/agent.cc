// The agent aggregate: `decide` (one function per command, rules checked in a fixed order) and
// `evolve`. See agent.h for the presence diagram and the policies.
#include "actors/domain/agent.h"

#include <fmt/format.h>
#include <algorithm>
#include <cassert>

#include "actors/domain/call_rules.h"

namespace backline::domain {

std::string_view to_string(presence p) {
  switch (p) {
    case presence::offline:
      return "offline";
    case presence::available:
      return "available";
    case presence::busy:
      return "busy";
    case presence::away:
      return "away";
    case presence::after_call_work:
      return "after_call_work";
  }
  return "unknown";
}

std::string_view to_string(offer_kind k) {
  switch (k) {
    case offer_kind::queue:
      return "queue";
    case offer_kind::direct:
      return "direct";
    case offer_kind::callback:
      return "callback";
  }
  return "unknown";
}

std::string_view command_name(const agent_command& c) {
  static constexpr std::string_view names[] = {
      "set_presence",     "reserve_offer",   "accept_offer",   "decline_offer",
      "offer_timed_out",  "release_work",    "finish_wrap_up", "acw_timed_out",
      "request_callback", "cancel_callback", "offer_callback", "complete_callback"};
  static_assert(std::size(names) == std::variant_size_v<agent_command>);
  return names[c.index()];
}

std::string_view event_type_name(const agent_event_body& e) {
  static constexpr std::string_view names[] = {
      "presence_changed", "offer_reserved",     "offer_accepted",    "offer_declined",
      "offer_timed_out",  "offer_withdrawn",    "work_released",     "callback_requested",
      "callback_offered", "callback_completed", "callback_cancelled"};
  static_assert(std::size(names) == std::variant_size_v<agent_event_body>);
  return names[e.index()];
}

const work_item* agent_state::find_offer(std::string_view offer_id) const {
  auto it = std::ranges::find(work, offer_id, &work_item::offer_id);
  return it == work.end() ? nullptr : &*it;
}
const work_item* agent_state::find_call(std::string_view voice_call_id) const {
  auto it = std::ranges::find(work, voice_call_id, &work_item::voice_call_id);
  return it == work.end() ? nullptr : &*it;
}
const callback_request* agent_state::find_callback(std::string_view callback_id) const {
  auto it = std::ranges::find(callbacks, callback_id, &callback_request::callback_id);
  return it == callbacks.end() ? nullptr : &*it;
}

namespace {
int clamp_capacity(int capacity) {
  return std::clamp(capacity, 1, agent_capacity_max);
}
}  // namespace

int free_capacity(const agent_state& s, int capacity) {
  return std::max(0, clamp_capacity(capacity) - static_cast<int>(s.work.size()));
}

direct_target classify_direct_target(const agent_state& s, int capacity) {
  switch (s.current) {
    case presence::offline:
      return {direct_target_outcome::refuse, errc::agent_offline};
    case presence::away:
      return {direct_target_outcome::refuse, errc::agent_away};
    case presence::busy:
    case presence::after_call_work:
      return {direct_target_outcome::callback, errc::ok};
    case presence::available:
      break;
  }
  if (free_capacity(s, capacity) == 0) return {direct_target_outcome::callback, errc::ok};
  return {direct_target_outcome::ring, errc::ok};
}

namespace {

using rules::check_id;
using rules::check_text;
using rules::reject;
using agent_events = std::vector<agent_event>;

struct agent_emitter {
  std::int64_t at_us;
  agent_events out;
  void operator()(agent_event_body body) { out.push_back(agent_event{at_us, std::move(body)}); }
};

// Busy because every slot holds work (set by accept), as opposed to busy by the agent's choice.
bool on_call_busy(const agent_state& s) {
  return s.current == presence::busy && s.reason == on_call_reason;
}
// Available, or busy only because of work: the agent takes work when a slot is free.
bool working(const agent_state& s) {
  return s.current == presence::available || on_call_busy(s);
}

// A ringing offer ended without work: an agent busy only because of work has a free slot again.
void after_slot_freed(const agent_state& s, agent_emitter& emit) {
  if (on_call_busy(s)) emit(agent_evt::presence_changed{presence::available, {}});
}

// Ringing offers withdrawn when the agent leaves availability (offline, away).
void withdraw_ringing(const agent_state& s, std::string_view reason, agent_emitter& emit) {
  for (const auto& w : s.work) {
    if (!w.accepted) emit(agent_evt::offer_withdrawn{w.offer_id, std::string(reason)});
  }
}

agent_decision decide_set_presence(const agent_state& s, const agent_cmd::set_presence& c,
                                   const agent_context& ctx) {
  if (c.to == presence::after_call_work) {
    return reject(errc::invalid_argument,
                  "after-call work starts when a call ends; set available, busy, away or offline");
  }
  if (c.to == presence::away && c.reason.empty()) {
    return reject(errc::invalid_argument, "away needs a reason, e.g. \"break\"");
  }
  if (auto ok = check_text("reason", c.reason, id_bytes_max); !ok) {
    return std::unexpected(ok.error());
  }
  // A reason is kept for away and busy ("in a meeting"); other presences carry none.
  const std::string reason =
      c.to == presence::away || c.to == presence::busy ? c.reason : std::string();
  if (s.current == c.to && s.reason == reason) return agent_events{};
  agent_emitter emit{ctx.now_us, {}};
  if (c.to == presence::offline || c.to == presence::away) {
    withdraw_ringing(s, fmt::format("agent_{}", to_string(c.to)), emit);
  }
  emit(agent_evt::presence_changed{c.to, reason});
  return std::move(emit.out);
}

// The one capacity check, shared by reserve_offer and offer_callback.
std::expected<void, rejection> check_can_reserve(const agent_state& s, const agent_context& ctx) {
  switch (s.current) {
    case presence::offline:
      return reject(errc::agent_offline, "the agent is offline; route to someone else");
    case presence::away:
      return reject(errc::agent_away, fmt::format("the agent is away ({})", s.reason));
    case presence::busy:
    case presence::after_call_work:
      return reject(errc::agent_not_available,
                    fmt::format("the agent is {}; leave a callback or route elsewhere",
                                to_string(s.current)));
    case presence::available:
      break;
  }
  if (free_capacity(s, ctx.capacity) == 0) {
    return reject(errc::agent_at_capacity,
                  fmt::format("the agent holds {} of {} work items", s.work.size(),
                              clamp_capacity(ctx.capacity)));
  }
  return {};
}

std::expected<void, rejection> check_ring_timeout(std::int64_t ms) {
  if (ms <= 0 || ms > ring_timeout_ms_max) {
    return reject(errc::invalid_argument,
                  fmt::format("ring_timeout_ms is {}; between 1 and {}", ms, ring_timeout_ms_max));
  }
  return {};
}

// A reservation must not reuse an offer id or hold the same call twice.
std::expected<void, rejection> check_new_offer(const agent_state& s, std::string_view offer_id,
                                               std::string_view voice_call_id) {
  if (s.find_offer(offer_id) != nullptr) {
    return reject(errc::invalid_argument,
                  fmt::format("offer {} already names other work", offer_id));
  }
  if (s.find_call(voice_call_id) != nullptr) {
    return reject(errc::invalid_argument,
                  fmt::format("the agent already holds voice call {}", voice_call_id));
  }
  return {};
}

agent_decision decide_reserve(const agent_state& s, const agent_cmd::reserve_offer& c,
                              const agent_context& ctx) {
  if (auto ok = check_id("offer_id", c.offer_id); !ok) return std::unexpected(ok.error());
  if (auto ok = check_id("voice_call_id", c.voice_call_id); !ok) return std::unexpected(ok.error());
  if (auto ok = check_text("queue", c.queue, id_bytes_max); !ok) return std::unexpected(ok.error());
  if (auto ok = check_ring_timeout(c.ring_timeout_ms); !ok) return std::unexpected(ok.error());
  if (c.kind == offer_kind::callback) {
    return reject(errc::invalid_argument, "callbacks are offered with offer_callback");
  }
  if (const work_item* w = s.find_offer(c.offer_id)) {
    if (w->voice_call_id == c.voice_call_id && w->kind == c.kind && w->queue == c.queue) {
      return agent_events{};  // a repeat
    }
  }
  if (auto ok = check_can_reserve(s, ctx); !ok) return std::unexpected(ok.error());
  if (auto ok = check_new_offer(s, c.offer_id, c.voice_call_id); !ok) {
    return std::unexpected(ok.error());
  }
  return agent_events{
      {ctx.now_us, agent_evt::offer_reserved{
                       c.offer_id, c.voice_call_id, c.kind, c.queue, {}, c.ring_timeout_ms}}};
}

std::expected<const work_item*, rejection> find_ringing(const agent_state& s,
                                                        std::string_view offer_id) {
  const work_item* w = s.find_offer(offer_id);
  if (w == nullptr || w->accepted) {
    return reject(errc::offer_not_found, fmt::format("offer {} is not ringing", offer_id));
  }
  return w;
}

agent_decision decide_accept(const agent_state& s, const agent_cmd::accept_offer& c,
                             const agent_context& ctx) {
  const work_item* w = s.find_offer(c.offer_id);
  if (w != nullptr && w->accepted) return agent_events{};
  auto ringing = find_ringing(s, c.offer_id);
  if (!ringing) return std::unexpected(ringing.error());
  agent_emitter emit{ctx.now_us, {}};
  emit(agent_evt::offer_accepted{c.offer_id});
  // Every slot now holds work and one of them is a live call: the agent shows busy.
  if (s.current == presence::available && free_capacity(s, ctx.capacity) == 0) {
    emit(agent_evt::presence_changed{presence::busy, std::string(on_call_reason)});
  }
  return std::move(emit.out);
}

// Decline and timeout end a ringing offer; a timeout is a missed offer and, by policy, makes an
// available agent away (withdrawing their other ringing offers).
agent_decision decide_offer_end(const agent_state& s, const std::string& offer_id, bool missed,
                                const agent_context& ctx) {
  auto ringing = find_ringing(s, offer_id);
  if (!ringing) return std::unexpected(ringing.error());
  agent_emitter emit{ctx.now_us, {}};
  if (!missed) {
    emit(agent_evt::offer_declined{offer_id});
    after_slot_freed(s, emit);
    return std::move(emit.out);
  }
  emit(agent_evt::offer_timed_out{offer_id});
  if (!ctx.away_on_missed_offer || !working(s)) {
    after_slot_freed(s, emit);
  } else {
    for (const auto& w : s.work) {
      if (!w.accepted && w.offer_id != offer_id) {
        emit(agent_evt::offer_withdrawn{w.offer_id, "agent_away"});
      }
    }
    emit(agent_evt::presence_changed{presence::away, "missed_offer"});
  }
  return std::move(emit.out);
}

agent_decision decide_release(const agent_state& s, const agent_cmd::release_work& c,
                              const agent_context& ctx) {
  if (auto ok = check_id("voice_call_id", c.voice_call_id); !ok) return std::unexpected(ok.error());
  const work_item* w = s.find_call(c.voice_call_id);
  if (w == nullptr) return agent_events{};  // already released (or never held): nothing to do
  agent_emitter emit{ctx.now_us, {}};
  // A ringing offer whose call ended (the caller hung up) is withdrawn, not worked.
  if (!w->accepted) {
    emit(agent_evt::offer_withdrawn{w->offer_id, "call_ended"});
    after_slot_freed(s, emit);
    return std::move(emit.out);
  }
  emit(agent_evt::work_released{c.voice_call_id});
  // The call placed for an accepted callback has ended: the callback was served.
  if (const callback_request* cb = s.find_callback(w->callback_id);
      cb != nullptr && cb->offer_id == w->offer_id) {
    emit(agent_evt::callback_completed{cb->callback_id});
  }
  // A busy-by-choice, away or offline agent keeps that presence: no ACW, no routing.
  if (working(s) && s.work.size() == 1) {
    emit(agent_evt::presence_changed{presence::after_call_work, {}});
  } else if (on_call_busy(s)) {
    emit(agent_evt::presence_changed{presence::available, {}});  // a slot is free again
  }
  return std::move(emit.out);
}

agent_decision decide_leave_acw(const agent_state& s, std::int64_t since_us, bool timer,
                                const agent_context& ctx) {
  if (s.current != presence::after_call_work) return agent_events{};
  if (timer && since_us != s.acw_since_us) return agent_events{};  // a stale timer
  return agent_events{{ctx.now_us, agent_evt::presence_changed{presence::available, {}}}};
}

agent_decision decide_request_callback(const agent_state& s, const agent_cmd::request_callback& c,
                                       const agent_context& ctx) {
  if (auto ok = check_id("callback_id", c.callback_id); !ok) return std::unexpected(ok.error());
  if (auto ok = check_id("caller_agent", c.caller_agent); !ok) return std::unexpected(ok.error());
  if (auto ok = check_text("voice_call_id", c.voice_call_id, id_bytes_max); !ok) {
    return std::unexpected(ok.error());
  }
  if (c.requested_at_us < 0 || c.requested_at_us > ctx.now_us) {
    return reject(errc::invalid_argument, "requested_at_us must not be in the future");
  }
  const std::int64_t at = c.requested_at_us == 0 ? ctx.now_us : c.requested_at_us;
  if (const callback_request* cb = s.find_callback(c.callback_id)) {
    if (cb->caller_agent == c.caller_agent && cb->voice_call_id == c.voice_call_id &&
        (c.requested_at_us == 0 || cb->requested_at_us == at)) {
      return agent_events{};
    }
    return reject(errc::invalid_argument,
                  fmt::format("callback {} already names another request", c.callback_id));
  }
  if (s.callbacks.size() >= callbacks_per_agent_max) {
    return reject(errc::limit_exceeded,
                  fmt::format("the agent has {} pending callbacks; at most {}", s.callbacks.size(),
                              callbacks_per_agent_max));
  }
  return agent_events{{ctx.now_us, agent_evt::callback_requested{c.callback_id, c.caller_agent,
                                                                 c.voice_call_id, at}}};
}

std::expected<const callback_request*, rejection> find_callback(const agent_state& s,
                                                                std::string_view id) {
  if (const callback_request* cb = s.find_callback(id)) return cb;
  return reject(errc::callback_not_found, fmt::format("no pending callback {}", id));
}

agent_decision decide_offer_callback(const agent_state& s, const agent_cmd::offer_callback& c,
                                     const agent_context& ctx) {
  auto cb = find_callback(s, c.callback_id);
  if (!cb) return std::unexpected(cb.error());
  if (auto ok = check_id("offer_id", c.offer_id); !ok) return std::unexpected(ok.error());
  if (auto ok = check_id("voice_call_id", c.voice_call_id); !ok) return std::unexpected(ok.error());
  if (auto ok = check_ring_timeout(c.ring_timeout_ms); !ok) return std::unexpected(ok.error());
  if ((*cb)->offer_id == c.offer_id) return agent_events{};  // a repeat
  if (!(*cb)->offer_id.empty()) {
    return reject(errc::offer_in_progress, fmt::format("callback {} is already offered as {}",
                                                       c.callback_id, (*cb)->offer_id));
  }
  if (auto ok = check_can_reserve(s, ctx); !ok) return std::unexpected(ok.error());
  if (auto ok = check_new_offer(s, c.offer_id, c.voice_call_id); !ok) {
    return std::unexpected(ok.error());
  }
  agent_emitter emit{ctx.now_us, {}};
  emit(agent_evt::offer_reserved{
      c.offer_id, c.voice_call_id, offer_kind::callback, {}, c.callback_id, c.ring_timeout_ms});
  emit(agent_evt::callback_offered{c.callback_id, c.offer_id});
  return std::move(emit.out);
}

// Cancel (by the caller) and complete (by the agent) both close a pending callback; an offer of
// it that still rings is withdrawn, an accepted one goes on until its call is released.
agent_decision decide_close_callback(const agent_state& s, const std::string& callback_id,
                                     bool completed, const agent_context& ctx) {
  if (auto ok = check_id("callback_id", callback_id); !ok) return std::unexpected(ok.error());
  auto cb = find_callback(s, callback_id);
  if (!cb) return std::unexpected(cb.error());
  agent_emitter emit{ctx.now_us, {}};
  if (const work_item* w = s.find_offer((*cb)->offer_id); w != nullptr && !w->accepted) {
    emit(agent_evt::offer_withdrawn{w->offer_id,
                                    completed ? "callback_completed" : "callback_cancelled"});
    after_slot_freed(s, emit);
  }
  if (completed) {
    emit(agent_evt::callback_completed{callback_id});
  } else {
    emit(agent_evt::callback_cancelled{callback_id});
  }
  return std::move(emit.out);
}

}  // namespace

agent_decision decide(const agent_state& s, const agent_command& c, const agent_context& ctx) {
  return std::visit(
      [&](const auto& x) -> agent_decision {
        using T = std::decay_t<decltype(x)>;
        namespace ac = agent_cmd;
        if constexpr (std::is_same_v<T, ac::set_presence>)
          return decide_set_presence(s, x, ctx);
        else if constexpr (std::is_same_v<T, ac::reserve_offer>)
          return decide_reserve(s, x, ctx);
        else if constexpr (std::is_same_v<T, ac::accept_offer>)
          return decide_accept(s, x, ctx);
        else if constexpr (std::is_same_v<T, ac::decline_offer>)
          return decide_offer_end(s, x.offer_id, false, ctx);
        else if constexpr (std::is_same_v<T, ac::offer_timed_out>)
          return decide_offer_end(s, x.offer_id, true, ctx);
        else if constexpr (std::is_same_v<T, ac::release_work>)
          return decide_release(s, x, ctx);
        else if constexpr (std::is_same_v<T, ac::finish_wrap_up>)
          return decide_leave_acw(s, 0, false, ctx);
        else if constexpr (std::is_same_v<T, ac::acw_timed_out>)
          return decide_leave_acw(s, x.since_us, true, ctx);
        else if constexpr (std::is_same_v<T, ac::request_callback>)
          return decide_request_callback(s, x, ctx);
        else if constexpr (std::is_same_v<T, ac::cancel_callback>)
          return decide_close_callback(s, x.callback_id, false, ctx);
        else if constexpr (std::is_same_v<T, ac::offer_callback>)
          return decide_offer_callback(s, x, ctx);
        else
          return decide_close_callback(s, x.callback_id, true, ctx);
      },
      c);
}

// ---------------------------------------------------------------------------------------------
// evolve
namespace {

work_item& must_find_offer(agent_state& s, std::string_view offer_id) {
  auto it = std::ranges::find(s.work, offer_id, &work_item::offer_id);
  assert(it != s.work.end() && "event names an offer the agent does not hold");
  return *it;
}

callback_request* callback_of_offer(agent_state& s, std::string_view offer_id) {
  auto it = std::ranges::find(s.callbacks, offer_id, &callback_request::offer_id);
  return it == s.callbacks.end() ? nullptr : &*it;
}

// A ringing offer ends without work: its slot is freed; a callback it offered keeps its place.
void end_offer(agent_state& s, std::string_view offer_id) {
  work_item& w = must_find_offer(s, offer_id);
  assert(!w.accepted && "only a ringing offer can end without work");
  (void)w;
  if (callback_request* cb = callback_of_offer(s, offer_id)) cb->offer_id.clear();
  std::erase_if(s.work, [&](const work_item& x) { return x.offer_id == offer_id; });
}

void set_presence(agent_state& s, presence to, std::string reason, std::int64_t at) {
  if (to == presence::after_call_work) s.acw_since_us = at;
  if (to == presence::available && s.work.empty()) s.last_idle_since_us = at;
  s.current = to;
  s.reason = std::move(reason);
  s.presence_since_us = at;
}

void erase_callback(agent_state& s, std::string_view callback_id) {
  auto n = std::erase_if(s.callbacks,
                         [&](const callback_request& c) { return c.callback_id == callback_id; });
  assert(n == 1 && "event names a callback the agent does not hold");
  (void)n;
}

void apply(agent_state& s, const agent_evt::offer_reserved& e, std::int64_t at) {
  assert(s.find_offer(e.offer_id) == nullptr && "offer id reused");
  s.work.push_back(work_item{e.offer_id, e.voice_call_id, e.kind, e.queue, e.callback_id, false, at,
                             e.ring_timeout_ms, 0});
}

void apply(agent_state& s, const agent_evt::callback_requested& e) {
  callback_request cb{e.callback_id, e.caller_agent, e.voice_call_id, e.requested_at_us, {}};
  auto pos = std::ranges::upper_bound(s.callbacks, cb, [](const auto& a, const auto& b) {
    return std::tie(a.requested_at_us, a.callback_id) < std::tie(b.requested_at_us, b.callback_id);
  });
  s.callbacks.insert(pos, std::move(cb));
}

}  // namespace

void evolve(agent_state& s, const agent_event& e) {
  const std::int64_t at = e.at_us;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        namespace ae = agent_evt;
        if constexpr (std::is_same_v<T, ae::presence_changed>) {
          set_presence(s, x.to, x.reason, at);
        } else if constexpr (std::is_same_v<T, ae::offer_reserved>) {
          apply(s, x, at);
        } else if constexpr (std::is_same_v<T, ae::offer_accepted>) {
          work_item& w = must_find_offer(s, x.offer_id);
          w.accepted = true;
          w.accepted_at_us = at;
          ++s.accepted_offers;
        } else if constexpr (std::is_same_v<T, ae::offer_declined>) {
          end_offer(s, x.offer_id);
          ++s.declined_offers;
        } else if constexpr (std::is_same_v<T, ae::offer_timed_out>) {
          end_offer(s, x.offer_id);
          ++s.missed_offers;
        } else if constexpr (std::is_same_v<T, ae::offer_withdrawn>) {
          end_offer(s, x.offer_id);
        } else if constexpr (std::is_same_v<T, ae::work_released>) {
          auto n = std::erase_if(
              s.work, [&](const work_item& w) { return w.voice_call_id == x.voice_call_id; });
          assert(n == 1 && "event releases work the agent does not hold");
          (void)n;
        } else if constexpr (std::is_same_v<T, ae::callback_requested>) {
          apply(s, x);
        } else if constexpr (std::is_same_v<T, ae::callback_offered>) {
          auto it = std::ranges::find(s.callbacks, x.callback_id, &callback_request::callback_id);
          assert(it != s.callbacks.end() && "event offers a callback the agent does not hold");
          it->offer_id = x.offer_id;
        } else {
          erase_callback(s, x.callback_id);  // completed or cancelled
        }
      },
      e.body);
  ++s.version;
}

std::string render(const agent_state& s) {
  std::string out = fmt::format("v{} {}", s.version, to_string(s.current));
  if (!s.reason.empty()) out += fmt::format("({})", s.reason);
  out += fmt::format(" since={} idle={} acw={} missed={} declined={} accepted={}",
                     s.presence_since_us, s.last_idle_since_us, s.acw_since_us, s.missed_offers,
                     s.declined_offers, s.accepted_offers);
  for (const auto& w : s.work) {
    out +=
        fmt::format(" [{} {} {} {}{}{} @{} {}ms{}]", w.offer_id, w.voice_call_id, to_string(w.kind),
                    w.accepted ? "accepted" : "ringing", w.queue.empty() ? "" : " q=" + w.queue,
                    w.callback_id.empty() ? "" : " cb=" + w.callback_id, w.offered_at_us,
                    w.ring_timeout_ms, w.accepted ? fmt::format(" acc@{}", w.accepted_at_us) : "");
  }
  for (const auto& c : s.callbacks) {
    out += fmt::format(" {{cb {} from {} call={} @{}{}}}", c.callback_id, c.caller_agent,
                       c.voice_call_id, c.requested_at_us,
                       c.offer_id.empty() ? "" : " offer=" + c.offer_id);
  }
  return out;
}

}  // namespace backline::domain
