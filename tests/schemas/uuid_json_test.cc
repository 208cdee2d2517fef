// UUIDv7 ids and the JSON rendering of events (schemas/codec.h).

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "schemas/codec.h"
#include "tests/schemas/samples.h"

namespace backline::schemas {
namespace {

TEST(Uuid, V7HasVersionSevenAndTheRfcVariant) {
  for (std::uint64_t r : {0ull, ~0ull, 0x0123'4567'89AB'CDEFull}) {
    const uuid u = make_uuid_v7(1'714'564'800'123, r, ~r);
    EXPECT_EQ(u[6] >> 4, 7);
    EXPECT_EQ(u[8] >> 6, 0b10);
    const std::string s = to_string(u);
    EXPECT_EQ(s[14], '7');
    EXPECT_NE(std::string("89ab").find(s[19]), std::string::npos);
  }
}

TEST(Uuid, V7StartsWithTheUnixMillisecondsBigEndian) {
  const uuid u = make_uuid_v7(0x0102'0304'0506, 0, 0);
  EXPECT_EQ(to_string(u).substr(0, 13), "01020304-0506");
}

TEST(Uuid, V7IsOrderedByTimeAsBytesAndAsText) {
  uuid previous = make_uuid_v7(1'000, ~0ull, ~0ull);
  for (std::int64_t ms = 1'001; ms < 1'000'000'000'000; ms = ms * 3 + 7) {
    const uuid next = make_uuid_v7(ms, 0, 0);  // smallest random bits, still later
    EXPECT_LT(previous, next) << ms;
    EXPECT_LT(to_string(previous), to_string(next));
    previous = make_uuid_v7(ms, ~0ull, ~0ull);
  }
}

TEST(Uuid, ToStringIsLowercaseEightFourFourFourTwelve) {
  uuid u{};
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = static_cast<std::uint8_t>(0xA0 + i);
  EXPECT_EQ(to_string(u), "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
}

TEST(Uuid, TheHalvesOfTheFlatBuffersStructAreBigEndianAndFormatWithoutAllocating) {
  const uuid u = uuid_from_halves(0x0011'2233'4455'6677, 0x8899'AABB'CCDD'EEFF);
  char text[36];
  format_uuid(u, text);
  EXPECT_EQ(std::string_view(text, sizeof text), "00112233-4455-6677-8899-aabbccddeeff");
  EXPECT_EQ(to_string(u), std::string_view(text, sizeof text));
}

TEST(Json, EveryEventRendersAsParseableJsonWithItsTypeNameAndAllItsFields) {
  std::set<std::string> types;
  for (const auto& e : testing::sample_events()) {
    const decoded d{testing::sample_meta(), e};
    const auto j = nlohmann::json::parse(to_json(d));
    const std::string type = j.at("type");
    types.insert(type);
    EXPECT_EQ(type, type_name(d.payload));
    EXPECT_EQ(j.at("stream"), "call/vc-1");
    EXPECT_EQ(j.at("version"), 7);
    EXPECT_EQ(j.at("position"), 123'456'789);
    EXPECT_EQ(j.at("occurred_at"), "2024-05-01T12:00:00.123456Z");
    EXPECT_EQ(j.at("event_id"), to_string(testing::sample_meta().event_id));
    EXPECT_EQ(j.at("correlation_id"), "vc-root");
    EXPECT_EQ(j.at("causation_id"), "cmd-9");
    EXPECT_EQ(j.at("tenant"), "acme_eu");
    EXPECT_EQ(j.at("principal"), "alice");
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          EXPECT_EQ(j.at("data").size(), testing::field_count<T>()) << type;
        },
        e);
  }
  EXPECT_EQ(types.size(), std::variant_size_v<domain::event_body>);
  EXPECT_TRUE(types.contains("call_created"));
  EXPECT_TRUE(types.contains("supervisor_mode_changed"));
}

TEST(Json, EnumsAreSnakeCaseStringsAndCustomAttributesAnObject) {
  const auto j =
      nlohmann::json::parse(to_json({testing::sample_meta(), testing::sample_events().front()}));
  const auto& data = j.at("data");
  EXPECT_EQ(data.at("kind"), "consult");
  EXPECT_EQ(data.at("type"), "internal");
  EXPECT_EQ(data.at("method"), "callback");
  EXPECT_EQ(data.at("recording_allowed"), true);
  EXPECT_EQ(data.at("attributes").at("custom").at("priority"), "high");
  EXPECT_EQ(data.at("attributes").at("case_category"), "billing");
}

TEST(Json, DirectoryReplacedCarriesTheDirectory) {
  envelope_meta meta = testing::sample_meta();
  meta.stream_kind = "directory";
  meta.stream_id = "acme_eu";
  const auto j = nlohmann::json::parse(to_json({meta, testing::sample_directory()}));
  EXPECT_EQ(j.at("type"), "directory_replaced");
  EXPECT_EQ(j.at("stream"), "directory/acme_eu");
  const auto& dir = j.at("data").at("directory");
  EXPECT_EQ(dir.at("agents").size(), 3u);
  EXPECT_EQ(dir.at("agents").at(1).at("kind"), "supervisor");
  EXPECT_EQ(dir.at("agents").at(1).at("grants").at("whisper").at(1), "sales");
  EXPECT_EQ(dir.at("queues").at(0).at("strategy"), "most_skilled");
}

TEST(Json, InvalidUtf8IsReplacedInsteadOfThrowing) {
  const decoded d{testing::sample_meta(),
                  domain::event_body(domain::evt::call_ended{"vc", "\xff\xfe bad"})};
  const auto j = nlohmann::json::parse(to_json(d));
  EXPECT_EQ(j.at("data").at("voice_call_id"), "vc");
}

TEST(Json, Rfc3339HandlesTheEpochAndTimesBeforeIt) {
  EXPECT_EQ(format_rfc3339_us(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339_us(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339_us(951'782'400'000'001), "2000-02-29T00:00:00.000001Z");
}

}  // namespace
}  // namespace backline::schemas
