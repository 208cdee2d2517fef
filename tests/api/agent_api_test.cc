// The agent API (/v1) over a real engine and loopback HTTP: presence, the directory, internal
// calls with offers answered over HTTP, callbacks, consult, transfers, conference, hold and
// mute, hang-up and wrap-up; refusals by role (403), validation (400 naming the field), the
// domain (422 naming the rule) and unknown ids (404).
#include "tests/api/api_fixture.h"

namespace backline::api::testing {
namespace {

class AgentApi : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(w.ok()) << w.error(); }
  api_reply as(const std::string& who, std::string_view method, const std::string& target,
               const json& body = nullptr) {
    return w.request(method, target, w.token(who, {role::agent}), body);
  }
  api_world w;
};

TEST_F(AgentApi, AnAgentSetsTheirOwnPresenceAndTheDirectoryShowsIt) {
  w.set_presence("bob", "away", "lunch");
  const auto r = as("alice", "GET", "/v1/agents/bob");
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["name"], "Bob Chen");
  EXPECT_EQ(r.body["extension"], "2002");
  EXPECT_EQ(r.body["team"], "tier1");
  EXPECT_EQ(r.body["presence"]["status"], "away");
  EXPECT_EQ(r.body["presence"]["reason"], "lunch");
  EXPECT_EQ(w.count("agent/bob", "presence_changed"), 1u);
}

TEST_F(AgentApi, AnAgentMayNotSetAnotherAgentsPresenceButASupervisorMay) {
  const auto refused = as("alice", "PUT", "/v1/agents/bob/presence", {{"presence", "available"}});
  EXPECT_EQ(refused.status, 403) << render(refused);
  EXPECT_TRUE(w.events("agent/bob").empty());
  const auto by_supervisor =
      w.request("PUT", "/v1/agents/bob/presence", w.token("peggy", {role::supervisor}),
                {{"presence", "available"}});
  EXPECT_EQ(by_supervisor.status, 200) << render(by_supervisor);
  EXPECT_EQ(w.count("agent/bob", "presence_changed"), 1u);
}

TEST_F(AgentApi, PresenceValidationNamesTheField) {
  auto r = as("bob", "PUT", "/v1/agents/bob/presence", {{"presence", "sleeping"}});
  EXPECT_EQ(r.status, 400) << render(r);
  EXPECT_EQ(r.body["field"], "presence");
  r = as("bob", "PUT", "/v1/agents/bob/presence", json::object());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "presence");
  r = w.request("PUT", "/v1/agents/nobody/presence", w.token("peggy", {role::supervisor}),
                {{"presence", "available"}});
  EXPECT_EQ(r.status, 404) << render(r);
  r = w.request("PUT", "/v1/agents/bob/presence", w.token("bob", {role::telephony}),
                {{"presence", "available"}});
  EXPECT_EQ(r.status, 403) << render(r);
  r = w.request("PUT", "/v1/agents/bob/presence", "", {{"presence", "available"}});
  EXPECT_EQ(r.status, 401) << render(r);
}

TEST_F(AgentApi, ListsTheDirectoryAndAutocompletesAgentsExtensionsAndQueues) {
  auto r = as("alice", "GET", "/v1/agents");
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["agents"].size(), 17u);
  r = as("alice", "GET", "/v1/agents?team=tier2&limit=2");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["agents"].size(), 2u);
  EXPECT_EQ(r.body["truncated"], true);
  EXPECT_EQ(as("alice", "GET", "/v1/agents/nobody").status, 404);

  w.set_presence("bob", "available");
  r = as("alice", "GET", "/v1/directory?q=bo");
  ASSERT_EQ(r.status, 200) << render(r);
  ASSERT_FALSE(r.body["results"].empty());
  EXPECT_EQ(r.body["results"][0]["kind"], "agent");
  EXPECT_EQ(r.body["results"][0]["id"], "bob");
  EXPECT_EQ(r.body["results"][0]["presence"]["status"], "available");

  r = as("alice", "GET", "/v1/directory?q=bill");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body["results"].size(), 1u);
  EXPECT_EQ(r.body["results"][0]["kind"], "queue");
  EXPECT_EQ(r.body["results"][0]["name"], "Billing");
  EXPECT_TRUE(w.eventually([&] {
    return as("alice", "GET", "/v1/directory?q=bill").body["results"][0]["waiting"] == 0;
  }));

  r = as("alice", "GET", "/v1/directory?q=3002");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body["results"].size(), 1u);
  EXPECT_EQ(r.body["results"][0]["name"], "Technical");
  EXPECT_EQ(r.body["results"][0]["matched"], "extension");

  r = as("alice", "GET", "/v1/directory?q=20&limit=3");
  EXPECT_EQ(r.body["results"].size(), 3u);
  r = as("alice", "GET", "/v1/directory");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "q");
  r = as("alice", "GET", "/v1/directory?q=a&limit=0");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "limit");
}

