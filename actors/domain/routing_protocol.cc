// The routing protocol: folding events into the view, requests, reactions and matching. See
// routing_protocol.h for the contract and the driving loop.
#include "actors/domain/routing_protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace backline::domain {

std::string_view to_string(route_outcome o) {
  static constexpr std::string_view names[] = {"queued", "ringing", "callback", "refused", "done"};
  return names[static_cast<std::size_t>(o)];
}

routing_view::routing_view(const directory& d, routing_config c) : dir(&d), config(std::move(c)) {
  for (const auto& a : d.agents) agents.emplace(a.id, agent_state{});
  for (const auto& q : d.queues) queues.emplace(q.name, queue_state{});
}

const agent_entry* routing_view::agent_entry_of(std::string_view id) const {
  return dir->find_agent(id);
}

void routing_view::add_offer(std::string offer_id, offer_in_flight f) {
  offers_of_call.emplace(f.voice_call_id, offer_id);
  offers.emplace(std::move(offer_id), std::move(f));
}

void routing_view::erase_offer(std::string_view offer_id) {
  auto it = offers.find(offer_id);
  if (it == offers.end()) return;
  auto [first, last] = offers_of_call.equal_range(it->second.voice_call_id);
  for (auto c = first; c != last; ++c) {
    if (c->second == offer_id) {
      offers_of_call.erase(c);
      break;
    }
  }
  offers.erase(it);
}

std::vector<std::string> routing_view::offers_for_call(const std::string& voice_call_id) const {
  std::vector<std::string> ids;
  auto [first, last] = offers_of_call.equal_range(voice_call_id);
  for (auto c = first; c != last; ++c) ids.push_back(c->second);
  std::ranges::sort(ids);  // the order of `offers`, so a replay emits the same commands
  return ids;
}

