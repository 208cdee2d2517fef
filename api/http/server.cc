#include "api/http/server.h"

#include <pthread.h>

#include <cctype>
#include <mutex>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/http/openapi.h"
#include "api/http/problem.h"
#include "api/http/server_impl.h"

namespace backline::http {

namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "backline.http"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ok:
        return "ok";
      case errc::bad_address:
        return "the listen address is not an IP address";
      case errc::bind_failed:
        return "cannot bind or listen on the address (in use?)";
      case errc::already_started:
        return "the server is already started";
      case errc::bad_options:
        return "bad server options";
    }
    return "unknown http error";
  }
};
}  // namespace

const std::error_category& http_category() {
  static const category instance;
  return instance;
}

namespace detail {

core::core(options o, std::shared_ptr<metrics::registry> r)
    : opts(std::move(o)),
      registry(r ? std::move(r) : std::make_shared<metrics::registry>()),
      idempotency(opts.idempotency_entries_max, std::chrono::seconds(opts.idempotency_ttl_s)) {
  auto& m = *registry;
  connections_open = &m.gauge("backline_http_connections", "Open HTTP connections and sessions");
  connections_accepted =
      &m.counter("backline_http_connections_accepted_total", "Accepted TCP connections");
  const char* refused_help = "Requests or connections refused because of a bound (overload)";
  refused_connections = &m.counter("backline_http_overload_refusals_total", refused_help,
                                   {{"reason", "connections"}});
  refused_in_flight =
      &m.counter("backline_http_overload_refusals_total", refused_help, {{"reason", "in_flight"}});
  refused_idempotency = &m.counter("backline_http_overload_refusals_total", refused_help,
                                   {{"reason", "idempotency_store"}});
  refused_websocket = &m.counter("backline_http_overload_refusals_total", refused_help,
                                 {{"reason", "websocket_sessions"}});
  requests_in_flight =
      &m.gauge("backline_http_requests_in_flight", "Requests routed and not yet answered");
  handler_timeouts = &m.counter("backline_http_handler_timeouts_total",
                                "Requests answered 504 because the handler did not answer");
  const char* bad_help = "Requests refused before routing because they could not be read";
  bad_request_malformed =
      &m.counter("backline_http_unreadable_requests_total", bad_help, {{"reason", "malformed"}});
  bad_request_header = &m.counter("backline_http_unreadable_requests_total", bad_help,
                                  {{"reason", "header_too_large"}});
  bad_request_body = &m.counter("backline_http_unreadable_requests_total", bad_help,
                                {{"reason", "body_too_large"}});
  accept_errors = &m.counter("backline_http_accept_errors_total", "Failed accept() calls");
  ws_open = &m.gauge("backline_http_websocket_sessions", "Open WebSocket sessions");
  ws_sent = &m.counter("backline_http_websocket_messages_sent_total", "WebSocket messages sent");
  ws_received =
      &m.counter("backline_http_websocket_messages_received_total", "WebSocket messages received");
  ws_slow_consumers = &m.counter("backline_http_websocket_slow_consumer_closes_total",
                                 "WebSocket sessions closed because their send queue was full");
}

core::~core() {
  // Handlers still queued own connections that touch the members below: destroy them first.
  {
    std::unique_lock lock(ioc_mutex);
    ioc_alive = false;
  }
  acceptor.reset();
  accept_retry.reset();
  work.reset();
  ioc.reset();
}

bool core::acquire_in_flight() {
  auto n = in_flight.fetch_add(1, std::memory_order_relaxed);
  if (n >= opts.in_flight_max) {
    in_flight.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  requests_in_flight->add(1);
  return true;
}

void core::release_in_flight() {
  in_flight.fetch_sub(1, std::memory_order_relaxed);
  requests_in_flight->sub(1);
}

std::uint64_t core::add_session(std::weak_ptr<session_base> s) {
  auto id = next_session_id.fetch_add(1);
  std::lock_guard lock(sessions_mutex);
  sessions.emplace(id, std::move(s));
  return id;
}

void core::remove_session(std::uint64_t id) {
  std::lock_guard lock(sessions_mutex);
  sessions.erase(id);
}

void core::record(const route* r, int status, clock::time_point start) {
  auto& rm = r ? per_route[r->index] : unmatched;
  int cls = std::clamp(status / 100, 1, 5) - 1;
  rm.by_class[std::size_t(cls)]->inc();
  rm.latency->observe(std::chrono::duration<double>(clock::now() - start).count());
}

void connection_slot::reset() {
  if (!core_) return;
  core_->connections.fetch_sub(1);
  core_->connections_open->sub(1);
  core_ = nullptr;
}

bool pending::claim(const response* r) {
  if (done.exchange(true)) return false;
  srv->release_in_flight();
  if (!idempotency_scope.empty()) {
    if (r)
      srv->idempotency.complete(idempotency_scope, *r);
    else
      srv->idempotency.release(idempotency_scope);
  }
  return true;
}

namespace {

// Writes a canned 503 to a connection over the limit, half-closes, drains briefly, closes.
class refusal : public std::enable_shared_from_this<refusal> {
 public:
  refusal(std::shared_ptr<core> c, tcp::socket s) : core_(std::move(c)), stream_(std::move(s)) {
    text_ = fmt::format(
        "HTTP/1.1 503 Service Unavailable\r\nServer: backline\r\nRetry-After: {}\r\n"
        "Content-Type: application/problem+json\r\nConnection: close\r\nContent-Length: {}\r\n"
        "\r\n{}",
        core_->opts.retry_after_s, body().size(), body());
  }
  ~refusal() { core_->refusing.fetch_sub(1); }
  void start() {
    stream_.expires_after(std::chrono::seconds(2));
    net::async_write(stream_, net::buffer(text_),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return;
                       beast::error_code ignored;
                       self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                       self->drain();
                     });
  }

 private:
  static const std::string& body() {
    static const std::string b =
        problem_json(503, problem_types::overloaded, "Overloaded",
                     "the server has too many open connections; retry after the Retry-After delay");
    return b;
  }
  void drain() {
    stream_.async_read_some(net::buffer(buf_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (!ec && self->drained_ < 64 * 1024) self->drain();
                            });
  }
  std::shared_ptr<core> core_;
  beast::tcp_stream stream_;
  std::string text_;
  std::array<char, 2048> buf_{};
  std::size_t drained_ = 0;
};

}  // namespace

void refuse_connection(const std::shared_ptr<core>& c, tcp::socket socket) {
  c->refused_connections->inc();
  if (c->refusing.fetch_add(1) >= c->opts.refusals_max) {
    c->refusing.fetch_sub(1);
    beast::error_code ignored;
    socket.close(ignored);  // too many refusals at once: do not even answer
    return;
  }
  std::make_shared<refusal>(c, std::move(socket))->start();
}

namespace {

void do_accept(const std::shared_ptr<core>& c);

void on_accept(const std::shared_ptr<core>& c, beast::error_code ec, tcp::socket socket) {
  if (c->stopping.load() || ec == net::error::operation_aborted) return;
  if (ec) {
    // EMFILE and friends: back off instead of spinning on a failing accept.
    c->accept_errors->inc();
    c->accept_retry->expires_after(std::chrono::milliseconds(50));
    c->accept_retry->async_wait([c](beast::error_code e) {
      if (!e) do_accept(c);
    });
    return;
  }
  c->connections_accepted->inc();
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (c->connections.fetch_add(1) >= c->opts.connections_max) {
    c->connections.fetch_sub(1);
    refuse_connection(c, std::move(socket));
  } else {
    c->connections_open->add(1);
    connection_slot slot(c.get());
    std::make_shared<connection>(c, std::move(socket), std::move(slot))->start();
  }
  do_accept(c);
}

void do_accept(const std::shared_ptr<core>& c) {
  c->acceptor->async_accept(
      net::make_strand(*c->ioc),
      [c](beast::error_code ec, tcp::socket socket) { on_accept(c, ec, std::move(socket)); });
}

void add_builtin_routes(const std::shared_ptr<core>& c) {
  route_options open;
  open.authenticate = false;
  std::weak_ptr<core> weak = c;
  c->routes.add(
      method::get, "/livez",
      [](request&, responder respond) { respond(response::text(200, "ok\n")); }, open);
  c->routes.add(
      method::get, "/readyz",
      [weak](request&, responder respond) {
        auto self = weak.lock();
        if (!self) return;
        std::vector<readiness_check> checks;
        if (self->stopping.load()) checks.push_back({"server", false, "stopping"});
        if (self->ready) {
          auto more = self->ready();
          checks.insert(checks.end(), more.begin(), more.end());
        }
        bool ok = true;
        auto list = nlohmann::json::array();
        for (const auto& check : checks) {
          ok = ok && check.ok;
          list.push_back({{"name", check.name}, {"ok", check.ok}, {"detail", check.detail}});
        }
        respond(response::json(ok ? 200 : 503,
                               {{"status", ok ? "ready" : "not_ready"}, {"checks", list}}));
      },
      open);
  c->routes.add(
      method::get, "/metrics",
      [weak](request&, responder respond) {
        auto self = weak.lock();
        if (!self) return;
        respond(response::text(200, self->registry->render(),
                               "text/plain; version=0.0.4; charset=utf-8"));
      },
      open);
  // The document keeps only the operations this server registered (a server built for tests,
  // or without some route group, describes what it serves). Filtered once, on first request:
  // the routes are frozen by then.
  struct filtered_doc {
    std::once_flag once;
    std::string json;
  };
  auto filtered = std::make_shared<filtered_doc>();
  c->routes.add(method::get, "/openapi.json", [weak, filtered](request&, responder respond) {
    const auto& doc = openapi_json();
    if (!doc) {
      respond(internal_error("api/openapi.yaml is not valid: " + doc.error()));
      return;
    }
    auto self = weak.lock();
    if (!self) return;
    std::call_once(filtered->once, [&] {
      auto j = nlohmann::json::parse(*doc);
      std::set<std::pair<std::string, std::string>> registered;
      for (const auto& r : self->routes.routes()) {
        std::string verb(method_name(r->verb));
        for (auto& ch : verb) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        registered.emplace(r->path_template, verb);
      }
      const auto is_verb = [](const std::string& k) {
        return k == "get" || k == "put" || k == "post" || k == "patch" || k == "delete" ||
               k == "head" || k == "options";
      };
      auto& paths = j["paths"];
      for (auto p = paths.begin(); p != paths.end();) {
        auto& ops = p.value();
        bool kept = false;
        for (auto op = ops.begin(); op != ops.end();) {
          if (!is_verb(op.key())) {
            ++op;
          } else if (registered.contains({p.key(), op.key()})) {
            kept = true;
            ++op;
          } else {
            op = ops.erase(op);
          }
        }
        p = kept ? std::next(p) : paths.erase(p);
      }
      filtered->json = j.dump();
    });
    respond(response::text(200, filtered->json, "application/json"));
  });
}

}  // namespace

}  // namespace detail

