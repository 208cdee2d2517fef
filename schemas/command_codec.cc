// The commands of domain::cmd <-> the tables of command.fbs, the CommandBody union dispatch and
// the Command root table ("BLCM").

#include <array>
#include <cassert>
#include <cstring>
#include <tuple>
#include <vector>

#include "schemas/codec_internal.h"

namespace backline::schemas {
namespace detail {
namespace {

namespace cmd = domain::cmd;
using detail::from_fb;  // the enum and attribute overloads, hidden by the ones below otherwise
using detail::to_fb;

// ---- domain -> FlatBuffers -----------------------------------------------------------------

offset<fb::CreateCall> to_fb(builder& b, const cmd::create_call& c) {
  auto attributes = detail::to_fb(b, c.attributes);
  return fb::CreateCreateCall(b, str(b, c.voice_call_id), to_fb(c.type), to_fb(c.method),
                              str(b, c.vendor_call_key), str(b, c.from), str(b, c.to),
                              str(b, c.queue), str(b, c.initiator_agent), str(b, c.target_agent),
                              str(b, c.jurisdiction), attributes, str(b, c.parent_id));
}
offset<fb::Ring> to_fb(builder& b, const cmd::ring& c) {
  return fb::CreateRing(b, str(b, c.voice_call_id), str(b, c.agent_id));
}
offset<fb::Answer> to_fb(builder& b, const cmd::answer& c) {
  return fb::CreateAnswer(b, str(b, c.voice_call_id), str(b, c.agent_id));
}
offset<fb::Join> to_fb(builder& b, const cmd::join& c) {
  return fb::CreateJoin(b, str(b, c.voice_call_id), str(b, c.participant_id), to_fb(c.role),
                        str(b, c.number));
}
offset<fb::Leave> to_fb(builder& b, const cmd::leave& c) {
  return fb::CreateLeave(b, str(b, c.voice_call_id), str(b, c.participant_id));
}
offset<fb::Hold> to_fb(builder& b, const cmd::hold& c) {
  return fb::CreateHold(b, str(b, c.voice_call_id), str(b, c.participant_id));
}
offset<fb::Resume> to_fb(builder& b, const cmd::resume& c) {
  return fb::CreateResume(b, str(b, c.voice_call_id), str(b, c.participant_id));
}
offset<fb::Mute> to_fb(builder& b, const cmd::mute& c) {
  return fb::CreateMute(b, str(b, c.voice_call_id), str(b, c.participant_id));
}
offset<fb::Unmute> to_fb(builder& b, const cmd::unmute& c) {
  return fb::CreateUnmute(b, str(b, c.voice_call_id), str(b, c.participant_id));
}
offset<fb::StartConsult> to_fb(builder& b, const cmd::start_consult& c) {
  return fb::CreateStartConsult(b, str(b, c.voice_call_id), str(b, c.consult_call_id),
                                str(b, c.initiator_agent), str(b, c.target_agent), c.hold_customer);
}
offset<fb::CompleteConsult> to_fb(builder& b, const cmd::complete_consult& c) {
  return fb::CreateCompleteConsult(b, str(b, c.consult_call_id));
}
offset<fb::CancelConsult> to_fb(builder& b, const cmd::cancel_consult& c) {
  return fb::CreateCancelConsult(b, str(b, c.consult_call_id));
}
offset<fb::CompleteWarmTransfer> to_fb(builder& b, const cmd::complete_warm_transfer& c) {
  return fb::CreateCompleteWarmTransfer(b, str(b, c.voice_call_id), str(b, c.consult_call_id),
                                        str(b, c.new_segment_id), str(b, c.acting_agent));
}
offset<fb::BlindTransfer> to_fb(builder& b, const cmd::blind_transfer& c) {
  return fb::CreateBlindTransfer(b, str(b, c.voice_call_id), str(b, c.new_segment_id),
                                 str(b, c.target_agent), str(b, c.target_queue),
                                 str(b, c.acting_agent));
}
offset<fb::MergeConference> to_fb(builder& b, const cmd::merge_conference& c) {
  return fb::CreateMergeConference(b, str(b, c.voice_call_id), str(b, c.consult_call_id),
                                   str(b, c.acting_agent));
}
offset<fb::JoinSupervisor> to_fb(builder& b, const cmd::join_supervisor& c) {
  return fb::CreateJoinSupervisor(b, str(b, c.voice_call_id), str(b, c.session_id),
                                  str(b, c.supervisor_id), to_fb(c.mode), str(b, c.coached_agent));
}
offset<fb::ChangeSupervisorMode> to_fb(builder& b, const cmd::change_supervisor_mode& c) {
  return fb::CreateChangeSupervisorMode(b, str(b, c.session_id), to_fb(c.mode),
                                        str(b, c.coached_agent), str(b, c.supervisor_id));
}
offset<fb::LeaveSupervisor> to_fb(builder& b, const cmd::leave_supervisor& c) {
  return fb::CreateLeaveSupervisor(b, str(b, c.session_id), str(b, c.supervisor_id));
}
offset<fb::EndCall> to_fb(builder& b, const cmd::end_call& c) {
  return fb::CreateEndCall(b, str(b, c.voice_call_id), str(b, c.reason), str(b, c.acting_agent));
}
offset<fb::WrapUp> to_fb(builder& b, const cmd::wrap_up& c) {
  return fb::CreateWrapUp(b, str(b, c.voice_call_id), str(b, c.agent_id),
                          str(b, c.disposition_code), str(b, c.notes));
}
offset<fb::AddTranscript> to_fb(builder& b, const cmd::add_transcript& c) {
  return fb::CreateAddTranscript(b, str(b, c.voice_call_id), str(b, c.message_id),
                                 str(b, c.speaker), str(b, c.sender_type), c.start_ms, c.end_ms,
                                 str(b, c.text));
}
offset<fb::AddConversationEvent> to_fb(builder& b, const cmd::add_conversation_event& c) {
  return fb::CreateAddConversationEvent(b, str(b, c.voice_call_id), str(b, c.event_id), c.post_call,
                                        str(b, c.type), str(b, c.payload));
}
offset<fb::StartRecording> to_fb(builder& b, const cmd::start_recording& c) {
  return fb::CreateStartRecording(b, str(b, c.voice_call_id), str(b, c.location));
}
offset<fb::PauseRecording> to_fb(builder& b, const cmd::pause_recording& c) {
  return fb::CreatePauseRecording(b, str(b, c.voice_call_id));
}
offset<fb::ResumeRecording> to_fb(builder& b, const cmd::resume_recording& c) {
  return fb::CreateResumeRecording(b, str(b, c.voice_call_id));
}
offset<fb::StopRecording> to_fb(builder& b, const cmd::stop_recording& c) {
  return fb::CreateStopRecording(b, str(b, c.voice_call_id));
}
offset<fb::UpdateAttributes> to_fb(builder& b, const cmd::update_attributes& c) {
  auto attributes = detail::to_fb(b, c.attributes);
  return fb::CreateUpdateAttributes(b, str(b, c.voice_call_id), attributes);
}
offset<fb::AssignQueue> to_fb(builder& b, const cmd::assign_queue& c) {
  return fb::CreateAssignQueue(b, str(b, c.voice_call_id), str(b, c.queue));
}

// ---- FlatBuffers -> domain -----------------------------------------------------------------

cmd::create_call from_fb(const fb::CreateCall& t, reader& r) {
  return {.voice_call_id = str(t.voice_call_id()),
          .type = from_fb(t.type(), r),
          .method = from_fb(t.method(), r),
          .vendor_call_key = str(t.vendor_call_key()),
          .from = str(t.from()),
          .to = str(t.to()),
          .queue = str(t.queue()),
          .initiator_agent = str(t.initiator_agent()),
          .target_agent = str(t.target_agent()),
          .jurisdiction = str(t.jurisdiction()),
          .attributes = detail::from_fb(t.attributes()),
          .parent_id = str(t.parent_id())};
}
cmd::ring from_fb(const fb::Ring& t, reader&) {
  return {str(t.voice_call_id()), str(t.agent_id())};
}
cmd::answer from_fb(const fb::Answer& t, reader&) {
  return {str(t.voice_call_id()), str(t.agent_id())};
}
cmd::join from_fb(const fb::Join& t, reader& r) {
  return {.voice_call_id = str(t.voice_call_id()),
          .participant_id = str(t.participant_id()),
          .role = from_fb(t.role(), r),
          .number = str(t.number())};
}
cmd::leave from_fb(const fb::Leave& t, reader&) {
  return {str(t.voice_call_id()), str(t.participant_id())};
}
cmd::hold from_fb(const fb::Hold& t, reader&) {
  return {str(t.voice_call_id()), str(t.participant_id())};
}
cmd::resume from_fb(const fb::Resume& t, reader&) {
  return {str(t.voice_call_id()), str(t.participant_id())};
}
cmd::mute from_fb(const fb::Mute& t, reader&) {
  return {str(t.voice_call_id()), str(t.participant_id())};
}
cmd::unmute from_fb(const fb::Unmute& t, reader&) {
  return {str(t.voice_call_id()), str(t.participant_id())};
}
cmd::start_consult from_fb(const fb::StartConsult& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .consult_call_id = str(t.consult_call_id()),
          .initiator_agent = str(t.initiator_agent()),
          .target_agent = str(t.target_agent()),
          .hold_customer = t.hold_customer()};
}
cmd::complete_consult from_fb(const fb::CompleteConsult& t, reader&) {
  return {str(t.consult_call_id())};
}
cmd::cancel_consult from_fb(const fb::CancelConsult& t, reader&) {
  return {str(t.consult_call_id())};
}
cmd::complete_warm_transfer from_fb(const fb::CompleteWarmTransfer& t, reader&) {
  return {str(t.voice_call_id()), str(t.consult_call_id()), str(t.new_segment_id()),
          str(t.acting_agent())};
}
cmd::blind_transfer from_fb(const fb::BlindTransfer& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .new_segment_id = str(t.new_segment_id()),
          .target_agent = str(t.target_agent()),
          .target_queue = str(t.target_queue()),
          .acting_agent = str(t.acting_agent())};
}
cmd::merge_conference from_fb(const fb::MergeConference& t, reader&) {
  return {str(t.voice_call_id()), str(t.consult_call_id()), str(t.acting_agent())};
}
cmd::join_supervisor from_fb(const fb::JoinSupervisor& t, reader& r) {
  return {.voice_call_id = str(t.voice_call_id()),
          .session_id = str(t.session_id()),
          .supervisor_id = str(t.supervisor_id()),
          .mode = from_fb(t.mode(), r),
          .coached_agent = str(t.coached_agent())};
}
cmd::change_supervisor_mode from_fb(const fb::ChangeSupervisorMode& t, reader& r) {
  return {.session_id = str(t.session_id()),
          .mode = from_fb(t.mode(), r),
          .coached_agent = str(t.coached_agent()),
          .supervisor_id = str(t.supervisor_id())};
}
cmd::leave_supervisor from_fb(const fb::LeaveSupervisor& t, reader&) {
  return {str(t.session_id()), str(t.supervisor_id())};
}
cmd::end_call from_fb(const fb::EndCall& t, reader&) {
  return {str(t.voice_call_id()), str(t.reason()), str(t.acting_agent())};
}
cmd::wrap_up from_fb(const fb::WrapUp& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .agent_id = str(t.agent_id()),
          .disposition_code = str(t.disposition_code()),
          .notes = str(t.notes())};
}
cmd::add_transcript from_fb(const fb::AddTranscript& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .message_id = str(t.message_id()),
          .speaker = str(t.speaker()),
          .sender_type = str(t.sender_type()),
          .start_ms = t.start_ms(),
          .end_ms = t.end_ms(),
          .text = str(t.text())};
}
cmd::add_conversation_event from_fb(const fb::AddConversationEvent& t, reader&) {
  return {.voice_call_id = str(t.voice_call_id()),
          .event_id = str(t.event_id()),
          .post_call = t.post_call(),
          .type = str(t.type()),
          .payload = str(t.payload())};
}
cmd::start_recording from_fb(const fb::StartRecording& t, reader&) {
  return {str(t.voice_call_id()), str(t.location())};
}
cmd::pause_recording from_fb(const fb::PauseRecording& t, reader&) {
  return {str(t.voice_call_id())};
}
cmd::resume_recording from_fb(const fb::ResumeRecording& t, reader&) {
  return {str(t.voice_call_id())};
}
cmd::stop_recording from_fb(const fb::StopRecording& t, reader&) {
  return {str(t.voice_call_id())};
}
cmd::update_attributes from_fb(const fb::UpdateAttributes& t, reader&) {
  return {str(t.voice_call_id()), detail::from_fb(t.attributes())};
}
cmd::assign_queue from_fb(const fb::AssignQueue& t, reader&) {
  return {str(t.voice_call_id()), str(t.queue())};
}

