#include "actors/stream_actors.h"

#include "actors/aggregate_core.h"
#include "actors/domain/directory.h"

namespace backline::actors {
namespace {

struct agent_traits {
  using state = domain::agent_state;
  using command = domain::agent_command;
  using event = domain::agent_event;
  using context = domain::agent_context;

  static domain::agent_decision decide(const state& s, const command& c, const context& ctx) {
    return domain::decide(s, c, ctx);
  }
  static void evolve(state& s, const event& e) { domain::evolve(s, e); }
  static std::string encode(const schemas::envelope_meta& m, const domain::agent_event_body& b) {
    return schemas::encode(m, b);
  }
  static std::optional<event> to_event(const schemas::decoded& d) {
    if (!std::holds_alternative<domain::agent_event_body>(d.payload)) return std::nullopt;
    return schemas::to_agent_event(d);
  }
  static void aliases(const event&, const std::string&, eventlog::append_request&) {}
  static std::vector<event>& events_of(command_result& r) { return r.agent_events; }
};

struct queue_traits {
  using state = domain::queue_state;
  using command = domain::queue_command;
  using event = domain::queue_event;
  using context = domain::queue_context;

  static domain::queue_decision decide(const state& s, const command& c, const context& ctx) {
    return domain::decide(s, c, ctx);
  }
  static void evolve(state& s, const event& e) { domain::evolve(s, e); }
  static std::string encode(const schemas::envelope_meta& m, const domain::queue_event_body& b) {
    return schemas::encode(m, b);
  }
  static std::optional<event> to_event(const schemas::decoded& d) {
    if (!std::holds_alternative<domain::queue_event_body>(d.payload)) return std::nullopt;
    return schemas::to_queue_event(d);
  }
  static void aliases(const event&, const std::string&, eventlog::append_request&) {}
  static std::vector<event>& events_of(command_result& r) { return r.queue_events; }
};

template <class Traits>
struct stream_state {
  static inline const char* name = "stream";
  std::shared_ptr<const stream_actors_config> config;
  router_actor router;
  std::optional<detail::aggregate_core<Traits>> core;
};

// Crash-only: stop, and let the router forget this actor (it re-activates from the log).
template <class Self>
void stop(Self* self) {
  self->send(self->state.router, passivate_atom::value, self->state.core->stream());
  self->quit(caf::sec::runtime_error);
}

// The behavior both actors share; `make_context` builds the pure context of one decision.
template <class Traits, class Handle, class MakeContext>
Handle spawn_stream(caf::actor_system& system, std::string kind, std::string id,
                    router_actor router, std::shared_ptr<const stream_actors_config> config,
                    MakeContext make_context) {
  using self_ptr = typename Handle::template stateful_pointer<stream_state<Traits>>;
  auto fn = [kind = std::move(kind), id = std::move(id), router, config,
             make_context](self_ptr self) -> typename Handle::behavior_type {
    self->state.config = config;
    self->state.router = router;
    self->state.core.emplace(kind, id, &config->stream);
    if (!self->state.core->load()) stop(self);  // the behavior below never runs
    return {[self, make_context](command_atom, const basic_request<typename Traits::command>& req)
                -> caf::result<command_result> {
              auto promise = self->template make_response_promise<command_result>();
              auto& st = self->state;
              st.core->handle(req, detail::reply_address_of(promise),
                              make_context(*st.config, st.config->stream.clock_us()), self->ctrl());
              return promise;
            },
            [self](committed_atom, const append_failed&) { stop(self); }};
  };
  return system.spawn(fn);
}

}  // namespace

agent_actor spawn_agent_actor(caf::actor_system& system, std::string agent_id, router_actor router,
                              std::shared_ptr<const stream_actors_config> config) {
  const domain::agent_entry* entry = config->directory->find_agent(agent_id);
  const int capacity = entry ? entry->capacity : 1;
  return spawn_stream<agent_traits, agent_actor>(
      system, "agent", std::move(agent_id), std::move(router), std::move(config),
      [capacity](const stream_actors_config&, std::int64_t now_us) {
        return domain::agent_context{now_us, capacity, true};
      });
}

queue_actor spawn_queue_actor(caf::actor_system& system, std::string queue_name,
                              router_actor router,
                              std::shared_ptr<const stream_actors_config> config) {
  const domain::queue_entry* entry = config->directory->find_queue(queue_name);
  return spawn_stream<queue_traits, queue_actor>(
      system, "queue", std::move(queue_name), std::move(router), std::move(config),
      [entry](const stream_actors_config&, std::int64_t now_us) {
        return domain::queue_context{now_us, entry};
      });
}

}  // namespace backline::actors
