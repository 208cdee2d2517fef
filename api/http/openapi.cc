#include "api/http/openapi.h"

#include "api/http/yaml_json.h"

namespace backline::http {

extern const std::string_view openapi_yaml_text;  // openapi_embed.cc, generated

std::string_view openapi_yaml() {
  return openapi_yaml_text;
}

const std::expected<std::string, std::string>& openapi_json() {
  static const std::expected<std::string, std::string> document =
      []() -> std::expected<std::string, std::string> {
    auto j = yaml_to_json(openapi_yaml_text);
    if (!j) return std::unexpected(j.error());
    return j->dump();
  }();
  return document;
}

}  // namespace backline::http