// ---- the union -----------------------------------------------------------------------------

// The tables in domain::command_body's order; the union tag of alternative I is I + 1.
using command_tables =
    std::tuple<fb::CreateCall, fb::Ring, fb::Answer, fb::Join, fb::Leave, fb::Hold, fb::Resume,
               fb::Mute, fb::Unmute, fb::StartConsult, fb::CompleteConsult, fb::CancelConsult,
               fb::CompleteWarmTransfer, fb::BlindTransfer, fb::MergeConference, fb::JoinSupervisor,
               fb::ChangeSupervisorMode, fb::LeaveSupervisor, fb::EndCall, fb::WrapUp,
               fb::AddTranscript, fb::AddConversationEvent, fb::StartRecording, fb::PauseRecording,
               fb::ResumeRecording, fb::StopRecording, fb::UpdateAttributes, fb::AssignQueue>;
static_assert(std::tuple_size_v<command_tables> == std::variant_size_v<domain::command_body>);

template <std::size_t I>
domain::command_body decode_one(const void* table, reader& r) {
  using table_t = std::tuple_element_t<I, command_tables>;
  static_assert(static_cast<std::size_t>(fb::CommandBodyTraits<table_t>::enum_value) == I + 1,
                "CommandBody tag must equal the command_body alternative index + 1");
  auto c = from_fb(*static_cast<const table_t*>(table), r);
  static_assert(std::is_same_v<decltype(c), std::variant_alternative_t<I, domain::command_body>>);
  return c;
}

