#include "actors/routing_actor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <limits>
#include <optional>
#include <set>
#include <unordered_map>

#include "actors/domain/directory.h"
#include "actors/stream_actors.h"
#include "eventlog/bounded_cache.h"
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
  group_ptr group;        // waits for this step; may be null
};
using run_ptr = std::shared_ptr<step_run>;

// Which aggregate a command went to: agent and call actors are then addressed directly.
enum class target_kind : std::uint8_t { other = 0, agent = 1, call = 2 };

// A command sent and not answered yet: a slot of routing_state::pending, reused (no allocation
// per command). Its reply goes on with the step it belongs to, or answers the requester of a
// pass-through. Commands are sent without a CAF timeout (one clock entry per command made CAF's
// timer thread a tenth of the routing bench); the watchdog below answers for an aggregate that
// never replies.
struct pending_command {
  bool busy = false;
  std::uint32_t generation = 0;  // a reply for an earlier use of the slot finds another value
  std::int64_t sent_us = 0;
  run_ptr run;  // a step's command; null: a pass-through
  caf::typed_response_promise<command_result> promise;
  bool wait_reactions = false;
  bool with_events = false;  // a pass-through whose caller asked for the events
  target_kind kind = target_kind::other;
  bool direct = false;                  // sent to a remembered actor, not through the router
  std::optional<agent_request> resend;  // a direct pass-through, should that actor be gone
};

// Bounds routing_state::call_handles; past it, each new call evicts one (misses go through the
// router). Its buckets are allocated up front: a rehash of tens of thousands of entries stalls
// the actor for milliseconds.
constexpr std::size_t call_handles_max = 1 << 16;

struct routing_state {
  static inline const char* name = "routing";
  std::shared_ptr<const routing_actor_config> config;
  router_actor router;
  std::unique_ptr<domain::routing_view> view;
  std::string prefix;  // of command ids; the view's id_prefix
  std::uint64_t next_command = 1;
  std::size_t in_flight = 0;  // steps
  bool pump_pending = false;
  // Groups that wait for the reactions to their own command's events (accept: the answer; end:
  // the release). `followup_groups[i]` waits for view->followups[i] (null: nobody waits); each
  // group in `pump_waiters` holds one count until the next pump launched its steps. A group
  // waits for its own reactions only, not for every step of that pump (with 2,000 accepts in
  // flight, waiting for all of them made each pump quadratic: bench/routing_bench.cc).
  std::vector<group_ptr> followup_groups;
  std::vector<group_ptr> pump_waiters;
  std::uint64_t timer_generation = 0;
  std::int64_t timer_at_us = no_timer;
  std::set<std::string, std::less<>> callback_agents;  // agents with pending callback requests
  std::vector<pending_command> pending;                // slots, see pending_command
  std::vector<std::uint32_t> free_slots;
  std::size_t busy_slots = 0;
  bool sweep_armed = false;
  // The actors that answered an agent's or a call's last command (a reply's sender): later
  // commands for that stream go to them directly, one hop instead of two through the router.
  // A remembered actor that stopped (passivated, or crash-only) fails the request with a CAF
  // error, and the command goes again through the router, which activates the stream anew. The
  // router stays the only one that spawns, so an agent still has one actor: the single place
  // where its capacity is reserved.
  std::unordered_map<std::string, agent_actor> agent_handles;  // by agent id
  std::unordered_map<std::string, call_actor> call_handles;    // by call stream (root id)
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

void fold_agent_event(routing_state& st, const std::string& id, const domain::agent_event& e) {
  domain::apply(*st.view, id, e);
  auto a = st.view->agents.find(id);
  if (a != st.view->agents.end() && !a->second.callbacks.empty()) {
    st.callback_agents.insert(id);
  } else if (!st.callback_agents.empty()) {
    st.callback_agents.erase(id);
  }
}

// Folds the events a command appended (with_events) into the view: the stream is the reply's.
void fold(routing_state& st, const command_result& r) {
  for (const auto& e : r.agent_events) fold_agent_event(st, r.stream_id, e);
  for (const auto& e : r.queue_events) domain::apply(*st.view, r.stream_id, e);
  for (const auto& e : r.call_events) domain::apply(*st.view, r.stream_id, e);
}

// Folds envelopes read from the log (at start), by the stream they belong to.
void fold_envelopes(routing_state& st, const std::vector<eventlog::record>& records) {
  for (const auto& record : records) {
    auto d = schemas::decode(record.envelope);
    // The log verified it when it was appended: a failure here is a programmer error.
    assert(d.has_value());
    if (!d) continue;
    const std::string& id = d->meta.stream_id;
    if (d->meta.stream_kind == "agent") {
      fold_agent_event(st, id, schemas::to_agent_event(*d));
    } else if (d->meta.stream_kind == "queue") {
      domain::apply(*st.view, id, schemas::to_queue_event(*d));
    } else if (d->meta.stream_kind == "call") {
      domain::apply(*st.view, id, schemas::to_event(*d));
    }
  }
}

std::string new_command_id(routing_state& st) {
  std::string id;
  id.reserve(st.prefix.size() + 22);
  id.append(st.prefix).append("-c");
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, st.next_command++).ptr;
  id.append(digits, end);
  return id;
}

