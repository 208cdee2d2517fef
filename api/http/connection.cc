// One HTTP connection: read a request, route it, run the pipeline of server.h, write the
// response, repeat (keep-alive). Everything here runs on the connection's strand, except
// `responder::operator()`, which may run on any thread and posts back onto the strand.
//
//   reading --complete request--> handling --response--> writing --keep-alive--> reading
//      |                             |  (handler, or an early answer)   |
//      +--error/EOF--> closed        +--timeout: 504                   +--close--> closed

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "api/http/problem.h"
#include "api/http/server_impl.h"

namespace backline::http {

bool responder::operator()(response r) const {
  if (!state_ || !state_->claim(&r)) return false;
  auto& st = *state_;
  return st.srv->post_guarded([&] {
    auto conn = st.conn.lock();
    if (!conn) return;
    boost::asio::post(conn->executor(), [conn, seq = st.seq, r = std::move(r)]() mutable {
      conn->deliver(seq, std::move(r));
    });
  });
}

bool responder::done() const {
  return !state_ || state_->done.load();
}

namespace detail {

namespace {

std::string_view sv(boost::beast::string_view s) {
  return {s.data(), s.size()};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_json_media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  auto media = lower(content_type.substr(0, semi));
  media.erase(std::remove(media.begin(), media.end(), ' '), media.end());
  return media == "application/json" ||
         (media.starts_with("application/") && media.ends_with("+json"));
}

method from_beast(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get:
      return method::get;
    case bhttp::verb::head:
      return method::head;
    case bhttp::verb::post:
      return method::post;
    case bhttp::verb::put:
      return method::put;
    case bhttp::verb::patch:
      return method::patch;
    case bhttp::verb::delete_:
      return method::del;
    case bhttp::verb::options:
      return method::options;
    default:
      return method::other;
  }
}

bool valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > 255) return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

connection::connection(std::shared_ptr<core> c, tcp::socket socket, connection_slot slot)
    : core_(std::move(c)),
      stream_(std::move(socket)),
      timer_(stream_.get_executor()),
      slot_(std::move(slot)) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

connection::~connection() {
  if (id_ != 0) core_->remove_session(id_);
}

void connection::start() {
  id_ = core_->add_session(weak_from_this());
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void connection::shutdown() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->close_after_ = true;
    // An idle keep-alive connection (no byte of a next request) is closed now; one inside a
    // request finishes it first (its response says Connection: close).
    if (self->phase_ == phase::reading && self->parser_ && !self->parser_->got_some() &&
        self->buffer_.size() == 0) {
      self->close_now();
    }
  });
}

void connection::force_close() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

void connection::close_now() {
  if (phase_ == phase::closed) return;
  phase_ = phase::closed;
  timer_.cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

void connection::do_read() {
  if (close_after_ || core_->stopping.load()) {
    close_now();
    return;
  }
  phase_ = phase::reading;
  parser_.emplace();
  parser_->header_limit(
      std::uint32_t(std::min<std::size_t>(core_->opts.header_bytes_max, UINT32_MAX)));
  parser_->body_limit(core_->opts.body_bytes_max);
  stream_.expires_after(std::chrono::milliseconds(core_->opts.idle_timeout_ms));
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void connection::on_header(beast::error_code ec) {
  if (ec) return on_read_error(ec);
  if (parser_->is_done()) return on_request();
  auto& msg = parser_->get();
  auto expect = msg[bhttp::field::expect];
  if (beast::iequals(expect, "100-continue")) {
    static const std::string continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(std::chrono::milliseconds(core_->opts.write_timeout_ms));
    net::async_write(stream_, net::buffer(continue_100),
                     [self = shared_from_this()](beast::error_code e, std::size_t) {
                       if (e) return self->close_now();
                       self->read_body();
                     });
    return;
  }
  read_body();
}

void connection::read_body() {
  stream_.expires_after(std::chrono::milliseconds(core_->opts.read_timeout_ms));
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void connection::on_body(beast::error_code ec) {
  if (ec) return on_read_error(ec);
  on_request();
}

void connection::on_read_error(beast::error_code ec) {
  if (phase_ == phase::closed) return;
  // The peer went away, the connection idled out, or stop() closed it: nothing to answer.
  if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
      ec == net::error::operation_aborted || ec == net::error::connection_reset ||
      ec == bhttp::error::partial_message || ec == net::error::bad_descriptor) {
    return close_now();
  }
  route_ = nullptr;
  req_ = request{};
  req_.method = method::other;
  start_ = clock::now();
  seq_++;
  keep_alive_ = false;
  close_after_ = true;
  pending_.reset();
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    core_->bad_request_header->inc();
    auto r = problem(431, problem_types::header_too_large, "Request header fields too large",
                     fmt::format("the request header is over the limit of {} bytes",
                                 core_->opts.header_bytes_max));
    return send(std::move(r));
  }
  if (ec == bhttp::error::body_limit) {
    core_->bad_request_body->inc();
    return send(payload_too_large(core_->opts.body_bytes_max));
  }
  core_->bad_request_malformed->inc();
  send(bad_request(fmt::format("the request could not be parsed ({})", ec.message())));
}

bool connection::build_request() {
  auto& msg = parser_->get();
  req_ = request{};
  req_.method = from_beast(msg.method());
  req_.version = msg.version();
  req_.remote = remote_;
  req_.target = std::string(sv(msg.target()));
  for (const auto& field : msg) {
    req_.headers.add(lower(sv(field.name_string())), std::string(sv(field.value())));
  }
  req_.body = std::move(msg.body());
  keep_alive_ = msg.keep_alive();
  std::string_view target = req_.target;
  if (target.empty() || target.front() != '/') return false;  // only origin-form
  auto q = target.find('?');
  req_.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos && !parse_query(target.substr(q + 1), req_.query)) return false;
  return true;
}

