#pragma once
// The request and response the HTTP server hands to route handlers, and the `responder` a
// handler answers through. Plain values: no Boost.Beast types leak out of api/http/.
//
// Contract
// - A `request` is built by the server on the connection's I/O thread. The handler gets it by
//   reference; the reference is valid until the handler returns. A handler that answers later
//   moves (or copies) out of it what it still needs.
// - A `responder` is a cheap, copyable handle (one shared state). It may be called from ANY
//   thread, at most once in effect: the first call wins, later calls are ignored (and return
//   false). The response is posted onto the connection's strand and written there. When the
//   handler's deadline passed first (the client got 504), when the client went away or when the
//   server stopped, the response is dropped. Dropping every copy without calling it releases the
//   request's in-flight slot; the client then gets 504 at the deadline.
// - Header names in `request::headers` are lower-case; values are as received.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace backline::http {

enum class method : std::uint8_t { get, head, post, put, patch, del, options, other };
std::string_view method_name(method m);  // "GET", "DELETE", ...; "OTHER" for other

// Ordered name -> value pairs (path parameters, query parameters, headers). Small; linear search.
class params {
 public:
  // The first value of `name`, or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
  // The first value of `name`, or `fallback`.
  std::string_view get_or(std::string_view name, std::string_view fallback) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  void add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  std::size_t size() const { return items_.size(); }
  void clear() { items_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Who is calling, as established by the server's `before` hook (auth). Empty when no hook ran
// (public routes, or no hook installed). The idempotency store is scoped by tenant + subject.
struct identity {
  std::string tenant;   // the call center (JWT `iss`)
  std::string subject;  // the principal (JWT `sub`)
  std::vector<std::string> roles;
  std::shared_ptr<const void> extra;  // whatever the auth layer wants to hand to handlers
  bool has_role(std::string_view role) const;
};

struct request {
  http::method method = method::other;
  std::string target;  // as sent: path and query, still percent-encoded
  std::string path;    // the path part of the target, still percent-encoded
  std::string route;   // the matched template, e.g. "/v1/calls/{id}/hold" (empty when none)
  params path_params;  // percent-decoded, by template name: {id} -> "id"
  params query;        // percent-decoded ('+' is a space); repeated names keep every value
  params headers;      // lower-case names
  std::string body;
  std::string remote;     // "address:port" of the peer
  identity auth;          // filled by the before hook
  unsigned version = 11;  // 10 for HTTP/1.0, 11 for HTTP/1.1

  // The first value of header `name` (any case), or "" when absent.
  std::string_view header(std::string_view name) const;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  params headers;  // extra headers (Retry-After, Location, ETag, ...)

  // `j.dump()` with content type application/json.
  static response json(int status, const nlohmann::json& j);
  // A plain text body (text/plain; charset=utf-8 unless given).
  static response text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
};

namespace detail {
struct pending;  // defined in server_impl.h
}

class responder {
 public:
  responder() = default;
  explicit responder(std::shared_ptr<detail::pending> state) : state_(std::move(state)) {}

  // Answers the request. Thread-safe; the first call wins. Returns false when the request was
  // already answered, timed out, or the connection is gone (the response is then dropped).
  bool operator()(response r) const;
  // True once the request was answered or timed out.
  bool done() const;

 private:
  std::shared_ptr<detail::pending> state_;
};

}  // namespace backline::http