namespace {

std::string new_id(routing_view& v, std::string_view kind) {
  return fmt::format("{}-{}-{}", v.config.id_prefix, kind, v.next_id++);
}

int capacity_of(const routing_view& v, std::string_view agent_id) {
  const agent_entry* e = v.agent_entry_of(agent_id);
  return e != nullptr ? e->capacity : 1;
}

void update_free(routing_view& v, const std::string& agent_id, const agent_state& s) {
  if (s.current == presence::available && free_capacity(s, capacity_of(v, agent_id)) > 0) {
    v.free_agents.insert(agent_id);
  } else {
    v.free_agents.erase(agent_id);
  }
}

routing_step one(routing_command c) {
  routing_step s;
  s.commands.push_back(std::move(c));
  return s;
}

routing_command to_agent(std::string agent, agent_command c) {
  return route::to_agent{std::move(agent), std::move(c)};
}
routing_command to_queue(std::string queue, queue_command c) {
  return route::to_queue{std::move(queue), std::move(c)};
}
routing_command to_call(std::string call, command_body c) {
  return route::to_call{std::move(call), std::move(c)};
}

// ---------------------------------------------------------------------------------------------
// Reactions to agent events.

void react_accepted(routing_view& v, offer_in_flight& f);

void react_accepted_callback(routing_view& v, offer_in_flight& f);

void react_ended(routing_view& v, const std::string& offer_id, const offer_in_flight& f,
                 bool timed_out, std::string_view reason) {
  switch (f.kind) {
    case flight_kind::queue: {
      auto q = v.queues.find(f.queue);
      const queue_item* item = q == v.queues.end() ? nullptr : q->second.find(f.item_id);
      if (item == nullptr || item->offer_id != offer_id) return;  // cleared or abandoned
      if (timed_out) {
        v.followups.push_back(
            one(to_queue(f.queue, queue_cmd::offer_timed_out{f.item_id, offer_id})));
      } else {
        v.followups.push_back(
            one(to_queue(f.queue, queue_cmd::offer_declined{f.item_id, offer_id})));
      }
      return;
    }
    case flight_kind::direct:
      if (reason == "call_ended") return;
      v.followups.push_back(one(to_call(f.call_id, cmd::end_call{f.voice_call_id, "no_answer"})));
      return;
    case flight_kind::consult:
      if (reason == "call_ended") return;
      v.followups.push_back(one(to_call(f.call_id, cmd::cancel_consult{f.voice_call_id})));
      return;
    case flight_kind::transfer:
      if (reason == "call_ended") return;
      transfer_unanswered(v, f);
      return;
    case flight_kind::callback:
      return;  // the request keeps its place on the agent's stream
  }
}

void react_accepted(routing_view& v, offer_in_flight& f) {
  f.accepted = true;
  routing_step s;
  switch (f.kind) {
    case flight_kind::queue:
      s.commands.push_back(to_queue(f.queue, queue_cmd::dequeue{f.item_id, f.agent_id}));
      s.commands.push_back(to_call(f.call_id, cmd::answer{f.voice_call_id, f.agent_id}));
      break;
    case flight_kind::direct:
    case flight_kind::consult:
    case flight_kind::transfer:
      s.commands.push_back(to_call(f.call_id, cmd::answer{f.voice_call_id, f.agent_id}));
      break;
    case flight_kind::callback:
      react_accepted_callback(v, f);
      return;
  }
  v.followups.push_back(std::move(s));
}

// Pure bookkeeping for an agent event, before it is folded.
void observe(routing_view& v, const std::string& agent_id, const agent_event& e) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        namespace ae = agent_evt;
        if constexpr (std::is_same_v<T, ae::offer_reserved>) {
          if (auto it = v.offers.find(x.offer_id); it != v.offers.end()) {
            it->second.deadline_us = e.at_us + x.ring_timeout_ms * 1'000;
            v.ring_deadlines.emplace(it->second.deadline_us, x.offer_id);
          }
        } else if constexpr (std::is_same_v<T, ae::offer_accepted>) {
          if (auto it = v.offers.find(x.offer_id); it != v.offers.end()) {
            v.ring_deadlines.erase({it->second.deadline_us, x.offer_id});
            react_accepted(v, it->second);
          }
        } else if constexpr (std::is_same_v<T, ae::offer_declined> ||
                             std::is_same_v<T, ae::offer_timed_out> ||
                             std::is_same_v<T, ae::offer_withdrawn>) {
          auto it = v.offers.find(x.offer_id);
          if (it == v.offers.end()) return;
          std::string_view reason;
          if constexpr (std::is_same_v<T, ae::offer_withdrawn>) reason = x.reason;
          react_ended(v, x.offer_id, it->second, std::is_same_v<T, ae::offer_timed_out>, reason);
          v.ring_deadlines.erase({it->second.deadline_us, x.offer_id});
          v.erase_offer(x.offer_id);
        } else if constexpr (std::is_same_v<T, ae::work_released>) {
          for (const std::string& id : v.offers_for_call(x.voice_call_id)) {
            if (v.offers.find(id)->second.agent_id == agent_id) v.erase_offer(id);
          }
        }
      },
      e.body);
}

}  // namespace

void apply(routing_view& v, std::string_view agent_id, const agent_event& e) {
  auto it = v.agents.find(agent_id);
  if (it == v.agents.end()) it = v.agents.emplace(std::string(agent_id), agent_state{}).first;
  observe(v, it->first, e);
  evolve(it->second, e);
  update_free(v, it->first, it->second);
  v.dirty = true;
}

// ---------------------------------------------------------------------------------------------
// Queue and call events.

