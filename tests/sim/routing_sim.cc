// The simulation: a world of aggregates, a timer queue and a behaviour model. See routing_sim.h.
#include "tests/sim/routing_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <queue>
#include <random>
#include <tuple>
#include <unordered_map>

#include "actors/domain/agent.h"
#include "actors/domain/call.h"
#include "actors/domain/queue.h"
#include "actors/domain/routing.h"
#include "actors/domain/routing_protocol.h"

namespace backline::sim {

using namespace backline::domain;

namespace {

constexpr std::int64_t s_us = 1'000'000;
constexpr int skills_n = 10;
const char* const categories[] = {"billing", "tech", "sales", "orders", "vip", "other"};

}  // namespace

domain::directory make_directory(const sim_config& config) {
  directory d;
  d.call_center = "sim";
  std::mt19937_64 rng(config.seed ^ 0x5eedULL);
  for (int i = 0; i < config.agents; ++i) {
    agent_entry a;
    a.id = fmt::format("a{:03}", i);
    a.name = a.id;
    a.extension = fmt::format("{}", 2000 + i);
    a.team = fmt::format("t{}", i % 10);
    a.kind = i % 10 == 9 ? agent_kind::specialist : agent_kind::agent;
    a.capacity = i % 10 == 3 ? 2 : 1;
    std::vector<int> names(skills_n);
    for (int k = 0; k < skills_n; ++k) names[k] = k;
    std::shuffle(names.begin(), names.end(), rng);
    for (int k = 0; k < 3; ++k) {
      a.skills.push_back(skill{fmt::format("s{}", names[k]), 1 + static_cast<int>(rng() % 10)});
    }
    std::ranges::sort(a.skills, {}, &skill::name);
    d.agents.push_back(std::move(a));
  }
  for (int i = 0; i + 1 < config.queues; ++i) {
    queue_entry q;
    q.name = fmt::format("Q{:02}", i);
    q.extension = fmt::format("{}", 5000 + i);
    q.required_skills = {skill{fmt::format("s{}", i % skills_n), 1 + i % 3}};
    q.strategy = i % 4 == 0 ? routing_strategy::most_skilled : routing_strategy::longest_idle;
    q.overflow_after_s = 60;
    q.overflow_queue = "General";
    d.queues.push_back(std::move(q));
  }
  d.queues.push_back(queue_entry{"General", "5999", {}, routing_strategy::longest_idle, 20, 0, {}});
  for (int c = 0; c < 4; ++c) {
    phone_channel ch{fmt::format("+1800555000{}", c), fmt::format("flow{}", c), "General", {}};
    for (int k = 0; k < 5; ++k) {
      flow_rule r{"case_category", categories[k], fmt::format("Q{:02}", (c * 5 + k) % 19), {}, {}};
      if (k == 4) r.agent = fmt::format("a{:03}", c * 7);  // vip: a named agent first
      ch.rules.push_back(std::move(r));
    }
    d.channels.push_back(std::move(ch));
  }
  d.reindex();
  return d;
}

namespace {

enum class tk : std::uint8_t {
  customer_arrival,
  internal_arrival,
  respond,
  wake,
  talk_end,
  consult,
  consult_end,
  patience,
  acw_end,
  presence,
  cancel_callback
};

struct timer {
  std::int64_t at;
  std::uint64_t seq;
  tk kind;
  std::string a, b;
  std::int64_t n = 0;
  bool operator>(const timer& o) const { return std::tie(at, seq) > std::tie(o.at, o.seq); }
};

struct call_info {
  bool customer = false, answered = false, ended = false, callback = false, abandoned = false;
};

// FNV-1a, 64 bit.
struct fnv {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  void bytes(std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    h = (h ^ 0xff) * 0x100000001b3ULL;  // field separator
  }
  void num(std::int64_t v) { bytes(std::string_view(reinterpret_cast<const char*>(&v), sizeof v)); }
};

// A canonical rendering of an event's identifying fields, fed to the hash.
template <class T>
void hash_fields(fnv& f, const T& x) {
  if constexpr (requires { x.voice_call_id; }) f.bytes(x.voice_call_id);
  if constexpr (requires { x.agent_id; }) f.bytes(x.agent_id);
  if constexpr (requires { x.offer_id; }) f.bytes(x.offer_id);
  if constexpr (requires { x.item_id; }) f.bytes(x.item_id);
  if constexpr (requires { x.callback_id; }) f.bytes(x.callback_id);
  if constexpr (requires { x.consult_call_id; }) f.bytes(x.consult_call_id);
  if constexpr (requires { x.participant_id; }) f.bytes(x.participant_id);
  if constexpr (requires { x.reason; }) f.bytes(x.reason);
  if constexpr (requires { x.to_queue; }) f.bytes(x.to_queue);
  if constexpr (requires { x.wait_us; }) f.num(x.wait_us);
  if constexpr (requires { x.enqueued_at_us; }) f.num(x.enqueued_at_us);
  if constexpr (requires { x.requested_at_us; }) f.num(x.requested_at_us);
  if constexpr (requires { x.priority; }) f.num(x.priority);
}

class world {
 public:
  explicit world(const sim_config& c)
      : config_(c), rng_(c.seed), dir_(make_directory(c)), view_(dir_, rcfg(c)) {
    for (const auto& a : dir_.agents) {
      agents_.emplace(a.id, agent_state{});
      entries_.emplace(a.id, &a);
    }
    for (const auto& q : dir_.queues) queues_.emplace(q.name, queue_state{});
  }
  sim_summary run();