server::server(options opts, std::shared_ptr<metrics::registry> registry)
    : core_(std::make_shared<detail::core>(std::move(opts), std::move(registry))) {
  detail::add_builtin_routes(core_);
}

server::~server() {
  stop();
}

router& server::routes() {
  return core_->routes;
}
void server::set_before(before_hook hook) {
  core_->before = std::move(hook);
}
void server::set_access_log(access_log log) {
  core_->access = std::move(log);
}
void server::set_readiness(readiness_probe probe) {
  core_->ready = std::move(probe);
}
metrics::registry& server::metrics() {
  return *core_->registry;
}
idempotency_store& server::idempotency() {
  return core_->idempotency;
}
std::uint16_t server::port() const {
  return core_->bound_port.load();
}
std::size_t server::connections() const {
  return core_->connections.load();
}
std::size_t server::in_flight() const {
  return core_->in_flight.load();
}

std::expected<std::uint16_t, std::error_code> server::start() {
  namespace net = detail::net;
  using detail::tcp;
  auto& c = *core_;
  if (c.opts.io_threads == 0 || c.opts.connections_max == 0 || c.opts.in_flight_max == 0) {
    return std::unexpected(make_error_code(errc::bad_options));
  }
  if (c.started.exchange(true)) return std::unexpected(make_error_code(errc::already_started));
  boost::system::error_code ec;
  auto address = net::ip::make_address(c.opts.address, ec);
  if (ec) return std::unexpected(make_error_code(errc::bad_address));

  c.routes.freeze();
  for (const auto& r : c.routes.routes()) {
    detail::route_metrics rm;
    metrics::labels l{{"route", r->path_template}, {"method", std::string(method_name(r->verb))}};
    const char* classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (std::size_t i = 0; i < 5; ++i) {
      auto with_code = l;
      with_code.emplace_back("code", classes[i]);
      rm.by_class[i] = &c.registry->counter("backline_http_requests_total",
                                            "HTTP requests answered, by route template and "
                                            "status class",
                                            with_code);
    }
    rm.latency = &c.registry->histogram("backline_http_request_duration_seconds",
                                        "Time from a complete request to its written response", l);
    c.per_route.push_back(rm);
  }
  {
    metrics::labels l{{"route", "unmatched"}, {"method", "any"}};
    const char* classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (std::size_t i = 0; i < 5; ++i) {
      auto with_code = l;
      with_code.emplace_back("code", classes[i]);
      c.unmatched.by_class[i] = &c.registry->counter(
          "backline_http_requests_total",
          "HTTP requests answered, by route template and status class", with_code);
    }
    c.unmatched.latency =
        &c.registry->histogram("backline_http_request_duration_seconds",
                               "Time from a complete request to its written response", l);
  }

  c.ioc.emplace(int(c.opts.io_threads));
  c.work.emplace(net::make_work_guard(*c.ioc));
  c.acceptor.emplace(net::make_strand(*c.ioc));
  c.accept_retry.emplace(c.acceptor->get_executor());
  tcp::endpoint endpoint(address, c.opts.port);
  c.acceptor->open(endpoint.protocol(), ec);
  if (!ec) c.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) c.acceptor->bind(endpoint, ec);
  if (!ec) c.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    c.acceptor.reset();
    c.accept_retry.reset();
    c.work.reset();
    c.ioc.reset();
    c.started = false;
    return std::unexpected(make_error_code(errc::bind_failed));
  }
  c.bound_port = c.acceptor->local_endpoint().port();
  {
    std::unique_lock lock(c.ioc_mutex);
    c.ioc_alive = true;
  }
  detail::do_accept(core_);
  for (unsigned i = 0; i < c.opts.io_threads; ++i) {
    c.threads.emplace_back([raw = core_.get()] { raw->ioc->run(); });
    pthread_setname_np(c.threads.back().native_handle(), "bl-http-io");
  }
  return c.bound_port.load();
}

