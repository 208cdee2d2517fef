// The read routes: a VoiceCall record (and as of an instant, folded from the log), listings,
// the internal-call chain and reports; 503 without read models; validation and 404s. Also: the
// OpenAPI document describes exactly the routes a fully installed server registers.
#include <cctype>
#include <set>

#include "tests/api/api_fixture.h"

namespace backline::api::testing {
namespace {

// A customer call of alice with a consult to mallory, ended.
struct scene {
  std::string call, consult;
};

scene consulted_call(api_world& w) {
  scene s;
  s.call = w.connected_customer_call("alice");
  w.set_presence("mallory", "available");
  const auto alice = w.token("alice", {role::agent});
  auto r = w.request("POST", "/v1/calls/" + s.call + "/consult", alice,
                     {{"target", {{"agent", "mallory"}}}});
  EXPECT_EQ(r.status, 201) << render(r);
  s.consult = r.body.value("consult_call_id", "");
  r = w.request("POST", "/v1/offers/" + r.body.value("offer_id", "") + "/accept",
                w.token("mallory", {role::agent}));
  EXPECT_EQ(r.status, 200) << render(r);
  EXPECT_TRUE(w.eventually([&] { return w.count("call/" + s.call, "call_answered") == 2; }));
  r = w.request("POST", "/v1/calls/" + s.call + "/hangup", alice);
  EXPECT_EQ(r.status, 200) << render(r);
  return s;
}

class ReadApi : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(w.ok()) << w.error(); }
  api_reply get(const std::string& target) {
    return w.request("GET", target, w.token("ivan", {role::agent}));
  }
  api_world w;
};

TEST_F(ReadApi, AVoiceCallFromTheReadModelsAndAsOfAnInstant) {
  const scene s = consulted_call(w);
  ASSERT_TRUE(w.projected());
  auto r = get("/v1/voice-calls/" + s.call);
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["id"], s.call);
  EXPECT_EQ(r.body["owner_agent"], "alice");
  EXPECT_EQ(r.body["call_disposition"], "completed");
  r = get("/v1/voice-calls/" + s.consult);
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["parent_voice_call_id"], s.call);

  // Time travel: now, the whole conversation with its hear matrix; before it existed, 404.
  r = get("/v1/voice-calls/" + s.call + "?at=now");
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["voice_call_id"], s.call);
  EXPECT_EQ(r.body["voice_calls"].size(), 2u);
  EXPECT_TRUE(r.body["hear_matrix"].contains("parties"));
  const std::string created_at = r.body["voice_calls"][0]["start_time"];
  r = get("/v1/voice-calls/" + s.call + "?at=" + created_at);
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["voice_calls"].size(), 1u);  // the consult came later
  r = get("/v1/voice-calls/" + s.call + "?at=2001-01-01T00:00:00Z");
  EXPECT_EQ(r.status, 404) << render(r);
  r = get("/v1/voice-calls/" + s.call + "?at=yesterday");
  EXPECT_EQ(r.status, 400) << render(r);
  EXPECT_EQ(r.body["field"], "at");
  EXPECT_EQ(get("/v1/voice-calls/no-such-call").status, 404);
  EXPECT_EQ(get("/v1/voice-calls/no-such-call?at=now").status, 404);
}

TEST_F(ReadApi, ListsFilterByAgentTypeAndParent) {
  const scene s = consulted_call(w);
  w.connected_customer_call("bob");
  ASSERT_TRUE(w.projected());
  auto r = get("/v1/voice-calls?agent=alice");
  ASSERT_EQ(r.status, 200) << render(r);
  ASSERT_EQ(r.body["count"], 2);  // her customer call and her consult
  r = get("/v1/voice-calls?type=Internal");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body["voice_calls"].size(), 1u);
  EXPECT_EQ(r.body["voice_calls"][0]["id"], s.consult);
  r = get("/v1/voice-calls?parent=" + s.call);
  ASSERT_EQ(r.body["voice_calls"].size(), 1u);
  r = get("/v1/voice-calls?limit=1");
  EXPECT_EQ(r.body["voice_calls"].size(), 1u);
  r = get("/v1/voice-calls?from=now");
  EXPECT_EQ(r.body["count"], 0);
  r = get("/v1/voice-calls?type=Carrier");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "type");
  r = get("/v1/voice-calls?limit=0");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "limit");
  r = get("/v1/voice-calls?to=soon");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "to");
}

TEST_F(ReadApi, TheChainOfAConsultShowsTheCustomerCallAndItsChildren) {
  const scene s = consulted_call(w);
  ASSERT_TRUE(w.projected());
  auto r = get("/v1/voice-calls/" + s.consult + "/chain");
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["conversation_id"], s.call);
  ASSERT_EQ(r.body["segments"].size(), 1u);
  ASSERT_EQ(r.body["segments"][0]["children"].size(), 1u);
  EXPECT_EQ(get("/v1/voice-calls/no-such-call/chain").status, 404);
}

