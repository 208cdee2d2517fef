#pragma once
// The call aggregate: one conversation, from the customer's (or first caller's) call to its last
// segment. Its stream id is the root voice call id; every VoiceCall record of the conversation
// (transfer segments, consult calls, supervisor sessions) is a `segment` inside it, so a transfer
// or a supervision changes one stream atomically and the hear matrix is a function of one state.
//
// Pure: `decide` and `evolve` read no clock, randomness or I/O. Time, the directory and every new
// id come in through the command or the context. Run by actors/call_actor.cc, one actor per
// stream; tested in tests/domain/.

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "actors/domain/directory.h"
#include "actors/domain/errc.h"

namespace backline::domain {

// Bounds (STYLE: a limit on everything). A command that would cross one is refused with
// errc::limit_exceeded or errc::invalid_argument and appends nothing.
inline constexpr std::size_t id_bytes_max = 128;
inline constexpr std::size_t text_bytes_max = 8192;
inline constexpr std::size_t participants_per_segment_max = 16;
inline constexpr std::size_t segments_per_call_max = 64;
inline constexpr std::size_t transcript_messages_max = 10'000;
inline constexpr std::size_t conversation_events_max = 10'000;
inline constexpr std::size_t custom_attributes_max = 64;

enum class call_type : std::uint8_t { inbound = 0, outbound = 1, internal = 2 };
enum class initiation_method : std::uint8_t {
  inbound = 0, outbound = 1, transfer = 2, callback = 3, internal = 4 };
enum class participant_role : std::uint8_t { customer = 0, agent = 1, supervisor = 2, specialist = 3 };
// What a segment is for. `customer` covers inbound, outbound and transfer segments.
enum class segment_kind : std::uint8_t { customer = 0, direct = 1, consult = 2, supervision = 3 };
enum class segment_status : std::uint8_t { ringing = 0, connected = 1, ended = 2 };
enum class call_disposition : std::uint8_t { new_call = 0, in_progress = 1, completed = 2 };
enum class recording_state : std::uint8_t { none = 0, recording = 1, paused = 2, stopped = 3 };
enum class transfer_kind : std::uint8_t { warm = 0, blind = 1 };

std::string_view to_string(call_type v);
std::string_view to_string(initiation_method v);
std::string_view to_string(participant_role v);
std::string_view to_string(segment_kind v);
std::string_view to_string(segment_status v);
std::string_view to_string(call_disposition v);
std::string_view to_string(recording_state v);

// Related records and custom fields of a voice call (Salesforce callAttributes).
struct call_attributes {
  std::string case_id, contact_id, account_id, subject, case_category;
  std::vector<std::pair<std::string, std::string>> custom;  // sorted by key, unique keys
  friend bool operator==(const call_attributes&, const call_attributes&) = default;
};

// ---------------------------------------------------------------------------------------------
// Commands. Each names the voice call (segment) it acts on; ids of records it creates are
// chosen by the caller (the actor shell draws UUIDv7s) so that `decide` stays pure.
namespace cmd {
struct create_call {
  std::string voice_call_id;
  call_type type = call_type::inbound;
  initiation_method method = initiation_method::inbound;
  std::string vendor_call_key, from, to, queue;
  std::string initiator_agent;  // outbound / internal: the agent who dials (joins at once)
  std::string target_agent;     // internal: the agent who is rung
  std::string jurisdiction;     // for the recording policy, e.g. "DE"
  call_attributes attributes;
  // Another conversation's voice call this one was placed from (an internal call during a
  // customer call; the Telephony Integration API's parentVoiceCallId): the record links to it.
  std::string parent_id;
};
struct ring { std::string voice_call_id, agent_id; };
struct answer { std::string voice_call_id, agent_id; };
struct join {
  std::string voice_call_id, participant_id;
  participant_role role = participant_role::customer;
  std::string number;
};
struct leave { std::string voice_call_id, participant_id; };
struct hold { std::string voice_call_id, participant_id; };
struct resume { std::string voice_call_id, participant_id; };
struct mute { std::string voice_call_id, participant_id; };
struct unmute { std::string voice_call_id, participant_id; };
struct start_consult {
  std::string voice_call_id;    // the customer segment
  std::string consult_call_id;  // new Internal record, parent = voice_call_id
  std::string initiator_agent, target_agent;
  bool hold_customer = true;
};
struct complete_consult { std::string consult_call_id; };  // the specialist advised and dropped
struct cancel_consult { std::string consult_call_id; };
// `acting_agent` (transfers, merge, end): the agent who asks, who must be on the segment; empty
// when the engine or the telephony integration acts (routing timeouts, a carrier hangup).
struct complete_warm_transfer {
  std::string voice_call_id, consult_call_id;
  std::string new_segment_id;  // the target's segment, previous_call_id = voice_call_id
  std::string acting_agent;
};
struct blind_transfer {
  std::string voice_call_id, new_segment_id;
  std::string target_agent, target_queue;  // exactly one
  std::string acting_agent;
};
struct merge_conference { std::string voice_call_id, consult_call_id, acting_agent; };
struct join_supervisor {
  std::string voice_call_id;  // the supervised segment
  std::string session_id;     // new Internal record, parent = voice_call_id
  std::string supervisor_id;
  supervise_mode mode = supervise_mode::monitor;
  std::string coached_agent;  // whisper: the agent who hears; default the segment's owner
};
// `supervisor_id` (change, leave): the supervisor who asks, who must own the session; empty when
// the engine or an admin acts.
struct change_supervisor_mode {
  std::string session_id;
  supervise_mode mode = supervise_mode::monitor;
  std::string coached_agent;
  std::string supervisor_id;
};
struct leave_supervisor { std::string session_id, supervisor_id; };
struct end_call { std::string voice_call_id, reason, acting_agent; };
struct wrap_up { std::string voice_call_id, agent_id, disposition_code, notes; };
struct add_transcript {
  std::string voice_call_id, message_id, speaker, sender_type;  // sender: Agent, EndUser, ...
  std::int64_t start_ms = 0, end_ms = 0;
  std::string text;
};
struct add_conversation_event {
  std::string voice_call_id, event_id;
  bool post_call = false;  // post-call events only after the segment ended
  std::string type;        // e.g. "sentiment", "category"
  std::string payload;     // JSON text, bounded
};
struct start_recording { std::string voice_call_id, location; };
struct pause_recording { std::string voice_call_id; };
struct resume_recording { std::string voice_call_id; };
struct stop_recording { std::string voice_call_id; };
struct update_attributes { std::string voice_call_id; call_attributes attributes; };
// The queue the call waits in, as routing (the Omni flow) or the telephony platform decided it:
// the VoiceCall record's queue. A directory queue; the same queue again changes nothing.
struct assign_queue { std::string voice_call_id, queue; };
}  // namespace cmd

using command_body =
    std::variant<cmd::create_call, cmd::ring, cmd::answer, cmd::join, cmd::leave, cmd::hold,
                 cmd::resume, cmd::mute, cmd::unmute, cmd::start_consult, cmd::complete_consult,
                 cmd::cancel_consult, cmd::complete_warm_transfer, cmd::blind_transfer,
                 cmd::merge_conference, cmd::join_supervisor, cmd::change_supervisor_mode,
                 cmd::leave_supervisor, cmd::end_call, cmd::wrap_up, cmd::add_transcript,
                 cmd::add_conversation_event, cmd::start_recording, cmd::pause_recording,
                 cmd::resume_recording, cmd::stop_recording, cmd::update_attributes,
                 cmd::assign_queue>;

// The voice call a command addresses (used by the router to find the stream).
const std::string& target_voice_call_id(const command_body& c);
std::string_view command_name(const command_body& c);  // e.g. "start_consult"

// ---------------------------------------------------------------------------------------------
// Events: facts, in the order `decide` emits them. Storage formats: see schemas/call.fbs.
namespace evt {
struct call_created {
  std::string voice_call_id;
  segment_kind kind = segment_kind::customer;
  call_type type = call_type::inbound;
  initiation_method method = initiation_method::inbound;
  std::string vendor_call_key, from, to, queue, parent_id, previous_id, initiator_agent;
  bool recording_allowed = false;
  call_attributes attributes;
};
struct call_ringing { std::string voice_call_id, agent_id; };
struct call_answered { std::string voice_call_id, agent_id; };  // the agent joins, owns
struct participant_joined {
  std::string voice_call_id, participant_id;
  participant_role role = participant_role::customer;
  std::string number;
};
struct participant_left { std::string voice_call_id, participant_id; };
struct participant_held { std::string voice_call_id, participant_id; };
struct participant_resumed { std::string voice_call_id, participant_id; };
struct participant_muted { std::string voice_call_id, participant_id; };
struct participant_unmuted { std::string voice_call_id, participant_id; };
// Creates the consult record: initiator joined, target ringing.
struct consult_started {
  std::string voice_call_id, consult_call_id, initiator_agent, target_agent;
  bool customer_held = false;
  bool recording_allowed = false;  // the policy for internal calls, decided when it started
};
struct consult_completed { std::string consult_call_id; };
struct consult_cancelled { std::string consult_call_id; };
// Ends the consult and the old segment (its agent leaves); starts the new segment with the
// customer and the consult target connected, initiation_method = transfer.
struct warm_transfer_completed {
  std::string voice_call_id, consult_call_id, new_segment_id, target_agent;
};
// Ends the segment; starts the new one with the customer, ringing the agent or queued.
// `fallback_queue`: the ended segment's queue (the record's), where the customer waits when a
// transfer to an agent goes unanswered; carried so routing needs no memory of the call.
struct blind_transferred {
  std::string voice_call_id, new_segment_id, target_agent, target_queue, fallback_queue;
};
// The consult target joins the customer segment; the consult ends; the customer is resumed.
struct conference_merged { std::string voice_call_id, consult_call_id, target_agent; };
struct supervisor_joined {
  std::string voice_call_id, session_id, supervisor_id;
  supervise_mode mode = supervise_mode::monitor;
  std::string coached_agent;
};
struct supervisor_mode_changed {
  std::string session_id;
  supervise_mode mode = supervise_mode::monitor;
  std::string coached_agent;
};
struct supervisor_left { std::string session_id; };
struct call_ended { std::string voice_call_id, reason; };
struct wrap_up_recorded { std::string voice_call_id, agent_id, disposition_code, notes; };
struct transcript_message_added {
  std::string voice_call_id, message_id, speaker, sender_type;
  std::int64_t start_ms = 0, end_ms = 0;
  std::string text;
};
struct conversation_event_recorded {
  std::string voice_call_id, event_id;
  bool post_call = false;
  std::string type, payload;
};
struct recording_started { std::string voice_call_id, location; };
struct recording_paused { std::string voice_call_id; };
struct recording_resumed { std::string voice_call_id; };
struct recording_stopped { std::string voice_call_id; };
struct attributes_updated { std::string voice_call_id; call_attributes attributes; };
struct queue_assigned { std::string voice_call_id, queue; };
}  // namespace evt

using event_body =
    std::variant<evt::call_created, evt::call_ringing, evt::call_answered, evt::participant_joined,
                 evt::participant_left, evt::participant_held, evt::participant_resumed,
                 evt::participant_muted, evt::participant_unmuted, evt::consult_started,
                 evt::consult_completed, evt::consult_cancelled, evt::warm_transfer_completed,
                 evt::blind_transferred, evt::conference_merged, evt::supervisor_joined,
                 evt::supervisor_mode_changed, evt::supervisor_left, evt::call_ended,
                 evt::wrap_up_recorded, evt::transcript_message_added,
                 evt::conversation_event_recorded, evt::recording_started, evt::recording_paused,
                 evt::recording_resumed, evt::recording_stopped, evt::attributes_updated,
                 evt::queue_assigned>;

// An event with the instant it occurred (the envelope's occurred-at), in microseconds.
struct event {
  std::int64_t at_us = 0;
  event_body body;
};

std::string_view event_type_name(const event_body& e);  // e.g. "call_created"

// ---------------------------------------------------------------------------------------------
// State.
struct participant {
  std::string id;  // agent id, or the customer's number
  participant_role role = participant_role::customer;
  std::string number;
  bool present = true, held = false, muted = false;
  std::int64_t joined_at_us = 0, left_at_us = 0, held_since_us = 0;
};

struct hold_stats {
  std::uint32_t count = 0;
  std::int64_t total_us = 0, longest_us = 0;
};

struct mode_change {
  supervise_mode mode = supervise_mode::monitor;
  std::string coached_agent;
  std::int64_t at_us = 0;
};

// One VoiceCall record.
struct segment {
  std::string id;
  segment_kind kind = segment_kind::customer;
  call_type type = call_type::inbound;
  initiation_method method = initiation_method::inbound;
  segment_status status = segment_status::ringing;
  std::string vendor_call_key, from, to, queue;
  std::string parent_id, previous_id, next_id;
  std::string owner_agent, ringing_agent, initiator_agent, end_reason;
  std::int64_t created_at_us = 0, answered_at_us = 0, ended_at_us = 0;
  std::vector<participant> participants;
  hold_stats holds;
  std::vector<mode_change> modes;  // supervision sessions: the mode timeline
  std::string supervisor_id;
  bool wrapped_up = false;
  std::string disposition_code, wrap_up_notes;
  bool recording_allowed = false;
  recording_state recording = recording_state::none;
  std::string recording_location;
  call_attributes attributes;
  std::uint32_t transcript_messages = 0, conversation_events = 0;

