// The call aggregate's flows: consult, warm and blind transfer, conference, supervision.
#include <gtest/gtest.h>

#include <string>

#include "actors/domain/call.h"
#include "tests/domain/call_fixture.h"

namespace backline::domain::calltest {
namespace {

// Consult -------------------------------------------------------------------------------------

TEST(Consult, HoldsTheCustomerAndRingsTheTarget) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.run_names(cmd::start_consult{"C", "K", "alice", "sam", true}),
            "participant_held,consult_started");
  EXPECT_TRUE(f.who("C", customer).held);
  const segment& k = f.seg("K");
  EXPECT_EQ(k.kind, segment_kind::consult);
  EXPECT_EQ(k.type, call_type::internal);
  EXPECT_EQ(k.method, initiation_method::internal);
  EXPECT_EQ(k.parent_id, "C");
  EXPECT_EQ(k.status, segment_status::ringing);
  EXPECT_EQ(k.ringing_agent, "sam");
  EXPECT_EQ(k.from, "alice");
  EXPECT_EQ(k.to, "sam");
  EXPECT_EQ(k.owner_agent, "alice");
  EXPECT_TRUE(f.who("K", "alice").present);
  EXPECT_FALSE(k.recording_allowed);  // internal calls are not recorded by this policy
  EXPECT_EQ(f.run_names(cmd::start_consult{"C", "K", "alice", "sam", true}), "");
}

TEST(Consult, WithoutHoldTheCustomerStaysOnTheLine) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.run_names(cmd::start_consult{"C", "K", "alice", "sam", false}), "consult_started");
  EXPECT_FALSE(f.who("C", customer).held);
}

TEST(Consult, AnAlreadyHeldCustomerIsNotHeldTwice) {
  call_fixture f;
  f.inbound();
  f.run(cmd::hold{"C", customer});
  auto events = f.run(cmd::start_consult{"C", "K", "alice", "sam", true});
  EXPECT_EQ(names(events), "consult_started");
  EXPECT_TRUE(std::get<evt::consult_started>(events[0].body).customer_held);
  EXPECT_EQ(f.seg("C").holds.count, 1u);
}

TEST(Consult, TheRecordKeepsTheTargetAndTheDuration) {
  call_fixture f;
  f.inbound();
  const std::int64_t started = f.now_us;
  f.run(cmd::start_consult{"C", "K", "alice", "sam", true});
  f.advance_ms(3'000);
  EXPECT_EQ(f.run_names(cmd::answer{"K", "sam"}), "participant_joined,call_answered");
  EXPECT_EQ(f.who("K", "sam").role, participant_role::specialist);
  EXPECT_EQ(f.seg("K").owner_agent, "alice");  // the consulting agent owns the consult
  f.advance_ms(40'000);
  EXPECT_EQ(f.run_names(cmd::complete_consult{"K"}), "consult_completed");
  const segment& k = f.seg("K");
  EXPECT_EQ(k.status, segment_status::ended);
  EXPECT_EQ(k.end_reason, "consult_completed");
  EXPECT_EQ(k.to, "sam");
  EXPECT_EQ(k.created_at_us, started);
  EXPECT_EQ(k.ended_at_us - k.created_at_us, 43'000'000);
  EXPECT_EQ(k.ended_at_us - k.answered_at_us, 40'000'000);
  // The customer call goes on with alice; she resumes the customer herself.
  EXPECT_EQ(f.seg("C").status, segment_status::connected);
  EXPECT_TRUE(f.who("C", customer).held);
  EXPECT_EQ(f.run_names(cmd::complete_consult{"K"}), "");
  EXPECT_EQ(f.run_names(cmd::cancel_consult{"K"}), "");
}

TEST(Consult, CancelEndsARingingConsult) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_consult{"C", "K", "alice", "sam", true});
  EXPECT_EQ(f.rule(cmd::complete_consult{"K"}), "consult_not_connected");
  EXPECT_EQ(f.run_names(cmd::cancel_consult{"K"}), "consult_cancelled");
  EXPECT_EQ(f.seg("K").end_reason, "consult_cancelled");
  EXPECT_EQ(f.rule(cmd::answer{"K", "sam"}), "call_ended");
}

TEST(Consult, OneActiveConsultPerAgentAndCall) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_consult{"C", "K", "alice", "sam", true});
  EXPECT_EQ(f.rule(cmd::start_consult{"C", "K2", "alice", "sara", true}), "consult_already_active");
  f.run(cmd::cancel_consult{"K"});
  EXPECT_EQ(f.run_names(cmd::start_consult{"C", "K2", "alice", "sara", true}), "consult_started");
}

