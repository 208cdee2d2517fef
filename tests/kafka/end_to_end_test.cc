// End to end: `backlined --demo --once --kafka BOOTSTRAP --kafka-json` as a user runs it, against
// the in-process dev broker; then the real kcat reads every topic and the test compares what it
// got with the engine's log: counts, keys, CloudEvents headers, payloads that verify and decode
// to the log's events, each key's events in order.
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "eventlog/kafka/cloudevents.h"
#include "eventlog/kafka/dev_broker.h"
#include "eventlog/kafka/position_file.h"
#include "eventlog/kafka/publisher.h"
#include "tests/kafka/kafka_test_util.h"

namespace backline::kafka {
namespace {

using testing::kcat_read;
using testing::kcat_record;

using testing::run_backlined;

class KafkaEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_broker_options o;
    o.brokers = 3;
    o.partitions = 4;
    auto b = dev_broker::start(o);
    ASSERT_TRUE(b.has_value()) << b.error();
    broker_ = std::move(*b);
  }
  eventlog::testing::temp_dir dir_;
  std::unique_ptr<dev_broker> broker_;
};

TEST_F(KafkaEndToEnd, DemoEventsArriveWithKeysHeadersAndPayloadsOfTheLog) {
  const std::string data = dir_.path() + "/data";
  const auto wall_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t started_ms = wall_ms();
  auto run = run_backlined(
      "--data " + data + " --demo --once --kafka-json --kafka " + broker_->bootstrap(),
      dir_.path() + "/backlined");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::int64_t ended_ms = wall_ms();

  auto log = eventlog::testing::open_log(data);
  ASSERT_TRUE(log);
  auto all = log->read_from(1, SIZE_MAX);
  ASSERT_TRUE(all.has_value());
  ASSERT_GT(all->size(), 10u) << "the demo should have written a conversation";

  const topic_names topics;
  std::map<std::string, std::size_t> expected_per_topic;
  for (const auto& r : *all)
    ++expected_per_topic[topics.for_kind(r.stream.substr(0, r.stream.find('/')))];

  std::vector<kcat_record> records;
  for (const auto& t : topics.all()) {
    auto got = kcat_read(broker_->bootstrap(), t);
    EXPECT_EQ(got.size(), expected_per_topic[t]) << t;
    records.insert(records.end(), got.begin(), got.end());
  }
  // Every record: the CloudEvents binary-mode headers describe the payload's envelope.
  for (const auto& k : records) {
    auto d = schemas::decode(k.payload);
    ASSERT_TRUE(d.has_value()) << "payload does not verify/decode in " << k.topic;
    EXPECT_EQ(k.key.value_or(""), d->meta.stream_id);
    EXPECT_EQ(k.topic, topics.for_kind(d->meta.stream_kind));
    EXPECT_EQ(k.header("ce_specversion"), "1.0");
    EXPECT_EQ(k.header("ce_id"), schemas::to_string(d->meta.event_id));
    EXPECT_EQ(k.header("ce_type"),
              type_prefix(d->meta.stream_kind) + "." + std::string(schemas::type_name(d->payload)));
    EXPECT_EQ(k.header("ce_source"), "/backline/" + d->meta.tenant);
    EXPECT_EQ(k.header("ce_time"), schemas::format_rfc3339_us(d->meta.occurred_at_us));
    EXPECT_EQ(k.header("ce_subject"), d->meta.stream_kind + "/" + d->meta.stream_id);
    EXPECT_EQ(k.header("content-type"), "application/x-flatbuffers");
    EXPECT_EQ(k.header("ce_dataschema"), std::string(default_dataschema));
    // CreateTime: when the publisher sent it, during the run (see docs/kafka.md).
    EXPECT_GE(k.timestamp_ms, started_ms);
    EXPECT_LE(k.timestamp_ms, ended_ms);
  }
  const auto rep = testing::check_against_log(*log, records);
  EXPECT_EQ(rep.missing, 0u);
  EXPECT_EQ(rep.duplicates, 0u);
  EXPECT_EQ(rep.unique, all->size());

  // The JSON mirror: the same events as CloudEvents structured mode, same keys.
  std::size_t json_records = 0;
  for (const auto& t : topics.all()) {
    for (const auto& k : kcat_read(broker_->bootstrap(), t + ".json")) {
      ++json_records;
      auto j = nlohmann::json::parse(k.payload);
      EXPECT_EQ(j["specversion"], "1.0");
      EXPECT_EQ(k.header("content-type"), std::string(content_type_cloudevents_json));
      const std::string stream = j["data"]["stream"];
      EXPECT_EQ(j["subject"], stream);
      EXPECT_EQ(k.key.value_or(""), stream.substr(stream.find('/') + 1));
      EXPECT_EQ(j["id"], j["data"]["event_id"]);
      EXPECT_TRUE(std::string(j["type"]).starts_with("backline."));
    }
  }
  EXPECT_EQ(json_records, all->size());

  // The published position was stored: a restart has nothing to re-send.
  EXPECT_EQ(position_file(position_file_path(data)).load().value_or(0), all->size());
}

TEST_F(KafkaEndToEnd, EngineWithoutKafkaFlagPublishesNothing) {
  const std::string data = dir_.path() + "/data";
  auto run = run_backlined("--data " + data + " --demo --once", dir_.path() + "/backlined");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_FALSE(std::filesystem::exists(position_file_path(data)));
  EXPECT_TRUE(kcat_read(broker_->bootstrap(), topic_names{}.call).empty());
}

TEST_F(KafkaEndToEnd, BadKafkaConfigIsRefusedWithAHint) {
  auto run = run_backlined("--data " + dir_.path() + "/data --kafka " + broker_->bootstrap() +
                               " --kafka-config enable.idempotence=false",
                           dir_.path() + "/backlined");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("enable.idempotence must stay true"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace backline::kafka
