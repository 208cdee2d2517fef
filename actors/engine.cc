#include "actors/engine.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "actors/call_actor.h"
#include "actors/directory_loader.h"
#include "actors/domain/directory.h"
#include "actors/router.h"
#include "actors/routing_actor.h"
#include "eventlog/log.h"
#include "schemas/codec.h"

namespace backline::actors {
// A gateway actor makes the requests of callers that must not block (`engine::submit`). Its
// requests carry no CAF timeout: each one would put an entry into CAF's timer thread (its mutex
// and a wake of that thread) and bring a stale timeout message back when it expired, for every
// request (8 us of the timer thread per write in api_bench). The gateway times its requests out
// itself, in one sweep every `sweep_interval` while any of them waits.
struct gateway_state {
  using clock_type = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds sweep_interval{100};
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::function<void()>> waiting;  // id -> answer "timed out"
  std::priority_queue<std::pair<clock_type::time_point, std::uint64_t>,
                      std::vector<std::pair<clock_type::time_point, std::uint64_t>>, std::greater<>>
      deadlines;  // of waiting requests, and of answered ones until they pass
  bool sweeping = false;
};
using gateway_actor = caf::stateful_actor<gateway_state>;

struct gateway_job {
  std::function<void(gateway_actor*)> run;
};
}  // namespace backline::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(backline::actors::gateway_job)

