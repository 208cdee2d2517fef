// Integration tests of the actors on a real RocksDB log: the router, call actors, idempotency,
// expected versions, recovery after restart, passivation, and the demo scenario.
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <gtest/gtest.h>

#include "actors/engine.h"
#include "actors/stream_actors.h"
#include "eventlog/log.h"
#include "schemas/codec.h"
#include "tools/demo.h"

namespace backline::actors {
namespace {

namespace cmd = domain::cmd;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/engine-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    start();
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void start(std::chrono::milliseconds idle = std::chrono::seconds(30),
             std::function<std::int64_t()> clock_us = {}) {
    engine_options o;
    o.data_dir = dir_;
    o.directory_file = std::string(BACKLINE_SOURCE_DIR) + "/deploy/demo-callcenter.toml";
    o.idle_timeout = idle;
    o.clock_us = std::move(clock_us);
    auto e = engine::start(o);
    ASSERT_TRUE(e) << e.error();
    engine_ = std::move(*e);
  }
  router_stats stats() {
    caf::scoped_actor self{engine_->system()};
    router_stats s;
    self->request(engine_->router(), std::chrono::seconds(1), stats_atom::value)
        .receive([&](const router_stats& r) { s = r; }, [](const caf::error&) {});
    return s;
  }
  // The router's figures once `done` holds of them, or after two seconds.
  template <class Done>
  router_stats stats_once(Done done) {
    router_stats s = stats();
    for (int i = 0; i < 200 && !done(s); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      s = stats();
    }
    return s;
  }
  command_result run(domain::command_body body, std::string command_id = {},
                     std::uint64_t expected_version = 0) {
    if (command_id.empty()) command_id = new_id(engine_->now_us());
    return engine_->execute({command_id, expected_version, {}, "test", std::move(body)});
  }
  // An inbound call answered by alice.
  void connected_call(const std::string& id) {
    ASSERT_EQ(run(cmd::create_call{id,
                                   domain::call_type::inbound,
                                   domain::initiation_method::inbound,
                                   {},
                                   "+15550001",
                                   "+1800",
                                   "General"})
                  .status,
              outcome::accepted);
    ASSERT_EQ(run(cmd::ring{id, "alice"}).status, outcome::accepted);
    ASSERT_EQ(run(cmd::answer{id, "alice"}).status, outcome::accepted);
  }