TEST(Consult, RulesOfStartingAConsult) {
  call_fixture f;
  f.run(cmd::create_call{.voice_call_id = "C", .from = customer, .to = center});
  EXPECT_EQ(f.rule(cmd::start_consult{"C", "K", "alice", "sam", true}), "call_not_active");
  f.run(cmd::ring{"C", "alice"});
  f.run(cmd::answer{"C", "alice"});
  EXPECT_EQ(f.rule(cmd::start_consult{"X", "K", "alice", "sam", true}), "call_not_found");
  EXPECT_EQ(f.rule(cmd::start_consult{"C", "K", "bob", "sam", true}), "participant_not_found");
  EXPECT_EQ(f.rule(cmd::start_consult{"C", "K", "alice", "ghost", true}), "unknown_agent");
  EXPECT_EQ(f.rule(cmd::start_consult{"C", "K", "alice", "alice", true}),
            "transfer_target_invalid");
  EXPECT_EQ(f.rule(cmd::start_consult{"C", "C", "alice", "sam", true}), "call_already_exists");
  EXPECT_EQ(f.rule(cmd::start_consult{"C", "", "alice", "sam", true}), "invalid_argument");
  f.consult("C", "K", "alice", "sam");
  EXPECT_EQ(f.rule(cmd::start_consult{"K", "K2", "alice", "sara", true}), "wrong_segment_kind");
  f.supervise("C", "S", "peggy", supervise_mode::monitor);
  EXPECT_EQ(f.rule(cmd::start_consult{"S", "K2", "peggy", "sara", true}), "wrong_segment_kind");
  EXPECT_EQ(f.rule(cmd::complete_consult{"S"}), "consult_not_found");
  EXPECT_EQ(f.rule(cmd::cancel_consult{"C"}), "consult_not_found");
  EXPECT_EQ(f.rule(cmd::cancel_consult{"X"}), "consult_not_found");
}

// Bug: ringing a consult moved the offer to another agent while the record (and a later merge
// or transfer) still named the original target, so someone who never answered joined the call.
TEST(Consult, AConsultRingsOnlyItsTarget) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_consult{"C", "K", "alice", "sam", true});
  EXPECT_EQ(f.rule(cmd::ring{"K", "sara"}), "wrong_segment_kind");
  EXPECT_EQ(f.run_names(cmd::ring{"K", "sam"}), "");
}

TEST(Consult, FromADirectInternalCall) {
  call_fixture f;
  f.run(cmd::create_call{.voice_call_id = "I",
                         .type = call_type::internal,
                         .method = initiation_method::internal,
                         .initiator_agent = "alice",
                         .target_agent = "bob"});
  f.run(cmd::answer{"I", "bob"});
  EXPECT_EQ(f.run_names(cmd::start_consult{"I", "K", "alice", "sam", true}), "consult_started");
  f.run(cmd::answer{"K", "sam"});
  EXPECT_EQ(f.rule(cmd::complete_warm_transfer{"I", "K", "D"}), "wrong_segment_kind");
  EXPECT_EQ(f.run_names(cmd::merge_conference{"I", "K"}), "conference_merged");
}

// Warm transfer ---------------------------------------------------------------------------------

