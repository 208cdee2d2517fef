// The call aggregate, command by command: creating calls, ringing and answering, joining and
// leaving, hold and mute, ending, wrap-up, transcripts, conversation events, recording,
// attributes and bounds. Flows (consult, transfer, conference, supervision) are in
// call_flows_test.cc; who hears whom in hear_matrix_test.cc; random sequences in
// call_property_test.cc.
#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

#include "actors/domain/call.h"
#include "tests/domain/call_fixture.h"

namespace backline::domain::calltest {
namespace {

cmd::create_call outbound_call(std::string id = "C", std::string agent = "alice") {
  return {.voice_call_id = std::move(id),
          .type = call_type::outbound,
          .method = initiation_method::outbound,
          .from = center,
          .to = customer,
          .initiator_agent = std::move(agent)};
}

cmd::create_call internal_call(std::string id, std::string from, std::string to) {
  return {.voice_call_id = std::move(id),
          .type = call_type::internal,
          .method = initiation_method::internal,
          .initiator_agent = std::move(from),
          .target_agent = std::move(to)};
}

cmd::create_call inbound_call(std::string id = "C", std::string jurisdiction = {}) {
  return {.voice_call_id = std::move(id),
          .type = call_type::inbound,
          .method = initiation_method::inbound,
          .from = customer,
          .to = center,
          .jurisdiction = std::move(jurisdiction)};
}

// Create ------------------------------------------------------------------------------------

TEST(CreateCall, InboundCallHasTheCustomerOnItAndRingsNobodyYet) {
  call_fixture f;
  EXPECT_EQ(f.run_names(inbound_call()), "call_created,participant_joined");
  const segment& c = f.seg("C");
  EXPECT_EQ(f.state.id, "C");
  EXPECT_EQ(f.state.customer_segment_id, "C");
  EXPECT_EQ(c.kind, segment_kind::customer);
  EXPECT_EQ(c.type, call_type::inbound);
  EXPECT_EQ(c.method, initiation_method::inbound);
  EXPECT_EQ(c.status, segment_status::ringing);
  EXPECT_EQ(c.disposition(), call_disposition::new_call);
  EXPECT_EQ(c.ringing_agent, "");
  ASSERT_EQ(c.participants.size(), 1u);
  EXPECT_EQ(c.participants[0].id, customer);
  EXPECT_EQ(c.participants[0].role, participant_role::customer);
  EXPECT_EQ(c.participants[0].number, customer);
  EXPECT_TRUE(c.recording_allowed);
  EXPECT_EQ(f.state.version, 2u);
}

TEST(CreateCall, OutboundCallHasTheDiallingAgentAndTheDialledCustomer) {
  call_fixture f;
  EXPECT_EQ(f.run_names(outbound_call()), "call_created,participant_joined,participant_joined");
  const segment& c = f.seg("C");
  EXPECT_EQ(c.type, call_type::outbound);
  EXPECT_EQ(c.owner_agent, "alice");
  EXPECT_EQ(c.initiator_agent, "alice");
  EXPECT_EQ(f.who("C", customer).role, participant_role::customer);
  EXPECT_EQ(f.who("C", "alice").role, participant_role::agent);
  EXPECT_TRUE(c.recording_allowed);
  // The customer picks up: the dialling agent answers for the call.
  EXPECT_EQ(f.run_names(cmd::answer{"C", "alice"}), "call_answered");
  EXPECT_EQ(f.seg("C").status, segment_status::connected);
  EXPECT_EQ(f.run_names(cmd::answer{"C", "alice"}), "");
}

TEST(CreateCall, InternalCallRingsTheTargetAndIsNotRecordedByDefault) {
  call_fixture f;
  EXPECT_EQ(f.run_names(internal_call("I", "alice", "bob")),
            "call_created,participant_joined,call_ringing");
  const segment& i = f.seg("I");
  EXPECT_EQ(i.kind, segment_kind::direct);
  EXPECT_EQ(i.type, call_type::internal);
  EXPECT_EQ(i.ringing_agent, "bob");
  EXPECT_FALSE(i.recording_allowed);  // record_internal = false
  EXPECT_EQ(f.state.customer_segment_id, "");
  EXPECT_EQ(f.run_names(cmd::answer{"I", "bob"}), "participant_joined,call_answered");
  EXPECT_EQ(f.seg("I").owner_agent, "alice");  // the caller owns an internal call
  EXPECT_EQ(f.rule(cmd::start_recording{"I", "s3://r/I.wav"}), "recording_forbidden");
}

// An internal call placed during a customer call is its own conversation, linked to it.
TEST(CreateCall, ACallPlacedFromAnotherNamesItsParent) {
  call_fixture f;
  cmd::create_call c = internal_call("I", "alice", "bob");
  c.parent_id = "C";
  f.run(c);
  EXPECT_EQ(f.seg("I").parent_id, "C");
  EXPECT_EQ(f.run_names(c), "");  // a repeat
  c.parent_id = "D";
  EXPECT_EQ(f.rule(c), "call_already_exists");  // the same id with another parent
  call_fixture g;
  c.parent_id = "I";
  EXPECT_EQ(g.rule(c), "invalid_argument");  // its own parent
}

TEST(CreateCall, InternalCallsAreRecordedWhenThePolicyAllowsIt) {
  call_fixture f;
  f.dir.recording.record_internal = true;
  f.run(internal_call("I", "alice", "bob"));
  EXPECT_TRUE(f.seg("I").recording_allowed);
}

TEST(CreateCall, ForbiddenJurisdictionIsNeverRecorded) {
  call_fixture f;
  f.run(inbound_call("C", "DE"));
  EXPECT_FALSE(f.seg("C").recording_allowed);
  f.run(cmd::ring{"C", "alice"});
  f.run(cmd::answer{"C", "alice"});
  EXPECT_EQ(f.rule(cmd::start_recording{"C", "s3://r/C.wav"}), "recording_forbidden");
}

TEST(CreateCall, RecordingFollowsThePolicyPerCallType) {
  call_fixture f;
  f.dir.recording.record_inbound = false;
  f.run(inbound_call());
  EXPECT_FALSE(f.seg("C").recording_allowed);
  call_fixture g;
  g.dir.recording.record_outbound = false;
  g.run(outbound_call());
  EXPECT_FALSE(g.seg("C").recording_allowed);
}

TEST(CreateCall, CustomAttributesAreStoredSortedByKey) {
  call_fixture f;
  cmd::create_call c = inbound_call();
  c.attributes.case_id = "500A";
  c.attributes.custom = {{"zeta", "1"}, {"alpha", "2"}};
  f.run(c);
  const auto& a = f.seg("C").attributes;
  EXPECT_EQ(a.case_id, "500A");
  ASSERT_EQ(a.custom.size(), 2u);
  EXPECT_EQ(a.custom[0].first, "alpha");
  EXPECT_EQ(a.custom[1].first, "zeta");
}

// Bug: duplicate custom keys were stored as given, breaking "sorted by key, unique keys".
TEST(CreateCall, DuplicateCustomAttributeKeysAreRefused) {
  call_fixture f;
  cmd::create_call c = inbound_call();
  c.attributes.custom = {{"k", "2"}, {"k", "1"}};
  EXPECT_EQ(f.rule(c), "invalid_argument");
}

TEST(CreateCall, RepeatingTheCreateChangesNothing) {
  call_fixture f;
  f.run(inbound_call());
  EXPECT_EQ(f.run_names(inbound_call()), "");
  EXPECT_EQ(f.state.version, 2u);
}

TEST(CreateCall, AStreamHoldsOneConversation) {
  call_fixture f;
  f.run(inbound_call());
  EXPECT_EQ(f.rule(inbound_call("C2")), "call_already_exists");
}

TEST(CreateCall, TheSameIdWithOtherFactsIsAConflict) {
  call_fixture f;
  f.run(inbound_call("C"));
  cmd::create_call other = inbound_call("C");
  other.from = "+15559999999";
  EXPECT_EQ(f.rule(other), "call_already_exists");
  EXPECT_EQ(f.state.version, 2u);
}

TEST(CreateCall, AgentDialledCallsNeedAKnownInitiator) {
  call_fixture f;
  EXPECT_EQ(f.rule(outbound_call("C", "")), "invalid_argument");
  EXPECT_EQ(f.rule(outbound_call("C", "ghost")), "unknown_agent");
  EXPECT_EQ(f.rule(internal_call("I", "alice", "ghost")), "unknown_agent");
  EXPECT_EQ(f.rule(internal_call("I", "alice", "alice")), "transfer_target_invalid");
  cmd::create_call c = outbound_call();
  c.target_agent = "bob";
  EXPECT_EQ(f.rule(c), "invalid_argument");  // target_agent is for internal calls only
  EXPECT_EQ(f.state.version, 0u);
}

TEST(CreateCall, WithoutADirectoryAnyAgentIdIsAccepted) {
  call_fixture f;
  f.with_directory = false;
  f.run(internal_call("I", "x1", "x2"));
  EXPECT_FALSE(f.seg("I").recording_allowed);  // the default policy does not record internal
}

// Ring and answer -----------------------------------------------------------------------------

TEST(Answer, TheRungAgentAnswersAndOwnsTheCall) {
  call_fixture f;
  f.run(inbound_call());
  f.advance_ms(4000);
  EXPECT_EQ(f.run_names(cmd::ring{"C", "alice"}), "call_ringing");
  EXPECT_EQ(f.run_names(cmd::ring{"C", "alice"}), "");
  EXPECT_EQ(f.run_names(cmd::answer{"C", "alice"}), "participant_joined,call_answered");
  const segment& c = f.seg("C");
  EXPECT_EQ(c.status, segment_status::connected);
  EXPECT_EQ(c.disposition(), call_disposition::in_progress);
  EXPECT_EQ(c.owner_agent, "alice");
  EXPECT_EQ(c.answered_at_us, f.now_us);
  EXPECT_EQ(f.run_names(cmd::answer{"C", "alice"}), "");
}

TEST(Answer, AnAgentThatWasNotOfferedTheCallCannotAnswerIt) {
  call_fixture f;
  f.run(inbound_call());
  EXPECT_EQ(f.rule(cmd::answer{"C", "alice"}), "agent_not_ringing");
  f.run(cmd::ring{"C", "alice"});
  EXPECT_EQ(f.rule(cmd::answer{"C", "bob"}), "agent_not_ringing");
}

TEST(Answer, ReRingingMovesTheOfferToAnotherAgent) {
  call_fixture f;
  f.run(inbound_call());
  f.run(cmd::ring{"C", "alice"});
  f.run(cmd::ring{"C", "bob"});
  EXPECT_EQ(f.rule(cmd::answer{"C", "alice"}), "agent_not_ringing");
  f.run(cmd::answer{"C", "bob"});
  EXPECT_EQ(f.seg("C").owner_agent, "bob");
}

TEST(Answer, ACallAnsweredBySomeoneElseIsRefused) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::answer{"C", "bob"}), "agent_not_ringing");
}

