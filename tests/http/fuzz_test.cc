// A short, bounded, seeded fuzz of the request parser over real sockets: random bytes and
// mutated requests never crash the server, never hang it, and it keeps answering /livez.
// (The long-running libFuzzer target belongs with the other fuzzers; this one runs in ctest.)

#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "api/http/server.h"
#include "tests/http/client.h"

namespace backline::http {
namespace {

std::string mutate(std::string s, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> op(0, 5), byte(0, 255);
  int edits = 1 + int(rng() % 8);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    std::size_t at = rng() % s.size();
    switch (op(rng)) {
      case 0:
        s[at] = char(byte(rng));
        break;  // flip a byte
      case 1:
        s.erase(at, 1 + rng() % 8);
        break;  // delete
      case 2:
        s.insert(at, std::string(1 + rng() % 64, char(byte(rng))));
        break;  // insert run
      case 3:
        s.insert(at, "\r\n");
        break;  // break a line
      case 4:
        s.insert(at, "Content-Length: 99999999999999999999\r\n");
        break;
      case 5:
        s.resize(at);
        break;  // truncate
    }
  }
  return s;
}

TEST(Fuzz, RandomAndMutatedRequestsNeverTakeTheServerDown) {
  options o;
  o.port = 0;
  o.idle_timeout_ms = 200;
  o.read_timeout_ms = 200;
  o.header_bytes_max = 4096;
  o.body_bytes_max = 4096;
  server s(o);
  s.routes().add(method::post, "/v1/calls/{id}/hold", [](request& req, responder respond) {
    respond(response::json(200, {{"n", req.body.size()}}));
  });
  auto port = s.start().value();
  const std::vector<std::string> seeds = {
      "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /v1/calls/c%201/hold?x=1&y=%41 HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nContent-Length: 2\r\n\r\n{}",
      "POST /v1/calls/c/hold HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Content-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
      "GET /readyz HTTP/1.0\r\n\r\nGET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n",
      "GET /v1/events HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  };
  auto seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  int cases = 0;
  for (; cases < 1500 && std::chrono::steady_clock::now() < deadline; ++cases) {
    std::string input;
    if (cases % 5 == 0) {
      input.resize(rng() % 512);
      for (auto& c : input) c = char(rng());
    } else {
      input = mutate(seeds[rng() % seeds.size()], rng);
    }
    auto out = testing::raw_exchange(port, input, true, std::chrono::milliseconds(500));
    if (!out.empty()) {
      auto status = testing::status_of(out);
      EXPECT_TRUE(status >= 100 && status <= 599) << out.substr(0, 64);
    }
    if (cases % 100 == 0) {
      testing::client c(port);
      ASSERT_EQ(c.request("GET", "/livez").status, 200) << "after case " << cases;
    }
  }
  EXPECT_GT(cases, 200);
  testing::client c(port);
  EXPECT_EQ(c.request("GET", "/livez").status, 200);
  EXPECT_EQ(s.in_flight(), 0u);
}

}  // namespace
}  // namespace backline::http