TEST(WarmTransfer, SecondSegmentIsChargedToTheTargetAgent) {
  call_fixture f;
  f.inbound("C", "alice");
  f.consult("C", "K", "alice", "bob");
  f.advance_ms(20'000);
  EXPECT_EQ(f.run_names(cmd::complete_warm_transfer{"C", "K", "D"}), "warm_transfer_completed");
  const segment& c = f.seg("C");
  const segment& d = f.seg("D");
  EXPECT_EQ(c.status, segment_status::ended);
  EXPECT_EQ(c.end_reason, "transferred");
  EXPECT_EQ(c.next_id, "D");
  EXPECT_EQ(c.owner_agent, "alice");
  EXPECT_FALSE(f.who("C", "alice").present);
  EXPECT_EQ(d.kind, segment_kind::customer);
  EXPECT_EQ(d.type, call_type::inbound);
  EXPECT_EQ(d.method, initiation_method::transfer);
  EXPECT_EQ(d.previous_id, "C");
  EXPECT_EQ(d.owner_agent, "bob");
  EXPECT_EQ(d.initiator_agent, "alice");
  EXPECT_EQ(d.status, segment_status::connected);
  EXPECT_EQ(d.answered_at_us, f.now_us);
  EXPECT_EQ(d.from, customer);
  EXPECT_TRUE(f.who("D", customer).present);
  EXPECT_FALSE(f.who("D", customer).held);
  EXPECT_TRUE(f.who("D", "bob").present);
  EXPECT_EQ(d.find("alice"), nullptr);
  EXPECT_EQ(f.seg("K").status, segment_status::ended);
  EXPECT_EQ(f.seg("K").end_reason, "transferred");
  EXPECT_EQ(f.state.customer_segment_id, "D");
  // The hold of the consult is charged to C, closed when C ended.
  EXPECT_EQ(c.holds.count, 1u);
  EXPECT_GT(c.holds.total_us, 0);
  EXPECT_EQ(f.run_names(cmd::complete_warm_transfer{"C", "K", "D"}), "");
  // Each agent wraps up their own segment.
  EXPECT_EQ(f.rule(cmd::wrap_up{"D", "alice", "x", ""}), "call_not_ended");
  f.run(cmd::end_call{"D", ""});
  EXPECT_EQ(f.rule(cmd::wrap_up{"D", "alice", "x", ""}), "participant_not_found");
  EXPECT_EQ(f.run_names(cmd::wrap_up{"D", "bob", "resolved", ""}), "wrap_up_recorded");
  EXPECT_EQ(f.run_names(cmd::wrap_up{"C", "alice", "transferred", ""}), "wrap_up_recorded");
}

TEST(WarmTransfer, EndsSupervisionSessionsAndOtherConsultsOnTheOldSegment) {
  call_fixture f;
  f.inbound();
  f.run(cmd::join{"C", "ivan", participant_role::agent, ""});
  f.run(cmd::start_consult{"C", "K0", "ivan", "sara", false});  // ivan's own consult
  f.supervise("C", "S", "peggy", supervise_mode::whisper);
  f.consult("C", "K", "alice", "bob");
  EXPECT_EQ(f.run_names(cmd::complete_warm_transfer{"C", "K", "D"}),
            "consult_cancelled,supervisor_left,warm_transfer_completed");
  EXPECT_EQ(f.seg("S").status, segment_status::ended);
  EXPECT_EQ(f.seg("K0").status, segment_status::ended);
}

TEST(WarmTransfer, NeedsAConnectedConsultOfThatCall) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_consult{"C", "K", "alice", "bob", true});
  EXPECT_EQ(f.rule(cmd::complete_warm_transfer{"C", "K", "D"}), "consult_not_connected");
  EXPECT_EQ(f.rule(cmd::complete_warm_transfer{"C", "X", "D"}), "consult_not_found");
  EXPECT_EQ(f.rule(cmd::complete_warm_transfer{"X", "K", "D"}), "call_not_found");
  f.run(cmd::answer{"K", "bob"});
  EXPECT_EQ(f.rule(cmd::complete_warm_transfer{"C", "K", "K"}), "call_already_exists");
  EXPECT_EQ(f.rule(cmd::complete_warm_transfer{"C", "K", ""}), "invalid_argument");
  f.run(cmd::cancel_consult{"K"});
  EXPECT_EQ(f.rule(cmd::complete_warm_transfer{"C", "K", "D"}), "consult_not_connected");
}

TEST(WarmTransfer, TheNewSegmentCanBeTransferredAgain) {
  call_fixture f;
  f.inbound();
  f.consult("C", "K", "alice", "bob");
  f.run(cmd::complete_warm_transfer{"C", "K", "D"});
  f.consult("D", "K2", "bob", "ivan");
  f.run(cmd::complete_warm_transfer{"D", "K2", "E"});
  EXPECT_EQ(f.seg("D").next_id, "E");
  EXPECT_EQ(f.seg("E").previous_id, "D");
  EXPECT_EQ(f.seg("E").owner_agent, "ivan");
  EXPECT_EQ(f.seg("E").initiator_agent, "bob");
  EXPECT_EQ(f.state.customer_segment_id, "E");
}

TEST(WarmTransfer, RecordingPolicyCarriesOverAndTheRecordingRestarts) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_recording{"C", "c.wav"});
  f.consult("C", "K", "alice", "bob");
  f.run(cmd::complete_warm_transfer{"C", "K", "D"});
  EXPECT_EQ(f.seg("C").recording, recording_state::stopped);
  EXPECT_TRUE(f.seg("D").recording_allowed);
  EXPECT_EQ(f.seg("D").recording, recording_state::none);
}

// Blind transfer --------------------------------------------------------------------------------