template <std::size_t... I>
constexpr auto make_decoders(std::index_sequence<I...>) {
  using fn = domain::command_body (*)(const void*, reader&);
  return std::array<fn, sizeof...(I)>{&decode_one<I>...};
}
constexpr auto decoders =
    make_decoders(std::make_index_sequence<std::tuple_size_v<command_tables>>());

}  // namespace

std::pair<fb::CommandBody, offset<void>> encode_command_body(builder& b,
                                                             const domain::command_body& c) {
  return std::visit(
      [&b](const auto& v) {
        using table_t = typename offset_target<decltype(to_fb(b, v))>::type;
        using command_t = std::decay_t<decltype(v)>;
        constexpr auto tag = fb::CommandBodyTraits<table_t>::enum_value;
        static_assert(static_cast<std::size_t>(tag) ==
                      variant_index<domain::command_body, command_t>() + 1);
        return std::pair(tag, to_fb(b, v).Union());
      },
      c);
}

std::expected<domain::command_body, errc> decode_command_body(fb::CommandBody type,
                                                              const void* table) {
  const auto tag = static_cast<std::size_t>(type);
  if (tag == 0 || tag > decoders.size()) return std::unexpected(errc::unknown_body);
  if (table == nullptr) return std::unexpected(errc::verification_failed);
  reader r;
  domain::command_body c = decoders[tag - 1](table, r);
  if (r.invalid_value) return std::unexpected(errc::invalid_value);
  return c;
}

}  // namespace detail

