// WebSocket routes over real sockets with a Beast client: echo, refusal before the upgrade,
// 426 without the upgrade, the bounded send queue closing a slow consumer with 1008.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "api/http/problem.h"
#include "api/http/server.h"
#include "tests/http/client.h"

namespace backline::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

struct ws_client {
  net::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  beast::error_code connect(std::uint16_t port, std::string_view target,
                            std::string_view authorization = {}) {
    beast::error_code ec;
    ws.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return ec;
    ws.set_option(websocket::stream_base::decorator(
        [a = std::string(authorization)](websocket::request_type& req) {
          if (!a.empty()) req.set(beast::http::field::authorization, a);
        }));
    ws.handshake("127.0.0.1", std::string(target), ec);
    return ec;
  }
};

std::unique_ptr<server> ws_server(options o, std::atomic<int>* refused_sends = nullptr,
                                  std::atomic<int>* closes = nullptr) {
  o.port = 0;
  auto s = std::make_unique<server>(o);
  s->set_before([](request& req) -> std::optional<response> {
    if (req.header("authorization") != "Bearer good") return unauthorized("token required");
    req.auth.subject = "alice";
    return std::nullopt;
  });
  s->routes().websocket("/v1/events", [=](request& req) {
    if (req.query.get_or("team", "") == "other") return ws_decision::refuse(forbidden("not yours"));
    ws_handlers h;
    h.on_open = [](const std::shared_ptr<ws_session>& session) {
      session->send("hello " + session->upgrade_request().auth.subject);
    };
    h.on_message = [refused_sends](const std::shared_ptr<ws_session>& session,
                                   std::string_view message, bool) {
      if (message == "flood") {
        for (int i = 0; i < 200; ++i) {
          if (!session->send(std::string(1024, 'x')) && refused_sends) ++*refused_sends;
        }
        return;
      }
      session->send(std::string(message));
    };
    h.on_close = [closes](const std::shared_ptr<ws_session>&, std::uint16_t) {
      if (closes) ++*closes;
    };
    return ws_decision::accept_with(std::move(h));
  });
  return s;
}

TEST(WebSocket, EchoesAfterTheUpgradeWithTheIdentityOfTheBeforeHook) {
  std::atomic<int> closes{0};
  auto s = ws_server({}, nullptr, &closes);
  auto port = s->start().value();
  ws_client c;
  ASSERT_FALSE(c.connect(port, "/v1/events", "Bearer good"));
  beast::flat_buffer buf;
  c.ws.read(buf);
  EXPECT_EQ(beast::buffers_to_string(buf.data()), "hello alice");
  buf.clear();
  c.ws.write(net::buffer(std::string("ping me")));
  c.ws.read(buf);
  EXPECT_EQ(beast::buffers_to_string(buf.data()), "ping me");
  c.ws.close(websocket::close_code::normal);
  for (int i = 0; i < 300 && closes.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(closes.load(), 1);
  for (int i = 0; i < 300 && s->connections() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(s->connections(), 0u);
}

TEST(WebSocket, UpgradeIsRefusedBeforeTheHandshake) {
  auto s = ws_server({});
  auto port = s->start().value();
  {
    ws_client c;
    EXPECT_TRUE(c.connect(port, "/v1/events"));  // no token: 401, no upgrade
  }
  {
    ws_client c;
    EXPECT_TRUE(c.connect(port, "/v1/events?team=other", "Bearer good"));  // 403
  }
  testing::client plain(port);
  auto r = plain.request("GET", "/v1/events", {}, {{"Authorization", "Bearer good"}});
  EXPECT_EQ(r.status, 426);
  EXPECT_EQ(r.header("upgrade"), "websocket");
}

TEST(WebSocket, ASlowConsumerIsClosedWith1008AndTheQueueStaysBounded) {
  options o;
  o.ws_send_queue_messages_max = 8;
  std::atomic<int> refused{0};
  auto s = ws_server(o, &refused);
  auto port = s->start().value();
  ws_client c;
  ASSERT_FALSE(c.connect(port, "/v1/events", "Bearer good"));
  c.ws.write(net::buffer(std::string("flood")));
  beast::flat_buffer buf;
  beast::error_code ec;
  int messages = 0;
  while (!ec) {
    buf.clear();
    c.ws.read(buf, ec);
    if (!ec) ++messages;
  }
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(c.ws.reason().code, 1008);
  EXPECT_EQ(std::string(c.ws.reason().reason.c_str()), "slow consumer");
  EXPECT_LE(messages, 1 + 8);  // "hello alice" and at most one queue's worth
  EXPECT_GE(refused.load(), 200 - 8);
  testing::client plain(port);
  auto metrics = plain.request("GET", "/metrics").body;
  EXPECT_NE(metrics.find("backline_http_websocket_slow_consumer_closes_total 1\n"),
            std::string::npos);
}

TEST(WebSocket, StopClosesSessionsWith1001) {
  auto s = ws_server({});
  auto port = s->start().value();
  ws_client c;
  ASSERT_FALSE(c.connect(port, "/v1/events", "Bearer good"));
  beast::flat_buffer buf;
  c.ws.read(buf);
  std::thread stopper([&] { s->stop(); });
  beast::error_code ec;
  buf.clear();
  c.ws.read(buf, ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(c.ws.reason().code, 1001);
  stopper.join();
}

}  // namespace
}  // namespace backline::http
