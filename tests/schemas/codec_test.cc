// The codec between domain values and the FlatBuffers storage formats (schemas/codec.h).

#include "schemas/codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "schemas/command_generated.h"
#include "schemas/envelope_generated.h"
#include "tests/schemas/samples.h"

namespace backline::schemas {
namespace {

using testing::default_fields;
using testing::same_fields;
using testing::sample_command_meta;
using testing::sample_commands;
using testing::sample_directory;
using testing::sample_events;
using testing::sample_meta;

TEST(Codec, SamplesCoverEveryEventAndCommandWithNonDefaultFields) {
  std::set<std::size_t> events, commands;
  for (const auto& e : sample_events()) {
    events.insert(e.index());
    std::visit([](const auto& v) { EXPECT_EQ(default_fields(v), std::vector<std::size_t>{}); }, e);
  }
  for (const auto& c : sample_commands()) {
    commands.insert(c.index());
    std::visit([](const auto& v) { EXPECT_EQ(default_fields(v), std::vector<std::size_t>{}); }, c);
  }
  EXPECT_EQ(events.size(), std::variant_size_v<domain::event_body>);
  EXPECT_EQ(commands.size(), std::variant_size_v<domain::command_body>);
}

TEST(Codec, EveryCallEventRoundTripsThroughTheEnvelope) {
  for (const auto& e : sample_events()) {
    const std::string bytes = encode(sample_meta(), e);
    ASSERT_TRUE(verify_envelope(bytes));
    auto d = decode(bytes);
    ASSERT_TRUE(d.has_value()) << d.error().message() << " for alternative " << e.index();
    EXPECT_EQ(d->meta, sample_meta());
    const auto* back = std::get_if<domain::event_body>(&d->payload);
    ASSERT_NE(back, nullptr);
    ASSERT_EQ(back->index(), e.index());
    std::visit(
        [&](const auto& original) {
          using T = std::decay_t<decltype(original)>;
          EXPECT_TRUE(same_fields(original, std::get<T>(*back))) << "alternative " << e.index();
        },
        e);
  }
}

TEST(Codec, DefaultValuedEventsRoundTripAsDefaults) {
  const envelope_meta empty_meta{};
  for (const auto& sample : sample_events()) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          auto d = decode(encode(empty_meta, domain::event_body(T{})));
          ASSERT_TRUE(d.has_value());
          EXPECT_EQ(d->meta, empty_meta);
          EXPECT_TRUE(same_fields(T{}, std::get<T>(std::get<domain::event_body>(d->payload))));
        },
        sample);
  }
}

TEST(Codec, ToEventPairsTheBodyWithItsInstant) {
  auto d = decode(encode(sample_meta(), sample_events().front()));
  ASSERT_TRUE(d.has_value());
  const domain::event e = to_event(*d);
  EXPECT_EQ(e.at_us, sample_meta().occurred_at_us);
  EXPECT_EQ(e.body.index(), 0u);
}

TEST(Codec, DirectoryRoundTripsThroughTheEnvelope) {
  envelope_meta meta = sample_meta();
  meta.stream_kind = "directory";
  const std::string bytes = encode(meta, sample_directory());
  auto d = decode(bytes);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->meta, meta);
  const auto* dir = std::get_if<domain::directory>(&d->payload);
  ASSERT_NE(dir, nullptr);
  EXPECT_EQ(*dir, sample_directory());
}

TEST(Codec, EmptyDirectoryKeepsTheDomainDefaults) {
  auto d = decode(encode(envelope_meta{}, domain::directory{}));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(std::get<domain::directory>(d->payload), domain::directory{});
}

TEST(Codec, EveryCommandRoundTrips) {
  for (const auto& c : sample_commands()) {
    const std::string bytes = encode_command(sample_command_meta(), c);
    ASSERT_TRUE(verify_command(bytes));
    auto d = decode_command(bytes);
    ASSERT_TRUE(d.has_value()) << d.error().message() << " for alternative " << c.index();
    EXPECT_EQ(d->first, sample_command_meta());
    ASSERT_EQ(d->second.index(), c.index());
    std::visit(
        [&](const auto& original) {
          using T = std::decay_t<decltype(original)>;
          EXPECT_TRUE(same_fields(original, std::get<T>(d->second))) << "alternative " << c.index();
        },
        c);
  }
}

