// The JWT attack suite (issue 5): every hostile token is refused with its own stable code, and
// the control tokens (RS256 and ES256) are accepted.
#include <string>

#include "tests/auth/auth_fixture.h"

namespace backline::auth {
namespace {

using namespace backline::auth::testing;

class Attack : public ::testing::TestWithParam<algorithm> {
 protected:
  const key& signer() const {
    return GetParam() == algorithm::rs256 ? rsa_private() : ec_private();
  }
  verifier v() const { return verifier_for(signer()); }
  std::string with_claims(const json& payload) const {
    return forge(signer(), control_header(signer()), payload);
  }
  std::string with_header(const json& header) const {
    return forge(signer(), header, control_claims());
  }
};

TEST_P(Attack, ControlTokenIsAcceptedWithItsClaims) {
  const auto c = v().verify(control_token(signer()), now_s);
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->tenant, "acme_support");
  EXPECT_EQ(c->subject, "alice");
  EXPECT_EQ(c->roles, (role_set{role::agent, role::supervisor}));  // "root" is ignored
  EXPECT_EQ(c->jti, "0123456789abcdef");
  EXPECT_EQ(c->exp_s, now_s + 3600);
  EXPECT_EQ(c->iat_s, now_s - 60);
}

TEST_P(Attack, AlgNoneIsRefused) {
  for (const char* none : {"none", "None", "NONE", "nOnE"}) {
    auto header = control_header(signer());
    header["alg"] = none;
    const std::string unsigned_token =
        base64url_encode(header.dump()) + "." + base64url_encode(control_claims().dump()) + ".";
    EXPECT_EQ(outcome(v(), unsigned_token), errc::algorithm_not_allowed) << none;
    // ... and with the original signature kept.
    const std::string control = control_token(signer());
    const std::string kept = base64url_encode(header.dump()) + "." + std::string(part(control, 1)) +
                             "." + std::string(part(control, 2));
    EXPECT_EQ(outcome(v(), kept), errc::algorithm_not_allowed) << none;
  }
}

TEST_P(Attack, MissingOrNonStringAlgIsRefused) {
  auto header = control_header(signer());
  header.erase("alg");
  EXPECT_EQ(outcome(v(), with_header(header)), errc::algorithm_not_allowed);
  header["alg"] = json::array({"RS256", "ES256"});
  EXPECT_EQ(outcome(v(), with_header(header)), errc::algorithm_not_allowed);
}

TEST_P(Attack, Hs256SignedWithThePublicKeyAsSecretIsRefused) {
  // The classic confusion: the attacker HMACs with the server's public PEM and says HS256.
  const auto public_pem = *signer().public_pem();
  const key hmac = *key::hmac(public_pem);
  EXPECT_EQ(outcome(v(), forge(hmac, {{"alg", "HS256"}, {"typ", "JWT"}}, control_claims())),
            errc::algorithm_not_allowed);
  // ... and keeping the pinned alg in the header: then the MAC is not a valid signature.
  EXPECT_EQ(outcome(v(), forge(hmac, control_header(signer()), control_claims())),
            errc::bad_signature);
}

TEST_P(Attack, TheOtherAsymmetricAlgorithmIsRefused) {
  const key& other = GetParam() == algorithm::rs256 ? ec_private() : rsa_private();
  EXPECT_EQ(outcome(v(), control_token(other)), errc::algorithm_not_allowed);
  // Same alg name as pinned, wrong key.
  const key stranger = *key::generate(GetParam());
  EXPECT_EQ(outcome(v(), control_token(stranger)), errc::bad_signature);
}

TEST_P(Attack, EmptySignatureIsRefused) {
  const std::string control = control_token(signer());
  const std::string stripped = control.substr(0, control.rfind('.') + 1);
  EXPECT_EQ(outcome(v(), stripped), errc::empty_signature);
}

TEST_P(Attack, TamperedPayloadIsRefused) {
  const std::string control = control_token(signer());
  auto claims = control_claims();
  claims["roles"] = {"admin"};
  const std::string tampered = std::string(part(control, 0)) + "." +
                               base64url_encode(claims.dump()) + "." +
                               std::string(part(control, 2));
  EXPECT_EQ(outcome(v(), tampered), errc::bad_signature);
}

TEST_P(Attack, TamperedHeaderIsRefused) {
  const std::string control = control_token(signer());
  auto header = control_header(signer());
  header["kid"] = "other";
  const std::string tampered = base64url_encode(header.dump()) + "." +
                               std::string(part(control, 1)) + "." + std::string(part(control, 2));
  EXPECT_EQ(outcome(v(), tampered), errc::bad_signature);
}

TEST_P(Attack, ExpiredBeyondSkewIsRefusedWithinSkewAccepted) {
  auto claims = control_claims();
  claims["iat"] = now_s - 7200;
  claims["exp"] = now_s - 61;  // skew is 60 s
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::expired);
  claims["exp"] = now_s - 60;  // exactly at exp + skew: expired (RFC 7519: "on or after")
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::expired);
  claims["exp"] = now_s - 30;
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::ok);
}