 private:
  static routing_config rcfg(const sim_config& c) {
    routing_config r;
    r.ring_timeout_ms = c.ring_timeout_ms;
    return r;
  }
  double uniform(double lo, double hi) { return std::uniform_real_distribution<>(lo, hi)(rng_); }
  std::int64_t exp_us(double mean_s) {
    return static_cast<std::int64_t>(std::exponential_distribution<>(1.0 / mean_s)(rng_) * s_us);
  }
  void at(std::int64_t when, tk kind, std::string a = {}, std::string b = {}, std::int64_t n = 0) {
    timers_.push(timer{when, seq_++, kind, std::move(a), std::move(b), n});
  }
  bool day() const { return now_ < config_.day_us; }
  void violation(std::string what) {
    if (sum_.violations.size() < 20) sum_.violations.push_back(fmt::format("@{} {}", now_, what));
  }
  const agent_entry& entry(const std::string& id) const { return *entries_.at(id); }
  std::string random_agent() { return dir_.agents[rng_() % dir_.agents.size()].id; }

  // Sending commands to the aggregates.
  std::expected<void, rejection> send(const routing_command& c);
  std::expected<void, rejection> send_agent(const std::string& id, const agent_command& c);
  std::expected<void, rejection> send_queue(const std::string& name, const queue_command& c);
  std::expected<void, rejection> send_call(const std::string& id, const command_body& c);
  void run_steps(std::vector<routing_step> steps);
  void drain();
  void log(std::string_view kind, std::string_view stream, std::int64_t at, std::string_view type);

  // Invariants and behaviour hooks.
  void on_agent_event(const std::string& id, const agent_state& before, const agent_event& e);
  void check_agent(const std::string& id, const agent_state& s);
  void on_queue_event(const std::string& name, const queue_state& before, const queue_event& e);
  void check_fifo(const queue_state& q, const queue_evt::offer_made& e);
  void check_queue(const queue_state& q);
  void on_call_event(const std::string& id, const event& e);

  // Timers.
  void fire(const timer& t);
  void customer_arrival();
  void internal_arrival();
  void respond(const std::string& agent, const std::string& offer, std::int64_t accept);
  void patience(const std::string& call);
  void consult(const std::string& call, const std::string& agent);
  void presence_timer(const std::string& agent, std::int64_t what);

