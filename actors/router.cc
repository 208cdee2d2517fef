#include "actors/router.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <unordered_map>

#include "eventlog/bounded_cache.h"
#include "eventlog/log.h"

namespace backline::actors {
namespace {

struct router_state {
  static inline const char* name = "router";
  std::shared_ptr<const router_config> config;
  std::unordered_map<std::string, call_actor> calls;     // root id -> actor
  std::unordered_map<std::string, std::string> aliases;  // voice call id -> root id
  std::unordered_map<std::string, agent_actor> agents;   // agent id -> actor
  std::unordered_map<std::string, queue_actor> queues;   // queue name -> actor
  // Call actors with no active segment, by when they would be idle: at most one entry per live
  // call actor (it registers once per idle check), the soonest first.
  using idle_entry = std::pair<std::int64_t, std::string>;  // unix µs, root id
  std::priority_queue<idle_entry, std::vector<idle_entry>, std::greater<>> idle_due;
  bool sweep_armed = false;
  router_stats stats;
};

using self_ptr = router_actor::stateful_pointer<router_state>;

// The conversation a command belongs to (REQUIRES: `id` is not an active root itself).
std::string root_of(router_state& st, const command_request& req, const std::string& id) {
  if (std::holds_alternative<domain::cmd::create_call>(req.body)) return id;
  if (auto it = st.aliases.find(id); it != st.aliases.end()) return it->second;
  if (auto stream = st.config->call->stream.log->resolve_alias(id)) {
    std::string root = stream->substr(stream->find('/') + 1);
    eventlog::make_room(st.aliases, st.config->alias_cache_max, id);
    st.aliases.emplace(id, root);
    return root;
  }
  return id;
}

// The actor of a directory entry, spawned on first use; null when the directory lacks it.
// `known` is asked only on a miss.
template <class Handle, class Known, class Spawn>
Handle* entry_actor(std::unordered_map<std::string, Handle>& actors, const std::string& id,
                    Known known, Spawn spawn) {
  auto it = actors.find(id);
  if (it != actors.end()) return &it->second;
  if (!known()) return nullptr;
  return &actors.emplace(id, spawn()).first->second;
}

// Often enough that a call is passivated soon after its idle timeout, at most once a second.
std::chrono::milliseconds sweep_period(const router_config& c) {
  return std::clamp(c.call->idle_timeout / 10, std::chrono::milliseconds(1),
                    std::chrono::milliseconds(1'000));
}

void arm_sweep(self_ptr self) {
  auto& st = self->state;
  if (st.sweep_armed || st.idle_due.empty()) return;
  st.sweep_armed = true;
  self->delayed_send(self, sweep_period(*st.config), sweep_atom::value);
}

// Tells each call actor whose idle time came that it may be idle; it checks for itself (and
// registers again when a command came since). Entries of actors that stopped are dropped.
void sweep(self_ptr self) {
  auto& st = self->state;
  st.sweep_armed = false;
  const std::int64_t now_us = st.config->call->stream.clock_us();
  while (!st.idle_due.empty() && st.idle_due.top().first <= now_us) {
    if (auto it = st.calls.find(st.idle_due.top().second); it != st.calls.end()) {
      self->send(it->second, idle_atom::value);
    }
    st.idle_due.pop();
  }
  arm_sweep(self);
}

}  // namespace

router_actor spawn_router(caf::actor_system& system, std::shared_ptr<const router_config> config) {
  auto fn = [config](self_ptr self) -> router_actor::behavior_type {
    self->state.config = config;
    self->state.calls.reserve(std::min(config->calls_reserved, config->active_calls_max));
    self->state.aliases.reserve(config->alias_cache_max);
    return {
        [self](command_atom, command_request& req)
            -> caf::result<command_result> {
          auto& st = self->state;
          const std::string& target = domain::target_voice_call_id(req.body);
          if (target.empty() || target.size() > domain::id_bytes_max) {
            return command_result{outcome::rejected, domain::errc::invalid_argument,
                                  "the command names no valid voice call id"};
          }
          auto it = st.calls.find(target);  // the common case: an active root voice call
          if (it == st.calls.end()) {
            std::string root = root_of(st, req, target);
            it = st.calls.find(root);
            if (it == st.calls.end()) {
              if (st.calls.size() >= st.config->active_calls_max) {
                return command_result{outcome::overloaded, domain::errc::ok,
                                      "too many active calls; retry shortly"};
              }
              auto actor = spawn_call_actor(self->system(), root, self, st.config->call);
              it = st.calls.emplace(std::move(root), std::move(actor)).first;
              ++st.stats.spawned;
            }
          }
          ++st.stats.routed;
          return self->delegate(it->second, command_atom::value, std::move(req));
        },
        [self](command_atom, agent_request& req) -> caf::result<command_result> {
          auto& st = self->state;
          const std::string& id = req.target;
          auto known = [&] { return st.config->streams->directory->find_agent(id) != nullptr; };
          auto* actor = entry_actor(st.agents, id, known, [&] {
            return spawn_agent_actor(self->system(), id, self, st.config->streams);
          });
          if (actor == nullptr) {
            return command_result{outcome::rejected, domain::errc::unknown_agent,
                                  "the directory has no agent '" + id + "'"};
          }
          ++st.stats.routed;
          return self->delegate(*actor, command_atom::value, std::move(req));
        },
        [self](command_atom, queue_request& req) -> caf::result<command_result> {
          auto& st = self->state;
          const std::string& name = req.target;
          auto known = [&] { return st.config->streams->directory->find_queue(name) != nullptr; };
          auto* actor = entry_actor(st.queues, name, known, [&] {
            return spawn_queue_actor(self->system(), name, self, st.config->streams);
          });
          if (actor == nullptr) {
            return command_result{outcome::rejected, domain::errc::invalid_argument,
                                  "the directory has no queue '" + name + "'"};
          }
          ++st.stats.routed;
          return self->delegate(*actor, command_atom::value, std::move(req));
        },
        [self](passivate_atom, const std::string& stream) {
          // A stream actor stopped (idle, or crash-only after a failed append): forget it, so
          // the next command re-activates it from the log.
          auto& st = self->state;
          const auto slash = stream.find('/');
          const std::string kind = stream.substr(0, slash), id = stream.substr(slash + 1);
          std::size_t erased = 0;
          if (kind == "call") erased = st.calls.erase(id);
          if (kind == "agent") erased = st.agents.erase(id);
          if (kind == "queue") erased = st.queues.erase(id);
          if (erased > 0) ++st.stats.passivated;
        },
        [self](idle_atom, std::string& root, std::int64_t idle_at_us) {
          self->state.idle_due.emplace(idle_at_us, std::move(root));
          arm_sweep(self);
        },
        [self](sweep_atom) { sweep(self); },
        [self](shutdown_atom) {
          auto& st = self->state;
          for (auto& [root, actor] : st.calls) self->send_exit(actor, caf::exit_reason::user_shutdown);
          for (auto& [id, actor] : st.agents) self->send_exit(actor, caf::exit_reason::user_shutdown);
          for (auto& [id, actor] : st.queues) self->send_exit(actor, caf::exit_reason::user_shutdown);
          st.calls.clear();
          st.agents.clear();
          st.queues.clear();
          self->quit();
          return caf::atom_value{shutdown_atom::value};
        },
        [self](stats_atom) {
          router_stats s = self->state.stats;
          s.active_calls = self->state.calls.size();
          return s;
        }};
  };
  return system.spawn(fn);
}

}  // namespace backline::actors
