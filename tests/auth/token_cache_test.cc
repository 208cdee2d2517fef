// token_cache answers what the verifier answers: a remembered token is refused once it expires
// or is revoked, a bad token is never remembered.
#include <gtest/gtest.h>

#include "api/auth/revocation.h"
#include "api/auth/token_cache.h"
#include "tests/auth/auth_fixture.h"

namespace backline::auth::testing {
namespace {

token_cache cache_with(std::shared_ptr<revocation_list> revoked) {
  auto config = config_for(ec_private());
  config.revoked = std::move(revoked);
  return token_cache(std::make_shared<const verifier>(*verifier::make(config)));
}

TEST(TokenCache, RemembersAGoodTokenAndAnswersLikeTheVerifier) {
  auto cache = cache_with(nullptr);
  const auto token = control_token(ec_private());
  const auto first = cache.verify(token, now_s);
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  EXPECT_EQ(cache.size(), 1u);
  const auto again = cache.verify(token, now_s + 1);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->subject, first->subject);
  EXPECT_EQ(again->tenant, first->tenant);
}

TEST(TokenCache, ARememberedTokenIsRefusedOnceExpired) {
  auto cache = cache_with(nullptr);
  const auto token = control_token(ec_private());
  const auto c = cache.verify(token, now_s);
  ASSERT_TRUE(c.has_value());
  const auto late = cache.verify(token, c->exp_s + clock_skew_s_default);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, errc::expired);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TokenCache, ARememberedTokenIsRefusedOnceRevoked) {
  auto revoked = std::make_shared<revocation_list>();
  auto cache = cache_with(revoked);
  const auto token = control_token(ec_private());
  const auto c = cache.verify(token, now_s);
  ASSERT_TRUE(c.has_value());
  ASSERT_FALSE(c->jti.empty());
  ASSERT_TRUE(revoked->revoke(c->jti, c->exp_s).has_value());
  const auto after = cache.verify(token, now_s);
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, errc::revoked);
}

TEST(TokenCache, ABadTokenIsNeverRemembered) {
  auto cache = cache_with(nullptr);
  auto token = control_token(ec_private());
  char& c = token[token.size() - 10];  // inside the signature
  c = c == 'A' ? 'B' : 'A';
  EXPECT_FALSE(cache.verify(token, now_s).has_value());
  EXPECT_FALSE(cache.verify(token, now_s).has_value());
  EXPECT_EQ(cache.size(), 0u);
}

// A full cache makes room for a new token by dropping one remembered token, not all of them:
// the clients in use keep their entries through a burst of new tokens.
TEST(TokenCache, AFullCacheDropsOneTokenPerNewOne) {
  auto config = config_for(ec_private());
  token_cache cache(std::make_shared<const verifier>(*verifier::make(config)), 3);
  std::vector<std::string> tokens;
  for (int i = 0; i < 5; ++i) {
    auto claims = control_claims();
    claims["sub"] = "agent-" + std::to_string(i);
    tokens.push_back(forge(ec_private(), control_header(ec_private()), claims));
  }
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const auto c = cache.verify(tokens[i], now_s);
    ASSERT_TRUE(c.has_value()) << c.error().detail;
    EXPECT_EQ(c->subject, "agent-" + std::to_string(i));
    EXPECT_EQ(cache.size(), std::min<std::size_t>(i + 1, 3)) << "after token " << i;
  }
  for (std::size_t i = 0; i < tokens.size(); ++i) {  // every token still answers as verified
    const auto c = cache.verify(tokens[i], now_s);
    ASSERT_TRUE(c.has_value()) << c.error().detail;
    EXPECT_EQ(c->subject, "agent-" + std::to_string(i));
    EXPECT_EQ(cache.size(), 3u);
  }
}

}  // namespace
}  // namespace backline::auth::testing