  sim_config config_;
  std::mt19937_64 rng_;
  directory dir_;
  routing_view view_;
  std::map<std::string, agent_state, std::less<>> agents_;
  std::map<std::string, queue_state, std::less<>> queues_;
  std::unordered_map<std::string, call_state> calls_;
  std::unordered_map<std::string, const agent_entry*> entries_;
  std::unordered_map<std::string, call_info> info_;               // root calls
  std::unordered_map<std::string, std::int64_t> callback_at_;     // callback id -> original
  std::unordered_map<std::string, std::int64_t> customer_cb_at_;  // item id -> enqueued at
  std::priority_queue<timer, std::vector<timer>, std::greater<>> timers_;
  std::uint64_t seq_ = 0, ids_ = 0;
  std::int64_t now_ = 0;
  fnv hash_;
  sim_summary sum_;
};

void world::log(std::string_view kind, std::string_view stream, std::int64_t at,
                std::string_view type) {
  ++sum_.events;
  hash_.bytes(kind);
  hash_.bytes(stream);
  hash_.num(at);
  hash_.bytes(type);
}

std::expected<void, rejection> world::send_agent(const std::string& id, const agent_command& c) {
  agent_state& s = agents_.at(id);
  auto d = decide(s, c, agent_context{now_, entry(id).capacity, true});
  if (!d) return std::unexpected(d.error());
  for (const auto& e : *d) {
    on_agent_event(id, s, e);  // before the fold: the hooks check the state it applies to
    evolve(s, e);
    log("agent", id, e.at_us, event_type_name(e.body));
    std::visit([&](const auto& x) { hash_fields(hash_, x); }, e.body);
    check_agent(id, s);
    apply(view_, id, e);
  }
  return {};
}

std::expected<void, rejection> world::send_queue(const std::string& name, const queue_command& c) {
  queue_state& s = queues_.at(name);
  auto d = decide(s, c, queue_context{now_, dir_.find_queue(name)});
  if (!d) return std::unexpected(d.error());
  for (const auto& e : *d) {
    on_queue_event(name, s, e);  // before the fold
    evolve(s, e);
    log("queue", name, e.at_us, event_type_name(e.body));
    std::visit([&](const auto& x) { hash_fields(hash_, x); }, e.body);
    check_queue(s);
    apply(view_, name, e);
  }
  return {};
}

std::expected<void, rejection> world::send_call(const std::string& id, const command_body& c) {
  call_state& s = calls_[id];
  auto d = decide(s, c, decide_context{now_, &dir_});
  if (!d) return std::unexpected(d.error());
  for (const auto& e : *d) {
    evolve(s, e);
    log("call", id, e.at_us, event_type_name(e.body));
    std::visit([&](const auto& x) { hash_fields(hash_, x); }, e.body);
    on_call_event(id, e);
    apply(view_, id, e);
  }
  return {};
}

std::expected<void, rejection> world::send(const routing_command& c) {
  return std::visit(
      [&](const auto& x) -> std::expected<void, rejection> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, route::to_agent>)
          return send_agent(x.agent_id, x.command);
        else if constexpr (std::is_same_v<T, route::to_queue>)
          return send_queue(x.queue, x.command);
        else
          return send_call(x.call_id, x.command);
      },
      c);
}

void world::run_steps(std::vector<routing_step> steps) {
  for (const auto& step : steps) {
    ++sum_.steps;
    for (std::size_t i = 0; i < step.commands.size(); ++i) {
      if (auto ok = send(step.commands[i]); !ok) {
        ++sum_.refusals;
        on_refused(view_, step, i, ok.error(), now_);
        break;
      }
    }
  }
}

void world::drain() {
  for (int guard = 0; guard < 10'000; ++guard) {
    auto steps = next_commands(view_, now_);
    if (steps.empty()) return;
    run_steps(std::move(steps));
  }
  violation("the protocol did not settle");
}

// ---------------------------------------------------------------------------------------------
// Invariants and behaviour hooks.

