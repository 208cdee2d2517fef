#pragma once
// Unpadded base64url (RFC 4648 §5) as JWS uses it (RFC 7515 §2).
//
// Contract
// - `base64url_decode` is strict: only [A-Za-z0-9_-], no padding, no whitespace, and the unused
//   low bits of the last character must be zero. So every byte string has exactly one accepted
//   encoding, and a token cannot be altered in its text while keeping its bytes.
// - Pure functions, no allocation beyond the result; safe from any thread.

#include <optional>
#include <string>
#include <string_view>

namespace backline::auth {

std::string base64url_encode(std::string_view bytes);

// std::nullopt when `text` is not canonical unpadded base64url.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace backline::auth