TEST(BlindTransfer, ToAnAgentRingsThemOnANewSegment) {
  call_fixture f;
  f.inbound();
  f.run(cmd::hold{"C", customer});
  EXPECT_EQ(f.run_names(cmd::blind_transfer{"C", "D", "bob", ""}), "blind_transferred");
  const segment& c = f.seg("C");
  const segment& d = f.seg("D");
  EXPECT_EQ(c.status, segment_status::ended);
  EXPECT_EQ(c.next_id, "D");
  EXPECT_EQ(d.previous_id, "C");
  EXPECT_EQ(d.method, initiation_method::transfer);
  EXPECT_EQ(d.status, segment_status::ringing);
  EXPECT_EQ(d.ringing_agent, "bob");
  EXPECT_EQ(d.initiator_agent, "alice");
  EXPECT_FALSE(f.who("D", customer).held);
  EXPECT_EQ(f.state.customer_segment_id, "D");
  EXPECT_EQ(f.run_names(cmd::blind_transfer{"C", "D", "bob", ""}), "");
  EXPECT_EQ(f.run_names(cmd::answer{"D", "bob"}), "participant_joined,call_answered");
  EXPECT_EQ(f.seg("D").owner_agent, "bob");
}

// The event names the queue the customer waits in if the agent does not answer: the record's.
TEST(BlindTransfer, TheEventCarriesTheRecordsQueueAsTheFallback) {
  call_fixture f;
  f.inbound();
  f.run(cmd::assign_queue{"C", "Billing"});
  const auto events = f.run(cmd::blind_transfer{"C", "D", "bob", ""});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<evt::blind_transferred>(events[0].body).fallback_queue, "Billing");
  EXPECT_EQ(f.seg("D").queue, "Billing");
}

TEST(BlindTransfer, ToAQueueWaitsForAnAgent) {
  call_fixture f;
  f.inbound();
  f.run(cmd::blind_transfer{"C", "D", "", "Billing"});
  EXPECT_EQ(f.seg("D").queue, "Billing");
  EXPECT_EQ(f.seg("D").ringing_agent, "");
  EXPECT_EQ(f.rule(cmd::answer{"D", "ivan"}), "agent_not_ringing");
  f.run(cmd::ring{"D", "ivan"});
  f.run(cmd::answer{"D", "ivan"});
  EXPECT_EQ(f.seg("D").owner_agent, "ivan");
}

TEST(BlindTransfer, NamesExactlyOneValidTarget) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::blind_transfer{"C", "D", "", ""}), "transfer_target_invalid");
  EXPECT_EQ(f.rule(cmd::blind_transfer{"C", "D", "bob", "Billing"}), "transfer_target_invalid");
  EXPECT_EQ(f.rule(cmd::blind_transfer{"C", "D", "alice", ""}), "transfer_target_invalid");
  EXPECT_EQ(f.rule(cmd::blind_transfer{"C", "D", "", "Nowhere"}), "transfer_target_invalid");
  EXPECT_EQ(f.rule(cmd::blind_transfer{"C", "D", "ghost", ""}), "unknown_agent");
  EXPECT_EQ(f.rule(cmd::blind_transfer{"C", "C", "bob", ""}), "call_already_exists");
  EXPECT_EQ(f.rule(cmd::blind_transfer{"X", "D", "bob", ""}), "call_not_found");
}

TEST(BlindTransfer, OnlyAConnectedCustomerCall) {
  call_fixture f;
  f.inbound();
  f.consult("C", "K", "alice", "sam");
  EXPECT_EQ(f.rule(cmd::blind_transfer{"K", "D", "bob", ""}), "wrong_segment_kind");
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.rule(cmd::blind_transfer{"C", "D", "bob", ""}), "call_ended");
}

TEST(BlindTransfer, EndsConsultsAndSessionsOfTheOldSegment) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_consult{"C", "K", "alice", "sam", true});
  f.supervise("C", "S", "quentin", supervise_mode::monitor);
  EXPECT_EQ(f.run_names(cmd::blind_transfer{"C", "D", "bob", ""}),
            "consult_cancelled,supervisor_left,blind_transferred");
}

// Conference -------------------------------------------------------------------------------------