void world::on_agent_event(const std::string& id, const agent_state& before, const agent_event& e) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        namespace ae = agent_evt;
        if constexpr (std::is_same_v<T, ae::offer_reserved>) {
          ++sum_.offers;
          if (before.current != presence::available) {
            violation(
                fmt::format("offer {} to {} agent {}", x.offer_id, to_string(before.current), id));
          }
          at(e.at_us + x.ring_timeout_ms * 1'000, tk::wake);
          const double r = uniform(0, 1);
          if (r < 0.88) {
            at(now_ + static_cast<std::int64_t>(uniform(1, 6) * s_us), tk::respond, id, x.offer_id,
               1);
          } else if (r < 0.94) {
            at(now_ + static_cast<std::int64_t>(uniform(1, 4) * s_us), tk::respond, id, x.offer_id,
               0);
          }  // else: not at the desk, the offer times out
        } else if constexpr (std::is_same_v<T, ae::offer_accepted>) {
          ++sum_.accepted;
        } else if constexpr (std::is_same_v<T, ae::offer_timed_out>) {
          ++sum_.missed;
        } else if constexpr (std::is_same_v<T, ae::offer_declined>) {
          ++sum_.declined;
        } else if constexpr (std::is_same_v<T, ae::offer_withdrawn>) {
          ++sum_.withdrawn;
        } else if constexpr (std::is_same_v<T, ae::presence_changed>) {
          if (x.to == presence::after_call_work) {
            if (uniform(0, 1) < 0.5) {
              at(now_ + static_cast<std::int64_t>(uniform(5, 25) * s_us), tk::acw_end, id, {}, -1);
            } else {
              at(now_ + 30 * s_us, tk::acw_end, id, {}, e.at_us);
            }
          } else if (x.to == presence::away && x.reason == "missed_offer") {
            at(now_ + static_cast<std::int64_t>(uniform(30, 180) * s_us), tk::presence, id, {}, 0);
          }
        } else if constexpr (std::is_same_v<T, ae::callback_requested>) {
          ++sum_.callbacks_requested;
          callback_at_[x.callback_id] = x.requested_at_us;
          if (uniform(0, 1) < 0.1) {
            at(now_ + static_cast<std::int64_t>(uniform(60, 900) * s_us), tk::cancel_callback, id,
               x.callback_id);
          }
        } else if constexpr (std::is_same_v<T, ae::callback_completed>) {
          ++sum_.callbacks_completed;
          callback_at_.erase(x.callback_id);
        } else if constexpr (std::is_same_v<T, ae::callback_cancelled>) {
          ++sum_.callbacks_cancelled;
          callback_at_.erase(x.callback_id);
        }
      },
      e.body);
}

void world::check_agent(const std::string& id, const agent_state& s) {
  if (static_cast<int>(s.work.size()) > std::clamp(entry(id).capacity, 1, agent_capacity_max)) {
    violation(fmt::format("agent {} holds {} items over capacity {}", id, s.work.size(),
                          entry(id).capacity));
  }
  for (std::size_t i = 0; i < s.callbacks.size(); ++i) {
    const auto& cb = s.callbacks[i];
    auto it = callback_at_.find(cb.callback_id);
    if (it == callback_at_.end() || it->second != cb.requested_at_us) {
      violation(fmt::format("callback {} of {} lost its request time", cb.callback_id, id));
    }
    if (i > 0 && std::tie(s.callbacks[i - 1].requested_at_us, s.callbacks[i - 1].callback_id) >
                     std::tie(cb.requested_at_us, cb.callback_id)) {
      violation(fmt::format("callback {} of {} is out of order", cb.callback_id, id));
    }
  }
}

void world::on_queue_event(const std::string& name, const queue_state& before,
                           const queue_event& e) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        namespace qe = queue_evt;
        if constexpr (std::is_same_v<T, qe::offer_made>) {
          check_fifo(before, x);
        } else if constexpr (std::is_same_v<T, qe::overflowed>) {
          ++sum_.overflowed;
        } else if constexpr (std::is_same_v<T, qe::customer_callback_requested>) {
          if (const queue_item* item = before.find(x.item_id)) {
            customer_cb_at_.emplace(x.item_id, item->enqueued_at_us);
          }
        } else if constexpr (std::is_same_v<T, qe::dequeued> || std::is_same_v<T, qe::abandoned> ||
                             std::is_same_v<T, qe::routing_cleared>) {
          customer_cb_at_.erase(x.item_id);
        }
        (void)name;
      },
      e.body);
}