TEST(Ring, AConnectedOrEndedCallCannotRing) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::ring{"C", "bob"}), "call_not_active");
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.rule(cmd::ring{"C", "bob"}), "call_ended");
  EXPECT_EQ(f.rule(cmd::answer{"C", "alice"}), "call_ended");
}

TEST(Ring, UnknownAgentsAndCallsAreRefused) {
  call_fixture f;
  f.run(inbound_call());
  EXPECT_EQ(f.rule(cmd::ring{"C", "ghost"}), "unknown_agent");
  EXPECT_EQ(f.rule(cmd::ring{"X", "alice"}), "call_not_found");
  EXPECT_EQ(f.rule(cmd::answer{"X", "alice"}), "call_not_found");
}

// Bug: the transferring agent passed the "dialler" check and could answer the blind-transfer
// segment it had just handed off.
TEST(Answer, TheTransferringAgentCannotAnswerTheBlindTransferSegment) {
  call_fixture f;
  f.run(outbound_call());
  f.run(cmd::answer{"C", "alice"});
  f.run(cmd::blind_transfer{"C", "D", "bob", ""});
  EXPECT_EQ(f.rule(cmd::answer{"D", "alice"}), "agent_not_ringing");
  EXPECT_EQ(f.run_names(cmd::answer{"D", "bob"}), "participant_joined,call_answered");
  EXPECT_EQ(f.seg("D").owner_agent, "bob");
}

