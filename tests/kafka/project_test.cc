// Consuming: `backlined --demo --once --kafka` publishes to the in-process dev broker, then the
// read models are built from Kafka (tools/cli_kafka_consume.h, what `backline project --kafka`
// runs) and compared, model by model, with a rebuild from the log; a second run resumes from the
// stored offsets; re-published envelopes are skipped as duplicates; `events tail --kafka` prints
// every event.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "eventlog/kafka/cloudevents.h"
#include "eventlog/kafka/dev_broker.h"
#include "projections/projector.h"
#include "projections/store.h"
#include "tests/kafka/kafka_test_util.h"
#include "tools/cli_kafka_consume.h"

namespace backline::kafka {
namespace {

using testing::run_backlined;

// Produces each envelope again, as a relay restart would: same topic, key and value.
void republish(const std::string& bootstrap, const std::vector<eventlog::record>& records) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err),
            RD_KAFKA_CONF_OK);
  ASSERT_EQ(rd_kafka_conf_set(conf, "partitioner", "murmur2_random", err, sizeof err),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  ASSERT_NE(rk, nullptr) << err;
  const topic_names topics;
  for (const auto& r : records) {
    const auto slash = r.stream.find('/');
    const std::string topic = topics.for_kind(r.stream.substr(0, slash));
    const std::string key = r.stream.substr(slash + 1);
    const auto e =
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                          RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(r.envelope.data()), r.envelope.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
  }
  ASSERT_EQ(rd_kafka_flush(rk, 10'000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

class KafkaProject : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_broker_options o;
    o.brokers = 1;
    o.partitions = 3;
    o.json_topics = false;
    auto b = dev_broker::start(o);
    ASSERT_TRUE(b.has_value()) << b.error();
    broker_ = std::move(*b);
    ASSERT_EQ(run_backlined("--data " + data_ + " --demo --once --kafka " + broker_->bootstrap(),
                            dir_.path() + "/backlined")
                  .exit_code,
              0);
    log_ = eventlog::testing::open_log(data_);
    ASSERT_TRUE(log_);
    auto all = log_->read_from(1, SIZE_MAX);
    ASSERT_TRUE(all.has_value());
    ASSERT_GT(all->size(), 10u) << "the demo should have written a conversation";
    events_ = std::move(*all);
  }

  cli::result<cli::project_kafka_result> project() {
    cli::project_kafka_options o;
    o.bootstrap = broker_->bootstrap();
    o.group = "project-test";
    o.store_dir = store_;
    o.until_idle_s = 2;
    o.batch_events = 7;  // several flushes, each with its offsets
    o.consumer_config = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    return cli::project_from_kafka(o);
  }

  // replay_and_verify: every model of the Kafka-built store against a rebuild from the log.
  void expect_equal_to_the_log() {
    auto st = projections::store::open({store_, projections::open_mode::read_write});
    ASSERT_TRUE(st.has_value()) << st.error().message();
    EXPECT_EQ((*st)->checkpoint(), log_->committed_position());
    auto rep = projections::replay_and_verify(
        *log_, **st, dir_.path() + "/scratch-" + std::to_string(++verifies_));
    ASSERT_TRUE(rep.has_value()) << rep.error().message();
    EXPECT_TRUE(rep->equal()) << projections::render(*rep);
    EXPECT_EQ(rep->models.size(), projections::model_count);
  }

  eventlog::testing::temp_dir dir_;
  std::string data_ = dir_.path() + "/data";
  std::string store_ = dir_.path() + "/from-kafka";
  std::unique_ptr<dev_broker> broker_;
  std::unique_ptr<eventlog::log> log_;
  std::vector<eventlog::record> events_;
  int verifies_ = 0;
};

TEST_F(KafkaProject, ModelsBuiltFromKafkaHashEqualTheLogsAndASecondRunAppliesNothing) {
  auto first = project();
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->records, events_.size());
  EXPECT_EQ(first->stats.events, events_.size());
  EXPECT_EQ(first->stats.duplicates, 0u);
  EXPECT_EQ(first->checkpoint, log_->committed_position());
  std::uint64_t offsets_total = 0;
  for (const auto& [tp, next] : first->offsets) offsets_total += static_cast<std::uint64_t>(next);
  EXPECT_EQ(offsets_total, events_.size()) << "one record per event, every offset stored";
  expect_equal_to_the_log();

  auto second = project();
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->records, 0u) << "the second run seeks to the stored offsets";
  EXPECT_EQ(second->stats.events, 0u);
  EXPECT_EQ(second->offsets, first->offsets);
  expect_equal_to_the_log();
}

TEST_F(KafkaProject, RepublishedEnvelopesAreSkippedAsDuplicates) {
  ASSERT_TRUE(project().has_value());
  // The tail the relay would send again after a restart, and a few from the start.
  std::vector<eventlog::record> again(events_.end() - 8, events_.end());
  again.insert(again.end(), events_.begin(), events_.begin() + 3);
  republish(broker_->bootstrap(), again);

  auto r = project();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  // Call events are recognised across runs by their stream version; agent, queue and directory
  // events (which only advance the checkpoint, the highest position) only within a run.
  const auto calls = static_cast<std::size_t>(std::ranges::count_if(
      again, [](const eventlog::record& e) { return e.stream.starts_with("call/"); }));
  ASSERT_GT(calls, 0u);
  EXPECT_EQ(r->records, again.size());
  EXPECT_EQ(r->stats.duplicates, calls);
  EXPECT_EQ(r->stats.events, again.size() - calls);
  // Seen only by the stream-version check (a new run, no event ids in memory): rehydrated from
  // the envelopes the store keeps.
  EXPECT_GT(r->stats.rehydrations, 0u);
  expect_equal_to_the_log();
}

TEST_F(KafkaProject, DuplicatesWithinOneRunAreSkippedByEventId) {
  std::vector<eventlog::record> again(events_.begin(), events_.begin() + 5);
  republish(broker_->bootstrap(), again);
  auto r = project();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->records, events_.size() + again.size());
  EXPECT_EQ(r->stats.events, events_.size());
  EXPECT_EQ(r->stats.duplicates, again.size());
  expect_equal_to_the_log();
}

TEST_F(KafkaProject, EventsTailFromKafkaPrintsEveryEventAsJsonl) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  cli::kafka_tail_options o;
  o.bootstrap = broker_->bootstrap();
  o.output = cli::format::jsonl;
  o.out = out;
  ASSERT_EQ(cli::run_events_tail_kafka(o), cli::exit_ok);
  std::rewind(out);
  std::set<std::string> printed;
  char line[1 << 16];
  while (std::fgets(line, sizeof line, out)) {
    auto j = nlohmann::json::parse(line);
    printed.insert(j.at("event_id").get<std::string>());
    EXPECT_TRUE(j.contains("stream") && j.contains("type") && j.contains("position"));
  }
  std::fclose(out);
  std::set<std::string> expected;
  for (const auto& r : events_) {
    auto d = schemas::decode(r.envelope);
    ASSERT_TRUE(d.has_value());
    expected.insert(schemas::to_string(d->meta.event_id));
  }
  EXPECT_EQ(printed, expected);
}

}  // namespace
}  // namespace backline::kafka
