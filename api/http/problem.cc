#include "api/http/problem.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace backline::http {

std::string problem_json(int status, std::string_view type, std::string_view title,
                         std::string_view detail, std::optional<std::string_view> field) {
  nlohmann::ordered_json j;
  j["type"] = type;
  j["title"] = title;
  j["status"] = status;
  j["detail"] = detail;
  if (field) j["field"] = *field;
  // Invalid UTF-8 in a detail (e.g. an echoed path) must not throw: replace it.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

response problem(int status, std::string_view type, std::string_view title, std::string_view detail,
                 std::optional<std::string_view> field) {
  response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = problem_json(status, type, title, detail, field);
  return r;
}

namespace pt = problem_types;

response bad_request(std::string_view detail) {
  return problem(400, pt::bad_request, "Bad request", detail);
}
response validation_failed(std::string_view field, std::string_view detail) {
  return problem(400, pt::validation, "Validation failed", detail, field);
}
response unauthorized(std::string_view detail) {
  auto r = problem(401, pt::unauthorized, "Unauthorized", detail);
  r.headers.add("WWW-Authenticate", "Bearer");
  return r;
}
response forbidden(std::string_view detail) {
  return problem(403, pt::forbidden, "Forbidden", detail);
}
response not_found(std::string_view detail) {
  return problem(404, pt::not_found, "Not found", detail);
}
response method_not_allowed(std::string_view allow) {
  auto r = problem(405, pt::method_not_allowed, "Method not allowed",
                   fmt::format("this resource allows {}", allow));
  r.headers.add("Allow", std::string(allow));
  return r;
}
response conflict(std::string_view detail) {
  return problem(409, pt::conflict, "Conflict", detail);
}
response payload_too_large(std::size_t limit_bytes) {
  return problem(413, pt::payload_too_large, "Payload too large",
                 fmt::format("the request body is over the limit of {} bytes", limit_bytes));
}
response unsupported_media_type(std::string_view got) {
  return problem(415, pt::unsupported_media_type, "Unsupported media type",
                 fmt::format("the body must be application/json, got '{}'", got));
}
response rule_refused(std::string_view rule, std::string_view detail) {
  response r;
  r.status = 422;
  r.content_type = "application/problem+json";
  nlohmann::ordered_json j;
  j["type"] = pt::rule_refused;
  j["title"] = "Refused by a rule";
  j["status"] = 422;
  j["detail"] = detail;
  j["rule"] = rule;
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}
response too_many_requests(int retry_after_s, std::string_view detail) {
  auto r = problem(429, pt::too_many_requests, "Too many requests", detail);
  r.headers.add("Retry-After", std::to_string(retry_after_s));
  return r;
}
response overloaded(int retry_after_s, std::string_view detail) {
  auto r = problem(503, pt::overloaded, "Overloaded", detail);
  r.headers.add("Retry-After", std::to_string(retry_after_s));
  return r;
}
response gateway_timeout(std::string_view detail) {
  return problem(504, pt::timeout, "Timed out", detail);
}
response internal_error(std::string_view detail) {
  return problem(500, pt::internal, "Internal error", detail);
}

}  // namespace backline::http
