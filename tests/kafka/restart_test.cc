// kill -9 of the publisher mid-stream: a child process (this binary, re-executed to run only the
// disabled test below) publishes a log of 20,000 events to the dev broker, which runs in the
// parent with a slow round trip; the parent kills it once some positions are stored, restarts the
// publisher from the stored position and reads every topic with kcat. Zero missing; duplicates
// only at positions after the stored one (the unacknowledged tail); a consumer-side dedupe by
// ce_id leaves every event once, each key in order.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventlog/kafka/dev_broker.h"
#include "eventlog/kafka/position_file.h"
#include "eventlog/kafka/publisher.h"
#include "tests/kafka/kafka_test_util.h"

namespace backline::kafka {
namespace {

using namespace std::chrono_literals;
constexpr std::size_t events = 20'000;
constexpr const char* env_dir = "BACKLINE_KAFKA_RESTART_DIR";
constexpr const char* env_bootstrap = "BACKLINE_KAFKA_RESTART_BOOTSTRAP";

publisher_options child_options(const std::string& dir, const std::string& bootstrap) {
  publisher_options o;
  o.bootstrap = bootstrap;
  o.state_dir = dir + "/state";
  o.store_interval_ms = 10;  // store often, so the kill lands between stores
  o.in_flight_events_max = 400;
  o.read_batch_events_max = 100;
  return o;
}

// Not a test: the body of the child process (disabled so that it never runs alone).
TEST(KafkaRestart, DISABLED_ChildPublishesUntilKilled) {
  const char* dir = std::getenv(env_dir);
  const char* bootstrap = std::getenv(env_bootstrap);
  if (!dir || !bootstrap) GTEST_SKIP() << "run by KafkaRestart tests only";
  auto log = eventlog::testing::open_log(std::string(dir) + "/log");
  if (!log) ::_exit(2);
  auto p = publisher::start(*log, child_options(dir, bootstrap));
  if (!p) ::_exit(3);
  for (;;) std::this_thread::sleep_for(1s);  // until SIGKILL
}

pid_t spawn_child(const std::string& dir, const std::string& bootstrap) {
  const pid_t child = ::fork();
  if (child != 0) return child;
  ::setenv(env_dir, dir.c_str(), 1);
  ::setenv(env_bootstrap, bootstrap.c_str(), 1);
  const char* args[] = {"kafka_test",
                        "--gtest_filter=KafkaRestart.DISABLED_ChildPublishesUntilKilled",
                        "--gtest_also_run_disabled_tests", nullptr};
  ::execv("/proc/self/exe", const_cast<char* const*>(args));
  ::_exit(127);
}

TEST(KafkaRestart, KillNineMidStreamLosesNothingAndDuplicatesOnlyTheUnackedTail) {
  eventlog::testing::temp_dir dir;
  dev_broker_options bo;
  bo.brokers = 3;
  bo.partitions = 6;
  bo.json_topics = false;
  auto broker = dev_broker::start(bo);
  ASSERT_TRUE(broker.has_value()) << broker.error();
  {
    auto log = eventlog::testing::open_log(dir.path() + "/log");
    ASSERT_TRUE(log);
    std::vector<std::uint64_t> versions;
    testing::append_events(*log, events, 500, versions, 500);
  }  // closed: the child opens it

  // Slow acknowledgements so the child is still mid-stream when it is killed.
  rd_kafka_mock_broker_set_rtt((*broker)->cluster(), -1, 40);
  const position_file stored(position_file_path(dir.path() + "/state"));
  const pid_t child = spawn_child(dir.path(), (*broker)->bootstrap());
  ASSERT_GT(child, 0);
  std::uint64_t seen = 0;
  for (int i = 0; i < 2'000 && seen < 2'000; ++i) {
    std::this_thread::sleep_for(5ms);
    seen = stored.load().value_or(0);
  }
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited early with status " << status;
  const std::uint64_t at_kill = stored.load().value_or(0);
  ASSERT_GE(at_kill, 2'000u) << "the child stored too little before the kill";
  ASSERT_LT(at_kill, events) << "the child finished before the kill: nothing was mid-stream";

  rd_kafka_mock_broker_set_rtt((*broker)->cluster(), -1, 0);
  auto log = eventlog::testing::open_log(dir.path() + "/log");
  ASSERT_TRUE(log);
  {
    publisher_options o = child_options(dir.path(), (*broker)->bootstrap());
    o.in_flight_events_max = 20'000;
    auto p = publisher::start(*log, o);
    ASSERT_TRUE(p.has_value()) << p.error();
    ASSERT_TRUE((*p)->wait_published(events, 20s));
  }
  EXPECT_EQ(stored.load().value_or(0), events);

  std::vector<testing::kcat_record> records;
  for (const auto& t : topic_names{}.all()) {
    auto got = testing::kcat_read((*broker)->bootstrap(), t);
    records.insert(records.end(), got.begin(), got.end());
  }
  const auto rep = testing::check_against_log(*log, records);
  EXPECT_EQ(rep.missing, 0u);
  EXPECT_EQ(rep.unique, events);
  EXPECT_EQ(records.size(), events + rep.duplicates);
  for (const auto position : rep.duplicated_positions) {
    EXPECT_GT(position, at_kill) << "a position the child had stored was sent again";
  }
  std::cout << "stored at kill " << at_kill << ", duplicates " << rep.duplicates
            << " (removed by the dedupe)\n";
}

}  // namespace
}  // namespace backline::kafka