namespace {

void observe(routing_view& v, const std::string& queue, const queue_state& s,
             const queue_event& e) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        namespace qe = queue_evt;
        if constexpr (std::is_same_v<T, qe::enqueued>) {
          v.waiting[x.voice_call_id] = queue;
          v.queue_of[x.voice_call_id] = queue;
        } else if constexpr (std::is_same_v<T, qe::dequeued> || std::is_same_v<T, qe::abandoned> ||
                             std::is_same_v<T, qe::routing_cleared>) {
          if (const queue_item* item = s.find(x.item_id)) v.waiting.erase(item->voice_call_id);
          v.preferred.erase(x.item_id);
        } else if constexpr (std::is_same_v<T, qe::overflowed>) {
          const queue_item* item = s.find(x.item_id);
          if (item == nullptr) return;
          v.waiting.erase(item->voice_call_id);
          const queue_entry* to = v.dir->find_queue(x.to_queue);
          // Keep the original enqueue time: the customer does not lose the time waited.
          queue_cmd::enqueue again{item->item_id, item->voice_call_id, item->priority,
                                   to != nullptr ? to->required_skills : item->required_skills,
                                   item->enqueued_at_us};
          routing_step step = one(to_queue(x.to_queue, std::move(again)));
          if (item->is_callback) {  // a customer callback keeps being one, and keeps its place
            step.commands.push_back(to_queue(
                x.to_queue,
                queue_cmd::request_customer_callback{item->item_id, item->callback_number}));
          }
          v.followups.push_back(std::move(step));
        }
      },
      e.body);
}

// Releases every agent that holds (or is rung for) `voice_call_id`.
void release_holders(routing_view& v, const std::string& voice_call_id) {
  for (const std::string& id : v.offers_for_call(voice_call_id)) {
    const offer_in_flight& f = v.offers.find(id)->second;
    v.followups.push_back(one(to_agent(f.agent_id, agent_cmd::release_work{voice_call_id})));
  }
}

void on_segment_closed(routing_view& v, const std::string& voice_call_id) {
  if (auto w = v.waiting.find(voice_call_id); w != v.waiting.end()) {
    const queue_state& q = v.queues[w->second];
    if (const queue_item* item = q.find_call(voice_call_id)) {
      v.followups.push_back(one(to_queue(w->second, queue_cmd::abandon{item->item_id})));
    }
  }
  release_holders(v, voice_call_id);
  const auto [first, last] = v.carried.equal_range(voice_call_id);
  for (auto it = first; it != last; ++it) release_holders(v, it->second);
  v.carried.erase(voice_call_id);
  v.stream_of.erase(voice_call_id);
  v.queue_of.erase(voice_call_id);
}

void enqueue_segment(routing_view& v, const std::string& queue, const std::string& segment) {
  const queue_entry* q = v.dir->find_queue(queue);
  if (q == nullptr) return;  // the domain checked the directory
  v.followups.push_back(one(
      to_queue(queue, queue_cmd::enqueue{new_id(v, "psr"), segment, 0, q->required_skills, 0})));
}

// A blind transfer ends the transferring agent's segment (their work is released: after-call
// work). The new segment waits for an agent of the target queue, like a customer call, or is
// offered to the target agent alone, with the customer's last queue as the fallback.
void on_blind_transfer(routing_view& v, std::string_view stream, const evt::blind_transferred& x) {
  offer_in_flight f;
  // The queue the customer last waited in, else the record's (after a restart the view has not
  // seen the call wait).
  const auto q = v.queue_of.find(x.voice_call_id);
  f.queue = q != v.queue_of.end() ? q->second : x.fallback_queue;
  on_segment_closed(v, x.voice_call_id);
  v.stream_of[x.new_segment_id] = std::string(stream);
  if (!x.target_queue.empty()) {
    enqueue_segment(v, x.target_queue, x.new_segment_id);
    return;
  }
  f.kind = flight_kind::transfer;
  f.agent_id = x.target_agent;
  f.voice_call_id = x.new_segment_id;
  f.call_id = std::string(stream);
  const direct_target d = classify_direct_target(v.agents[f.agent_id], capacity_of(v, f.agent_id));
  if (d.outcome != direct_target_outcome::ring) {
    transfer_unanswered(v, f);
    return;
  }
  // The call already rings the target (the event named them): reserve their slot and time it.
  const std::string offer_id = new_id(v, "offer");
  v.followups.push_back(one(
      to_agent(f.agent_id,
               agent_cmd::reserve_offer{
                   offer_id, f.voice_call_id, offer_kind::direct, {}, v.config.ring_timeout_ms})));
  v.add_offer(offer_id, std::move(f));
}

}  // namespace