// Join and leave --------------------------------------------------------------------------------

TEST(Join, AParticipantJoinsOnceAndLeavesOnce) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.run_names(cmd::join{"C", "sam", participant_role::specialist, ""}),
            "participant_joined");
  EXPECT_EQ(f.run_names(cmd::join{"C", "sam", participant_role::specialist, ""}), "");
  EXPECT_EQ(f.who("C", "sam").role, participant_role::specialist);
  f.advance_ms(1000);
  EXPECT_EQ(f.run_names(cmd::leave{"C", "sam"}), "participant_left");
  EXPECT_FALSE(f.who("C", "sam").present);
  EXPECT_EQ(f.who("C", "sam").left_at_us, f.now_us);
  EXPECT_EQ(f.run_names(cmd::leave{"C", "sam"}), "");
  // Rejoining makes the same participant present again.
  EXPECT_EQ(f.run_names(cmd::join{"C", "sam", participant_role::specialist, ""}),
            "participant_joined");
  EXPECT_TRUE(f.who("C", "sam").present);
  EXPECT_EQ(f.seg("C").participants.size(), 3u);
}

TEST(Join, SupervisorsMustJoinThroughJoinSupervisor) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::join{"C", "peggy", participant_role::supervisor, ""}), "invalid_argument");
}

TEST(Join, AnEndedCallCannotBeJoined) {
  call_fixture f;
  f.inbound();
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.rule(cmd::join{"C", "bob", participant_role::agent, ""}), "call_ended");
  EXPECT_EQ(f.rule(cmd::join{"X", "bob", participant_role::agent, ""}), "call_not_found");
}

TEST(Leave, SomeoneWhoWasNeverOnTheCallCannotLeave) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::leave{"C", "bob"}), "participant_not_found");
}

// Hold and mute ----------------------------------------------------------------------------------

