#pragma once
// Why a bearer token or an auth key was refused. Each value is a stable name (it appears in the
// API's problem+json `type` and in logs), so never renumber or rename; add at the end.
//
// The detail that goes with a refusal (`auth::error::detail`) is one human sentence. It names the
// header field or claim at fault but never repeats the token or any value taken from it: tokens
// are credentials, and whatever is in them is attacker-controlled.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <system_error>

namespace backline::auth {

enum class errc : std::uint16_t {
  ok = 0,
  // The compact serialization.
  token_too_large = 1,  // over verifier_config::token_bytes_max
  malformed = 2,        // not exactly header.payload.signature, or an empty header / payload
  bad_base64 = 3,       // a segment is not canonical unpadded base64url
  bad_json = 4,         // a segment is not one JSON object (or repeats a member name)
  // The header.
  algorithm_not_allowed = 5,  // `alg` missing, "none", or not the pinned algorithm
  forbidden_header = 6,       // jku, x5u, jwk, x5c or crit: keys come from configuration only
  bad_key_id = 7,             // `kid` is not [A-Za-z0-9._-]{1,64} or is not the configured one
  // The signature.
  empty_signature = 8,
  bad_signature = 9,  // wrong length or does not verify with the configured key
  // The claims.
  missing_claim = 10,      // iss, sub, aud, exp or iat absent (or jti when required)
  invalid_claim = 11,      // a claim has the wrong type or an out-of-range value
  wrong_issuer = 12,       // iss is not one of the accepted tenants
  wrong_audience = 13,     // aud does not contain the configured audience
  expired = 14,            // now > exp + clock skew
  not_yet_valid = 15,      // iat or nbf later than now + clock skew
  lifetime_too_long = 16,  // exp - iat over verifier_config::lifetime_max_s
  revoked = 17,            // jti is on the revocation list
  // Keys and configuration (operating errors of the server, not of the caller).
  key_error = 18,       // a PEM cannot be read, or its key does not fit the algorithm
  io_error = 19,        // a key or revocation file cannot be read or written
  bad_config = 20,      // e.g. no issuer, no audience, a too-short HMAC secret
  limit_exceeded = 21,  // the revocation list is full
};

// The stable snake_case name, e.g. "algorithm_not_allowed".
std::string_view errc_name(errc code);

const std::error_category& auth_category();
inline std::error_code make_error_code(errc e) {
  return {static_cast<int>(e), auth_category()};
}

// A refusal: the stable code and one sentence for the operator or the caller.
struct error {
  errc code = errc::ok;
  std::string detail;
  std::error_code ec() const { return make_error_code(code); }
};

template <class T>
using result = std::expected<T, error>;

inline std::unexpected<error> fail(errc code, std::string detail) {
  return std::unexpected(error{code, std::move(detail)});
}

}  // namespace backline::auth

template <>
struct std::is_error_code_enum<backline::auth::errc> : std::true_type {};