TEST(Codec, StartConsultKeepsItsHoldCustomerDefaultWhenTrue) {
  auto d = decode_command(encode_command({}, domain::cmd::start_consult{.voice_call_id = "vc"}));
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(std::get<domain::cmd::start_consult>(d->second).hold_customer);
}

TEST(Codec, BuffersCarryTheirFileIdentifiers) {
  const std::string env = encode(sample_meta(), sample_events().front());
  const std::string cmd = encode_command(sample_command_meta(), sample_commands().front());
  EXPECT_EQ(env.substr(4, 4), "BLEV");
  EXPECT_EQ(cmd.substr(4, 4), "BLCM");
  EXPECT_FALSE(verify_envelope(cmd));
  EXPECT_FALSE(verify_command(env));
  EXPECT_EQ(decode(cmd).error(), errc::verification_failed);
  EXPECT_EQ(decode_command(env).error(), errc::verification_failed);
}

TEST(Codec, StampPositionChangesOnlyTheLogPosition) {
  for (const auto& e : sample_events()) {
    const std::string original = encode(sample_meta(), e);
    std::string stamped = original;
    stamp_position(stamped, 0xFEDC'BA98'7654'3210ull);
    ASSERT_EQ(stamped.size(), original.size());
    std::size_t differing = 0;
    for (std::size_t i = 0; i < original.size(); ++i) differing += original[i] != stamped[i];
    EXPECT_GE(differing, 1u);
    EXPECT_LE(differing, 8u);  // the 8 bytes of one ulong

    auto d = decode(stamped);
    ASSERT_TRUE(d.has_value());
    envelope_meta expected = sample_meta();
    expected.log_position = 0xFEDC'BA98'7654'3210ull;
    EXPECT_EQ(d->meta, expected);
    EXPECT_EQ(encode(expected, e), stamped);
  }
}

TEST(Codec, StampPositionWorksOnAnEnvelopeEncodedWithPositionZero) {
  std::string bytes = encode(envelope_meta{}, domain::evt::recording_paused{"vc"});
  stamp_position(bytes, 42);
  EXPECT_EQ(decode(bytes)->meta.log_position, 42u);
}

TEST(Codec, DecodeRefusesGarbage) {
  EXPECT_EQ(decode("").error(), errc::verification_failed);
  EXPECT_EQ(decode("BLEV").error(), errc::verification_failed);
  EXPECT_EQ(decode(std::string(64, '\0')).error(), errc::verification_failed);
  EXPECT_EQ(decode(std::string(64, '\xff')).error(), errc::verification_failed);
  EXPECT_EQ(decode("\x08\x00\x00\x00"
                   "BLEV"
                   "garbage garbage")
                .error(),
            errc::verification_failed);
  EXPECT_EQ(decode_command("").error(), errc::verification_failed);
  EXPECT_EQ(decode_command(std::string(100, 'x')).error(), errc::verification_failed);
}

// The last bytes of a buffer may be alignment padding (FlatBuffers builds back to front), so
// cutting only those can leave a buffer that still verifies; it must then decode to the same value.
constexpr std::size_t trailing_padding_max = 7;

TEST(Codec, DecodeRefusesEveryTruncationBeyondTrailingPadding) {
  const std::string env = encode(sample_meta(), sample_events().front());
  for (std::size_t n = 0; n < env.size(); ++n) {
    auto d = decode(std::string_view(env).substr(0, n));
    if (n + trailing_padding_max < env.size()) {
      EXPECT_FALSE(d.has_value()) << "length " << n;
    } else if (d) {
      EXPECT_EQ(to_json(*d), to_json(*decode(env))) << "length " << n;
    }
  }
  const std::string cmd = encode_command(sample_command_meta(), sample_commands().front());
  for (std::size_t n = 0; n < cmd.size(); ++n) {
    auto d = decode_command(std::string_view(cmd).substr(0, n));
    if (n + trailing_padding_max < cmd.size()) {
      EXPECT_FALSE(d.has_value()) << "length " << n;
    } else if (d) {
      EXPECT_EQ(encode_command(d->first, d->second), cmd) << "length " << n;
    }
  }
}

TEST(Codec, DecodeSurvivesEveryBitFlip) {
  const std::string env = encode(sample_meta(), sample_events().front());
  std::size_t refused = 0;
  for (std::size_t bit = 0; bit < env.size() * 8; ++bit) {
    std::string flipped = env;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    auto d = decode(flipped);
    if (!d) {
      ++refused;
      EXPECT_EQ(d.error().category(), codec_category());
    } else {
      EXPECT_FALSE(to_json(*d).empty());
    }
  }
  EXPECT_GT(refused, 0u);  // offsets and the identifier are checked
}

TEST(Codec, DecodeAcceptsMisalignedInput) {
  const std::string env = encode(sample_meta(), sample_events().front());
  std::string shifted = "x" + env;
  auto d = decode(std::string_view(shifted).substr(1));
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->meta, sample_meta());
  EXPECT_TRUE(verify_envelope(std::string_view(shifted).substr(1)));
}

