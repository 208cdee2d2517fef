// WebSocket sessions. `ws_conn` owns the stream and lives in the io_context's handlers;
// `ws_handle` is what user code holds (a weak link to ws_conn), so a handle kept after the
// server stopped never touches a destroyed io_context.
//
//   accepting --handshake ok--> open --close()/overflow/stop--> closing --closed--> done
//       |                         |                                                   ^
//       +--error------------------+--read error / peer close--------------------------+

#include <fmt/format.h>

#include "api/http/server_impl.h"

namespace backline::http::detail {

namespace {

class ws_conn;

class ws_handle final : public ws_session {
 public:
  ws_handle(std::shared_ptr<core> c, request req, std::uint64_t id)
      : core_(std::move(c)), req_(std::move(req)), id_(id) {}

  bool send(std::string message, bool binary) override;
  void close(std::uint16_t code, std::string reason) override;
  std::size_t queued() const override { return queued_.load(); }
  std::uint64_t id() const override { return id_; }
  const request& upgrade_request() const override { return req_; }

  std::weak_ptr<ws_conn> conn;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> queued_bytes_{0};
  std::atomic<bool> closed_{false};
  std::shared_ptr<core> core_;

 private:
  request req_;
  std::uint64_t id_;
};

class ws_conn : public session_base, public std::enable_shared_from_this<ws_conn> {
 public:
  ws_conn(std::shared_ptr<core> c, beast::tcp_stream stream,
          bhttp::request<bhttp::string_body> upgrade, ws_handlers h, connection_slot slot)
      : core_(std::move(c)),
        ws_(std::move(stream)),
        upgrade_(std::move(upgrade)),
        handlers_(std::move(h)),
        close_timer_(ws_.get_executor()),
        slot_(std::move(slot)) {}

  ~ws_conn() override {
    if (id_ != 0) core_->remove_session(id_);
    if (counted_) {
      core_->ws_sessions.fetch_sub(1);
      core_->ws_open->sub(1);
    }
  }

  void start(std::shared_ptr<ws_handle> handle) {
    handle_ = std::move(handle);
    id_ = core_->add_session(weak_from_this());
    counted_ = true;
    core_->ws_sessions.fetch_add(1);
    core_->ws_open->add(1);
    beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts take over
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = std::chrono::milliseconds(core_->opts.ws_ping_interval_ms);
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(bhttp::field::server, "backline"); }));
    ws_.read_message_max(core_->opts.ws_message_bytes_max);
    ws_.async_accept(upgrade_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->finish(1006);
      self->open_ = true;
      if (self->closing_) {  // stop() or close() during the handshake
        self->do_close();
        return self->do_read();
      }
      if (self->handlers_.on_open) self->call([&] { self->handlers_.on_open(self->session()); });
      self->do_read();
    });
  }

  net::any_io_executor executor() { return ws_.get_executor(); }

  void shutdown() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      self->start_close(ws_close::going_away, "server stopping");
    });
  }
  void force_close() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

  // On the strand.
  void enqueue(std::string message, bool binary) {
    if (closing_ || done_) return dequeued(message.size());
    queue_.emplace_back(std::move(message), binary);
    if (!writing_ && open_) do_write();
  }

  void start_close(std::uint16_t code, std::string reason) {
    if (closing_ || done_) return;
    closing_ = true;
    close_code_ = code;
    close_reason_ = std::move(reason);
    // Drop what is queued, except the frame being written.
    while (queue_.size() > (writing_ ? 1u : 0u)) {
      dequeued(queue_.back().first.size());
      queue_.pop_back();
    }
    if (!open_) return;  // the handshake's completion will see closing_
    if (!writing_) return do_close();
    // A slow consumer may never drain the frame in progress: bound the wait.
    close_timer_.expires_after(std::chrono::seconds(2));
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->done_) return;
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

 private:
  std::shared_ptr<ws_session> session() { return handle_; }

  template <class F>
  void call(F&& f) {
    try {
      f();
    } catch (const std::exception&) {
      start_close(ws_close::internal_error, "handler failed");
    }
  }

  void dequeued(std::size_t bytes) {
    handle_->queued_.fetch_sub(1);
    handle_->queued_bytes_.fetch_sub(bytes);
  }

  void do_read() {
    ws_.async_read(rbuf_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      std::uint16_t code = 1006;
      if (ec == websocket::error::closed)
        code = std::uint16_t(ws_.reason().code);
      else if (ec == websocket::error::message_too_big)
        code = ws_close::too_big;
      else if (closing_)
        code = close_code_;
      return finish(code);
    }
    core_->ws_received->inc();
    auto text = beast::buffers_to_string(rbuf_.data());
    rbuf_.consume(rbuf_.size());
    if (!closing_ && handlers_.on_message) {
      bool binary = !ws_.got_text();
      call([&] { handlers_.on_message(session(), text, binary); });
    }
    do_read();
  }

  void do_write() {
    writing_ = true;
    ws_.text(!queue_.front().second);
    ws_.async_write(
        net::buffer(queue_.front().first),
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    dequeued(queue_.front().first.size());
    queue_.pop_front();
    if (ec) return;  // the read side sees the failure and finishes
    core_->ws_sent->inc();
    if (closing_) return do_close();
    if (!queue_.empty()) do_write();
  }

  void do_close() {
    if (close_sent_) return;
    close_sent_ = true;
    ws_.async_close(
        websocket::close_reason(static_cast<websocket::close_code>(close_code_), close_reason_),
        [self = shared_from_this()](beast::error_code) {
          self->close_timer_.cancel();
          // The pending read completes with `closed` and finishes the session.
        });
  }

  void finish(std::uint16_t code) {
    if (done_) return;
    done_ = true;
    handle_->closed_ = true;
    close_timer_.cancel();
    while (!queue_.empty() && !writing_) {
      dequeued(queue_.front().first.size());
      queue_.pop_front();
    }
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    if (handlers_.on_close) {
      try {
        handlers_.on_close(session(), code);
      } catch (const std::exception&) {
      }
    }
    handlers_ = {};  // drop captured state (may hold the handle)
  }

  std::shared_ptr<core> core_;
  websocket::stream<beast::tcp_stream> ws_;
  bhttp::request<bhttp::string_body> upgrade_;
  ws_handlers handlers_;
  net::steady_timer close_timer_;
  connection_slot slot_;
  std::shared_ptr<ws_handle> handle_;
  std::deque<std::pair<std::string, bool>> queue_;
  beast::flat_buffer rbuf_;
  std::uint64_t id_ = 0;
  bool counted_ = false, open_ = false, writing_ = false, closing_ = false, close_sent_ = false,
       done_ = false;
  std::uint16_t close_code_ = ws_close::normal;
  std::string close_reason_;
};

