// The whole life of a customer call over real HTTP, as the telephony platform, the agents'
// consoles and a supervisor drive it: created and routed by the Telephony Integration API to a
// tier-1 agent (chosen from the demo directory's billing rule), accepted, a consult of the billing
// specialist by extension, a warm transfer, whisper then barge on the transferred segment, the
// hang-up, both wrap-ups, then every segment and the chain read back from the read models.
// Also the live event stream (GET /v1/events over WebSocket): who sees which events.
#include <fstream>

#include "actors/directory_loader.h"
#include "tests/api/api_fixture.h"

namespace backline::api::testing {
namespace {

const std::string demo_file = std::string(BACKLINE_SOURCE_DIR) + "/deploy/demo-callcenter.toml";

// The demo directory grants nobody supervision over the specialists' team (peggy: tier1 and
// tier2; quentin: monitor tier1). The scenario supervises the segment the specialist took over,
// so it runs on the demo directory plus one supervisor of the specialist desk.
const std::string specialist_desk_supervisor = R"(
[[agents]]
id = "sybil"
name = "Sybil Test"
extension = "2999"
team = "supervisors"
kind = "supervisor"
capacity = 4
grants = { monitor = ["specialists"], whisper = ["specialists"], barge = ["specialists"] }
)";

std::string scenario_directory_file() {
  const auto path =
      std::filesystem::temp_directory_path() / fmt::format("backline-scenario-{}.toml", ::getpid());
  std::ifstream in(demo_file);
  std::ofstream out(path);
  out << in.rdbuf() << specialist_desk_supervisor;
  return path.string();
}

bool meets(const domain::agent_entry& a, const std::vector<domain::skill>& required) {
  for (const auto& r : required) {
    const auto it = std::ranges::find(a.skills, r.name, &domain::skill::name);
    if (it == a.skills.end() || it->level < r.level) return false;
  }
  return true;
}

// Who the scenario involves, read from the directory rather than copied from it.
struct cast {
  std::string queue;       // the billing rule's queue on the main line
  std::string agent;       // a tier-1 agent qualified for that queue
  std::string specialist;  // the most skilled billing specialist
  std::string specialist_extension;
  std::string supervisor;          // whisper and barge granted over the specialist
  std::string refused_supervisor;  // a supervisor without the whisper grant over them
};

cast cast_of(const domain::directory& dir) {
  cast c;
  const auto* channel = dir.find_channel(center_number);
  EXPECT_NE(channel, nullptr);
  if (channel == nullptr) return c;
  for (const auto& rule : channel->rules) {
    if (rule.field == "case_category" && rule.value == "billing") c.queue = rule.queue;
  }
  const auto* q = dir.find_queue(c.queue);
  EXPECT_NE(q, nullptr) << "no queue for the billing rule";
  if (q == nullptr) return c;
  int best = 0;
  for (const auto& a : dir.agents) {
    if (c.agent.empty() && a.team == "tier1" && a.kind == domain::agent_kind::agent &&
        meets(a, q->required_skills)) {
      c.agent = a.id;
    }
    if (a.kind != domain::agent_kind::specialist) continue;
    for (const auto& s : a.skills) {
      if (s.name == "billing" && s.level > best) {
        best = s.level;
        c.specialist = a.id;
        c.specialist_extension = a.extension;
      }
    }
  }
  for (const auto& a : dir.agents) {
    using domain::supervise_mode;
    const bool whisper = dir.may_supervise(a.id, supervise_mode::whisper, c.specialist);
    const bool barge = dir.may_supervise(a.id, supervise_mode::barge, c.specialist);
    if (whisper && barge && c.supervisor.empty()) c.supervisor = a.id;
    if (a.kind == domain::agent_kind::supervisor && !whisper && c.refused_supervisor.empty()) {
      c.refused_supervisor = a.id;
    }
  }
  return c;
}

class Scenario : public ::testing::Test {
 protected:
  Scenario() : w({.directory_file = scenario_directory_file()}) {}
  void SetUp() override {
    ASSERT_TRUE(w.ok()) << w.error();
    who = cast_of(w.engine().directory());
    ASSERT_FALSE(who.agent.empty() || who.specialist.empty() || who.supervisor.empty() ||
                 who.refused_supervisor.empty());
  }
  api_reply as(const std::string& subject, role r, std::string_view method,
               const std::string& target, const json& body = nullptr) {
    return w.request(method, target, w.token(subject, {r}), body);
  }
  json record(const std::string& id) {
    const auto r = as(who.agent, role::agent, "GET", "/v1/voice-calls/" + id);
    EXPECT_EQ(r.status, 200) << id << ": " << render(r);
    return r.body;
  }
  api_world w;
  cast who;
};

void expect_duration(const json& rec, const char* field = "duration_s") {
  ASSERT_TRUE(rec.contains(field)) << rec.dump();
  ASSERT_TRUE(rec[field].is_number()) << field << " in " << rec.dump();
  EXPECT_GE(rec[field].get<double>(), 0) << rec.dump();
}

TEST_F(Scenario, RoutedConsultedWarmTransferredSupervisedEndedWrappedUpAndReadBack) {
  EXPECT_EQ(who.queue, "Billing");
  w.set_presence(who.agent, "available");

  // The telephony platform creates the call and asks the flow where it goes.
  auto r = as("pbx", role::telephony, "POST", "/telephony/v1/voiceCalls",
              {{"vendorCallKey", "vck-scenario"},
               {"from", customer_number},
               {"to", center_number},
               {"callAttributes", {{"case_category", "billing"}}}});
  ASSERT_EQ(r.status, 201) << render(r);
  const std::string call = r.body["voiceCallId"];
  r = as("pbx", role::telephony, "PATCH", "/telephony/v1/voiceCalls/" + call + "/omniFlow",
         {{"dialedNumber", center_number}});
  ASSERT_EQ(r.status, 200) << render(r);
  // A rule that names a queue enqueues the call ({"queue"}); the queue then offers it to the
  // available qualified agent (agent/<id> offer_reserved).
  EXPECT_EQ(r.body.value("queue", ""), who.queue) << render(r);
  ASSERT_TRUE(w.eventually([&] { return !w.last_offer(who.agent).empty(); }))
      << who.agent << " was never offered the call";
  const std::string offer = w.last_offer(who.agent);
  r = as(who.agent, role::agent, "POST", "/v1/offers/" + offer + "/accept");
  ASSERT_EQ(r.status, 200) << render(r);
  ASSERT_TRUE(w.eventually_has("call/" + call, "call_answered"));

  // A consult of the billing specialist by extension; they accept the offer it makes.
  w.set_presence(who.specialist, "available");
  r = as(who.agent, role::agent, "POST", "/v1/calls/" + call + "/consult",
         {{"target", {{"extension", who.specialist_extension}}}});
  ASSERT_EQ(r.status, 201) << render(r);
  EXPECT_EQ(r.body["agent"], who.specialist);
  const std::string consult = r.body["consult_call_id"];
  EXPECT_EQ(r.header("location"), "/v1/voice-calls/" + consult);
  r = as(who.specialist, role::agent, "POST",
         "/v1/offers/" + r.body["offer_id"].get<std::string>() + "/accept");
  ASSERT_EQ(r.status, 200) << render(r);
  ASSERT_TRUE(w.eventually([&] { return w.count("call/" + call, "call_answered") == 2; }));

  // Warm transfer: the customer goes on with the specialist in a new segment.
  r = as(who.agent, role::agent, "POST", "/v1/calls/" + call + "/transfer",
         {{"consult_call_id", consult}});
  ASSERT_EQ(r.status, 201) << render(r);
  EXPECT_EQ(r.body["transfer"], "warm");
  const std::string segment = r.body["new_segment_id"];

  // A supervisor without the grant over the specialist is refused; the granted one whispers to
  // the specialist, then barges in.
  const std::string supervise = "/v1/calls/" + segment + "/supervise";
  r = as(who.refused_supervisor, role::supervisor, "POST", supervise, {{"mode", "whisper"}});
  EXPECT_EQ(r.status, 422) << render(r);
  EXPECT_EQ(r.body.value("rule", ""), "supervisor_not_granted");
  r = as(who.supervisor, role::supervisor, "POST", supervise,
         {{"mode", "whisper"}, {"coached_agent", who.specialist}});
  ASSERT_EQ(r.status, 201) << render(r);
  const std::string session = r.body["session_id"];
  EXPECT_EQ(r.body["coached_agent"], who.specialist);
  r = as(who.supervisor, role::supervisor, "PATCH", supervise, {{"mode", "barge"}});
  ASSERT_EQ(r.status, 200) << render(r);
  EXPECT_EQ(r.body["session_id"], session);
  EXPECT_EQ(r.body["mode"], "barge");

  // The specialist hangs up; both agents wrap up their segment.
  r = as(who.specialist, role::agent, "POST", "/v1/calls/" + segment + "/hangup");
  ASSERT_EQ(r.status, 200) << render(r);
  r = as(who.specialist, role::agent, "POST", "/v1/calls/" + segment + "/wrap-up",
         {{"disposition", "resolved"}, {"notes", "refund issued"}});
  EXPECT_EQ(r.status, 200) << render(r);
  r = as(who.agent, role::agent, "POST", "/v1/calls/" + call + "/wrap-up",
         {{"disposition", "transferred"}});
  EXPECT_EQ(r.status, 200) << render(r);

  // Read back: each segment, its links and durations.
  ASSERT_TRUE(w.projected());
  const json customer = record(call), consulted = record(consult), transferred = record(segment),
             supervised = record(session);
  EXPECT_EQ(customer["segment_kind"], "customer");
  EXPECT_EQ(customer["call_type"], "Inbound");
  EXPECT_EQ(customer["owner_agent"], who.agent);
  // The record's queue is the one the flow decided (the call was created without one).
  EXPECT_EQ(customer["queue"], who.queue);
  EXPECT_FALSE(w.events("queue/" + who.queue).empty());
  EXPECT_EQ(customer["case_category"], "billing");
  EXPECT_EQ(customer["vendor_call_key"], "vck-scenario");
  EXPECT_EQ(customer["next_call_id"], segment);
  EXPECT_EQ(customer["previous_call_id"], "");
  EXPECT_EQ(customer["parent_voice_call_id"], "");
  EXPECT_EQ(customer["wrapped_up"], true);

  EXPECT_EQ(consulted["segment_kind"], "consult");
  EXPECT_EQ(consulted["parent_voice_call_id"], call);
  EXPECT_FALSE(consulted["end_time"].is_null());

  EXPECT_EQ(transferred["previous_call_id"], call);
  EXPECT_EQ(transferred["owner_agent"], who.specialist);
  EXPECT_EQ(transferred["initiation_method"], "Transfer");
  EXPECT_EQ(transferred["parent_voice_call_id"], "");
  EXPECT_EQ(transferred["wrapped_up"], true);
  EXPECT_EQ(transferred["disposition_code"], "resolved");

  EXPECT_EQ(supervised["segment_kind"], "supervision");
  EXPECT_EQ(supervised["parent_voice_call_id"], segment);
  EXPECT_EQ(supervised["supervisor_id"], who.supervisor);
  ASSERT_EQ(supervised["supervisor_modes"].size(), 2u) << supervised.dump();
  EXPECT_EQ(supervised["supervisor_modes"][0]["mode"], "whisper");
  EXPECT_EQ(supervised["supervisor_modes"][0]["coached_agent"], who.specialist);
  EXPECT_EQ(supervised["supervisor_modes"][1]["mode"], "barge");
  for (const auto& m : supervised["supervisor_modes"]) expect_duration(m);

  for (const json* rec : {&customer, &consulted, &transferred, &supervised}) {
    EXPECT_EQ((*rec)["conversation_id"], call) << rec->dump();
    EXPECT_FALSE((*rec)["end_time"].is_null()) << rec->dump();
    expect_duration(*rec);
  }
  expect_duration(customer, "agent_interaction_duration_s");
  expect_duration(transferred, "agent_interaction_duration_s");

  // The chain, asked from any of its segments: the customer segment with its consult, the
  // transfer segment with the supervision session.
  for (const std::string& id : {call, segment, session}) {
    r = as(who.agent, role::agent, "GET", "/v1/voice-calls/" + id + "/chain");
    ASSERT_EQ(r.status, 200) << render(r);
    EXPECT_EQ(r.body["conversation_id"], call);
    EXPECT_EQ(r.body["requested_id"], id);
    const json& segments = r.body["segments"];
    ASSERT_EQ(segments.size(), 2u) << r.body.dump();
    const auto find = [&](const std::string& want) -> const json* {
      for (const auto& s : segments) {
        if (s["id"] == want) return &s;
      }
      return nullptr;
    };
    const json* first = find(call);
    const json* second = find(segment);
    ASSERT_TRUE(first != nullptr && second != nullptr) << r.body.dump();
    EXPECT_EQ((*first)["next_call_id"], segment);
    EXPECT_EQ((*second)["previous_call_id"], call);
    ASSERT_EQ((*first)["children"].size(), 1u) << r.body.dump();
    EXPECT_EQ((*first)["children"][0]["id"], consult);
    EXPECT_EQ((*first)["children"][0]["segment_kind"], "consult");
    ASSERT_EQ((*second)["children"].size(), 1u) << r.body.dump();
    EXPECT_EQ((*second)["children"][0]["id"], session);
    EXPECT_EQ((*second)["children"][0]["segment_kind"], "supervision");
    EXPECT_EQ((*second)["children"][0]["supervisor_id"], who.supervisor);
  }
}

// ---------------------------------------------------------------------------------------------
// GET /v1/events

json parse(const std::string& text) {
  return json::parse(text, nullptr, false);
}

// Opens the event stream as `token`; the first message must be the snapshot.
void open_stream(api_world& w, http::testing::ws_client& ws, const std::string& token) {
  ASSERT_EQ(ws.connect(w.port(), "/v1/events", "Bearer " + token), "");
  const auto first = ws.next();
  ASSERT_TRUE(first.has_value()) << "no snapshot";
  const json j = parse(*first);
  ASSERT_TRUE(j.is_object()) << *first;
  EXPECT_EQ(j["type"], "snapshot") << *first;
  EXPECT_TRUE(j["position"].is_number()) << *first;
}

// Reads until an event of `type` on `stream` arrives; every message read is kept in `seen`.
bool wait_for(http::testing::ws_client& ws, std::vector<json>& seen, const std::string& stream,
              const std::string& type) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < until) {
    const auto m = ws.next(std::chrono::milliseconds(200));
    if (!m) continue;
    seen.push_back(parse(*m));
    if (seen.back()["stream"] == stream && seen.back()["type"] == type) return true;
  }
  return false;
}