TEST_P(Attack, MissingRequiredClaimsAreRefused) {
  for (const char* name : {"iss", "sub", "aud", "exp", "iat"}) {
    auto claims = control_claims();
    claims.erase(name);
    EXPECT_EQ(outcome(v(), with_claims(claims)), errc::missing_claim) << name;
  }
}

TEST_P(Attack, WrongExpAudIssAreRefused) {
  auto claims = control_claims();
  claims["exp"] = "tomorrow";
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::invalid_claim);
  claims["exp"] = true;
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::invalid_claim);
  claims["exp"] = -5;
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::invalid_claim);
  claims["exp"] = now_s - 120;  // before iat
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::invalid_claim);

  claims = control_claims();
  claims["aud"] = "someone-else";
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::wrong_audience);
  claims["aud"] = {"a", "b"};
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::wrong_audience);
  claims["aud"] = {"a", "backline"};
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::ok);
  claims["aud"] = 7;
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::invalid_claim);
  claims["aud"] = json::array();
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::invalid_claim);

  claims = control_claims();
  claims["iss"] = "evil_center";
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::wrong_issuer);
  claims["iss"] = "ACME_SUPPORT";  // exact match only
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::wrong_issuer);
  claims["iss"] = "other_center";  // a configured tenant
  EXPECT_EQ(v().verify(with_claims(claims), now_s)->tenant, "other_center");
  claims["iss"] = json::array({"acme_support"});
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::invalid_claim);
}

TEST_P(Attack, LifetimeOverTheMaximumIsRefused) {
  auto claims = control_claims();
  claims["iat"] = now_s;
  claims["exp"] = now_s + 12 * 3600 + 1;
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::lifetime_too_long);
  claims["exp"] = now_s + 12 * 3600;
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::ok);
}

TEST_P(Attack, IssuedOrValidOnlyInTheFutureIsRefused) {
  auto claims = control_claims();
  claims["iat"] = now_s + 61;
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::not_yet_valid);
  claims["iat"] = now_s + 59;  // within skew
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::ok);
  claims = control_claims();
  claims["nbf"] = now_s + 600;
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::not_yet_valid);
  claims["nbf"] = now_s - 600;
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::ok);
  claims["nbf"] = "soon";
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::invalid_claim);
}

TEST_P(Attack, KidWithPathOrUrlIsRefused) {
  for (const std::string& kid : std::vector<std::string>{
           "../../etc/passwd", "/dev/null", "keys/k1", "https://evil.example/key.pem", "k1?x=1",
           "a b", "..", "k\\1", "", std::string(65, 'k'), "k1;rm -rf", "k%2e%2e"}) {
    auto header = control_header(signer());
    header["kid"] = kid;
    EXPECT_EQ(outcome(v(), with_header(header)), errc::bad_key_id) << kid;
  }
  auto header = control_header(signer());
  header["kid"] = 42;
  EXPECT_EQ(outcome(v(), with_header(header)), errc::bad_key_id);
  header["kid"] = "prod-2024.05_k1";
  EXPECT_EQ(outcome(v(), with_header(header)), errc::ok);
  // With a configured kid, another (well-formed) kid is refused.
  auto c = config_for(signer());
  c.key_id = "prod-2024";
  EXPECT_EQ(outcome(*verifier::make(c), with_header(header)), errc::bad_key_id);
  header["kid"] = "prod-2024";
  EXPECT_EQ(outcome(*verifier::make(c), with_header(header)), errc::ok);
}

TEST_P(Attack, KeyUrlAndEmbeddedKeyHeadersAreRefused) {
  const json jwk = {{"kty", "oct"}, {"k", "c2VjcmV0"}};
  for (const auto& [name, value] : std::initializer_list<std::pair<const char*, json>>{
           {"jku", "https://evil.example/jwks.json"},
           {"x5u", "https://evil.example/cert.pem"},
           {"jwk", jwk},
           {"x5c", json::array({"MIIB..."})},
           {"crit", json::array({"exp"})}}) {
    auto header = control_header(signer());
    header[name] = value;
    EXPECT_EQ(outcome(v(), with_header(header)), errc::forbidden_header) << name;
  }
}

