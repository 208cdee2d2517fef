#pragma once
// Signing and verification keys for JWS (RFC 7515 / 7518): RS256 (RSA PKCS#1 v1.5, SHA-256),
// ES256 (ECDSA P-256, SHA-256) and HS256 (HMAC-SHA-256), through OpenSSL 3's EVP interface.
//
// Contract
// - A `key` is bound to ONE algorithm when it is made, and it checks that its material fits:
//   RS256 takes an RSA key of 2048 to 16384 bits, ES256 an EC key on P-256, HS256 a secret of at
//   least 32 bytes. Nothing here looks at a token: which algorithm a verifier accepts is decided
//   by configuration, never by the token's header (see jwt.h).
// - A `key` is immutable once made; copies share the OpenSSL key. Signing and verifying are
//   const and safe from any number of threads at once (each call has its own EVP contexts).
// - Nothing throws; failures are `error{key_error | io_error | bad_config, detail}`. OpenSSL's
//   thread-local error queue is cleared before returning.
// - ES256 signatures are in JWS form: R || S, 32 bytes each (RFC 7518 §3.4), not DER.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/auth/errc.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace backline::auth {

enum class algorithm : std::uint8_t { rs256, es256, hs256 };

// "RS256", "ES256", "HS256".
std::string_view algorithm_name(algorithm alg);
// Exact, case-sensitive match of the JWS names above; anything else (including "none") is nullopt.
std::optional<algorithm> parse_algorithm(std::string_view name);

inline constexpr std::size_t hmac_secret_bytes_min = 32;
inline constexpr std::size_t key_file_bytes_max = 64 * 1024;

class key {
 public:
  key() = default;  // empty: signs and verifies nothing

  bool empty() const { return !pkey_ && secret_.empty(); }
  algorithm alg() const { return alg_; }
  bool can_sign() const { return can_sign_; }

  // The JWS signature of `signing_input` (ASCII "header.payload").
  // REQUIRES: can_sign().
  result<std::string> sign(std::string_view signing_input) const;

  // True when `signature` (JWS form) is a valid signature of `signing_input` under this key.
  // Wrong lengths are false; HMAC is compared in constant time.
  bool verify(std::string_view signing_input, std::string_view signature) const;

  // PEM (SubjectPublicKeyInfo) of the public half. key_error for an HMAC key.
  result<std::string> public_pem() const;
  // PEM (PKCS#8, unencrypted) of the private key. REQUIRES: can_sign() and not HMAC.
  result<std::string> private_pem() const;

  // Makers. A PEM must hold one key that fits `alg`; encrypted private keys are refused (no
  // passphrase prompt ever).
  static result<key> from_public_pem(algorithm alg, std::string_view pem);
  static result<key> from_private_pem(algorithm alg, std::string_view pem);
  static result<key> from_public_pem_file(algorithm alg, const std::filesystem::path& path);
  static result<key> from_private_pem_file(algorithm alg, const std::filesystem::path& path);
  // HS256 only: a shared secret of at least hmac_secret_bytes_min bytes, used as given.
  static result<key> hmac(std::string secret);
  // A fresh key pair: 2048-bit RSA for RS256, P-256 for ES256. (HS256: 32 random bytes.)
  static result<key> generate(algorithm alg);

 private:
  algorithm alg_ = algorithm::es256;
  std::shared_ptr<evp_pkey_st> pkey_;
  std::string secret_;
  bool can_sign_ = false;
};

// Reads a whole small file (at most key_file_bytes_max). io_error when it cannot.
result<std::string> read_small_file(const std::filesystem::path& path);

// Writes `bytes` to `path` through a temporary file in the same directory and a rename, with
// `mode` (e.g. 0600) set at creation, and fsyncs the file and the directory. io_error otherwise.
result<void> write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                                   unsigned mode);

}  // namespace backline::auth
