// The pure pieces: topic names, CloudEvents attributes, the structured-mode JSON, the stored
// position file.
#include <nlohmann/json.hpp>

#include "eventlog/kafka/cloudevents.h"
#include "eventlog/kafka/position_file.h"
#include "tests/kafka/kafka_test_util.h"

namespace backline::kafka {
namespace {

TEST(KafkaTopics, OneTopicPerStreamKindConfigurable) {
  topic_names t;
  EXPECT_EQ(t.for_kind("call"), "backline.voicecall.v1");
  EXPECT_EQ(t.for_kind("agent"), "backline.agent.v1");
  EXPECT_EQ(t.for_kind("queue"), "backline.queue.v1");
  EXPECT_EQ(t.for_kind("directory"), "backline.directory.v1");
  EXPECT_EQ(t.for_kind("media"), "backline.media.v1");
  t.call = "prod.calls";
  EXPECT_EQ(t.for_kind("call"), "prod.calls");
  EXPECT_EQ(type_prefix("call"), "backline.voicecall.v1") << "ce_type does not follow renames";
}

TEST(KafkaCloudEvents, AgentAndQueueOfferDeclinedHaveDifferentTypes) {
  const attribute_options o;
  auto agent = make_attributes(o, "id-1", "agent", "alice", "acme", 0, "offer_declined");
  auto queue = make_attributes(o, "id-2", "queue", "Billing", "acme", 0, "offer_declined");
  EXPECT_EQ(agent.type, "backline.agent.v1.offer_declined");
  EXPECT_EQ(queue.type, "backline.queue.v1.offer_declined");
  EXPECT_EQ(agent.source, "/backline/acme");
  EXPECT_EQ(agent.subject, "agent/alice");
  EXPECT_EQ(agent.time, "1970-01-01T00:00:00.000000Z");
}

TEST(KafkaCloudEvents, BinaryHeadersCarryEveryRequiredAttribute) {
  const attribute_options o;
  const auto a = make_attributes(o, "0190-id", "call", "c1", "acme", 1'700'000'000'000'000,
                                 "participant_joined");
  std::map<std::string, std::string> h;
  for (const auto& [k, v] : binary_headers(o, a)) h[k] = v;
  EXPECT_EQ(h["ce_specversion"], "1.0");
  EXPECT_EQ(h["ce_id"], "0190-id");
  EXPECT_EQ(h["ce_type"], "backline.voicecall.v1.participant_joined");
  EXPECT_EQ(h["ce_source"], "/backline/acme");
  EXPECT_EQ(h["ce_time"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(h["content-type"], "application/x-flatbuffers");
  EXPECT_EQ(h["ce_dataschema"], std::string(default_dataschema));
}

TEST(KafkaCloudEvents, StructuredJsonWrapsTheEventsJson) {
  const std::string bytes = testing::test_envelope("call", 7, 3);
  auto d = schemas::decode(bytes);
  ASSERT_TRUE(d.has_value());
  const attribute_options o;
  const auto a = make_attributes(o, schemas::to_string(d->meta.event_id), "call", "call-7", "acme",
                                 d->meta.occurred_at_us, "call_ringing");
  auto j = nlohmann::json::parse(structured_json(o, a, *d));
  EXPECT_EQ(j["specversion"], "1.0");
  EXPECT_EQ(j["type"], "backline.voicecall.v1.call_ringing");
  EXPECT_EQ(j["datacontenttype"], "application/json");
  EXPECT_EQ(j["data"]["event_id"], j["id"]);
  EXPECT_EQ(j["data"]["version"], 3);
}

TEST(KafkaCloudEvents, StructuredJsonEscapesAttributesThatNeedIt) {
  const std::string bytes = testing::test_envelope("call", 7, 3);
  auto d = schemas::decode(bytes);
  ASSERT_TRUE(d.has_value());
  const attribute_options o;
  const std::string tenant = "acme \"support\"\\\n\tcaf\xc3\xa9";
  const auto a =
      make_attributes(o, "id-1", "call", "c/\x01", tenant, d->meta.occurred_at_us, "call_ringing");
  const std::string text = structured_json(o, a, *d);
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["source"], "/backline/" + tenant);
  EXPECT_EQ(j["subject"], "call/c/\x01");
  // nlohmann's escaping, UTF-8 kept as is.
  const std::string source =
      R"("source":"/backline/acme \"support\"\\\n\tcaf)" + std::string("\xc3\xa9") + "\"";
  EXPECT_NE(text.find(source), std::string::npos) << text;
  EXPECT_NE(text.find(R"("subject":"call/c/\u0001")"), std::string::npos) << text;
}

TEST(KafkaPositionFile, MissingIsZeroStoredIsLoadedGarbageIsAnError) {
  eventlog::testing::temp_dir dir;
  position_file f(dir.path() + "/pos");
  EXPECT_EQ(f.load().value_or(99), 0u);
  ASSERT_TRUE(f.store(12'345).has_value());
  EXPECT_EQ(f.load().value_or(0), 12'345u);
  ASSERT_TRUE(f.store(12'346).has_value());
  EXPECT_EQ(f.load().value_or(0), 12'346u);
  FILE* out = std::fopen((dir.path() + "/pos").c_str(), "w");
  std::fputs("garbage", out);
  std::fclose(out);
  auto bad = f.load();
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().find("remove it"), std::string::npos);
}

}  // namespace
}  // namespace backline::kafka
