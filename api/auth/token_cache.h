#pragma once
// Verified tokens remembered, so that a client sending the same bearer token on every request
// pays for one signature check (an ES256 or RS256 verify costs tens of microseconds; a keep-alive
// console sends thousands of requests with one token).
//
// Contract
// - `verify` answers exactly what `verifier::verify` would: a hit is used only while what can
//   change since is still fine: the expiry (with the verifier's clock skew) and the revocation
//   list. Otherwise the token goes through the verifier again, which gives the refusal.
// - Bounded: at most `entries_max` tokens (each at most the verifier's token_bytes_max); when
//   full, each new token takes the place of one remembered token (eventlog::make_room), so a
//   burst of new tokens never makes every client in use pay a signature check at once.
// - Thread-safe (one mutex; the signature check runs outside it).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/auth/jwt.h"

namespace backline::auth {

class token_cache {
 public:
  explicit token_cache(std::shared_ptr<const verifier> v, std::size_t entries_max = 10'000)
      : verifier_(std::move(v)), entries_max_(entries_max) {}

  result<claims> verify(std::string_view token, std::int64_t now_s);

  std::size_t size() const;

 private:
  std::shared_ptr<const verifier> verifier_;
  const std::size_t entries_max_;
  mutable std::mutex mutex_;
  struct hash : std::hash<std::string_view> {
    using is_transparent = void;  // find(string_view): no copy of the token per request
  };
  std::unordered_map<std::string, claims, hash, std::equal_to<>> verified_;
};

}  // namespace backline::auth
