// The call events of domain::evt <-> the tables of call.fbs, and the EventBody union dispatch.

#include <array>
#include <tuple>

#include "schemas/codec_internal.h"

namespace backline::schemas::detail {
namespace {

namespace evt = domain::evt;
using detail::from_fb;  // the enum and attribute overloads, hidden by the ones below otherwise
using detail::to_fb;

// ---- domain -> FlatBuffers -----------------------------------------------------------------

offset<fb::CallCreated> to_fb(builder& b, const evt::call_created& e) {
  auto attributes = detail::to_fb(b, e.attributes);
  return fb::CreateCallCreated(
      b, str(b, e.voice_call_id), to_fb(e.kind), to_fb(e.type), to_fb(e.method),
      str(b, e.vendor_call_key), str(b, e.from), str(b, e.to), str(b, e.queue), str(b, e.parent_id),
      str(b, e.previous_id), str(b, e.initiator_agent), e.recording_allowed, attributes);
}
offset<fb::CallRinging> to_fb(builder& b, const evt::call_ringing& e) {
  return fb::CreateCallRinging(b, str(b, e.voice_call_id), str(b, e.agent_id));
}
offset<fb::CallAnswered> to_fb(builder& b, const evt::call_answered& e) {
  return fb::CreateCallAnswered(b, str(b, e.voice_call_id), str(b, e.agent_id));
}
offset<fb::ParticipantJoined> to_fb(builder& b, const evt::participant_joined& e) {
  return fb::CreateParticipantJoined(b, str(b, e.voice_call_id), str(b, e.participant_id),
                                     to_fb(e.role), str(b, e.number));
}
offset<fb::ParticipantLeft> to_fb(builder& b, const evt::participant_left& e) {
  return fb::CreateParticipantLeft(b, str(b, e.voice_call_id), str(b, e.participant_id));
}
offset<fb::ParticipantHeld> to_fb(builder& b, const evt::participant_held& e) {
  return fb::CreateParticipantHeld(b, str(b, e.voice_call_id), str(b, e.participant_id));
}
offset<fb::ParticipantResumed> to_fb(builder& b, const evt::participant_resumed& e) {
  return fb::CreateParticipantResumed(b, str(b, e.voice_call_id), str(b, e.participant_id));
}
offset<fb::ParticipantMuted> to_fb(builder& b, const evt::participant_muted& e) {
  return fb::CreateParticipantMuted(b, str(b, e.voice_call_id), str(b, e.participant_id));
}
offset<fb::ParticipantUnmuted> to_fb(builder& b, const evt::participant_unmuted& e) {
  return fb::CreateParticipantUnmuted(b, str(b, e.voice_call_id), str(b, e.participant_id));
}
offset<fb::ConsultStarted> to_fb(builder& b, const evt::consult_started& e) {
  return fb::CreateConsultStarted(b, str(b, e.voice_call_id), str(b, e.consult_call_id),
                                  str(b, e.initiator_agent), str(b, e.target_agent),
                                  e.customer_held, e.recording_allowed);
}
offset<fb::ConsultCompleted> to_fb(builder& b, const evt::consult_completed& e) {
  return fb::CreateConsultCompleted(b, str(b, e.consult_call_id));
}
offset<fb::ConsultCancelled> to_fb(builder& b, const evt::consult_cancelled& e) {
  return fb::CreateConsultCancelled(b, str(b, e.consult_call_id));
}
offset<fb::WarmTransferCompleted> to_fb(builder& b, const evt::warm_transfer_completed& e) {
  return fb::CreateWarmTransferCompleted(b, str(b, e.voice_call_id), str(b, e.consult_call_id),
                                         str(b, e.new_segment_id), str(b, e.target_agent));
}
offset<fb::BlindTransferred> to_fb(builder& b, const evt::blind_transferred& e) {
  return fb::CreateBlindTransferred(b, str(b, e.voice_call_id), str(b, e.new_segment_id),
                                    str(b, e.target_agent), str(b, e.target_queue),
                                    str(b, e.fallback_queue));
}
offset<fb::ConferenceMerged> to_fb(builder& b, const evt::conference_merged& e) {
  return fb::CreateConferenceMerged(b, str(b, e.voice_call_id), str(b, e.consult_call_id),
                                    str(b, e.target_agent));
}
offset<fb::SupervisorJoined> to_fb(builder& b, const evt::supervisor_joined& e) {
  return fb::CreateSupervisorJoined(b, str(b, e.voice_call_id), str(b, e.session_id),
                                    str(b, e.supervisor_id), to_fb(e.mode),
                                    str(b, e.coached_agent));
}
offset<fb::SupervisorModeChanged> to_fb(builder& b, const evt::supervisor_mode_changed& e) {
  return fb::CreateSupervisorModeChanged(b, str(b, e.session_id), to_fb(e.mode),
                                         str(b, e.coached_agent));
}
offset<fb::SupervisorLeft> to_fb(builder& b, const evt::supervisor_left& e) {
  return fb::CreateSupervisorLeft(b, str(b, e.session_id));
}
offset<fb::CallEnded> to_fb(builder& b, const evt::call_ended& e) {
  return fb::CreateCallEnded(b, str(b, e.voice_call_id), str(b, e.reason));
}
offset<fb::WrapUpRecorded> to_fb(builder& b, const evt::wrap_up_recorded& e) {
  return fb::CreateWrapUpRecorded(b, str(b, e.voice_call_id), str(b, e.agent_id),
                                  str(b, e.disposition_code), str(b, e.notes));
}
offset<fb::TranscriptMessageAdded> to_fb(builder& b, const evt::transcript_message_added& e) {
  return fb::CreateTranscriptMessageAdded(b, str(b, e.voice_call_id), str(b, e.message_id),
                                          str(b, e.speaker), str(b, e.sender_type), e.start_ms,
                                          e.end_ms, str(b, e.text));
}
offset<fb::ConversationEventRecorded> to_fb(builder& b, const evt::conversation_event_recorded& e) {
  return fb::CreateConversationEventRecorded(b, str(b, e.voice_call_id), str(b, e.event_id),
                                             e.post_call, str(b, e.type), str(b, e.payload));
}
offset<fb::RecordingStarted> to_fb(builder& b, const evt::recording_started& e) {
  return fb::CreateRecordingStarted(b, str(b, e.voice_call_id), str(b, e.location));
}
offset<fb::RecordingPaused> to_fb(builder& b, const evt::recording_paused& e) {
  return fb::CreateRecordingPaused(b, str(b, e.voice_call_id));
}
offset<fb::RecordingResumed> to_fb(builder& b, const evt::recording_resumed& e) {
  return fb::CreateRecordingResumed(b, str(b, e.voice_call_id));
}
offset<fb::RecordingStopped> to_fb(builder& b, const evt::recording_stopped& e) {
  return fb::CreateRecordingStopped(b, str(b, e.voice_call_id));
}
offset<fb::AttributesUpdated> to_fb(builder& b, const evt::attributes_updated& e) {
  auto attributes = detail::to_fb(b, e.attributes);
  return fb::CreateAttributesUpdated(b, str(b, e.voice_call_id), attributes);
}
offset<fb::QueueAssigned> to_fb(builder& b, const evt::queue_assigned& e) {
  return fb::CreateQueueAssigned(b, str(b, e.voice_call_id), str(b, e.queue));
}

// ---- FlatBuffers -> domain -----------------------------------------------------------------

evt::call_created from_fb(const fb::CallCreated& t, reader& r) {
  return {.voice_call_id = str(t.voice_call_id()),
          .kind = from_fb(t.kind(), r),
          .type = from_fb(t.type(), r),
          .method = from_fb(t.method(), r),
          .vendor_call_key = str(t.vendor_call_key()),
          .from = str(t.from()),
          .to = str(t.to()),
          .queue = str(t.queue()),
          .parent_id = str(t.parent_id()),
          .previous_id = str(t.previous_id()),
          .initiator_agent = str(t.initiator_agent()),
          .recording_allowed = t.recording_allowed(),
          .attributes = detail::from_fb(t.attributes())};
}
evt::call_ringing from_fb(const fb::CallRinging& t, reader&) {
  return {str(t.voice_call_id()), str(t.agent_id())};
}
evt::call_answered from_fb(const fb::CallAnswered& t, reader&) {
  return {str(t.voice_call_id()), str(t.agent_id())};
}
evt::participant_joined from_fb(const fb::ParticipantJoined& t, reader& r) {
  return {.voice_call_id = str(t.voice_call_id()),
          .participant_id = str(t.participant_id()),
          .role = from_fb(t.role(), r),
          .number = str(t.number())};
}
evt::participant_left from_fb(const fb::ParticipantLeft& t, reader&) {
  return {str(t.voice_call_id()), str(t.participant_id())};
}
evt::participant_held from_fb(const fb::ParticipantHeld& t, reader&) {
  return {str(t.voice_call_id()), str(t.participant_id())};
}
evt::participant_resumed from_fb(const fb::ParticipantResumed& t, reader&) {
  return {str(t.voice_call_id()), str(t.participant_id())};
}
evt::participant_muted from_fb(const fb::ParticipantMuted& t, reader&) {
  return {str(t.voice_call_id()), str(t.participant_id())};
}
evt::participant_unmuted from_fb(const fb::ParticipantUnmuted& t, reader&) {
  return {str(t.voice_call_id()), str(t.participant_id())};
}
evt::consult_started from_fb(const fb::ConsultStarted& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .consult_call_id = str(t.consult_call_id()),
          .initiator_agent = str(t.initiator_agent()),
          .target_agent = str(t.target_agent()),
          .customer_held = t.customer_held(),
          .recording_allowed = t.recording_allowed()};
}
evt::consult_completed from_fb(const fb::ConsultCompleted& t, reader&) {
  return {str(t.consult_call_id())};
}
evt::consult_cancelled from_fb(const fb::ConsultCancelled& t, reader&) {
  return {str(t.consult_call_id())};
}
evt::warm_transfer_completed from_fb(const fb::WarmTransferCompleted& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .consult_call_id = str(t.consult_call_id()),
          .new_segment_id = str(t.new_segment_id()),
          .target_agent = str(t.target_agent())};
}
evt::blind_transferred from_fb(const fb::BlindTransferred& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .new_segment_id = str(t.new_segment_id()),
          .target_agent = str(t.target_agent()),
          .target_queue = str(t.target_queue()),
          .fallback_queue = str(t.fallback_queue())};
}
evt::conference_merged from_fb(const fb::ConferenceMerged& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .consult_call_id = str(t.consult_call_id()),
          .target_agent = str(t.target_agent())};
}
evt::supervisor_joined from_fb(const fb::SupervisorJoined& t, reader& r) {
  return {.voice_call_id = str(t.voice_call_id()),
          .session_id = str(t.session_id()),
          .supervisor_id = str(t.supervisor_id()),
          .mode = from_fb(t.mode(), r),
          .coached_agent = str(t.coached_agent())};
}
evt::supervisor_mode_changed from_fb(const fb::SupervisorModeChanged& t, reader& r) {
  return {.session_id = str(t.session_id()),
          .mode = from_fb(t.mode(), r),
          .coached_agent = str(t.coached_agent())};
}
evt::supervisor_left from_fb(const fb::SupervisorLeft& t, reader&) {
  return {str(t.session_id())};
}
evt::call_ended from_fb(const fb::CallEnded& t, reader&) {
  return {str(t.voice_call_id()), str(t.reason())};
}
evt::wrap_up_recorded from_fb(const fb::WrapUpRecorded& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .agent_id = str(t.agent_id()),
          .disposition_code = str(t.disposition_code()),
          .notes = str(t.notes())};
}
evt::transcript_message_added from_fb(const fb::TranscriptMessageAdded& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .message_id = str(t.message_id()),
          .speaker = str(t.speaker()),
          .sender_type = str(t.sender_type()),
          .start_ms = t.start_ms(),
          .end_ms = t.end_ms(),
          .text = str(t.text())};
}
evt::conversation_event_recorded from_fb(const fb::ConversationEventRecorded& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .event_id = str(t.event_id()),
          .post_call = t.post_call(),
          .type = str(t.type()),
          .payload = str(t.payload())};
}
evt::recording_started from_fb(const fb::RecordingStarted& t, reader&) {
  return {str(t.voice_call_id()), str(t.location())};
}
evt::recording_paused from_fb(const fb::RecordingPaused& t, reader&) {
  return {str(t.voice_call_id())};
}
evt::recording_resumed from_fb(const fb::RecordingResumed& t, reader&) {
  return {str(t.voice_call_id())};
}
evt::recording_stopped from_fb(const fb::RecordingStopped& t, reader&) {
  return {str(t.voice_call_id())};
}
evt::attributes_updated from_fb(const fb::AttributesUpdated& t, reader&) {
  return {str(t.voice_call_id()), detail::from_fb(t.attributes())};
}
evt::queue_assigned from_fb(const fb::QueueAssigned& t, reader&) {
  return {str(t.voice_call_id()), str(t.queue())};
}