TEST_P(Attack, OversizedTokenIsRefused) {
  auto claims = control_claims();
  claims["pad"] = std::string(8 * 1024, 'x');
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::token_too_large);
  EXPECT_EQ(outcome(v(), std::string(1 << 20, 'A')), errc::token_too_large);
  auto c = config_for(signer());
  c.token_bytes_max = 64 * 1024;
  EXPECT_EQ(outcome(*verifier::make(c), with_claims(claims)), errc::ok);
}

TEST_P(Attack, RevokedJtiIsRefused) {
  auto list = std::make_shared<revocation_list>();
  auto c = config_for(signer());
  c.revoked = list;
  const auto revocable = *verifier::make(c);
  EXPECT_EQ(outcome(revocable, control_token(signer())), errc::ok);
  ASSERT_TRUE(list->revoke("0123456789abcdef", now_s + 3600));
  EXPECT_EQ(outcome(revocable, control_token(signer())), errc::revoked);
  auto other = control_claims();
  other["jti"] = "fedcba9876543210";
  EXPECT_EQ(outcome(revocable, with_claims(other)), errc::ok);
}

TEST_P(Attack, JtiRequiredWhenConfigured) {
  auto claims = control_claims();
  claims.erase("jti");
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::ok);
  auto c = config_for(signer());
  c.require_jti = true;
  EXPECT_EQ(outcome(*verifier::make(c), with_claims(claims)), errc::missing_claim);
  claims["jti"] = std::string(129, 'j');
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::invalid_claim);
}

TEST_P(Attack, GarbageBase64IsRefused) {
  const std::string control = control_token(signer());
  const std::string h(part(control, 0)), p(part(control, 1)), s(part(control, 2));
  EXPECT_EQ(outcome(v(), "!!!!.????.****"), errc::bad_base64);
  EXPECT_EQ(outcome(v(), h + "=." + p + "." + s), errc::bad_base64);         // padding
  EXPECT_EQ(outcome(v(), h + "." + p + "+/." + s), errc::bad_base64);        // base64, not url
  EXPECT_EQ(outcome(v(), h + "." + p + "." + s + "%3D"), errc::bad_base64);  // URL-escaped
  EXPECT_EQ(outcome(v(), h + "." + p + " ." + s), errc::bad_base64);         // whitespace
  EXPECT_EQ(outcome(v(), h + "." + p + "A." + s), errc::bad_base64);         // length 1 mod 4
}

TEST_P(Attack, NonCanonicalBase64IsRefused) {
  // The signature's last character with nonzero unused bits decodes to the same bytes in lax
  // decoders; here it is refused, so a token has exactly one accepted spelling.
  const std::string control = control_token(signer());
  std::string s(part(control, 2));
  if (s.size() % 4 == 0) GTEST_SKIP() << "no unused bits in this signature's encoding";
  const auto bytes = *base64url_decode(s);
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  s.back() = alphabet[alphabet.find(s.back()) + 1];
  EXPECT_FALSE(base64url_decode(s).has_value());
  const std::string lax = control.substr(0, control.rfind('.') + 1) + s;
  EXPECT_EQ(outcome(v(), lax), errc::bad_base64);
  (void)bytes;
}

TEST_P(Attack, WrongNumberOfPartsIsRefused) {
  const std::string control = control_token(signer());
  const std::string h(part(control, 0)), p(part(control, 1)), s(part(control, 2));
  EXPECT_EQ(outcome(v(), ""), errc::malformed);
  EXPECT_EQ(outcome(v(), h), errc::malformed);
  EXPECT_EQ(outcome(v(), h + "." + p), errc::malformed);
  EXPECT_EQ(outcome(v(), h + ".." + p + "." + s), errc::malformed);
  EXPECT_EQ(outcome(v(), h + "." + p + "." + s + "."), errc::malformed);
  EXPECT_EQ(outcome(v(), h + "." + p + "." + s + "." + s), errc::malformed);  // JWE-like
  EXPECT_EQ(outcome(v(), "." + p + "." + s), errc::malformed);
  EXPECT_EQ(outcome(v(), h + ".." + s), errc::malformed);
}

