#pragma once
// The HTTP/1.1 + WebSocket server: Boost.Beast, async, keep-alive, bounded everywhere.
//
// Threads
// - The server runs its own io_context on `options::io_threads` threads (never inside CAF
//   actors). Each connection lives on its own strand; its handlers (route handlers, the before
//   hook, the upgrade handler, WebSocket callbacks, the readiness probe, the access log) run
//   there, one at a time, and must not block.
// - A route handler answers through its `responder` (types.h), from any thread, now or later.
//   The engine's commands answer from the log's writer thread after durability: the responder
//   posts the response back onto the connection's strand.
//
// Request pipeline (each step may answer with a problem+json and end the request)
//   read header (431 over header_bytes_max, 400 malformed) -> `Expect: 100-continue` -> read
//   body (413 over body_bytes_max) -> route (404, 405 + Allow, 400 bad escape; 426 on a
//   WebSocket route without Upgrade) -> 415 (POST/PUT/PATCH, non-empty body, not JSON) ->
//   in-flight slot (503 + Retry-After over in_flight_max) -> `before` hook (auth: 401/403) ->
//   Idempotency-Key (POST; replay, 409 in flight, 422 reused; see idempotency.h) -> handler
//   (504 after its timeout; 500 if it throws).
//   Malformed requests and 413/431 close the connection after the answer; everything else
//   keeps it alive unless the client asked to close or the server is stopping.
// - Beyond `connections_max` open connections, a new connection gets 503 + Retry-After and is
//   closed (without reading its request); the server keeps serving the others and accepts again
//   as soon as connections close.
//
// Built-in routes: GET /livez (200 "ok"), GET /readyz (200/503 + named checks), GET /metrics
// (Prometheus text), GET /openapi.json. /livez, /readyz and /metrics skip the before hook.
//
// Errors: start() returns an error code (bad address, bind/listen failure, already started);
// nothing else throws across this interface. A handler that throws gets its request a 500.
//
// Lifecycle: construct, add routes and hooks, start(), ..., stop() (or destroy). REQUIRES:
// routes and hooks are set before start(); stop() is not called from one of the server's own
// threads.

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "api/http/idempotency.h"
#include "api/http/metrics.h"
#include "api/http/router.h"
#include "api/http/types.h"

namespace backline::http {

enum class errc : int {
  ok = 0,
  bad_address = 1,  // options::address is not an IP address
  bind_failed = 2,  // bind or listen failed (port in use, permission)
  already_started = 3,
  bad_options = 4,  // e.g. io_threads == 0
};
const std::error_category& http_category();
inline std::error_code make_error_code(errc e) {
  return {static_cast<int>(e), http_category()};
}

struct options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: an ephemeral port; start() returns the bound one
  unsigned io_threads = 1;

  std::size_t connections_max = 10'000;  // open connections, WebSocket sessions included
  std::size_t refusals_max = 64;         // connections being refused at once; beyond: closed
  std::size_t in_flight_max = 10'000;    // requests between routing and their response
  std::size_t header_bytes_max = 16 * 1024;
  std::size_t body_bytes_max = 1024 * 1024;

  std::uint32_t idle_timeout_ms = 30'000;     // waiting for a request's header (keep-alive)
  std::uint32_t read_timeout_ms = 10'000;     // reading a body once the header arrived
  std::uint32_t write_timeout_ms = 10'000;    // writing a response
  std::uint32_t handler_timeout_ms = 10'000;  // default handler deadline -> 504
  std::uint32_t drain_timeout_ms = 5'000;     // stop(): time left to in-flight requests
  std::uint32_t retry_after_s = 1;            // Retry-After on 503

  std::size_t idempotency_entries_max = 100'000;
  std::uint32_t idempotency_ttl_s = 24 * 3600;

  std::size_t ws_sessions_max = 1'000;
  std::size_t ws_send_queue_messages_max = 1'024;
  std::size_t ws_send_queue_bytes_max = 4 * 1024 * 1024;
  std::size_t ws_message_bytes_max = 64 * 1024;  // incoming; larger -> close 1009
  std::uint32_t ws_ping_interval_ms = 15'000;
};

// The before hook: runs on the I/O thread for every route with `authenticate` (after routing,
// before idempotency and the handler). Return a response to refuse the request (401/403
// problem+json, e.g. `unauthorized("token expired")`), or nullopt to go on; it may fill
// `req.auth` (tenant, subject, roles), which the idempotency store and the handler then see.
using before_hook = std::function<std::optional<response>(request& req)>;

struct readiness_check {
  std::string name;  // "log", "projections", "kafka"
  bool ok = false;
  std::string detail;
};
// Runs on an I/O thread for each GET /readyz: quick and non-blocking (read atomics).
using readiness_probe = std::function<std::vector<readiness_check>()>;

// One line of the access log, after the response was written (or failed to be).
struct access_record {
  std::string_view method;
  std::string_view target;  // as sent (may hold ids: this is a log, not a metric label)
  std::string_view route;   // the template, "" when unmatched
  int status = 0;
  std::uint64_t duration_us = 0;  // from the complete request to the written response
  std::size_t request_body_bytes = 0;
  std::size_t response_body_bytes = 0;
  std::string_view remote;
  std::string_view tenant, subject;  // from the before hook, "" when none
};
using access_log = std::function<void(const access_record&)>;

namespace detail {
struct core;
}

class server {
 public:
  // `registry` is shared with the rest of the engine when given; else the server makes one.
  explicit server(options opts, std::shared_ptr<metrics::registry> registry = nullptr);
  ~server();  // stop()
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  router& routes();
  void set_before(before_hook hook);
  void set_access_log(access_log log);
  void set_readiness(readiness_probe probe);

  // Binds, listens and starts the I/O threads. Returns the bound port.
  std::expected<std::uint16_t, std::error_code> start();
  // Graceful: stops accepting, closes idle keep-alive connections and WebSocket sessions
  // (1001), lets in-flight requests answer for up to drain_timeout_ms, then closes the rest and
  // joins the threads. Responses that arrive later are dropped. Idempotent.
  void stop();

  std::uint16_t port() const;  // 0 before start()
  metrics::registry& metrics();
  idempotency_store& idempotency();
  std::size_t connections() const;  // open connections, WebSocket sessions included
  std::size_t in_flight() const;

 private:
  std::shared_ptr<detail::core> core_;
};

}  // namespace backline::http

template <>
struct std::is_error_code_enum<backline::http::errc> : std::true_type {};
