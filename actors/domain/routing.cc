// Pure routing decisions: flow evaluation, target resolution, agent selection, next work.
#include "actors/domain/routing.h"

#include <fmt/format.h>
#include <algorithm>
#include <tuple>

#include "actors/domain/call_rules.h"

namespace backline::domain {
namespace {

using rules::reject;

// The value of a flow rule's field; a missing custom attribute reads as empty.
std::string_view attribute(const call_attributes& a, std::string_view field) {
  if (field == "case_id") return a.case_id;
  if (field == "contact_id") return a.contact_id;
  if (field == "account_id") return a.account_id;
  if (field == "subject") return a.subject;
  if (field == "case_category") return a.case_category;
  for (const auto& [key, value] : a.custom) {
    if (key == field) return value;
  }
  return {};
}

// Max level per skill name, sorted by name.
std::vector<skill> merge_skills(std::span<const skill> a, std::span<const skill> b) {
  std::vector<skill> out;
  for (auto part : {a, b}) {
    for (const auto& s : part) {
      auto it = std::ranges::find(out, s.name, &skill::name);
      if (it == out.end()) {
        out.push_back(s);
      } else {
        it->level = std::max(it->level, s.level);
      }
    }
  }
  std::ranges::sort(out, {}, &skill::name);
  return out;
}

std::vector<skill> queue_skills(const directory& dir, std::string_view queue) {
  const queue_entry* q = dir.find_queue(queue);
  return q == nullptr ? std::vector<skill>{} : q->required_skills;
}

// The first rule that matches and names a known target.
std::optional<flow_decision> match_rules(const directory& dir, const phone_channel& flow,
                                         const call_attributes& attributes) {
  for (std::size_t i = 0; i < flow.rules.size(); ++i) {
    const flow_rule& r = flow.rules[i];
    if (!r.field.empty() && attribute(attributes, r.field) != r.value) continue;
    const bool agent_known = !r.agent.empty() && dir.find_agent(r.agent) != nullptr;
    const bool queue_known = !r.queue.empty() && dir.find_queue(r.queue) != nullptr;
    if (!agent_known && !queue_known) continue;  // misconfigured: try the next rule
    flow_decision d;
    d.agent = agent_known ? r.agent : std::string();
    d.queue = queue_known ? r.queue : std::string();
    d.required_skills = merge_skills(r.required_skills, queue_skills(dir, d.queue));
    d.rule_index = static_cast<int>(i);
    return d;
  }
  return std::nullopt;
}

}  // namespace

std::expected<flow_decision, rejection> evaluate_flow(const directory& dir,
                                                      std::string_view dialled_number,
                                                      std::string_view flow_name_override,
                                                      std::string_view fallback_queue_override,
                                                      const call_attributes& attributes) {
  const phone_channel* dialled = dir.find_channel(dialled_number);
  const phone_channel* flow = dialled;
  if (!flow_name_override.empty()) {
    auto it = std::ranges::find(dir.channels, flow_name_override, &phone_channel::flow);
    if (it == dir.channels.end()) {
      return reject(errc::no_route, fmt::format("no flow named {}", flow_name_override));
    }
    flow = &*it;
  }
  if (flow == nullptr && fallback_queue_override.empty()) {
    return reject(
        errc::no_route,
        fmt::format("no phone channel for {}; name a flow or a fallback queue", dialled_number));
  }
  std::optional<flow_decision> d;
  if (flow != nullptr) d = match_rules(dir, *flow, attributes);
  if (!d) {
    std::string_view fallback = fallback_queue_override;
    if (fallback.empty() && flow != nullptr) fallback = flow->fallback_queue;
    if (fallback.empty() && dialled != nullptr) fallback = dialled->fallback_queue;
    if (fallback.empty() || dir.find_queue(fallback) == nullptr) {
      return reject(errc::no_route,
                    fmt::format("no rule matched and the fallback queue \"{}\" is not in the "
                                "directory",
                                fallback));
    }
    d = flow_decision{};
    d->queue = std::string(fallback);
    d->required_skills = queue_skills(dir, fallback);
  }
  d->channel_number = dialled != nullptr ? dialled->number : std::string(dialled_number);
  d->flow = flow != nullptr ? flow->flow : std::string();
  return *d;
}

std::expected<internal_target, rejection> resolve_internal_target(const directory& dir,
                                                                  std::string_view target) {
  if (target.empty()) return reject(errc::invalid_argument, "the call needs a target");
  if (const agent_entry* a = dir.find_agent(target)) return internal_target{a->id, {}};
  if (const agent_entry* a = dir.find_extension(target)) return internal_target{a->id, {}};
  auto q = std::ranges::find_if(dir.queues, [&](const queue_entry& e) {
    return !e.extension.empty() && e.extension == target;
  });
  if (q != dir.queues.end()) return internal_target{{}, q->name};
  if (const queue_entry* e = dir.find_queue(target)) return internal_target{{}, e->name};
  return reject(errc::no_route,
                fmt::format("{} is neither an agent, an extension nor a queue", target));
}

bool qualifies(std::span<const skill> required, std::span<const skill> skills) {
  return std::ranges::all_of(required, [&](const skill& r) {
    auto it = std::ranges::find(skills, r.name, &skill::name);
    return it != skills.end() && it->level >= r.level;
  });
}

int skill_score(std::span<const skill> required, std::span<const skill> skills) {
  int score = 0;
  for (const skill& r : required) {
    auto it = std::ranges::find(skills, r.name, &skill::name);
    if (it != skills.end()) score += it->level;
  }
  return score;
}

agent_candidate make_candidate(const agent_entry& entry, const agent_state& state) {
  return agent_candidate{entry.id, state.current, free_capacity(state, entry.capacity),
                         entry.skills, state.last_idle_since_us};
}

std::optional<std::string> pick_agent(std::span<const skill> required,
                                      std::span<const agent_candidate> candidates,
                                      routing_strategy strategy,
                                      std::span<const std::string> excluded) {
  const agent_candidate* best = nullptr;
  auto key = [&](const agent_candidate& c) {
    const int score =
        strategy == routing_strategy::most_skilled ? skill_score(required, c.skills) : 0;
    return std::tuple(-score, c.idle_since_us, std::string_view(c.agent_id));
  };
  for (const auto& c : candidates) {
    if (c.current != presence::available || c.free_capacity <= 0) continue;
    if (std::ranges::find(excluded, c.agent_id) != excluded.end()) continue;
    if (!qualifies(required, c.skills)) continue;
    if (best == nullptr || key(c) < key(*best)) best = &c;
  }
  if (best == nullptr) return std::nullopt;
  return best->agent_id;
}

const queue_item* next_item_to_offer(const queue_state& queue) {
  auto it = std::ranges::find_if(queue.items, [](const queue_item& i) { return !i.offering(); });
  return it == queue.items.end() ? nullptr : &*it;
}

const queue_item* first_item_for_agent(const queue_state& queue, std::string_view agent_id,
                                       std::span<const skill> skills) {
  auto it = std::ranges::find_if(queue.items, [&](const queue_item& i) {
    return !i.offering() && !i.tried(agent_id) && qualifies(i.required_skills, skills);
  });
  return it == queue.items.end() ? nullptr : &*it;
}

next_work next_work_for_agent(const agent_state& agent, int capacity, std::string_view agent_id,
                              std::span<const skill> skills, std::span<const queue_view> queues) {
  if (agent.current != presence::available || free_capacity(agent, capacity) == 0) return {};
  // agent.callbacks is kept in original request order (then id).
  for (const auto& cb : agent.callbacks) {
    if (cb.offer_id.empty()) return next_work{work_kind::callback, cb.callback_id, {}, {}};
  }
  const queue_item* best = nullptr;
  std::string_view best_queue;
  for (const auto& q : queues) {
    if (q.state == nullptr) continue;
    const queue_item* item = first_item_for_agent(*q.state, agent_id, skills);
    if (item == nullptr) continue;
    if (best == nullptr || std::tuple(-item->priority, item->enqueued_at_us, q.name) <
                               std::tuple(-best->priority, best->enqueued_at_us, best_queue)) {
      best = item;
      best_queue = q.name;
    }
  }
  if (best == nullptr) return {};
  return next_work{work_kind::queue_item, {}, std::string(best_queue), best->item_id};
}

}  // namespace backline::domain