bool ws_handle::send(std::string message, bool binary) {
  if (closed_.load()) return false;
  auto bytes = message.size();
  auto n = queued_.fetch_add(1) + 1;
  auto b = queued_bytes_.fetch_add(bytes) + bytes;
  if (n > core_->opts.ws_send_queue_messages_max || b > core_->opts.ws_send_queue_bytes_max) {
    queued_.fetch_sub(1);
    queued_bytes_.fetch_sub(bytes);
    if (!closed_.exchange(true)) {
      core_->ws_slow_consumers->inc();
      core_->post_guarded([&] {
        if (auto c = conn.lock()) {
          net::post(c->executor(),
                    [c] { c->start_close(ws_close::policy_violation, "slow consumer"); });
        }
      });
    }
    return false;
  }
  bool posted = false;
  core_->post_guarded([&] {
    auto c = conn.lock();
    if (!c) return;
    net::post(c->executor(),
              [c, m = std::move(message), binary]() mutable { c->enqueue(std::move(m), binary); });
    posted = true;
  });
  if (!posted) {  // the session is gone
    queued_.fetch_sub(1);
    queued_bytes_.fetch_sub(bytes);
    return false;
  }
  return true;
}

void ws_handle::close(std::uint16_t code, std::string reason) {
  core_->post_guarded([&] {
    if (auto c = conn.lock()) {
      net::post(c->executor(),
                [c, code, r = std::move(reason)]() mutable { c->start_close(code, std::move(r)); });
    }
  });
}

}  // namespace

void start_websocket(std::shared_ptr<core> c, beast::tcp_stream stream,
                     bhttp::request<bhttp::string_body> upgrade, request req, ws_handlers h,
                     connection_slot slot) {
  auto handle = std::make_shared<ws_handle>(c, std::move(req), c->next_session_id.fetch_add(1));
  auto conn = std::make_shared<ws_conn>(c, std::move(stream), std::move(upgrade), std::move(h),
                                        std::move(slot));
  handle->conn = conn;
  conn->start(std::move(handle));
}

}  // namespace backline::http::detail