  std::string dir_;
  std::unique_ptr<engine> engine_;
};

TEST_F(EngineTest, AcceptedCommandAppendsItsEventsBeforeTheReply) {
  const auto before = engine_->log().committed_position();
  auto r = run(cmd::create_call{
      "c1", domain::call_type::inbound, domain::initiation_method::inbound, {}, "+15550001"});
  ASSERT_EQ(r.status, outcome::accepted) << r.detail;
  EXPECT_EQ(r.events, 2u);
  EXPECT_EQ(r.stream_version, 2u);
  EXPECT_EQ(r.first_position, before + 1);
  EXPECT_GE(engine_->log().committed_position(), before + 2);
  EXPECT_EQ(engine_->log().stream_version("call/c1"), 2u);
}

// `submit` answers once: with the reply, or with a failure when its timeout passes first (the
// gateway's own sweep: its requests hold no CAF timer); a reply after that is dropped.
TEST_F(EngineTest, ASubmittedCommandIsAnsweredOnceEvenWhenItsTimeoutPassesFirst) {
  struct answers {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<command_result> got;
    void add(command_result r) {
      std::lock_guard lock(mu);
      got.push_back(std::move(r));
      cv.notify_all();
    }
    bool wait_for(std::size_t n, std::chrono::milliseconds limit) {
      std::unique_lock lock(mu);
      return cv.wait_for(lock, limit, [&] { return got.size() >= n; });
    }
  };
  const auto create = [&](const std::string& id) {
    return command_request{
        new_id(engine_->now_us()),
        0,
        {},
        "test",
        cmd::create_call{
            id, domain::call_type::inbound, domain::initiation_method::inbound, {}, "+15550001"}};
  };
  auto in_time = std::make_shared<answers>();
  engine_->submit(create("c-in-time"), [in_time](command_result r) { in_time->add(r); });
  ASSERT_TRUE(in_time->wait_for(1, std::chrono::seconds(10)));
  EXPECT_EQ(in_time->got[0].status, outcome::accepted) << in_time->got[0].detail;

  // Hold the log's writer inside a request's callback, so no command can become durable.
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  eventlog::append_request hold;
  hold.done = [&entered, released](auto) {
    entered.set_value();
    released.wait();
  };
  ASSERT_FALSE(engine_->log().append(std::move(hold)));
  entered.get_future().wait();
  auto late = std::make_shared<answers>();
  const auto start = std::chrono::steady_clock::now();
  engine_->submit(
      create("c-late"), [late](command_result r) { late->add(r); }, std::chrono::milliseconds(200));
  ASSERT_TRUE(late->wait_for(1, std::chrono::seconds(5)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  EXPECT_EQ(late->got[0].status, outcome::failed);
  EXPECT_NE(late->got[0].detail.find("did not answer within 200 ms"), std::string::npos)
      << late->got[0].detail;
  release.set_value();
  // The command goes on once the writer does; its reply then finds nobody waiting for it.
  for (int i = 0; i < 500 && engine_->log().stream_version("call/c-late") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(engine_->log().stream_version("call/c-late"), 2u);
  EXPECT_FALSE(late->wait_for(2, std::chrono::milliseconds(300)));
}

TEST_F(EngineTest, RejectedCommandNamesTheRuleAndAppendsNothing) {
  connected_call("c1");
  const auto before = engine_->log().committed_position();
  auto r = run(cmd::join_supervisor{"c1", "s1", "quentin", domain::supervise_mode::barge});
  EXPECT_EQ(r.status, outcome::rejected);
  EXPECT_EQ(domain::rule_name(r.rule), "supervisor_not_granted");
  EXPECT_EQ(engine_->log().committed_position(), before);
}

TEST_F(EngineTest, ACommandBufferThatFailsVerificationIsRejectedAndAppendsNothing) {
  const auto before = engine_->log().committed_position();
  auto garbage = engine_->execute_encoded("definitely not a flatbuffer");
  EXPECT_EQ(garbage.status, outcome::rejected);
  EXPECT_EQ(garbage.rule, domain::errc::invalid_argument);
  EXPECT_NE(garbage.detail.find("failed verification"), std::string::npos);
  std::string valid = schemas::encode_command(
      {"cmd-1", 0, "acme_support", "telephony", 0},
      cmd::create_call{
          "c1", domain::call_type::inbound, domain::initiation_method::inbound, {}, "+15550001"});
  std::string truncated = valid.substr(0, valid.size() / 2);
  EXPECT_EQ(engine_->execute_encoded(truncated).status, outcome::rejected);
  EXPECT_EQ(engine_->log().committed_position(), before);
  auto ok = engine_->execute_encoded(valid);
  EXPECT_EQ(ok.status, outcome::accepted) << ok.detail;
  EXPECT_EQ(ok.events, 2u);
}

TEST_F(EngineTest, UnknownCallIsRejectedAndAppendsNothing) {
  const auto before = engine_->log().committed_position();
  auto r = run(cmd::hold{"no-such-call", "+1555"});
  EXPECT_EQ(r.status, outcome::rejected);
  EXPECT_EQ(r.rule, domain::errc::call_not_found);
  EXPECT_EQ(engine_->log().committed_position(), before);
}

TEST_F(EngineTest, RepeatedCommandIdReturnsTheFirstOutcomeAndAppendsNothing) {
  connected_call("c1");
  auto first = run(cmd::hold{"c1", "+15550001"}, "cmd-42");
  ASSERT_EQ(first.status, outcome::accepted);
  const auto before = engine_->log().committed_position();
  auto again = run(cmd::hold{"c1", "+15550001"}, "cmd-42");
  EXPECT_EQ(again.status, outcome::accepted);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.stream_version, first.stream_version);
  EXPECT_EQ(again.events, first.events);
  EXPECT_EQ(engine_->log().committed_position(), before);
}

TEST_F(EngineTest, CommandIdsAreRememberedAcrossARestart) {
  connected_call("c1");
  auto first = run(cmd::mute{"c1", "alice"}, "cmd-7");
  ASSERT_EQ(first.status, outcome::accepted);
  engine_.reset();
  start();
  const auto before = engine_->log().committed_position();
  auto again = run(cmd::unmute{"c1", "alice"}, "cmd-7");  // same id, even another body
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(engine_->log().committed_position(), before);
}

TEST_F(EngineTest, ExpectedVersionMismatchIsAConflict) {
  connected_call("c1");
  const auto before = engine_->log().committed_position();
  auto r = run(cmd::hold{"c1", "+15550001"}, {}, 2);
  EXPECT_EQ(r.status, outcome::conflict);
  EXPECT_EQ(r.rule, domain::errc::version_conflict);
  EXPECT_EQ(engine_->log().committed_position(), before);
  auto ok = run(cmd::hold{"c1", "+15550001"}, {}, r.stream_version);
  EXPECT_EQ(ok.status, outcome::accepted) << ok.detail;
}

TEST_F(EngineTest, StateIsRecoveredFromTheLogAfterARestart) {
  connected_call("c1");
  ASSERT_EQ(run(cmd::hold{"c1", "+15550001"}).status, outcome::accepted);
  engine_.reset();
  start();
  // The customer is still held: holding again changes nothing, resuming does.
  auto again = run(cmd::hold{"c1", "+15550001"});
  EXPECT_EQ(again.status, outcome::accepted);
  EXPECT_EQ(again.events, 0u);
  auto resumed = run(cmd::resume{"c1", "+15550001"});
  EXPECT_EQ(resumed.events, 1u);
  EXPECT_EQ(resumed.stream_version, 7u);  // create 2, ring 1, answer 2, hold 1, resume 1
}

TEST_F(EngineTest, TransferSegmentsAreRoutedToTheirConversationAfterARestart) {
  connected_call("c1");
  ASSERT_EQ(run(cmd::start_consult{"c1", "k1", "alice", "ivan", true}).status, outcome::accepted);
  ASSERT_EQ(run(cmd::answer{"k1", "ivan"}).status, outcome::accepted);
  ASSERT_EQ(run(cmd::complete_warm_transfer{"c1", "k1", "d1"}).status, outcome::accepted);
  engine_.reset();
  start();
  auto r = run(cmd::join_supervisor{"d1", "s1", "peggy", domain::supervise_mode::whisper, "ivan"});
  ASSERT_EQ(r.status, outcome::accepted) << r.detail;
  EXPECT_EQ(r.stream_id, "c1");
  EXPECT_EQ(run(cmd::change_supervisor_mode{"s1", domain::supervise_mode::barge}).stream_id, "c1");
}

// The telephony integration names calls by its vendorCallKey: the log keeps the link.
TEST_F(EngineTest, AVendorCallKeyFindsItsCallAfterARestart) {
  ASSERT_EQ(run(cmd::create_call{.voice_call_id = "v1", .vendor_call_key = "carrier-42"}).status,
            outcome::accepted);
  EXPECT_EQ(engine_->voice_call_of_vendor_key("carrier-42"), "v1");
  engine_.reset();
  start();
  EXPECT_EQ(engine_->voice_call_of_vendor_key("carrier-42"), "v1");
  EXPECT_EQ(engine_->voice_call_of_vendor_key("carrier-43"), std::nullopt);
}

TEST_F(EngineTest, EndedIdleCallsArePassivatedAndReactivatedOnDemand) {
  engine_.reset();
  start(std::chrono::milliseconds(50));
  connected_call("c1");
  ASSERT_EQ(run(cmd::end_call{"c1", "hangup"}).status, outcome::accepted);
  const auto s = stats_once([](const router_stats& r) { return r.passivated > 0; });
  EXPECT_EQ(s.passivated, 1u);
  EXPECT_EQ(s.active_calls, 0u);
  auto r = run(cmd::wrap_up{"c1", "alice", "resolved", "ok"});
  EXPECT_EQ(r.status, outcome::accepted) << r.detail;
  EXPECT_EQ(r.stream_version, 7u);
}

// The idle check is the router's sweep (every idle_timeout / 10 of real time) against the
// engine's clock, here a virtual one: a command after the call ended moves its idle time.
TEST_F(EngineTest, ACommandAfterTheEndPostponesPassivation) {
  auto now_us = std::make_shared<std::atomic<std::int64_t>>(1'700'000'000'000'000);
  engine_.reset();
  start(std::chrono::milliseconds(50), [now_us] { return now_us->load(); });
  connected_call("c1");
  ASSERT_EQ(run(cmd::end_call{"c1", "hangup"}).status, outcome::accepted);
  *now_us += 40'000;  // 40 ms after the end: a command, so idle from here
  ASSERT_EQ(run(cmd::wrap_up{"c1", "alice", "resolved", "ok"}).status, outcome::accepted);
  *now_us += 20'000;  // 60 ms after the end, 20 ms after the command
  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // a dozen sweeps
  EXPECT_EQ(stats().passivated, 0u);
  *now_us += 40'000;  // 60 ms after the command
  const auto s = stats_once([](const router_stats& r) { return r.passivated > 0; });
  EXPECT_EQ(s.passivated, 1u);
  EXPECT_EQ(s.active_calls, 0u);
}

TEST_F(EngineTest, TheDemoScenarioRunsThroughTheActors) {
  std::vector<std::string> lines;
  EXPECT_TRUE(tools::run_demo(*engine_, [&](const std::string& l) { lines.push_back(l); }));
  EXPECT_GT(engine_->log().committed_position(), 15u);
}

agent_request to_agent(std::string agent, domain::agent_command body) {
  return {new_id(0), 0, {}, "test", std::move(body), {}, std::move(agent)};
}

TEST_F(EngineTest, TheAgentActorIsWhereCapacityIsReserved) {
  using namespace domain::agent_cmd;
  ASSERT_EQ(engine_->execute(to_agent("alice", set_presence{domain::presence::available})).status,
            outcome::accepted);
  auto first = engine_->execute(to_agent("alice", reserve_offer{"o1", "c1"}));
  ASSERT_EQ(first.status, outcome::accepted) << first.detail;
  EXPECT_EQ(first.stream_id, "alice");
  // alice has capacity 1 in the demo directory: a second reservation is refused.
  auto second = engine_->execute(to_agent("alice", reserve_offer{"o2", "c2"}));
  EXPECT_EQ(second.status, outcome::rejected);
  EXPECT_EQ(domain::rule_name(second.rule), "agent_at_capacity");
  EXPECT_EQ(engine_->log().stream_version("agent/alice"), first.stream_version);
}

TEST_F(EngineTest, AgentStateIsRecoveredAfterARestart) {
  using namespace domain::agent_cmd;
  ASSERT_EQ(engine_->execute(to_agent("bob", set_presence{domain::presence::available})).status,
            outcome::accepted);
  ASSERT_EQ(engine_->execute(to_agent("bob", reserve_offer{"o1", "c1"})).status, outcome::accepted);
  engine_.reset();
  start();
  auto again = engine_->execute(to_agent("bob", reserve_offer{"o2", "c2"}));
  EXPECT_EQ(domain::rule_name(again.rule), "agent_at_capacity");
  EXPECT_EQ(engine_->execute(to_agent("bob", accept_offer{"o1"})).status, outcome::accepted);
}

TEST_F(EngineTest, ARequestWithEventsGetsTheEventsTheLogHolds) {
  using namespace domain::agent_cmd;
  auto req = to_agent("carol", set_presence{domain::presence::available});
  req.with_events = true;
  auto r = engine_->execute(std::move(req));
  ASSERT_EQ(r.status, outcome::accepted) << r.detail;
  EXPECT_EQ(r.stream_id, "carol");
  ASSERT_EQ(r.agent_events.size(), r.events);
  EXPECT_TRUE(r.call_events.empty());
  EXPECT_TRUE(r.queue_events.empty());
  // The events as decided are the events of the envelopes appended.
  auto records = engine_->log().read_stream("agent/carol");
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), r.agent_events.size());
  domain::agent_state from_reply, from_log;
  for (std::size_t i = 0; i < records->size(); ++i) {
    auto d = schemas::decode((*records)[i].envelope);
    ASSERT_TRUE(d);
    const auto logged = schemas::to_agent_event(*d);
    EXPECT_EQ(logged.at_us, r.agent_events[i].at_us);
    EXPECT_EQ(domain::event_type_name(logged.body),
              domain::event_type_name(r.agent_events[i].body));
    domain::evolve(from_log, logged);
    domain::evolve(from_reply, r.agent_events[i]);
  }
  EXPECT_EQ(from_reply, from_log);
  auto plain = engine_->execute(to_agent("carol", set_presence{domain::presence::offline}));
  EXPECT_TRUE(plain.agent_events.empty());
}

// The routing actor addresses an agent's actor directly once it answered (routing_actor.h).
TEST_F(EngineTest, AReplyComesFromTheAggregatesActorWhichTakesTheNextCommandDirectly) {
  using namespace domain::agent_cmd;
  caf::scoped_actor self{engine_->system()};
  caf::strong_actor_ptr sender;
  self->request(engine_->router(), std::chrono::seconds(10), command_atom::value,
                to_agent("carol", set_presence{domain::presence::available}))
      .receive(
          [&](const command_result& r) {
            EXPECT_EQ(r.status, outcome::accepted) << r.detail;
            sender = self->current_sender();
          },
          [](const caf::error& e) { FAIL() << caf::to_string(e); });
  ASSERT_TRUE(sender);
  EXPECT_NE(sender, caf::actor_cast<caf::strong_actor_ptr>(engine_->router()));
  command_result again{outcome::failed};
  self->request(caf::actor_cast<agent_actor>(sender), std::chrono::seconds(10), command_atom::value,
                to_agent("carol", set_presence{domain::presence::away, "lunch"}))
      .receive([&](const command_result& r) { again = r; },
               [](const caf::error& e) { FAIL() << caf::to_string(e); });
  EXPECT_EQ(again.status, outcome::accepted) << again.detail;
  EXPECT_EQ(again.stream_version, 2u);
  EXPECT_EQ(engine_->log().stream_version("agent/carol"), 2u);
}

TEST_F(EngineTest, CommandsForUnknownAgentsAndQueuesAreRefused) {
  auto agent = engine_->execute(to_agent("nobody", domain::agent_cmd::finish_wrap_up{}));
  EXPECT_EQ(domain::rule_name(agent.rule), "unknown_agent");
  queue_request q{new_id(0), 0, {}, "test", domain::queue_cmd::enqueue{"p1", "c1"}, {}, "Nowhere"};
  EXPECT_EQ(engine_->execute(std::move(q)).status, outcome::rejected);
  EXPECT_EQ(engine_->log().committed_position(), 1u);  // only the directory
}

TEST_F(EngineTest, TheQueueActorKeepsItsWaitingItems) {
  queue_request q{new_id(0), 0,        {}, "test", domain::queue_cmd::enqueue{"p1", "c1", 5},
                  {},        "Billing"};
  auto r = engine_->execute(q);
  ASSERT_EQ(r.status, outcome::accepted) << r.detail;
  EXPECT_EQ(engine_->log().stream_version("queue/Billing"), r.stream_version);
  engine_.reset();
  start();
  q.command_id = new_id(0);  // a new command with the same item: a repeat changes nothing
  EXPECT_EQ(engine_->execute(q).events, 0u);
}

TEST_F(EngineTest, TheDirectoryIsKeptAsEventsOnlyWhenItChanges) {
  EXPECT_EQ(engine_->log().stream_version("directory/acme_support"), 1u);
  engine_.reset();
  start();
  EXPECT_EQ(engine_->log().stream_version("directory/acme_support"), 1u);
}

}  // namespace
}  // namespace backline::actors