TEST(Conference, MergeBringsTheTargetIntoTheCustomerCallAndResumesTheCustomer) {
  call_fixture f;
  f.inbound();
  f.consult("C", "K", "alice", "sam", true);
  f.advance_ms(5'000);
  EXPECT_EQ(f.run_names(cmd::merge_conference{"C", "K"}), "conference_merged");
  EXPECT_EQ(f.seg("K").status, segment_status::ended);
  EXPECT_EQ(f.seg("K").end_reason, "merged");
  EXPECT_TRUE(f.who("C", "sam").present);
  EXPECT_EQ(f.who("C", "sam").role, participant_role::specialist);
  EXPECT_FALSE(f.who("C", customer).held);
  EXPECT_EQ(f.seg("C").holds.total_us, 5'000'000);
  EXPECT_EQ(f.seg("C").owner_agent, "alice");
  EXPECT_EQ(f.run_names(cmd::merge_conference{"C", "K"}), "");
  // The consulting agent may drop and leave the customer with the specialist.
  EXPECT_EQ(f.run_names(cmd::leave{"C", "alice"}), "participant_left");
  EXPECT_EQ(f.seg("C").status, segment_status::connected);
}

TEST(Conference, NeedsAConnectedConsultOfThatCall) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_consult{"C", "K", "alice", "sam", true});
  EXPECT_EQ(f.rule(cmd::merge_conference{"C", "K"}), "consult_not_connected");
  EXPECT_EQ(f.rule(cmd::merge_conference{"C", "X"}), "consult_not_found");
  f.run(cmd::answer{"K", "sam"});
  f.run(cmd::complete_consult{"K"});
  EXPECT_EQ(f.rule(cmd::merge_conference{"C", "K"}), "consult_not_connected");
}

// The acting agent ------------------------------------------------------------------------------

// An agent acts only on a segment they are on; the engine and the integration (no acting agent)
// act on any.
TEST(ActingAgent, TransfersMergesAndHangupsNeedTheAgentOnTheSegment) {
  call_fixture f;
  f.inbound("C", "alice");
  f.consult("C", "K", "alice", "bob");
  EXPECT_EQ(f.rule(cmd::complete_warm_transfer{"C", "K", "D", "mallory"}), "participant_not_found");
  EXPECT_EQ(f.rule(cmd::complete_warm_transfer{"C", "K", "D", "bob"}), "participant_not_found");
  EXPECT_EQ(f.rule(cmd::merge_conference{"C", "K", "mallory"}), "participant_not_found");
  EXPECT_EQ(f.rule(cmd::blind_transfer{"C", "D", "sam", "", "mallory"}), "participant_not_found");
  EXPECT_EQ(f.rule(cmd::end_call{"C", "hangup", "mallory"}), "participant_not_found");
  EXPECT_EQ(f.seg("C").status, segment_status::connected);
  // The consulted agent may hang up their own consult, not the customer's segment.
  EXPECT_EQ(f.rule(cmd::end_call{"C", "hangup", "bob"}), "participant_not_found");
  EXPECT_EQ(f.run_names(cmd::complete_warm_transfer{"C", "K", "D", "alice"}),
            "warm_transfer_completed");
  // Alice left with the transfer: the new segment is bob's to end.
  EXPECT_EQ(f.rule(cmd::end_call{"D", "hangup", "alice"}), "participant_not_found");
  EXPECT_EQ(f.run_names(cmd::end_call{"D", "hangup", "bob"}), "call_ended");
}

TEST(ActingAgent, TheEngineActsWithoutOne) {
  call_fixture f;
  f.inbound("C", "alice");
  EXPECT_EQ(f.run_names(cmd::blind_transfer{"C", "D", "bob", "", ""}), "blind_transferred");
  EXPECT_EQ(f.run_names(cmd::end_call{"D", "carrier_hangup", ""}), "call_ended");
}

TEST(ActingAgent, ASupervisorChangesAndLeavesOnlyTheirOwnSession) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", supervise_mode::monitor);
  EXPECT_EQ(f.rule(cmd::change_supervisor_mode{"S", supervise_mode::barge, "", "root"}),
            "not_session_owner");
  EXPECT_EQ(f.rule(cmd::leave_supervisor{"S", "root"}), "not_session_owner");
  EXPECT_EQ(f.run_names(cmd::change_supervisor_mode{"S", supervise_mode::whisper, "", "peggy"}),
            "supervisor_mode_changed");
  EXPECT_EQ(f.run_names(cmd::leave_supervisor{"S", "peggy"}), "supervisor_left");
}

// Supervision ------------------------------------------------------------------------------------

