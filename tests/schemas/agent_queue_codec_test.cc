// The agent and queue events in the envelope (schemas/codec.h): round trips, their union tags
// (100 + index, 200 + index), refusal of unknown tags and values, and their JSON rendering.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "actors/domain/agent.h"
#include "actors/domain/queue.h"
#include "schemas/codec.h"
#include "schemas/envelope_generated.h"
#include "tests/schemas/samples.h"

namespace backline::schemas {
namespace {

using testing::default_fields;
using testing::same_fields;
using testing::sample_agent_events;
using testing::sample_meta;
using testing::sample_queue_events;

envelope_meta agent_meta() {
  envelope_meta m = sample_meta();
  m.stream_kind = "agent";
  m.stream_id = "alice";
  return m;
}
envelope_meta queue_meta() {
  envelope_meta m = sample_meta();
  m.stream_kind = "queue";
  m.stream_id = "Billing";
  return m;
}

std::string bytes_of(const flatbuffers::FlatBufferBuilder& b) {
  return {reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize()};
}

// Encodes every sample, decodes it and compares field by field.
template <class Body>
void expect_round_trips(const std::vector<Body>& samples, const envelope_meta& meta) {
  for (const auto& e : samples) {
    const std::string bytes = encode(meta, e);
    ASSERT_TRUE(verify_envelope(bytes));
    auto d = decode(bytes);
    ASSERT_TRUE(d.has_value()) << d.error().message() << " for alternative " << e.index();
    EXPECT_EQ(d->meta, meta);
    const auto* back = std::get_if<Body>(&d->payload);
    ASSERT_NE(back, nullptr) << "alternative " << e.index();
    ASSERT_EQ(back->index(), e.index());
    std::visit(
        [&](const auto& original) {
          using T = std::decay_t<decltype(original)>;
          EXPECT_TRUE(same_fields(original, std::get<T>(*back))) << "alternative " << e.index();
        },
        e);
  }
}

template <class Body>
void expect_defaults_round_trip(const std::vector<Body>& samples) {
  for (const auto& sample : samples) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          auto d = decode(encode(envelope_meta{}, Body(T{})));
          ASSERT_TRUE(d.has_value());
          EXPECT_TRUE(same_fields(T{}, std::get<T>(std::get<Body>(d->payload))));
        },
        sample);
  }
}

template <class Body>
void expect_tags_from(const std::vector<Body>& samples, std::size_t base) {
  for (const auto& e : samples) {
    const std::string bytes = encode(sample_meta(), e);
    const fb::Envelope* env = fb::GetEnvelope(bytes.data());
    EXPECT_EQ(static_cast<std::size_t>(env->body_type()), base + e.index());
  }
}

TEST(AgentQueueCodec, SamplesCoverEveryAgentAndQueueEventWithNonDefaultFields) {
  std::set<std::size_t> agent, queue;
  for (const auto& e : sample_agent_events()) {
    agent.insert(e.index());
    std::visit([](const auto& v) { EXPECT_EQ(default_fields(v), std::vector<std::size_t>{}); }, e);
  }
  for (const auto& e : sample_queue_events()) {
    queue.insert(e.index());
    std::visit([](const auto& v) { EXPECT_EQ(default_fields(v), std::vector<std::size_t>{}); }, e);
  }
  EXPECT_EQ(agent.size(), std::variant_size_v<domain::agent_event_body>);
  EXPECT_EQ(queue.size(), std::variant_size_v<domain::queue_event_body>);
}

TEST(AgentQueueCodec, EveryAgentEventRoundTripsThroughTheEnvelope) {
  expect_round_trips(sample_agent_events(), agent_meta());
}

TEST(AgentQueueCodec, EveryQueueEventRoundTripsThroughTheEnvelope) {
  expect_round_trips(sample_queue_events(), queue_meta());
}

TEST(AgentQueueCodec, DefaultValuedEventsRoundTripAsDefaults) {
  expect_defaults_round_trip(sample_agent_events());
  expect_defaults_round_trip(sample_queue_events());
}

// The union tags are a storage format: pinned here, not only derived.
TEST(AgentQueueCodec, UnionTagsAreTheBasePlusTheVariantIndex) {
  expect_tags_from(sample_agent_events(), 100);
  expect_tags_from(sample_queue_events(), 200);
  EXPECT_EQ(static_cast<int>(fb::EventBody::PresenceChanged), 100);
  EXPECT_EQ(static_cast<int>(fb::EventBody::CallbackCancelled), 110);
  EXPECT_EQ(static_cast<int>(fb::EventBody::Enqueued), 200);
  EXPECT_EQ(static_cast<int>(fb::EventBody::QueueOfferTimedOut), 208);
  EXPECT_EQ(static_cast<int>(fb::EventBody::DirectoryReplaced), 64);
  EXPECT_EQ(static_cast<int>(fb::EventBody::AttributesUpdated), 27);
  EXPECT_EQ(static_cast<int>(fb::EventBody::QueueAssigned), 28);
}

