// The operational routes of the engine's API with Kafka on: /readyz names the Kafka check and
// /metrics carries the publisher's lag and counters next to the log's position, unauthenticated.
#include <regex>

#include "eventlog/kafka/dev_broker.h"
#include "eventlog/kafka/publisher.h"
#include "tests/api/api_fixture.h"

namespace backline::api::testing {
namespace {

double metric(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\n" + name + " ([0-9.e+]+)\n"))) return -1;
  return std::stod(m[1]);
}

TEST(Ops, MetricsAndReadinessShowTheKafkaPublisher) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / fmt::format("backline-api-ops-{}", ::getpid()))
          .string();
  std::filesystem::remove_all(dir);
  kafka::dev_broker_options bo;
  bo.brokers = 1;
  bo.partitions = 2;
  bo.json_topics = false;
  auto broker = kafka::dev_broker::start(bo);
  ASSERT_TRUE(broker.has_value()) << broker.error();
  actors::engine_options eo;
  eo.data_dir = dir + "/data";
  eo.directory_file = std::string(BACKLINE_SOURCE_DIR) + "/deploy/demo-callcenter.toml";
  eo.scheduler_threads = 2;
  auto engine = actors::engine::start(eo);
  ASSERT_TRUE(engine.has_value()) << engine.error();
  kafka::publisher_options po;
  po.bootstrap = (*broker)->bootstrap();
  po.state_dir = eo.data_dir;
  auto publisher = kafka::publisher::start((*engine)->log(), po);
  ASSERT_TRUE(publisher.has_value()) << publisher.error();
  auto dev = auth::ensure_dev_key(dir + "/keys", {.warn = [](std::string_view) {}});
  ASSERT_TRUE(dev.has_value());
  auto server = std::make_unique<http::server>(http::options{.address = "127.0.0.1", .port = 0});
  api::install(
      *server,
      {.engine = engine->get(),
       .kafka = publisher->get(),
       .verifier = std::make_shared<const auth::verifier>(*auth::verifier::make(dev->config))});
  auto port = server->start();
  ASSERT_TRUE(port.has_value());

  domain::cmd::create_call c;
  c.voice_call_id = actors::new_id((*engine)->now_us());
  c.vendor_call_key = "ops-1";
  c.from = customer_number;
  c.to = center_number;
  actors::command_request r;
  r.command_id = actors::new_id((*engine)->now_us());
  r.tenant = (*engine)->directory().call_center;
  r.principal = "test";
  r.body = c;
  ASSERT_EQ((*engine)->execute(std::move(r)).status, actors::outcome::accepted);
  const auto committed = (*engine)->log().committed_position();
  ASSERT_TRUE((*publisher)->wait_published(committed, std::chrono::seconds(20)));

  http::testing::client client(*port);
  const auto metrics = client.request("GET", "/metrics");  // no token needed
  ASSERT_EQ(metrics.status, 200);
  const std::string text = "\n" + metrics.body;
  EXPECT_EQ(metric(text, "backline_log_committed_position"), static_cast<double>(committed));
  EXPECT_EQ(metric(text, "backline_kafka_published_position"), static_cast<double>(committed));
  EXPECT_EQ(metric(text, "backline_kafka_lag_events"), 0);
  EXPECT_GE(metric(text, "backline_kafka_records_delivered_total"), static_cast<double>(committed));
  EXPECT_EQ(metric(text, "backline_kafka_producer_errors_total"), 0);
  EXPECT_NE(text.find("# TYPE backline_kafka_delivery_errors_total counter"), std::string::npos);

  const auto ready = client.request("GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  const auto j = json::parse(ready.body);
  std::set<std::string> checks;
  for (const auto& check : j["checks"]) checks.insert(check["name"].get<std::string>());
  EXPECT_EQ(checks, (std::set<std::string>{"log", "kafka"}));  // projections off here

  server.reset();
  publisher->reset();
  engine->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace backline::api::testing
