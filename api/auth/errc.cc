#include "api/auth/errc.h"

namespace backline::auth {

std::string_view errc_name(errc code) {
  switch (code) {
    case errc::ok:
      return "ok";
    case errc::token_too_large:
      return "token_too_large";
    case errc::malformed:
      return "malformed";
    case errc::bad_base64:
      return "bad_base64";
    case errc::bad_json:
      return "bad_json";
    case errc::algorithm_not_allowed:
      return "algorithm_not_allowed";
    case errc::forbidden_header:
      return "forbidden_header";
    case errc::bad_key_id:
      return "bad_key_id";
    case errc::empty_signature:
      return "empty_signature";
    case errc::bad_signature:
      return "bad_signature";
    case errc::missing_claim:
      return "missing_claim";
    case errc::invalid_claim:
      return "invalid_claim";
    case errc::wrong_issuer:
      return "wrong_issuer";
    case errc::wrong_audience:
      return "wrong_audience";
    case errc::expired:
      return "expired";
    case errc::not_yet_valid:
      return "not_yet_valid";
    case errc::lifetime_too_long:
      return "lifetime_too_long";
    case errc::revoked:
      return "revoked";
    case errc::key_error:
      return "key_error";
    case errc::io_error:
      return "io_error";
    case errc::bad_config:
      return "bad_config";
    case errc::limit_exceeded:
      return "limit_exceeded";
  }
  return "unknown_auth_error";
}

namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "backline.auth"; }
  std::string message(int value) const override {
    return std::string(errc_name(static_cast<errc>(value)));
  }
};
}  // namespace

const std::error_category& auth_category() {
  static const category instance;
  return instance;
}

}  // namespace backline::auth
