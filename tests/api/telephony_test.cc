// The Telephony Integration API (/telephony/v1) over a real engine: Salesforce's paths and field
// names in, events in the log out; validation names the field; nothing is appended on refusal.
#include "tests/api/api_fixture.h"

namespace backline::api::testing {
namespace {

const std::string base = "/telephony/v1/voiceCalls";

class Telephony : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(w_.ok()) << w_.error(); }

  std::string telephony() { return w_.token("acme_telephony", {role::telephony}); }

  // Creates a call with `key`; its voiceCallId.
  std::string create(const std::string& key, json extra = json::object()) {
    json body{{"callCenterApiName", "acme_support"},
              {"vendorCallKey", key},
              {"to", center_number},
              {"from", customer_number},
              {"initiationMethod", "Inbound"}};
    body.update(extra);
    const auto r = w_.request("POST", base, telephony(), body);
    EXPECT_EQ(r.status, 201) << render(r);
    EXPECT_TRUE(r.body["errors"].is_array());
    return r.body.value("voiceCallId", "");
  }

  api_world w_;
};

TEST_F(Telephony, CreateRecordsTheCallWithItsVendorKeyAndAttributes) {
  const auto id = create("vk-create", {{"callAttributes", R"({"case_category":"billing",
                                                              "tier":"gold"})"}});
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(w_.count("call/" + id, "call_created"), 1u);
  ASSERT_TRUE(w_.projected());
  const auto got = w_.request("GET", "/v1/voice-calls/" + id, telephony());
  ASSERT_EQ(got.status, 200) << render(got);
  EXPECT_NE(got.text.find("vk-create"), std::string::npos) << got.text;
  EXPECT_NE(got.text.find("billing"), std::string::npos) << got.text;
  EXPECT_NE(got.text.find("gold"), std::string::npos) << got.text;
}

// parentVoiceCallId (a voiceCallId or a vendorCallKey created here) links the new record.
TEST_F(Telephony, ACallPlacedFromAnotherNamesItsParent) {
  const auto parent = create("vk-parent");
  const auto child = create("vk-child", {{"parentVoiceCallId", "vk-parent"}});
  ASSERT_TRUE(w_.projected());
  const auto got = w_.request("GET", "/v1/voice-calls/" + child, telephony());
  ASSERT_EQ(got.status, 200) << render(got);
  EXPECT_EQ(got.body["parent_voice_call_id"], parent);
  const auto before = w_.log().committed_position();
  const auto r = w_.request("POST", base, telephony(),
                            {{"vendorCallKey", "vk-orphan"}, {"parentVoiceCallId", "nope"}});
  EXPECT_EQ(r.status, 404) << render(r);
  EXPECT_EQ(r.body["field"], "parentVoiceCallId");
  EXPECT_EQ(w_.log().committed_position(), before);
}

TEST_F(Telephony, ValidationNamesTheFieldAndAppendsNothing) {
  const auto before = w_.log().committed_position();
  struct bad {
    json body;
    std::string field;
  };
  for (const auto& b : std::vector<bad>{
           {json{{"to", center_number}}, "vendorCallKey"},
           {json{{"vendorCallKey", 7}}, "vendorCallKey"},
           {json{{"vendorCallKey", "k"}, {"initiationMethod", "Sideways"}}, "initiationMethod"},
           {json{{"vendorCallKey", "k"}, {"initiationMethod", "Transfer"}}, "initiationMethod"},
           {json{{"vendorCallKey", "k"}, {"callCenterApiName", "other_center"}},
            "callCenterApiName"},
           {json{{"vendorCallKey", "k"}, {"callAttributes", "{not json"}}, "callAttributes"},
           {json{{"vendorCallKey", std::string(300, 'k')}}, "vendorCallKey"},
       }) {
    const auto r = w_.request("POST", base, telephony(), b.body);
    EXPECT_EQ(r.status, 400) << b.body.dump() << " -> " << render(r);
    EXPECT_EQ(r.body.value("field", ""), b.field) << render(r);
  }
  const auto not_json = w_.request("POST", base, telephony(), json("just a string"));
  EXPECT_EQ(not_json.status, 400) << render(not_json);
  EXPECT_EQ(w_.log().committed_position(), before);
}

TEST_F(Telephony, NeedsATelephonyTokenOfThisCallCenter) {
  const json body{{"vendorCallKey", "vk-auth"}};
  EXPECT_EQ(w_.request("POST", base, "", body).status, 401);
  EXPECT_EQ(w_.request("POST", base, "not.a.token", body).status, 401);
  EXPECT_EQ(w_.request("POST", base, w_.token("alice", {role::agent}), body).status, 403);
  const auto other =
      w_.request("POST", base, w_.token("x", {role::telephony}, "other_center"), body);
  EXPECT_TRUE(other.status == 401 || other.status == 403) << render(other);
  EXPECT_EQ(w_.request("POST", base, w_.token("root", {role::admin}), body).status, 201);
}

TEST_F(Telephony, UpdateByVendorKeyAppliesWhatItCanAndNamesWhatItIgnores) {
  const auto id = create("vk-update");
  const auto r = w_.request("PATCH", base + "/vk-update", telephony(),
                            json{{"callAttributes", json{{"subject", "Refund"}}},
                                 {"queue", "Billing"},
                                 {"enqueueTime", "2026-11-30T10:00:00Z"},
                                 {"isActiveCall", false},
                                 {"disconnectReason", "customer_hangup"}});
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["voiceCallId"], id);
  EXPECT_EQ(r.body["ignored"], json::array({"enqueueTime"}));
  EXPECT_EQ(w_.count("call/" + id, "attributes_updated"), 1u);
  EXPECT_EQ(w_.count("call/" + id, "queue_assigned"), 1u);
  EXPECT_EQ(w_.count("call/" + id, "call_ended"), 1u);
  // Ended: ending again changes nothing (a retry of the hang-up is harmless).
  const auto events = w_.events("call/" + id).size();
  const auto again = w_.request("PATCH", base + "/" + id, telephony(), json{{"endTime", "now"}});
  EXPECT_EQ(again.status, 200) << render(again);
  EXPECT_EQ(w_.events("call/" + id).size(), events);
  // A change after the end is refused by the domain, naming the rule.
  const auto late =
      w_.request("POST", base + "/vk-update/realtimeConversationEvents", telephony(),
                 json{{"events", json::array({json{{"type", "sentiment"}, {"value", "late"}}})}});
  EXPECT_EQ(late.status, 422) << render(late);
  EXPECT_EQ(late.body.value("rule", ""), "call_ended") << render(late);
  EXPECT_EQ(w_.request("PATCH", base + "/no-such-call", telephony(), json{{"endTime", "x"}}).status,
            404);
}

