// The VoiceCall view of the scripted day (tests/projections/world.h): one record per segment
// with Salesforce's fields, durations, holds and links, and its children.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "projections/queries.h"
#include "projections/voice_call.h"
#include "schemas/codec.h"
#include "tests/projections/world.h"

namespace backline::projections::testing {
namespace {

using nlohmann::json;

json record(const store& st, const std::string& id) {
  auto r = get_call(st, id);
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(r && r->has_value()) << "no record " << id;
  return r && *r ? **r : json();
}

TEST_F(ProjectedDay, CustomerSegmentCarriesItsTimesHoldsLinksAndWrapUp) {
  const json c = record(*st, "C1");
  EXPECT_EQ(c["call_type"], "Inbound");
  EXPECT_EQ(c["initiation_method"], "Inbound");
  EXPECT_EQ(c["segment_kind"], "customer");
  EXPECT_EQ(c["vendor_call_key"], "vck-C1");
  EXPECT_EQ(c["call_center"], "acme_support");
  EXPECT_EQ(c["from_number"], customer);
  EXPECT_EQ(c["to_number"], domain::calltest::center);
  EXPECT_EQ(c["queue"], "Billing");
  EXPECT_EQ(c["owner_agent"], "alice");
  EXPECT_EQ(c["start_time"], "2024-05-01T08:00:00.000000Z");
  EXPECT_EQ(c["accept_time"], "2024-05-01T08:00:15.000000Z");
  EXPECT_EQ(c["end_time"], "2024-05-01T08:03:20.000000Z");
  EXPECT_TRUE(c["enqueue_time"].is_null());  // not in the call stream
  EXPECT_EQ(c["duration_s"], 200);
  EXPECT_EQ(c["agent_interaction_duration_s"], 185);
  // Held 30 s, then 45 s for the consult with sam, then 30 s for the consult with ivan that
  // the warm transfer ended.
  EXPECT_EQ(c["number_of_holds"], 3);
  EXPECT_EQ(c["total_hold_duration_s"], 105);
  EXPECT_EQ(c["longest_hold_duration_s"], 45);
  EXPECT_EQ(c["previous_call_id"], "");
  EXPECT_EQ(c["next_call_id"], "D1");
  EXPECT_EQ(c["parent_voice_call_id"], "");
  EXPECT_EQ(c["call_disposition"], "completed");
  EXPECT_EQ(c["end_reason"], "transferred");
  EXPECT_EQ(c["disposition_code"], "Transferred");
  EXPECT_EQ(c["wrap_up_notes"], "sent to tier 2");
  EXPECT_EQ(c["recording_state"], "stopped");
  EXPECT_EQ(c["recording_location"], "s3://rec/C1.wav");
  EXPECT_EQ(c["related_case_id"], "500-C1");
  EXPECT_EQ(c["case_category"], "Billing");
  EXPECT_EQ(c["subject"], "Refund");
  EXPECT_EQ(c["custom_attributes"], json({{"tier", "gold"}}));
  EXPECT_EQ(c["transcript_messages"], 2);
  EXPECT_EQ(c["conversation_events"], 1);
  ASSERT_EQ(c["participants"].size(), 2u);
  EXPECT_EQ(c["participants"][0]["role"], "customer");
  EXPECT_EQ(c["participants"][1]["id"], "alice");
  EXPECT_EQ(c["participants"][1]["joined_at"], "2024-05-01T08:00:15.000000Z");
  EXPECT_EQ(c["participants"][1]["left_at"], "2024-05-01T08:03:20.000000Z");
}

TEST(WarmTransfer, SecondSegmentIsChargedToTheTargetAgent) {
  world w;
  w.scripted_day();
  auto st = open_store(w.dir() + "/p");
  projector p(w.log(), *st);
  ASSERT_TRUE(p.catch_up());
  const json d = record(*st, "D1");
  EXPECT_EQ(d["initiation_method"], "Transfer");
  EXPECT_EQ(d["call_type"], "Inbound");
  EXPECT_EQ(d["previous_call_id"], "C1");
  EXPECT_EQ(d["next_call_id"], "");
  EXPECT_EQ(d["owner_agent"], "ivan");
  EXPECT_EQ(d["initiator_agent"], "alice");
  EXPECT_EQ(d["conversation_id"], "C1");
  EXPECT_EQ(d["duration_s"], 120);
  EXPECT_EQ(d["agent_interaction_duration_s"], 120);
  EXPECT_EQ(d["number_of_holds"], 0);
  EXPECT_EQ(d["disposition_code"], "Resolved");
  EXPECT_EQ(d["recording_state"], "none");
  EXPECT_EQ(d["conversation_events"], 1);
}

TEST_F(ProjectedDay, ConsultIsAnInternalRecordOnTheCustomerCall) {
  const json k = record(*st, "K1");
  EXPECT_EQ(k["call_type"], "Internal");
  EXPECT_EQ(k["initiation_method"], "Internal");
  EXPECT_EQ(k["segment_kind"], "consult");
  EXPECT_EQ(k["parent_voice_call_id"], "C1");
  EXPECT_EQ(k["from_number"], "alice");
  EXPECT_EQ(k["to_number"], "sam");
  EXPECT_EQ(k["owner_agent"], "alice");
  EXPECT_EQ(k["duration_s"], 45);
  EXPECT_EQ(k["agent_interaction_duration_s"], 40);
  EXPECT_EQ(k["end_reason"], "consult_completed");
  ASSERT_EQ(k["participants"].size(), 2u);
  EXPECT_EQ(k["participants"][1]["id"], "sam");
  EXPECT_EQ(k["participants"][1]["role"], "specialist");
}

TEST_F(ProjectedDay, SupervisorSessionKeepsItsModeTimeline) {
  const json s = record(*st, "S1");
  EXPECT_EQ(s["call_type"], "Internal");
  EXPECT_EQ(s["segment_kind"], "supervision");
  EXPECT_EQ(s["parent_voice_call_id"], "C1");
  EXPECT_EQ(s["supervisor_id"], "peggy");
  EXPECT_EQ(s["duration_s"], 60);
  ASSERT_EQ(s["supervisor_modes"].size(), 2u);
  EXPECT_EQ(s["supervisor_modes"][0]["mode"], "monitor");
  EXPECT_EQ(s["supervisor_modes"][0]["duration_s"], 10);
  EXPECT_EQ(s["supervisor_modes"][1]["mode"], "whisper");
  EXPECT_EQ(s["supervisor_modes"][1]["coached_agent"], "alice");
  EXPECT_EQ(s["supervisor_modes"][1]["duration_s"], 50);
  EXPECT_EQ(s["supervisor_modes"][1]["until"], "2024-05-01T08:02:50.000000Z");
}

TEST_F(ProjectedDay, TranscriptAndConversationEventsAreChildrenOfTheirCall) {
  auto t = transcript(*st, "C1");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0]["message_id"], "m1");
  EXPECT_EQ((*t)[0]["sender_type"], "Agent");
  EXPECT_EQ((*t)[1]["text"], "My refund is late.");
  EXPECT_EQ((*t)[1]["end_ms"], 4000);
  auto e = conversation_events(*st, "D1");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0]["post_call"], true);
  EXPECT_EQ((*e)[0]["payload"], R"({"name":"refund"})");
  auto none = transcript(*st, "C2");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(ProjectedDay, BlindTransferToAQueueStartsARingingSegmentThatTheAnswererOwns) {
  const json d = record(*st, "D3");
  EXPECT_EQ(d["previous_call_id"], "C3");
  EXPECT_EQ(d["queue"], "Billing");
  EXPECT_EQ(d["owner_agent"], "judy");
  EXPECT_EQ(d["initiator_agent"], "bob");
  EXPECT_EQ(d["duration_s"], 340);
  EXPECT_EQ(d["agent_interaction_duration_s"], 300);
  EXPECT_EQ(record(*st, "C3")["next_call_id"], "D3");
}

