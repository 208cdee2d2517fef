// Who hears whom (DESIGN.md, "Who hears whom"), checked through hear_matrix::render(): one line
// per listener, sorted, "listener <- speakers". The customer is "+15550001".
#include <gtest/gtest.h>

#include <string>

#include "actors/domain/call.h"
#include "tests/domain/call_fixture.h"

namespace backline::domain::calltest {
namespace {

using sm = supervise_mode;

TEST(HearMatrix, RingingAndEndedCallsAreNotOnTheMediaPlane) {
  call_fixture f;
  f.run(cmd::create_call{.voice_call_id = "C", .from = customer, .to = center});
  f.run(cmd::ring{"C", "alice"});
  EXPECT_EQ(f.hears(), "");
  f.run(cmd::answer{"C", "alice"});
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice\n"
            "alice <- +15550001\n");
  f.run(cmd::end_call{"C", ""});
  EXPECT_EQ(f.hears(), "");
}

TEST(HearMatrix, HearsAnswersPerPair) {
  call_fixture f;
  f.inbound();
  const hear_matrix m = compute_hear_matrix(f.state);
  EXPECT_EQ(m.parties.size(), 2u);
  EXPECT_TRUE(m.hears(customer, "alice"));
  EXPECT_FALSE(m.hears("alice", "alice"));
  EXPECT_FALSE(m.hears("ghost", "alice"));
  EXPECT_FALSE(m.hears("alice", "ghost"));
}

TEST(Supervision, MonitorHearsAllAndIsHeardByNobody) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", sm::monitor);
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice\n"
            "alice <- +15550001\n"
            "peggy <- +15550001,alice\n");
}

TEST(Supervision, WhisperIsNeverHeardByTheCustomer) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", sm::whisper);
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice\n"
            "alice <- +15550001,peggy\n"
            "peggy <- +15550001,alice\n");
  EXPECT_FALSE(compute_hear_matrix(f.state).hears(customer, "peggy"));
}

TEST(Supervision, BargeIsAFullParticipant) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", sm::barge);
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice,peggy\n"
            "alice <- +15550001,peggy\n"
            "peggy <- +15550001,alice\n");
}

TEST(Supervision, ModeChangesChangeTheMatrix) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", sm::barge);
  f.run(cmd::change_supervisor_mode{"S", sm::monitor, ""});
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice\n"
            "alice <- +15550001\n"
            "peggy <- +15550001,alice\n");
  f.run(cmd::change_supervisor_mode{"S", sm::whisper, ""});
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice\n"
            "alice <- +15550001,peggy\n"
            "peggy <- +15550001,alice\n");
  f.run(cmd::leave_supervisor{"S"});
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice\n"
            "alice <- +15550001\n");
}

TEST(HearMatrix, WhisperAndMonitorSupervisorsDoNotHearEachOther) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S1", "peggy", sm::whisper);
  f.supervise("C", "S2", "quentin", sm::monitor);
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice\n"
            "alice <- +15550001,peggy\n"
            "peggy <- +15550001,alice\n"
            "quentin <- +15550001,alice\n");
}

TEST(HearMatrix, BargeSupervisorIsNotHeardByAWhisperSupervisor) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S1", "peggy", sm::barge);
  f.supervise("C", "S2", "root", sm::whisper);
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice,peggy\n"
            "alice <- +15550001,peggy,root\n"
            "peggy <- +15550001,alice\n"
            "root <- +15550001,alice\n");
}

TEST(HearMatrix, WhisperCoachesOnlyTheSecondAgentInAConference) {
  call_fixture f;
  f.inbound();
  f.consult("C", "K", "alice", "bob");
  f.run(cmd::merge_conference{"C", "K"});
  f.supervise("C", "S", "peggy", sm::whisper, "bob");
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice,bob\n"
            "alice <- +15550001,bob\n"
            "bob <- +15550001,alice,peggy\n"
            "peggy <- +15550001,alice,bob\n");
}

TEST(HearMatrix, AHeldCustomerHearsNothingAndIsHeardByNobody) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", sm::barge);
  f.run(cmd::hold{"C", customer});
  EXPECT_EQ(f.hears(),
            "+15550001 <- \n"
            "alice <- peggy\n"
            "peggy <- alice\n");
}

TEST(HearMatrix, AHeldCoachedAgentDoesNotHearTheWhisper) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", sm::whisper);
  f.run(cmd::hold{"C", "alice"});
  EXPECT_EQ(f.hears(),
            "+15550001 <- \n"
            "alice <- \n"
            "peggy <- +15550001\n");
}

