#include "actors/routing_actor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <deque>
#include <limits>
#include <set>

#include "actors/domain/directory.h"
#include "eventlog/log.h"
#include "schemas/codec.h"

namespace backline::actors {
namespace {

using domain::route_outcome;

constexpr std::int64_t no_timer = std::numeric_limits<std::int64_t>::max();

// Something waiting for steps to end (a route request, an accept): `done` runs when the last one
// did. `detail` collects the first refusal, for the reply.
struct group {
  std::size_t pending = 0;
  std::string detail;
  std::function<void(group&)> done;
};
using group_ptr = std::shared_ptr<group>;

struct step_run {
  domain::routing_step step;
  std::size_t index = 0;  // the command in flight
  std::vector<group_ptr> groups;
};
using run_ptr = std::shared_ptr<step_run>;

// A command sent to the router and not answered yet. Commands are sent without a CAF timeout
// (one clock entry per command made CAF's timer thread a tenth of the routing bench); the
// watchdog below answers for an aggregate that never replies.
struct pending_reply {
  std::function<void(command_result)> then;
  std::int64_t sent_us = 0;
  bool answered = false;
};
using pending_ptr = std::shared_ptr<pending_reply>;

struct routing_state {
  static inline const char* name = "routing";
  std::shared_ptr<const routing_actor_config> config;
  router_actor router;
  std::unique_ptr<domain::routing_view> view;
  std::string prefix;  // of command ids; the view's id_prefix
  std::uint64_t next_command = 1;
  std::size_t in_flight = 0;  // steps
  bool pump_pending = false;
  std::vector<group_ptr> pump_waiters;  // groups that also wait for the next pump's steps
  std::uint64_t timer_generation = 0;
  std::int64_t timer_at_us = no_timer;
  std::set<std::string, std::less<>> callback_agents;  // agents with pending callback requests
  std::deque<pending_ptr> unanswered;  // in send order, so the oldest is at the front
  bool sweep_armed = false;
};
using self_ptr = routing_actor::stateful_pointer<routing_state>;

std::int64_t now(const routing_state& st) {
  return st.config->clock_us();
}

// The watchdog's time: real time even when the routing clock is virtual (a test's clock jump
// must not fail the commands in flight).
std::int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void release(group& g) {
  if (--g.pending == 0 && g.done) g.done(g);
}

// Folds the envelopes a command appended into the view, by the stream they belong to.
void fold(routing_state& st, const std::vector<std::string>& envelopes) {
  for (const auto& bytes : envelopes) {
    auto d = schemas::decode(bytes);
    // The aggregate verified and encoded it a moment ago: a failure here is a programmer error.
    assert(d.has_value());
    if (!d) continue;
    const std::string& id = d->meta.stream_id;
    if (d->meta.stream_kind == "agent") {
      domain::apply(*st.view, id, schemas::to_agent_event(*d));
      auto a = st.view->agents.find(id);
      if (a != st.view->agents.end() && !a->second.callbacks.empty()) {
        st.callback_agents.insert(id);
      } else {
        st.callback_agents.erase(id);
      }
    } else if (d->meta.stream_kind == "queue") {
      domain::apply(*st.view, id, schemas::to_queue_event(*d));
    } else if (d->meta.stream_kind == "call") {
      domain::apply(*st.view, id, schemas::to_event(*d));
    }
  }
}

template <class Body>
basic_request<Body> make_request(routing_state& st, Body body, std::string target,
                                 std::string correlation) {
  basic_request<Body> r;
  r.command_id = fmt::format("{}-c{}", st.prefix, st.next_command++);
  r.tenant = st.config->tenant;
  r.principal = "routing";
  r.body = std::move(body);
  r.correlation_id = std::move(correlation);
  r.target = std::move(target);
  r.with_events = true;
  return r;
}

void arm_sweep(self_ptr self);

// Calls `then` once; frees what it captured at once (the watchdog keeps the entry a while).
void answer(pending_reply& p, command_result r) {
  if (p.answered) return;  // the watchdog or the reply came first
  p.answered = true;
  auto then = std::move(p.then);
  p.then = nullptr;
  then(std::move(r));
}

// Sends one command to the router; `then` gets its result exactly once: the reply, a CAF error,
// or `failed` from the watchdog when no reply came within config->command_timeout.
template <class Request, class Then>
void send_request(self_ptr self, Request req, Then then) {
  auto& st = self->state;
  auto p = std::make_shared<pending_reply>(pending_reply{std::move(then), steady_us(), false});
  st.unanswered.push_back(p);
  arm_sweep(self);
  self->request(st.router, caf::infinite, command_atom::value, std::move(req))
      .then([p](command_result& r) { answer(*p, std::move(r)); },
            [self, p](caf::error& e) {
              answer(*p, command_result{outcome::failed, domain::errc::ok,
                                        "the router did not answer: " + self->system().render(e)});
            });
}

void arm_sweep(self_ptr self) {
  auto& st = self->state;
  if (st.sweep_armed) return;
  st.sweep_armed = true;
  self->delayed_send(self, std::chrono::seconds(1), sweep_atom::value);
}

// The watchdog: drops answered commands from the front and fails the ones older than the
// command timeout, so a step never waits forever on an aggregate that died with it.
void sweep(self_ptr self) {
  auto& st = self->state;
  st.sweep_armed = false;
  const std::int64_t timeout_us =
      std::chrono::duration_cast<std::chrono::microseconds>(st.config->command_timeout).count();
  const std::int64_t now_us = steady_us();
  while (!st.unanswered.empty()) {
    pending_ptr& p = st.unanswered.front();
    if (!p->answered) {
      if (now_us - p->sent_us < timeout_us) break;
      answer(*p, command_result{outcome::failed, domain::errc::ok,
                                "the aggregate did not answer within the command timeout"});
    }
    st.unanswered.pop_front();
  }
  if (!st.unanswered.empty()) arm_sweep(self);
}

template <class Then>
void send_command(self_ptr self, const domain::routing_command& c, Then then) {
  auto& st = self->state;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, domain::route::to_agent>) {
          send_request(self, make_request(st, x.command, x.agent_id, {}), std::move(then));
        } else if constexpr (std::is_same_v<T, domain::route::to_queue>) {
          send_request(self, make_request(st, x.command, x.queue, {}), std::move(then));
        } else {
          send_request(self, make_request(st, x.command, {}, x.call_id), std::move(then));
        }
      },
      c);
}