template <class Body>
basic_request<Body> make_request(routing_state& st, Body body, std::string target,
                                 std::string correlation) {
  basic_request<Body> r;
  r.command_id = new_command_id(st);
  r.tenant = st.config->tenant;
  r.principal = "routing";
  r.body = std::move(body);
  r.correlation_id = std::move(correlation);
  r.target = std::move(target);
  r.with_events = true;
  return r;
}

void arm_sweep(self_ptr self);
void on_reply(self_ptr self, pending_command p, command_result r);
void send_command(self_ptr self, const domain::routing_command& c, run_ptr run,
                  bool direct_allowed);
template <class Request>
void send_request(self_ptr self, Request req, pending_command p, bool direct_allowed);

// Frees the slot and returns what it held, or nothing when that use of the slot was answered
// already (by the reply, a CAF error or the watchdog, whichever came first).
std::optional<pending_command> take(self_ptr self, std::uint32_t slot, std::uint32_t generation) {
  auto& st = self->state;
  pending_command& p = st.pending[slot];
  if (!p.busy || p.generation != generation) return std::nullopt;
  pending_command taken = std::move(p);
  p = pending_command{};
  p.generation = taken.generation + 1;
  st.free_slots.push_back(slot);
  --st.busy_slots;
  return taken;
}

// Remembers the actor that answered for its stream, unless the router itself answered.
void remember_sender(routing_state& st, const pending_command& p, const command_result& r,
                     const caf::strong_actor_ptr& sender) {
  if (p.direct || p.kind == target_kind::other || !sender || r.stream_id.empty() ||
      sender == caf::actor_cast<caf::strong_actor_ptr>(st.router)) {
    return;
  }
  if (p.kind == target_kind::agent) {
    st.agent_handles.insert_or_assign(r.stream_id, caf::actor_cast<agent_actor>(sender));
  } else {
    eventlog::insert_or_assign_bounded(st.call_handles, call_handles_max, r.stream_id,
                                       caf::actor_cast<call_actor>(sender));
  }
}

void answer(self_ptr self, std::uint32_t slot, std::uint32_t generation, command_result r,
            const caf::strong_actor_ptr& sender) {
  auto p = take(self, slot, generation);
  if (!p) return;
  remember_sender(self->state, *p, r, sender);
  on_reply(self, std::move(*p), std::move(r));
}

// A CAF error. From a remembered actor it most likely stopped before it saw the command: forget
// it and send the command again through the router (the aggregate never decided it).
void answer_error(self_ptr self, std::uint32_t slot, std::uint32_t generation,
                  const caf::error& e) {
  auto p = take(self, slot, generation);
  if (!p) return;
  auto& st = self->state;
  if (p->direct && p->run) {
    const domain::routing_command& c = p->run->step.commands[p->run->index];
    if (const auto* a = std::get_if<domain::route::to_agent>(&c))
      st.agent_handles.erase(a->agent_id);
    if (const auto* k = std::get_if<domain::route::to_call>(&c)) st.call_handles.erase(k->call_id);
    return send_command(self, c, std::move(p->run), false);
  }
  if (p->direct && p->resend) {
    st.agent_handles.erase(p->resend->target);
    agent_request again = std::move(*p->resend);
    p->resend.reset();
    p->direct = false;
    return send_request(self, std::move(again), std::move(*p), false);
  }
  on_reply(self, std::move(*p),
           command_result{outcome::failed, domain::errc::ok,
                          "the aggregate did not answer: " + self->system().render(e)});
}

template <class Handle, class Request>
void request_to(self_ptr self, const Handle& to, Request req, std::uint32_t slot) {
  const std::uint32_t generation = self->state.pending[slot].generation;
  self->request(to, caf::infinite, command_atom::value, std::move(req))
      .then(
          [self, slot, generation](command_result& r) {
            answer(self, slot, generation, std::move(r), self->current_sender());
          },
          [self, slot, generation](caf::error& e) { answer_error(self, slot, generation, e); });
}