TEST(AgentQueueCodec, ToAgentAndQueueEventPairTheBodyWithItsInstant) {
  auto a = decode(encode(agent_meta(), sample_agent_events().back()));
  ASSERT_TRUE(a.has_value());
  const domain::agent_event ae = to_agent_event(*a);
  EXPECT_EQ(ae.at_us, sample_meta().occurred_at_us);
  EXPECT_EQ(ae.body.index(), std::variant_size_v<domain::agent_event_body> - 1);

  auto q = decode(encode(queue_meta(), sample_queue_events().front()));
  ASSERT_TRUE(q.has_value());
  const domain::queue_event qe = to_queue_event(*q);
  EXPECT_EQ(qe.at_us, sample_meta().occurred_at_us);
  EXPECT_EQ(std::get<domain::queue_evt::enqueued>(qe.body).required_skills.size(), 2u);
}

TEST(AgentQueueCodec, StampPositionChangesOnlyTheLogPosition) {
  std::vector<std::string> originals;
  for (const auto& e : sample_agent_events()) originals.push_back(encode(agent_meta(), e));
  for (const auto& e : sample_queue_events()) originals.push_back(encode(queue_meta(), e));
  for (const std::string& original : originals) {
    std::string stamped = original;
    stamp_position(stamped, 0x0102'0304'0506'0708ull);
    auto before = decode(original);
    auto after = decode(stamped);
    ASSERT_TRUE(before.has_value() && after.has_value());
    EXPECT_EQ(after->meta.log_position, 0x0102'0304'0506'0708ull);
    after->meta.log_position = before->meta.log_position;
    EXPECT_EQ(to_json(*after), to_json(*before));
  }
}

// A buffer from a newer writer: a tag in the agent or queue range that this build does not know.
TEST(AgentQueueCodec, UnknownTagsInTheAgentAndQueueRangesAreUnknownBodies) {
  for (int tag : {65, 99, 111, 150, 199, 209, 255}) {
    flatbuffers::FlatBufferBuilder b;
    auto body = fb::CreateWorkReleased(b, b.CreateString("vc")).Union();
    auto root = fb::CreateEnvelope(b, nullptr, b.CreateString("agent"), 0, 1, 0, 0, 0, 0, 0, 0,
                                   static_cast<fb::EventBody>(tag), body);
    fb::FinishEnvelopeBuffer(b, root);
    const std::string bytes = bytes_of(b);
    EXPECT_TRUE(verify_envelope(bytes)) << tag;
    EXPECT_EQ(decode(bytes).error(), errc::unknown_body) << tag;
  }
}

TEST(AgentQueueCodec, OutOfRangePresenceOrOfferKindIsReportedAsInvalidValue) {
  flatbuffers::FlatBufferBuilder b;
  auto body = fb::CreatePresenceChanged(b, static_cast<fb::Presence>(5)).Union();
  auto root = fb::CreateEnvelope(b, nullptr, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                 fb::EventBody::PresenceChanged, body);
  fb::FinishEnvelopeBuffer(b, root);
  EXPECT_EQ(decode(bytes_of(b)).error(), errc::invalid_value);

  flatbuffers::FlatBufferBuilder c;
  auto offer = fb::CreateOfferReserved(c, 0, 0, static_cast<fb::OfferKind>(3)).Union();
  auto croot = fb::CreateEnvelope(c, nullptr, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                  fb::EventBody::OfferReserved, offer);
  fb::FinishEnvelopeBuffer(c, croot);
  EXPECT_EQ(decode(bytes_of(c)).error(), errc::invalid_value);
}

// A writer without force_defaults leaves default scalars out: the schema's defaults must be the
// domain's, or such a buffer would read back as another value.
TEST(AgentQueueCodec, AbsentScalarsReadBackAsTheDomainDefaults) {
  flatbuffers::FlatBufferBuilder b;  // ForceDefaults off
  auto presence = fb::CreatePresenceChanged(b).Union();
  auto root = fb::CreateEnvelope(b, nullptr, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                 fb::EventBody::PresenceChanged, presence);
  fb::FinishEnvelopeBuffer(b, root);
  auto d = decode(bytes_of(b));
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(same_fields(domain::agent_evt::presence_changed{},
                          std::get<domain::agent_evt::presence_changed>(
                              std::get<domain::agent_event_body>(d->payload))));

  flatbuffers::FlatBufferBuilder c;
  auto offer = fb::CreateOfferReserved(c).Union();
  auto croot = fb::CreateEnvelope(c, nullptr, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                  fb::EventBody::OfferReserved, offer);
  fb::FinishEnvelopeBuffer(c, croot);
  auto o = decode(bytes_of(c));
  ASSERT_TRUE(o.has_value());
  EXPECT_TRUE(same_fields(
      domain::agent_evt::offer_reserved{},
      std::get<domain::agent_evt::offer_reserved>(std::get<domain::agent_event_body>(o->payload))));
}

TEST(AgentQueueCodec, DecodeSurvivesEveryBitFlipOfAnAgentAndAQueueEnvelope) {
  for (const std::string& env : {encode(agent_meta(), sample_agent_events()[1]),
                                 encode(queue_meta(), sample_queue_events().front())}) {
    std::size_t refused = 0;
    for (std::size_t bit = 0; bit < env.size() * 8; ++bit) {
      std::string flipped = env;
      flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      if (auto d = decode(flipped)) {
        EXPECT_FALSE(to_json(*d).empty());
      } else {
        ++refused;
        EXPECT_EQ(d.error().category(), codec_category());
      }
    }
    EXPECT_GT(refused, 0u);
  }
}

// ---- JSON --------------------------------------------------------------------------------------

// Renders every sample; checks the envelope fields, the type name (the domain's) and the field
// count of "data". Returns the type names seen.
template <class Body>
std::set<std::string> expect_json(const std::vector<Body>& samples, const envelope_meta& meta) {
  std::set<std::string> types;
  for (const auto& e : samples) {
    const decoded d{meta, e};
    const auto j = nlohmann::json::parse(to_json(d));
    const std::string type = j.at("type");
    types.insert(type);
    EXPECT_EQ(type, type_name(d.payload));
    EXPECT_EQ(type, domain::event_type_name(e));
    EXPECT_EQ(j.at("stream"), meta.stream_kind + "/" + meta.stream_id);
    EXPECT_EQ(j.at("version"), 7);
    EXPECT_EQ(j.at("occurred_at"), "2024-05-01T12:00:00.123456Z");
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          EXPECT_EQ(j.at("data").size(), testing::field_count<T>()) << type;
        },
        e);
  }
  return types;
}

