#pragma once
// The router: method + path template -> handler.
//
// Templates are absolute paths whose segments are literals or whole-segment parameters:
// "/v1/calls/{id}/hold", "/telephony/v1/voiceCalls/{id}". Matching is per segment on the
// still-encoded path, then each parameter is percent-decoded (so "%2F" inside an id does not
// split segments). Among the templates that match a path, a literal segment beats a parameter
// at the first position where they differ ("/voiceCalls/messages" beats "/voiceCalls/{id}"),
// and the most specific template that has the request's method wins. No template matches ->
// 404; templates match but none has the method -> 405 with Allow listing their methods.
// Trailing slashes are significant; "//" never matches.
//
// Contract
// - Routes are added before the server starts (REQUIRES: not started); afterwards the router is
//   read-only and `match` is safe from any thread.
// - A malformed template or a duplicate (method, template) is a programmer error: abort with
//   a message naming it.
// - Handlers run on a connection's I/O thread and must not block: they start work (send a
//   command to an actor) and answer through the responder, now or later, from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/types.h"
#include "api/http/websocket.h"

namespace backline::http {

using handler = std::function<void(request& req, responder respond)>;

struct route_options {
  // Run the server's `before` hook (auth). False for public routes (/livez, /readyz, /metrics).
  bool authenticate = true;
  // For POST: honour `Idempotency-Key` through the server's idempotency store.
  bool idempotency = true;
  // For POST/PUT/PATCH with a non-empty body: require application/json (else 415).
  bool json_body = true;
  // The handler must answer within this; 0 = the server's `handler_timeout_ms`. Then 504.
  std::uint32_t timeout_ms = 0;
};

struct route {
  method verb = method::get;
  std::string path_template;
  std::vector<std::string> segments;  // "{id}" kept as is for parameters
  handler on_request;                 // empty for WebSocket routes
  ws_upgrade_handler on_upgrade;      // set for WebSocket routes
  route_options options;
  std::size_t index = 0;  // position in routes(), stable
};

class router {
 public:
  enum class outcome { found, not_found, method_not_allowed, bad_path };
  struct match_result {
    outcome result = outcome::not_found;
    const route* matched = nullptr;
    params path_params;  // decoded
    std::string allow;   // for method_not_allowed: "GET, POST"
  };

  router() = default;
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  void add(method verb, std::string_view path_template, handler h, route_options o = {});
  // A WebSocket route: GET with Upgrade: websocket. A GET without the upgrade gets 426.
  void websocket(std::string_view path_template, ws_upgrade_handler h, route_options o = {});

  // `path` is the target's path part, still percent-encoded. bad_path: a parameter's
  // percent-encoding is invalid (answer 400).
  match_result match(method verb, std::string_view path) const;

  const std::vector<std::unique_ptr<route>>& routes() const { return routes_; }
  void freeze() { frozen_ = true; }

 private:
  void insert(std::unique_ptr<route> r);
  std::vector<std::unique_ptr<route>> routes_;
  bool frozen_ = false;
};

// Percent-decodes `in` ('+' -> ' ' when `plus_is_space`). nullopt on a bad escape or a NUL.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);
// Splits "a=1&b=x%20y" into decoded pairs. False on a bad escape.
bool parse_query(std::string_view query, params& out);
// Parses "GET" etc.; method::other for anything else.
method parse_method(std::string_view name);

}  // namespace backline::http
