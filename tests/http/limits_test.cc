// Bounds and overload over real sockets: max connections, max in-flight, malformed and
// oversized requests. Each refusal is a problem+json with Retry-After where it helps, the
// server stays up, and it serves normally once the load is gone.

#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "api/http/server.h"
#include "tests/http/client.h"

namespace backline::http {
namespace {

using testing::client;

template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds limit = std::chrono::seconds(3)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!p()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

TEST(Limits, OverMaxConnectionsGets503RetryAfterThenRecovers) {
  options o;
  o.port = 0;
  o.connections_max = 2;
  o.retry_after_s = 3;
  server s(o);
  auto port = s.start().value();
  auto a = std::make_unique<client>(port);
  auto b = std::make_unique<client>(port);
  ASSERT_EQ(a->request("GET", "/livez").status, 200);
  ASSERT_EQ(b->request("GET", "/livez").status, 200);
  auto refused = testing::raw_exchange(port, "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(testing::status_of(refused), 503) << refused;
  EXPECT_NE(refused.find("Retry-After: 3\r\n"), std::string::npos);
  EXPECT_NE(refused.find("https://backline.dev/problems/overloaded"), std::string::npos);
  // The established connections are unaffected.
  EXPECT_EQ(a->request("GET", "/livez").status, 200);
  a.reset();
  b.reset();
  ASSERT_TRUE(eventually([&] { return s.connections() == 0; }));
  client c(port);
  EXPECT_EQ(c.request("GET", "/livez").status, 200);
  auto metrics = c.request("GET", "/metrics").body;
  EXPECT_NE(metrics.find("backline_http_overload_refusals_total{reason=\"connections\"} 1\n"),
            std::string::npos);
}

TEST(Limits, OverMaxInFlightGets503RetryAfterThenRecovers) {
  options o;
  o.port = 0;
  o.in_flight_max = 1;
  server s(o);
  std::mutex m;
  std::vector<responder> held;
  s.routes().add(method::post, "/v1/hold", [&](request&, responder respond) {
    std::lock_guard lock(m);
    held.push_back(respond);
  });
  auto port = s.start().value();
  client a(port), b(port);
  ASSERT_TRUE(a.send_request("POST", "/v1/hold"));
  ASSERT_TRUE(eventually([&] { return s.in_flight() == 1; }));
  auto refused = b.request("POST", "/v1/hold");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.header("retry-after"), "1");
  EXPECT_EQ(nlohmann::json::parse(refused.body)["type"],
            "https://backline.dev/problems/overloaded");
  {
    std::lock_guard lock(m);
    ASSERT_EQ(held.size(), 1u);
    held[0](response::json(200, {}));
  }
  EXPECT_EQ(a.read_reply().status, 200);
  ASSERT_TRUE(eventually([&] { return s.in_flight() == 0; }));
  ASSERT_TRUE(b.send_request("POST", "/v1/hold"));  // b's connection survived the 503
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return held.size() == 2;
  }));
  {
    std::lock_guard lock(m);
    held[1](response::json(200, {}));
  }
  EXPECT_EQ(b.read_reply().status, 200);
}

TEST(Limits, GarbageRequestLineIs400AndTheServerStaysUp) {
  options o;
  o.port = 0;
  server s(o);
  auto port = s.start().value();
  auto raw = testing::raw_exchange(port, "HELLO THERE\r\n\r\n");
  EXPECT_EQ(testing::status_of(raw), 400) << raw;
  EXPECT_NE(raw.find("application/problem+json"), std::string::npos);
  raw = testing::raw_exchange(port, "GET /livez HTTP/9.9\r\n\r\n");
  EXPECT_EQ(testing::status_of(raw), 400) << raw;
  raw = testing::raw_exchange(port, "GET http://evil/livez HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(testing::status_of(raw), 400) << raw;
  raw = testing::raw_exchange(port, "GET /livez HTTP/1.1\r\nBad Header\r\n\r\n");
  EXPECT_EQ(testing::status_of(raw), 400) << raw;
  client c(port);
  EXPECT_EQ(c.request("GET", "/livez").status, 200);
}

TEST(Limits, OversizedHeadersAre431AndTheServerStaysUp) {
  options o;
  o.port = 0;
  o.header_bytes_max = 2048;
  server s(o);
  auto port = s.start().value();
  std::string request =
      "GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n";
  auto raw = testing::raw_exchange(port, request);
  EXPECT_EQ(testing::status_of(raw), 431) << raw;
  EXPECT_NE(raw.find("https://backline.dev/problems/header-too-large"), std::string::npos);
  // A header that never ends is refused at the same bound, not buffered forever.
  raw = testing::raw_exchange(port, "GET /livez HTTP/1.1\r\nX: " + std::string(100'000, 'b'));
  EXPECT_EQ(testing::status_of(raw), 431);
  client c(port);
  EXPECT_EQ(c.request("GET", "/livez").status, 200);
}

TEST(Limits, AnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  options o;
  o.port = 0;
  o.idle_timeout_ms = 100;
  server s(o);
  auto port = s.start().value();
  client c(port);
  ASSERT_EQ(c.request("GET", "/livez").status, 200);
  EXPECT_TRUE(c.closed_by_peer(std::chrono::seconds(2)));
  EXPECT_TRUE(eventually([&] { return s.connections() == 0; }));
}

}  // namespace
}  // namespace backline::http
