#include "actors/call_actor.h"

#include "actors/aggregate_core.h"
#include "actors/domain/directory.h"

namespace backline::actors {

std::string call_stream(std::string_view root_id) {
  return "call/" + std::string(root_id);
}
std::string vendor_call_key_alias(std::string_view key) {
  return "vendorCallKey:" + std::string(key);
}

std::string_view to_string(outcome o) {
  static constexpr std::string_view names[] = {"accepted", "rejected", "conflict", "overloaded",
                                               "failed"};
  return names[static_cast<int>(o)];
}

namespace {

struct call_traits {
  using state = domain::call_state;
  using command = domain::command_body;
  using event = domain::event;
  using context = domain::decide_context;

  static domain::decision decide(const state& s, const command& c, const context& ctx) {
    return domain::decide(s, c, ctx);
  }
  static void evolve(state& s, const event& e) { domain::evolve(s, e); }
  static std::string encode(const schemas::envelope_meta& m, const domain::event_body& b) {
    return schemas::encode(m, b);
  }
  static std::optional<event> to_event(const schemas::decoded& d) {
    if (!std::holds_alternative<domain::event_body>(d.payload)) return std::nullopt;
    return schemas::to_event(d);
  }
  static std::vector<event>& events_of(command_result& r) { return r.call_events; }
  // New segments get an alias to this stream so the router finds them by voice call id; a new
  // call's vendorCallKey gets one too, so the telephony integration's key outlives a restart.
  static void aliases(const event& e, const std::string& stream, eventlog::append_request& req) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, domain::evt::call_created>) {
            if (!x.vendor_call_key.empty()) {
              req.aliases.emplace_back(vendor_call_key_alias(x.vendor_call_key), stream);
            }
          }
          const std::string* id = nullptr;
          if constexpr (std::is_same_v<T, domain::evt::consult_started>) id = &x.consult_call_id;
          if constexpr (std::is_same_v<T, domain::evt::warm_transfer_completed> ||
                        std::is_same_v<T, domain::evt::blind_transferred>) {
            id = &x.new_segment_id;
          }
          if constexpr (std::is_same_v<T, domain::evt::supervisor_joined>) id = &x.session_id;
          if (id != nullptr) req.aliases.emplace_back(*id, stream);
        },
        e.body);
  }
};

struct call_actor_state {
  static inline const char* name = "call";
  std::shared_ptr<const call_actor_config> config;
  router_actor router;
  std::optional<detail::aggregate_core<call_traits>> core;
  std::int64_t last_activity_us = 0;
  bool idle_check_armed = false;
};

using self_ptr = call_actor::stateful_pointer<call_actor_state>;

bool all_ended(const domain::call_state& c) {
  for (const auto& s : c.segments) {
    if (s.active()) return false;
  }
  return true;
}

// Armed only while no segment is active: a live call never passivates. The router's sweep sends
// idle_atom when the call would be idle: a timer per call cost CAF's timer thread a wake per new
// call (its lock and condition variable, on the CAF thread), and an entry in its map.
void schedule_idle_check(self_ptr self) {
  auto& st = self->state;
  if (st.idle_check_armed || !all_ended(st.core->state())) return;
  st.idle_check_armed = true;
  const std::int64_t idle_at_us =
      st.last_activity_us + std::chrono::microseconds(st.config->idle_timeout).count();
  self->send(st.router, idle_atom::value, st.core->id(), idle_at_us);
}

// Crash-only: stop, and let the router forget this actor (it re-activates from the log).
void stop(self_ptr self, caf::error reason) {
  self->send(self->state.router, passivate_atom::value, self->state.core->stream());
  self->quit(std::move(reason));
}

}  // namespace

call_actor spawn_call_actor(caf::actor_system& system, std::string root_id, router_actor router,
                            std::shared_ptr<const call_actor_config> config) {
  auto fn = [root_id = std::move(root_id), router,
             config](self_ptr self) -> call_actor::behavior_type {
    auto& st = self->state;
    st.config = config;
    st.router = router;
    st.core.emplace("call", root_id, &config->stream);
    if (!st.core->load()) {
      stop(self, caf::sec::runtime_error);  // the behavior below never runs
    } else {
      // No idle check yet: the router spawns a call actor for a command, whose handling arms
      // it when no segment is active (a create_call leaves one active, so none is armed).
      st.last_activity_us = config->stream.clock_us();
    }
    return {[self](command_atom, const command_request& req) -> caf::result<command_result> {
              auto& st = self->state;
              auto promise = self->make_response_promise<command_result>();
              const domain::decide_context ctx{st.config->stream.clock_us(),
                                               st.config->directory.get()};
              st.last_activity_us = ctx.now_us;
              st.core->handle(req, detail::reply_address_of(promise), ctx, self->ctrl());
              schedule_idle_check(self);  // the state already holds the events just decided
              return promise;  // answered by send_reply, maybe from the log's writer thread
            },
            [self](committed_atom, const append_failed&) {
              // An append failed: this state holds events the log does not.
              stop(self, caf::sec::runtime_error);
            },
            [self](idle_atom) {
              auto& st = self->state;
              st.idle_check_armed = false;
              const auto idle_us = st.config->stream.clock_us() - st.last_activity_us;
              const bool idle =
                  idle_us >= std::chrono::microseconds(st.config->idle_timeout).count();
              if (idle && all_ended(st.core->state()) && st.core->appends_in_flight() == 0) {
                stop(self, caf::exit_reason::normal);
              } else {
                schedule_idle_check(self);  // none while a segment is active: its end re-arms it
              }
            }};
  };
  return system.spawn(fn);
}

}  // namespace backline::actors
