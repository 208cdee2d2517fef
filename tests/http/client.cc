#include "tests/http/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace backline::http::testing {

namespace {

using steady = std::chrono::steady_clock;

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(std::size_t(n));
  }
  return true;
}

// Appends what arrives before `deadline`; -1 error, 0 EOF, 1 data, 2 timeout.
int read_some(int fd, std::string& out, steady::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  if (left.count() <= 0) return 2;
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, int(left.count()));
  if (r == 0) return 2;
  if (r < 0) return -1;
  char buf[16384];
  auto n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 0) return -1;
  if (n == 0) return 0;
  out.append(buf, std::size_t(n));
  return 1;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string format_request(std::string_view method, std::string_view target, std::string_view body,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    has_type = has_type || lower(k) == "content-type";
    out.append(k).append(": ").append(v).append("\r\n");
  }
  if (!body.empty()) {
    if (!has_type) out.append("Content-Type: application/json\r\n");
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  return out;
}

}  // namespace

std::string reply::header(std::string_view name) const {
  auto n = lower(name);
  for (const auto& [k, v] : headers) {
    if (k == n) return v;
  }
  return {};
}

client::client(std::uint16_t port) : fd_(connect_loopback(port)) {}

client::~client() {
  if (fd_ >= 0) ::close(fd_);
}

bool client::send_raw(std::string_view bytes) {
  return fd_ >= 0 && send_all(fd_, bytes);
}

bool client::send_request(std::string_view method, std::string_view target, std::string_view body,
                          std::vector<std::pair<std::string, std::string>> headers) {
  return send_raw(format_request(method, target, body, headers));
}

reply client::read_reply(std::chrono::milliseconds timeout) {
  reply r;
  if (fd_ < 0) return r;
  auto deadline = steady::now() + timeout;
  std::size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (read_some(fd_, buffer_, deadline) != 1) return r;
  }
  std::string_view head(buffer_.data(), header_end);
  auto line_end = head.find("\r\n");
  auto status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return r;
  int status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  std::size_t length = 0;
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 2);
    line_end = head.find("\r\n");
    auto line = head.substr(0, line_end);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(lower(line.substr(0, colon)), std::string(value));
    if (r.headers.back().first == "content-length") length = std::stoul(std::string(value));
  }
  while (buffer_.size() < header_end + 4 + length) {
    if (read_some(fd_, buffer_, deadline) != 1) return r;
  }
  r.body = buffer_.substr(header_end + 4, length);
  buffer_.erase(0, header_end + 4 + length);
  r.status = status;
  if (status == 100) return read_reply(timeout);  // interim response
  return r;
}

reply client::request(std::string_view method, std::string_view target, std::string_view body,
                      std::vector<std::pair<std::string, std::string>> headers) {
  if (!send_request(method, target, body, std::move(headers))) return {};
  return read_reply();
}

bool client::closed_by_peer(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  auto deadline = steady::now() + timeout;
  std::string ignored;
  while (true) {
    int r = read_some(fd_, ignored, deadline);
    if (r == 0 || r == -1) return true;
    if (r == 2) return false;
  }
}

std::string raw_exchange(std::uint16_t port, std::string_view bytes, bool half_close,
                         std::chrono::milliseconds timeout) {
  std::string out;
  int fd = connect_loopback(port);
  if (fd < 0) return out;
  send_all(fd, bytes);
  if (half_close) ::shutdown(fd, SHUT_WR);
  auto deadline = steady::now() + timeout;
  while (read_some(fd, out, deadline) == 1) {
  }
  ::close(fd);
  return out;
}

int status_of(std::string_view raw) {
  if (raw.size() < 12 || !raw.starts_with("HTTP/1.")) return 0;
  return std::atoi(std::string(raw.substr(9, 3)).c_str());
}

// ---------------------------------------------------------------------------------------------
// ws_client: the connect and handshake run on the caller's thread; then one thread runs the
// io_context and an async read loop that queues each message. The destructor stops the
// io_context (no handler runs after that) and joins the thread.

namespace {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;
}  // namespace

struct ws_client::impl {
  net::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  beast::flat_buffer buffer;
  std::thread reader;
  mutable std::mutex mutex;
  std::condition_variable arrived;
  std::deque<std::string> messages;
  bool ended = false;
  std::uint16_t close_code = 0;

  void read_loop() {
    ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
      const std::lock_guard lock(mutex);
      if (ec) {
        ended = true;
        close_code = ws.reason().code;
      } else {
        messages.push_back(beast::buffers_to_string(buffer.data()));
        buffer.consume(buffer.size());
      }
      arrived.notify_all();
      if (!ec) read_loop();
    });
  }
};

ws_client::ws_client() : impl_(std::make_unique<impl>()) {}

ws_client::~ws_client() {
  impl_->ioc.stop();
  if (impl_->reader.joinable()) impl_->reader.join();
}

std::string ws_client::connect(std::uint16_t port, std::string_view target,
                               std::string_view authorization) {
  beast::error_code ec;
  impl_->ws.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return "connect: " + ec.message();
  impl_->ws.set_option(websocket::stream_base::decorator(
      [a = std::string(authorization)](websocket::request_type& req) {
        if (!a.empty()) req.set(beast::http::field::authorization, a);
      }));
  websocket::response_type res;
  impl_->ws.handshake(res, "127.0.0.1", std::string(target), ec);
  if (ec)
    return "handshake: " + ec.message() + " (status " + std::to_string(res.result_int()) + ")";
  impl_->read_loop();
  impl_->reader = std::thread([this] { impl_->ioc.run(); });
  return {};
}

std::optional<std::string> ws_client::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  impl_->arrived.wait_for(lock, timeout, [&] { return !impl_->messages.empty() || impl_->ended; });
  if (impl_->messages.empty()) return std::nullopt;
  std::string m = std::move(impl_->messages.front());
  impl_->messages.pop_front();
  return m;
}

std::vector<std::string> ws_client::drain() {
  const std::lock_guard lock(impl_->mutex);
  std::vector<std::string> out(std::make_move_iterator(impl_->messages.begin()),
                               std::make_move_iterator(impl_->messages.end()));
  impl_->messages.clear();
  return out;
}

bool ws_client::ended() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->ended;
}

std::uint16_t ws_client::close_code() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->close_code;
}

}  // namespace backline::http::testing