void schedule_pump(self_ptr self) {
  if (self->state.pump_pending) return;
  self->state.pump_pending = true;
  self->send(self, pump_atom::value);
}

void finish(self_ptr self, const run_ptr& run) {
  --self->state.in_flight;
  for (auto& g : run->groups) release(*g);
  schedule_pump(self);
}

void advance(self_ptr self, run_ptr run) {
  if (run->index >= run->step.commands.size()) return finish(self, run);
  const domain::routing_command& c = run->step.commands[run->index];
  send_command(self, c, [self, run](command_result r) {
    auto& st = self->state;
    fold(st, r.envelopes);
    if (r.status != outcome::accepted) {
      domain::on_refused(*st.view, run->step, run->index, domain::rejection{r.rule, r.detail},
                         now(st));
      for (auto& g : run->groups) {
        if (g->detail.empty()) {
          g->detail = fmt::format("{} refused ({}): {}",
                                  domain::command_name(run->step.commands[run->index]),
                                  domain::rule_name(r.rule), r.detail);
        }
      }
      return finish(self, run);
    }
    ++run->index;
    advance(self, run);
  });
}

// Runs `steps` concurrently; every group in `groups` waits for all of them.
void launch(self_ptr self, std::vector<domain::routing_step> steps,
            const std::vector<group_ptr>& groups) {
  std::vector<run_ptr> runs;
  runs.reserve(steps.size());
  for (auto& s : steps) {
    runs.push_back(std::make_shared<step_run>(step_run{std::move(s), 0, groups}));
    for (auto& g : groups) ++g->pending;
    ++self->state.in_flight;
  }
  for (auto& r : runs) advance(self, std::move(r));  // replies come later: counts are final
}

void arm_timer(self_ptr self) {
  auto& st = self->state;
  auto deadline = domain::next_deadline_us(*st.view);
  if (!deadline || *deadline >= st.timer_at_us) return;
  st.timer_at_us = *deadline;
  if (st.config->virtual_timers) return;  // the test's clock moves, then it sends a tick
  const std::int64_t delay_us = std::max<std::int64_t>(0, *deadline - now(st));
  self->delayed_send(self, std::chrono::microseconds(delay_us), tick_atom::value,
                     ++st.timer_generation);
}

// False when next_commands would find nothing: no reactions, nothing timed due, and matching
// has no waiting item and no pending callback to place. Matching walks every free agent, so with
// 10,000 agents free this saves most of the actor's time (bench/routing_bench.cc).
bool worth_pumping(const routing_state& st, std::int64_t now_us) {
  const domain::routing_view& v = *st.view;
  if (!v.followups.empty()) return true;
  if (auto deadline = domain::next_deadline_us(v); deadline && *deadline <= now_us) return true;
  if (!v.dirty || v.free_agents.empty()) return false;
  return !st.callback_agents.empty() || !v.waiting.empty();
}

void pump(self_ptr self) {
  auto& st = self->state;
  st.pump_pending = false;
  std::vector<group_ptr> waiters = std::move(st.pump_waiters);
  st.pump_waiters.clear();
  const std::int64_t now_us = now(st);
  if (worth_pumping(st, now_us)) launch(self, domain::next_commands(*st.view, now_us), waiters);
  for (auto& g : waiters) release(*g);  // the hold taken when it registered
  arm_timer(self);
}

// Folds the streams of every directory agent and queue (presence, waiting calls).
void load_view(routing_state& st) {
  auto fold_stream = [&](const std::string& stream) {
    auto records = st.config->log->read_stream(stream);
    if (!records) return;
    std::vector<std::string> envelopes;
    envelopes.reserve(records->size());
    for (auto& r : *records) envelopes.push_back(std::move(r.envelope));
    fold(st, envelopes);
  };
  for (const auto& a : st.config->directory->agents) fold_stream("agent/" + a.id);
  for (const auto& q : st.config->directory->queues) fold_stream("queue/" + q.name);
}

