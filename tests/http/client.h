#pragma once
// A small blocking HTTP/1.1 client over POSIX sockets for the server tests: every read has a
// deadline, so a broken server fails a test instead of hanging it. Not for production use.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace backline::http::testing {

struct reply {
  int status = 0;                                            // 0: no (complete) response
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;
  std::string header(std::string_view name) const;  // "" when absent
};

class client {
 public:
  explicit client(std::uint16_t port);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends one request (Content-Length set when there is a body) and reads its response.
  reply request(std::string_view method, std::string_view target, std::string_view body = {},
                std::vector<std::pair<std::string, std::string>> headers = {});
  // The two halves, for requests left in flight on purpose.
  bool send_request(std::string_view method, std::string_view target, std::string_view body = {},
                    std::vector<std::pair<std::string, std::string>> headers = {});
  bool send_raw(std::string_view bytes);
  reply read_reply(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the server closed the connection (EOF within `timeout`).
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(2));

 private:
  int fd_ = -1;
  std::string buffer_;
};

// Opens a connection, sends `bytes`, half-closes when asked, and returns everything the server
// sent until it closed (or `timeout` passed).
std::string raw_exchange(std::uint16_t port, std::string_view bytes, bool half_close = true,
                         std::chrono::milliseconds timeout = std::chrono::seconds(2));

// The status code of the first response in `raw` ("HTTP/1.1 503 ..."), or 0.
int status_of(std::string_view raw);

// A WebSocket client (Boost.Beast, as in websocket_test.cc) for the event stream tests: one
// thread reads every message into a queue, so a test waits for the next message with a deadline
// and can also check that nothing arrives. Beast stays out of this header.
//
//   ws_client ws;
//   ASSERT_EQ(ws.connect(port, "/v1/events", "Bearer " + token), "");
//   auto first = ws.next();                    // std::nullopt: nothing within the timeout
class ws_client {
 public:
  ws_client();
  ~ws_client();  // stops the reader; no close handshake
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  // Connects to 127.0.0.1:`port` and upgrades `target`, sending `authorization` as the
  // Authorization header (none when empty). "" when upgraded, else what failed.
  std::string connect(std::uint16_t port, std::string_view target,
                      std::string_view authorization = {});
  // The next text message, or nullopt when none came within `timeout` or the stream ended.
  std::optional<std::string> next(std::chrono::milliseconds timeout = std::chrono::seconds(2));
  // Every message received so far and not yet taken by next().
  std::vector<std::string> drain();
  // True once the server closed the stream (or the connection failed); then its close code.
  bool ended() const;
  std::uint16_t close_code() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace backline::http::testing