TEST_F(AgentApi, InternalCallRingsAnAvailableAgentWhoAcceptsOverHttp) {
  w.set_presence("bob", "available");
  const auto r = as("alice", "POST", "/v1/calls/internal", {{"target", {{"agent", "bob"}}}});
  ASSERT_EQ(r.status, 201) << render(r);
  EXPECT_EQ(r.body["outcome"], "ringing");
  EXPECT_EQ(r.body["agent"], "bob");
  const std::string call = r.body["call_id"], offer = r.body["offer_id"];
  ASSERT_FALSE(offer.empty());
  EXPECT_EQ(r.header("location"), "/v1/voice-calls/" + call);
  EXPECT_TRUE(w.eventually_has("call/" + call, "call_ringing"));

  // Only the agent offered can answer the offer.
  const auto wrong = as("carol", "POST", "/v1/offers/" + offer + "/accept");
  EXPECT_EQ(wrong.status, 404) << render(wrong);
  const auto ok = as("bob", "POST", "/v1/offers/" + offer + "/accept");
  ASSERT_EQ(ok.status, 200) << render(ok);
  EXPECT_EQ(ok.body["status"], "accepted");
  EXPECT_TRUE(w.eventually_has("call/" + call, "call_answered"));
}

TEST_F(AgentApi, InternalCallByExtensionCanBeDeclined) {
  w.set_presence("bob", "available");
  const auto r = as("alice", "POST", "/v1/calls/internal", {{"target", {{"extension", "2002"}}}});
  ASSERT_EQ(r.status, 201) << render(r);
  EXPECT_EQ(r.body["agent"], "bob");
  const auto d =
      as("bob", "POST", "/v1/offers/" + r.body["offer_id"].get<std::string>() + "/decline");
  ASSERT_EQ(d.status, 200) << render(d);
  EXPECT_EQ(d.body["status"], "declined");
  EXPECT_TRUE(w.eventually_has("agent/bob", "offer_declined"));
}

TEST_F(AgentApi, ABusyTargetGetsACallbackRequestInsteadOfARing) {
  w.set_presence("bob", "busy", "meeting");
  const auto r = as("alice", "POST", "/v1/calls/internal", {{"target", {{"agent", "bob"}}}});
  ASSERT_EQ(r.status, 201) << render(r);
  EXPECT_EQ(r.body["outcome"], "callback");
  EXPECT_FALSE(r.body["callback_id"].get<std::string>().empty());
  EXPECT_TRUE(r.body["call_id"].is_null());
  EXPECT_EQ(w.count("agent/bob", "callback_requested"), 1u);
  EXPECT_EQ(w.count("agent/bob", "offer_reserved"), 0u);
}