// An internal call placed from a customer call (parent_call_id) is a conversation of its own:
// its record names the parent, and the customer call's chain shows it under that segment.
TEST_F(ReadApi, AnInternalCallPlacedFromACallHangsUnderItInTheChain) {
  const std::string call = w.connected_customer_call("alice");
  w.set_presence("bob", "available");
  const auto alice = w.token("alice", {role::agent});
  auto r = w.request("POST", "/v1/calls/internal", alice,
                     {{"target", {{"agent", "bob"}}}, {"parent_call_id", call}});
  ASSERT_EQ(r.status, 201) << render(r);
  EXPECT_EQ(r.body["parent_call_id"], call);
  const std::string internal = r.body["call_id"];
  ASSERT_TRUE(w.projected());
  r = get("/v1/voice-calls/" + internal);
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["parent_voice_call_id"], call);
  r = get("/v1/voice-calls/" + call + "/chain");
  ASSERT_EQ(r.status, 200) << render(r);
  ASSERT_EQ(r.body["segments"].size(), 1u) << render(r);
  ASSERT_EQ(r.body["segments"][0]["children"].size(), 1u) << render(r);
  EXPECT_EQ(r.body["segments"][0]["children"][0]["id"], internal);
  r = w.request("POST", "/v1/calls/internal", alice,
                {{"target", {{"agent", "bob"}}}, {"parent_call_id", "no-such-call"}});
  EXPECT_EQ(r.status, 404) << render(r);
  EXPECT_EQ(r.body["field"], "parent_call_id");
}

TEST_F(ReadApi, ReportsOverAWindow) {
  consulted_call(w);
  ASSERT_TRUE(w.projected());
  auto r = get("/v1/reports/customer_volume");
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["name"], "customer_volume");
  EXPECT_FALSE(r.body["columns"].empty());
  ASSERT_EQ(r.body["rows"].size(), 1u);
  r = get("/v1/reports/consults_by_specialist?by=day&from=2001-01-01T00:00:00Z&to=now");
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["columns"][0], "bucket");
  EXPECT_EQ(get("/v1/reports/no_such_report").status, 404);
  r = get("/v1/reports/customer_volume?by=week");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "by");
  r = get("/v1/reports/customer_volume?from=now&to=2001-01-01T00:00:00Z");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "from");
}

TEST_F(ReadApi, EveryRoleOfTheTenantReadsAndOtherTenantsDoNot) {
  const std::string call = w.connected_customer_call("alice");
  ASSERT_TRUE(w.projected());
  for (const role r : {role::telephony, role::agent, role::supervisor, role::admin}) {
    EXPECT_EQ(w.request("GET", "/v1/voice-calls/" + call, w.token("x", {r})).status, 200);
  }
  EXPECT_EQ(w.request("GET", "/v1/voice-calls/" + call, w.token("x", {})).status, 403);
  EXPECT_EQ(w.request("GET", "/v1/voice-calls/" + call, "").status, 401);
}

TEST(ReadApiWithoutReadModels, Answers503ButTimeTravelStillWorks) {
  api_world w({.projections = false});
  ASSERT_TRUE(w.ok()) << w.error();
  const std::string call = w.connected_customer_call("alice");
  const auto t = w.token("ivan", {role::agent});
  for (const std::string& target :
       {"/v1/voice-calls/" + call, std::string("/v1/voice-calls"),
        "/v1/voice-calls/" + call + "/chain", std::string("/v1/reports/customer_volume")}) {
    const auto r = w.request("GET", target, t);
    EXPECT_EQ(r.status, 503) << target << ": " << render(r);
    EXPECT_NE(r.body.value("detail", "").find("read models"), std::string::npos);
  }
  const auto r = w.request("GET", "/v1/voice-calls/" + call + "?at=now", t);
  EXPECT_EQ(r.status, 200) << render(r);
}

TEST(OpenApi, TheDocumentDescribesExactlyTheRegisteredRoutes) {
  api_world w({.projections = false});
  ASSERT_TRUE(w.ok()) << w.error();
  const auto r = w.request("GET", "/openapi.json", w.token("ivan", {role::agent}));
  ASSERT_EQ(r.status, 200) << render(r);
  std::set<std::string> described, registered;
  for (const auto& [path, ops] : r.body["paths"].items()) {
    for (const auto& [verb, op] : ops.items()) {
      if (verb != "parameters") described.insert(verb + " " + path);
    }
  }
  for (const auto& route : w.server().routes().routes()) {
    std::string verb(http::method_name(route->verb));
    for (auto& ch : verb) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    registered.insert(verb + " " + route->path_template);
  }
  EXPECT_EQ(described, registered);
}

}  // namespace
}  // namespace backline::api::testing