  const participant* find(std::string_view participant_id) const;
  participant* find(std::string_view participant_id);
  bool active() const { return status != segment_status::ended; }
  call_disposition disposition() const;
};

struct call_state {
  std::string id;              // the root voice call id; empty until created
  std::uint64_t version = 0;   // number of events folded
  std::string customer_segment_id;  // the current customer-facing segment
  std::vector<segment> segments;    // in creation order
  std::vector<std::string> message_ids;  // sorted: dedupes transcript messages
  std::vector<std::string> conversation_event_ids;  // sorted

  bool exists() const { return !id.empty(); }
  const segment* find(std::string_view voice_call_id) const;
  segment* find(std::string_view voice_call_id);
};

struct decide_context {
  std::int64_t now_us = 0;
  const directory* dir = nullptr;  // null: no grants, unknown agents
};

using decision = std::expected<std::vector<event>, rejection>;

// Decides what `c` means in `state`. A command that changes nothing returns no events.
decision decide(const call_state& state, const command_body& c, const decide_context& ctx);

// Folds one event. REQUIRES: `e` was emitted by `decide` on a state equal to `state` (events read
// back from the log are verified first); violations are programmer errors and assert.
void evolve(call_state& state, const event& e);

// Who hears whom right now. `parties` are the present participants of every live segment, each
// once; hears(listener, speaker) follows DESIGN.md's table, holds and mutes.
struct hear_matrix {
  std::vector<std::string> parties;
  std::vector<std::uint8_t> cells;  // cells[listener * n + speaker]
  bool hears(std::string_view listener, std::string_view speaker) const;
  std::string render() const;  // one line per listener: "alice <- bob,carol"
};
hear_matrix compute_hear_matrix(const call_state& state);

// A compact, deterministic text rendering of the state (tests compare states through it).
std::string render(const call_state& state);

}  // namespace backline::domain
