#pragma once
// The development key: an ES256 key pair that `backlined` creates in its data directory on first
// start when no production auth is configured, and that `backline token` signs with. It exists so
// a fresh checkout can make its first authenticated curl; it is NEVER for production: anyone who
// can read the data directory can mint any token for any tenant and role.
//
// Contract
// - `ensure_dev_key(data)` makes `<data>/auth/` (mode 0700) and, when missing,
//   `<data>/auth/dev-es256.pem` (PKCS#8 private key, mode 0600, written atomically) and
//   `<data>/auth/dev-es256.pub.pem` (its public key, 0644). Later calls reuse the private key
//   (and rewrite the public file if it is missing or does not match).
// - It refuses (key_error) a private key file that group or others can access: fix with chmod 600.
// - On every call it sends `dev_key_warning` to `options.warn` (default: stderr), so the operator
//   sees, every time, that a development key is in use.
// - Blocking file I/O: call it at start-up or from a tool, not from a scheduled CAF actor.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth/errc.h"
#include "api/auth/jwt.h"
#include "api/auth/keys.h"

namespace backline::auth {

inline constexpr std::string_view dev_key_file = "dev-es256.pem";
inline constexpr std::string_view dev_public_key_file = "dev-es256.pub.pem";
inline constexpr std::string_view dev_key_id = "backline-dev";
inline constexpr std::string_view dev_audience = "backline";
inline constexpr std::string_view dev_tenant = "acme_support";

struct dev_key_options {
  std::vector<std::string> issuers = {std::string(dev_tenant)};  // accepted tenants (iss)
  std::string audience = std::string(dev_audience);
  // Receives the loud warning (one multi-line text). Empty: print it on stderr.
  std::function<void(std::string_view)> warn;
};

struct dev_key {
  verifier_config config;  // ES256 with the public key, kid "backline-dev", issuers, audience
  key signing_key;         // the private key, for `backline token` and tests
  std::filesystem::path private_key_path;
  std::filesystem::path public_key_path;
  bool created = false;  // this call generated the key
};

result<dev_key> ensure_dev_key(const std::filesystem::path& data_dir,
                               const dev_key_options& options = {});

// The banner: "DEVELOPMENT KEY ... never in production ..." naming the file.
std::string dev_key_warning(const std::filesystem::path& private_key_path, bool created);

}  // namespace backline::auth
