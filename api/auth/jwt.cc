#include "api/auth/jwt.h"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/auth/base64url.h"

namespace backline::auth {

namespace {

using json = nlohmann::json;

constexpr int json_depth_max = 8;
constexpr std::size_t claim_array_max = 16;
// NumericDate bounds: 0 .. 9999-12-31T23:59:59Z; also keeps exp + skew far from overflow.
constexpr std::int64_t numeric_date_max = 253402300799;
constexpr std::array<std::string_view, 5> forbidden_headers = {"jku", "x5u", "jwk", "x5c", "crit"};

// One JSON object, refusing repeated member names at any depth (two parsers that pick different
// duplicates are a classic way to smuggle claims) and nesting deeper than json_depth_max.
std::optional<json> parse_object(std::string_view text) {
  std::vector<std::set<std::string>> keys;
  bool refused = false;
  auto cb = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > json_depth_max) refused = true;
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (keys.empty() || !keys.back().insert(parsed.get<std::string>()).second) refused = true;
        break;
      default:
        break;
    }
    return !refused;
  };
  json doc = json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
  if (refused || !doc.is_object()) return std::nullopt;
  return doc;
}

bool valid_key_id(std::string_view kid) {
  if (kid.empty() || kid.size() > key_id_bytes_max) return false;
  if (kid.find("..") != std::string_view::npos) return false;
  return std::all_of(kid.begin(), kid.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// A NumericDate (seconds, possibly fractional) as whole seconds, or nullopt when not a date.
std::optional<std::int64_t> numeric_date(const json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(numeric_date_max)) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (i < 0 || i > numeric_date_max) return std::nullopt;
    return i;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(numeric_date_max)) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(std::floor(d));
  }
  return std::nullopt;
}

struct segments {
  std::string_view header, payload, signature, signing_input;
};

result<segments> split(std::string_view token) {
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return fail(errc::malformed, "a token is three base64url parts joined by two dots");
  }
  segments s{token.substr(0, first), token.substr(first + 1, second - first - 1),
             token.substr(second + 1), token.substr(0, second)};
  if (s.header.empty() || s.payload.empty()) {
    return fail(errc::malformed, "the token's header or payload part is empty");
  }
  return s;
}

result<void> check_header(const json& header, const verifier_config& config) {
  const std::string_view pinned = algorithm_name(config.verification_key.alg());
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get_ref<const std::string&>() != pinned) {
    return fail(errc::algorithm_not_allowed,
                fmt::format("this server accepts {} tokens only (header alg)", pinned));
  }
  for (const std::string_view name : forbidden_headers) {
    if (header.contains(name)) {
      return fail(
          errc::forbidden_header,
          fmt::format("header {} is refused: keys come from the server's configuration", name));
    }
  }
  if (const auto kid = header.find("kid"); kid != header.end()) {
    if (!kid->is_string() || !valid_key_id(kid->get_ref<const std::string&>())) {
      return fail(errc::bad_key_id, "header kid must be 1 to 64 of [A-Za-z0-9._-]");
    }
    if (!config.key_id.empty() && kid->get_ref<const std::string&>() != config.key_id) {
      return fail(errc::bad_key_id, "header kid names a key this server does not have");
    }
  }
  return {};
}

result<std::string> string_claim(const json& payload, std::string_view name,
                                 std::size_t bytes_max) {
  const auto it = payload.find(name);
  if (it == payload.end())
    return fail(errc::missing_claim, fmt::format("claim {} is required", name));
  if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
      it->get_ref<const std::string&>().size() > bytes_max) {
    return fail(errc::invalid_claim,
                fmt::format("claim {} must be a string of 1 to {} bytes", name, bytes_max));
  }
  return it->get<std::string>();
}

result<std::int64_t> date_claim(const json& payload, std::string_view name) {
  const auto it = payload.find(name);
  if (it == payload.end())
    return fail(errc::missing_claim, fmt::format("claim {} is required", name));
  const auto date = numeric_date(*it);
  if (!date) {
    return fail(errc::invalid_claim, fmt::format("claim {} must be a date in Unix seconds", name));
  }
  return *date;
}

result<void> check_audience(const json& payload, const std::string& audience) {
  const auto it = payload.find("aud");
  if (it == payload.end()) return fail(errc::missing_claim, "claim aud is required");
  const auto wrong = [] {
    return fail(errc::wrong_audience, "the token is not meant for this server (claim aud)");
  };
  if (it->is_string()) {
    if (it->get_ref<const std::string&>() != audience) return wrong();
    return {};
  }
  if (!it->is_array() || it->empty() || it->size() > claim_array_max ||
      !std::all_of(it->begin(), it->end(), [](const json& a) { return a.is_string(); })) {
    return fail(errc::invalid_claim, "claim aud must be a string or an array of 1 to 16 strings");
  }
  for (const auto& a : *it) {
    if (a.get_ref<const std::string&>() == audience) return {};
  }
  return wrong();
}

