// The server over real loopback sockets: keep-alive, routing errors, async handlers, the
// pipeline's problem+json answers, built-in routes, auth hook, idempotency, graceful stop.

#include "api/http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/http/problem.h"
#include "tests/http/client.h"

namespace backline::http {
namespace {

using testing::client;

std::unique_ptr<server> start_server(options o = {}) {
  o.address = "127.0.0.1";
  o.port = 0;
  auto s = std::make_unique<server>(o);
  return s;
}

std::uint16_t must_start(server& s) {
  auto port = s.start();
  EXPECT_TRUE(port.has_value());
  return port.value_or(0);
}

nlohmann::json json_of(const testing::reply& r) {
  return nlohmann::json::parse(r.body);
}

TEST(Server, KeepAliveServesManyRequestsOnOneConnection) {
  auto s = start_server();
  auto port = must_start(*s);
  client c(port);
  for (int i = 0; i < 5; ++i) {
    auto r = c.request("GET", "/livez");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "ok\n");
  }
  EXPECT_EQ(s->connections(), 1u);
  auto m = c.request("GET", "/metrics");
  EXPECT_NE(m.body.find("backline_http_connections_accepted_total 1\n"), std::string::npos)
      << m.body;
}

TEST(Server, PipelinedRequestsAreAnsweredInOrder) {
  auto s = start_server();
  auto port = must_start(*s);
  client c(port);
  ASSERT_TRUE(
      c.send_raw("GET /livez HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_reply().status, 200);
  EXPECT_EQ(c.read_reply().status, 404);
}

TEST(Server, UnknownPathIs404ProblemJsonAndWrongMethodIs405WithAllow) {
  auto s = start_server();
  s->routes().add(method::post, "/v1/calls/{id}/hold",
                  [](request&, responder respond) { respond(response::json(200, {})); });
  auto port = must_start(*s);
  client c(port);
  auto missing = c.request("GET", "/v1/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("content-type"), "application/problem+json");
  auto j = json_of(missing);
  EXPECT_EQ(j["type"], "https://backline.dev/problems/not-found");
  EXPECT_EQ(j["status"], 404);
  EXPECT_TRUE(j["title"].is_string() && j["detail"].is_string());
  auto wrong = c.request("DELETE", "/v1/calls/c1/hold");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.header("allow"), "POST");
  EXPECT_EQ(json_of(wrong)["type"], "https://backline.dev/problems/method-not-allowed");
  // Still the same connection.
  EXPECT_EQ(c.request("GET", "/livez").status, 200);
}

TEST(Server, PathAndQueryParametersReachTheHandlerDecoded) {
  auto s = start_server();
  s->routes().add(method::get, "/v1/agents/{id}", [](request& req, responder respond) {
    respond(response::json(200, {{"id", req.path_params.get_or("id", "")},
                                 {"q", req.query.get_or("q", "")},
                                 {"route", req.route},
                                 {"limit", req.query.get_or("limit", "")}}));
  });
  auto port = must_start(*s);
  client c(port);
  auto r = c.request("GET", "/v1/agents/al%20ice%2F1?q=a+b%26c&limit=5");
  ASSERT_EQ(r.status, 200);
  auto j = json_of(r);
  EXPECT_EQ(j["id"], "al ice/1");
  EXPECT_EQ(j["q"], "a b&c");
  EXPECT_EQ(j["limit"], "5");
  EXPECT_EQ(j["route"], "/v1/agents/{id}");
  EXPECT_EQ(c.request("GET", "/v1/agents/%zz").status, 400);
}

TEST(Server, BodyThatIsNotJsonIs415) {
  auto s = start_server();
  s->routes().add(method::post, "/v1/things",
                  [](request&, responder respond) { respond(response::json(201, {})); });
  auto port = must_start(*s);
  client c(port);
  auto r = c.request("POST", "/v1/things", "a=b",
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(json_of(r)["type"], "https://backline.dev/problems/unsupported-media-type");
  EXPECT_EQ(
      c.request("POST", "/v1/things", "{}", {{"Content-Type", "application/json; charset=utf-8"}})
          .status,
      201);
  EXPECT_EQ(c.request("POST", "/v1/things").status, 201);  // no body: no media type needed
}

TEST(Server, BodyOverTheLimitIs413AndTheConnectionCloses) {
  options o;
  o.body_bytes_max = 1024;
  auto s = start_server(o);
  s->routes().add(method::post, "/v1/things",
                  [](request&, responder respond) { respond(response::json(201, {})); });
  auto port = must_start(*s);
  client c(port);
  auto r = c.request("POST", "/v1/things", std::string(2000, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(json_of(r)["type"], "https://backline.dev/problems/payload-too-large");
  EXPECT_TRUE(c.closed_by_peer());
  client again(port);
  EXPECT_EQ(again.request("POST", "/v1/things", std::string(1000, ' ')).status, 201);
}

TEST(Server, Expect100ContinueGetsTheBodyRead) {
  auto s = start_server();
  s->routes().add(method::post, "/v1/echo",
                  [](request& req, responder respond) { respond(response::text(200, req.body)); });
  auto port = must_start(*s);
  client c(port);
  ASSERT_TRUE(
      c.send_raw("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.read_reply(std::chrono::milliseconds(300));  // 100, then waits for the body
  EXPECT_EQ(interim.status, 0);
  ASSERT_TRUE(c.send_raw("{}"));
  auto r = c.read_reply();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
}

TEST(Server, AsyncHandlerAnswersFromAnotherThread) {
  auto s = start_server();
  std::vector<std::jthread> workers;
  std::mutex m;
  s->routes().add(method::post, "/v1/calls/{id}/hold", [&](request& req, responder respond) {
    std::lock_guard lock(m);
    workers.emplace_back([respond, id = req.path_params.get_or("id", "")]() {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      EXPECT_TRUE(respond(response::json(202, {{"held", id}})));
      EXPECT_FALSE(respond(response::json(500, {})));  // the first answer wins
    });
  });
  auto port = must_start(*s);
  client c(port);
  for (int i = 0; i < 3; ++i) {
    auto r = c.request("POST", "/v1/calls/c" + std::to_string(i) + "/hold");
    ASSERT_EQ(r.status, 202);
    EXPECT_EQ(json_of(r)["held"], "c" + std::to_string(i));
  }
  std::lock_guard lock(m);
  for (auto& w : workers) w.join();
  EXPECT_EQ(s->in_flight(), 0u);
}

TEST(Server, HandlerThatNeverAnswersTimesOutWith504) {
  auto s = start_server();
  std::vector<responder> kept;
  route_options quick;
  quick.timeout_ms = 100;
  s->routes().add(
      method::post, "/v1/slow", [&](request&, responder respond) { kept.push_back(respond); },
      quick);
  auto port = must_start(*s);
  client c(port);
  auto r = c.request("POST", "/v1/slow");
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(json_of(r)["type"], "https://backline.dev/problems/timeout");
  EXPECT_EQ(s->in_flight(), 0u);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_FALSE(kept[0](response::json(200, {})));     // too late: dropped
  EXPECT_EQ(c.request("GET", "/livez").status, 200);  // the connection is still usable
  auto metrics = c.request("GET", "/metrics").body;
  EXPECT_NE(metrics.find("backline_http_handler_timeouts_total 1\n"), std::string::npos);
}

TEST(Server, HandlerThatThrowsGets500) {
  auto s = start_server();
  s->routes().add(method::get, "/v1/boom",
                  [](request&, responder) { throw std::runtime_error("boom"); });
  auto port = must_start(*s);
  client c(port);
  auto r = c.request("GET", "/v1/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(json_of(r)["type"], "https://backline.dev/problems/internal");
  EXPECT_EQ(s->in_flight(), 0u);
}

TEST(Server, BeforeHookRejectsWith401AndFillsTheIdentity) {
  auto s = start_server();
  s->set_before([](request& req) -> std::optional<response> {
    auto authz = req.header("authorization");
    if (authz.empty()) return unauthorized("a bearer token is required");
    if (authz != "Bearer good") return forbidden("this token may not do that");
    req.auth.tenant = "acme";
    req.auth.subject = "alice";
    req.auth.roles = {"agent"};
    return std::nullopt;
  });
  s->routes().add(method::get, "/v1/me", [](request& req, responder respond) {
    respond(response::json(200, {{"tenant", req.auth.tenant},
                                 {"sub", req.auth.subject},
                                 {"agent", req.auth.has_role("agent")}}));
  });
  auto port = must_start(*s);
  client c(port);
  auto none = c.request("GET", "/v1/me");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer");
  EXPECT_EQ(json_of(none)["type"], "https://backline.dev/problems/unauthorized");
  EXPECT_EQ(c.request("GET", "/v1/me", {}, {{"Authorization", "Bearer bad"}}).status, 403);
  auto ok = c.request("GET", "/v1/me", {}, {{"Authorization", "Bearer good"}});
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(json_of(ok)["tenant"], "acme");
  EXPECT_EQ(json_of(ok)["agent"], true);
  // Public routes skip the hook; /openapi.json does not.
  EXPECT_EQ(c.request("GET", "/livez").status, 200);
  EXPECT_EQ(c.request("GET", "/readyz").status, 200);
  EXPECT_EQ(c.request("GET", "/metrics").status, 200);
  EXPECT_EQ(c.request("GET", "/openapi.json").status, 401);
  EXPECT_EQ(c.request("GET", "/openapi.json", {}, {{"Authorization", "Bearer good"}}).status, 200);
}

TEST(Server, IdempotencyKeyReplaysTheFirstResponse) {
  auto s = start_server();
  s->set_before([](request& req) -> std::optional<response> {
    req.auth.tenant = "acme";
    req.auth.subject = std::string(req.header("x-user"));
    return std::nullopt;
  });
  std::atomic<int> calls{0};
  std::vector<responder> held;
  s->routes().add(method::post, "/v1/calls/internal", [&](request& req, responder respond) {
    int n = ++calls;
    if (req.header("x-hold") == "1") {
      held.push_back(respond);
      return;
    }
    respond(response::json(201, {{"call", n}}));
  });
  auto port = must_start(*s);
  client c(port);
  std::vector<std::pair<std::string, std::string>> alice{{"Idempotency-Key", "k-1"},
                                                         {"X-User", "alice"}};
  auto first = c.request("POST", "/v1/calls/internal", "{\"target\":1}", alice);
  auto retry = c.request("POST", "/v1/calls/internal", "{\"target\":1}", alice);
  ASSERT_EQ(first.status, 201);
  ASSERT_EQ(retry.status, 201);
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(retry.header("idempotent-replayed"), "true");
  EXPECT_EQ(calls.load(), 1);
  // The same key with another body: 422. Another principal: its own key space.
  EXPECT_EQ(c.request("POST", "/v1/calls/internal", "{\"target\":2}", alice).status, 422);
  EXPECT_EQ(c.request("POST", "/v1/calls/internal", "{\"target\":1}",
                      {{"Idempotency-Key", "k-1"}, {"X-User", "bob"}})
                .status,
            201);
  EXPECT_EQ(calls.load(), 2);
  // A concurrent retry while the first is in flight: 409 + Retry-After.
  client other(port);
  std::vector<std::pair<std::string, std::string>> slow{
      {"Idempotency-Key", "k-2"}, {"X-User", "alice"}, {"X-Hold", "1"}};
  ASSERT_TRUE(other.send_request("POST", "/v1/calls/internal", "{}", slow));
  for (int i = 0; i < 200 && s->in_flight() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto concurrent = c.request("POST", "/v1/calls/internal", "{}", slow);
  EXPECT_EQ(concurrent.status, 409);
  EXPECT_EQ(json_of(concurrent)["type"], "https://backline.dev/problems/idempotency-in-flight");
  EXPECT_EQ(concurrent.header("retry-after"), "1");
  ASSERT_EQ(held.size(), 1u);
  held[0](response::json(201, {{"call", "slow"}}));
  EXPECT_EQ(other.read_reply().status, 201);
  auto replay = c.request("POST", "/v1/calls/internal", "{}", slow);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(json_of(replay)["call"], "slow");
}

TEST(Server, ReadyzReportsNamedChecksAnd503WhenOneFails) {
  auto s = start_server();
  std::atomic<bool> projections_ok{true};
  s->set_readiness([&] {
    return std::vector<readiness_check>{{"log", true, "open"},
                                        {"projections", projections_ok.load(), "lag 0"}};
  });
  auto port = must_start(*s);
  client c(port);
  auto ready = c.request("GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(json_of(ready)["status"], "ready");
  EXPECT_EQ(json_of(ready)["checks"].size(), 2u);
  projections_ok = false;
  auto not_ready = c.request("GET", "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  auto j = json_of(not_ready);
  EXPECT_EQ(j["status"], "not_ready");
  EXPECT_EQ(j["checks"][1]["name"], "projections");
  EXPECT_EQ(j["checks"][1]["ok"], false);
}

TEST(Server, MetricsAreValidPrometheusTextWithoutIds) {
  auto s = start_server();
  s->routes().add(method::post, "/v1/calls/{id}/hold",
                  [](request&, responder respond) { respond(response::json(200, {})); });
  auto port = must_start(*s);
  client c(port);
  c.request("POST", "/v1/calls/call-0193abc/hold");
  c.request("GET", "/livez");
  c.request("GET", "/nowhere-0193abc");
  auto r = c.request("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::regex sample(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eE]+(Inf|NaN)?$)");
  const std::regex comment(R"(^# (HELP|TYPE) backline_[a-z0-9_]+ .*$)");
  std::istringstream lines(r.body);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.starts_with("#")) {
      EXPECT_TRUE(std::regex_match(line, comment)) << line;
      continue;
    }
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
    EXPECT_TRUE(line.starts_with("backline_")) << line;
    EXPECT_EQ(line.find("0193abc"), std::string::npos) << "an id in a label: " << line;
    ++samples;
  }
  EXPECT_GT(samples, 20);
  auto has = [&](std::string_view text) { return r.body.find(text) != std::string::npos; };
  EXPECT_TRUE(has("# TYPE backline_http_requests_total counter\n"));
  EXPECT_TRUE(has(
      "backline_http_requests_total{route=\"/v1/calls/{id}/hold\",method=\"POST\",code=\"2xx\"} "
      "1\n"));
  EXPECT_TRUE(
      has("backline_http_requests_total{route=\"unmatched\",method=\"any\",code=\"4xx\"} 1\n"));
  EXPECT_TRUE(has("# TYPE backline_http_request_duration_seconds histogram\n"));
  EXPECT_TRUE(
      has("backline_http_request_duration_seconds_bucket{route=\"/livez\",method=\"GET\","
          "le=\"+Inf\"} 1\n"));
  EXPECT_TRUE(has("backline_http_connections 1\n"));
  EXPECT_TRUE(has("backline_http_overload_refusals_total{reason=\"connections\"} 0\n"));
}

TEST(Server, OpenApiDocumentDescribesExactlyTheRegisteredRoutes) {
  auto s = start_server();  // only the built-in routes: the document describes only those
  auto port = must_start(*s);
  client c(port);
  auto r = c.request("GET", "/openapi.json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto doc = json_of(r);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::set<std::string> described, registered;
  for (auto& [path, ops] : doc["paths"].items()) {
    for (auto& [verb, op] : ops.items()) described.insert(verb + " " + path);
  }
  for (const auto& route : s->routes().routes()) {
    std::string verb(method_name(route->verb));
    for (auto& ch : verb) ch = char(std::tolower(ch));
    registered.insert(verb + " " + route->path_template);
  }
  EXPECT_EQ(described, registered);
}

TEST(Server, AccessLogSeesTheRouteTemplateAndStatus) {
  auto s = start_server();
  std::mutex m;
  std::vector<std::string> lines;
  s->set_access_log([&](const access_record& rec) {
    std::lock_guard lock(m);
    lines.push_back(std::string(rec.method) + " " + std::string(rec.route) + " " +
                    std::to_string(rec.status) + " " + std::string(rec.target));
  });
  s->routes().add(method::get, "/v1/agents/{id}",
                  [](request&, responder respond) { respond(response::json(200, {})); });
  auto port = must_start(*s);
  client c(port);
  c.request("GET", "/v1/agents/alice");
  c.request("GET", "/missing");
  // The record is written once the write completed, which the client may see first.
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(m);
      if (lines.size() == 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::lock_guard lock(m);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "GET /v1/agents/{id} 200 /v1/agents/alice");
  EXPECT_EQ(lines[1], "GET  404 /missing");
}

TEST(Server, StopFinishesInFlightRequestsAndRefusesNewConnections) {
  auto s = start_server();
  std::jthread worker;
  std::atomic<bool> started{false};
  s->routes().add(method::post, "/v1/slow", [&](request&, responder respond) {
    started = true;
    worker = std::jthread([respond] {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      respond(response::json(200, {{"done", true}}));
    });
  });
  auto port = must_start(*s);
  client idle(port);
  ASSERT_EQ(idle.request("GET", "/livez").status, 200);
  client busy(port);
  ASSERT_TRUE(busy.send_request("POST", "/v1/slow"));
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto t0 = std::chrono::steady_clock::now();
  s->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  auto r = busy.read_reply();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(idle.closed_by_peer());
  client late(port);
  EXPECT_FALSE(late.connected());
}

TEST(Server, StartReportsABusyPort) {
  auto a = start_server();
  auto port = must_start(*a);
  options o;
  o.port = port;
  server b(o);
  auto r = b.start();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), make_error_code(errc::bind_failed));
  EXPECT_EQ(a->start().error(), make_error_code(errc::already_started));
}

}  // namespace
}  // namespace backline::http