TEST(Hold, HoldAndResumeAreCountedTotalledAndTheLongestKept) {
  call_fixture f;
  f.inbound();
  f.advance_ms(10'000);
  EXPECT_EQ(f.run_names(cmd::hold{"C", customer}), "participant_held");
  EXPECT_EQ(f.run_names(cmd::hold{"C", customer}), "");
  EXPECT_TRUE(f.who("C", customer).held);
  f.advance_ms(5'000);
  EXPECT_EQ(f.run_names(cmd::resume{"C", customer}), "participant_resumed");
  EXPECT_EQ(f.run_names(cmd::resume{"C", customer}), "");
  f.advance_ms(5'000);
  f.run(cmd::hold{"C", customer});
  f.advance_ms(7'000);
  f.run(cmd::resume{"C", customer});
  f.advance_ms(3'000);
  f.run(cmd::hold{"C", customer});
  f.advance_ms(2'000);
  f.run(cmd::resume{"C", customer});
  const hold_stats& h = f.seg("C").holds;
  EXPECT_EQ(h.count, 3u);
  EXPECT_EQ(h.total_us, 14'000'000);
  EXPECT_EQ(h.longest_us, 7'000'000);
}

TEST(Hold, AHoldStillOpenWhenTheCallEndsIsClosedAtTheEnd) {
  call_fixture f;
  f.inbound();
  f.run(cmd::hold{"C", customer});
  f.advance_ms(4'000);
  f.run(cmd::resume{"C", customer});
  f.run(cmd::hold{"C", customer});
  f.advance_ms(9'000);
  EXPECT_EQ(f.run_names(cmd::end_call{"C", "customer_hangup"}), "call_ended");
  const hold_stats& h = f.seg("C").holds;
  EXPECT_EQ(h.count, 2u);
  EXPECT_EQ(h.total_us, 13'000'000);
  EXPECT_EQ(h.longest_us, 9'000'000);
  EXPECT_FALSE(f.who("C", customer).held);
}

TEST(Hold, LeavingWhileHeldClosesTheHold) {
  call_fixture f;
  f.inbound();
  f.run(cmd::hold{"C", customer});
  f.advance_ms(2'000);
  f.run(cmd::leave{"C", customer});
  EXPECT_EQ(f.seg("C").holds.total_us, 2'000'000);
}

TEST(Hold, OnlyAPresentParticipantOfAConnectedCallCanBeHeld) {
  call_fixture f;
  f.run(inbound_call());
  EXPECT_EQ(f.rule(cmd::hold{"C", customer}), "call_not_active");  // still ringing
  f.run(cmd::ring{"C", "alice"});
  f.run(cmd::answer{"C", "alice"});
  EXPECT_EQ(f.rule(cmd::hold{"C", "bob"}), "participant_not_found");
  EXPECT_EQ(f.rule(cmd::resume{"C", "bob"}), "participant_not_found");
  EXPECT_EQ(f.rule(cmd::hold{"X", customer}), "call_not_found");
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.rule(cmd::hold{"C", customer}), "call_ended");
  EXPECT_EQ(f.rule(cmd::resume{"C", customer}), "call_ended");
}

TEST(Mute, MuteAndUnmuteToggleOnceEach) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.run_names(cmd::mute{"C", "alice"}), "participant_muted");
  EXPECT_EQ(f.run_names(cmd::mute{"C", "alice"}), "");
  EXPECT_TRUE(f.who("C", "alice").muted);
  EXPECT_EQ(f.run_names(cmd::unmute{"C", "alice"}), "participant_unmuted");
  EXPECT_EQ(f.run_names(cmd::unmute{"C", "alice"}), "");
  EXPECT_FALSE(f.who("C", "alice").muted);
  EXPECT_EQ(f.seg("C").holds.count, 0u);  // mute is not hold
  EXPECT_EQ(f.rule(cmd::mute{"C", "bob"}), "participant_not_found");
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.rule(cmd::unmute{"C", "alice"}), "call_ended");
}

// End ----------------------------------------------------------------------------------------

TEST(EndCall, EveryoneLeavesAndTheReasonIsKept) {
  call_fixture f;
  f.inbound();
  f.advance_ms(60'000);
  EXPECT_EQ(f.run_names(cmd::end_call{"C", "customer_hangup"}), "call_ended");
  const segment& c = f.seg("C");
  EXPECT_EQ(c.status, segment_status::ended);
  EXPECT_EQ(c.disposition(), call_disposition::completed);
  EXPECT_EQ(c.end_reason, "customer_hangup");
  EXPECT_EQ(c.ended_at_us, f.now_us);
  for (const auto& p : c.participants) {
    EXPECT_FALSE(p.present) << p.id;
    EXPECT_EQ(p.left_at_us, f.now_us) << p.id;
  }
  EXPECT_EQ(f.run_names(cmd::end_call{"C", "other"}), "");
  EXPECT_EQ(f.seg("C").end_reason, "customer_hangup");
}

TEST(EndCall, AnEmptyReasonIsAHangup) {
  call_fixture f;
  f.inbound();
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.seg("C").end_reason, "hangup");
}

TEST(EndCall, ARingingCallCanBeAbandoned) {
  call_fixture f;
  f.run(inbound_call());
  f.run(cmd::ring{"C", "alice"});
  EXPECT_EQ(f.run_names(cmd::end_call{"C", "abandoned"}), "call_ended");
  EXPECT_EQ(f.seg("C").answered_at_us, 0);
}

TEST(EndCall, ClosesItsConsultsAndSupervisionSessionsFirst) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_consult{"C", "K", "alice", "sam", true});
  f.supervise("C", "S", "peggy", supervise_mode::monitor);
  EXPECT_EQ(f.run_names(cmd::end_call{"C", ""}), "consult_cancelled,supervisor_left,call_ended");
  for (const auto& g : f.state.segments) {
    EXPECT_EQ(g.status, segment_status::ended) << g.id;
  }
  EXPECT_EQ(f.seg("K").end_reason, "consult_cancelled");
  EXPECT_EQ(f.seg("S").end_reason, "supervisor_left");
}

TEST(EndCall, UnknownCallAndOverlongReasonAreRefused) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::end_call{"X", ""}), "call_not_found");
  EXPECT_EQ(f.rule(cmd::end_call{"C", std::string(id_bytes_max + 1, 'r')}), "invalid_argument");
}