// ---- the union -----------------------------------------------------------------------------

// The tables in domain::event_body's order; the union tag of alternative I is I + 1.
using event_tables = std::tuple<
    fb::CallCreated, fb::CallRinging, fb::CallAnswered, fb::ParticipantJoined, fb::ParticipantLeft,
    fb::ParticipantHeld, fb::ParticipantResumed, fb::ParticipantMuted, fb::ParticipantUnmuted,
    fb::ConsultStarted, fb::ConsultCompleted, fb::ConsultCancelled, fb::WarmTransferCompleted,
    fb::BlindTransferred, fb::ConferenceMerged, fb::SupervisorJoined, fb::SupervisorModeChanged,
    fb::SupervisorLeft, fb::CallEnded, fb::WrapUpRecorded, fb::TranscriptMessageAdded,
    fb::ConversationEventRecorded, fb::RecordingStarted, fb::RecordingPaused, fb::RecordingResumed,
    fb::RecordingStopped, fb::AttributesUpdated, fb::QueueAssigned>;

// The overload sets above, for detail::event_union.
struct fns {
  template <class E>
  static auto encode(builder& b, const E& e) {
    return to_fb(b, e);
  }
  template <class T>
  static auto decode(const T& t, reader& r) {
    return from_fb(t, r);
  }
};
using codec = event_union<domain::event_body, event_tables, 1, fns>;

}  // namespace

std::pair<fb::EventBody, offset<void>> encode_event_body(builder& b, const domain::event_body& e) {
  return codec::encode(b, e);
}

std::expected<domain::event_body, errc> decode_event_body(fb::EventBody type, const void* table) {
  return codec::decode(type, table);
}

}  // namespace backline::schemas::detail