void connection::on_request() {
  phase_ = phase::handling;
  stream_.expires_never();
  start_ = clock::now();
  seq_++;
  route_ = nullptr;
  pending_.reset();
  if (core_->stopping.load()) close_after_ = true;
  if (!build_request()) {
    close_after_ = true;
    return send(bad_request("the request target is not an absolute path with a valid query"));
  }
  dispatch();
}

void connection::dispatch() {
  auto m = core_->routes.match(req_.method, req_.path);
  switch (m.result) {
    case router::outcome::not_found:
      return send(not_found(fmt::format("no route for {}", req_.path)));
    case router::outcome::method_not_allowed:
      return send(method_not_allowed(m.allow));
    case router::outcome::bad_path:
      return send(bad_request("a path segment has an invalid percent-encoding"));
    case router::outcome::found:
      break;
  }
  const route& r = *m.matched;
  route_ = &r;
  req_.route = r.path_template;
  req_.path_params = std::move(m.path_params);
  if (r.on_upgrade) return upgrade(r);

  bool has_body_method =
      req_.method == method::post || req_.method == method::put || req_.method == method::patch;
  if (has_body_method && r.options.json_body && !req_.body.empty() &&
      !is_json_media_type(req_.header("content-type"))) {
    return send(unsupported_media_type(req_.header("content-type")));
  }
  if (!core_->acquire_in_flight()) {
    core_->refused_in_flight->inc();
    return send(overloaded(int(core_->opts.retry_after_s),
                           "too many requests in flight; retry after the Retry-After delay"));
  }
  pending_ = std::make_shared<pending>(core_, weak_from_this(), seq_);
  if (r.options.authenticate && core_->before) {
    std::optional<response> refusal;
    try {
      refusal = core_->before(req_);
    } catch (const std::exception&) {
      refusal = internal_error("the authentication hook failed");
    }
    if (refusal) return finish_early(std::move(*refusal));
  }
  auto key = req_.header("idempotency-key");
  if (req_.method == method::post && r.options.idempotency && !key.empty()) {
    if (!valid_idempotency_key(key)) {
      return finish_early(
          validation_failed("Idempotency-Key", "the key is 1 to 255 visible ASCII characters"));
    }
    auto scope = idempotency_store::scope(req_.auth.tenant, req_.auth.subject, key);
    auto fp = idempotency_store::fingerprint("POST", req_.path, req_.body);
    auto begun = core_->idempotency.begin(scope, fp);
    switch (begun.result) {
      case idempotency_store::outcome::replay:
        begun.stored->headers.add("Idempotent-Replayed", "true");
        return finish_early(std::move(*begun.stored));
      case idempotency_store::outcome::in_flight: {
        auto p = problem(409, problem_types::idempotency_in_flight, "Request in progress",
                         "a request with this Idempotency-Key is still being processed; retry "
                         "after the Retry-After delay");
        p.headers.add("Retry-After", "1");
        return finish_early(std::move(p));
      }
      case idempotency_store::outcome::mismatch:
        return finish_early(
            problem(422, problem_types::idempotency_key_reused, "Idempotency-Key reused",
                    "this Idempotency-Key was used for a different request", "Idempotency-Key"));
      case idempotency_store::outcome::full:
        core_->refused_idempotency->inc();
        return finish_early(overloaded(int(core_->opts.retry_after_s),
                                       "too many requests with an Idempotency-Key in flight"));
      case idempotency_store::outcome::proceed:
        pending_->idempotency_scope = std::move(scope);
        break;
    }
  }
  run_handler(r);
}

