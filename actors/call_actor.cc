#include "actors/call_actor.h"

#include <atomic>
#include <random>
#include <vector>

#include "actors/domain/directory.h"
#include "eventlog/log.h"
#include "schemas/codec.h"

namespace backline::actors {

std::string call_stream(std::string_view root_id) { return "call/" + std::string(root_id); }

std::string_view to_string(outcome o) {
  static constexpr std::string_view names[] = {"accepted", "rejected", "conflict", "overloaded",
                                               "failed"};
  return names[static_cast<int>(o)];
}

namespace {

// SplitMix64: the random bits of event ids. Eight bytes of state per actor (a Mersenne
// twister would cost 2.5 KiB per call), seeded from one read of the OS entropy per process.
struct splitmix64 {
  std::uint64_t state;
  std::uint64_t operator()() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

std::uint64_t seed() {
  static splitmix64 process{std::random_device{}() ^
                            (std::uint64_t{std::random_device{}()} << 32)};
  static std::atomic<std::uint64_t> actors{0};
  splitmix64 mix{process.state ^ actors.fetch_add(1, std::memory_order_relaxed)};
  return mix();
}

struct pending_command {
  command_request request;
  caf::typed_response_promise<command_result> promise;
};

// What an in-flight append will do once durable.
struct in_flight {
  std::uint64_t token = 0;
  pending_command command;
  std::vector<domain::event> events;
};

struct call_actor_state {
  static inline const char* name = "call";
  std::string root_id, stream;
  std::shared_ptr<const call_actor_config> config;
  router_actor router;
  domain::call_state call;
  std::optional<in_flight> appending;
  std::vector<pending_command> waiting;  // rare and short: FIFO by erase at the front
  // Idempotency: the first outcome of the most recent command ids, in a ring (no allocation
  // once warm: assignments reuse the strings' buffers); `hash` screens before comparing ids.
  struct remembered_command {
    std::size_t hash = 0;
    std::string command_id;
    command_result result;
  };
  std::vector<remembered_command> remembered;
  std::size_t remembered_next = 0;
  splitmix64 random{seed()};
  std::uint64_t next_token = 1;
  std::int64_t last_activity_us = 0;
};

using self_ptr = call_actor::stateful_pointer<call_actor_state>;

const command_result* recall(const call_actor_state& st, const std::string& command_id) {
  if (command_id.empty()) return nullptr;
  const std::size_t h = std::hash<std::string_view>{}(command_id);
  for (const auto& r : st.remembered) {
    if (r.hash == h && r.command_id == command_id) return &r.result;
  }
  return nullptr;
}

void remember(call_actor_state& st, const std::string& command_id, const command_result& r) {
  if (command_id.empty() || recall(st, command_id) != nullptr) return;
  const std::size_t max = st.config->remembered_commands_max;
  if (max == 0) return;
  if (st.remembered.size() < max) st.remembered.emplace_back();
  auto& slot = st.remembered[st.remembered_next];
  st.remembered_next = (st.remembered_next + 1) % max;
  slot.hash = std::hash<std::string_view>{}(command_id);
  slot.command_id = command_id;
  slot.result = r;
}

// Folds the stream from the log. A record that fails verification stops the actor: the log is
// the source of truth and must not be half-read.
bool load(call_actor_state& st) {
  auto records = st.config->log->read_stream(st.stream);
  if (!records) return false;
  for (const auto& r : *records) {
    auto d = schemas::decode(r.envelope);
    if (!d || !std::holds_alternative<domain::event_body>(d->payload)) return false;
    domain::evolve(st.call, schemas::to_event(*d));
    command_result first{outcome::accepted, domain::errc::ok, {}, st.root_id,
                         r.position, st.call.version, 1, true};
    remember(st, d->meta.causation_id, first);
  }
  return true;
}

command_result refuse(const call_actor_state& st, outcome o, domain::errc rule, std::string d) {
  return command_result{o, rule, std::move(d), st.root_id, 0, st.call.version, 0, false};
}

std::string encode_event(call_actor_state& st, const pending_command& pc,
                         const domain::event& e, std::uint64_t version) {
  schemas::envelope_meta meta;
  meta.event_id = schemas::make_uuid_v7(e.at_us / 1000, st.random(), st.random());
  meta.stream_kind = "call";
  meta.stream_id = st.root_id;
  meta.stream_version = version;
  meta.occurred_at_us = e.at_us;
  meta.correlation_id = st.root_id;
  meta.causation_id = pc.request.command_id;
  meta.tenant = pc.request.tenant.empty() ? st.config->tenant : pc.request.tenant;
  meta.principal = pc.request.principal;
  return schemas::encode(meta, e.body);
}

// New segments get an alias to this stream so the router can find them by voice call id.
void add_aliases(const call_actor_state& st, const domain::event& e,
                 eventlog::append_request& req) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const std::string* id = nullptr;
        if constexpr (std::is_same_v<T, domain::evt::consult_started>) id = &x.consult_call_id;
        if constexpr (std::is_same_v<T, domain::evt::warm_transfer_completed> ||
                      std::is_same_v<T, domain::evt::blind_transferred>) {
          id = &x.new_segment_id;
        }
        if constexpr (std::is_same_v<T, domain::evt::supervisor_joined>) id = &x.session_id;
        if (id != nullptr) req.aliases.emplace_back(*id, st.stream);
      },
      e.body);
}

void process_next(self_ptr self);