TEST_F(Telephony, UpdateRefusesAnEmptyQueueAgentOrRecordingLocationAndAppendsNothing) {
  const auto id = create("vk-empty-fields");
  const auto before = w_.events("call/" + id).size();
  for (const char* field : {"queue", "agent", "recordingLocation"}) {
    const auto r = w_.request("PATCH", base + "/" + id, telephony(),
                              json{{field, ""}, {"callAttributes", json{{"subject", "x"}}}});
    EXPECT_EQ(r.status, 400) << field << " -> " << render(r);
    EXPECT_EQ(r.body.value("field", ""), field) << render(r);
  }
  EXPECT_EQ(w_.events("call/" + id).size(), before);  // nothing of the request was applied
  // null still means "not given".
  const auto r = w_.request("PATCH", base + "/" + id, telephony(), json{{"queue", nullptr}});
  EXPECT_EQ(r.status, 200) << render(r);
}

// The queue is a fact of the record, whether the flow decided it or the platform reports it.
TEST_F(Telephony, TheRecordsQueueIsTheFlowsOrThePlatformsQueue) {
  const auto routed =
      create("vk-routed-queue", {{"callAttributes", json{{"case_category", "billing"}}}});
  auto r = w_.request("PATCH", base + "/vk-routed-queue/omniFlow", telephony(),
                      json{{"dialedNumber", center_number}});
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body.value("queue", ""), "Billing") << render(r);
  ASSERT_TRUE(w_.eventually_has("call/" + routed, "queue_assigned"));

  const auto reported = create("vk-reported-queue");
  r = w_.request("PATCH", base + "/vk-reported-queue", telephony(), json{{"queue", "Retention"}});
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_FALSE(r.body.contains("ignored")) << render(r);
  const auto events = w_.events("call/" + reported).size();
  r = w_.request("PATCH", base + "/vk-reported-queue", telephony(), json{{"queue", "Nowhere"}});
  EXPECT_EQ(r.status, 400) << render(r);
  EXPECT_EQ(w_.events("call/" + reported).size(), events);

  ASSERT_TRUE(w_.projected());
  for (const auto& [id, queue] : {std::pair{routed, "Billing"}, {reported, "Retention"}}) {
    const auto got = w_.request("GET", "/v1/voice-calls/" + id, telephony());
    ASSERT_EQ(got.status, 200) << render(got);
    EXPECT_EQ(got.body.value("queue", ""), queue) << render(got);
  }
}