TEST_F(AgentApi, InternalCallToAQueueWaitsAndRefusalsNameTheRule) {
  auto r = as("alice", "POST", "/v1/calls/internal", {{"target", {{"queue", "Billing"}}}});
  ASSERT_EQ(r.status, 201) << render(r);
  EXPECT_EQ(r.body["outcome"], "queued");
  EXPECT_EQ(r.body["queue"], "Billing");
  EXPECT_TRUE(w.eventually([&] {
    return as("alice", "GET", "/v1/directory?q=Billing").body["results"][0]["waiting"] == 1;
  }));

  r = as("alice", "POST", "/v1/calls/internal", {{"target", {{"agent", "dave"}}}});  // offline
  EXPECT_EQ(r.status, 422) << render(r);
  EXPECT_EQ(r.body["rule"], "agent_offline");
  r = as("alice", "POST", "/v1/calls/internal", {{"target", {{"agent", "nobody"}}}});
  EXPECT_EQ(r.status, 404) << render(r);
  EXPECT_EQ(r.body["field"], "target");
  r = as("alice", "POST", "/v1/calls/internal", {{"target", {{"agent", "bob"}, {"queue", "x"}}}});
  EXPECT_EQ(r.status, 400) << render(r);
  EXPECT_EQ(r.body["field"], "target");
  r = as("alice", "POST", "/v1/calls/internal", json::object());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "target");
  r = w.request("POST", "/v1/calls/internal", w.token("alice", {role::telephony}),
                {{"target", {{"agent", "bob"}}}});
  EXPECT_EQ(r.status, 403) << render(r);
  EXPECT_EQ(as("bob", "POST", "/v1/offers/no-such-offer/accept").status, 404);
}

TEST_F(AgentApi, ConsultThenWarmTransferHandsTheCustomerToTheSpecialist) {
  const std::string call = w.connected_customer_call("alice");
  w.set_presence("mallory", "available");
  auto r =
      as("alice", "POST", "/v1/calls/" + call + "/consult", {{"target", {{"agent", "mallory"}}}});
  ASSERT_EQ(r.status, 201) << render(r);
  EXPECT_EQ(r.body["customer_held"], true);
  const std::string consult = r.body["consult_call_id"];
  const auto accepted =
      as("mallory", "POST", "/v1/offers/" + r.body["offer_id"].get<std::string>() + "/accept");
  ASSERT_EQ(accepted.status, 200) << render(accepted);
  ASSERT_TRUE(w.eventually_has("call/" + call, "call_answered"));
  ASSERT_TRUE(w.eventually([&] { return w.count("call/" + call, "call_answered") == 2; }));

  r = as("alice", "POST", "/v1/calls/" + call + "/transfer", {{"consult_call_id", consult}});
  ASSERT_EQ(r.status, 201) << render(r);
  EXPECT_EQ(r.body["transfer"], "warm");
  EXPECT_FALSE(r.body["new_segment_id"].get<std::string>().empty());
  EXPECT_FALSE(r.header("etag").empty());
  EXPECT_EQ(w.count("call/" + call, "warm_transfer_completed"), 1u);
}

TEST_F(AgentApi, ConsultOfAnOfflineSpecialistIsRefusedAndAQueueIsNoConsultTarget) {
  const std::string call = w.connected_customer_call("alice");
  auto r = as("alice", "POST", "/v1/calls/" + call + "/consult",
              {{"target", {{"agent", "mallory"}}}});  // offline
  EXPECT_EQ(r.status, 422) << render(r);
  EXPECT_EQ(r.body["rule"], "agent_offline");
  r = as("alice", "POST", "/v1/calls/" + call + "/consult", {{"target", {{"queue", "Billing"}}}});
  EXPECT_EQ(r.status, 400) << render(r);
  EXPECT_EQ(r.body["field"], "target");
}

TEST_F(AgentApi, BlindTransferToAQueueAndTransferValidation) {
  const std::string call = w.connected_customer_call("bob");
  auto r = as("bob", "POST", "/v1/calls/" + call + "/transfer", json::object());
  EXPECT_EQ(r.status, 400) << render(r);
  EXPECT_EQ(r.body["field"], "target");
  r = as("bob", "POST", "/v1/calls/" + call + "/transfer",
         {{"target", {{"queue", "Billing"}}}, {"consult_call_id", "k"}});
  EXPECT_EQ(r.status, 400) << render(r);
  w.set_presence("erin", "available");  // billing 5: qualified for Billing
  r = as("bob", "POST", "/v1/calls/" + call + "/transfer", {{"target", {{"queue", "Billing"}}}});
  ASSERT_EQ(r.status, 201) << render(r);
  EXPECT_EQ(r.body["transfer"], "blind");
  EXPECT_EQ(w.count("call/" + call, "blind_transferred"), 1u);
  // The new segment waits in Billing and is offered to its available agent, who takes it.
  ASSERT_TRUE(w.eventually([&] { return w.count("agent/erin", "offer_reserved") == 1; }));
  ASSERT_EQ(as("erin", "POST", "/v1/offers/" + w.last_offer("erin") + "/accept").status, 200);
  ASSERT_TRUE(w.eventually([&] { return w.count("call/" + call, "call_answered") == 2; }));
  r = as("bob", "POST", "/v1/calls/no-such-call/transfer", {{"target", {{"agent", "carol"}}}});
  EXPECT_EQ(r.status, 404) << render(r);
}

