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

// Where a command's reply goes: the requester and its request id. Replies are sent by whoever
// learns the outcome: the actor for outcomes that follow from what is already durable, the log's
// writer thread (from the append's `done` callback) for everything else.
struct reply_address {
  caf::strong_actor_ptr to;
  caf::message_id id;
};

void send_reply(const reply_address& a, command_result r) {
  if (a.to) {
    a.to->enqueue(caf::make_mailbox_element(nullptr, a.id.response_id(), {}, std::move(r)),
                  nullptr);
  }
}

struct call_actor_state {
  static inline const char* name = "call";
  std::string root_id, stream;
  std::shared_ptr<const call_actor_config> config;
  router_actor router;
  // The state includes events whose append is still in flight (pipelining): each decision sees
  // its predecessors' effects. Replies still follow durability (see send_after_log).
  domain::call_state call;
  // Appends not yet done; decremented on the writer thread.
  std::shared_ptr<std::atomic<std::uint32_t>> appending =
      std::make_shared<std::atomic<std::uint32_t>>(0);
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

std::string encode_event(call_actor_state& st, const command_request& req,
                         const domain::event& e, std::uint64_t version) {
  schemas::envelope_meta meta;
  meta.event_id = schemas::make_uuid_v7(e.at_us / 1000, st.random(), st.random());
  meta.stream_kind = "call";
  meta.stream_id = st.root_id;
  meta.stream_version = version;
  meta.occurred_at_us = e.at_us;
  meta.correlation_id = st.root_id;
  meta.causation_id = req.command_id;
  meta.tenant = req.tenant.empty() ? st.config->tenant : req.tenant;
  meta.principal = req.principal;
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

// Sends `r` once everything appended before it is durable: at once when nothing is in flight,
// else through an empty append, which the writer completes after every earlier request.
void send_after_log(call_actor_state& st, const reply_address& to, command_result r) {
  if (st.appending->load(std::memory_order_acquire) == 0) {
    send_reply(to, std::move(r));
    return;
  }
  eventlog::append_request marker;
  marker.done = [to, r](const std::expected<std::uint64_t, std::error_code>&) {
    send_reply(to, r);
  };
  if (auto err = st.config->log->append(std::move(marker)); err) {
    send_reply(to, refuse(st, outcome::overloaded, domain::errc::ok, err.message()));
  }
}

// Appends the events of an accepted command. The writer thread replies once they are durable;
// a failure also stops this actor, whose state then no longer matches the log (crash-only: the
// next command re-activates the conversation from the log).
bool append_events(self_ptr self, const command_request& req, const reply_address& to,
                   const std::vector<domain::event>& events) {
  auto& st = self->state;
  eventlog::append_request append;
  std::uint64_t version = st.call.version;
  for (const auto& e : events) {
    ++version;
    append.events.push_back({st.stream, version, encode_event(st, req, e, version)});
    add_aliases(st, e, append);
  }
  command_result ok{outcome::accepted, domain::errc::ok, {}, st.root_id, 0, version,
                    static_cast<std::uint32_t>(events.size()), false};
  call_actor me = self;
  append.done = [to, ok, me, counter = st.appending](
                    const std::expected<std::uint64_t, std::error_code>& r) mutable {
    counter->fetch_sub(1, std::memory_order_acq_rel);
    if (r) {
      ok.first_position = *r;
      send_reply(to, std::move(ok));
      return;
    }
    send_reply(to, command_result{outcome::failed, domain::errc::ok, r.error().message(),
                                  ok.stream_id});
    caf::anon_send(me, committed_atom::value, append_outcome{0, 0, r.error().value()});
  };
  st.appending->fetch_add(1, std::memory_order_acq_rel);
  if (auto err = st.config->log->append(std::move(append)); err) {
    st.appending->fetch_sub(1, std::memory_order_acq_rel);
    const bool full = err == eventlog::errc::overloaded;
    send_reply(to, refuse(st, full ? outcome::overloaded : outcome::failed, domain::errc::ok,
                          err.message()));
    return false;
  }
  for (const auto& e : events) domain::evolve(st.call, e);
  remember(st, req.command_id, ok);
  return true;
}

// Decides one command and arranges its reply (see send_after_log and append_events).
void handle(self_ptr self, const command_request& req, const reply_address& to) {
  auto& st = self->state;
  if (const command_result* first = recall(st, req.command_id)) {
    command_result again = *first;
    again.replayed = true;
    send_after_log(st, to, std::move(again));
    return;
  }
  if (req.expected_version != 0 && req.expected_version != st.call.version) {
    send_after_log(st, to,
                   refuse(st, outcome::conflict, domain::errc::version_conflict,
                          "the stream is at version " + std::to_string(st.call.version) +
                              ", not " + std::to_string(req.expected_version)));
    return;
  }
  if (st.appending->load(std::memory_order_acquire) >= st.config->pending_commands_max) {
    send_reply(to, refuse(st, outcome::overloaded, domain::errc::ok,
                          "too many commands in flight for this call; retry shortly"));
    return;
  }
  const domain::decide_context ctx{st.config->clock_us(), st.config->directory.get()};
  st.last_activity_us = ctx.now_us;
  auto decision = domain::decide(st.call, req.body, ctx);
  if (!decision) {
    send_after_log(st, to,
                   refuse(st, outcome::rejected, decision.error().code, decision.error().detail));
  } else if (decision->empty()) {
    command_result none{outcome::accepted, domain::errc::ok, {}, st.root_id, 0,
                        st.call.version, 0, false};
    remember(st, req.command_id, none);
    send_after_log(st, to, std::move(none));
  } else {
    append_events(self, req, to, *decision);
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
        [self](command_atom, const command_request& req) -> caf::result<command_result> {
          auto promise = self->make_response_promise<command_result>();
          caf::response_promise& raw = promise;
          handle(self, req, reply_address{raw.next(), raw.id()});
          return promise;  // answered by send_reply, maybe from the log's writer thread
        },
        [self](committed_atom, const append_outcome&) {
          // An append failed: this state holds events the log does not. Stop; the router
          // re-activates the conversation from the log on its next command.
          self->send(self->state.router, passivate_atom::value, self->state.root_id);
          self->quit(caf::sec::runtime_error);
        },
        [self](idle_atom) {
          auto& st = self->state;
          const auto idle_us = st.config->clock_us() - st.last_activity_us;
          const bool idle =
              idle_us >= std::chrono::microseconds(st.config->idle_timeout).count();
          if (idle && all_ended(st.call) && st.appending->load() == 0) {
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
