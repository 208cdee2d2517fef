#include "api/http/problem.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace backline::http {
namespace {

TEST(Problem, HasTheRfc9457MembersAndAStableType) {
  auto r = validation_failed("to", "'to' must be an E.164 number");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/problem+json");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["type"], "https://backline.dev/problems/validation");
  EXPECT_EQ(j["title"], "Validation failed");
  EXPECT_EQ(j["status"], 400);
  EXPECT_EQ(j["detail"], "'to' must be an E.164 number");
  EXPECT_EQ(j["field"], "to");
}

TEST(Problem, OverloadCarriesRetryAfterAndRefusalNamesTheRule) {
  auto busy = overloaded(2, "log queue full");
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.headers.get_or("Retry-After", ""), "2");
  EXPECT_EQ(too_many_requests(1, "slow down").headers.get_or("Retry-After", ""), "1");
  auto refused = rule_refused("supervisor_not_granted", "no whisper grant");
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(nlohmann::json::parse(refused.body)["rule"], "supervisor_not_granted");
  EXPECT_EQ(method_not_allowed("GET, POST").headers.get_or("Allow", ""), "GET, POST");
  EXPECT_EQ(unauthorized("no token").headers.get_or("WWW-Authenticate", ""), "Bearer");
}

TEST(Problem, InvalidUtf8InADetailIsReplacedNotThrown) {
  auto r = not_found(std::string("no route for /\xff\xfe"));
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["status"], 404);
}

}  // namespace
}  // namespace backline::http