TEST(Supervision, JoinCreatesAnInternalSessionUnderTheCall) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.run_names(cmd::join_supervisor{"C", "S", "peggy", supervise_mode::monitor, ""}),
            "supervisor_joined");
  const segment& s = f.seg("S");
  EXPECT_EQ(s.kind, segment_kind::supervision);
  EXPECT_EQ(s.type, call_type::internal);
  EXPECT_EQ(s.method, initiation_method::internal);
  EXPECT_EQ(s.parent_id, "C");
  EXPECT_EQ(s.supervisor_id, "peggy");
  EXPECT_EQ(s.status, segment_status::connected);
  ASSERT_EQ(s.modes.size(), 1u);
  EXPECT_EQ(s.modes[0].mode, supervise_mode::monitor);
  EXPECT_EQ(s.modes[0].coached_agent, "alice");  // defaults to the call's owner
  EXPECT_EQ(f.who("S", "peggy").role, participant_role::supervisor);
  EXPECT_EQ(f.run_names(cmd::join_supervisor{"C", "S", "peggy", supervise_mode::monitor, ""}), "");
}

TEST(Supervision, EachModeNeedsItsOwnGrant) {
  struct row {
    std::string sup;
    supervise_mode mode;
    std::string rule;  // "" when granted
  };
  const row rows[] = {
      {"quentin", supervise_mode::monitor, ""},
      {"quentin", supervise_mode::whisper, "supervisor_not_granted"},
      {"quentin", supervise_mode::barge, "supervisor_not_granted"},
      {"wendy", supervise_mode::monitor, "supervisor_not_granted"},
      {"wendy", supervise_mode::whisper, ""},
      {"wendy", supervise_mode::barge, "supervisor_not_granted"},
      {"barry", supervise_mode::monitor, "supervisor_not_granted"},
      {"barry", supervise_mode::whisper, "supervisor_not_granted"},
      {"barry", supervise_mode::barge, ""},
      {"bare", supervise_mode::monitor, "supervisor_not_granted"},  // default deny
      {"bare", supervise_mode::whisper, "supervisor_not_granted"},
      {"bare", supervise_mode::barge, "supervisor_not_granted"},
      {"root", supervise_mode::barge, ""},
  };
  for (const row& r : rows) {
    call_fixture f;
    f.inbound();
    cmd::join_supervisor c{"C", "S", r.sup, r.mode, ""};
    if (r.rule.empty()) {
      EXPECT_EQ(f.run_names(c), "supervisor_joined") << r.sup << " " << to_string(r.mode);
    } else {
      EXPECT_EQ(f.rule(c), r.rule) << r.sup << " " << to_string(r.mode);
    }
  }
}

TEST(Supervision, GrantsAreScopedToTeams) {
  call_fixture f;
  f.inbound("C", "ivan");  // tier2
  EXPECT_EQ(f.rule(cmd::join_supervisor{"C", "S", "peggy", supervise_mode::monitor, ""}),
            "supervisor_not_granted");
  EXPECT_EQ(f.run_names(cmd::join_supervisor{"C", "S", "tina", supervise_mode::monitor, ""}),
            "supervisor_joined");
}

TEST(Supervision, WhisperGrantCoversTheCoachedAgentsTeam) {
  call_fixture f;
  f.inbound("C", "ivan");  // tier2
  f.run(cmd::join{"C", "alice", participant_role::agent, ""});
  // peggy may coach alice (tier1) on ivan's call, not ivan.
  EXPECT_EQ(f.rule(cmd::join_supervisor{"C", "S", "peggy", supervise_mode::whisper, "ivan"}),
            "supervisor_not_granted");
  EXPECT_EQ(f.run_names(cmd::join_supervisor{"C", "S", "peggy", supervise_mode::whisper, "alice"}),
            "supervisor_joined");
  EXPECT_EQ(f.seg("S").modes.back().coached_agent, "alice");
}

TEST(Supervision, OnlySupervisorsSupervise) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::join_supervisor{"C", "S", "bob", supervise_mode::monitor, ""}),
            "not_a_supervisor");
  EXPECT_EQ(f.rule(cmd::join_supervisor{"C", "S", "ghost", supervise_mode::monitor, ""}),
            "not_a_supervisor");
}

TEST(Supervision, WithoutADirectoryEverySupervisionIsDenied) {
  call_fixture f;
  f.with_directory = false;
  f.inbound();
  for (auto mode : {supervise_mode::monitor, supervise_mode::whisper, supervise_mode::barge}) {
    EXPECT_EQ(f.rule(cmd::join_supervisor{"C", "S", "root", mode, ""}), "not_a_supervisor");
  }
}

