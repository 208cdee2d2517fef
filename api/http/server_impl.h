#pragma once
// Internals of the server (server.cc, connection.cc, websocket.cc). Not a public header.
//
// Ownership: the server holds the core. The core owns the io_context, whose handlers own the
// connections and WebSocket sessions (shared_ptr captured by each async operation). A pending
// request (`pending`) is shared by the connection and the handler's responders; it holds the core
// (so a late responder never outlives what it touches) and only a weak_ptr to its connection.
// Anything posted into the io_context from a foreign thread goes through `core::post_guarded`,
// which refuses once stop() destroyed the io_context.

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "api/http/server.h"

namespace backline::http::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using clock = std::chrono::steady_clock;

struct route_metrics {
  std::array<metrics::counter*, 5> by_class{};  // 1xx..5xx
  metrics::histogram* latency = nullptr;
};

class session_base {
 public:
  virtual ~session_base() = default;
  virtual void shutdown() = 0;     // graceful (any thread: posts onto the strand)
  virtual void force_close() = 0;  // any thread: posts a socket close
};

struct core {
  explicit core(options o, std::shared_ptr<metrics::registry> r);
  ~core();

  options opts;
  std::shared_ptr<metrics::registry> registry;
  router routes;
  before_hook before;
  access_log access;
  readiness_probe ready;
  idempotency_store idempotency;

  std::vector<route_metrics> per_route;  // by route::index
  route_metrics unmatched;
  metrics::gauge* connections_open = nullptr;
  metrics::counter* connections_accepted = nullptr;
  metrics::counter* refused_connections = nullptr;
  metrics::counter* refused_in_flight = nullptr;
  metrics::counter* refused_idempotency = nullptr;
  metrics::counter* refused_websocket = nullptr;
  metrics::gauge* requests_in_flight = nullptr;
  metrics::counter* handler_timeouts = nullptr;
  metrics::counter* bad_request_malformed = nullptr;
  metrics::counter* bad_request_header = nullptr;
  metrics::counter* bad_request_body = nullptr;
  metrics::counter* accept_errors = nullptr;
  metrics::gauge* ws_open = nullptr;
  metrics::counter* ws_sent = nullptr;
  metrics::counter* ws_received = nullptr;
  metrics::counter* ws_slow_consumers = nullptr;

  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> refusing{0};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> ws_sessions{0};
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<std::uint16_t> bound_port{0};

  std::optional<net::io_context> ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> accept_retry;
  std::vector<std::thread> threads;
  std::shared_mutex ioc_mutex;  // shared: post from foreign threads; exclusive: destroy ioc
  bool ioc_alive = false;

  std::mutex sessions_mutex;
  std::unordered_map<std::uint64_t, std::weak_ptr<session_base>> sessions;
  std::atomic<std::uint64_t> next_session_id{1};

  bool acquire_in_flight();
  void release_in_flight();
  std::uint64_t add_session(std::weak_ptr<session_base> s);
  void remove_session(std::uint64_t id);
  // Runs `f` with the io_context still alive (shared lock); false once it is gone.
  template <class F>
  bool post_guarded(F&& f) {
    std::shared_lock lock(ioc_mutex);
    if (!ioc_alive) return false;
    f();
    return true;
  }
  void record(const route* r, int status, clock::time_point start);
};

// One open connection's claim on connections_max; moves from the HTTP connection to the
// WebSocket session that replaces it.
class connection_slot {
 public:
  connection_slot() = default;
  explicit connection_slot(core* c) : core_(c) {}
  connection_slot(connection_slot&& o) noexcept : core_(std::exchange(o.core_, nullptr)) {}
  connection_slot& operator=(connection_slot&& o) noexcept {
    reset();
    core_ = std::exchange(o.core_, nullptr);
    return *this;
  }
  ~connection_slot() { reset(); }
  void reset();

 private:
  core* core_ = nullptr;
};

class connection;

// The state shared by a request's connection and its responders.
struct pending {
  pending(std::shared_ptr<core> c, std::weak_ptr<connection> conn, std::uint64_t seq)
      : srv(std::move(c)), conn(std::move(conn)), seq(seq) {}
  ~pending() { claim(nullptr); }
  // The first caller wins: releases the in-flight slot and completes (r != nullptr) or releases
  // the idempotency key. Thread-safe.
  bool claim(const response* r);

  std::shared_ptr<core> srv;
  std::weak_ptr<connection> conn;
  std::uint64_t seq;
  std::string idempotency_scope;  // empty: not idempotent
  std::atomic<bool> done{false};
};

class connection : public session_base, public std::enable_shared_from_this<connection> {
 public:
  connection(std::shared_ptr<core> c, tcp::socket socket, connection_slot slot);
  ~connection() override;
  void start();
  void shutdown() override;
  void force_close() override;
  // On the strand: the handler's answer for request `seq`.
  void deliver(std::uint64_t seq, response r);
  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class phase { reading, handling, writing, closed };
  void do_read();
  void on_header(beast::error_code ec);
  void read_body();
  void on_body(beast::error_code ec);
  void on_read_error(beast::error_code ec);
  void on_request();
  bool build_request();
  void dispatch();
  void run_handler(const route& r);
  void upgrade(const route& r);
  void finish_early(response r);  // answer without the handler (claims pending if any)
  void send(response r);
  void on_write(beast::error_code ec, std::size_t bytes);
  void linger_close();
  void do_linger();
  void close_now();

  std::shared_ptr<core> core_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> res_;
  net::steady_timer timer_;
  connection_slot slot_;
  std::uint64_t id_ = 0;
  std::string remote_;

  request req_;
  const route* route_ = nullptr;
  std::shared_ptr<pending> pending_;
  std::uint64_t seq_ = 0;
  phase phase_ = phase::reading;
  bool keep_alive_ = true;
  bool close_after_ = false;
  int status_ = 0;
  clock::time_point start_;
  std::array<char, 4096> drain_{};
  std::size_t drained_ = 0;
};

// Starts a WebSocket session over an upgraded connection (websocket.cc).
void start_websocket(std::shared_ptr<core> c, beast::tcp_stream stream,
                     bhttp::request<bhttp::string_body> upgrade, request req, ws_handlers h,
                     connection_slot slot);

// Answers a connection over connections_max with 503 and closes it (server.cc).
void refuse_connection(const std::shared_ptr<core>& c, tcp::socket socket);

}  // namespace backline::http::detail
