// Faults: 3 mock brokers, 10,000 events, Produce requests failing (NOT_ENOUGH_REPLICAS, transport
// errors, timeouts) and brokers taken down and up while events keep arriving. Every event must
// arrive exactly once (the producer's retries and the relay add no duplicates), in order per key.
// Also: a broker outage holds events in the log within the in-flight bound, then catches up.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <mutex>

#include "eventlog/kafka/dev_broker.h"
#include "eventlog/kafka/publisher.h"
#include "tests/kafka/kafka_test_util.h"

namespace backline::kafka {
namespace {

using namespace std::chrono_literals;
constexpr std::int16_t produce_api = 0;  // Kafka protocol ApiKey of ProduceRequest

class KafkaFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_broker_options o;
    o.brokers = 3;
    o.partitions = 6;
    o.json_topics = false;
    auto b = dev_broker::start(o);
    ASSERT_TRUE(b.has_value()) << b.error();
    broker_ = std::move(*b);
    log_ = eventlog::testing::open_log(dir_.path() + "/log");
    ASSERT_TRUE(log_);
  }

  // `pipelined` = false keeps one Produce request in flight per connection. The mock checks
  // sequence numbers only for transactional producers, so a batch it appended whose response a
  // closed connection lost comes back as a retry and is appended twice, where a real broker
  // acknowledges it as a duplicate. Closing a connection (an injected transport error, a broker
  // taken down) drops the responses queued behind the failing request; with one request in
  // flight there are none, and with brokers taken down only once everything sent is acknowledged,
  // every duplicate the test can see is one the publisher made.
  publisher_options options(std::size_t in_flight_max = 2'000, bool pipelined = true) {
    publisher_options o;
    o.bootstrap = broker_->bootstrap();
    o.state_dir = dir_.path() + "/state";
    o.in_flight_events_max = in_flight_max;
    o.read_batch_events_max = 500;
    o.restart_backoff_ms = 50;
    o.producer_config = {{"retry.backoff.ms", "20"},
                         {"reconnect.backoff.ms", "20"},
                         {"reconnect.backoff.max.ms", "200"}};
    if (!pipelined) o.producer_config.emplace_back("max.in.flight.requests.per.connection", "1");
    o.log_line = [this](const std::string& l) {
      std::lock_guard lock(lines_mutex_);
      lines_.push_back(l);
    };
    return o;
  }

  eventlog::testing::temp_dir dir_;
  std::unique_ptr<dev_broker> broker_;
  std::unique_ptr<eventlog::log> log_;
  std::vector<std::uint64_t> versions_;
  std::mutex lines_mutex_;
  std::vector<std::string> lines_;
};

TEST_F(KafkaFaults, ProduceErrorsAndBrokerRestartsLoseNothingAndDuplicateNothing) {
  rd_kafka_mock_cluster_t* mock = broker_->cluster();
  auto p = publisher::start(*log_, options(2'000, /*pipelined=*/false));
  ASSERT_TRUE(p.has_value()) << p.error();

  // Phase 1: requests fail with retriable broker errors and dropped connections.
  rd_kafka_mock_push_request_errors(
      mock, produce_api, 8, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR__TRANSPORT,
      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR__TRANSPORT,
      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  testing::append_events(*log_, 2'500, 300, versions_);
  // Phase 2: one broker goes down (its partitions stall: the mock keeps leaders) and returns.
  // Taken down only once what was sent is acknowledged (see options()).
  ASSERT_TRUE((*p)->wait_published(2'500, 25s));
  rd_kafka_mock_broker_set_down(mock, 2);
  testing::append_events(*log_, 2'500, 300, versions_);
  std::this_thread::sleep_for(500ms);
  rd_kafka_mock_broker_set_up(mock, 2);
  // Phase 3: more errors while a second broker bounces.
  rd_kafka_mock_push_request_errors(
      mock, produce_api, 4, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR__TRANSPORT);
  ASSERT_TRUE((*p)->wait_published(5'000, 25s));
  rd_kafka_mock_broker_set_down(mock, 3);
  testing::append_events(*log_, 2'500, 300, versions_);
  std::this_thread::sleep_for(300ms);
  rd_kafka_mock_broker_set_up(mock, 3);
  testing::append_events(*log_, 2'500, 300, versions_);

  ASSERT_TRUE((*p)->wait_published(10'000, 25s))
      << "published " << (*p)->stats().published_position << " of 10000";
  const auto s = (*p)->stats();
  EXPECT_EQ(s.lag_events, 0u);
  EXPECT_EQ(s.in_flight_events, 0u);
  p->reset();

  std::vector<testing::kcat_record> records;
  for (const auto& t : topic_names{}.all()) {
    auto got = testing::kcat_read(broker_->bootstrap(), t);
    records.insert(records.end(), got.begin(), got.end());
  }
  const auto rep = testing::check_against_log(*log_, records);
  EXPECT_EQ(rep.unique, 10'000u);
  EXPECT_EQ(rep.missing, 0u);
  EXPECT_EQ(rep.duplicates, 0u) << "the idempotent producer's retries must not duplicate";
  EXPECT_EQ(records.size(), 10'000u);
  if (HasFailure()) {
    std::lock_guard lock(lines_mutex_);
    for (const auto& l : lines_) ADD_FAILURE() << "publisher: " << l;
  }
}

TEST_F(KafkaFaults, OutageHoldsEventsInTheLogWithinTheBoundThenCatchesUp) {
  rd_kafka_mock_cluster_t* mock = broker_->cluster();
  constexpr std::size_t bound = 1'000;
  auto p = publisher::start(*log_, options(bound));
  ASSERT_TRUE(p.has_value()) << p.error();
  testing::append_events(*log_, 500, 50, versions_);
  ASSERT_TRUE((*p)->wait_published(500, 10s));

  rd_kafka_mock_broker_set_down(mock, -1);  // every broker
  testing::append_events(*log_, 9'500, 50, versions_);
  std::uint64_t in_flight_max_seen = 0;
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(50ms);
    in_flight_max_seen = std::max(in_flight_max_seen, (*p)->stats().in_flight_events);
  }
  const auto during = (*p)->stats();
  EXPECT_LE(in_flight_max_seen, bound);
  EXPECT_GE(during.lag_events, 10'000u - 500u - bound);
  EXPECT_EQ(log_->committed_position(), 10'000u) << "the engine's appends never wait for Kafka";

  rd_kafka_mock_broker_set_up(mock, -1);
  ASSERT_TRUE((*p)->wait_published(10'000, 25s))
      << "published " << (*p)->stats().published_position << " of 10000";
  EXPECT_EQ((*p)->stats().lag_events, 0u);
  p->reset();

  std::vector<testing::kcat_record> records;
  for (const auto& t : topic_names{}.all()) {
    auto got = testing::kcat_read(broker_->bootstrap(), t);
    records.insert(records.end(), got.begin(), got.end());
  }
  const auto rep = testing::check_against_log(*log_, records);
  EXPECT_EQ(rep.missing, 0u);
  EXPECT_EQ(rep.duplicates, 0u);
}

}  // namespace
}  // namespace backline::kafka
