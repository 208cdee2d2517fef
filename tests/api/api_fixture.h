#pragma once
// The API suites' world: a real engine (demo directory, temp data dir), the live projector, an
// http::server on an ephemeral loopback port with api::install, tokens minted with the
// development key, and a blocking HTTP client (tests/http/client.h).
//
//   api_world w;                                  // or api_world w({.projections = false});
//   ASSERT_TRUE(w.ok()) << w.error();
//   auto r = w.request("PUT", "/v1/agents/bob/presence", w.token("bob", {role::agent}),
//                      json{{"presence", "available"}});
//   EXPECT_EQ(r.status, 200) << r.text;
//
// Tear-down order: server, projector, engine (the API's handlers and log subscription need the
// engine's log).

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/domain/directory.h"
#include "actors/engine.h"
#include "api/auth/dev_key.h"
#include "api/auth/jwt.h"
#include "api/http/server.h"
#include "api/service/service.h"
#include "eventlog/log.h"
#include "projections/live.h"
#include "projections/store.h"
#include "schemas/codec.h"
#include "tests/http/client.h"

namespace backline::api::testing {

using json = nlohmann::json;
using auth::role;

// The demo call center's dialled number and a customer.
inline const std::string center_number = "+14155550100";
inline const std::string customer_number = "+15550001";

struct world_options {
  bool projections = true;  // false: the read routes answer 503
  std::int64_t ring_timeout_ms = 20'000;
  std::string directory_file = std::string(BACKLINE_SOURCE_DIR) + "/deploy/demo-callcenter.toml";
};

struct api_reply {
  int status = 0;
  json body;         // parsed when the response is JSON (problem+json too); else null
  std::string text;  // the raw body
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return {};
  }
};

inline std::string render(const api_reply& r) {
  return fmt::format("{} {}", r.status, r.text);
}

