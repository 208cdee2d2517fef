#pragma once
// WebSocket sessions: what a route that accepts an upgrade gets.
//
// Contract
// - A WebSocket route is registered with `router::websocket(template, upgrade)`. On a GET with
//   `Upgrade: websocket` the server routes, runs the `before` hook (auth), then calls `upgrade`
//   on the connection's I/O thread. It returns either `ws_handlers` (accept: the server completes
//   the handshake) or a `response` (refuse: e.g. 403 problem+json, sent as plain HTTP).
// - The handlers run on the session's strand (an I/O thread), one at a time; they must not
//   block. `on_open` runs once after the handshake, `on_message` per complete message,
//   `on_close` exactly once when the session ends (whatever the reason).
// - `ws_session::send` and `close` are thread-safe; call them from any thread. The send queue is
//   bounded (`server::options::ws_send_queue_messages_max` / `_bytes_max`): a send that would go
//   over the bound is refused (returns false) and the session is closed with 1008 (policy
//   violation, reason "slow consumer"), because a console that cannot keep up must resync from a
//   snapshot rather than make the server hold memory for it.
// - Keep-alive: the server pings after `ws_ping_interval_ms` without traffic and drops a peer
//   that does not answer within another interval. Incoming messages over
//   `ws_message_bytes_max` close the session with 1009.
// - On server stop every session is closed with 1001 (going away).
// - A session object stays valid while someone holds its shared_ptr; after the session ended,
//   `send` returns false.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/http/types.h"

namespace backline::http {

namespace ws_close {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t policy_violation = 1008;  // used for a slow consumer
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t try_again_later = 1013;
}  // namespace ws_close

class ws_session {
 public:
  ws_session(const ws_session&) = delete;
  ws_session& operator=(const ws_session&) = delete;
  virtual ~ws_session() = default;

  // Queues one message (text frame unless `binary`). False when the session is closing/closed
  // or the queue is full (the session is then being closed with 1008).
  virtual bool send(std::string message, bool binary = false) = 0;
  // Starts the closing handshake with `code`. Idempotent.
  virtual void close(std::uint16_t code = ws_close::normal, std::string reason = {}) = 0;
  // Messages queued and not yet written.
  virtual std::size_t queued() const = 0;
  virtual std::uint64_t id() const = 0;
  // The upgrade request (route, params, identity from the before hook). Valid for the session's
  // life; its body is empty.
  virtual const request& upgrade_request() const = 0;

 protected:
  ws_session() = default;
};

struct ws_handlers {
  std::function<void(const std::shared_ptr<ws_session>&)> on_open;
  std::function<void(const std::shared_ptr<ws_session>&, std::string_view message, bool binary)>
      on_message;
  std::function<void(const std::shared_ptr<ws_session>&, std::uint16_t code)> on_close;
};

// Either the handlers (accept the upgrade) or a response (refuse it).
struct ws_decision {
  bool accept = false;
  ws_handlers handlers;
  response refusal;
  static ws_decision accept_with(ws_handlers h) { return {true, std::move(h), {}}; }
  static ws_decision refuse(response r) { return {false, {}, std::move(r)}; }
};

using ws_upgrade_handler = std::function<ws_decision(request& req)>;

}  // namespace backline::http
