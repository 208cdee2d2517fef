#pragma once
// Rejections of the call domain. Each value names the rule that refused a command; the name is
// stable (it appears in API errors as the rule that refused), so never renumber or rename.

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace backline::domain {

enum class errc : std::uint16_t {
  ok = 0,
  invalid_argument = 1,      // a field is missing, too long or out of range
  limit_exceeded = 2,        // a bound (participants, segments, messages) would be exceeded
  call_not_found = 3,        // the command names a voice call that does not exist
  call_already_exists = 4,   // create with an id that exists with different facts
  call_not_active = 5,       // the segment is not connected (ringing or ended)
  call_ended = 6,            // the segment has ended
  call_not_ended = 7,        // post-call work before the segment ended
  participant_not_found = 8, // the participant is not (or no longer) on the segment
  participant_not_agent = 9, // the participant must be an agent for this command
  agent_not_ringing = 10,    // answer by an agent that was not offered the call
  consult_not_found = 11,    // the consult call does not exist or belongs to another call
  consult_already_active = 12,
  consult_not_connected = 13,  // warm transfer / merge before the consult target answered
  not_a_supervisor = 14,
  supervisor_not_granted = 15,  // no explicit grant for this mode over this agent (default deny)
  supervision_not_found = 16,
  coached_agent_not_on_call = 17,
  recording_forbidden = 18,  // the recording policy forbids recording this call
  recording_not_active = 19,
  transfer_target_invalid = 20,
  unknown_agent = 21,          // the directory has no such agent
  wrong_segment_kind = 22,     // e.g. a consult command on a supervision session
  version_conflict = 23,       // expected stream version does not match
  // Routing (agents, queues, flows).
  agent_offline = 24,          // the agent is offline: no offers, no direct calls
  agent_away = 25,             // the agent is away (the detail names the reason)
  agent_not_available = 26,    // busy or in after-call work: no new offers
  agent_at_capacity = 27,      // every work slot is held by an offer or a call
  offer_not_found = 28,        // no such offer (or no longer ringing)
  callback_not_found = 29,
  queue_item_not_found = 30,   // no such waiting item (PSR) in this queue
  queue_item_exists = 31,      // enqueue of an id or call already waiting with other facts
  agent_already_tried = 32,    // never offer the same agent twice for the same call
  offer_in_progress = 33,      // the item is ringing an agent: resolve that offer first
  overflow_not_due = 34,       // overflow before the configured wait, or none configured
  no_route = 35,               // no channel, flow or queue to route the call to
  not_session_owner = 36,      // a supervisor changes or leaves another supervisor's session
};

// The stable snake_case rule name, e.g. "supervisor_not_granted".
std::string_view rule_name(errc code);

const std::error_category& call_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), call_category()}; }

// A refused command: the rule and a human sentence that tells the caller what to do.
struct rejection {
  errc code = errc::ok;
  std::string detail;
  std::string_view rule() const { return rule_name(code); }
};

}  // namespace backline::domain

template <>
struct std::is_error_code_enum<backline::domain::errc> : std::true_type {};
