// Authorization matrices over real HTTP.
//
// Supervision: every role (telephony, agent, supervisor, admin, none) x mode (monitor, whisper,
// barge) x target call (an agent of each team of the demo directory), and the same with a token
// of another tenant. The expected answer of a supervisor is derived from the directory's grants
// (actors/directory_loader.h + domain::directory::may_supervise), not copied from the file:
// 201 when granted, else 422 supervisor_not_granted (grants are per mode, default deny). Any
// other role: 403. Another tenant: 401 or 403.
//
// Routes: every agent route refuses a telephony token (403) and every telephony route an agent
// token (403), and nothing reaches the log.
#include <map>

#include "actors/directory_loader.h"
#include "tests/api/api_fixture.h"

namespace backline::api::testing {
namespace {

using domain::supervise_mode;

constexpr supervise_mode modes[] = {supervise_mode::monitor, supervise_mode::whisper,
                                    supervise_mode::barge};

class Authz : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(w.ok()) << w.error();
    auto d = actors::load_directory_file(world_options{}.directory_file);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    dir = std::move(*d);
  }
  // A connected customer call of `agent` (one per agent, created on first use).
  const std::string& call_of(const std::string& agent) {
    auto it = calls.find(agent);
    if (it == calls.end()) it = calls.emplace(agent, w.connected_customer_call(agent)).first;
    return it->second;
  }
  // One agent (or specialist) per team who is not `except`: nobody supervises a call they are
  // on, and only agents and specialists are coached (a supervisor's own customer call is refused
  // earlier, coached_agent_not_on_call, so the supervisors' team is no target here).
  std::vector<const domain::agent_entry*> one_per_team(const std::string& except) const {
    std::map<std::string, const domain::agent_entry*> by_team;
    for (const auto& a : dir.agents) {
      if (a.kind == domain::agent_kind::supervisor) continue;
      if (a.id != except && !by_team.contains(a.team)) by_team[a.team] = &a;
    }
    std::vector<const domain::agent_entry*> out;
    for (const auto& [team, a] : by_team) out.push_back(a);
    return out;
  }
  api_world w;
  domain::directory dir;
  std::map<std::string, std::string> calls;
};

TEST_F(Authz, SupervisorsAreGrantedExactlyTheModesAndTeamsTheDirectoryGrants) {
  std::size_t granted = 0, refused = 0, supervisors = 0;
  for (const auto& sup : dir.agents) {
    if (sup.kind != domain::agent_kind::supervisor) continue;
    ++supervisors;
    const auto token = w.token(sup.id, {role::supervisor});
    for (const auto* agent : one_per_team(sup.id)) {
      const std::string path = "/v1/calls/" + call_of(agent->id) + "/supervise";
      for (const auto mode : modes) {
        const std::string name(domain::to_string(mode));
        SCOPED_TRACE(fmt::format("{} {} over {} ({})", sup.id, name, agent->id, agent->team));
        const auto r =
            w.request("POST", path, token, {{"mode", name}, {"coached_agent", agent->id}});
        if (dir.may_supervise(sup.id, mode, agent->id)) {
          ++granted;
          ASSERT_EQ(r.status, 201) << render(r);
          EXPECT_EQ(r.body["mode"], name);
          EXPECT_EQ(r.body["coached_agent"], agent->id);
          const auto left = w.request("DELETE", path, token);  // the next mode joins afresh
          EXPECT_EQ(left.status, 200) << render(left);
        } else {
          ++refused;
          EXPECT_EQ(r.status, 422) << render(r);
          EXPECT_EQ(r.body.value("rule", ""), "supervisor_not_granted") << render(r);
        }
      }
    }
  }
  // The demo directory exercises both answers, and each supervisor got a full row.
  EXPECT_EQ(supervisors, 2u);
  EXPECT_GT(granted, 0u);
  EXPECT_GT(refused, 0u);
}

