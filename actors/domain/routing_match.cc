// The routing protocol, second half: matching waiting work to free agents, ring timeouts,
// overflow, refusals and rendering. See routing_protocol.h.
#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "actors/domain/routing_protocol.h"

namespace backline::domain {
namespace {

routing_step one(routing_command c) {
  routing_step s;
  s.commands.push_back(std::move(c));
  return s;
}

// A free agent as matching sees it during one next_commands pass.
struct free_slot {
  const agent_entry* entry;
  const agent_state* state;
  int free;
};

struct matcher {
  routing_view& v;
  std::vector<free_slot> slots;
  std::vector<agent_candidate> candidates;  // parallel to slots
  std::vector<routing_step>& out;
  int free_total = 0;

  void take(std::size_t i) {
    --slots[i].free;
    --candidates[i].free_capacity;
    --free_total;
  }
  std::size_t index_of(std::string_view agent_id) const {
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (candidates[i].agent_id == agent_id) return i;
    }
    return candidates.size();
  }
};

bool refused_now(const routing_view& v, const std::string& agent_id, const agent_state& s) {
  auto it = v.refused.find(agent_id);
  return it != v.refused.end() && it->second == s.version;
}

matcher free_agents(routing_view& v, std::vector<routing_step>& out) {
  matcher m{v, {}, {}, out, 0};
  for (const auto& id : v.free_agents) {
    const agent_entry* e = v.agent_entry_of(id);
    const agent_state& s = v.agents.at(id);
    if (e == nullptr || refused_now(v, id, s)) continue;
    const int free = free_capacity(s, e->capacity);
    if (free <= 0) continue;
    m.slots.push_back(free_slot{e, &s, free});
    m.candidates.push_back(make_candidate(*e, s));
    m.free_total += free;
  }
  return m;
}

// Pending callback requests come before any queue work.
void offer_callbacks(matcher& m) {
  for (std::size_t i = 0; i < m.slots.size(); ++i) {
    for (const auto& cb : m.slots[i].state->callbacks) {
      if (m.slots[i].free <= 0) break;
      if (!cb.offer_id.empty()) continue;
      const std::string offer_id = fmt::format("{}-offer-{}", m.v.config.id_prefix, m.v.next_id++);
      const std::string call_id = fmt::format("{}-call-{}", m.v.config.id_prefix, m.v.next_id++);
      offer_in_flight f;
      f.kind = flight_kind::callback;
      f.agent_id = m.slots[i].entry->id;
      f.voice_call_id = f.call_id = call_id;
      f.callback_id = cb.callback_id;
      f.caller_agent = cb.caller_agent;
      m.v.add_offer(offer_id, std::move(f));
      m.out.push_back(one(route::to_agent{
          m.slots[i].entry->id, agent_cmd::offer_callback{cb.callback_id, offer_id, call_id,
                                                          m.v.config.ring_timeout_ms}}));
      m.take(i);
    }
  }
}

struct waiting_ref {
  const queue_item* item;
  const std::string* queue;
  const queue_entry* config;
};

// Waiting items no free agent is offered yet, in global order, from queues at least one free
// agent qualifies for (every item needs at least its queue's skills).
std::vector<waiting_ref> waiting_items(const matcher& m) {
  std::vector<waiting_ref> items;
  for (const auto& [name, q] : m.v.queues) {
    if (q.items.empty()) continue;
    const queue_entry* config = m.v.dir->find_queue(name);
    if (config == nullptr) continue;
    const bool anyone = std::ranges::any_of(m.candidates, [&](const agent_candidate& c) {
      return qualifies(config->required_skills, c.skills);
    });
    if (!anyone) continue;
    for (const auto& item : q.items) {
      if (!item.offering()) items.push_back(waiting_ref{&item, &name, config});
    }
  }
  std::ranges::sort(items, [](const waiting_ref& a, const waiting_ref& b) {
    return std::tuple(-a.item->priority, a.item->enqueued_at_us, std::string_view(*a.queue)) <
           std::tuple(-b.item->priority, b.item->enqueued_at_us, std::string_view(*b.queue));
  });
  return items;
}

std::optional<std::string> choose(const matcher& m, const waiting_ref& w) {
  // The agent a flow rule named is offered the item first.
  if (auto p = m.v.preferred.find(w.item->item_id); p != m.v.preferred.end()) {
    const std::size_t i = m.index_of(p->second);
    if (i < m.candidates.size() && m.candidates[i].free_capacity > 0 && !w.item->tried(p->second) &&
        qualifies(w.item->required_skills, m.candidates[i].skills)) {
      return p->second;
    }
  }
  return pick_agent(w.item->required_skills, m.candidates, w.config->strategy,
                    w.item->tried_agents);
}

void offer_items(matcher& m) {
  for (const waiting_ref& w : waiting_items(m)) {
    if (m.free_total <= 0) return;
    std::optional<std::string> agent = choose(m, w);
    if (!agent) continue;
    const std::string offer_id = fmt::format("{}-offer-{}", m.v.config.id_prefix, m.v.next_id++);
    offer_in_flight f;
    f.kind = flight_kind::queue;
    f.agent_id = *agent;
    f.voice_call_id = w.item->voice_call_id;
    auto s = m.v.stream_of.find(f.voice_call_id);
    f.call_id = s == m.v.stream_of.end() ? f.voice_call_id : s->second;
    f.queue = *w.queue;
    f.item_id = w.item->item_id;
    routing_step step;
    step.commands.push_back(route::to_agent{
        *agent, agent_cmd::reserve_offer{offer_id, f.voice_call_id, offer_kind::queue, f.queue,
                                         m.v.config.ring_timeout_ms}});
    step.commands.push_back(
        route::to_queue{f.queue, queue_cmd::offer_made{f.item_id, *agent, offer_id}});
    step.commands.push_back(route::to_call{f.call_id, cmd::ring{f.voice_call_id, *agent}});
    m.out.push_back(std::move(step));
    m.v.add_offer(offer_id, std::move(f));
    m.take(m.index_of(*agent));
  }
}

void ring_timeouts(routing_view& v, std::int64_t now_us, std::vector<routing_step>& out) {
  while (!v.ring_deadlines.empty() && v.ring_deadlines.begin()->first <= now_us) {
    auto node = v.ring_deadlines.extract(v.ring_deadlines.begin());
    const std::string& id = node.value().second;
    auto f = v.offers.find(id);
    if (f == v.offers.end() || f->second.accepted) continue;
    out.push_back(one(route::to_agent{f->second.agent_id, agent_cmd::offer_timed_out{id}}));
    f->second.deadline_us = -1;  // sent; the agent's event ends the offer
  }
}

void overflows(routing_view& v, std::int64_t now_us, std::vector<routing_step>& out) {
  if (now_us < v.next_overflow_check_us) return;
  v.next_overflow_check_us = now_us + v.config.overflow_check_every_us;
  for (const auto& [name, q] : v.queues) {
    if (q.items.empty()) continue;
    const queue_entry* config = v.dir->find_queue(name);
    if (config == nullptr) continue;
    for (auto& item : overflow_due(q, *config, now_us)) {
      out.push_back(one(route::to_queue{name, queue_cmd::overflow{std::move(item)}}));
    }
  }
}

}  // namespace