void transfer_unanswered(routing_view& v, const offer_in_flight& f) {
  if (!f.queue.empty() && v.dir->find_queue(f.queue) != nullptr) {
    enqueue_segment(v, f.queue, f.voice_call_id);
    return;
  }
  v.followups.push_back(one(to_call(f.call_id, cmd::end_call{f.voice_call_id, "no_answer"})));
}

void apply(routing_view& v, std::string_view queue, const queue_event& e) {
  auto it = v.queues.find(queue);
  if (it == v.queues.end()) it = v.queues.emplace(std::string(queue), queue_state{}).first;
  observe(v, it->first, it->second, e);
  evolve(it->second, e);
  v.dirty = true;
}

void apply(routing_view& v, std::string_view call_id, const event& e) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, evt::call_ended>) {
          on_segment_closed(v, x.voice_call_id);
        } else if constexpr (std::is_same_v<T, evt::blind_transferred>) {
          on_blind_transfer(v, call_id, x);
        } else if constexpr (std::is_same_v<T, evt::warm_transfer_completed>) {
          // The transferring agent's segment ended; the consulted agent is on the new one.
          v.carried.emplace(x.new_segment_id, x.consult_call_id);
          on_segment_closed(v, x.voice_call_id);
        } else if constexpr (std::is_same_v<T, evt::conference_merged>) {
          v.carried.emplace(x.voice_call_id, x.consult_call_id);
        } else if constexpr (std::is_same_v<T, evt::consult_completed> ||
                             std::is_same_v<T, evt::consult_cancelled>) {
          on_segment_closed(v, x.consult_call_id);
        }
      },
      e.body);
}

// ---------------------------------------------------------------------------------------------
// Requests.