std::size_t on_stream(const std::vector<json>& seen, const std::string& stream) {
  return static_cast<std::size_t>(
      std::ranges::count_if(seen, [&](const json& e) { return e["stream"] == stream; }));
}

TEST(EventStream, EachSessionSeesItsOwnOfferAndCallButNotAnotherAgentsCall) {
  api_world w;
  ASSERT_TRUE(w.ok()) << w.error();
  w.set_presence("alice", "available");
  http::testing::ws_client alice, bob, pbx;
  open_stream(w, alice, w.token("alice", {role::agent}));
  open_stream(w, bob, w.token("bob", {role::agent}));
  open_stream(w, pbx, w.token("pbx", {role::telephony}));

  // Bob's call first: alice's events come after it in the log, so by the time her session shows
  // her answer it would have shown bob's call, were it visible to her.
  const std::string bobs = w.connected_customer_call("bob");
  const std::string internal_stream = "call/" + bobs;

  // Alice's call, routed over the telephony API; she accepts the offer over HTTP.
  const auto t = w.token("pbx", {role::telephony});
  auto r = w.request("POST", "/telephony/v1/voiceCalls", t,
                     {{"vendorCallKey", "vck-events"},
                      {"from", customer_number},
                      {"to", center_number},
                      {"callAttributes", {{"case_category", "billing"}}}});
  ASSERT_EQ(r.status, 201) << render(r);
  const std::string call = r.body["voiceCallId"];
  r = w.request("PATCH", "/telephony/v1/voiceCalls/" + call + "/omniFlow", t,
                {{"dialedNumber", center_number}});
  ASSERT_EQ(r.status, 200) << render(r);
  ASSERT_TRUE(w.eventually([&] { return !w.last_offer("alice").empty(); }));
  r = w.request("POST", "/v1/offers/" + w.last_offer("alice") + "/accept",
                w.token("alice", {role::agent}));
  ASSERT_EQ(r.status, 200) << render(r);

  std::vector<json> alice_saw, bob_saw, pbx_saw;
  EXPECT_TRUE(wait_for(alice, alice_saw, "agent/alice", "offer_reserved"));
  EXPECT_TRUE(wait_for(alice, alice_saw, "call/" + call, "call_answered"));
  EXPECT_EQ(on_stream(alice_saw, internal_stream), 0u);
  EXPECT_EQ(on_stream(alice_saw, "agent/bob"), 0u);

  EXPECT_TRUE(wait_for(pbx, pbx_saw, internal_stream, "call_answered"));
  EXPECT_TRUE(wait_for(pbx, pbx_saw, "call/" + call, "call_answered"));
  EXPECT_EQ(on_stream(pbx_saw, "agent/alice"), 0u);  // telephony sees calls and queues only

  // Bob's call ends after all of alice's events: his session shows his own call, never hers.
  const auto ended = w.execute(domain::cmd::end_call{bobs, "hangup"});
  ASSERT_EQ(ended.status, actors::outcome::accepted) << ended.detail;
  EXPECT_TRUE(wait_for(bob, bob_saw, internal_stream, "call_ended"));
  EXPECT_GE(on_stream(bob_saw, internal_stream), 3u);  // created, ringing, answered, ended
  EXPECT_EQ(on_stream(bob_saw, "call/" + call), 0u);
  EXPECT_EQ(on_stream(bob_saw, "agent/alice"), 0u);
  for (auto& m : alice.drain()) alice_saw.push_back(parse(m));
  EXPECT_EQ(on_stream(alice_saw, internal_stream), 0u);
}

TEST(EventStream, AStreamWithoutATokenOrRoleIsRefusedBeforeTheUpgrade) {
  api_world w({.projections = false});
  ASSERT_TRUE(w.ok()) << w.error();
  http::testing::ws_client none, roleless;
  EXPECT_NE(none.connect(w.port(), "/v1/events"), "");
  EXPECT_NE(roleless.connect(w.port(), "/v1/events", "Bearer " + w.token("x", {})), "");
}

}  // namespace
}  // namespace backline::api::testing