// Wrap-up ----------------------------------------------------------------------------------------

TEST(WrapUp, OnlyAfterTheCallEnds) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::wrap_up{"C", "alice", "resolved", ""}), "call_not_ended");
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.run_names(cmd::wrap_up{"C", "alice", "resolved", "refund issued"}),
            "wrap_up_recorded");
  const segment& c = f.seg("C");
  EXPECT_TRUE(c.wrapped_up);
  EXPECT_EQ(c.disposition_code, "resolved");
  EXPECT_EQ(c.wrap_up_notes, "refund issued");
  EXPECT_EQ(f.run_names(cmd::wrap_up{"C", "alice", "resolved", "refund issued"}), "");
  EXPECT_EQ(f.run_names(cmd::wrap_up{"C", "alice", "escalated", "refund issued"}),
            "wrap_up_recorded");
}

TEST(WrapUp, OnlyByAnAgentWhoHandledTheCall) {
  call_fixture f;
  f.inbound();
  f.run(cmd::join{"C", "sam", participant_role::specialist, ""});
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.rule(cmd::wrap_up{"C", "bob", "resolved", ""}), "participant_not_found");
  EXPECT_EQ(f.rule(cmd::wrap_up{"C", customer, "resolved", ""}), "participant_not_found");
  EXPECT_EQ(f.run_names(cmd::wrap_up{"C", "sam", "resolved", ""}), "wrap_up_recorded");
  EXPECT_EQ(f.rule(cmd::wrap_up{"X", "alice", "resolved", ""}), "call_not_found");
}

// Bug: an unanswered call has no owner, so an empty agent id matched it and wrapped it up.
TEST(WrapUp, AnEmptyAgentIdIsRefusedEvenOnAnUnansweredCall) {
  call_fixture f;
  f.run(inbound_call());
  f.run(cmd::end_call{"C", "abandoned"});
  EXPECT_EQ(f.rule(cmd::wrap_up{"C", "", "abandoned", ""}), "invalid_argument");
}

TEST(WrapUp, OverlongCodeOrNotesAreRefused) {
  call_fixture f;
  f.inbound();
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.rule(cmd::wrap_up{"C", "alice", std::string(id_bytes_max + 1, 'c'), ""}),
            "invalid_argument");
  EXPECT_EQ(f.rule(cmd::wrap_up{"C", "alice", "x", std::string(text_bytes_max + 1, 'n')}),
            "invalid_argument");
  EXPECT_EQ(f.run_names(cmd::wrap_up{"C", "alice", "x", std::string(text_bytes_max, 'n')}),
            "wrap_up_recorded");
}

// Transcripts ---------------------------------------------------------------------------------

cmd::add_transcript message(std::string id, std::int64_t start, std::int64_t end,
                            std::string text = "hello") {
  return {"C", std::move(id), "alice", "Agent", start, end, std::move(text)};
}

TEST(Transcript, MessagesAreCountedAndDedupedByMessageId) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.run_names(message("m1", 0, 1200)), "transcript_message_added");
  EXPECT_EQ(f.run_names(message("m1", 0, 1200)), "");
  EXPECT_EQ(f.run_names(message("m1", 5, 9, "different text, same id")), "");
  EXPECT_EQ(f.run_names(message("m2", 1200, 1200)), "transcript_message_added");
  EXPECT_EQ(f.seg("C").transcript_messages, 2u);
  EXPECT_EQ(f.state.message_ids, (std::vector<std::string>{"m1", "m2"}));
}

TEST(Transcript, PostCallTranscriptsAreAccepted) {
  call_fixture f;
  f.inbound();
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.run_names(message("m1", 0, 10)), "transcript_message_added");
}

TEST(Transcript, StartMustNotBeNegativeNorAfterEnd) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(message("m1", 10, 9)), "invalid_argument");
  EXPECT_EQ(f.rule(message("m1", -1, 9)), "invalid_argument");
}

TEST(Transcript, FieldsAreBounded) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(message("", 0, 1)), "invalid_argument");
  EXPECT_EQ(f.rule(message(std::string(id_bytes_max + 1, 'm'), 0, 1)), "invalid_argument");
  EXPECT_EQ(f.rule(message("m1", 0, 1, std::string(text_bytes_max + 1, 't'))), "invalid_argument");
  cmd::add_transcript t = message("m1", 0, 1);
  t.speaker = std::string(id_bytes_max + 1, 's');
  EXPECT_EQ(f.rule(t), "invalid_argument");
  t = message("m1", 0, 1);
  t.voice_call_id = "X";
  EXPECT_EQ(f.rule(t), "call_not_found");
  EXPECT_EQ(f.run_names(message("m1", 0, 1, std::string(text_bytes_max, 't'))),
            "transcript_message_added");
}