// The named agent is offered the new segment; when they decline, the customer waits in the
// queue the call was created in and goes to its next available agent.
TEST_F(AgentApi, BlindTransferToAnAgentOffersThemAndFallsBackToTheCallsQueue) {
  const std::string call = w.connected_customer_call("bob");  // created in General
  w.set_presence("mallory", "available");
  auto r =
      as("bob", "POST", "/v1/calls/" + call + "/transfer", {{"target", {{"agent", "mallory"}}}});
  ASSERT_EQ(r.status, 201) << render(r);
  ASSERT_TRUE(w.eventually([&] { return w.count("agent/mallory", "offer_reserved") == 1; }));
  ASSERT_EQ(as("mallory", "POST", "/v1/offers/" + w.last_offer("mallory") + "/decline").status,
            200);
  w.set_presence("frank", "available");  // general 5: qualified for General
  ASSERT_TRUE(w.eventually([&] { return w.count("agent/frank", "offer_reserved") == 1; }));
  ASSERT_EQ(as("frank", "POST", "/v1/offers/" + w.last_offer("frank") + "/accept").status, 200);
  ASSERT_TRUE(w.eventually([&] { return w.count("call/" + call, "call_answered") == 2; }));
  EXPECT_EQ(w.count("queue/General", "enqueued"), 1u);
}

TEST_F(AgentApi, ConferenceMergesTheConsultedSpecialistIntoTheCall) {
  const std::string call = w.connected_customer_call("carol");
  w.set_presence("niaj", "available");
  auto r = as("carol", "POST", "/v1/calls/" + call + "/consult",
              {{"target", {{"extension", "2202"}}}, {"hold_customer", false}});
  ASSERT_EQ(r.status, 201) << render(r);
  EXPECT_EQ(r.body["agent"], "niaj");
  EXPECT_EQ(r.body["customer_held"], false);
  const std::string consult = r.body["consult_call_id"];
  ASSERT_EQ(
      as("niaj", "POST", "/v1/offers/" + r.body["offer_id"].get<std::string>() + "/accept").status,
      200);
  ASSERT_TRUE(w.eventually([&] { return w.count("call/" + call, "call_answered") == 2; }));
  r = as("carol", "POST", "/v1/calls/" + call + "/conference", {{"consult_call_id", consult}});
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(w.count("call/" + call, "conference_merged"), 1u);
  r = as("carol", "POST", "/v1/calls/" + call + "/conference", json::object());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "consult_call_id");
}

TEST_F(AgentApi, HoldResumeMuteUnmuteActOnTheCaller) {
  const std::string call = w.connected_customer_call("alice");
  for (const char* action : {"hold", "resume", "mute", "unmute"}) {
    const auto r = as("alice", "POST", "/v1/calls/" + call + "/" + action);
    EXPECT_EQ(r.status, 200) << action << ": " << render(r);
    EXPECT_EQ(r.body["participant"], "alice");
  }
  EXPECT_EQ(w.count("call/" + call, "participant_held"), 1u);
  EXPECT_EQ(w.count("call/" + call, "participant_resumed"), 1u);
  EXPECT_EQ(w.count("call/" + call, "participant_muted"), 1u);
  EXPECT_EQ(w.count("call/" + call, "participant_unmuted"), 1u);

  // An agent who is not on the call is refused by the domain.
  const auto r = as("bob", "POST", "/v1/calls/" + call + "/hold");
  EXPECT_EQ(r.status, 422) << render(r);
  EXPECT_EQ(r.body["rule"], "participant_not_found");
  EXPECT_EQ(as("alice", "POST", "/v1/calls/no-such-call/hold").status, 404);
  EXPECT_EQ(
      w.request("POST", "/v1/calls/" + call + "/hold", w.token("alice", {role::telephony})).status,
      403);
}

