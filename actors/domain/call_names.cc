// Names of the call domain's enums, commands and events (stable: they appear in APIs and logs).
#include <type_traits>

#include "actors/domain/call.h"

namespace backline::domain {

std::string_view to_string(call_type v) {
  static constexpr std::string_view names[] = {"Inbound", "Outbound", "Internal"};
  return names[static_cast<int>(v)];
}
std::string_view to_string(initiation_method v) {
  static constexpr std::string_view names[] = {"Inbound", "Outbound", "Transfer", "Callback",
                                               "Internal"};
  return names[static_cast<int>(v)];
}
std::string_view to_string(participant_role v) {
  static constexpr std::string_view names[] = {"customer", "agent", "supervisor", "specialist"};
  return names[static_cast<int>(v)];
}
std::string_view to_string(segment_kind v) {
  static constexpr std::string_view names[] = {"customer", "direct", "consult", "supervision"};
  return names[static_cast<int>(v)];
}
std::string_view to_string(segment_status v) {
  static constexpr std::string_view names[] = {"ringing", "connected", "ended"};
  return names[static_cast<int>(v)];
}
std::string_view to_string(call_disposition v) {
  static constexpr std::string_view names[] = {"new", "in-progress", "completed"};
  return names[static_cast<int>(v)];
}
std::string_view to_string(recording_state v) {
  static constexpr std::string_view names[] = {"none", "recording", "paused", "stopped"};
  return names[static_cast<int>(v)];
}

namespace {
template <class T>
struct type_name;
#define BACKLINE_NAME(ns, t) \
  template <>                \
  struct type_name<ns::t> {  \
    static constexpr std::string_view value = #t; \
  };
BACKLINE_NAME(cmd, create_call)
BACKLINE_NAME(cmd, ring)
BACKLINE_NAME(cmd, answer)
BACKLINE_NAME(cmd, join)
BACKLINE_NAME(cmd, leave)
BACKLINE_NAME(cmd, hold)
BACKLINE_NAME(cmd, resume)
BACKLINE_NAME(cmd, mute)
BACKLINE_NAME(cmd, unmute)
BACKLINE_NAME(cmd, start_consult)
BACKLINE_NAME(cmd, complete_consult)
BACKLINE_NAME(cmd, cancel_consult)
BACKLINE_NAME(cmd, complete_warm_transfer)
BACKLINE_NAME(cmd, blind_transfer)
BACKLINE_NAME(cmd, merge_conference)
BACKLINE_NAME(cmd, join_supervisor)
BACKLINE_NAME(cmd, change_supervisor_mode)
BACKLINE_NAME(cmd, leave_supervisor)
BACKLINE_NAME(cmd, end_call)
BACKLINE_NAME(cmd, wrap_up)
BACKLINE_NAME(cmd, add_transcript)
BACKLINE_NAME(cmd, add_conversation_event)
BACKLINE_NAME(cmd, start_recording)
BACKLINE_NAME(cmd, pause_recording)
BACKLINE_NAME(cmd, resume_recording)
BACKLINE_NAME(cmd, stop_recording)
BACKLINE_NAME(cmd, update_attributes)
BACKLINE_NAME(cmd, assign_queue)
BACKLINE_NAME(evt, call_created)
BACKLINE_NAME(evt, call_ringing)
BACKLINE_NAME(evt, call_answered)
BACKLINE_NAME(evt, participant_joined)
BACKLINE_NAME(evt, participant_left)
BACKLINE_NAME(evt, participant_held)
BACKLINE_NAME(evt, participant_resumed)
BACKLINE_NAME(evt, participant_muted)
BACKLINE_NAME(evt, participant_unmuted)
BACKLINE_NAME(evt, consult_started)
BACKLINE_NAME(evt, consult_completed)
BACKLINE_NAME(evt, consult_cancelled)
BACKLINE_NAME(evt, warm_transfer_completed)
BACKLINE_NAME(evt, blind_transferred)
BACKLINE_NAME(evt, conference_merged)
BACKLINE_NAME(evt, supervisor_joined)
BACKLINE_NAME(evt, supervisor_mode_changed)
BACKLINE_NAME(evt, supervisor_left)
BACKLINE_NAME(evt, call_ended)
BACKLINE_NAME(evt, wrap_up_recorded)
BACKLINE_NAME(evt, transcript_message_added)
BACKLINE_NAME(evt, conversation_event_recorded)
BACKLINE_NAME(evt, recording_started)
BACKLINE_NAME(evt, recording_paused)
BACKLINE_NAME(evt, recording_resumed)
BACKLINE_NAME(evt, recording_stopped)
BACKLINE_NAME(evt, attributes_updated)
BACKLINE_NAME(evt, queue_assigned)
#undef BACKLINE_NAME

// The voice call a command addresses: the first id field of each command.
template <class C>
const std::string& addressed(const C& c) {
  if constexpr (requires { c.voice_call_id; }) {
    return c.voice_call_id;
  } else if constexpr (requires { c.consult_call_id; }) {
    return c.consult_call_id;
  } else {
    return c.session_id;
  }
}
}  // namespace

const std::string& target_voice_call_id(const command_body& c) {
  return std::visit([](const auto& x) -> const std::string& { return addressed(x); }, c);
}

std::string_view command_name(const command_body& c) {
  return std::visit(
      [](const auto& x) { return type_name<std::decay_t<decltype(x)>>::value; }, c);
}

std::string_view event_type_name(const event_body& e) {
  return std::visit(
      [](const auto& x) { return type_name<std::decay_t<decltype(x)>>::value; }, e);
}

}  // namespace backline::domain