namespace backline::actors {

struct engine::impl {
  engine_options options;
  std::unique_ptr<eventlog::log> log;
  std::shared_ptr<const domain::directory> directory;
  std::unique_ptr<caf::actor_system_config> config;
  std::unique_ptr<caf::actor_system> system;
  router_actor router;
  routing_actor routing;
  // Where the asynchronous `submit`s make their requests from (round robin).
  std::vector<caf::actor> gateways;
  std::atomic<std::size_t> next_gateway{0};
};

namespace {

std::int64_t system_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Answers the requests whose time is up; sweeps again later while any request waits.
void sweep_gateway(gateway_actor* self) {
  auto& st = self->state;
  const auto now = gateway_state::clock_type::now();
  while (!st.deadlines.empty() && st.deadlines.top().first <= now) {
    const auto it = st.waiting.find(st.deadlines.top().second);
    st.deadlines.pop();
    if (it == st.waiting.end()) continue;  // answered in time
    auto timed_out = std::move(it->second);
    st.waiting.erase(it);
    timed_out();
  }
  if (st.waiting.empty()) {
    st.deadlines = {};
    st.sweeping = false;
    return;
  }
  self->delayed_send(self, gateway_state::sweep_interval, sweep_atom::value);
}

// Appends one event and waits until it is durable.
std::error_code append_and_wait(eventlog::log& log, eventlog::pending_event e) {
  std::promise<std::error_code> done;
  auto result = done.get_future();
  eventlog::append_request req;
  req.events.push_back(std::move(e));
  req.done = [&done](std::expected<std::uint64_t, std::error_code> r) {
    done.set_value(r ? std::error_code{} : r.error());
  };
  if (auto err = log.append(std::move(req))) return err;
  return result.get();
}

// The directory is kept as events: record it when it differs from the last one recorded.
std::expected<void, std::string> record_directory(eventlog::log& log, const domain::directory& dir,
                                                  std::int64_t now_us) {
  const std::string stream = "directory/" + dir.call_center;
  const std::uint64_t version = log.stream_version(stream);
  if (version > 0) {
    auto last = log.read_stream(stream, version, 1);
    if (last && !last->empty()) {
      auto d = schemas::decode(last->front().envelope);
      if (d && std::holds_alternative<domain::directory>(d->payload) &&
          std::get<domain::directory>(d->payload) == dir) {
        return {};
      }
    }
  }
  schemas::envelope_meta meta;
  std::random_device rd;
  meta.event_id = schemas::make_uuid_v7(now_us / 1000, rd(), rd());
  meta.stream_kind = "directory";
  meta.stream_id = dir.call_center;
  meta.stream_version = version + 1;
  meta.occurred_at_us = now_us;
  meta.correlation_id = dir.call_center;
  meta.causation_id = "directory-load";
  meta.tenant = dir.call_center;
  meta.principal = "backlined";
  if (auto err = append_and_wait(log, {stream, version + 1, schemas::encode(meta, dir)})) {
    return std::unexpected("could not record the directory in the log: " + err.message());
  }
  return {};
}

}  // namespace

std::expected<std::unique_ptr<engine>, std::string> engine::start(engine_options options) {
  auto p = std::make_unique<impl>();
  if (!options.clock_us) options.clock_us = system_clock_us;
  p->options = options;
  domain::directory dir;
  if (!options.directory_file.empty()) {
    auto loaded = load_directory_file(options.directory_file);
    if (!loaded) return std::unexpected(loaded.error().message);
    dir = std::move(*loaded);
  }
  eventlog::options log_options;
  log_options.dir = options.data_dir;
  log_options.durability_mode = options.fsync_per_batch ? eventlog::durability::fsync_per_batch
                                                        : eventlog::durability::wal_no_sync;
  log_options.queue_requests_max = options.log_queue_requests_max;
  auto log = eventlog::log::open(log_options);
  if (!log) {
    return std::unexpected("cannot open the event log in '" + options.data_dir +
                           "': " + log.error().message());
  }
  p->log = std::move(*log);
  if (auto ok = record_directory(*p->log, dir, options.clock_us()); !ok) {
    return std::unexpected(ok.error());
  }
  p->directory = std::make_shared<const domain::directory>(std::move(dir));
  p->config = std::make_unique<caf::actor_system_config>();
  // One core is left to the log writer: on a small machine a second scheduler thread only
  // competes with it (measured in bench/RESULTS.md).
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  p->config->set("scheduler.max-threads", options.scheduler_threads > 0
                                              ? options.scheduler_threads
                                              : std::max<std::size_t>(1, cores - 1));
  p->config->set("scheduler.policy", options.scheduler_policy == "stealing" ? caf::atom("stealing")
                                                                            : caf::atom("sharing"));
  p->config->set("logger.verbosity", caf::atom("quiet"));
  p->system = std::make_unique<caf::actor_system>(*p->config);
  auto call = std::make_shared<call_actor_config>();
  call->stream.log = p->log.get();
  call->stream.clock_us = options.clock_us;
  call->stream.tenant = p->directory->call_center;
  call->directory = p->directory;
  call->idle_timeout = options.idle_timeout;
  auto streams = std::make_shared<stream_actors_config>();
  streams->stream = call->stream;
  streams->directory = p->directory;
  auto rc = std::make_shared<router_config>();
  rc->call = std::move(call);
  rc->streams = std::move(streams);
  p->router = spawn_router(*p->system, std::move(rc));
  auto routing = std::make_shared<routing_actor_config>();
  routing->log = p->log.get();
  routing->directory = p->directory;
  routing->clock_us = options.clock_us;
  routing->tenant = p->directory->call_center;
  routing->ring_timeout_ms = options.ring_timeout_ms;
  routing->virtual_timers = options.virtual_timers;
  routing->steps_in_flight_max = options.routing_steps_in_flight_max;
  p->routing = spawn_routing_actor(*p->system, p->router, std::move(routing));
  for (std::size_t i = 0; i < 2; ++i) {
    p->gateways.push_back(p->system->spawn([](gateway_actor* self) -> caf::behavior {
      return {[self](const gateway_job& job) { job.run(self); },
              [self](sweep_atom) { sweep_gateway(self); }};
    }));
  }
  return std::unique_ptr<engine>(new engine(std::move(p)));
}

engine::engine(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

engine::~engine() {
  {
    caf::scoped_actor self{*impl_->system};
    // The routing actor first: it sends commands to the router.
    for (const auto& g : impl_->gateways) self->send_exit(g, caf::exit_reason::user_shutdown);
    self->send_exit(impl_->routing, caf::exit_reason::user_shutdown);
    self->wait_for(impl_->routing);
    self->request(impl_->router, std::chrono::seconds(10), shutdown_atom::value)
        .receive([](caf::atom_value) {}, [](const caf::error&) {});
  }
  impl_->gateways.clear();
  impl_->routing = nullptr;
  impl_->router = nullptr;
  // Commit what is queued and run its callbacks (replies) while the actor system still exists;
  // an actor that appends after this gets errc::closed. Then stop the actors, then the log.
  impl_->log->stop_appends();
  impl_->system.reset();
  impl_->log.reset();
}

caf::actor_system& engine::system() {
  return *impl_->system;
}
router_actor engine::router() const {
  return impl_->router;
}
routing_actor engine::routing() const {
  return impl_->routing;
}
eventlog::log& engine::log() {
  return *impl_->log;
}
const domain::directory& engine::directory() const {
  return *impl_->directory;
}
std::optional<std::string> engine::voice_call_of_vendor_key(std::string_view key) {
  auto stream = log().resolve_alias(vendor_call_key_alias(key));
  if (!stream || !stream->starts_with("call/")) return std::nullopt;
  return stream->substr(5);
}
std::int64_t engine::now_us() const {
  return impl_->options.clock_us();
}

namespace {
// Whether the routing actor must fold this call command's events (see engine.h `submit`).
bool routing_must_see(const domain::command_body& body) {
  return std::holds_alternative<domain::cmd::end_call>(body) ||
         std::holds_alternative<domain::cmd::blind_transfer>(body) ||
         std::holds_alternative<domain::cmd::complete_warm_transfer>(body) ||
         std::holds_alternative<domain::cmd::merge_conference>(body) ||
         std::holds_alternative<domain::cmd::wrap_up>(body);
}

template <class Handle, class Request>
command_result request_and_wait(caf::actor_system& system, const Handle& target, Request request,
                                std::chrono::milliseconds timeout) {
  caf::scoped_actor self{system};
  command_result out{outcome::failed, domain::errc::ok, "no reply"};
  self->request(target, timeout, command_atom::value, std::move(request))
      .receive([&](const command_result& r) { out = r; },
               [&](const caf::error& e) {
                 out.detail = "the engine did not answer: " + self->system().render(e);
               });
  return out;
}
}  // namespace

// The same paths as `submit`: what routing must see goes through the routing actor.
command_result engine::execute(command_request request, std::chrono::milliseconds timeout) {
  if (routing_must_see(request.body)) {
    return request_and_wait(*impl_->system, impl_->routing, std::move(request), timeout);
  }
  return request_and_wait(*impl_->system, impl_->router, std::move(request), timeout);
}
command_result engine::execute_encoded(std::string_view command_buffer,
                                       std::chrono::milliseconds timeout) {
  auto decoded = schemas::decode_command(command_buffer);
  if (!decoded) {
    return command_result{outcome::rejected, domain::errc::invalid_argument,
                          "the command buffer failed verification (" + decoded.error().message() +
                              "): send a schemas/command.fbs Command with identifier BLCM"};
  }
  auto& [meta, body] = *decoded;
  return execute(command_request{meta.command_id, meta.expected_version, meta.tenant,
                                 meta.principal, std::move(body)},
                 timeout);
}

command_result engine::execute(agent_request request, std::chrono::milliseconds timeout) {
  return request_and_wait(*impl_->system, impl_->routing, std::move(request), timeout);
}
command_result engine::execute(queue_request request, std::chrono::milliseconds timeout) {
  return request_and_wait(*impl_->system, impl_->router, std::move(request), timeout);
}

route_result engine::route(domain::routing_request request, std::chrono::milliseconds timeout) {
  caf::scoped_actor self{*impl_->system};
  route_result out{domain::route_outcome::refused, {}, {}, {}, {}, domain::errc::ok, "no reply"};
  self->request(impl_->routing, timeout, route_atom::value, std::move(request))
      .receive([&](const route_result& r) { out = r; },
               [&](const caf::error& e) {
                 out.detail = "the routing actor did not answer: " + self->system().render(e);
               });
  return out;
}

namespace {

// Requests `target` from a gateway actor; `done` gets the reply, or `failure(detail)` (an
// error, or no reply within `timeout`), once.
template <class Handle, class Reply, class... Args>
void request_from_gateway(engine::impl& p, Handle target, std::chrono::milliseconds timeout,
                          std::function<void(Reply)> done,
                          std::function<Reply(std::string)> failure, Args... args) {
  auto& gateway =
      p.gateways[p.next_gateway.fetch_add(1, std::memory_order_relaxed) % p.gateways.size()];
  // The reply, the error and the sweep share the caller's callbacks (no copy of them each).
  struct callbacks {
    std::function<void(Reply)> done;
    std::function<Reply(std::string)> failure;
  };
  auto job = [target = std::move(target), timeout,
              cb = std::make_shared<callbacks>(callbacks{std::move(done), std::move(failure)}),
              args = std::make_tuple(std::move(args)...)](gateway_actor* self) {
    auto& st = self->state;
    const std::uint64_t id = st.next_id++;
    st.waiting.emplace(id, [cb, timeout] {
      cb->done(cb->failure(fmt::format("the engine did not answer within {} ms", timeout.count())));
    });
    st.deadlines.emplace(gateway_state::clock_type::now() + timeout, id);
    if (!st.sweeping) {
      st.sweeping = true;
      self->delayed_send(self, gateway_state::sweep_interval, sweep_atom::value);
    }
    std::apply(
        [&](auto&... a) {
          self->request(target, caf::infinite, a...)
              .then(
                  [self, id, cb](Reply& r) {
                    if (self->state.waiting.erase(id) > 0) cb->done(std::move(r));
                  },
                  [self, id, cb](caf::error& e) {
                    if (self->state.waiting.erase(id) == 0) return;
                    cb->done(cb->failure("the engine did not answer: " + self->system().render(e)));
                  });
        },
        args);
  };
  caf::anon_send(gateway, gateway_job{std::move(job)});
}

command_result command_failure(std::string detail) {
  return command_result{outcome::failed, domain::errc::ok, std::move(detail)};
}

}  // namespace

void engine::submit(command_request request, command_done done, std::chrono::milliseconds timeout) {
  if (routing_must_see(request.body)) {
    request_from_gateway<routing_actor, command_result>(*impl_, impl_->routing, timeout,
                                                        std::move(done), command_failure,
                                                        command_atom::value, std::move(request));
  } else {
    request_from_gateway<router_actor, command_result>(*impl_, impl_->router, timeout,
                                                       std::move(done), command_failure,
                                                       command_atom::value, std::move(request));
  }
}
void engine::submit(agent_request request, command_done done, std::chrono::milliseconds timeout) {
  request_from_gateway<routing_actor, command_result>(*impl_, impl_->routing, timeout,
                                                      std::move(done), command_failure,
                                                      command_atom::value, std::move(request));
}
void engine::submit(queue_request request, command_done done, std::chrono::milliseconds timeout) {
  request_from_gateway<router_actor, command_result>(*impl_, impl_->router, timeout,
                                                     std::move(done), command_failure,
                                                     command_atom::value, std::move(request));
}
void engine::submit(domain::routing_request request, route_done done,
                    std::chrono::milliseconds timeout) {
  request_from_gateway<routing_actor, route_result>(
      *impl_, impl_->routing, timeout, std::move(done),
      [](std::string detail) {
        return route_result{
            domain::route_outcome::refused, {}, {}, {}, {}, domain::errc::ok, std::move(detail)};
      },
      route_atom::value, std::move(request));
}
void engine::answer_offer(bool accept, std::string agent_id, std::string offer_id,
                          command_done done, std::chrono::milliseconds timeout) {
  if (accept) {
    request_from_gateway<routing_actor, command_result>(
        *impl_, impl_->routing, timeout, std::move(done), command_failure, accept_atom::value,
        std::move(agent_id), std::move(offer_id));
  } else {
    request_from_gateway<routing_actor, command_result>(
        *impl_, impl_->routing, timeout, std::move(done), command_failure, decline_atom::value,
        std::move(agent_id), std::move(offer_id));
  }
}

std::string new_id(std::int64_t unix_us) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return schemas::to_string(schemas::make_uuid_v7(unix_us / 1000, random(), random()));
}

}  // namespace backline::actors
