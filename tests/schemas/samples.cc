#include "tests/schemas/samples.h"

namespace backline::schemas::testing {

namespace evt = domain::evt;
namespace cmd = domain::cmd;
using domain::call_type, domain::initiation_method, domain::participant_role, domain::segment_kind,
    domain::supervise_mode;

std::vector<domain::event_body> sample_events() {
  return {
      evt::call_created{.voice_call_id = "vc-1",
                        .kind = segment_kind::consult,
                        .type = call_type::internal,
                        .method = initiation_method::callback,
                        .vendor_call_key = "amzn-connect-42",
                        .from = "+4930123456",
                        .to = "+4940987654",
                        .queue = "Billing",
                        .parent_id = "vc-0",
                        .previous_id = "vc-prev",
                        .initiator_agent = "alice",
                        .recording_allowed = true,
                        .attributes = sample_attributes()},
      evt::call_ringing{"vc-1", "alice"},
      evt::call_answered{"vc-1", "alice"},
      evt::participant_joined{"vc-1", "bob", participant_role::specialist, "2002"},
      evt::participant_left{"vc-1", "bob"},
      evt::participant_held{"vc-1", "+4930123456"},
      evt::participant_resumed{"vc-1", "+4930123456"},
      evt::participant_muted{"vc-1", "alice"},
      evt::participant_unmuted{"vc-1", "alice"},
      evt::consult_started{"vc-1", "vc-c1", "alice", "bob", true, true},
      evt::consult_completed{"vc-c1"},
      evt::consult_cancelled{"vc-c2"},
      evt::warm_transfer_completed{"vc-1", "vc-c1", "vc-2", "bob"},
      evt::blind_transferred{"vc-2", "vc-3", "carol", "Sales", "Billing"},
      evt::conference_merged{"vc-1", "vc-c3", "dave"},
      evt::supervisor_joined{"vc-1", "vc-s1", "sue", supervise_mode::whisper, "alice"},
      evt::supervisor_mode_changed{"vc-s1", supervise_mode::barge, "bob"},
      evt::supervisor_left{"vc-s1"},
      evt::call_ended{"vc-1", "customer_hung_up"},
      evt::wrap_up_recorded{"vc-1", "alice", "resolved", "refund issued\nline two"},
      evt::transcript_message_added{"vc-1", "m-1", "alice", "Agent", 1500, 4200,
                                    "Hallo, wie kann ich helfen?"},
      evt::conversation_event_recorded{"vc-1", "ce-1", true, "sentiment",
                                       R"({"score":-0.4,"label":"negative"})"},
      evt::recording_started{"vc-1", "s3://recordings/vc-1.wav"},
      evt::recording_paused{"vc-1"},
      evt::recording_resumed{"vc-1"},
      evt::recording_stopped{"vc-1"},
      evt::attributes_updated{"vc-1", sample_attributes()},
      evt::queue_assigned{"vc-1", "Billing"},
  };
}

std::vector<domain::agent_event_body> sample_agent_events() {
  namespace agent_evt = domain::agent_evt;
  return {
      agent_evt::presence_changed{domain::presence::away, "lunch"},
      agent_evt::offer_reserved{.offer_id = "of-1",
                                .voice_call_id = "vc-1",
                                .kind = domain::offer_kind::callback,
                                .queue = "Billing",
                                .callback_id = "cb-1",
                                .ring_timeout_ms = 45'000},
      agent_evt::offer_accepted{"of-1"},
      agent_evt::offer_declined{"of-2"},
      agent_evt::offer_timed_out{"of-3"},
      agent_evt::offer_withdrawn{"of-4", "went_offline"},
      agent_evt::work_released{"vc-1"},
      agent_evt::callback_requested{"cb-1", "bob", "vc-7", 1'714'564'700'000'001},
      agent_evt::callback_offered{"cb-1", "of-5"},
      agent_evt::callback_completed{"cb-1"},
      agent_evt::callback_cancelled{"cb-2"},
  };
}

std::vector<domain::queue_event_body> sample_queue_events() {
  namespace queue_evt = domain::queue_evt;
  return {
      queue_evt::enqueued{.item_id = "psr-1",
                          .voice_call_id = "vc-1",
                          .priority = -7,
                          .required_skills = {{"billing", 5}, {"german", 8}},
                          .enqueued_at_us = 1'714'564'799'000'002},
      queue_evt::dequeued{"psr-1", "alice", 42'000'003},
      queue_evt::abandoned{"psr-2", 9'000'004},
      queue_evt::routing_cleared{"psr-3"},
      queue_evt::overflowed{"psr-4", "General", 120'000'005},
      queue_evt::customer_callback_requested{"psr-5", "+4930123456"},
      queue_evt::offer_made{"psr-1", "alice", "of-1"},
      queue_evt::offer_declined{"psr-1", "of-1"},
      queue_evt::offer_timed_out{"psr-1", "of-2"},
  };
}

std::vector<domain::command_body> sample_commands() {
  return {
      cmd::create_call{.voice_call_id = "vc-1",
                       .type = call_type::outbound,
                       .method = initiation_method::transfer,
                       .vendor_call_key = "key-7",
                       .from = "2001",
                       .to = "+4940987654",
                       .queue = "Support",
                       .initiator_agent = "alice",
                       .target_agent = "bob",
                       .jurisdiction = "DE",
                       .attributes = sample_attributes(),
                       .parent_id = "vc-0"},
      cmd::ring{"vc-1", "alice"},
      cmd::answer{"vc-1", "alice"},
      cmd::join{"vc-1", "sue", participant_role::supervisor, "2009"},
      cmd::leave{"vc-1", "sue"},
      cmd::hold{"vc-1", "+4930123456"},
      cmd::resume{"vc-1", "+4930123456"},
      cmd::mute{"vc-1", "alice"},
      cmd::unmute{"vc-1", "alice"},
      cmd::start_consult{"vc-1", "vc-c1", "alice", "bob", false},
      cmd::complete_consult{"vc-c1"},
      cmd::cancel_consult{"vc-c2"},
      cmd::complete_warm_transfer{"vc-1", "vc-c1", "vc-2", "alice"},
      cmd::blind_transfer{"vc-2", "vc-3", "carol", "Sales", "bob"},
      cmd::merge_conference{"vc-1", "vc-c3", "alice"},
      cmd::join_supervisor{"vc-1", "vc-s1", "sue", supervise_mode::barge, "alice"},
      cmd::change_supervisor_mode{"vc-s1", supervise_mode::whisper, "bob", "sue"},
      cmd::leave_supervisor{"vc-s1", "sue"},
      cmd::end_call{"vc-1", "agent_hung_up", "alice"},
      cmd::wrap_up{"vc-1", "alice", "escalated", "call back tomorrow"},
      cmd::add_transcript{"vc-1", "m-2", "customer", "EndUser", -5, 9'000'000'000, "Danke."},
      cmd::add_conversation_event{"vc-1", "ce-2", true, "category", R"({"name":"refund"})"},
      cmd::start_recording{"vc-1", "file:///var/rec/vc-1.wav"},
      cmd::pause_recording{"vc-1"},
      cmd::resume_recording{"vc-1"},
      cmd::stop_recording{"vc-1"},
      cmd::update_attributes{"vc-1", sample_attributes()},
      cmd::assign_queue{"vc-1", "Billing"},
  };
}

domain::directory sample_directory() {
  domain::directory d;
  d.call_center = "acme_eu";
  d.agents = {
      {.id = "alice",
       .name = "Alice A.",
       .extension = "2001",
       .team = "billing",
       .kind = domain::agent_kind::agent,
       .skills = {{"billing", 8}, {"german", 10}},
       .grants = {},
       .capacity = 2},
      {.id = "sue",
       .name = "Sue S.",
       .extension = "2009",
       .team = "leads",
       .kind = domain::agent_kind::supervisor,
       .skills = {},
       .grants = {.monitor = {"*"}, .whisper = {"billing", "sales"}, .barge = {"billing"}},
       .capacity = 1},
      {.id = "bob",
       .name = "Bob B.",
       .extension = "2002",
       .team = "experts",
       .kind = domain::agent_kind::specialist,
       .skills = {{"tax", 9}},
       .grants = {},
       .capacity = 0},
  };
  d.queues = {{.name = "Billing",
               .extension = "3001",
               .required_skills = {{"billing", 5}},
               .strategy = domain::routing_strategy::most_skilled,
               .sla_target_s = 30,
               .overflow_after_s = 120,
               .overflow_queue = "General"},
              {.name = "General", .extension = "3000"}};
  d.channels = {{.number = "+4930123456",
                 .flow = "main",
                 .fallback_queue = "General",
                 .rules = {{"case_category", "billing", "Billing", "", {{"german", 5}}},
                           {"vip", "true", "", "alice", {}}}}};
  d.recording = {.record_inbound = false,
                 .record_outbound = true,
                 .record_internal = true,
                 .forbidden_jurisdictions = {"DE", "AT"}};
  return d;
}

envelope_meta sample_meta() {
  return {.event_id = make_uuid_v7(1'714'564'800'123, 0xABC, 0x1234'5678'9ABC'DEF0),
          .stream_kind = "call",
          .stream_id = "vc-1",
          .stream_version = 7,
          .log_position = 123'456'789,
          .occurred_at_us = 1'714'564'800'123'456,
          .correlation_id = "vc-root",
          .causation_id = "cmd-9",
          .tenant = "acme_eu",
          .principal = "alice"};
}

command_meta sample_command_meta() {
  return {.command_id = "cmd-9",
          .expected_version = 6,
          .tenant = "acme_eu",
          .principal = "alice",
          .issued_at_us = 1'714'564'800'000'001};
}

}  // namespace backline::schemas::testing
