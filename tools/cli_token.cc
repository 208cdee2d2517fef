#include "tools/cli_token.h"

#include <cstdio>

#include <fmt/format.h>

#include "api/auth/dev_key.h"
#include "api/auth/jwt.h"
#include "tools/cli_common.h"

namespace backline::cli {

int run_token(const token_options& options) {
  auth::role_set roles;
  for (const auto& name : options.roles) {
    const auto r = auth::parse_role(name);
    if (!r) {
      return report({exit_usage, fmt::format("unknown role '{}': use telephony, agent, "
                                             "supervisor or admin",
                                             name)});
    }
    roles.add(*r);
  }
  if (roles.empty()) {
    return report({exit_usage, "a token needs at least one --role (e.g. --role agent)"});
  }
  if (options.ttl_s < 1 || options.ttl_s > auth::lifetime_max_s_default) {
    return report({exit_usage, fmt::format("--ttl must be 1 to {} seconds (the server refuses "
                                           "longer-lived tokens)",
                                           auth::lifetime_max_s_default)});
  }
  if (options.subject.empty() || options.tenant.empty() || options.audience.empty()) {
    return report({exit_usage, "--sub, --tenant and --aud must not be empty"});
  }

  auth::dev_key_options dev_options;
  dev_options.issuers = {options.tenant};
  dev_options.audience = options.audience;
  const auto dev = auth::ensure_dev_key(options.data_dir, dev_options);
  if (!dev) {
    return report({exit_not_found,
                   fmt::format("development key in {}: {}", options.data_dir, dev.error().detail)});
  }

  const std::int64_t now_s = system_now_us() / 1'000'000;
  auth::token_request request;
  request.tenant = options.tenant;
  request.subject = options.subject;
  request.audience = {options.audience};
  request.roles = roles;
  request.iat_s = now_s;
  request.exp_s = now_s + options.ttl_s;
  request.jti = auth::random_jti();
  request.key_id = std::string(auth::dev_key_id);
  const auto token = auth::mint(dev->signing_key, request);
  if (!token) return report({exit_usage, fmt::format("cannot mint: {}", token.error().detail)});

  // Hand out only what the server will accept.
  const auto v = auth::verifier::make(dev->config);
  const auto checked = v ? v->verify(*token, now_s) : std::unexpected(v.error());
  if (!checked) {
    return report({exit_check_failed,
                   fmt::format("the minted token does not verify ({}): {}",
                               auth::errc_name(checked.error().code), checked.error().detail)});
  }

  fmt::print("{}\n", *token);
  std::fflush(stdout);
  fmt::print(stderr,
             "backline: token for {} ({}) of {}, audience {}, valid {} s, jti {}\n"
             "backline: try  curl -H \"Authorization: Bearer $(backline token --data {} --sub {} "
             "--role {})\" http://127.0.0.1:8080/v1/agents\n",
             options.subject, fmt::join(roles.names(), ", "), options.tenant, options.audience,
             options.ttl_s, request.jti, options.data_dir, options.subject, roles.names().front());
  return exit_ok;
}

}  // namespace backline::cli