// No item is offered while an earlier item of the same priority, not ringing, that this agent
// has not tried and qualifies for, waits in the same queue (the flow's named agent excepted).
void world::check_fifo(const queue_state& q, const queue_evt::offer_made& e) {
  const agent_entry& a = entry(e.agent_id);
  const queue_item* offered = q.find(e.item_id);
  if (offered == nullptr) return;
  if (auto p = view_.preferred.find(e.item_id);
      p != view_.preferred.end() && p->second == e.agent_id) {
    return;
  }
  for (const auto& item : q.items) {
    if (&item == offered) return;
    if (item.priority == offered->priority && !item.offering() && !item.tried(e.agent_id) &&
        qualifies(item.required_skills, a.skills)) {
      violation(
          fmt::format("{} offered {} before the earlier {}", e.agent_id, e.item_id, item.item_id));
      return;
    }
  }
}

void world::check_queue(const queue_state& q) {
  for (std::size_t i = 0; i < q.items.size(); ++i) {
    const auto& it = q.items[i];
    if (it.is_callback) {
      auto c = customer_cb_at_.find(it.item_id);
      if (c == customer_cb_at_.end() || c->second != it.enqueued_at_us) {
        violation(fmt::format("customer callback {} lost its place", it.item_id));
      }
    }
    if (i > 0) {
      const auto& p = q.items[i - 1];
      if (std::tuple(-p.priority, p.enqueued_at_us, p.item_id) >
          std::tuple(-it.priority, it.enqueued_at_us, it.item_id)) {
        violation(fmt::format("queue order broken at {}", it.item_id));
      }
    }
  }
}

void world::on_call_event(const std::string& id, const event& e) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, evt::call_created>) {
          if (x.voice_call_id == id) info_[id].customer = x.type == call_type::inbound;
        } else if constexpr (std::is_same_v<T, evt::call_answered>) {
          if (x.voice_call_id != id) {  // a consult answered by the specialist
            at(now_ + static_cast<std::int64_t>(uniform(30, 120) * s_us), tk::consult_end, id,
               x.voice_call_id);
            return;
          }
          call_info& ci = info_[id];
          ci.answered = true;
          if (ci.customer) {
            at(now_ + exp_us(config_.mean_talk_s), tk::talk_end, id, id);
            if (uniform(0, 1) < config_.consult_probability) {
              at(now_ + static_cast<std::int64_t>(uniform(20, 120) * s_us), tk::consult, id,
                 x.agent_id);
            }
          } else {
            at(now_ + exp_us(90), tk::talk_end, id, id);
          }
        } else if constexpr (std::is_same_v<T, evt::call_ended>) {
          if (x.voice_call_id == id) info_[id].ended = true;
        }
      },
      e.body);
}

// ---------------------------------------------------------------------------------------------
// Timers: arrivals and the people's behaviour.

void world::customer_arrival() {
  if (!day()) return;
  const std::string id = fmt::format("c{}", ++ids_);
  route_req::customer_call c;
  c.call_id = id;
  c.from = fmt::format("+4930{:07}", rng_() % 10'000'000);
  c.dialled_number = dir_.channels[rng_() % dir_.channels.size()].number;
  const std::size_t cat = rng_() % std::size(categories);
  c.attributes.case_category = categories[cat];
  c.priority = cat == 4 ? 5 : (rng_() % 10 == 0 ? 1 : 0);
  request_result r = request(view_, c, now_);
  if (r.outcome == route_outcome::refused) violation("customer call refused: " + r.refusal->detail);
  run_steps(std::move(r.steps));
  ++sum_.customer_calls;
  at(now_ + exp_us(config_.mean_patience_s), tk::patience, id);
  at(now_ + exp_us(1.0 / config_.customer_calls_per_s), tk::customer_arrival);
}