// Conversation events ---------------------------------------------------------------------------

cmd::add_conversation_event conversation_event(std::string id, bool post_call) {
  return {"C", std::move(id), post_call, "sentiment", R"({"score":0.7})"};
}

TEST(ConversationEvent, RealTimeEventsOnlyWhileTheCallIsLive) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.run_names(conversation_event("e1", false)), "conversation_event_recorded");
  EXPECT_EQ(f.run_names(conversation_event("e1", false)), "");
  EXPECT_EQ(f.rule(conversation_event("e2", true)), "call_not_ended");
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.rule(conversation_event("e3", false)), "call_ended");
  EXPECT_EQ(f.run_names(conversation_event("e2", true)), "conversation_event_recorded");
  EXPECT_EQ(f.run_names(conversation_event("e2", true)), "");
  EXPECT_EQ(f.seg("C").conversation_events, 2u);
  EXPECT_EQ(f.state.conversation_event_ids, (std::vector<std::string>{"e1", "e2"}));
}

TEST(ConversationEvent, TypeIsRequiredAndPayloadBounded) {
  call_fixture f;
  f.inbound();
  cmd::add_conversation_event e = conversation_event("e1", false);
  e.type = "";
  EXPECT_EQ(f.rule(e), "invalid_argument");
  e = conversation_event("e1", false);
  e.payload = std::string(text_bytes_max + 1, 'p');
  EXPECT_EQ(f.rule(e), "invalid_argument");
  e = conversation_event("", false);
  EXPECT_EQ(f.rule(e), "invalid_argument");
}

// Recording -----------------------------------------------------------------------------------

TEST(Recording, StartPauseResumeStop) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::pause_recording{"C"}), "recording_not_active");
  EXPECT_EQ(f.rule(cmd::resume_recording{"C"}), "recording_not_active");
  EXPECT_EQ(f.rule(cmd::stop_recording{"C"}), "recording_not_active");
  EXPECT_EQ(f.run_names(cmd::start_recording{"C", "s3://r/C.wav"}), "recording_started");
  EXPECT_EQ(f.run_names(cmd::start_recording{"C", "s3://r/C.wav"}), "");
  EXPECT_EQ(f.seg("C").recording, recording_state::recording);
  EXPECT_EQ(f.seg("C").recording_location, "s3://r/C.wav");
  EXPECT_EQ(f.run_names(cmd::resume_recording{"C"}), "");                 // already recording
  EXPECT_EQ(f.run_names(cmd::pause_recording{"C"}), "recording_paused");  // PCI
  EXPECT_EQ(f.run_names(cmd::pause_recording{"C"}), "");
  EXPECT_EQ(f.run_names(cmd::start_recording{"C", "s3://r/C.wav"}), "");
  EXPECT_EQ(f.run_names(cmd::resume_recording{"C"}), "recording_resumed");
  EXPECT_EQ(f.run_names(cmd::resume_recording{"C"}), "");
  EXPECT_EQ(f.run_names(cmd::stop_recording{"C"}), "recording_stopped");
  EXPECT_EQ(f.run_names(cmd::stop_recording{"C"}), "");
  EXPECT_EQ(f.rule(cmd::pause_recording{"C"}), "recording_not_active");
  EXPECT_EQ(f.seg("C").recording, recording_state::stopped);
}

TEST(Recording, APausedRecordingCanBeStopped) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_recording{"C", "loc"});
  f.run(cmd::pause_recording{"C"});
  EXPECT_EQ(f.run_names(cmd::stop_recording{"C"}), "recording_stopped");
}

TEST(Recording, OnlyAConnectedCallCanStartRecording) {
  call_fixture f;
  f.run(inbound_call());
  EXPECT_EQ(f.rule(cmd::start_recording{"C", "loc"}), "call_not_active");
  EXPECT_EQ(f.rule(cmd::start_recording{"X", "loc"}), "call_not_found");
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.rule(cmd::start_recording{"C", "loc"}), "call_ended");
}

TEST(Recording, EndingTheCallStopsTheRecording) {
  for (bool paused : {false, true}) {
    call_fixture f;
    f.inbound();
    f.run(cmd::start_recording{"C", "loc"});
    if (paused) f.run(cmd::pause_recording{"C"});
    EXPECT_EQ(f.run_names(cmd::end_call{"C", ""}), "call_ended");
    EXPECT_EQ(f.seg("C").recording, recording_state::stopped);
    EXPECT_EQ(f.run_names(cmd::stop_recording{"C"}), "");
    EXPECT_EQ(f.rule(cmd::resume_recording{"C"}), "recording_not_active");
  }
}

TEST(Recording, AStoppedRecordingCanStartAgain) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_recording{"C", "part1"});
  f.run(cmd::stop_recording{"C"});
  EXPECT_EQ(f.run_names(cmd::start_recording{"C", "part2"}), "recording_started");
  EXPECT_EQ(f.seg("C").recording_location, "part2");
}