TEST(HearMatrix, AMutedParticipantIsHeardByNobodyButStillHears) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", sm::barge);
  f.run(cmd::mute{"C", "alice"});
  EXPECT_EQ(f.hears(),
            "+15550001 <- peggy\n"
            "alice <- +15550001,peggy\n"
            "peggy <- +15550001\n");
  f.run(cmd::unmute{"C", "alice"});
  f.run(cmd::mute{"C", customer});
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice,peggy\n"
            "alice <- peggy\n"
            "peggy <- alice\n");
}

TEST(HearMatrix, AMutedSupervisorIsHeardByNobody) {
  for (sm mode : {sm::whisper, sm::barge}) {
    call_fixture f;
    f.inbound();
    f.supervise("C", "S", "peggy", mode);
    f.run(cmd::mute{"S", "peggy"});
    EXPECT_EQ(f.hears(),
              "+15550001 <- alice\n"
              "alice <- +15550001\n"
              "peggy <- +15550001,alice\n")
        << to_string(mode);
  }
}

// Bug: a supervisor held on their session still heard the call (and, barging, was heard).
TEST(HearMatrix, AHeldSupervisorHearsNothingAndIsHeardByNobody) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", sm::barge);
  f.run(cmd::hold{"S", "peggy"});
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice\n"
            "alice <- +15550001\n"
            "peggy <- \n");
}

TEST(HearMatrix, ConsultWithTheCustomerHeld) {
  call_fixture f;
  f.inbound();
  f.consult("C", "K", "alice", "sam", true);
  EXPECT_EQ(f.hears(),
            "+15550001 <- \n"
            "alice <- sam\n"
            "sam <- alice\n");
}

TEST(HearMatrix, ConsultWithoutHoldTheCustomerHearsTheAgentButNotTheTarget) {
  call_fixture f;
  f.inbound();
  f.consult("C", "K", "alice", "sam", false);
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice\n"
            "alice <- +15550001,sam\n"
            "sam <- alice\n");
}

TEST(HearMatrix, ARingingConsultIsNotOnTheMediaPlaneYet) {
  call_fixture f;
  f.inbound();
  f.run(cmd::start_consult{"C", "K", "alice", "sam", true});
  EXPECT_EQ(f.hears(),
            "+15550001 <- \n"
            "alice <- \n");
}

TEST(HearMatrix, AfterMergeAllThreeHearEachOther) {
  call_fixture f;
  f.inbound();
  f.consult("C", "K", "alice", "sam", true);
  f.run(cmd::merge_conference{"C", "K"});
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice,sam\n"
            "alice <- +15550001,sam\n"
            "sam <- +15550001,alice\n");
}

TEST(HearMatrix, AfterWarmTransferTheCustomerAndTheTargetHearEachOther) {
  call_fixture f;
  f.inbound();
  f.consult("C", "K", "alice", "bob", true);
  f.supervise("C", "S", "peggy", sm::monitor);
  f.run(cmd::complete_warm_transfer{"C", "K", "D"});
  EXPECT_EQ(f.hears(),
            "+15550001 <- bob\n"
            "bob <- +15550001\n");
}

TEST(HearMatrix, AWhisperOnTheCustomerCallDoesNotReachTheConsult) {
  call_fixture f;
  f.inbound();
  f.supervise("C", "S", "peggy", sm::whisper);
  f.consult("C", "K", "alice", "bob", false);
  EXPECT_EQ(f.hears(),
            "+15550001 <- alice\n"
            "alice <- +15550001,bob,peggy\n"
            "bob <- alice\n"
            "peggy <- +15550001,alice\n");
}

// Bug: a supervisor answering as an agent (a consult or a direct call to them) was treated as a
// silent listener because of their role, so nobody on that call heard them or was heard by them.
TEST(HearMatrix, ASupervisorAnsweringAConsultIsHeardLikeAnyAgent) {
  call_fixture f;
  f.inbound();
  f.consult("C", "K", "alice", "peggy", true);
  EXPECT_EQ(f.who("K", "peggy").role, participant_role::supervisor);
  EXPECT_EQ(f.hears(),
            "+15550001 <- \n"
            "alice <- peggy\n"
            "peggy <- alice\n");
}

TEST(HearMatrix, ADirectCallToASupervisorIsAConversation) {
  call_fixture f;
  f.run(cmd::create_call{.voice_call_id = "I",
                         .type = call_type::internal,
                         .method = initiation_method::internal,
                         .initiator_agent = "alice",
                         .target_agent = "peggy"});
  f.run(cmd::answer{"I", "peggy"});
  EXPECT_EQ(f.hears(),
            "alice <- peggy\n"
            "peggy <- alice\n");
}

}  // namespace
}  // namespace backline::domain::calltest