result<role_set> roles_claim(const json& payload) {
  role_set roles;
  const auto it = payload.find("roles");
  if (it == payload.end()) return roles;
  if (!it->is_array() || it->size() > claim_array_max) {
    return fail(errc::invalid_claim, "claim roles must be an array of at most 16 strings");
  }
  for (const auto& r : *it) {
    if (!r.is_string()) return fail(errc::invalid_claim, "claim roles must hold strings");
    if (const auto known = parse_role(r.get_ref<const std::string&>())) roles.add(*known);
  }
  return roles;
}

// Issuer and audience first (whose token is it?), then the dates, then the revocation list.
result<claims> check_claims(const json& payload, const verifier_config& config,
                            std::int64_t now_s) {
  claims out;
  auto iss = string_claim(payload, "iss", subject_bytes_max);
  if (!iss) return std::unexpected(iss.error());
  if (std::find(config.issuers.begin(), config.issuers.end(), *iss) == config.issuers.end()) {
    return fail(errc::wrong_issuer,
                "the token's issuer (claim iss) is not a tenant of this server");
  }
  out.tenant = std::move(*iss);
  auto sub = string_claim(payload, "sub", subject_bytes_max);
  if (!sub) return std::unexpected(sub.error());
  out.subject = std::move(*sub);
  if (auto aud = check_audience(payload, config.audience); !aud) {
    return std::unexpected(aud.error());
  }
  auto exp = date_claim(payload, "exp");
  if (!exp) return std::unexpected(exp.error());
  auto iat = date_claim(payload, "iat");
  if (!iat) return std::unexpected(iat.error());
  out.exp_s = *exp;
  out.iat_s = *iat;
  // Dates are bounded (numeric_date_max) and skew <= 3600: no sum here can overflow, whatever
  // now_s the caller passes.
  const std::int64_t skew = config.clock_skew_s;
  if (out.exp_s <= out.iat_s) return fail(errc::invalid_claim, "claim exp must be after iat");
  if (out.iat_s - skew > now_s)
    return fail(errc::not_yet_valid, "the token is issued in the future (claim iat)");
  if (payload.contains("nbf")) {
    auto nbf = date_claim(payload, "nbf");
    if (!nbf) return std::unexpected(nbf.error());
    if (*nbf - skew > now_s)
      return fail(errc::not_yet_valid, "the token is not valid yet (claim nbf)");
  }
  if (now_s >= out.exp_s + skew) return fail(errc::expired, "the token has expired: get a new one");
  if (out.exp_s - out.iat_s > config.lifetime_max_s) {
    return fail(errc::lifetime_too_long,
                fmt::format("the token lives longer than the {} s this server allows (exp - iat)",
                            config.lifetime_max_s));
  }
  if (const auto jti = payload.find("jti"); jti != payload.end()) {
    if (!jti->is_string() || !valid_jti(jti->get_ref<const std::string&>())) {
      return fail(errc::invalid_claim, "claim jti must be 1 to 128 printable ASCII characters");
    }
    out.jti = jti->get<std::string>();
  } else if (config.require_jti) {
    return fail(errc::missing_claim, "claim jti is required");
  }
  if (!out.jti.empty() && config.revoked && config.revoked->contains(out.jti)) {
    return fail(errc::revoked, "the token has been revoked (claim jti)");
  }
  auto roles = roles_claim(payload);
  if (!roles) return std::unexpected(roles.error());
  out.roles = *roles;
  return out;
}

}  // namespace

std::string_view role_name(role r) {
  switch (r) {
    case role::telephony:
      return "telephony";
    case role::agent:
      return "agent";
    case role::supervisor:
      return "supervisor";
    case role::admin:
      return "admin";
  }
  return "?";
}

std::optional<role> parse_role(std::string_view name) {
  for (const role r : {role::telephony, role::agent, role::supervisor, role::admin}) {
    if (role_name(r) == name) return r;
  }
  return std::nullopt;
}

std::vector<std::string_view> role_set::names() const {
  std::vector<std::string_view> out;
  for (const role r : {role::telephony, role::agent, role::supervisor, role::admin}) {
    if (has(r)) out.push_back(role_name(r));
  }
  return out;
}

result<verifier> verifier::make(verifier_config config) {
  if (config.verification_key.empty()) return fail(errc::bad_config, "no verification key");
  if (config.issuers.empty()) {
    return fail(errc::bad_config, "no issuer: list the tenants (iss) whose tokens are accepted");
  }
  if (config.audience.empty()) return fail(errc::bad_config, "no audience (aud) configured");
  if (config.lifetime_max_s <= 0 || config.clock_skew_s < 0 || config.clock_skew_s > 3600 ||
      config.token_bytes_max == 0) {
    return fail(errc::bad_config,
                "lifetime_max_s must be positive, clock_skew_s within 0..3600 and "
                "token_bytes_max positive");
  }
  if (!config.key_id.empty() && !valid_key_id(config.key_id)) {
    return fail(errc::bad_config, "key_id must be 1 to 64 of [A-Za-z0-9._-]");
  }
  return verifier(std::move(config));
}