TEST_F(Authz, AModeGrantedOnJoinIsCheckedAgainWhenTheModeChanges) {
  // Every supervisor, on each agent they may monitor: PATCH to each mode answers by its grant.
  for (const auto& sup : dir.agents) {
    if (sup.kind != domain::agent_kind::supervisor) continue;
    const auto token = w.token(sup.id, {role::supervisor});
    for (const auto* agent : one_per_team(sup.id)) {
      if (!dir.may_supervise(sup.id, supervise_mode::monitor, agent->id)) continue;
      const std::string path = "/v1/calls/" + call_of(agent->id) + "/supervise";
      ASSERT_EQ(w.request("POST", path, token, {{"mode", "monitor"}}).status, 201);
      for (const auto mode : {supervise_mode::whisper, supervise_mode::barge}) {
        const std::string name(domain::to_string(mode));
        SCOPED_TRACE(fmt::format("{} -> {} over {}", sup.id, name, agent->id));
        const auto r = w.request("PATCH", path, token, {{"mode", name}});
        if (dir.may_supervise(sup.id, mode, agent->id)) {
          EXPECT_EQ(r.status, 200) << render(r);
        } else {
          EXPECT_EQ(r.status, 422) << render(r);
          EXPECT_EQ(r.body.value("rule", ""), "supervisor_not_granted");
        }
      }
      EXPECT_EQ(w.request("DELETE", path, token).status, 200);
    }
  }
}

TEST_F(Authz, OtherRolesMayNotSuperviseAndAnAgentWithTheSupervisorRoleIsNoSupervisor) {
  const auto targets = one_per_team("");
  std::size_t cells = 0;
  // A supervisor's id does not make the role: every token names peggy.
  const std::vector<std::pair<std::string, std::string>> tokens = {
      {"telephony", w.token("peggy", {role::telephony})},
      {"agent", w.token("peggy", {role::agent})},
      {"admin", w.token("peggy", {role::admin})},
      {"no role", w.token("peggy", {})}};
  for (const auto& [label, token] : tokens) {
    for (const auto* agent : targets) {
      const std::string path = "/v1/calls/" + call_of(agent->id) + "/supervise";
      for (const auto mode : modes) {
        const std::string name(domain::to_string(mode));
        SCOPED_TRACE(fmt::format("{} {} over {}", label, name, agent->id));
        EXPECT_EQ(w.request("POST", path, token, {{"mode", name}}).status, 403);
        EXPECT_EQ(w.request("PATCH", path, token, {{"mode", name}}).status, 403);
        ++cells;
      }
      EXPECT_EQ(w.request("DELETE", path, token).status, 403);
    }
  }
  EXPECT_EQ(cells, 4 * targets.size() * 3);
  // The supervisor role on a directory agent who is not a supervisor: the domain refuses.
  const auto r = w.request("POST", "/v1/calls/" + call_of("ivan") + "/supervise",
                           w.token("bob", {role::supervisor}), {{"mode", "monitor"}});
  EXPECT_EQ(r.status, 422) << render(r);
  EXPECT_EQ(r.body.value("rule", ""), "not_a_supervisor");
  for (const auto& [agent, call] : calls) {
    EXPECT_EQ(w.count("call/" + call, "supervisor_joined"), 0u) << agent;
  }
}

TEST_F(Authz, ATokenOfAnotherTenantNeverSupervises) {
  for (const role r : {role::telephony, role::agent, role::supervisor, role::admin}) {
    const auto token = w.token("peggy", {r}, "other_center");
    for (const auto* agent : one_per_team("peggy")) {
      const std::string path = "/v1/calls/" + call_of(agent->id) + "/supervise";
      for (const auto mode : modes) {
        const std::string name(domain::to_string(mode));
        SCOPED_TRACE(
            fmt::format("{} of other_center, {} over {}", auth::role_name(r), name, agent->id));
        const auto reply = w.request("POST", path, token, {{"mode", name}});
        EXPECT_TRUE(reply.status == 401 || reply.status == 403) << render(reply);
      }
    }
  }
  for (const auto& [agent, call] : calls) {
    EXPECT_EQ(w.count("call/" + call, "supervisor_joined"), 0u) << agent;
  }
}