void connection::run_handler(const route& r) {
  auto timeout_ms = r.options.timeout_ms ? r.options.timeout_ms : core_->opts.handler_timeout_ms;
  timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  timer_.async_wait([self = shared_from_this(), seq = seq_](beast::error_code ec) {
    if (ec || seq != self->seq_ || self->phase_ != phase::handling) return;
    if (!self->pending_ || !self->pending_->claim(nullptr)) return;  // an answer is on its way
    self->core_->handler_timeouts->inc();
    self->send(
        gateway_timeout("the request was not answered in time and may still complete: read "
                        "the resource back before retrying it"));
  });
  auto state = pending_;
  try {
    r.on_request(req_, responder{state});
  } catch (const std::exception&) {
    responder{state}(internal_error("the request handler failed"));
  }
}

void connection::upgrade(const route& r) {
  if (!websocket::is_upgrade(parser_->get())) {
    auto p = problem(426, problem_types::upgrade_required, "Upgrade required",
                     "this resource is a WebSocket: send GET with Upgrade: websocket");
    p.headers.add("Upgrade", "websocket");
    return send(std::move(p));
  }
  if (core_->ws_sessions.load() >= core_->opts.ws_sessions_max) {
    core_->refused_websocket->inc();
    return send(overloaded(int(core_->opts.retry_after_s), "too many WebSocket sessions"));
  }
  if (r.options.authenticate && core_->before) {
    std::optional<response> refusal;
    try {
      refusal = core_->before(req_);
    } catch (const std::exception&) {
      refusal = internal_error("the authentication hook failed");
    }
    if (refusal) return send(std::move(*refusal));
  }
  ws_decision decision;
  try {
    decision = r.on_upgrade(req_);
  } catch (const std::exception&) {
    decision = ws_decision::refuse(internal_error("the upgrade handler failed"));
  }
  if (!decision.accept) return send(std::move(decision.refusal));
  core_->record(route_, 101, start_);
  phase_ = phase::closed;
  if (id_ != 0) {
    core_->remove_session(id_);
    id_ = 0;
  }
  start_websocket(core_, std::move(stream_), parser_->release(), std::move(req_),
                  std::move(decision.handlers), std::move(slot_));
}

void connection::finish_early(response r) {
  if (pending_ && !pending_->claim(&r)) return;  // cannot happen: nobody else has it yet
  send(std::move(r));
}

void connection::deliver(std::uint64_t seq, response r) {
  if (seq != seq_ || phase_ != phase::handling) return;  // timed out (504 sent) or closed
  timer_.cancel();
  send(std::move(r));
}

void connection::send(response r) {
  if (phase_ == phase::closed) return;
  phase_ = phase::writing;
  timer_.cancel();
  status_ = (r.status >= 100 && r.status <= 599) ? r.status : 500;
  res_ = {};
  res_.version(req_.version == 10 ? 10 : 11);
  res_.result(unsigned(status_));
  res_.set(bhttp::field::server, "backline");
  if (!r.body.empty() || status_ >= 200) res_.set(bhttp::field::content_type, r.content_type);
  for (auto& [name, value] : r.headers.items()) res_.set(name, value);
  res_.body() = std::move(r.body);
  bool keep = keep_alive_ && !close_after_ && !core_->stopping.load();
  res_.keep_alive(keep);
  res_.prepare_payload();
  stream_.expires_after(std::chrono::milliseconds(core_->opts.write_timeout_ms));
  bhttp::async_write(stream_, res_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                       self->on_write(ec, bytes);
                     });
}

void connection::on_write(beast::error_code ec, std::size_t) {
  core_->record(route_, status_, start_);
  if (core_->access) {
    access_record rec;
    rec.method = method_name(req_.method);
    rec.target = req_.target;
    rec.route = req_.route;
    rec.status = status_;
    rec.duration_us = std::uint64_t(
        std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start_).count());
    rec.request_body_bytes = req_.body.size();
    rec.response_body_bytes = res_.body().size();
    rec.remote = remote_;
    rec.tenant = req_.auth.tenant;
    rec.subject = req_.auth.subject;
    try {
      core_->access(rec);
    } catch (const std::exception&) {
      // The access log must not take the connection down.
    }
  }
  pending_.reset();
  if (ec) return close_now();
  if (!res_.keep_alive()) return linger_close();
  do_read();
}

// Half-close, then read and drop what the client still sends (up to 64 KiB or 1 s) before the
// full close, so that the client reads our answer instead of a reset.
void connection::linger_close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  // Shorter while stopping, so that stop() is not held up by clients that keep the socket.
  stream_.expires_after(core_->stopping.load() ? std::chrono::milliseconds(100)
                                               : std::chrono::milliseconds(1000));
  drained_ = 0;
  do_linger();
}

void connection::do_linger() {
  stream_.async_read_some(net::buffer(drain_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->drained_ += n;
                            if (ec || self->drained_ > 64 * 1024) return self->close_now();
                            self->do_linger();
                          });
}

}  // namespace detail
}  // namespace backline::http
