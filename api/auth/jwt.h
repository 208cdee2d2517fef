#pragma once
// JWT bearer tokens (RFC 7519, JWS compact serialization) for the HTTP API: verification with an
// algorithm pinned by configuration, claims out, and minting for tests and `backline token`.
//
// Contract
// - The algorithm is the configured key's (`verifier_config::verification_key.alg()`): RS256 or
//   ES256, HS256 only when a secret was configured explicitly. The token's `alg` header is never
//   used to choose anything; it must equal the pinned name exactly or the token is refused
//   (so "none", and HS256 made with an RSA public key as the secret, are refused).
// - Keys come from configuration only: a header with jku, x5u, jwk, x5c or crit is refused; a
//   `kid` must be [A-Za-z0-9._-]{1,64} without "..", and equal `key_id` when that is configured.
// - Required claims: iss (the tenant, one of `issuers`), sub, aud (a string or an array holding
//   `audience`), exp, iat; nbf when present. With skew = clock_skew_s: iat <= now + skew,
//   nbf <= now + skew, now < exp + skew, iat < exp, exp - iat <= lifetime_max_s. A jti on the
//   revocation list is refused. `roles` (optional) is an array of strings; unknown names are
//   ignored, so a new role never widens an old server's grants.
// - Time is an argument (`now_s`, Unix seconds): nothing here reads a clock, so tests choose it.
// - Every refusal is an `error` with a stable `errc` and a sentence that never repeats the token
//   or a value taken from it. Nothing throws.
// - `verifier` is immutable after `make` (the revocation list it shares is internally locked):
//   `verify` is const and may run on every HTTP thread at once.
// - Bounded: the token (token_bytes_max), JSON nesting (8), aud and roles arrays (16), sub (256).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth/errc.h"
#include "api/auth/keys.h"
#include "api/auth/revocation.h"

namespace backline::auth {

// The roles a token can carry (`roles` claim). Bits, so a set is one byte.
enum class role : std::uint8_t { telephony = 1, agent = 2, supervisor = 4, admin = 8 };

std::string_view role_name(role r);                     // "telephony", "agent", ...
std::optional<role> parse_role(std::string_view name);  // exact, lower case

class role_set {
 public:
  constexpr role_set() = default;
  constexpr role_set(std::initializer_list<role> roles) {
    for (const role r : roles) add(r);
  }
  constexpr void add(role r) { bits_ |= static_cast<std::uint8_t>(r); }
  constexpr bool has(role r) const { return (bits_ & static_cast<std::uint8_t>(r)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr std::uint8_t bits() const { return bits_; }
  std::vector<std::string_view> names() const;  // in enum order
  friend constexpr bool operator==(role_set, role_set) = default;

 private:
  std::uint8_t bits_ = 0;
};

inline constexpr std::size_t token_bytes_max_default = 8 * 1024;
inline constexpr std::int64_t clock_skew_s_default = 60;
inline constexpr std::int64_t lifetime_max_s_default = 24 * 3600;  // one shift and then some
inline constexpr std::size_t subject_bytes_max = 256;
inline constexpr std::size_t key_id_bytes_max = 64;

// What a verified token says.
struct claims {
  std::string tenant;   // iss: the call center
  std::string subject;  // sub: the user (agent id, supervisor id, integration name)
  role_set roles;
  std::string jti;  // empty when the token has none
  std::int64_t exp_s = 0;
  std::int64_t iat_s = 0;
};

struct verifier_config {
  key verification_key;              // pins the algorithm; a public key (or the HS256 secret)
  std::vector<std::string> issuers;  // the accepted tenants (iss); at least one
  std::string audience;              // must appear in aud
  std::string key_id;                // when not empty, a token's kid (if any) must equal it
  std::int64_t lifetime_max_s = lifetime_max_s_default;
  std::int64_t clock_skew_s = clock_skew_s_default;
  std::size_t token_bytes_max = token_bytes_max_default;
  bool require_jti = false;
  std::shared_ptr<const revocation_list> revoked;  // null: nothing is revoked
};

class verifier {
 public:
  // bad_config for an empty key, no issuer, no audience, negative limits or a bad key_id.
  static result<verifier> make(verifier_config config);

  // The claims of `token` (the text after "Bearer "), or why it is refused.
  result<claims> verify(std::string_view token, std::int64_t now_s) const;

  const verifier_config& config() const { return config_; }

 private:
  explicit verifier(verifier_config config) : config_(std::move(config)) {}
  verifier_config config_;
};

// The token of an `Authorization: Bearer <token>` header value (scheme case-insensitive), or
// nullopt when the value is not a bearer credential.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// Production configuration: which key, which algorithm, whose tokens.
struct settings {
  algorithm alg = algorithm::rs256;
  std::filesystem::path public_key_path;  // PEM, RS256 / ES256
  std::string hmac_secret;                // HS256 only; must be set explicitly
  std::vector<std::string> issuers;
  std::string audience = "backline";
  std::string key_id;
  std::int64_t lifetime_max_s = lifetime_max_s_default;
  std::int64_t clock_skew_s = clock_skew_s_default;
  std::size_t token_bytes_max = token_bytes_max_default;
  bool require_jti = false;
};
// Loads the key and checks the rest. key_error / io_error / bad_config with a hint.
result<verifier_config> load_verifier_config(const settings& s);

// Minting, for tests and the development tool. Production tokens come from the identity provider.
struct token_request {
  std::string tenant;                 // iss
  std::string subject;                // sub
  std::vector<std::string> audience;  // one: a string claim; more: an array
  role_set roles;
  std::int64_t iat_s = 0;
  std::int64_t exp_s = 0;
  std::optional<std::int64_t> nbf_s;
  std::string jti;     // empty: none
  std::string key_id;  // empty: no kid header
};
// A compact JWS of the request under `signing_key` (alg from the key). invalid_claim for text
// that is not UTF-8; key_error when the key cannot sign.
result<std::string> mint(const key& signing_key, const token_request& request);

// The low-level form: header and payload JSON taken as given (not checked), base64url-encoded and
// signed with `signing_key`. Tests use it to forge hostile tokens.
result<std::string> sign_compact(const key& signing_key, std::string_view header_json,
                                 std::string_view payload_json);

// 128 random bits as 32 hex digits, for a jti.
std::string random_jti();

}  // namespace backline::auth