TEST(Supervision, TheCoachedAgentMustBeAnAgentOnTheCall) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::join_supervisor{"C", "S", "peggy", supervise_mode::whisper, "bob"}),
            "coached_agent_not_on_call");
  EXPECT_EQ(f.rule(cmd::join_supervisor{"C", "S", "peggy", supervise_mode::whisper, customer}),
            "coached_agent_not_on_call");
  f.run(cmd::leave{"C", "alice"});
  EXPECT_EQ(f.rule(cmd::join_supervisor{"C", "S", "peggy", supervise_mode::monitor, ""}),
            "coached_agent_not_on_call");
}

// Found by the property test: a supervisor answering a direct call could also supervise that
// call, so one leg was both a talking participant and a whisperer heard by everyone.
TEST(Supervision, SomeoneTalkingOnTheCallCannotSuperviseIt) {
  call_fixture f;
  f.run(cmd::create_call{.voice_call_id = "I",
                         .type = call_type::internal,
                         .method = initiation_method::internal,
                         .initiator_agent = "alice",
                         .target_agent = "root"});
  f.run(cmd::answer{"I", "root"});
  EXPECT_EQ(f.rule(cmd::join_supervisor{"I", "S", "root", supervise_mode::whisper, ""}),
            "invalid_argument");
}

TEST(Supervision, TheCallMustBeConnected) {
  call_fixture f;
  f.run(cmd::create_call{.voice_call_id = "C", .from = customer, .to = center});
  EXPECT_EQ(f.rule(cmd::join_supervisor{"C", "S", "peggy", supervise_mode::monitor, ""}),
            "call_not_active");
  EXPECT_EQ(f.rule(cmd::join_supervisor{"X", "S", "peggy", supervise_mode::monitor, ""}),
            "call_not_found");
}

TEST(Supervision, OneSessionPerSupervisorAndCall) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", supervise_mode::monitor);
  EXPECT_EQ(f.rule(cmd::join_supervisor{"C", "S2", "peggy", supervise_mode::barge, ""}),
            "call_already_exists");
  EXPECT_EQ(f.rule(cmd::join_supervisor{"S", "S2", "root", supervise_mode::monitor, ""}),
            "wrong_segment_kind");
  EXPECT_EQ(f.run_names(cmd::join_supervisor{"C", "S2", "root", supervise_mode::monitor, ""}),
            "supervisor_joined");
  f.run(cmd::leave_supervisor{"S"});
  EXPECT_EQ(f.run_names(cmd::join_supervisor{"C", "S3", "peggy", supervise_mode::barge, ""}),
            "supervisor_joined");
}

TEST(Supervision, ChangingModesKeepsATimeline) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", supervise_mode::monitor);
  f.advance_ms(10'000);
  EXPECT_EQ(f.run_names(cmd::change_supervisor_mode{"S", supervise_mode::whisper, ""}),
            "supervisor_mode_changed");
  EXPECT_EQ(f.run_names(cmd::change_supervisor_mode{"S", supervise_mode::whisper, ""}), "");
  f.advance_ms(10'000);
  EXPECT_EQ(f.run_names(cmd::change_supervisor_mode{"S", supervise_mode::barge, ""}),
            "supervisor_mode_changed");
  const auto& modes = f.seg("S").modes;
  ASSERT_EQ(modes.size(), 3u);
  EXPECT_EQ(modes[1].mode, supervise_mode::whisper);
  EXPECT_EQ(modes[1].coached_agent, "alice");
  EXPECT_EQ(modes[2].mode, supervise_mode::barge);
  EXPECT_EQ(modes[2].at_us - modes[1].at_us, 10'000'000);
}

TEST(Supervision, ChangingModeNeedsTheNewModesGrant) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "quentin", supervise_mode::monitor);
  EXPECT_EQ(f.rule(cmd::change_supervisor_mode{"S", supervise_mode::whisper, ""}),
            "supervisor_not_granted");
  EXPECT_EQ(f.rule(cmd::change_supervisor_mode{"S", supervise_mode::barge, ""}),
            "supervisor_not_granted");
  EXPECT_EQ(f.rule(cmd::change_supervisor_mode{"S", supervise_mode::monitor, "bob"}),
            "coached_agent_not_on_call");
  EXPECT_EQ(f.rule(cmd::change_supervisor_mode{"C", supervise_mode::monitor, ""}),
            "supervision_not_found");
  EXPECT_EQ(f.seg("S").modes.size(), 1u);
}