class api_world {
 public:
  explicit api_world(world_options o = {}) : options_(std::move(o)) { start(); }
  ~api_world() {
    server_.reset();
    if (live_) live_->stop();
    live_.reset();
    engine_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  api_world(const api_world&) = delete;
  api_world& operator=(const api_world&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  actors::engine& engine() { return *engine_; }
  eventlog::log& log() { return engine_->log(); }
  const projections::live_projector* projector() const { return live_.get(); }
  http::server& server() { return *server_; }
  std::uint16_t port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // A token of the demo tenant for `subject` with `roles`, valid for an hour.
  std::string token(const std::string& subject, std::initializer_list<role> roles,
                    std::string tenant = std::string(auth::dev_tenant)) const {
    auth::token_request t;
    t.tenant = std::move(tenant);
    t.subject = subject;
    t.audience = {std::string(auth::dev_audience)};
    for (const role r : roles) t.roles.add(r);
    const std::int64_t now_s = engine_->now_us() / 1'000'000;
    t.iat_s = now_s - 10;
    t.exp_s = now_s + 3600;
    auto s = auth::mint(dev_->signing_key, t);
    EXPECT_TRUE(s.has_value());
    return s ? *s : std::string();
  }

  // One request on a fresh connection. `body` null: none. An empty token: no Authorization.
  api_reply request(std::string_view method, std::string_view target, const std::string& token,
                    const json& body = nullptr,
                    std::vector<std::pair<std::string, std::string>> headers = {}) const {
    http::testing::client c(port_);
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    const std::string text = body.is_null() ? std::string() : body.dump();
    const auto r = c.request(method, target, text, std::move(headers));
    api_reply out{r.status, nullptr, r.body, r.headers};
    if (r.header("content-type").find("json") != std::string::npos) {
      out.body = json::parse(r.body, nullptr, false);
      if (out.body.is_discarded()) out.body = nullptr;
    }
    return out;
  }

  // Event type names of a stream, in order ("call/<root>", "agent/<id>", "queue/<name>").
  std::vector<std::string> events(const std::string& stream) {
    std::vector<std::string> out;
    auto records = log().read_stream(stream);
    if (!records) return out;
    for (const auto& r : *records) {
      if (auto d = schemas::decode(r.envelope)) out.emplace_back(schemas::type_name(d->payload));
    }
    return out;
  }
  std::size_t count(const std::string& stream, std::string_view type) {
    std::size_t n = 0;
    for (const auto& e : events(stream)) n += e == type ? 1 : 0;
    return n;
  }
  // Waits until `stream` holds an event of `type` (routing reacts asynchronously).
  bool eventually_has(const std::string& stream, std::string_view type,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return eventually([&] { return count(stream, type) > 0; }, timeout);
  }
  static bool eventually(const std::function<bool()>& done,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return done();
  }
  // Waits until the read models show every committed event.
  bool projected(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (!live_) return false;
    return eventually([&] { return live_->checkpoint() >= log().committed_position(); }, timeout);
  }

  // The offer id of the last offer_reserved on an agent's stream ("" when none).
  std::string last_offer(const std::string& agent) {
    std::string id;
    auto records = log().read_stream("agent/" + agent);
    if (!records) return id;
    for (const auto& r : *records) {
      auto d = schemas::decode(r.envelope);
      if (!d) continue;
      if (const auto* body = std::get_if<domain::agent_event_body>(&d->payload)) {
        if (const auto* o = std::get_if<domain::agent_evt::offer_reserved>(body)) id = o->offer_id;
      }
    }
    return id;
  }

  // Runs a call command straight through the engine (setting the scene, not under test).
  actors::command_result execute(domain::command_body body) {
    actors::command_request r;
    r.command_id = actors::new_id(engine_->now_us());
    r.tenant = engine_->directory().call_center;
    r.principal = "test";
    r.body = std::move(body);
    return engine_->execute(std::move(r));
  }

  // An inbound customer call that rang `agent` and that they answered; its voice call id.
  std::string connected_customer_call(const std::string& agent) {
    const std::string id = actors::new_id(engine_->now_us());
    domain::cmd::create_call c;
    c.voice_call_id = id;
    c.vendor_call_key = "vck-" + id;
    c.from = customer_number;
    c.to = center_number;
    c.queue = "General";
    for (domain::command_body b :
         {domain::command_body{c}, domain::command_body{domain::cmd::ring{id, agent}},
          domain::command_body{domain::cmd::answer{id, agent}}}) {
      const auto r = execute(std::move(b));
      EXPECT_EQ(r.status, actors::outcome::accepted) << r.detail;
    }
    return id;
  }

  // Sets `agent`'s presence over HTTP (as themself) and waits until the directory shows it.
  void set_presence(const std::string& agent, const std::string& presence,
                    const std::string& reason = {}) {
    json body{{"presence", presence}};
    if (!reason.empty()) body["reason"] = reason;
    const auto t = token(agent, {role::agent});
    const auto r = request("PUT", "/v1/agents/" + agent + "/presence", t, body);
    EXPECT_EQ(r.status, 200) << render(r);
    EXPECT_TRUE(eventually([&] {
      const auto g = request("GET", "/v1/agents/" + agent, t);
      return g.status == 200 && g.body["presence"].is_object() &&
             g.body["presence"]["status"] == presence;
    })) << agent
        << " never showed " << presence;
  }

 private:
  void start() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = (std::filesystem::temp_directory_path() /
            fmt::format("backline-api-{}-{}-{}", info ? info->test_suite_name() : "x",
                        info ? info->name() : "x", ::getpid()))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    actors::engine_options eo;
    eo.data_dir = dir_ + "/data";
    eo.directory_file = options_.directory_file;
    eo.ring_timeout_ms = options_.ring_timeout_ms;
    eo.scheduler_threads = 2;
    auto e = actors::engine::start(eo);
    if (!e) {
      error_ = "engine: " + e.error();
      return;
    }
    engine_ = std::move(*e);
    if (options_.projections) {
      auto live = projections::live_projector::start(
          engine_->log(), {.store_dir = projections::default_store_dir(eo.data_dir),
                           .flush_interval = std::chrono::milliseconds(10)});
      if (!live) {
        error_ = "projections: " + live.error().message();
        return;
      }
      live_ = std::move(*live);
    }
    auto dev = auth::ensure_dev_key(dir_ + "/keys", {.warn = [](std::string_view) {}});
    if (!dev) {
      error_ = "dev key: " + dev.error().detail;
      return;
    }
    dev_ = std::make_unique<auth::dev_key>(std::move(*dev));
    auto v = auth::verifier::make(dev_->config);
    if (!v) {
      error_ = "verifier: " + v.error().detail;
      return;
    }
    server_ = std::make_unique<http::server>(http::options{.address = "127.0.0.1", .port = 0});
    api::install(*server_, {.engine = engine_.get(),
                            .projections = live_.get(),
                            .verifier = std::make_shared<const auth::verifier>(std::move(*v))});
    auto port = server_->start();
    if (!port) {
      error_ = "server: " + port.error().message();
      return;
    }
    port_ = *port;
  }

  world_options options_;
  std::string dir_, error_;
  std::unique_ptr<actors::engine> engine_;
  std::unique_ptr<projections::live_projector> live_;
  std::unique_ptr<auth::dev_key> dev_;
  std::unique_ptr<http::server> server_;
  std::uint16_t port_ = 0;
};

}  // namespace backline::api::testing