// Decides one command; either replies at once or starts an append and replies when durable.
void handle(self_ptr self, pending_command pc) {
  auto& st = self->state;
  const auto& req = pc.request;
  if (const command_result* first = recall(st, req.command_id)) {
    command_result again = *first;
    again.replayed = true;
    pc.promise.deliver(std::move(again));
    return;
  }
  if (req.expected_version != 0 && req.expected_version != st.call.version) {
    pc.promise.deliver(refuse(st, outcome::conflict, domain::errc::version_conflict,
                              "the stream is at version " + std::to_string(st.call.version) +
                                  ", not " + std::to_string(req.expected_version)));
    return;
  }
  const domain::decide_context ctx{st.config->clock_us(), st.config->directory.get()};
  st.last_activity_us = ctx.now_us;
  auto decision = domain::decide(st.call, req.body, ctx);
  if (!decision) {
    pc.promise.deliver(
        refuse(st, outcome::rejected, decision.error().code, decision.error().detail));
    return;
  }
  if (decision->empty()) {
    command_result none{outcome::accepted, domain::errc::ok, {}, st.root_id, 0,
                        st.call.version, 0, false};
    remember(st, req.command_id, none);
    pc.promise.deliver(std::move(none));
    return;
  }
  eventlog::append_request append;
  std::uint64_t version = st.call.version;
  for (const auto& e : *decision) {
    append.events.push_back({st.stream, ++version, encode_event(st, pc, e, version)});
    add_aliases(st, e, append);
  }
  const std::uint64_t token = st.next_token++;
  call_actor handle = self;
  append.done = [handle, token](std::expected<std::uint64_t, std::error_code> r) {
    caf::anon_send(handle, committed_atom::value,
                   append_outcome{token, r ? *r : 0, r ? 0 : r.error().value()});
  };
  if (auto err = st.config->log->append(std::move(append)); err) {
    const bool full = err == eventlog::errc::overloaded;
    pc.promise.deliver(refuse(st, full ? outcome::overloaded : outcome::failed,
                              domain::errc::ok, err.message()));
    return;
  }
  st.appending = in_flight{token, std::move(pc), std::move(*decision)};
}

void on_committed(self_ptr self, const append_outcome& done) {
  auto& st = self->state;
  if (!st.appending || st.appending->token != done.token) return;  // programmer error guard
  in_flight f = std::move(*st.appending);
  st.appending.reset();
  if (done.error != 0) {
    const auto ec = eventlog::make_error_code(static_cast<eventlog::errc>(done.error));
    f.command.promise.deliver(refuse(st, ec == eventlog::errc::overloaded ? outcome::overloaded
                                                                          : outcome::failed,
                                     domain::errc::ok, ec.message()));
  } else {
    for (const auto& e : f.events) domain::evolve(st.call, e);
    command_result ok{outcome::accepted, domain::errc::ok, {}, st.root_id, done.first_position,
                      st.call.version, static_cast<std::uint32_t>(f.events.size()), false};
    remember(st, f.command.request.command_id, ok);
    f.command.promise.deliver(std::move(ok));
  }
  process_next(self);
}

void process_next(self_ptr self) {
  auto& st = self->state;
  while (!st.appending && !st.waiting.empty()) {
    pending_command next = std::move(st.waiting.front());
    st.waiting.erase(st.waiting.begin());
    handle(self, std::move(next));
  }
}

bool all_ended(const domain::call_state& c) {
  for (const auto& s : c.segments) {
    if (s.active()) return false;
  }
  return true;
}

void schedule_idle_check(self_ptr self) {
  self->delayed_send(self, self->state.config->idle_timeout, idle_atom::value);
}

}  // namespace

call_actor spawn_call_actor(caf::actor_system& system, std::string root_id, router_actor router,
                            std::shared_ptr<const call_actor_config> config) {
  auto fn = [root_id = std::move(root_id), router, config](self_ptr self)
      -> call_actor::behavior_type {
    auto& st = self->state;
    st.root_id = root_id;
    st.stream = call_stream(root_id);
    st.config = config;
    st.router = router;
    if (!load(st)) {
      self->send(router, passivate_atom::value, st.root_id);
      self->quit(caf::sec::runtime_error);  // the behavior below never runs
    } else {
      st.last_activity_us = config->clock_us();
      schedule_idle_check(self);
    }
    return {
        [self](command_atom, command_request& req) -> caf::result<command_result> {
          auto& st = self->state;
          auto promise = self->make_response_promise<command_result>();
          if (st.appending) {
            if (st.waiting.size() >= st.config->pending_commands_max) {
              return refuse(st, outcome::overloaded, domain::errc::ok,
                            "too many commands queued for this call; retry shortly");
            }
            st.waiting.push_back({std::move(req), promise});
          } else {
            handle(self, {std::move(req), promise});
          }
          return promise;
        },
        [self](committed_atom, const append_outcome& done) { on_committed(self, done); },
        [self](idle_atom) {
          auto& st = self->state;
          const auto idle_us = st.config->clock_us() - st.last_activity_us;
          const bool idle =
              idle_us >= std::chrono::microseconds(st.config->idle_timeout).count();
          if (idle && all_ended(st.call) && !st.appending && st.waiting.empty()) {
            self->send(st.router, passivate_atom::value, st.root_id);
            self->quit();
          } else {
            schedule_idle_check(self);
          }
        }};
  };
  return system.spawn(fn);
}

}  // namespace backline::actors
