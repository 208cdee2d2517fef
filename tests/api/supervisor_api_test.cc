// The supervisor API: Monitor -> Whisper -> Barge on an agent's call and leaving, grants from
// the directory enforced by the domain (422 supervisor_not_granted), the supervisor role (403)
// and finding the session without its id.
#include "tests/api/api_fixture.h"

namespace backline::api::testing {
namespace {

class SupervisorApi : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(w.ok()) << w.error(); }
  api_reply as(const std::string& who, std::string_view method, const std::string& target,
               const json& body = nullptr) {
    return w.request(method, target, w.token(who, {role::supervisor}), body);
  }
  api_world w;
};

TEST_F(SupervisorApi, MonitorThenWhisperThenBargeThenLeave) {
  const std::string call = w.connected_customer_call("alice");
  const std::string path = "/v1/calls/" + call + "/supervise";
  auto r = as("peggy", "POST", path, {{"mode", "monitor"}});
  ASSERT_EQ(r.status, 201) << render(r);
  const std::string session = r.body["session_id"];
  EXPECT_FALSE(session.empty());
  EXPECT_EQ(r.body["mode"], "monitor");
  EXPECT_EQ(r.body["coached_agent"], "alice");  // none named: the domain chose the owner
  EXPECT_EQ(w.count("call/" + call, "supervisor_joined"), 1u);

  r = as("peggy", "PATCH", path, {{"mode", "whisper"}, {"coached_agent", "alice"}});
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["session_id"], session);
  EXPECT_EQ(r.body["mode"], "whisper");
  r = as("peggy", "PATCH", path, {{"mode", "barge"}, {"session_id", session}});
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["coached_agent"], "alice");
  EXPECT_EQ(w.count("call/" + call, "supervisor_mode_changed"), 2u);

  r = as("peggy", "DELETE", path);
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["session_id"], session);
  EXPECT_EQ(w.count("call/" + call, "supervisor_left"), 1u);
}

TEST_F(SupervisorApi, ASupervisorCannotChangeOrLeaveAnotherSupervisorsSession) {
  const std::string call = w.connected_customer_call("alice");
  const std::string path = "/v1/calls/" + call + "/supervise";
  auto r = as("peggy", "POST", path, {{"mode", "monitor"}});
  ASSERT_EQ(r.status, 201) << render(r);
  const std::string session = r.body["session_id"];
  r = as("quentin", "PATCH", path, {{"mode", "monitor"}, {"session_id", session}});
  EXPECT_EQ(r.status, 422) << render(r);
  EXPECT_EQ(r.body["rule"], "not_session_owner");
  r = as("quentin", "DELETE", path, {{"session_id", session}});
  EXPECT_EQ(r.status, 422) << render(r);
  EXPECT_EQ(r.body["rule"], "not_session_owner");
  EXPECT_EQ(w.count("call/" + call, "supervisor_left"), 0u);
  EXPECT_EQ(as("peggy", "DELETE", path, {{"session_id", session}}).status, 200);
}

TEST_F(SupervisorApi, AModeWithoutItsGrantIsRefusedNamingTheRule) {
  const std::string call = w.connected_customer_call("alice");
  const std::string path = "/v1/calls/" + call + "/supervise";
  // Quentin may only monitor tier 1.
  auto r = as("quentin", "POST", path, {{"mode", "whisper"}});
  EXPECT_EQ(r.status, 422) << render(r);
  EXPECT_EQ(r.body["rule"], "supervisor_not_granted");
  r = as("quentin", "POST", path, {{"mode", "monitor"}});
  ASSERT_EQ(r.status, 201) << render(r);
  r = as("quentin", "PATCH", path, {{"mode", "barge"}});
  EXPECT_EQ(r.status, 422) << render(r);
  EXPECT_EQ(r.body["rule"], "supervisor_not_granted");
  EXPECT_EQ(w.count("call/" + call, "supervisor_mode_changed"), 0u);
}

TEST_F(SupervisorApi, OnlySupervisorsSuperviseAndTheBodyIsChecked) {
  const std::string call = w.connected_customer_call("alice");
  const std::string path = "/v1/calls/" + call + "/supervise";
  auto r = w.request("POST", path, w.token("bob", {role::agent}), {{"mode", "monitor"}});
  EXPECT_EQ(r.status, 403) << render(r);
  r = as("peggy", "POST", path, {{"mode", "shout"}});
  EXPECT_EQ(r.status, 400) << render(r);
  EXPECT_EQ(r.body["field"], "mode");
  r = as("peggy", "POST", path, json::object());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "mode");
  r = as("peggy", "POST", "/v1/calls/no-such-call/supervise", {{"mode", "monitor"}});
  EXPECT_EQ(r.status, 404) << render(r);
  // No session of peggy's on this call.
  r = as("peggy", "PATCH", path, {{"mode", "barge"}});
  EXPECT_EQ(r.status, 404) << render(r);
  r = as("peggy", "DELETE", path);
  EXPECT_EQ(r.status, 404) << render(r);
  r = as("peggy", "PATCH", path, {{"mode", "barge"}, {"session_id", "no-such-session"}});
  EXPECT_EQ(r.status, 404) << render(r);
}

}  // namespace
}  // namespace backline::api::testing
