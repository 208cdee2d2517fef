#include "actors/domain/errc.h"

namespace backline::domain {

std::string_view rule_name(errc code) {
  switch (code) {
    case errc::ok: return "ok";
    case errc::invalid_argument: return "invalid_argument";
    case errc::limit_exceeded: return "limit_exceeded";
    case errc::call_not_found: return "call_not_found";
    case errc::call_already_exists: return "call_already_exists";
    case errc::call_not_active: return "call_not_active";
    case errc::call_ended: return "call_ended";
    case errc::call_not_ended: return "call_not_ended";
    case errc::participant_not_found: return "participant_not_found";
    case errc::participant_not_agent: return "participant_not_agent";
    case errc::agent_not_ringing: return "agent_not_ringing";
    case errc::consult_not_found: return "consult_not_found";
    case errc::consult_already_active: return "consult_already_active";
    case errc::consult_not_connected: return "consult_not_connected";
    case errc::not_a_supervisor: return "not_a_supervisor";
    case errc::supervisor_not_granted: return "supervisor_not_granted";
    case errc::supervision_not_found: return "supervision_not_found";
    case errc::coached_agent_not_on_call: return "coached_agent_not_on_call";
    case errc::recording_forbidden: return "recording_forbidden";
    case errc::recording_not_active: return "recording_not_active";
    case errc::transfer_target_invalid: return "transfer_target_invalid";
    case errc::unknown_agent: return "unknown_agent";
    case errc::wrong_segment_kind: return "wrong_segment_kind";
    case errc::version_conflict: return "version_conflict";
    case errc::agent_offline: return "agent_offline";
    case errc::agent_away: return "agent_away";
    case errc::agent_not_available: return "agent_not_available";
    case errc::agent_at_capacity: return "agent_at_capacity";
    case errc::offer_not_found: return "offer_not_found";
    case errc::callback_not_found: return "callback_not_found";
    case errc::queue_item_not_found: return "queue_item_not_found";
    case errc::queue_item_exists: return "queue_item_exists";
    case errc::agent_already_tried: return "agent_already_tried";
    case errc::offer_in_progress: return "offer_in_progress";
    case errc::overflow_not_due: return "overflow_not_due";
    case errc::no_route: return "no_route";
    case errc::not_session_owner: return "not_session_owner";
  }
  return "unknown_rule";
}

namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "backline.call"; }
  std::string message(int value) const override {
    return std::string(rule_name(static_cast<errc>(value)));
  }
};
}  // namespace

const std::error_category& call_category() {
  static const category instance;
  return instance;
}

}  // namespace backline::domain