// ---------------------------------------------------------------------------------------------
// Route by route.

struct route {
  const char* method;
  std::string path;
  json body;
};

TEST_F(Authz, AgentRoutesRefuseTelephonyTokensAndTelephonyRoutesRefuseAgentTokens) {
  const std::string call = call_of("alice");
  const std::string c = "/v1/calls/" + call;
  const std::vector<route> agent_routes = {
      {"PUT", "/v1/agents/alice/presence", {{"presence", "available"}}},
      {"POST", "/v1/calls/internal", {{"target", {{"agent", "bob"}}}}},
      {"POST", "/v1/offers/some-offer/accept", nullptr},
      {"POST", "/v1/offers/some-offer/decline", nullptr},
      {"POST", c + "/consult", {{"target", {{"extension", "2201"}}}}},
      {"POST", c + "/transfer", {{"target", {{"queue", "Billing"}}}}},
      {"POST", c + "/conference", {{"consult_call_id", "k"}}},
      {"POST", c + "/wrap-up", {{"disposition", "resolved"}}},
      {"POST", c + "/hold", nullptr},
      {"POST", c + "/resume", nullptr},
      {"POST", c + "/mute", nullptr},
      {"POST", c + "/unmute", nullptr},
      {"POST", c + "/leave", nullptr},
      {"POST", c + "/hangup", nullptr},
      {"POST", c + "/supervise", {{"mode", "monitor"}}},
      {"PATCH", c + "/supervise", {{"mode", "barge"}}},
      {"DELETE", c + "/supervise", nullptr},
  };
  const std::string t = "/telephony/v1/voiceCalls";
  const std::string v = t + "/" + call;
  const json message{{"content", "hello"}};
  const std::vector<route> telephony_routes = {
      {"POST", t, {{"vendorCallKey", "vck-authz"}, {"to", center_number}}},
      {"POST",
       t + "/messages",
       {{"entries", {{{"vendorCallKey", call}, {"messages", {message}}}}}}},
      {"PATCH", v, {{"isActiveCall", false}}},
      {"POST", v + "/messages", {{"messages", {message}}}},
      {"PATCH", v + "/omniFlow", {{"dialedNumber", center_number}}},
      {"PATCH", v + "/clearRouting", nullptr},
      {"POST", v + "/requestCallback", {{"callbackNumber", customer_number}}},
      {"POST", v + "/realtimeConversationEvents", {{"events", {{{"type", "sentiment"}}}}}},
      {"POST", v + "/postConversationEvents", {{"events", {{{"type", "summary"}}}}}},
  };
  const auto before = w.log().committed_position();
  const auto telephony = w.token("alice", {role::telephony});
  for (const auto& r : agent_routes) {
    const auto reply = w.request(r.method, r.path, telephony, r.body);
    EXPECT_EQ(reply.status, 403) << r.method << " " << r.path << ": " << render(reply);
  }
  const auto agent = w.token("alice", {role::agent});
  const auto supervisor = w.token("peggy", {role::supervisor});
  for (const auto& r : telephony_routes) {
    for (const auto* token : {&agent, &supervisor}) {
      const auto reply = w.request(r.method, r.path, *token, r.body);
      EXPECT_EQ(reply.status, 403) << r.method << " " << r.path << ": " << render(reply);
    }
  }
  EXPECT_EQ(w.log().committed_position(), before);  // no refused request reached the log
  // The same rows with the right role get past authorization (whatever the domain answers).
  EXPECT_NE(w.request("POST", c + "/hold", agent).status, 403);
  EXPECT_NE(w.request("PATCH", v + "/clearRouting", telephony).status, 403);
}

}  // namespace
}  // namespace backline::api::testing