void server::stop() {
  auto& c = *core_;
  if (!c.started.load() || c.stopping.exchange(true)) return;
  detail::net::post(c.acceptor->get_executor(), [core = core_] {
    boost::system::error_code ignored;
    core->acceptor->close(ignored);
    core->accept_retry->cancel();
  });
  auto each_session = [&c](auto&& f) {
    std::vector<std::shared_ptr<detail::session_base>> live;
    {
      std::lock_guard lock(c.sessions_mutex);
      for (auto& [id, weak] : c.sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) f(*s);
  };
  each_session([](detail::session_base& s) { s.shutdown(); });
  auto deadline = detail::clock::now() + std::chrono::milliseconds(c.opts.drain_timeout_ms);
  while ((c.connections.load() > 0 || c.refusing.load() > 0) && detail::clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  each_session([](detail::session_base& s) { s.force_close(); });
  auto hard_deadline = detail::clock::now() + std::chrono::milliseconds(500);
  while (c.connections.load() > 0 && detail::clock::now() < hard_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  c.work.reset();
  c.ioc->stop();
  for (auto& t : c.threads) t.join();
  c.threads.clear();
  {
    // After this no foreign thread posts into the io_context (core::post_guarded).
    std::unique_lock lock(c.ioc_mutex);
    c.ioc_alive = false;
  }
  c.acceptor.reset();
  c.accept_retry.reset();
  c.ioc.reset();  // destroys what is still queued (connections), with the core alive
}

}  // namespace backline::http