TEST_F(AgentApi, HangUpThenWrapUp) {
  const std::string call = w.connected_customer_call("alice");
  auto r = as("alice", "POST", "/v1/calls/" + call + "/wrap-up", {{"disposition", "resolved"}});
  EXPECT_EQ(r.status, 422) << render(r);  // the call has not ended
  EXPECT_EQ(r.body["rule"], "call_not_ended");
  r = as("alice", "POST", "/v1/calls/" + call + "/hangup");
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(w.count("call/" + call, "call_ended"), 1u);
  r = as("alice", "POST", "/v1/calls/" + call + "/wrap-up", {{"notes", "no disposition"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "disposition");
  r = as("alice", "POST", "/v1/calls/" + call + "/wrap-up",
         {{"disposition", "resolved"}, {"notes", "refund issued"}});
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(w.count("call/" + call, "wrap_up_recorded"), 1u);
}

TEST_F(AgentApi, AnAgentNotOnTheCallCannotHangUpTransferOrMergeIt) {
  const std::string call = w.connected_customer_call("alice");
  w.set_presence("mallory", "available");
  auto r =
      as("alice", "POST", "/v1/calls/" + call + "/consult", {{"target", {{"agent", "mallory"}}}});
  ASSERT_EQ(r.status, 201) << render(r);
  const std::string consult = r.body["consult_call_id"];
  ASSERT_EQ(as("mallory", "POST", "/v1/offers/" + r.body["offer_id"].get<std::string>() + "/accept")
                .status,
            200);
  ASSERT_TRUE(w.eventually([&] { return w.count("call/" + call, "call_answered") == 2; }));
  for (const auto& [action, body] :
       std::vector<std::pair<std::string, json>>{{"hangup", nullptr},
                                                 {"transfer", {{"target", {{"queue", "Billing"}}}}},
                                                 {"transfer", {{"consult_call_id", consult}}},
                                                 {"conference", {{"consult_call_id", consult}}}}) {
    r = as("bob", "POST", "/v1/calls/" + call + "/" + action, body);
    EXPECT_EQ(r.status, 422) << action << ": " << render(r);
    EXPECT_EQ(r.body["rule"], "participant_not_found") << action;
  }
  // Mallory is on the consult, not on the customer's call.
  r = as("mallory", "POST", "/v1/calls/" + call + "/hangup");
  EXPECT_EQ(r.body["rule"], "participant_not_found") << render(r);
  EXPECT_EQ(w.count("call/" + call, "call_ended"), 0u);
  EXPECT_EQ(w.count("call/" + call, "blind_transferred"), 0u);
  EXPECT_EQ(w.count("call/" + call, "warm_transfer_completed"), 0u);
  EXPECT_EQ(w.count("call/" + call, "conference_merged"), 0u);
  r = as("alice", "POST", "/v1/calls/" + call + "/conference", {{"consult_call_id", consult}});
  ASSERT_EQ(r.status, 200) << render(r);
  r = as("alice", "POST", "/v1/calls/" + call + "/hangup");
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(w.count("call/" + call, "call_ended"), 1u);
}

TEST_F(AgentApi, LeaveTakesTheCallerOffTheCall) {
  const std::string call = w.connected_customer_call("alice");
  const auto r = as("alice", "POST", "/v1/calls/" + call + "/leave");
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(w.count("call/" + call, "participant_left"), 1u);
}

TEST_F(AgentApi, MalformedBodiesAre400) {
  const std::string call = w.connected_customer_call("alice");
  const auto r = w.request("POST", "/v1/calls/" + call + "/transfer",
                           w.token("alice", {role::agent}), "not an object");
  EXPECT_EQ(r.status, 400) << render(r);
}

}  // namespace
}  // namespace backline::api::testing