TEST_F(ProjectedDay, UnknownIdIsAnEmptyAnswer) {
  auto r = get_call(*st, "nope");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  auto c = chain(*st, "nope");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->has_value());
}

// The records are written as text (projections/json_text.h), not dumped by nlohmann::json: the
// bytes must still be canonical, what dump() gives for the parsed object.
TEST_F(ProjectedDay, StoredRecordsAreCanonicalJson) {
  for (const model m : {model::voice_calls, model::transcripts, model::conversation_events}) {
    std::size_t records = 0;
    ASSERT_FALSE(st->scan(m, {}, {}, [&](std::string_view k, std::string_view v) {
      const json j = json::parse(v);
      EXPECT_EQ(j.dump(), v) << model_name(m) << " " << k;
      ++records;
      return true;
    }));
    EXPECT_GT(records, 0u) << model_name(m);
  }
}

TEST(VoiceCallRecord, EscapesLikeDumpAndReplacesBytesThatAreNotUtf8) {
  domain::call_state conv;
  conv.id = "R1";
  domain::segment g;
  g.id = "R1";
  g.from = "quote\" backslash\\ tab\t nl\n cr\r bs\b ff\f bell\x07 del\x7f";
  g.to = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e";      // é, €, a telephone receiver
  g.attributes.subject = "bad \xff\xc3 end \xed\xa0\x80";  // not UTF-8, a lone surrogate
  g.attributes.custom = {{"a\"b", "1"}, {"z", "\x01"}};
  g.created_at_us = -1;                     // 1969-12-31T23:59:59.999999Z
  g.ended_at_us = 253'402'300'799'999'999;  // 9999-12-31T23:59:59.999999Z
  g.holds.total_us = 2'500'000;
  g.participants.push_back({.id = "p\"1", .number = "+1"});
  g.modes.push_back({.mode = domain::supervise_mode::whisper, .coached_agent = "a", .at_us = 5});
  conv.segments.push_back(g);
  const std::string text = voice_call_record(conv, conv.segments[0], "acme");
  const json j = json::parse(text);
  EXPECT_EQ(j.dump(), text);
  EXPECT_EQ(j["from_number"], g.from);
  EXPECT_EQ(j["to_number"], g.to);
  EXPECT_EQ(j["subject"], "bad \ufffd\ufffd end \ufffd\ufffd\ufffd");
  EXPECT_EQ(j["custom_attributes"], json({{"a\"b", "1"}, {"z", "\x01"}}));
  EXPECT_EQ(j["start_time"], "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(j["start_time"], schemas::format_rfc3339_us(-1));
  EXPECT_EQ(j["end_time"], schemas::format_rfc3339_us(g.ended_at_us));
  EXPECT_EQ(j["total_hold_duration_s"], 2);
}

TEST(VoiceCallRecord, InstantsMatchTheSchemasFormatter) {
  for (std::int64_t us : {std::int64_t{1}, std::int64_t{951'782'400'000'000},  // 2000-02-29
                          std::int64_t{4'107'542'399'999'999}, day_start_us + 12'345,
                          std::int64_t{-62'135'596'800'000'000}}) {  // 0001-01-01
    std::string out;
    append_rfc3339_us(out, us);
    EXPECT_EQ(out, schemas::format_rfc3339_us(us)) << us;
  }
}

TEST_F(ProjectedDay, CheckpointIsTheLastLogPosition) {
  EXPECT_EQ(st->checkpoint(), w.log().committed_position());
  auto meta = st->get(model::meta, "format");
  ASSERT_TRUE(meta && *meta);
  EXPECT_EQ(**meta, "2");
}

}  // namespace
}  // namespace backline::projections::testing
