#pragma once
// `backline token`: mints a bearer token with the development key of a data directory, for curl
// and the console during development. Production tokens come from the identity provider.
//
// Contract
// - Uses (and creates on first use) `<data>/auth/dev-es256.pem`, the same key `backlined` checks
//   tokens with when no production auth is configured (api/auth/dev_key.h). Prints the loud
//   development-key warning on stderr every time.
// - Prints only the token, and a newline, on stdout, so `$(backline token ...)` works. Hints go
//   to stderr.
// - The token is verified with the development key's own configuration before it is printed.
// - Reads the system clock (iat = now, exp = now + ttl); it is a tool, not the core.
// - Returns the process exit code: 0 printed, 2 bad options (unknown role, ttl out of range),
//   3 the key cannot be read or created.

#include <cstdint>
#include <string>
#include <vector>

namespace backline::cli {

struct token_options {
  std::string data_dir = "var";
  std::string subject;                  // sub: the user id, e.g. alice
  std::vector<std::string> roles;       // telephony | agent | supervisor | admin; at least one
  std::string tenant = "acme_support";  // iss: the call center
  std::string audience = "backline";    // aud
  std::int64_t ttl_s = 3600;            // 1 .. auth::lifetime_max_s_default
};

int run_token(const token_options& options);

}  // namespace backline::cli