route_result summary(const domain::request_result& r) {
  route_result out;
  out.outcome = r.outcome;
  out.agent = r.agent;
  out.queue = r.queue;
  out.callback_id = r.callback_id;
  if (r.refusal) {
    out.rule = r.refusal->code;
    out.detail = r.refusal->detail;
  }
  for (const auto& step : r.steps) {
    for (const auto& c : step.commands) {
      const auto* a = std::get_if<domain::route::to_agent>(&c);
      if (a == nullptr) continue;
      if (const auto* o = std::get_if<domain::agent_cmd::reserve_offer>(&a->command)) {
        if (out.offer_id.empty()) out.offer_id = o->offer_id;
      }
    }
  }
  return out;
}

caf::result<route_result> on_route(self_ptr self, const domain::routing_request& req) {
  auto& st = self->state;
  if (st.in_flight >= st.config->steps_in_flight_max) {
    return route_result{route_outcome::refused, {}, {}, {}, {}, domain::errc::ok, "overloaded"};
  }
  domain::request_result r = domain::request(*st.view, req, now(st));
  route_result out = summary(r);
  if (r.steps.empty()) {
    schedule_pump(self);
    return out;
  }
  auto promise = self->make_response_promise<route_result>();
  auto g = std::make_shared<group>();
  g->done = [promise, out](group& done) mutable {
    if (!done.detail.empty()) out.detail = done.detail;
    promise.deliver(std::move(out));
  };
  launch(self, std::move(r.steps), {g});
  return promise;
}

// A command from outside that routing must see: sent on, folded, then the protocol reacts.
// With `wait_reactions`, the reply waits for the steps of the next pump too (accept: the call
// is answered before the console hears back; end_call: the agent's work is released).
template <class Request>
caf::result<command_result> pass_through(self_ptr self, Request req, bool wait_reactions) {
  auto& st = self->state;
  if (st.in_flight >= 2 * st.config->steps_in_flight_max) {
    return command_result{outcome::overloaded, domain::errc::ok, "routing is overloaded"};
  }
  req.with_events = true;
  if (req.command_id.empty()) req.command_id = fmt::format("{}-c{}", st.prefix, st.next_command++);
  auto promise = self->make_response_promise<command_result>();
  send_request(self, std::move(req), [self, promise, wait_reactions](command_result r) mutable {
    auto& st = self->state;
    fold(st, r.envelopes);
    if (!wait_reactions || r.status != outcome::accepted) {
      promise.deliver(std::move(r));
      schedule_pump(self);
      return;
    }
    auto g = std::make_shared<group>();
    g->pending = 1;  // held until the pump launched its steps
    g->done = [promise, r = std::move(r)](group&) mutable { promise.deliver(std::move(r)); };
    st.pump_waiters.push_back(std::move(g));
    schedule_pump(self);
  });
  return promise;
}

caf::result<command_result> on_console(self_ptr self, std::string agent, std::string offer,
                                       bool accept) {
  auto& st = self->state;
  domain::agent_command c = accept ? domain::agent_command{domain::agent_cmd::accept_offer{offer}}
                                   : domain::agent_command{domain::agent_cmd::decline_offer{offer}};
  return pass_through(self, make_request(st, std::move(c), std::move(agent), {}), true);
}

}  // namespace

routing_actor spawn_routing_actor(caf::actor_system& system, router_actor router,
                                  std::shared_ptr<const routing_actor_config> config) {
  auto fn = [router, config](self_ptr self) -> routing_actor::behavior_type {
    auto& st = self->state;
    st.config = config;
    st.router = router;
    st.prefix = fmt::format("r{}", config->clock_us());
    domain::routing_config rc;
    rc.ring_timeout_ms = config->ring_timeout_ms;
    rc.id_prefix = st.prefix;
    st.view = std::make_unique<domain::routing_view>(*config->directory, rc);
    load_view(st);
    schedule_pump(self);  // work left waiting by the previous activation
    return {[self](route_atom, const domain::routing_request& req) { return on_route(self, req); },
            [self](accept_atom, std::string& agent, std::string& offer) {
              return on_console(self, std::move(agent), std::move(offer), true);
            },
            [self](decline_atom, std::string& agent, std::string& offer) {
              return on_console(self, std::move(agent), std::move(offer), false);
            },
            [self](command_atom, agent_request& req) {
              return pass_through(self, std::move(req), true);
            },
            [self](command_atom, command_request& req) {
              return pass_through(self, std::move(req), true);
            },
            [self](tick_atom, std::uint64_t generation) {
              auto& st = self->state;
              // A generation other than the last armed: superseded by an earlier deadline.
              if (generation != 0 && generation != st.timer_generation) return;
              if (generation != 0 || st.timer_at_us <= now(st)) st.timer_at_us = no_timer;
              schedule_pump(self);
            },
            [self](pump_atom) { pump(self); },
            [self](sweep_atom) { sweep(self); }};
  };
  return system.spawn(fn);
}

}  // namespace backline::actors
