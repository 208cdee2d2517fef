// Bounded random mutation of valid buffers: decode must refuse or decode, never crash or hang.
// A fixed seed keeps it reproducible; the libFuzzer target (decode_fuzz.cc) explores further.

#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "schemas/codec.h"
#include "tests/schemas/samples.h"

namespace backline::schemas {
namespace {

constexpr std::size_t mutations = 200'000;

std::vector<std::string> seeds() {
  std::vector<std::string> out;
  for (const auto& e : testing::sample_events()) out.push_back(encode(testing::sample_meta(), e));
  for (const auto& e : testing::sample_agent_events()) {
    out.push_back(encode(testing::sample_meta(), e));
  }
  for (const auto& e : testing::sample_queue_events()) {
    out.push_back(encode(testing::sample_meta(), e));
  }
  out.push_back(encode(testing::sample_meta(), testing::sample_directory()));
  for (const auto& c : testing::sample_commands()) {
    out.push_back(encode_command(testing::sample_command_meta(), c));
  }
  return out;
}

// One to four random edits: bit flips, interesting bytes, truncation, insertion, deletion.
void mutate(std::string& s, std::mt19937_64& rng) {
  static constexpr char interesting[] = {0, 1, 0x7f, char(0x80), char(0xff), 4, 8, 12};
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    const std::size_t at = rng() % s.size();
    switch (rng() % 6) {
      case 0:
        s[at] = static_cast<char>(s[at] ^ (1 << (rng() % 8)));
        break;
      case 1:
        s[at] = interesting[rng() % sizeof interesting];
        break;
      case 2:
        s[at] = static_cast<char>(rng());
        break;
      case 3:
        s.resize(at);
        break;
      case 4:
        s.insert(at, 1, static_cast<char>(rng()));
        break;
      default:
        s.erase(at, 1 + rng() % 8);
        break;
    }
  }
}

TEST(Fuzz, RandomMutationsOfValidEnvelopesAndCommandsNeverCrashDecode) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::string> base = seeds();
  std::mt19937_64 rng(20240501);
  std::size_t decoded_events = 0, decoded_commands = 0, refused = 0;
  std::size_t decoded_agent_events = 0, decoded_queue_events = 0;
  for (std::size_t i = 0; i < mutations; ++i) {
    std::string s = base[rng() % base.size()];
    mutate(s, rng);
    if (auto d = decode(s)) {
      ++decoded_events;
      decoded_agent_events += std::holds_alternative<domain::agent_event_body>(d->payload);
      decoded_queue_events += std::holds_alternative<domain::queue_event_body>(d->payload);
      if (i % 8 == 0) {
        ASSERT_FALSE(to_json(*d).empty());  // garbage strings still render
      }
    } else {
      ++refused;
    }
    if (auto c = decode_command(s)) {
      ++decoded_commands;
    } else {
      ++refused;
    }
  }
  // Both outcomes occur: the verifier is not so strict that it refuses everything, nor blind.
  EXPECT_GT(decoded_events, 0u);
  EXPECT_GT(decoded_commands, 0u);
  EXPECT_GT(decoded_agent_events, 0u);  // agent and queue envelopes are mutated too
  EXPECT_GT(decoded_queue_events, 0u);
  EXPECT_GT(refused, mutations / 2);
  RecordProperty("decoded_events", static_cast<int>(decoded_events));
  RecordProperty("decoded_commands", static_cast<int>(decoded_commands));
  RecordProperty("decoded_agent_events", static_cast<int>(decoded_agent_events));
  RecordProperty("decoded_queue_events", static_cast<int>(decoded_queue_events));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  RecordProperty(
      "elapsed_ms",
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
}

}  // namespace
}  // namespace backline::schemas
