// Rules shared by the call aggregate's decide functions (call.cc, call_flows.cc).
#include "actors/domain/call_rules.h"

#include <algorithm>
#include <fmt/format.h>

namespace backline::domain::rules {

std::unexpected<rejection> reject(errc code, std::string detail) {
  return std::unexpected(rejection{code, std::move(detail)});
}


std::expected<void, rejection> check_id(std::string_view field, std::string_view value) {
  if (value.empty()) return reject(errc::invalid_argument, fmt::format("{} is required", field));
  if (value.size() > id_bytes_max) {
    return reject(errc::invalid_argument,
                  fmt::format("{} is {} bytes; at most {}", field, value.size(), id_bytes_max));
  }
  return {};
}

std::expected<void, rejection> check_text(std::string_view field, std::string_view value,
                                          std::size_t max) {
  if (value.size() > max) {
    return reject(errc::invalid_argument,
                  fmt::format("{} is {} bytes; at most {}", field, value.size(), max));
  }
  return {};
}

std::expected<void, rejection> check_attributes(const call_attributes& a) {
  for (auto [field, value] : {std::pair{"case_id", &a.case_id}, {"contact_id", &a.contact_id},
                              {"account_id", &a.account_id}, {"subject", &a.subject},
                              {"case_category", &a.case_category}}) {
    if (auto ok = check_text(field, *value, id_bytes_max * 2); !ok) return ok;
  }
  if (a.custom.size() > custom_attributes_max) {
    return reject(errc::limit_exceeded,
                  fmt::format("{} custom attributes; at most {}", a.custom.size(),
                              custom_attributes_max));
  }
  for (const auto& [key, value] : a.custom) {
    if (auto ok = check_id("custom attribute name", key); !ok) return ok;
    if (auto ok = check_text("custom attribute value", value, 1024); !ok) return ok;
    // Stored custom attributes have unique keys: a command naming a key twice is ambiguous.
    if (std::ranges::count(a.custom, key, &std::pair<std::string, std::string>::first) > 1) {
      return reject(errc::invalid_argument,
                    fmt::format("custom attribute {} is named more than once", key));
    }
  }
  return {};
}

std::expected<const segment*, rejection> find_segment(const call_state& s, std::string_view id) {
  if (const segment* seg = s.find(id)) return seg;
  return reject(errc::call_not_found, fmt::format("no voice call {} on this stream", id));
}

// The segment must be connected: ringing and ended segments carry no conversation.
std::expected<const segment*, rejection> find_connected(const call_state& s, std::string_view id) {
  auto seg = find_segment(s, id);
  if (!seg) return seg;
  if ((*seg)->status == segment_status::ended) {
    return reject(errc::call_ended, fmt::format("voice call {} has ended", id));
  }
  if ((*seg)->status != segment_status::connected) {
    return reject(errc::call_not_active, fmt::format("voice call {} is not connected yet", id));
  }
  return seg;
}

std::expected<const participant*, rejection> find_present(const segment& seg,
                                                          std::string_view participant_id) {
  const participant* p = seg.find(participant_id);
  if (p == nullptr || !p->present) {
    return reject(errc::participant_not_found,
                  fmt::format("{} is not on voice call {}", participant_id, seg.id));
  }
  return p;
}

std::size_t present_count(const segment& seg) {
  return std::ranges::count_if(seg.participants, [](const participant& p) { return p.present; });
}

const participant* customer_of(const segment& seg) {
  for (const auto& p : seg.participants) {
    if (p.role == participant_role::customer && p.present) return &p;
  }
  return nullptr;
}

participant_role role_of(const decide_context& ctx, std::string_view agent_id) {
  const agent_entry* a = ctx.dir ? ctx.dir->find_agent(agent_id) : nullptr;
  if (a == nullptr) return participant_role::agent;
  switch (a->kind) {
    case agent_kind::specialist: return participant_role::specialist;
    case agent_kind::supervisor: return participant_role::supervisor;
    case agent_kind::agent: break;
  }
  return participant_role::agent;
}

// With a directory, agents must exist in it; without one (pure tests) any id is accepted.
std::expected<void, rejection> check_known_agent(const decide_context& ctx, std::string_view id) {
  if (auto ok = check_id("agent id", id); !ok) return ok;
  if (ctx.dir != nullptr && ctx.dir->find_agent(id) == nullptr) {
    return reject(errc::unknown_agent, fmt::format("the directory has no agent {}", id));
  }
  return {};
}

// A new segment id must be well-formed, fresh, and within the per-call bound.
std::expected<void, rejection> check_new_segment(const call_state& s, std::string_view field,
                                                 std::string_view id) {
  if (auto ok = check_id(field, id); !ok) return ok;
  if (s.find(id) != nullptr) {
    return reject(errc::call_already_exists, fmt::format("voice call {} already exists", id));
  }
  if (s.segments.size() >= segments_per_call_max) {
    return reject(errc::limit_exceeded,
                  fmt::format("a conversation holds at most {} voice calls", segments_per_call_max));
  }
  return {};
}

bool recording_allowed(const decide_context& ctx, call_type type, std::string_view jurisdiction) {
  static const recording_policy defaults;
  const recording_policy& p = ctx.dir ? ctx.dir->recording : defaults;
  if (std::ranges::find(p.forbidden_jurisdictions, jurisdiction) !=
      p.forbidden_jurisdictions.end()) {
    return false;
  }
  switch (type) {
    case call_type::inbound: return p.record_inbound;
    case call_type::outbound: return p.record_outbound;
    case call_type::internal: return p.record_internal;
  }
  return false;
}

// Ends what hangs off a segment that is about to end: its live consults (except `keep`) are
// cancelled and its supervisors leave, each as its own event. A consult's own supervision
// sessions end first, so no session outlives the call it supervises.
void close_children(const call_state& s, std::string_view seg_id, std::string_view keep,
                    emitter& emit) {
  for (const auto& child : s.segments) {
    if (child.parent_id != seg_id || !child.active() || child.id == keep) continue;
    if (child.kind == segment_kind::consult) {
      close_children(s, child.id, {}, emit);
      emit(evt::consult_cancelled{child.id});
    }
    if (child.kind == segment_kind::supervision) emit(evt::supervisor_left{child.id});
  }
}

}  // namespace backline::domain::rules