TEST_F(Telephony, TranscriptMessagesSingleAndBulk) {
  const auto id = create("vk-messages");
  auto one = w_.request("POST", base + "/vk-messages/messages", telephony(),
                        json{{"participantId", "cust"},
                             {"senderType", "EndUser"},
                             {"content", "My bill is wrong"},
                             {"startTime", 1000},
                             {"endTime", 2000}});
  ASSERT_EQ(one.status, 200) << render(one);
  auto bulk = w_.request(
      "POST", base + "/messages", telephony(),
      json{{"entries", json::array({json{{"vendorCallKey", "vk-messages"},
                                         {"messages", json::array({json{{"content", "a"}},
                                                                   json{{"content", "b"}}})}},
                                    json{{"vendorCallKey", "vk-unknown"},
                                         {"messages", json::array({json{{"content", "c"}}})}}})}});
  ASSERT_EQ(bulk.status, 200) << render(bulk);
  EXPECT_TRUE(bulk.body["entries"][0]["errors"].empty()) << render(bulk);
  ASSERT_EQ(bulk.body["entries"][1]["errors"].size(), 1u) << render(bulk);
  EXPECT_EQ(bulk.body["entries"][1]["errors"][0]["rule"], "call_not_found");
  EXPECT_EQ(w_.count("call/" + id, "transcript_message_added"), 3u);
  auto missing = w_.request("POST", base + "/vk-messages/messages", telephony(),
                            json{{"senderType", "EndUser"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body.value("field", ""), "content");
}

TEST_F(Telephony, ConversationEventsRealtimeThenPostCallOnlyAfterTheEnd) {
  const auto id = create("vk-events");
  const json events{{"events", json::array({json{{"type", "sentiment"}, {"value", "negative"}}})}};
  EXPECT_EQ(w_.request("POST", base + "/vk-events/realtimeConversationEvents", telephony(), events)
                .status,
            200);
  const auto early =
      w_.request("POST", base + "/vk-events/postConversationEvents", telephony(), events);
  EXPECT_EQ(early.status, 422) << render(early);
  EXPECT_EQ(early.body.value("rule", ""), "call_not_ended");
  ASSERT_EQ(
      w_.request("PATCH", base + "/vk-events", telephony(), json{{"isActiveCall", false}}).status,
      200);
  EXPECT_EQ(
      w_.request("POST", base + "/vk-events/postConversationEvents", telephony(), events).status,
      200);
  EXPECT_EQ(w_.count("call/" + id, "conversation_event_recorded"), 2u);
  EXPECT_EQ(w_.request("POST", base + "/vk-events/realtimeConversationEvents", telephony(),
                       json::object())
                .body.value("field", ""),
            "events");
}

TEST_F(Telephony, OmniFlowUsesTheCallsAttributesAndFallsBackToTheChannelQueue) {
  const auto billing =
      create("vk-billing", {{"callAttributes", json{{"case_category", "billing"}}}});
  const auto r = w_.request("PATCH", base + "/vk-billing/omniFlow", telephony(),
                            json{{"dialedNumber", center_number}});
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body.value("queue", ""), "Billing") << render(r);  // nobody is available
  EXPECT_TRUE(w_.eventually_has("queue/Billing", "enqueued"));

  create("vk-plain");
  const auto plain = w_.request("PATCH", base + "/vk-plain/omniFlow", telephony(),
                                json{{"dialedNumber", center_number}});
  EXPECT_EQ(plain.body.value("queue", ""), "General") << render(plain);

  // The request's flowInputParameters win over the call's attributes; a fallback override.
  create("vk-override");
  const auto o = w_.request("PATCH", base + "/vk-override/omniFlow", telephony(),
                            json{{"dialedNumber", "+19999999999"}, {"fallbackQueue", "Retention"}});
  EXPECT_EQ(o.body.value("queue", ""), "Retention") << render(o);

  create("vk-noroute");
  const auto none = w_.request("PATCH", base + "/vk-noroute/omniFlow", telephony(),
                               json{{"dialedNumber", "+19999999999"}});
  EXPECT_EQ(none.status, 422) << render(none);
  EXPECT_EQ(none.body.value("rule", ""), "no_route");
}

TEST_F(Telephony, CallbackKeepsTheQueuePositionAndClearRoutingDeletesThePsr) {
  create("vk-callback");
  ASSERT_EQ(w_.request("PATCH", base + "/vk-callback/omniFlow", telephony(),
                       json{{"dialedNumber", center_number}})
                .status,
            200);
  const auto cb = w_.request("POST", base + "/vk-callback/requestCallback", telephony(),
                             json{{"callbackNumber", customer_number}});
  EXPECT_EQ(cb.status, 200) << render(cb);

  create("vk-clear");
  ASSERT_EQ(w_.request("PATCH", base + "/vk-clear/omniFlow", telephony(),
                       json{{"dialedNumber", center_number}})
                .status,
            200);
  ASSERT_EQ(
      w_.request("PATCH", base + "/vk-clear", telephony(), json{{"isActiveCall", false}}).status,
      200);
  const auto clear = w_.request("PATCH", base + "/vk-clear/clearRouting", telephony());
  EXPECT_EQ(clear.status, 200) << render(clear);
}

TEST_F(Telephony, AnIdempotencyKeyReplaysTheFirstCreate) {
  const json body{{"vendorCallKey", "vk-idem"}, {"from", customer_number}};
  const std::vector<std::pair<std::string, std::string>> key{{"Idempotency-Key", "create-1"}};
  const auto first = w_.request("POST", base, telephony(), body, key);
  const auto retry = w_.request("POST", base, telephony(), body, key);
  ASSERT_EQ(first.status, 201) << render(first);
  EXPECT_EQ(retry.status, 201);
  EXPECT_EQ(first.body["voiceCallId"], retry.body["voiceCallId"]);
  const auto id = first.body["voiceCallId"].get<std::string>();
  EXPECT_EQ(w_.count("call/" + id, "call_created"), 1u);
}

}  // namespace
}  // namespace backline::api::testing