TEST(Recording, ForbiddenByPolicyIsRefusedWithTheRule) {
  call_fixture f;
  f.dir.recording.record_inbound = false;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::start_recording{"C", "loc"}), "recording_forbidden");
  EXPECT_EQ(f.rule(cmd::start_recording{"C", std::string(1025, 'l')}), "invalid_argument");
}

// Attributes ------------------------------------------------------------------------------------

TEST(Attributes, NonEmptyFieldsOverwriteAndCustomKeysMerge) {
  call_fixture f;
  cmd::create_call c = inbound_call();
  c.attributes.case_id = "500A";
  c.attributes.subject = "billing";
  c.attributes.custom = {{"b", "1"}, {"d", "1"}};
  f.run(c);
  call_attributes update;
  update.contact_id = "003X";
  update.subject = "refund";
  update.custom = {{"d", "2"}, {"a", "9"}, {"c", "3"}};
  EXPECT_EQ(f.run_names(cmd::update_attributes{"C", update}), "attributes_updated");
  const call_attributes& a = f.seg("C").attributes;
  EXPECT_EQ(a.case_id, "500A");
  EXPECT_EQ(a.contact_id, "003X");
  EXPECT_EQ(a.subject, "refund");
  using kv = std::pair<std::string, std::string>;
  EXPECT_EQ(a.custom, (std::vector<kv>{{"a", "9"}, {"b", "1"}, {"c", "3"}, {"d", "2"}}));
  EXPECT_EQ(f.run_names(cmd::update_attributes{"C", update}), "");
  EXPECT_EQ(f.run_names(cmd::update_attributes{"C", {}}), "");
}

TEST(Attributes, TheEventCarriesTheMergedResult) {
  call_fixture f;
  f.inbound();
  call_attributes update;
  update.custom = {{"k", "v"}};
  auto events = f.run(cmd::update_attributes{"C", update});
  ASSERT_EQ(events.size(), 1u);
  const auto& e = std::get<evt::attributes_updated>(events[0].body);
  EXPECT_EQ(e.attributes, f.seg("C").attributes);
}

TEST(Attributes, CustomAttributesAreBounded) {
  call_fixture f;
  f.inbound();
  call_attributes update;
  for (std::size_t i = 0; i < custom_attributes_max; ++i) {
    update.custom.emplace_back(fmt::format("k{:03}", i), "v");
  }
  f.run(cmd::update_attributes{"C", update});
  call_attributes one_more;
  one_more.custom = {{"zzz", "v"}};
  EXPECT_EQ(f.rule(cmd::update_attributes{"C", one_more}), "limit_exceeded");
  update.custom.emplace_back("zzz", "v");
  EXPECT_EQ(f.rule(cmd::update_attributes{"C", update}), "limit_exceeded");
  call_attributes bad;
  bad.custom = {{"", "v"}};
  EXPECT_EQ(f.rule(cmd::update_attributes{"C", bad}), "invalid_argument");
  bad.custom = {{"k", std::string(1025, 'v')}};
  EXPECT_EQ(f.rule(cmd::update_attributes{"C", bad}), "invalid_argument");
  bad = {};
  bad.case_id = std::string(2 * id_bytes_max + 1, 'c');
  EXPECT_EQ(f.rule(cmd::update_attributes{"C", bad}), "invalid_argument");
  EXPECT_EQ(f.rule(cmd::update_attributes{"X", {}}), "call_not_found");
}

// The record's queue --------------------------------------------------------------------------

TEST(AssignQueue, SetsTheRecordsQueueOnceAndOnlyToADirectoryQueue) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.seg("C").queue, "General");  // as created
  EXPECT_EQ(f.run_names(cmd::assign_queue{"C", "Billing"}), "queue_assigned");
  EXPECT_EQ(f.seg("C").queue, "Billing");
  EXPECT_EQ(f.run_names(cmd::assign_queue{"C", "Billing"}), "") << "the same queue again";
  EXPECT_EQ(f.run_names(cmd::assign_queue{"C", "General"}), "queue_assigned");
  EXPECT_EQ(f.seg("C").queue, "General");
  EXPECT_EQ(f.rule(cmd::assign_queue{"C", "Nowhere"}), "invalid_argument");
  EXPECT_EQ(f.rule(cmd::assign_queue{"C", ""}), "invalid_argument");
  EXPECT_EQ(f.rule(cmd::assign_queue{"X", "Billing"}), "call_not_found");
}

TEST(AssignQueue, AnEndedCallKeepsItsQueue) {
  call_fixture f;
  f.inbound();
  f.run(cmd::assign_queue{"C", "Billing"});
  f.run(cmd::end_call{"C", "customer_hung_up", {}});
  EXPECT_EQ(f.rule(cmd::assign_queue{"C", "General"}), "call_ended");
  EXPECT_EQ(f.run_names(cmd::assign_queue{"C", "Billing"}), "") << "a repeat changes nothing";
  EXPECT_EQ(f.seg("C").queue, "Billing");
}

// Bounds --------------------------------------------------------------------------------------

