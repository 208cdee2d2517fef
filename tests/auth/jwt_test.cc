// The pieces under the verifier: base64url, bearer headers, error codes, roles, minting, keys,
// configuration and the revocation list.
#include <sys/stat.h>

#include <fstream>
#include <system_error>

#include "api/auth/revocation.h"
#include "tests/auth/auth_fixture.h"

namespace backline::auth {
namespace {

using namespace backline::auth::testing;

TEST(Base64url, RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    const auto text = base64url_encode(bytes);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(base64url_decode(text), bytes) << n;
    bytes += static_cast<char>(n * 37 + 250);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64url, RefusesWhatIsNotCanonical) {
  EXPECT_FALSE(base64url_decode("QQ=="));  // padding
  EXPECT_FALSE(base64url_decode("QR"));    // unused bits set ("QQ" is "A")
  EXPECT_FALSE(base64url_decode("Q"));     // 1 mod 4
  EXPECT_FALSE(base64url_decode("a+b/"));  // not the url alphabet
  EXPECT_EQ(base64url_decode("QQ"), "A");
  EXPECT_EQ(base64url_decode(""), "");
}

TEST(BearerToken, TakesTheCredentialOfTheBearerScheme) {
  EXPECT_EQ(bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(bearer_token("bearer  abc.def.ghi "), "abc.def.ghi");
  EXPECT_FALSE(bearer_token("Basic YWxpY2U6cHc="));
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer "));
  EXPECT_FALSE(bearer_token("Bearer a b"));
  EXPECT_FALSE(bearer_token("Bearerabc"));
}

TEST(Errc, IsAStdErrorCodeWithStableNames) {
  const std::error_code ec = errc::algorithm_not_allowed;
  EXPECT_STREQ(ec.category().name(), "backline.auth");
  EXPECT_EQ(ec.message(), "algorithm_not_allowed");
  EXPECT_EQ(ec.value(), 5);
  EXPECT_EQ(errc_name(errc::revoked), "revoked");
  EXPECT_EQ((error{errc::expired, "x"}.ec()), errc::expired);
}

TEST(Roles, ParseOnlyTheFourKnownNames) {
  EXPECT_EQ(parse_role("telephony"), role::telephony);
  EXPECT_EQ(parse_role("admin"), role::admin);
  EXPECT_FALSE(parse_role("Admin"));
  EXPECT_FALSE(parse_role("root"));
  const role_set all{role::telephony, role::agent, role::supervisor, role::admin};
  EXPECT_EQ(all.names(),
            (std::vector<std::string_view>{"telephony", "agent", "supervisor", "admin"}));
}

TEST(Mint, ProducesATokenTheVerifierAccepts) {
  for (const key* k : {&rsa_private(), &ec_private()}) {
    token_request r;
    r.tenant = "acme_support";
    r.subject = "peggy";
    r.audience = {"backline", "reports"};
    r.roles = {role::supervisor};
    r.iat_s = now_s;
    r.exp_s = now_s + 600;
    r.jti = random_jti();
    r.key_id = "k1";
    const auto token = mint(*k, r);
    ASSERT_TRUE(token) << token.error().detail;
    const auto c = verifier_for(*k).verify(*token, now_s + 1);
    ASSERT_TRUE(c) << c.error().detail;
    EXPECT_EQ(c->subject, "peggy");
    EXPECT_EQ(c->roles, role_set{role::supervisor});
    EXPECT_EQ(c->jti, r.jti);
    EXPECT_EQ(c->jti.size(), 32u);
  }
}

TEST(Mint, RefusesTextThatIsNotUtf8) {
  token_request r{.tenant = "acme_support", .subject = "\xff\xfe", .audience = {"backline"}};
  EXPECT_EQ(mint(ec_private(), r).error().code, errc::invalid_claim);
}

TEST(Keys, BindMaterialToOneAlgorithm) {
  const auto rsa_pem = *rsa_private().public_pem();
  const auto ec_pem = *ec_private().public_pem();
  EXPECT_TRUE(key::from_public_pem(algorithm::rs256, rsa_pem));
  EXPECT_EQ(key::from_public_pem(algorithm::es256, rsa_pem).error().code, errc::key_error);
  EXPECT_EQ(key::from_public_pem(algorithm::rs256, ec_pem).error().code, errc::key_error);
  EXPECT_EQ(key::from_public_pem(algorithm::hs256, ec_pem).error().code, errc::key_error);
  EXPECT_EQ(key::from_public_pem(algorithm::es256, "garbage").error().code, errc::key_error);
  // A public key cannot sign; a private PEM round-trips.
  EXPECT_FALSE(public_of(ec_private()).sign("x"));
  const auto again = key::from_private_pem(algorithm::es256, *ec_private().private_pem());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again->public_pem(), ec_pem);
  EXPECT_FALSE(parse_algorithm("none"));
  EXPECT_FALSE(parse_algorithm("rs256"));
  EXPECT_EQ(parse_algorithm("ES256"), algorithm::es256);
}

TEST(Config, LoadsAProductionPublicKeyAndChecksTheRest) {
  const auto dir = fresh_dir("config");
  { std::ofstream(dir / "idp.pem") << *rsa_private().public_pem(); }
  settings s;
  s.alg = algorithm::rs256;
  s.public_key_path = dir / "idp.pem";
  s.issuers = {"acme_support"};
  const auto c = load_verifier_config(s);
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(outcome(*verifier::make(*c), control_token(rsa_private())), errc::ok);

  auto wrong = s;
  wrong.alg = algorithm::es256;
  EXPECT_EQ(load_verifier_config(wrong).error().code, errc::key_error);
  wrong = s;
  wrong.public_key_path = dir / "missing.pem";
  EXPECT_EQ(load_verifier_config(wrong).error().code, errc::io_error);
  wrong = s;
  wrong.issuers.clear();
  EXPECT_EQ(load_verifier_config(wrong).error().code, errc::bad_config);
  wrong = s;
  wrong.alg = algorithm::hs256;  // HS256 without a secret
  EXPECT_EQ(load_verifier_config(wrong).error().code, errc::bad_config);
  std::filesystem::remove_all(dir);
}

TEST(Revocation, PersistsEveryRevokeAndReloads) {
  const auto dir = fresh_dir("revocation");
  const auto path = dir / "revoked.json";
  {
    auto list = revocation_list::open(path);
    ASSERT_TRUE(list) << list.error().detail;
    EXPECT_EQ((*list)->size(), 0u);
    ASSERT_TRUE((*list)->revoke("jti-1", now_s + 60));
    ASSERT_TRUE((*list)->revoke("jti-2", now_s + 7200));
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto list = revocation_list::open(path);
  ASSERT_TRUE(list);
  EXPECT_TRUE((*list)->contains("jti-1"));
  EXPECT_TRUE((*list)->contains("jti-2"));
  EXPECT_FALSE((*list)->contains("jti-3"));
  EXPECT_EQ((*list)->prune(now_s + 3600 + 61), 1u);
  EXPECT_FALSE((*list)->contains("jti-1"));
  EXPECT_EQ((*list)->revoke("", now_s).error().code, errc::invalid_claim);
  EXPECT_EQ((*list)->revoke("a\nb", now_s).error().code, errc::invalid_claim);

  std::ofstream(dir / "bad.json") << "{\"revoked\": 5}";
  EXPECT_EQ(revocation_list::open(dir / "bad.json").error().code, errc::bad_json);
  std::filesystem::remove_all(dir);
}

TEST(Revocation, IsBounded) {
  revocation_list list(2);
  ASSERT_TRUE(list.revoke("a", now_s));
  ASSERT_TRUE(list.revoke("b", now_s));
  ASSERT_TRUE(list.revoke("a", now_s + 10));  // again: no new entry
  EXPECT_EQ(list.revoke("c", now_s).error().code, errc::limit_exceeded);
}

}  // namespace
}  // namespace backline::auth