void world::internal_arrival() {
  if (!day()) return;
  at(now_ + exp_us(1.0 / config_.internal_calls_per_s), tk::internal_arrival);
  std::string from = random_agent();
  if (agents_.at(from).current == presence::offline) return;  // only people at work call
  route_req::internal_call c;
  c.call_id = fmt::format("i{}", ++ids_);
  c.from_agent = from;
  const std::uint64_t pick = rng_() % 4;
  const agent_entry& target = entry(random_agent());
  c.target = pick < 2    ? target.id
             : pick == 2 ? target.extension
                         : dir_.queues[rng_() % dir_.queues.size()].name;
  request_result r = request(view_, c, now_);
  ++sum_.internal_calls;
  if (r.outcome == route_outcome::refused) ++sum_.internal_refused;
  if (r.outcome == route_outcome::callback) ++sum_.internal_callbacks;
  run_steps(std::move(r.steps));
  if (r.outcome == route_outcome::queued || r.outcome == route_outcome::ringing) {
    at(now_ + exp_us(config_.mean_patience_s), tk::patience, c.call_id);
  }
}

void world::respond(const std::string& agent, const std::string& offer, std::int64_t accept) {
  const work_item* w = agents_.at(agent).find_offer(offer);
  if (w == nullptr || w->accepted) return;  // withdrawn or timed out meanwhile
  if (accept) {
    (void)send_agent(agent, agent_cmd::accept_offer{offer});
  } else {
    (void)send_agent(agent, agent_cmd::decline_offer{offer});
  }
}

void world::patience(const std::string& call) {
  call_info& ci = info_[call];
  if (ci.answered || ci.ended || ci.callback) return;
  if (ci.customer && uniform(0, 1) < config_.customer_callback_probability) {
    request_result r = request(view_, route_req::customer_callback{call, "+15550100"}, now_);
    if (r.outcome != route_outcome::refused) {
      ci.callback = true;
      ++sum_.customer_callbacks;
      run_steps(std::move(r.steps));
      return;
    }
  }
  if (uniform(0, 1) < 0.1) {  // the telephony integration clears routing first
    run_steps(request(view_, route_req::clear_routing{call}, now_).steps);
  }
  (void)send_call(call, cmd::end_call{call, "abandoned"});
}

void world::consult(const std::string& call, const std::string& agent) {
  const segment* g = calls_[call].find(call);
  if (g == nullptr || g->status != segment_status::connected || g->owner_agent != agent) return;
  std::string target;
  do {
    target = dir_.agents[(rng_() % (dir_.agents.size() / 10)) * 10 + 9].id;  // specialists
  } while (target == agent);
  route_req::consult k{call, call, fmt::format("{}-k{}", call, ++ids_), agent, target, true};
  request_result r = request(view_, k, now_);
  if (r.outcome == route_outcome::refused) {
    ++sum_.consults_refused;
    return;
  }
  ++sum_.consults;
  run_steps(std::move(r.steps));
}

// what: 0 back to available, 1 a break (away), 2 lunch (offline).
void world::presence_timer(const std::string& agent, std::int64_t what) {
  const presence now = agents_.at(agent).current;
  if (what == 0) {
    if (now != presence::away && now != presence::offline) return;
    (void)send_agent(agent, agent_cmd::set_presence{presence::available, {}});
    if (day()) {
      at(now_ + static_cast<std::int64_t>(uniform(60, 150) * 60 * s_us), tk::presence, agent, {},
         rng_() % 4 == 0 ? 2 : 1);
    }
    return;
  }
  if (!day()) return;
  if (what == 1) {
    (void)send_agent(agent, agent_cmd::set_presence{presence::away, "break"});
    at(now_ + static_cast<std::int64_t>(uniform(10, 20) * 60 * s_us), tk::presence, agent, {}, 0);
  } else {
    (void)send_agent(agent, agent_cmd::set_presence{presence::offline, {}});
    at(now_ + 30 * 60 * s_us, tk::presence, agent, {}, 0);
  }
}

