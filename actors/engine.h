#pragma once
// The engine: the event log, the call center directory and the actor system, wired together.
// `backlined`, the tests and the benchmarks start one with `engine::start`.
//
// Startup: open the log in `data_dir`, load the directory TOML, record it in the log as a
// `directory_replaced` event when it differs from the last one recorded (the directory is kept
// as events), spawn the router. Call state is recovered lazily: each call actor folds its own
// stream when its conversation is next addressed. Shutdown (destructor): stop the actors, then
// drain and close the log.

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "actors/messages.h"

namespace backline::eventlog {
class log;
enum class durability;
}  // namespace backline::eventlog
namespace backline::domain {
struct directory;
}

namespace backline::actors {

struct engine_options {
  std::string data_dir = "var";
  bool fsync_per_batch = false;            // false: WAL without sync
  std::string directory_file;              // TOML; empty: an empty directory (no agents)
  std::function<std::int64_t()> clock_us;  // default: the system clock
  // Routing timers on virtual time (tests): none is armed; after moving `clock_us`, send
  // routing() a tick_atom with generation 0.
  bool virtual_timers = false;
  std::size_t scheduler_threads = 0;  // 0: one per core but one (kept for the log writer)
  // "stealing" (CAF's default) or "sharing" (one queue; threads sleep when idle).
  std::string scheduler_policy = "stealing";
  std::chrono::milliseconds idle_timeout{30'000};
  std::size_t log_queue_requests_max = 65'536;
  std::int64_t ring_timeout_ms = 20'000;           // routing: how long an offer rings
  std::size_t routing_steps_in_flight_max = 4096;  // routing: beyond, requests are refused
};

class engine {
 public:
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;
  ~engine();

  // Errors are sentences for the operator (what failed and what to do).
  static std::expected<std::unique_ptr<engine>, std::string> start(engine_options options);

  caf::actor_system& system();
  router_actor router() const;
  // The routing actor (actors/routing_actor.h): internal and customer calls, offers, callbacks.
  routing_actor routing() const;
  eventlog::log& log();
  const domain::directory& directory() const;
  // The voice call created with vendorCallKey `key` (the log's alias, durable), if any; the last
  // one when several calls were created with it.
  std::optional<std::string> voice_call_of_vendor_key(std::string_view key);
  std::int64_t now_us() const;

  // Sends a command and waits for its outcome (for the demo, tools and tests; an actor would
  // use request/then). A CAF error (e.g. the call actor went down) comes back as `failed`.
  // Commands take the same path as with `submit` (what routing must see goes through it).
  command_result execute(command_request request,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // A command from outside as a FlatBuffers `Command` buffer (schemas/command.fbs): verified
  // first; a buffer that fails verification is rejected (invalid_argument) and appends nothing.
  command_result execute_encoded(std::string_view command_buffer,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  command_result execute(agent_request request,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));
  command_result execute(queue_request request,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Sends a routing request and waits for its answer. A CAF error comes back as `refused` with
  // the error in `detail`.
  route_result route(domain::routing_request request,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Asynchronous forms, for callers that must not block (the HTTP API's handlers). `done` is
  // called exactly once, on one of the engine's actor threads and never inside `submit`, with
  // the outcome; a timeout or a CAF error comes back as `failed` (commands) or `refused`
  // (routing) with the cause in `detail`. `done` must not block. Commands that routing must
  // see (every agent command; end_call, transfers, merges, wrap_up)
  // go through the routing actor so its view folds their events; the other call commands and
  // queue commands go straight to the router.
  using command_done = std::function<void(command_result)>;
  using route_done = std::function<void(route_result)>;
  void submit(command_request request, command_done done,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void submit(agent_request request, command_done done,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void submit(queue_request request, command_done done,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void submit(domain::routing_request request, route_done done,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The agent's console answers an offer (routing actor `accept` / `decline`).
  void answer_offer(bool accept, std::string agent_id, std::string offer_id, command_done done,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

  struct impl;

 private:
  explicit engine(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// A fresh UUIDv7 as text, for ids the shell draws (voice calls, sessions, commands).
std::string new_id(std::int64_t unix_us);

}  // namespace backline::actors