TEST(Bounds, IdsLongerThan128BytesAreRefused) {
  call_fixture f;
  const std::string long_id(id_bytes_max + 1, 'x');
  EXPECT_EQ(f.rule(inbound_call(long_id)), "invalid_argument");
  EXPECT_EQ(f.rule(inbound_call("")), "invalid_argument");
  f.run(inbound_call(std::string(id_bytes_max, 'c')));  // exactly the bound is fine
  call_fixture g;
  g.inbound();
  EXPECT_EQ(g.rule(cmd::join{"C", long_id, participant_role::agent, ""}), "invalid_argument");
  EXPECT_EQ(g.rule(cmd::join{"C", "", participant_role::agent, ""}), "invalid_argument");
  EXPECT_EQ(g.rule(cmd::start_consult{"C", long_id, "alice", "sam", true}), "invalid_argument");
  EXPECT_EQ(g.rule(cmd::blind_transfer{"C", long_id, "bob", ""}), "invalid_argument");
  EXPECT_EQ(g.rule(cmd::join_supervisor{"C", long_id, "peggy", supervise_mode::monitor, ""}),
            "invalid_argument");
  cmd::create_call c = inbound_call();
  c.from = long_id;
  EXPECT_EQ(call_fixture{}.rule(c), "invalid_argument");
  EXPECT_EQ(g.state.version, 5u);
}

TEST(Bounds, AtMost16ParticipantsPerSegment) {
  call_fixture f;
  f.inbound();  // the customer and alice
  for (int i = 0; i < 14; ++i) {
    f.run(cmd::join{"C", fmt::format("p{}", i), participant_role::customer, ""});
  }
  const auto version = f.state.version;
  EXPECT_EQ(f.rule(cmd::join{"C", "p14", participant_role::customer, ""}), "limit_exceeded");
  EXPECT_EQ(f.state.version, version);
  // Someone leaving makes room.
  f.run(cmd::leave{"C", "p0"});
  EXPECT_EQ(f.run_names(cmd::join{"C", "p14", participant_role::customer, ""}),
            "participant_joined");
}

TEST(Bounds, AFullSegmentCannotAnswerOrMerge) {
  call_fixture f;
  f.run(inbound_call());
  for (int i = 0; i < 15; ++i) {
    f.run(cmd::join{"C", fmt::format("p{}", i), participant_role::customer, ""});
  }
  f.run(cmd::ring{"C", "alice"});
  EXPECT_EQ(f.rule(cmd::answer{"C", "alice"}), "limit_exceeded");
  f.run(cmd::leave{"C", "p0"});
  f.run(cmd::answer{"C", "alice"});
  f.consult("C", "K", "alice", "sam");
  EXPECT_EQ(f.rule(cmd::merge_conference{"C", "K"}), "limit_exceeded");
}

TEST(Bounds, AtMost64SegmentsPerConversation) {
  call_fixture f;
  f.inbound();
  for (std::size_t i = 1; i < segments_per_call_max; ++i) {
    const std::string k = fmt::format("K{}", i);
    f.run(cmd::start_consult{"C", k, "alice", "sam", false});
    f.run(cmd::cancel_consult{k});
  }
  ASSERT_EQ(f.state.segments.size(), segments_per_call_max);
  EXPECT_EQ(f.rule(cmd::start_consult{"C", "K64", "alice", "sam", false}), "limit_exceeded");
  EXPECT_EQ(f.rule(cmd::blind_transfer{"C", "D", "bob", ""}), "limit_exceeded");
  EXPECT_EQ(f.rule(cmd::join_supervisor{"C", "S", "peggy", supervise_mode::monitor, ""}),
            "limit_exceeded");
  EXPECT_EQ(f.state.segments.size(), segments_per_call_max);
}

TEST(Bounds, TextLongerThan8192BytesIsRefused) {
  call_fixture f;
  f.inbound();
  EXPECT_EQ(f.rule(cmd::add_transcript{"C", "m", "alice", "Agent", 0, 1,
                                       std::string(text_bytes_max + 1, 't')}),
            "invalid_argument");
  EXPECT_EQ(f.rule(cmd::add_conversation_event{"C", "e", false, "sentiment",
                                               std::string(text_bytes_max + 1, 'p')}),
            "invalid_argument");
  EXPECT_EQ(f.state.version, 5u);
}

// Names -------------------------------------------------------------------------------------

TEST(Names, CommandsAndEventsHaveStableNames) {
  EXPECT_EQ(command_name(cmd::complete_warm_transfer{}), "complete_warm_transfer");
  EXPECT_EQ(target_voice_call_id(cmd::complete_consult{"K"}), "K");
  EXPECT_EQ(target_voice_call_id(cmd::leave_supervisor{"S"}), "S");
  EXPECT_EQ(target_voice_call_id(cmd::hold{"C", "x"}), "C");
  EXPECT_EQ(event_type_name(evt::conference_merged{}), "conference_merged");
  EXPECT_EQ(rule_name(errc::supervisor_not_granted), "supervisor_not_granted");
  EXPECT_EQ(make_error_code(errc::call_ended).message(), "call_ended");
  EXPECT_EQ(to_string(call_disposition::in_progress), "in-progress");
  EXPECT_EQ(to_string(initiation_method::transfer), "Transfer");
}

}  // namespace
}  // namespace backline::domain::calltest