std::string encode_command(const command_meta& meta, const domain::command_body& c) {
  detail::builder& b = detail::thread_builder();
  auto [type, table] = detail::encode_command_body(b, c);
  auto command_id = detail::str(b, meta.command_id);
  auto tenant = detail::str(b, meta.tenant);
  auto principal = detail::str(b, meta.principal);
  auto root = fb::CreateCommand(b, command_id, meta.expected_version, tenant, principal,
                                meta.issued_at_us, type, table);
  fb::FinishCommandBuffer(b, root);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

namespace {
// The root table of `bytes` once verified, or null. May point into the per-thread scratch copy.
const fb::Command* verified_command(std::string_view bytes) {
  if (bytes.size() < sizeof(flatbuffers::uoffset_t) + flatbuffers::kFileIdentifierLength ||
      bytes.size() > command_bytes_max) {
    return nullptr;
  }
  const std::uint8_t* data = detail::aligned(bytes);
  if (!fb::CommandBufferHasIdentifier(data)) return nullptr;
  flatbuffers::Verifier v(data, bytes.size(), detail::verifier_options());
  return fb::VerifyCommandBuffer(v) ? fb::GetCommand(data) : nullptr;
}
}  // namespace

bool verify_command(std::string_view bytes) {
  return verified_command(bytes) != nullptr;
}

std::expected<std::pair<command_meta, domain::command_body>, std::error_code> decode_command(
    std::string_view bytes) {
  const fb::Command* c = verified_command(bytes);
  if (c == nullptr) return std::unexpected(errc::verification_failed);
  auto body = detail::decode_command_body(c->body_type(), c->body());
  if (!body) return std::unexpected(body.error());
  command_meta meta{.command_id = detail::str(c->command_id()),
                    .expected_version = c->expected_version(),
                    .tenant = detail::str(c->tenant()),
                    .principal = detail::str(c->principal()),
                    .issued_at_us = c->issued_at_us()};
  return std::pair(std::move(meta), std::move(*body));
}

}  // namespace backline::schemas