TEST_P(Attack, NonJsonIsRefused) {
  const std::string control = control_token(signer());
  const std::string p(part(control, 1)), s(part(control, 2));
  EXPECT_EQ(outcome(v(), base64url_encode("not json") + "." + p + "." + s), errc::bad_json);
  EXPECT_EQ(outcome(v(), base64url_encode("[\"ES256\"]") + "." + p + "." + s), errc::bad_json);
  // Signed, but the payload is not one object.
  EXPECT_EQ(outcome(v(), *sign_compact(signer(), control_header(signer()).dump(), "[1,2]")),
            errc::bad_json);
  EXPECT_EQ(outcome(v(), *sign_compact(signer(), control_header(signer()).dump(), "{\"iss\":")),
            errc::bad_json);
}

TEST_P(Attack, DuplicateMembersAreRefused) {
  // Parsers disagree on which duplicate wins; refuse both meanings.
  const std::string header = control_header(signer()).dump();
  const std::string payload = control_claims().dump();
  const std::string dup_payload = payload.substr(0, payload.size() - 1) + ",\"sub\":\"root\"}";
  EXPECT_EQ(outcome(v(), *sign_compact(signer(), header, dup_payload)), errc::bad_json);
  const std::string dup_header = header.substr(0, header.size() - 1) + ",\"alg\":\"none\"}";
  EXPECT_EQ(outcome(v(), *sign_compact(signer(), dup_header, payload)), errc::bad_json);
}

TEST_P(Attack, RolesMustBeAnArrayOfStrings) {
  auto claims = control_claims();
  claims["roles"] = "admin";
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::invalid_claim);
  claims["roles"] = {"agent", 7};
  EXPECT_EQ(outcome(v(), with_claims(claims)), errc::invalid_claim);
  claims.erase("roles");
  const auto c = v().verify(with_claims(claims), now_s);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->roles.empty());
}

TEST_P(Attack, DetailsNeverEchoTheTokenOrItsValues) {
  auto claims = control_claims();
  claims["iss"] = "SECRET-ISSUER-VALUE";
  claims["sub"] = "SECRET-SUBJECT";
  const std::string token = with_claims(claims);
  const auto r = v().verify(token, now_s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::wrong_issuer);
  EXPECT_EQ(r.error().detail.find("SECRET"), std::string::npos) << r.error().detail;
  EXPECT_EQ(r.error().detail.find(std::string(part(token, 1))), std::string::npos);
  auto header = control_header(signer());
  header["kid"] = "../SECRET-KID";
  const auto k = v().verify(with_header(header), now_s);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().detail.find("SECRET"), std::string::npos) << k.error().detail;
}

INSTANTIATE_TEST_SUITE_P(Pinned, Attack, ::testing::Values(algorithm::rs256, algorithm::es256),
                         [](const auto& info) { return std::string(algorithm_name(info.param)); });

TEST(Es256, DerEncodedSignatureIsRefused) {
  // JWS wants R || S; an OpenSSL-style DER signature must not be accepted.
  const key& k = ec_private();
  const std::string control = control_token(k);
  const std::string raw = *base64url_decode(part(control, 2));
  ASSERT_EQ(raw.size(), 64u);
  const std::string input = control.substr(0, control.rfind('.'));
  EXPECT_TRUE(public_of(k).verify(input, raw));
  EXPECT_FALSE(public_of(k).verify(input, raw.substr(0, 63)));
  EXPECT_FALSE(public_of(k).verify(input, raw + '\0'));
  EXPECT_FALSE(public_of(k).verify(input, std::string(64, '\0')));
}

TEST(Hs256, AcceptedOnlyWhenConfiguredWithTheSecret) {
  const key secret = *key::hmac(std::string(32, 's'));
  verifier_config c;
  c.verification_key = secret;
  c.issuers = {"acme_support"};
  c.audience = "backline";
  const auto v = *verifier::make(c);
  const std::string token = forge(secret, {{"alg", "HS256"}}, control_claims());
  EXPECT_EQ(outcome(v, token), errc::ok);
  const key other = *key::hmac(std::string(32, 't'));
  EXPECT_EQ(outcome(v, forge(other, {{"alg", "HS256"}}, control_claims())), errc::bad_signature);
  // An RS256-pinned verifier refuses the HS256 token, whatever its secret.
  EXPECT_EQ(outcome(verifier_for(rsa_private()), token), errc::algorithm_not_allowed);
  EXPECT_EQ(key::hmac("short").error().code, errc::bad_config);
}

}  // namespace
}  // namespace backline::auth
