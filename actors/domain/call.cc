// The call aggregate's `decide`: one function per command, each checking its rules in a fixed
// order and returning the events that record what happened (none when nothing would change).
#include <algorithm>
#include <fmt/format.h>

#include "actors/domain/call.h"
#include "actors/domain/call_rules.h"

namespace backline::domain {
namespace {

using namespace rules;

// ---------------------------------------------------------------------------------------------
decision decide_create(const call_state& s, const cmd::create_call& c, const decide_context& ctx) {
  if (auto ok = check_id("voice_call_id", c.voice_call_id); !ok) return std::unexpected(ok.error());
  if (s.exists()) {
    // A repeat (same facts) changes nothing; the same id with other facts is a conflict.
    if (const segment* g = s.find(c.voice_call_id)) {
      const bool same = g->type == c.type && g->method == c.method && g->from == c.from &&
                        g->to == c.to && g->vendor_call_key == c.vendor_call_key &&
                        g->initiator_agent == c.initiator_agent && g->parent_id == c.parent_id;
      if (same) return events{};
      return reject(errc::call_already_exists,
                    fmt::format("voice call {} already exists with other facts", c.voice_call_id));
    }
    return reject(errc::call_already_exists,
                  fmt::format("stream {} already holds another conversation", s.id));
  }
  for (auto [field, value] : {std::pair{"from", &c.from}, {"to", &c.to}, {"queue", &c.queue},
                              {"vendor_call_key", &c.vendor_call_key},
                              {"jurisdiction", &c.jurisdiction},
                              {"parent_id", &c.parent_id}}) {
    if (auto ok = check_text(field, *value, id_bytes_max); !ok) return std::unexpected(ok.error());
  }
  if (c.parent_id == c.voice_call_id) {
    return reject(errc::invalid_argument, "a voice call cannot be its own parent");
  }
  if (auto ok = check_attributes(c.attributes); !ok) return std::unexpected(ok.error());
  const bool dialled_by_agent = c.type != call_type::inbound;
  if (dialled_by_agent) {
    if (auto ok = check_known_agent(ctx, c.initiator_agent); !ok) return std::unexpected(ok.error());
  }
  if (!c.target_agent.empty()) {
    if (c.type != call_type::internal) {
      return reject(errc::invalid_argument, "target_agent is only for internal calls");
    }
    if (auto ok = check_known_agent(ctx, c.target_agent); !ok) return std::unexpected(ok.error());
    if (c.target_agent == c.initiator_agent) {
      return reject(errc::transfer_target_invalid, "an agent cannot call themself");
    }
  }
  emitter emit{ctx.now_us, {}};
  evt::call_created created{c.voice_call_id,
                            c.type == call_type::internal ? segment_kind::direct
                                                          : segment_kind::customer,
                            c.type, c.method, c.vendor_call_key, c.from, c.to, c.queue,
                            c.parent_id, {}, c.initiator_agent,
                            recording_allowed(ctx, c.type, c.jurisdiction), c.attributes};
  std::ranges::sort(created.attributes.custom);
  emit(std::move(created));
  if (c.type != call_type::internal) {
    const std::string& number = c.type == call_type::inbound ? c.from : c.to;
    emit(evt::participant_joined{c.voice_call_id, number.empty() ? "customer" : number,
                                 participant_role::customer, number});
  }
  if (dialled_by_agent) {
    emit(evt::participant_joined{c.voice_call_id, c.initiator_agent,
                                 role_of(ctx, c.initiator_agent), {}});
  }
  if (!c.target_agent.empty()) emit(evt::call_ringing{c.voice_call_id, c.target_agent});
  return std::move(emit.out);
}

decision decide_ring(const call_state& s, const cmd::ring& c, const decide_context& ctx) {
  auto seg = find_segment(s, c.voice_call_id);
  if (!seg) return std::unexpected(seg.error());
  if (auto ok = check_known_agent(ctx, c.agent_id); !ok) return std::unexpected(ok.error());
  if ((*seg)->status == segment_status::ended) {
    return reject(errc::call_ended, fmt::format("voice call {} has ended", c.voice_call_id));
  }
  if ((*seg)->status == segment_status::connected) {
    return reject(errc::call_not_active,
                  fmt::format("voice call {} is already connected", c.voice_call_id));
  }
  if ((*seg)->ringing_agent == c.agent_id) return events{};
  // A consult's record names its target (and a merge or transfer brings that target in), so
  // the offer cannot move to someone else: cancel and consult them instead.
  if ((*seg)->kind == segment_kind::consult) {
    return reject(errc::wrong_segment_kind,
                  fmt::format("consult {} rings only {}: cancel it and start another consult",
                              c.voice_call_id, (*seg)->to));
  }
  return events{{ctx.now_us, evt::call_ringing{c.voice_call_id, c.agent_id}}};
}

decision decide_answer(const call_state& s, const cmd::answer& c, const decide_context& ctx) {
  auto seg = find_segment(s, c.voice_call_id);
  if (!seg) return std::unexpected(seg.error());
  const segment& g = **seg;
  if (g.status == segment_status::ended) {
    return reject(errc::call_ended, fmt::format("voice call {} has ended", c.voice_call_id));
  }
  // The agent who dialled an outbound call answers for it when the customer picks up. A
  // transfer segment's initiator is the transferring agent, who must not take it back.
  const bool dialler = !g.initiator_agent.empty() && g.initiator_agent == c.agent_id &&
                       g.kind == segment_kind::customer && g.previous_id.empty();
  if (g.status == segment_status::connected) {
    if (g.ringing_agent == c.agent_id || dialler) return events{};
    return reject(errc::agent_not_ringing,
                  fmt::format("voice call {} was answered by someone else", c.voice_call_id));
  }
  if (g.ringing_agent != c.agent_id && !dialler) {
    return reject(errc::agent_not_ringing,
                  fmt::format("{} was not offered voice call {}", c.agent_id, c.voice_call_id));
  }
  emitter emit{ctx.now_us, {}};
  const participant* p = g.find(c.agent_id);
  if (p == nullptr || !p->present) {
    if (present_count(g) >= participants_per_segment_max) {
      return reject(errc::limit_exceeded, "the voice call has its maximum of participants");
    }
    emit(evt::participant_joined{c.voice_call_id, c.agent_id, role_of(ctx, c.agent_id), {}});
  }
  emit(evt::call_answered{c.voice_call_id, c.agent_id});
  return std::move(emit.out);
}

decision decide_join(const call_state& s, const cmd::join& c, const decide_context& ctx) {
  auto seg = find_segment(s, c.voice_call_id);
  if (!seg) return std::unexpected(seg.error());
  if (auto ok = check_id("participant_id", c.participant_id); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_text("number", c.number, id_bytes_max); !ok) {
    return std::unexpected(ok.error());
  }
  if (c.role == participant_role::supervisor) {
    return reject(errc::invalid_argument, "supervisors join with join_supervisor and a mode");
  }
  if (!(*seg)->active()) {
    return reject(errc::call_ended, fmt::format("voice call {} has ended", c.voice_call_id));
  }
  const participant* p = (*seg)->find(c.participant_id);
  if (p != nullptr && p->present) return events{};
  if (present_count(**seg) >= participants_per_segment_max) {
    return reject(errc::limit_exceeded, "the voice call has its maximum of participants");
  }
  return events{{ctx.now_us, evt::participant_joined{c.voice_call_id, c.participant_id, c.role,
                                                     c.number}}};
}

decision decide_leave(const call_state& s, const cmd::leave& c, const decide_context& ctx) {
  auto seg = find_segment(s, c.voice_call_id);
  if (!seg) return std::unexpected(seg.error());
  const participant* p = (*seg)->find(c.participant_id);
  if (p == nullptr) {
    return reject(errc::participant_not_found,
                  fmt::format("{} was never on voice call {}", c.participant_id, c.voice_call_id));
  }
  if (!p->present) return events{};
  return events{{ctx.now_us, evt::participant_left{c.voice_call_id, c.participant_id}}};
}

// Hold, resume, mute and unmute share one shape: a present participant of a connected call
// whose flag changes.
template <class Event>
decision decide_flag(const call_state& s, const std::string& call_id, const std::string& who,
                     bool participant::* flag, bool wanted, const decide_context& ctx) {
  auto seg = find_connected(s, call_id);
  if (!seg) return std::unexpected(seg.error());
  auto p = find_present(**seg, who);
  if (!p) return std::unexpected(p.error());
  if ((*p)->*flag == wanted) return events{};
  return events{{ctx.now_us, Event{call_id, who}}};
}

decision decide_basic(const call_state& s, const command_body& c, const decide_context& ctx) {
  return std::visit(
      [&](const auto& x) -> decision {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, cmd::create_call>) return decide_create(s, x, ctx);
        else if constexpr (std::is_same_v<T, cmd::ring>) return decide_ring(s, x, ctx);
        else if constexpr (std::is_same_v<T, cmd::answer>) return decide_answer(s, x, ctx);
        else if constexpr (std::is_same_v<T, cmd::join>) return decide_join(s, x, ctx);
        else if constexpr (std::is_same_v<T, cmd::leave>) return decide_leave(s, x, ctx);
        else if constexpr (std::is_same_v<T, cmd::hold>)
          return decide_flag<evt::participant_held>(s, x.voice_call_id, x.participant_id,
                                                    &participant::held, true, ctx);
        else if constexpr (std::is_same_v<T, cmd::resume>)
          return decide_flag<evt::participant_resumed>(s, x.voice_call_id, x.participant_id,
                                                       &participant::held, false, ctx);
        else if constexpr (std::is_same_v<T, cmd::mute>)
          return decide_flag<evt::participant_muted>(s, x.voice_call_id, x.participant_id,
                                                     &participant::muted, true, ctx);
        else if constexpr (std::is_same_v<T, cmd::unmute>)
          return decide_flag<evt::participant_unmuted>(s, x.voice_call_id, x.participant_id,
                                                       &participant::muted, false, ctx);
        else return decide_flows(s, c, ctx);
      },
      c);
}

}  // namespace

decision decide(const call_state& s, const command_body& c, const decide_context& ctx) {
  return decide_basic(s, c, ctx);
}

}  // namespace backline::domain