std::vector<routing_step> next_commands(routing_view& v, std::int64_t now_us) {
  std::vector<routing_step> out = std::move(v.followups);
  v.followups.clear();
  ring_timeouts(v, now_us, out);
  overflows(v, now_us, out);
  // Reactions first: matching must see their outcome (an overflowed item re-enqueued with its
  // original time is older than the items it would otherwise be matched after).
  if (!out.empty() || !v.dirty || v.free_agents.empty()) return out;
  v.dirty = false;
  matcher m = free_agents(v, out);
  offer_callbacks(m);
  if (m.free_total > 0) offer_items(m);
  return out;
}

namespace {

// A reservation was refused (a race took the slot): forget the offer and skip the agent until
// their state changes.
void reservation_refused(routing_view& v, const std::string& agent_id,
                         const std::string& offer_id) {
  v.erase_offer(offer_id);
  if (auto a = v.agents.find(agent_id); a != v.agents.end())
    v.refused[agent_id] = a->second.version;
  v.dirty = true;
}

}  // namespace

void on_refused(routing_view& v, const routing_step& step, std::size_t index,
                const rejection& /*why*/, std::int64_t /*now_us*/) {
  if (index >= step.commands.size()) return;
  v.dirty = true;
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, route::to_agent>) {
          if (auto* r = std::get_if<agent_cmd::reserve_offer>(&c.command)) {
            // A blind transfer's target lost the race for their last slot: the fallback.
            if (auto f = v.offers.find(r->offer_id);
                f != v.offers.end() && f->second.kind == flight_kind::transfer) {
              transfer_unanswered(v, f->second);
            }
            reservation_refused(v, c.agent_id, r->offer_id);
          } else if (auto* o = std::get_if<agent_cmd::offer_callback>(&c.command)) {
            reservation_refused(v, c.agent_id, o->offer_id);
          }
        } else if constexpr (std::is_same_v<T, route::to_queue>) {
          // The agent holds the work (reserved or accepted) for an item the queue no longer
          // offers them: give the slot back (a ringing offer is withdrawn).
          std::string agent, item;
          if (auto* m = std::get_if<queue_cmd::offer_made>(&c.command)) {
            agent = m->agent_id, item = m->item_id;
          } else if (auto* d = std::get_if<queue_cmd::dequeue>(&c.command)) {
            agent = d->agent_id, item = d->item_id;
          }
          for (const auto& [id, f] : v.offers) {
            if (f.agent_id == agent && f.queue == c.queue && f.item_id == item) {
              v.followups.push_back(
                  one(route::to_agent{agent, agent_cmd::release_work{f.voice_call_id}}));
              break;
            }
          }
        } else {
          std::string agent, call;
          if (auto* r = std::get_if<cmd::ring>(&c.command))
            agent = r->agent_id, call = r->voice_call_id;
          if (auto* a = std::get_if<cmd::answer>(&c.command))
            agent = a->agent_id, call = a->voice_call_id;
          if (auto* k = std::get_if<cmd::start_consult>(&c.command))
            agent = k->target_agent, call = k->consult_call_id;
          if (auto* n = std::get_if<cmd::create_call>(&c.command))
            agent = n->target_agent, call = n->voice_call_id;
          if (!agent.empty()) {
            v.followups.push_back(one(route::to_agent{agent, agent_cmd::release_work{call}}));
          }
        }
      },
      step.commands[index]);
}

std::optional<std::int64_t> next_deadline_us(const routing_view& v) {
  std::optional<std::int64_t> next;
  if (!v.ring_deadlines.empty()) next = v.ring_deadlines.begin()->first;
  if (!v.waiting.empty() && (!next || v.next_overflow_check_us < *next))
    next = v.next_overflow_check_us;
  return next;
}

std::string_view command_name(const routing_command& c) {
  return std::visit([](const auto& x) { return command_name(x.command); }, c);
}

std::string render(const routing_command& c) {
  return std::visit(
      [](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, route::to_agent>) {
          return fmt::format("agent/{} {}", x.agent_id, command_name(x.command));
        } else if constexpr (std::is_same_v<T, route::to_queue>) {
          return fmt::format("queue/{} {}", x.queue, command_name(x.command));
        } else {
          return fmt::format("call/{} {}", x.call_id, command_name(x.command));
        }
      },
      c);
}

}  // namespace backline::domain