result<claims> verifier::verify(std::string_view token, std::int64_t now_s) const {
  if (token.size() > config_.token_bytes_max) {
    return fail(errc::token_too_large,
                fmt::format("the token is over {} bytes", config_.token_bytes_max));
  }
  auto parts = split(token);
  if (!parts) return std::unexpected(parts.error());
  const auto header_bytes = base64url_decode(parts->header);
  const auto payload_bytes = base64url_decode(parts->payload);
  if (!header_bytes || !payload_bytes) {
    return fail(errc::bad_base64, "the token's header or payload is not base64url");
  }
  const auto header = parse_object(*header_bytes);
  if (!header) return fail(errc::bad_json, "the token's header is not one JSON object");
  if (auto ok = check_header(*header, config_); !ok) return std::unexpected(ok.error());
  if (parts->signature.empty()) return fail(errc::empty_signature, "the token is not signed");
  const auto signature = base64url_decode(parts->signature);
  if (!signature) return fail(errc::bad_base64, "the token's signature is not base64url");
  if (!config_.verification_key.verify(parts->signing_input, *signature)) {
    return fail(errc::bad_signature, "the token's signature does not verify");
  }
  // Only signed bytes are parsed as claims.
  const auto payload = parse_object(*payload_bytes);
  if (!payload) return fail(errc::bad_json, "the token's payload is not one JSON object");
  return check_claims(*payload, config_, now_s);
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != scheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.empty() || token.find_first_of(" \t\r\n,") != std::string_view::npos) {
    return std::nullopt;
  }
  return token;
}

result<verifier_config> load_verifier_config(const settings& s) {
  verifier_config config;
  if (s.alg == algorithm::hs256) {
    auto k = key::hmac(s.hmac_secret);
    if (!k) return std::unexpected(k.error());
    config.verification_key = std::move(*k);
  } else {
    if (s.public_key_path.empty()) {
      return fail(errc::bad_config,
                  fmt::format("{} needs public_key_path: the PEM public key of the identity "
                              "provider",
                              algorithm_name(s.alg)));
    }
    auto k = key::from_public_pem_file(s.alg, s.public_key_path);
    if (!k) return std::unexpected(k.error());
    config.verification_key = std::move(*k);
  }
  config.issuers = s.issuers;
  config.audience = s.audience;
  config.key_id = s.key_id;
  config.lifetime_max_s = s.lifetime_max_s;
  config.clock_skew_s = s.clock_skew_s;
  config.token_bytes_max = s.token_bytes_max;
  config.require_jti = s.require_jti;
  // The same checks a verifier makes, now, so a bad configuration fails at start.
  if (auto v = verifier::make(config); !v) return std::unexpected(v.error());
  return config;
}

result<std::string> sign_compact(const key& signing_key, std::string_view header_json,
                                 std::string_view payload_json) {
  std::string input = base64url_encode(header_json);
  input += '.';
  input += base64url_encode(payload_json);
  auto sig = signing_key.sign(input);
  if (!sig) return std::unexpected(sig.error());
  input += '.';
  input += base64url_encode(*sig);
  return input;
}

result<std::string> mint(const key& signing_key, const token_request& request) {
  json header = {{"alg", algorithm_name(signing_key.alg())}, {"typ", "JWT"}};
  if (!request.key_id.empty()) header["kid"] = request.key_id;
  json payload = {{"iss", request.tenant}, {"sub", request.subject}};
  if (request.audience.size() == 1) {
    payload["aud"] = request.audience.front();
  } else {
    payload["aud"] = request.audience;
  }
  payload["iat"] = request.iat_s;
  payload["exp"] = request.exp_s;
  if (request.nbf_s) payload["nbf"] = *request.nbf_s;
  if (!request.jti.empty()) payload["jti"] = request.jti;
  json roles = json::array();
  for (const auto name : request.roles.names()) roles.push_back(name);
  payload["roles"] = std::move(roles);
  std::string header_text, payload_text;
  try {
    header_text = header.dump();
    payload_text = payload.dump();
  } catch (const json::exception&) {
    return fail(errc::invalid_claim, "a claim or the kid is not valid UTF-8");
  }
  return sign_compact(signing_key, header_text, payload_text);
}

std::string random_jti() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // No randomness is an environment failure nothing here can work around.
    ERR_clear_error();
    std::abort();
  }
  std::string out;
  for (const unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace backline::auth