// Sends one command, to the stream's remembered actor when there is one (and `direct_allowed`),
// else through the router. `p` says where the result goes (a step, or a pass-through's promise).
template <class Request>
void send_request(self_ptr self, Request req, pending_command p, bool direct_allowed) {
  auto& st = self->state;
  if (st.free_slots.empty()) {
    st.free_slots.push_back(static_cast<std::uint32_t>(st.pending.size()));
    st.pending.emplace_back();
  }
  const std::uint32_t slot = st.free_slots.back();
  st.free_slots.pop_back();
  p.busy = true;
  p.generation = st.pending[slot].generation;
  p.sent_us = steady_us();
  p.direct = false;
  ++st.busy_slots;
  arm_sweep(self);
  if (direct_allowed) {
    if constexpr (std::is_same_v<Request, agent_request>) {
      p.kind = target_kind::agent;
      if (auto h = st.agent_handles.find(req.target); h != st.agent_handles.end()) {
        p.direct = true;
        if (!p.run) p.resend = req;  // a step can be sent again from its command
        st.pending[slot] = std::move(p);
        return request_to(self, h->second, std::move(req), slot);
      }
    } else if constexpr (std::is_same_v<Request, command_request>) {
      p.kind = target_kind::call;
      if (auto h = st.call_handles.find(req.correlation_id); h != st.call_handles.end()) {
        p.direct = true;  // only steps come here (their correlation id is the call stream)
        st.pending[slot] = std::move(p);
        return request_to(self, h->second, std::move(req), slot);
      }
    }
  } else if constexpr (std::is_same_v<Request, agent_request>) {
    p.kind = target_kind::agent;
  } else if constexpr (std::is_same_v<Request, command_request>) {
    p.kind = target_kind::call;
  }
  st.pending[slot] = std::move(p);
  request_to(self, st.router, std::move(req), slot);
}

void arm_sweep(self_ptr self) {
  auto& st = self->state;
  if (st.sweep_armed) return;
  st.sweep_armed = true;
  self->delayed_send(self, std::chrono::seconds(1), sweep_atom::value);
}

// The watchdog: fails the commands older than the command timeout, so a step never waits
// forever on an aggregate that died with it.
void sweep(self_ptr self) {
  auto& st = self->state;
  st.sweep_armed = false;
  const std::int64_t timeout_us =
      std::chrono::duration_cast<std::chrono::microseconds>(st.config->command_timeout).count();
  const std::int64_t now_us = steady_us();
  for (std::uint32_t slot = 0; slot < st.pending.size(); ++slot) {
    const pending_command& p = st.pending[slot];
    if (!p.busy || now_us - p.sent_us < timeout_us) continue;
    answer(self, slot, p.generation,
           command_result{outcome::failed, domain::errc::ok,
                          "the aggregate did not answer within the command timeout"},
           nullptr);
  }
  if (st.busy_slots > 0) arm_sweep(self);
}

void send_command(self_ptr self, const domain::routing_command& c, run_ptr run,
                  bool direct_allowed) {
  auto& st = self->state;
  pending_command p;
  p.run = std::move(run);
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, domain::route::to_agent>) {
          send_request(self, make_request(st, x.command, x.agent_id, {}), std::move(p),
                       direct_allowed);
        } else if constexpr (std::is_same_v<T, domain::route::to_queue>) {
          send_request(self, make_request(st, x.command, x.queue, {}), std::move(p),
                       direct_allowed);
        } else {
          send_request(self, make_request(st, x.command, {}, x.call_id), std::move(p),
                       direct_allowed);
        }
      },
      c);
}

bool worth_pumping(const routing_state& st, std::int64_t now_us);
void arm_timer(self_ptr self);
void pump(self_ptr self);

// Reactions to folded events go out at once: next_commands returns them without matching, so
// there is nothing to coalesce (an accept's answer waited a pump message). Otherwise one pump
// message at a time, and none when the pump would only arm the timer (after most replies: a
// pump message per step cost the actor a message per routed call).
void schedule_pump(self_ptr self) {
  auto& st = self->state;
  if (!st.view->followups.empty()) return pump(self);
  if (st.pump_pending) return;
  if (st.pump_waiters.empty() && !worth_pumping(st, now(st))) return arm_timer(self);
  st.pump_pending = true;
  self->send(self, pump_atom::value);
}

void finish(self_ptr self, const run_ptr& run) {
  --self->state.in_flight;
  if (run->group) release(*run->group);
  schedule_pump(self);
}

void advance(self_ptr self, run_ptr run) {
  if (run->index >= run->step.commands.size()) return finish(self, run);
  const domain::routing_command& c = run->step.commands[run->index];
  send_command(self, c, std::move(run), true);
}

