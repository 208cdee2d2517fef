#include "api/http/router.h"

#include <gtest/gtest.h>

namespace backline::http {
namespace {

void nothing(request&, responder) {}

TEST(Router, MatchesTemplatesAndDecodesParameters) {
  router r;
  r.add(method::post, "/v1/calls/{id}/hold", nothing);
  r.add(method::patch, "/telephony/v1/voiceCalls/{id}", nothing);
  auto m = r.match(method::post, "/v1/calls/c%2F1%20x/hold");
  ASSERT_EQ(m.result, router::outcome::found);
  EXPECT_EQ(m.matched->path_template, "/v1/calls/{id}/hold");
  EXPECT_EQ(m.path_params.get_or("id", "?"), "c/1 x");  // %2F does not split, '+' is literal
  auto t = r.match(method::patch, "/telephony/v1/voiceCalls/a+b");
  ASSERT_EQ(t.result, router::outcome::found);
  EXPECT_EQ(t.path_params.get_or("id", "?"), "a+b");
}

TEST(Router, UnknownPathIsNotFoundAndWrongMethodListsAllowed) {
  router r;
  r.add(method::post, "/v1/calls/{id}/supervise", nothing);
  r.add(method::patch, "/v1/calls/{id}/supervise", nothing);
  r.add(method::del, "/v1/calls/{id}/supervise", nothing);
  EXPECT_EQ(r.match(method::get, "/v1/calls/x").result, router::outcome::not_found);
  EXPECT_EQ(r.match(method::get, "/v1/calls/x/supervise/").result, router::outcome::not_found);
  EXPECT_EQ(r.match(method::get, "//v1/calls/x/supervise").result, router::outcome::not_found);
  auto m = r.match(method::get, "/v1/calls/x/supervise");
  EXPECT_EQ(m.result, router::outcome::method_not_allowed);
  EXPECT_EQ(m.allow, "POST, PATCH, DELETE");
}

TEST(Router, LiteralSegmentBeatsParameterButMethodDecides) {
  router r;
  r.add(method::patch, "/telephony/v1/voiceCalls/{id}", nothing);
  r.add(method::post, "/telephony/v1/voiceCalls/messages", nothing);
  r.add(method::post, "/telephony/v1/voiceCalls/{key}/messages", nothing);
  auto bulk = r.match(method::post, "/telephony/v1/voiceCalls/messages");
  ASSERT_EQ(bulk.result, router::outcome::found);
  EXPECT_EQ(bulk.matched->path_template, "/telephony/v1/voiceCalls/messages");
  // PATCH on the literal path still reaches the parameter template (a vendor key "messages").
  auto patch = r.match(method::patch, "/telephony/v1/voiceCalls/messages");
  ASSERT_EQ(patch.result, router::outcome::found);
  EXPECT_EQ(patch.path_params.get_or("id", "?"), "messages");
  auto one = r.match(method::post, "/telephony/v1/voiceCalls/vk-1/messages");
  ASSERT_EQ(one.result, router::outcome::found);
  EXPECT_EQ(one.path_params.get_or("key", "?"), "vk-1");
}

TEST(Router, BadEscapeInAParameterIsABadPath) {
  router r;
  r.add(method::get, "/v1/agents/{id}", nothing);
  EXPECT_EQ(r.match(method::get, "/v1/agents/%zz").result, router::outcome::bad_path);
  EXPECT_EQ(r.match(method::get, "/v1/agents/%4").result, router::outcome::bad_path);
  EXPECT_EQ(r.match(method::get, "/v1/agents/%00").result, router::outcome::bad_path);
}

TEST(Router, QueryParametersArePercentAndPlusDecoded) {
  params q;
  ASSERT_TRUE(parse_query("q=ali+ce%21&limit=5&&flag&q=2", q));
  EXPECT_EQ(q.get_or("q", "?"), "ali ce!");
  EXPECT_EQ(q.get_or("limit", "?"), "5");
  EXPECT_EQ(q.get_or("flag", "?"), "");
  EXPECT_EQ(q.size(), 4u);
  params bad;
  EXPECT_FALSE(parse_query("a=%G1", bad));
}

TEST(RouterDeathTest, MalformedOrDuplicateTemplatesAbort) {
  EXPECT_DEATH(
      {
        router r;
        r.add(method::get, "/v1/x{id}", nothing);
      },
      "whole segment");
  EXPECT_DEATH(
      {
        router r;
        r.add(method::get, "/a/{id}", nothing);
        r.add(method::get, "/a/{id}", nothing);
      },
      "duplicate");
  EXPECT_DEATH(
      {
        router r;
        r.add(method::get, "relative", nothing);
      },
      "absolute");
}

}  // namespace
}  // namespace backline::http