TEST(Json, EveryAgentEventRendersWithItsTypeNameAndAllItsFields) {
  const auto types = expect_json(sample_agent_events(), agent_meta());
  EXPECT_EQ(types.size(), std::variant_size_v<domain::agent_event_body>);
  EXPECT_TRUE(types.contains("presence_changed"));
  EXPECT_TRUE(types.contains("callback_requested"));
}

TEST(Json, EveryQueueEventRendersWithItsTypeNameAndAllItsFields) {
  const auto types = expect_json(sample_queue_events(), queue_meta());
  EXPECT_EQ(types.size(), std::variant_size_v<domain::queue_event_body>);
  EXPECT_TRUE(types.contains("enqueued"));
  EXPECT_TRUE(types.contains("customer_callback_requested"));
}

TEST(Json, AgentEnumsAreSnakeCaseAndQueueSkillsAreObjects) {
  const auto presence = nlohmann::json::parse(to_json({agent_meta(), sample_agent_events()[0]}));
  EXPECT_EQ(presence.at("data").at("to"), "away");
  EXPECT_EQ(presence.at("data").at("reason"), "lunch");
  const auto offer = nlohmann::json::parse(to_json({agent_meta(), sample_agent_events()[1]}));
  EXPECT_EQ(offer.at("data").at("kind"), "callback");
  EXPECT_EQ(offer.at("data").at("ring_timeout_ms"), 45'000);
  const auto acw = nlohmann::json::parse(
      to_json({agent_meta(), domain::agent_event_body(domain::agent_evt::presence_changed{
                                 domain::presence::after_call_work})}));
  EXPECT_EQ(acw.at("data").at("to"), "after_call_work");

  const auto enqueued = nlohmann::json::parse(to_json({queue_meta(), sample_queue_events()[0]}));
  EXPECT_EQ(enqueued.at("type"), "enqueued");
  EXPECT_EQ(enqueued.at("data").at("priority"), -7);
  EXPECT_EQ(enqueued.at("data").at("required_skills").at(1).at("name"), "german");
  EXPECT_EQ(enqueued.at("data").at("required_skills").at(1).at("level"), 8);
}

}  // namespace
}  // namespace backline::schemas