// The reply to a step's command: fold, then the step's next command, or its end.
void on_step_reply(self_ptr self, run_ptr run, const command_result& r) {
  auto& st = self->state;
  fold(st, r);
  if (r.status != outcome::accepted) {
    domain::on_refused(*st.view, run->step, run->index, domain::rejection{r.rule, r.detail},
                       now(st));
    if (run->group && run->group->detail.empty()) {
      run->group->detail =
          fmt::format("{} refused ({}): {}", domain::command_name(run->step.commands[run->index]),
                      domain::rule_name(r.rule), r.detail);
    }
    return finish(self, run);
  }
  ++run->index;
  advance(self, std::move(run));
}

// Runs one step; `group`, when given, waits for it. REQUIRES: the caller holds a count of
// `group` while it launches several steps (a step without commands finishes at once).
void launch_one(self_ptr self, domain::routing_step step, const group_ptr* group) {
  if (group != nullptr) ++(*group)->pending;
  ++self->state.in_flight;
  advance(self, std::make_shared<step_run>(
                    step_run{std::move(step), 0, group != nullptr ? *group : group_ptr{}}));
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
  std::vector<group_ptr> followup_groups = std::move(st.followup_groups);
  st.pump_waiters.clear();
  st.followup_groups.clear();
  const std::int64_t now_us = now(st);
  if (worth_pumping(st, now_us)) {
    // next_commands returns the followups first, in order (routing_protocol.h).
    std::vector<domain::routing_step> steps = domain::next_commands(*st.view, now_us);
    for (std::size_t i = 0; i < steps.size(); ++i) {
      group_ptr* g =
          i < followup_groups.size() && followup_groups[i] ? &followup_groups[i] : nullptr;
      launch_one(self, std::move(steps[i]), g);
    }
  }
  for (auto& g : waiters) release(*g);  // the hold taken when it registered
  arm_timer(self);
}

// Folds the streams of every directory agent and queue (presence, waiting calls).
void load_view(routing_state& st) {
  auto fold_stream = [&](const std::string& stream) {
    if (auto records = st.config->log->read_stream(stream)) fold_envelopes(st, *records);
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
  g->pending = 1;  // held while the steps are launched
  for (auto& step : r.steps) launch_one(self, std::move(step), &g);
  release(*g);
  return promise;
}

// A command from outside that routing must see: sent on, folded, then the protocol reacts.
// With `wait_reactions`, the reply waits for the steps that react to its own events (accept: the
// call is answered before the console hears back; end_call: the agent's work is released).
template <class Request>
caf::result<command_result> pass_through(self_ptr self, Request req, bool wait_reactions) {
  auto& st = self->state;
  if (st.in_flight >= 2 * st.config->steps_in_flight_max) {
    return command_result{outcome::overloaded, domain::errc::ok, "routing is overloaded"};
  }
  pending_command p;
  p.with_events = req.with_events;
  req.with_events = true;
  if (req.command_id.empty()) req.command_id = new_command_id(st);
  p.promise = self->make_response_promise<command_result>();
  p.wait_reactions = wait_reactions;
  auto promise = p.promise;
  // Agent commands may go to the agent's actor directly (kept to send again through the router
  // should it be gone); call commands name a voice call, maybe a segment's alias, which only the
  // router resolves.
  send_request(self, std::move(req), std::move(p), std::is_same_v<Request, agent_request>);
  return promise;
}

// The reply to a pass-through: fold, then answer at once, or once the reactions to its own
// events ran. The events go back only to a caller who asked for them.
void on_pass_through_reply(self_ptr self, caf::typed_response_promise<command_result> promise,
                           bool wait_reactions, bool with_events, command_result r) {
  auto& st = self->state;
  const std::size_t before = st.view->followups.size();
  fold(st, r);
  if (!with_events) {
    r.call_events.clear();
    r.agent_events.clear();
    r.queue_events.clear();
  }
  const std::size_t after = st.view->followups.size();
  if (!wait_reactions || r.status != outcome::accepted || after == before) {
    promise.deliver(std::move(r));
    schedule_pump(self);
    return;
  }
  auto g = std::make_shared<group>();
  g->pending = 1;  // held until the pump launched its steps
  g->done = [promise, r = std::move(r)](group&) mutable { promise.deliver(std::move(r)); };
  st.followup_groups.resize(after);  // followups of other commands: nobody waits
  for (std::size_t i = before; i < after; ++i) st.followup_groups[i] = g;
  st.pump_waiters.push_back(std::move(g));
  schedule_pump(self);
}

void on_reply(self_ptr self, pending_command p, command_result r) {
  if (p.run) return on_step_reply(self, std::move(p.run), r);
  on_pass_through_reply(self, std::move(p.promise), p.wait_reactions, p.with_events, std::move(r));
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
    st.call_handles.reserve(call_handles_max);
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