namespace {

rejection refusal_of(const agent_state& s, errc rule, std::string_view target) {
  if (rule == errc::agent_away) {
    return {rule, fmt::format("{} is away ({}); try later or call a queue", target, s.reason)};
  }
  return {rule, fmt::format("{} is offline; call a queue or leave a message", target)};
}

// Rings `target` alone for `voice_call_id` (creating the internal call, linked to `parent`),
// leaves a callback request when they are busy, or refuses. `method` is internal or callback.
void route_direct(routing_view& v, const std::string& voice_call_id, const std::string& from,
                  const std::string& target, initiation_method method, const std::string& parent,
                  request_result& r) {
  const agent_state& s = v.agents[target];
  const direct_target d = classify_direct_target(s, capacity_of(v, target));
  r.agent = target;
  if (d.outcome == direct_target_outcome::refuse) {
    r.outcome = route_outcome::refused;
    r.refusal = refusal_of(s, d.rule, target);
    return;
  }
  if (d.outcome == direct_target_outcome::callback) {
    r.outcome = route_outcome::callback;
    r.callback_id = new_id(v, "cb");
    r.steps.push_back(
        one(to_agent(target, agent_cmd::request_callback{r.callback_id, from, {}, 0})));
    return;
  }
  r.outcome = route_outcome::ringing;
  const std::string offer_id = new_id(v, "offer");
  offer_in_flight f;
  f.kind = flight_kind::direct;
  f.agent_id = target;
  f.voice_call_id = f.call_id = voice_call_id;
  v.add_offer(offer_id, std::move(f));
  v.stream_of[voice_call_id] = voice_call_id;
  cmd::create_call c;
  c.voice_call_id = voice_call_id;
  c.type = call_type::internal;
  c.method = method;
  c.from = from;
  c.to = target;
  c.initiator_agent = from;
  c.target_agent = target;
  c.parent_id = parent;
  routing_step step;
  step.commands.push_back(to_agent(
      target, agent_cmd::reserve_offer{
                  offer_id, voice_call_id, offer_kind::direct, {}, v.config.ring_timeout_ms}));
  step.commands.push_back(to_call(voice_call_id, std::move(c)));
  r.steps.push_back(std::move(step));
}

void enqueue_call(routing_view& v, const std::string& voice_call_id, const std::string& queue,
                  int priority, std::vector<skill> skills, request_result& r) {
  r.outcome = route_outcome::queued;
  r.queue = queue;
  const std::string item_id = new_id(v, "psr");
  r.steps.push_back(one(
      to_queue(queue, queue_cmd::enqueue{item_id, voice_call_id, priority, std::move(skills), 0})));
  if (!r.agent.empty()) v.preferred[item_id] = r.agent;
}

request_result request_customer(routing_view& v, const route_req::customer_call& c) {
  request_result r;
  auto d = evaluate_flow(*v.dir, c.dialled_number, c.flow_override, c.fallback_queue_override,
                         c.attributes);
  if (!d) {
    r.outcome = route_outcome::refused;
    r.refusal = d.error();
    return r;
  }
  std::string queue = d->queue;
  if (queue.empty()) {  // a rule named only an agent: wait in the fallback queue
    const phone_channel* ch = v.dir->find_channel(c.dialled_number);
    queue = !c.fallback_queue_override.empty() ? c.fallback_queue_override
            : ch != nullptr                    ? ch->fallback_queue
                                               : std::string();
  }
  if (queue.empty() || v.dir->find_queue(queue) == nullptr) {
    r.outcome = route_outcome::refused;
    r.refusal = rejection{errc::no_route, "the flow names no queue to wait in; set a fallback"};
    return r;
  }
  v.stream_of[c.call_id] = c.call_id;
  cmd::create_call create;
  create.voice_call_id = c.call_id;
  create.from = c.from;
  create.to = c.dialled_number;
  create.queue = queue;
  create.attributes = c.attributes;
  r.steps.push_back(one(to_call(c.call_id, std::move(create))));
  r.agent = d->agent;
  enqueue_call(v, c.call_id, queue, c.priority, d->required_skills, r);
  // A call the platform created before asking the flow keeps its own facts (the create above
  // is then refused as a conflict and changes nothing); the decided queue is still its record's.
  r.steps.back().commands.push_back(to_call(c.call_id, cmd::assign_queue{c.call_id, queue}));
  return r;
}

request_result request_internal(routing_view& v, const route_req::internal_call& c) {
  request_result r;
  auto t = resolve_internal_target(*v.dir, c.target);
  if (!t) {
    r.outcome = route_outcome::refused;
    r.refusal = t.error();
    return r;
  }
  if (t->agent == c.from_agent) {
    r.outcome = route_outcome::refused;
    r.refusal = rejection{errc::transfer_target_invalid, "an agent cannot call themself"};
    return r;
  }
  if (!t->agent.empty()) {
    route_direct(v, c.call_id, c.from_agent, t->agent, initiation_method::internal,
                 c.parent_call_id, r);
    return r;
  }
  // A queue: no IVR; the call waits like a customer call.
  v.stream_of[c.call_id] = c.call_id;
  cmd::create_call create;
  create.voice_call_id = c.call_id;
  create.type = call_type::internal;
  create.method = initiation_method::internal;
  create.from = create.initiator_agent = c.from_agent;
  create.to = create.queue = t->queue;
  create.parent_id = c.parent_call_id;
  r.steps.push_back(one(to_call(c.call_id, std::move(create))));
  const queue_entry* q = v.dir->find_queue(t->queue);
  enqueue_call(v, c.call_id, t->queue, 0, q->required_skills, r);
  return r;
}

request_result request_consult(routing_view& v, const route_req::consult& c) {
  request_result r;
  r.agent = c.target_agent;
  auto a = v.agents.find(c.target_agent);
  if (a == v.agents.end()) {
    r.outcome = route_outcome::refused;
    r.refusal = rejection{errc::unknown_agent, fmt::format("no agent {}", c.target_agent)};
    return r;
  }
  const direct_target d = classify_direct_target(a->second, capacity_of(v, c.target_agent));
  if (d.outcome != direct_target_outcome::ring) {
    r.outcome = route_outcome::refused;
    r.refusal = d.outcome == direct_target_outcome::refuse
                    ? refusal_of(a->second, d.rule, c.target_agent)
                    : rejection{errc::agent_not_available,
                                fmt::format("{} is busy; consult someone else", c.target_agent)};
    return r;
  }
  r.outcome = route_outcome::ringing;
  const std::string offer_id = new_id(v, "offer");
  offer_in_flight f;
  f.kind = flight_kind::consult;
  f.agent_id = c.target_agent;
  f.voice_call_id = c.consult_call_id;
  f.call_id = c.call_id;
  f.consult_parent = c.segment_id;
  f.hold_customer = c.hold_customer;
  v.add_offer(offer_id, std::move(f));
  v.stream_of[c.consult_call_id] = c.call_id;
  routing_step step;
  step.commands.push_back(
      to_agent(c.target_agent,
               agent_cmd::reserve_offer{
                   offer_id, c.consult_call_id, offer_kind::direct, {}, v.config.ring_timeout_ms}));
  step.commands.push_back(
      to_call(c.call_id, cmd::start_consult{c.segment_id, c.consult_call_id, c.from_agent,
                                            c.target_agent, c.hold_customer}));
  r.steps.push_back(std::move(step));
  return r;
}

request_result request_waiting(routing_view& v, const std::string& voice_call_id,
                               const std::string& number, bool clear) {
  request_result r;
  auto w = v.waiting.find(voice_call_id);
  const queue_item* item = nullptr;
  if (w != v.waiting.end()) item = v.queues[w->second].find_call(voice_call_id);
  if (item == nullptr) {
    if (clear) return r;  // nothing waits: Clear Routing is idempotent
    r.outcome = route_outcome::refused;
    r.refusal = rejection{errc::queue_item_not_found,
                          fmt::format("voice call {} is not waiting in a queue", voice_call_id)};
    return r;
  }
  r.queue = w->second;
  if (!clear) {
    r.outcome = route_outcome::queued;
    r.steps.push_back(
        one(to_queue(w->second, queue_cmd::request_customer_callback{item->item_id, number})));
    return r;
  }
  const std::string ringing = item->offer_agent;
  r.steps.push_back(one(to_queue(w->second, queue_cmd::clear_routing{item->item_id})));
  if (!ringing.empty()) {
    r.steps.push_back(one(to_agent(ringing, agent_cmd::release_work{voice_call_id})));
  }
  return r;
}

}  // namespace

