#pragma once
// Keys, a control token and a forging helper shared by the auth suites.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "api/auth/base64url.h"
#include "api/auth/jwt.h"
#include "api/auth/keys.h"

namespace backline::auth {
// gtest names parameters with this (instead of "1-byte object <00>").
inline void PrintTo(algorithm a, std::ostream* os) {
  *os << algorithm_name(a);
}
}  // namespace backline::auth

namespace backline::auth::testing {

using json = nlohmann::json;

inline constexpr std::int64_t now_s = 1'714'564'800;  // 2024-05-01T12:00:00Z
inline constexpr std::string_view tenant = "acme_support";
inline constexpr std::string_view audience = "backline";

// Key generation is slow (RSA): one pair of each per test binary.
inline const key& rsa_private() {
  static const key k = *key::generate(algorithm::rs256);
  return k;
}
inline const key& ec_private() {
  static const key k = *key::generate(algorithm::es256);
  return k;
}
inline key public_of(const key& k) {
  return *key::from_public_pem(k.alg(), *k.public_pem());
}

inline verifier_config config_for(const key& private_key) {
  verifier_config c;
  c.verification_key = public_of(private_key);
  c.issuers = {std::string(tenant), "other_center"};
  c.audience = std::string(audience);
  c.lifetime_max_s = 12 * 3600;
  return c;
}
inline verifier verifier_for(const key& private_key) {
  return *verifier::make(config_for(private_key));
}

inline json control_header(const key& k) {
  return {{"alg", std::string(algorithm_name(k.alg()))}, {"typ", "JWT"}};
}
inline json control_claims() {
  return {{"iss", tenant},
          {"sub", "alice"},
          {"aud", audience},
          {"iat", now_s - 60},
          {"exp", now_s + 3600},
          {"jti", "0123456789abcdef"},
          {"roles", {"agent", "supervisor", "root"}}};
}

// Header and payload as given, signed with `k`.
inline std::string forge(const key& k, const json& header, const json& payload) {
  return *sign_compact(k, header.dump(), payload.dump());
}
inline std::string control_token(const key& k) {
  return forge(k, control_header(k), control_claims());
}

// "header.payload." of a token without its signature, and its parts.
inline std::string_view part(std::string_view token, int index) {
  for (int i = 0; i < index; ++i) token.remove_prefix(token.find('.') + 1);
  return token.substr(0, token.find('.'));
}

// The refusal code of `token`, or errc::ok when it is accepted.
inline errc outcome(const verifier& v, std::string_view token, std::int64_t at_s = now_s) {
  const auto r = v.verify(token, at_s);
  return r ? errc::ok : r.error().code;
}

inline std::filesystem::path fresh_dir(std::string_view name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() / fmt::format("backline-auth-{}-{}-{}-{}", name,
                                                                  info->test_suite_name(),
                                                                  info->name(), ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace backline::auth::testing