// A buffer from a newer writer: a union member this build does not know.
TEST(Codec, UnknownEventBodyIsReportedAsUnknownBody) {
  flatbuffers::FlatBufferBuilder b;
  auto body = fb::CreateCallEnded(b, b.CreateString("vc")).Union();
  const fb::Uuid id(1, 2);
  auto root = fb::CreateEnvelope(b, &id, b.CreateString("call"), b.CreateString("vc"), 1, 0, 0, 0,
                                 0, 0, 0, static_cast<fb::EventBody>(63), body);
  fb::FinishEnvelopeBuffer(b, root);
  const std::string bytes(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  EXPECT_TRUE(verify_envelope(bytes));
  EXPECT_EQ(decode(bytes).error(), errc::unknown_body);
}

TEST(Codec, EnvelopeWithoutBodyIsRefused) {
  flatbuffers::FlatBufferBuilder b;
  auto root = fb::CreateEnvelope(b);
  fb::FinishEnvelopeBuffer(b, root);
  const std::string bytes(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  EXPECT_EQ(decode(bytes).error(), errc::unknown_body);
}

TEST(Codec, OutOfRangeEnumIsReportedAsInvalidValue) {
  flatbuffers::FlatBufferBuilder b;
  auto body = fb::CreateParticipantJoined(b, b.CreateString("vc"), b.CreateString("p"),
                                          static_cast<fb::ParticipantRole>(200))
                  .Union();
  auto root = fb::CreateEnvelope(b, nullptr, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                 fb::EventBody::ParticipantJoined, body);
  fb::FinishEnvelopeBuffer(b, root);
  const std::string bytes(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  EXPECT_EQ(decode(bytes).error(), errc::invalid_value);

  flatbuffers::FlatBufferBuilder c;
  auto cbody =
      fb::CreateChangeSupervisorMode(c, c.CreateString("s"), static_cast<fb::SuperviseMode>(3))
          .Union();
  auto croot = fb::CreateCommand(c, 0, 0, 0, 0, 0, fb::CommandBody::ChangeSupervisorMode, cbody);
  fb::FinishCommandBuffer(c, croot);
  const std::string cbytes(reinterpret_cast<const char*>(c.GetBufferPointer()), c.GetSize());
  EXPECT_EQ(decode_command(cbytes).error(), errc::invalid_value);
}

TEST(Codec, ErrorsCarryTheSchemasCategoryAndAMessage) {
  const std::error_code ec = errc::unknown_body;
  EXPECT_EQ(ec.category().name(), std::string("backline.schemas"));
  EXPECT_NE(ec.message().find("unknown"), std::string::npos);
  EXPECT_TRUE(ec == errc::unknown_body);
}

}  // namespace
}  // namespace backline::schemas