request_result request(routing_view& v, const routing_request& req, std::int64_t /*now_us*/) {
  v.dirty = true;
  return std::visit(
      [&](const auto& x) -> request_result {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, route_req::customer_call>) {
          return request_customer(v, x);
        } else if constexpr (std::is_same_v<T, route_req::internal_call>) {
          return request_internal(v, x);
        } else if constexpr (std::is_same_v<T, route_req::consult>) {
          return request_consult(v, x);
        } else if constexpr (std::is_same_v<T, route_req::cancel_callback>) {
          request_result r;
          r.steps.push_back(
              one(to_agent(x.target_agent, agent_cmd::cancel_callback{x.callback_id})));
          return r;
        } else if constexpr (std::is_same_v<T, route_req::customer_callback>) {
          return request_waiting(v, x.call_id, x.number, false);
        } else {
          return request_waiting(v, x.call_id, {}, true);
        }
      },
      req);
}

namespace {

// The agent B accepted a callback for caller A: B's console places a new internal call to A
// (initiation_method callback), routed like any direct call. When A cannot take it, B's work
// item is released, which completes the callback (the attempt was made).
void react_accepted_callback(routing_view& v, offer_in_flight& f) {
  request_result r;
  route_direct(v, f.voice_call_id, f.agent_id, f.caller_agent, initiation_method::callback, {}, r);
  if (r.outcome == route_outcome::ringing) {
    for (auto& s : r.steps) v.followups.push_back(std::move(s));
    return;
  }
  // A is away, offline or busy in turn: no new request (no ping-pong between two busy agents);
  // releasing B's work item completes the callback, the attempt was made.
  v.followups.push_back(one(to_agent(f.agent_id, agent_cmd::release_work{f.voice_call_id})));
}

}  // namespace

}  // namespace backline::domain