TEST(Supervision, SwitchingTheCoachedAgentInAConference) {
  call_fixture f;
  f.inbound();
  f.consult("C", "K", "alice", "bob");
  f.run(cmd::merge_conference{"C", "K"});
  f.supervise("C", "S", "peggy", supervise_mode::whisper);
  EXPECT_EQ(f.run_names(cmd::change_supervisor_mode{"S", supervise_mode::whisper, "bob"}),
            "supervisor_mode_changed");
  EXPECT_EQ(f.seg("S").modes.back().coached_agent, "bob");
}

TEST(Supervision, LeaveEndsTheSessionOnce) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", supervise_mode::barge);
  EXPECT_EQ(f.run_names(cmd::leave_supervisor{"S"}), "supervisor_left");
  EXPECT_EQ(f.seg("S").status, segment_status::ended);
  EXPECT_FALSE(f.who("S", "peggy").present);
  EXPECT_EQ(f.run_names(cmd::leave_supervisor{"S"}), "");
  EXPECT_EQ(f.rule(cmd::change_supervisor_mode{"S", supervise_mode::monitor, ""}), "call_ended");
  EXPECT_EQ(f.rule(cmd::leave_supervisor{"K"}), "supervision_not_found");
  EXPECT_EQ(f.seg("C").status, segment_status::connected);
}

TEST(Supervision, ASupervisorMayWrapUpTheirSession) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", supervise_mode::barge);
  f.run(cmd::leave_supervisor{"S"});
  EXPECT_EQ(f.run_names(cmd::wrap_up{"S", "peggy", "coached", ""}), "wrap_up_recorded");
}

// Bug: a supervision session of a consult stayed live after the consult ended (completed,
// cancelled, merged, transferred or cancelled with its customer call).
TEST(Supervision, SessionsOnAConsultEndWithTheConsult) {
  const std::string flows[] = {"complete", "cancel", "merge", "transfer", "end_parent"};
  for (const std::string& flow : flows) {
    call_fixture f;
    f.inbound();
    f.consult("C", "K", "alice", "bob");
    f.supervise("K", "S", "peggy", supervise_mode::monitor, "bob");
    std::string got;
    if (flow == "complete") got = f.run_names(cmd::complete_consult{"K"});
    if (flow == "cancel") got = f.run_names(cmd::cancel_consult{"K"});
    if (flow == "merge") got = f.run_names(cmd::merge_conference{"C", "K"});
    if (flow == "transfer") got = f.run_names(cmd::complete_warm_transfer{"C", "K", "D"});
    if (flow == "end_parent") got = f.run_names(cmd::end_call{"C", ""});
    EXPECT_EQ(f.seg("S").status, segment_status::ended) << flow << ": " << got;
    EXPECT_EQ(got.find("supervisor_left"), 0u) << flow << ": " << got;
  }
}

// Replay ---------------------------------------------------------------------------------------

TEST(Replay, FoldingTheLogOfAWholeConversationReproducesTheState) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_recording{"C", "c.wav"});
  f.supervise("C", "S", "peggy", supervise_mode::monitor);
  f.advance_ms(3'000);
  f.run(cmd::change_supervisor_mode{"S", supervise_mode::whisper, ""});
  f.consult("C", "K", "alice", "sam", true);
  f.advance_ms(3'000);
  f.run(cmd::complete_consult{"K"});
  f.run(cmd::resume{"C", customer});
  f.consult("C", "K2", "alice", "bob", false);
  f.run(cmd::complete_warm_transfer{"C", "K2", "D"});
  f.run(cmd::add_transcript{"D", "m1", "bob", "Agent", 0, 10, "hi"});
  f.run(cmd::blind_transfer{"D", "E", "", "Billing"});
  f.run(cmd::ring{"E", "ivan"});
  f.run(cmd::answer{"E", "ivan"});
  f.advance_ms(60'000);
  f.run(cmd::end_call{"E", ""});
  f.run(cmd::wrap_up{"E", "ivan", "resolved", ""});
  f.run(cmd::add_conversation_event{"E", "e1", true, "sentiment", "{}"});
  call_state fresh;
  for (const auto& e : f.log) evolve(fresh, e);
  EXPECT_EQ(render(fresh), render(f.state));
  EXPECT_EQ(fresh.version, f.log.size());
  // The chain of segments the customer went through.
  EXPECT_EQ(f.seg("C").next_id, "D");
  EXPECT_EQ(f.seg("D").next_id, "E");
  EXPECT_EQ(f.seg("E").previous_id, "D");
  EXPECT_EQ(f.seg("D").previous_id, "C");
  for (const auto& g : f.state.segments) {
    EXPECT_EQ(g.status, segment_status::ended) << g.id;
  }
}

}  // namespace
}  // namespace backline::domain::calltest
