// A bounded, seeded fuzz pass: random mutations of a valid token never crash the verifier and
// are never accepted. (A libFuzzer target can reuse `mutate`; this runs in every ctest.)
#include <random>

#include "tests/auth/auth_fixture.h"

namespace backline::auth {
namespace {

using namespace backline::auth::testing;

constexpr int iterations = 3000;

// Re-encodes one part after flipping bytes of its decoded form, so the mutation gets past
// base64 and reaches the JSON parser and the signature check.
std::string mutate_decoded(const std::string& token, std::mt19937& rng) {
  const int index = static_cast<int>(rng() % 3);
  auto bytes = base64url_decode(part(token, index));
  if (!bytes || bytes->empty()) return token;
  const int flips = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < flips; ++i) {
    (*bytes)[rng() % bytes->size()] = static_cast<char>(rng() % 256);
  }
  std::string out;
  for (int i = 0; i < 3; ++i) {
    if (i) out += '.';
    out += i == index ? base64url_encode(*bytes) : std::string(part(token, i));
  }
  return out;
}

std::string mutate(std::string token, std::mt19937& rng) {
  static constexpr std::string_view interesting = ".=-_+/ \"{}\\\0AQgw";
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int s = 0; s < steps; ++s) {
    const std::size_t pos = token.empty() ? 0 : rng() % token.size();
    switch (rng() % 8) {
      case 0:  // overwrite a byte with anything
        if (!token.empty()) token[pos] = static_cast<char>(rng() % 256);
        break;
      case 1:  // overwrite with a character that matters to the grammar
        if (!token.empty()) token[pos] = interesting[rng() % interesting.size()];
        break;
      case 2:
        token.insert(pos, 1, interesting[rng() % interesting.size()]);
        break;
      case 3:
        if (!token.empty()) token.erase(pos, 1 + rng() % 8);
        break;
      case 4:
        token.resize(pos);
        break;
      case 5:
        if (token.size() > 1) std::swap(token[pos], token[rng() % token.size()]);
        break;
      case 6:
        token = mutate_decoded(token, rng);
        break;
      case 7:
        token += token.substr(pos);
        break;  // repeat a tail (extra parts, long tokens)
    }
  }
  return token;
}

class Fuzz : public ::testing::TestWithParam<algorithm> {};

TEST_P(Fuzz, MutatedTokensAreNeverAccepted) {
  const key& signer = GetParam() == algorithm::rs256 ? rsa_private() : ec_private();
  const verifier v = verifier_for(signer);
  const std::string control = control_token(signer);
  ASSERT_EQ(outcome(v, control), errc::ok);
  std::mt19937 rng(20240501 + static_cast<unsigned>(GetParam()));
  int refused = 0;
  for (int i = 0; i < iterations; ++i) {
    const std::string token = mutate(control, rng);
    if (token == control) continue;
    const auto r = v.verify(token, now_s);
    ASSERT_FALSE(r) << "accepted a mutated token at iteration " << i;
    EXPECT_NE(r.error().code, errc::ok);
    EXPECT_FALSE(r.error().detail.empty());
    ++refused;
  }
  EXPECT_GT(refused, iterations * 9 / 10);
}

TEST_P(Fuzz, RandomBytesAreNeverAccepted) {
  const key& signer = GetParam() == algorithm::rs256 ? rsa_private() : ec_private();
  const verifier v = verifier_for(signer);
  std::mt19937 rng(7);
  for (int i = 0; i < iterations / 3; ++i) {
    std::string token(rng() % 600, '\0');
    for (auto& c : token) c = static_cast<char>(rng() % 256);
    if (i % 2) {  // shaped like a token
      token = base64url_encode(token.substr(0, token.size() / 3)) + "." +
              base64url_encode(token.substr(token.size() / 3)) + "." + base64url_encode(token);
    }
    EXPECT_FALSE(v.verify(token, now_s)) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Pinned, Fuzz, ::testing::Values(algorithm::rs256, algorithm::es256),
                         [](const auto& info) { return std::string(algorithm_name(info.param)); });

}  // namespace
}  // namespace backline::auth