void world::fire(const timer& t) {
  switch (t.kind) {
    case tk::customer_arrival:
      return customer_arrival();
    case tk::internal_arrival:
      return internal_arrival();
    case tk::respond:
      return respond(t.a, t.b, t.n);
    case tk::wake:
      if (t.n == 1 && (day() || std::ranges::any_of(
                                    queues_, [](auto& q) { return !q.second.items.empty(); }))) {
        at(now_ + 5 * s_us, tk::wake, {}, {}, 1);  // the periodic tick: overflow checks
      }
      return;
    case tk::talk_end:
      (void)send_call(t.a, cmd::end_call{t.b, "hangup"});
      return;
    case tk::consult:
      return consult(t.a, t.b);
    case tk::consult_end:
      if (!send_call(t.a, cmd::complete_consult{t.b})) {
        (void)send_call(t.a, cmd::cancel_consult{t.b});
      }
      return;
    case tk::patience:
      return patience(t.a);
    case tk::acw_end:
      if (t.n < 0) {
        (void)send_agent(t.a, agent_cmd::finish_wrap_up{});
      } else {
        (void)send_agent(t.a, agent_cmd::acw_timed_out{t.n});
      }
      return;
    case tk::presence:
      return presence_timer(t.a, t.n);
    case tk::cancel_callback:
      run_steps(request(view_, route_req::cancel_callback{t.a, t.b}, now_).steps);
      return;
  }
}

sim_summary world::run() {
  for (const auto& a : dir_.agents) {
    const bool late = rng_() % 10 == 0;
    const double start_s = late ? uniform(3600, 3 * 3600) : uniform(0, 600);
    at(static_cast<std::int64_t>(start_s * s_us), tk::presence, a.id, {}, 0);
    agents_.at(a.id).current = presence::offline;
  }
  at(0, tk::customer_arrival);
  at(1, tk::internal_arrival);
  at(2, tk::wake, {}, {}, 1);
  const std::int64_t stop_us = config_.day_us + 6 * 3600 * s_us;
  while (!timers_.empty() && timers_.top().at <= stop_us) {
    timer t = std::move(const_cast<timer&>(timers_.top()));  // popped at once
    timers_.pop();
    now_ = t.at;
    fire(t);
    drain();
  }
  for (const auto& [id, ci] : info_) {
    if (!ci.ended) {
      violation(fmt::format("call {} never ended", id));
    } else if (ci.answered && ci.callback) {
      ++sum_.called_back;
    } else if (ci.answered) {
      ++sum_.answered;
    } else {
      ++sum_.abandoned;
    }
  }
  sum_.calls = info_.size();
  sum_.hash = hash_.h;
  sum_.end_us = now_;
  return sum_;
}

}  // namespace

sim_summary run_simulation(const sim_config& config) {
  world w(config);
  return w.run();
}

std::string render(const sim_summary& s) {
  return fmt::format(
      "calls={} (customer={} internal={} internal_callbacks={}) answered={} abandoned={} "
      "called_back={} "
      "customer_callbacks={} internal_refused={} callbacks requested={} completed={} "
      "cancelled={} offers={} accepted={} missed={} declined={} withdrawn={} overflowed={} "
      "consults={} consults_refused={} refusals={} steps={} events={} end={}s hash={:016x}",
      s.calls, s.customer_calls, s.internal_calls, s.internal_callbacks, s.answered, s.abandoned,
      s.called_back, s.customer_callbacks, s.internal_refused, s.callbacks_requested,
      s.callbacks_completed, s.callbacks_cancelled, s.offers, s.accepted, s.missed, s.declined,
      s.withdrawn, s.overflowed, s.consults, s.consults_refused, s.refusals, s.steps, s.events,
      s.end_us / 1'000'000, s.hash);
}

}  // namespace backline::sim
