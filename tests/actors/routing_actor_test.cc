// Integration tests of the routing actor on the real engine and log, with the demo directory:
// internal calls to agents and queues, accept, decline, callbacks, refusals, ring timeouts.
#include <atomic>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include <gtest/gtest.h>

#include "actors/engine.h"
#include "actors/stream_actors.h"
#include "eventlog/log.h"
#include "schemas/codec.h"

namespace backline::actors {
namespace {

namespace rq = domain::route_req;
using domain::presence;
using domain::route_outcome;

class RoutingActorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/routing-actor-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void start(std::int64_t ring_timeout_ms = 20'000, bool virtual_time = false) {
    engine_options o;
    o.data_dir = dir_;
    o.directory_file = std::string(BACKLINE_SOURCE_DIR) + "/deploy/demo-callcenter.toml";
    o.ring_timeout_ms = ring_timeout_ms;
    if (virtual_time) {
      o.clock_us = [this] { return virtual_now_us_.load(); };
      o.virtual_timers = true;
    }
    auto e = engine::start(o);
    ASSERT_TRUE(e) << e.error();
    engine_ = std::move(*e);
  }
  // Through the routing actor, so the protocol sees the events.
  template <class Request>
  command_result send(Request req) {
    caf::scoped_actor self{engine_->system()};
    command_result out{outcome::failed, domain::errc::ok, "no reply"};
    self->request(engine_->routing(), std::chrono::seconds(10), command_atom::value, std::move(req))
        .receive([&](const command_result& r) { out = r; },
                 [&](const caf::error& e) { out.detail = self->system().render(e); });
    return out;
  }
  command_result console(bool accept, const std::string& agent, const std::string& offer) {
    caf::scoped_actor self{engine_->system()};
    command_result out{outcome::failed, domain::errc::ok, "no reply"};
    auto reply = [&](const command_result& r) { out = r; };
    auto fail = [&](const caf::error& e) { out.detail = self->system().render(e); };
    if (accept) {
      self->request(engine_->routing(), std::chrono::seconds(10), accept_atom::value, agent, offer)
          .receive(reply, fail);
    } else {
      self->request(engine_->routing(), std::chrono::seconds(10), decline_atom::value, agent, offer)
          .receive(reply, fail);
    }
    return out;
  }
  void set_presence(const std::string& agent, presence to, std::string reason = {}) {
    agent_request r;
    r.command_id = new_id(engine_->now_us());
    r.principal = agent;
    r.target = agent;
    r.body = domain::agent_cmd::set_presence{to, std::move(reason)};
    auto result = send(std::move(r));
    ASSERT_EQ(result.status, outcome::accepted) << result.detail;
  }
  route_result call(const std::string& id, const std::string& from, const std::string& target) {
    return engine_->route(rq::internal_call{id, from, target});
  }
  // Event type names of a stream, in order.
  std::vector<std::string> events(const std::string& stream) {
    std::vector<std::string> out;
    auto records = engine_->log().read_stream(stream);
    if (!records) return out;
    for (const auto& r : *records) {
      auto d = schemas::decode(r.envelope);
      if (!d) continue;
      std::visit(
          [&](const auto& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (!std::is_same_v<T, domain::directory>) {
              out.emplace_back(domain::event_type_name(body));
            }
          },
          d->payload);
    }
    return out;
  }
  bool has(const std::string& stream, const std::string& type) {
    auto e = events(stream);
    return std::ranges::find(e, type) != e.end();
  }
  // Waits until `stream` holds an event of `type` (the protocol's reactions are asynchronous).
  bool eventually(const std::string& stream, const std::string& type,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (has(stream, type)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  // The offer id of the last offer_reserved on an agent's stream.
  std::string last_offer(const std::string& agent) {
    std::string id;
    auto records = engine_->log().read_stream("agent/" + agent);
    if (!records) return id;
    for (const auto& r : *records) {
      auto d = schemas::decode(r.envelope);
      if (!d) continue;
      if (const auto* body = std::get_if<domain::agent_event_body>(&d->payload)) {
        if (const auto* o = std::get_if<domain::agent_evt::offer_reserved>(body)) {
          id = o->offer_id;
        }
      }
    }
    return id;
  }

  // Moves the virtual clock and tells the routing actor to look at its deadlines again.
  void advance(std::chrono::milliseconds by) {
    virtual_now_us_ += std::chrono::duration_cast<std::chrono::microseconds>(by).count();
    caf::anon_send(engine_->routing(), tick_atom::value, std::uint64_t{0});
  }

  std::string dir_;
  std::unique_ptr<engine> engine_;
  std::atomic<std::int64_t> virtual_now_us_{1'800'000'000'000'000};
};

std::string render(const route_result& r) {
  return std::string(domain::to_string(r.outcome)) + " agent=" + r.agent + " queue=" + r.queue +
         " rule=" + std::string(domain::rule_name(r.rule)) + " detail=" + r.detail;
}

TEST_F(RoutingActorTest, InternalCallRingsAnAvailableAgentWhoAccepts) {
  start();
  set_presence("bob", presence::available);
  auto r = call("i1", "alice", "bob");
  ASSERT_EQ(r.outcome, route_outcome::ringing) << render(r);
  EXPECT_EQ(r.agent, "bob");
  ASSERT_FALSE(r.offer_id.empty());
  EXPECT_TRUE(has("agent/bob", "offer_reserved"));
  EXPECT_TRUE(eventually("call/i1", "call_ringing"));
  auto a = console(true, "bob", r.offer_id);
  ASSERT_EQ(a.status, outcome::accepted) << a.detail;
  EXPECT_TRUE(has("agent/bob", "offer_accepted"));
  EXPECT_TRUE(eventually("call/i1", "call_answered"));
}

TEST_F(RoutingActorTest, BusyTargetGetsACallbackRequest) {
  start();
  set_presence("bob", presence::busy, "meeting");
  auto r = call("i1", "alice", "bob");
  ASSERT_EQ(r.outcome, route_outcome::callback) << render(r);
  EXPECT_FALSE(r.callback_id.empty());
  EXPECT_TRUE(has("agent/bob", "callback_requested"));
  EXPECT_FALSE(has("agent/bob", "offer_reserved"));
}

TEST_F(RoutingActorTest, OfflineTargetIsRefused) {
  start();
  auto r = call("i1", "alice", "bob");
  EXPECT_EQ(r.outcome, route_outcome::refused) << render(r);
  EXPECT_EQ(domain::rule_name(r.rule), "agent_offline");
  EXPECT_TRUE(events("call/i1").empty());
}

TEST_F(RoutingActorTest, QueueCallIsQueuedThenOfferedAndDeclineMovesOn) {
  start();
  set_presence("bob", presence::available);
  auto r = call("i1", "alice", "Billing");
  ASSERT_EQ(r.outcome, route_outcome::queued) << render(r);
  EXPECT_EQ(r.queue, "Billing");
  EXPECT_TRUE(has("queue/Billing", "enqueued"));
  ASSERT_TRUE(eventually("agent/bob", "offer_reserved"));
  EXPECT_TRUE(eventually("call/i1", "call_ringing"));
  set_presence("erin", presence::available);
  auto d = console(false, "bob", last_offer("bob"));
  ASSERT_EQ(d.status, outcome::accepted) << d.detail;
  EXPECT_TRUE(has("agent/bob", "offer_declined"));
  ASSERT_TRUE(eventually("agent/erin", "offer_reserved"));
  auto a = console(true, "erin", last_offer("erin"));
  ASSERT_EQ(a.status, outcome::accepted) << a.detail;
  EXPECT_TRUE(eventually("queue/Billing", "dequeued"));
  EXPECT_TRUE(eventually("call/i1", "call_answered"));
}

TEST_F(RoutingActorTest, RingTimeoutRecordsAMissedOffer) {
  start(/*ring_timeout_ms=*/200);
  set_presence("bob", presence::available);
  auto r = call("i1", "alice", "bob");
  ASSERT_EQ(r.outcome, route_outcome::ringing) << render(r);
  EXPECT_TRUE(eventually("agent/bob", "offer_timed_out"));
}

TEST_F(RoutingActorTest, RingTimeoutFollowsTheInjectedClockNotRealTime) {
  start(/*ring_timeout_ms=*/20'000, /*virtual_time=*/true);
  set_presence("bob", presence::available);
  auto r = call("i1", "alice", "bob");
  ASSERT_EQ(r.outcome, route_outcome::ringing) << render(r);
  advance(std::chrono::milliseconds(19'999));
  EXPECT_FALSE(eventually("agent/bob", "offer_timed_out", std::chrono::milliseconds(200)));
  advance(std::chrono::milliseconds(1));  // 20 s of virtual time, a moment of real time
  EXPECT_TRUE(eventually("agent/bob", "offer_timed_out"));
  EXPECT_TRUE(eventually("call/i1", "call_ended"));
}

// The routing actor sends an agent's commands to the actor that answered the last one. When
// that actor stopped (crash-only, after a failed append), the command goes again through the
// router, which activates the agent anew from the log.
TEST_F(RoutingActorTest, ACommandForAnAgentWhoseActorStoppedGoesThroughTheRouter) {
  start();
  set_presence("bob", presence::available);  // the routing actor now knows bob's actor
  caf::scoped_actor self{engine_->system()};
  caf::strong_actor_ptr bob;
  agent_request probe;
  probe.command_id = new_id(engine_->now_us());
  probe.principal = probe.target = "bob";
  probe.body = domain::agent_cmd::set_presence{presence::available, {}};
  self->request(engine_->router(), std::chrono::seconds(10), command_atom::value, probe)
      .receive([&](const command_result&) { bob = self->current_sender(); },
               [](const caf::error&) {});
  ASSERT_TRUE(bob);
  auto passivated = [&] {
    router_stats stats;
    self->request(engine_->router(), std::chrono::seconds(1), stats_atom::value)
        .receive([&](const router_stats& s) { stats = s; }, [](const caf::error&) {});
    return stats.passivated;
  };
  const auto before = passivated();
  self->monitor(bob);
  caf::anon_send(caf::actor_cast<agent_actor>(bob), committed_atom::value, append_failed{1});
  self->receive([](const caf::down_msg&) {});
  for (int i = 0; i < 100 && passivated() == before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(passivated(), before);
  auto r = call("i1", "alice", "bob");
  ASSERT_EQ(r.outcome, route_outcome::ringing) << render(r);
  auto a = console(true, "bob", r.offer_id);
  ASSERT_EQ(a.status, outcome::accepted) << a.detail;
  EXPECT_TRUE(eventually("call/i1", "call_answered"));
}

TEST_F(RoutingActorTest, RestartKeepsPresenceAndWaitingCalls) {
  start();
  set_presence("bob", presence::available);
  engine_.reset();
  start();
  auto r = call("i1", "alice", "bob");
  EXPECT_EQ(r.outcome, route_outcome::ringing) << render(r);
}

}  // namespace
}  // namespace backline::actors
