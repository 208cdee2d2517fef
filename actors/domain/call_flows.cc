// The call aggregate's `decide`, second half: consults, transfers, conferences, supervision,
// ending, wrap-up, transcripts, conversation events, recording and attributes.
#include <algorithm>

#include <fmt/format.h>

#include "actors/domain/call.h"
#include "actors/domain/call_rules.h"

namespace backline::domain::rules {
namespace {

template <class T>
std::unexpected<rejection> fail(const std::expected<T, rejection>& r) {
  return std::unexpected(r.error());
}

// A consult of `parent_id` (any parent when empty) by the consult call id.
std::expected<const segment*, rejection> find_consult(const call_state& s, std::string_view id,
                                                      std::string_view parent_id) {
  const segment* k = s.find(id);
  if (k == nullptr || k->kind != segment_kind::consult ||
      (!parent_id.empty() && k->parent_id != parent_id)) {
    return reject(errc::consult_not_found,
                  fmt::format("{} is not a consult call{}{}", id, parent_id.empty() ? "" : " of ",
                              parent_id));
  }
  return k;
}

std::expected<const segment*, rejection> find_session(const call_state& s, std::string_view id) {
  const segment* x = s.find(id);
  if (x == nullptr || x->kind != segment_kind::supervision) {
    return reject(errc::supervision_not_found, fmt::format("{} is not a supervision session", id));
  }
  return x;
}

// The agent who asks for a transfer, a merge or the end of a segment must be on it; an empty
// `acting_agent` is the engine or the telephony integration.
std::expected<void, rejection> check_acting_agent(const segment& g, const std::string& agent) {
  if (agent.empty()) return {};
  if (auto p = find_present(g, agent); !p) return std::unexpected(p.error());
  return {};
}

// A supervisor changes or leaves only their own session; an empty `supervisor_id` is the engine
// or an admin.
std::expected<void, rejection> check_session_owner(const segment& x, const std::string& sup) {
  if (sup.empty() || x.supervisor_id == sup) return {};
  return reject(errc::not_session_owner,
                fmt::format("session {} belongs to {}, not {}", x.id, x.supervisor_id, sup));
}

// The agent a consult rang (and who answered it).
const std::string& consult_target(const segment& k) { return k.to; }

decision decide_start_consult(const call_state& s, const cmd::start_consult& c,
                              const decide_context& ctx) {
  if (const segment* k = s.find(c.consult_call_id);
      k != nullptr && k->kind == segment_kind::consult && k->parent_id == c.voice_call_id) {
    return events{};  // a repeat
  }
  auto seg = find_connected(s, c.voice_call_id);
  if (!seg) return fail(seg);
  const segment& g = **seg;
  if (g.kind == segment_kind::consult || g.kind == segment_kind::supervision) {
    return reject(errc::wrong_segment_kind,
                  fmt::format("a consult starts from a customer or direct call, not a {}",
                              to_string(g.kind)));
  }
  if (auto p = find_present(g, c.initiator_agent); !p) return fail(p);
  if (auto ok = check_known_agent(ctx, c.target_agent); !ok) return std::unexpected(ok.error());
  if (c.target_agent == c.initiator_agent) {
    return reject(errc::transfer_target_invalid, "an agent cannot consult themself");
  }
  if (auto ok = check_new_segment(s, "consult_call_id", c.consult_call_id); !ok) {
    return std::unexpected(ok.error());
  }
  for (const auto& k : s.segments) {
    if (k.kind == segment_kind::consult && k.parent_id == g.id && k.active() &&
        k.initiator_agent == c.initiator_agent) {
      return reject(errc::consult_already_active,
                    fmt::format("{} already consults on {} ({}): complete or cancel it first",
                                c.initiator_agent, g.id, k.id));
    }
  }
  emitter emit{ctx.now_us, {}};
  const participant* customer = customer_of(g);
  const bool hold = c.hold_customer && customer != nullptr;
  if (hold && !customer->held) emit(evt::participant_held{g.id, customer->id});
  emit(evt::consult_started{g.id, c.consult_call_id, c.initiator_agent, c.target_agent, hold,
                            recording_allowed(ctx, call_type::internal, {})});
  return std::move(emit.out);
}

// Complete and cancel end a live consult; a consult that already ended changes nothing.
template <class Event>
decision decide_end_consult(const call_state& s, const std::string& id, bool needs_answer,
                            const decide_context& ctx) {
  auto k = find_consult(s, id, {});
  if (!k) return fail(k);
  if (!(*k)->active()) return events{};
  if (needs_answer && (*k)->status != segment_status::connected) {
    return reject(errc::consult_not_connected,
                  fmt::format("{} has not answered the consult yet: cancel it instead",
                              consult_target(**k)));
  }
  emitter emit{ctx.now_us, {}};
  close_children(s, id, {}, emit);
  emit(Event{id});
  return std::move(emit.out);
}

// Warm transfer, conference: the customer segment and its connected consult.
struct consult_pair {
  const segment* call;
  const segment* consult;
};
std::expected<consult_pair, rejection> connected_consult(const call_state& s,
                                                         const std::string& call_id,
                                                         const std::string& consult_id) {
  auto seg = find_connected(s, call_id);
  if (!seg) return fail(seg);
  auto k = find_consult(s, consult_id, call_id);
  if (!k) return fail(k);
  if ((*k)->status != segment_status::connected) {
    return reject(errc::consult_not_connected,
                  fmt::format("consult {} is not connected", consult_id));
  }
  return consult_pair{*seg, *k};
}

decision decide_warm_transfer(const call_state& s, const cmd::complete_warm_transfer& c,
                              const decide_context& ctx) {
  if (const segment* g = s.find(c.voice_call_id); g && g->next_id == c.new_segment_id &&
                                                   !g->next_id.empty()) {
    return events{};  // a repeat
  }
  auto pair = connected_consult(s, c.voice_call_id, c.consult_call_id);
  if (!pair) return fail(pair);
  if (auto ok = check_acting_agent(*pair->call, c.acting_agent); !ok) {
    return std::unexpected(ok.error());
  }
  if (pair->call->kind != segment_kind::customer) {
    return reject(errc::wrong_segment_kind, "only a customer call can be transferred");
  }
  if (auto ok = check_new_segment(s, "new_segment_id", c.new_segment_id); !ok) {
    return std::unexpected(ok.error());
  }
  emitter emit{ctx.now_us, {}};
  close_children(s, c.voice_call_id, c.consult_call_id, emit);
  close_children(s, c.consult_call_id, {}, emit);  // the consult ends too
  emit(evt::warm_transfer_completed{c.voice_call_id, c.consult_call_id, c.new_segment_id,
                                    consult_target(*pair->consult)});
  return std::move(emit.out);
}

decision decide_blind_transfer(const call_state& s, const cmd::blind_transfer& c,
                               const decide_context& ctx) {
  if (const segment* g = s.find(c.voice_call_id); g && g->next_id == c.new_segment_id &&
                                                   !g->next_id.empty()) {
    return events{};
  }
  auto seg = find_connected(s, c.voice_call_id);
  if (!seg) return fail(seg);
  if (auto ok = check_acting_agent(**seg, c.acting_agent); !ok) return std::unexpected(ok.error());
  if ((*seg)->kind != segment_kind::customer) {
    return reject(errc::wrong_segment_kind, "only a customer call can be transferred");
  }
  if (c.target_agent.empty() == c.target_queue.empty()) {
    return reject(errc::transfer_target_invalid, "name exactly one of target_agent, target_queue");
  }
  if (!c.target_agent.empty()) {
    if (auto ok = check_known_agent(ctx, c.target_agent); !ok) return std::unexpected(ok.error());
    if (c.target_agent == (*seg)->owner_agent) {
      return reject(errc::transfer_target_invalid, "the call is already with that agent");
    }
  } else {
    if (auto ok = check_id("target_queue", c.target_queue); !ok) return std::unexpected(ok.error());
    if (ctx.dir != nullptr && ctx.dir->find_queue(c.target_queue) == nullptr) {
      return reject(errc::transfer_target_invalid,
                    fmt::format("the directory has no queue {}", c.target_queue));
    }
  }
  if (auto ok = check_new_segment(s, "new_segment_id", c.new_segment_id); !ok) {
    return std::unexpected(ok.error());
  }
  emitter emit{ctx.now_us, {}};
  close_children(s, c.voice_call_id, {}, emit);
  emit(evt::blind_transferred{c.voice_call_id, c.new_segment_id, c.target_agent, c.target_queue,
                              (*seg)->queue});
  return std::move(emit.out);
}

decision decide_merge(const call_state& s, const cmd::merge_conference& c,
                      const decide_context& ctx) {
  if (const segment* k = s.find(c.consult_call_id);
      k && k->kind == segment_kind::consult && k->parent_id == c.voice_call_id &&
      k->end_reason == "merged") {
    return events{};
  }
  auto pair = connected_consult(s, c.voice_call_id, c.consult_call_id);
  if (!pair) return fail(pair);
  if (auto ok = check_acting_agent(*pair->call, c.acting_agent); !ok) {
    return std::unexpected(ok.error());
  }
  if (present_count(*pair->call) >= participants_per_segment_max) {
    return reject(errc::limit_exceeded, "the voice call has its maximum of participants");
  }
  emitter emit{ctx.now_us, {}};
  close_children(s, c.consult_call_id, {}, emit);  // the consult ends
  emit(evt::conference_merged{c.voice_call_id, c.consult_call_id, consult_target(*pair->consult)});
  return std::move(emit.out);
}

// The agent a supervisor coaches: the one named, else the segment's owner; must be on the call.
std::expected<std::string, rejection> coached_agent(const segment& g, const std::string& named) {
  const std::string& agent = named.empty() ? g.owner_agent : named;
  const participant* p = g.find(agent);
  if (agent.empty() || p == nullptr || !p->present ||
      (p->role != participant_role::agent && p->role != participant_role::specialist)) {
    return reject(errc::coached_agent_not_on_call,
                  fmt::format("agent '{}' is not on voice call {}", agent, g.id));
  }
  return agent;
}

std::expected<void, rejection> check_grant(const decide_context& ctx, const std::string& sup,
                                           supervise_mode mode, const std::string& agent) {
  const agent_entry* a = ctx.dir ? ctx.dir->find_agent(sup) : nullptr;
  if (a == nullptr || a->kind != agent_kind::supervisor) {
    return reject(errc::not_a_supervisor, fmt::format("{} is not a supervisor", sup));
  }
  if (!ctx.dir->may_supervise(sup, mode, agent)) {
    return reject(errc::supervisor_not_granted,
                  fmt::format("{} has no {} grant over {}'s team", sup, to_string(mode), agent));
  }
  return {};
}

decision decide_join_supervisor(const call_state& s, const cmd::join_supervisor& c,
                                const decide_context& ctx) {
  if (const segment* x = s.find(c.session_id); x && x->kind == segment_kind::supervision &&
                                               x->parent_id == c.voice_call_id &&
                                               x->supervisor_id == c.supervisor_id) {
    return events{};
  }
  auto seg = find_connected(s, c.voice_call_id);
  if (!seg) return fail(seg);
  if ((*seg)->kind == segment_kind::supervision) {
    return reject(errc::wrong_segment_kind, "a supervision session cannot be supervised");
  }
  // Someone talking on the call cannot also listen in on it: one leg, one role on the mixer.
  if (const participant* p = (*seg)->find(c.supervisor_id); p != nullptr && p->present) {
    return reject(errc::invalid_argument,
                  fmt::format("{} is on voice call {}: leave it before supervising it",
                              c.supervisor_id, c.voice_call_id));
  }
  auto agent = coached_agent(**seg, c.coached_agent);
  if (!agent) return fail(agent);
  if (auto ok = check_grant(ctx, c.supervisor_id, c.mode, *agent); !ok) {
    return std::unexpected(ok.error());
  }
  for (const auto& x : s.segments) {
    if (x.kind == segment_kind::supervision && x.parent_id == c.voice_call_id && x.active() &&
        x.supervisor_id == c.supervisor_id) {
      return reject(errc::call_already_exists,
                    fmt::format("{} already supervises {} in session {}: change its mode",
                                c.supervisor_id, c.voice_call_id, x.id));
    }
  }
  if (auto ok = check_new_segment(s, "session_id", c.session_id); !ok) {
    return std::unexpected(ok.error());
  }
  return events{{ctx.now_us, evt::supervisor_joined{c.voice_call_id, c.session_id,
                                                    c.supervisor_id, c.mode, *agent}}};
}

decision decide_change_mode(const call_state& s, const cmd::change_supervisor_mode& c,
                            const decide_context& ctx) {
  auto x = find_session(s, c.session_id);
  if (!x) return fail(x);
  if (auto ok = check_session_owner(**x, c.supervisor_id); !ok) return std::unexpected(ok.error());
  if (!(*x)->active()) {
    return reject(errc::call_ended, fmt::format("session {} has ended", c.session_id));
  }
  auto parent = find_connected(s, (*x)->parent_id);
  if (!parent) return fail(parent);
  const mode_change& now = (*x)->modes.back();
  auto agent = coached_agent(**parent, c.coached_agent.empty() ? now.coached_agent
                                                               : c.coached_agent);
  if (!agent) return fail(agent);
  if (now.mode == c.mode && now.coached_agent == *agent) return events{};
  if (auto ok = check_grant(ctx, (*x)->supervisor_id, c.mode, *agent); !ok) {
    return std::unexpected(ok.error());
  }
  return events{{ctx.now_us, evt::supervisor_mode_changed{c.session_id, c.mode, *agent}}};
}

decision decide_leave_supervisor(const call_state& s, const cmd::leave_supervisor& c,
                                 const decide_context& ctx) {
  auto x = find_session(s, c.session_id);
  if (!x) return fail(x);
  if (auto ok = check_session_owner(**x, c.supervisor_id); !ok) return std::unexpected(ok.error());
  if (!(*x)->active()) return events{};
  return events{{ctx.now_us, evt::supervisor_left{c.session_id}}};
}

decision decide_end(const call_state& s, const cmd::end_call& c, const decide_context& ctx) {
  auto seg = find_segment(s, c.voice_call_id);
  if (!seg) return fail(seg);
  if (auto ok = check_text("reason", c.reason, id_bytes_max); !ok) {
    return std::unexpected(ok.error());
  }
  if (!(*seg)->active()) return events{};
  if (auto ok = check_acting_agent(**seg, c.acting_agent); !ok) return std::unexpected(ok.error());
  emitter emit{ctx.now_us, {}};
  close_children(s, c.voice_call_id, {}, emit);
  emit(evt::call_ended{c.voice_call_id, c.reason.empty() ? std::string("hangup") : c.reason});
  return std::move(emit.out);
}

}  // namespace


decision decide_flows(const call_state& s, const command_body& c, const decide_context& ctx) {
  return std::visit(
      [&](const auto& x) -> decision {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, cmd::start_consult>) {
          return decide_start_consult(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::complete_consult>) {
          return decide_end_consult<evt::consult_completed>(s, x.consult_call_id, true, ctx);
        } else if constexpr (std::is_same_v<T, cmd::cancel_consult>) {
          return decide_end_consult<evt::consult_cancelled>(s, x.consult_call_id, false, ctx);
        } else if constexpr (std::is_same_v<T, cmd::complete_warm_transfer>) {
          return decide_warm_transfer(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::blind_transfer>) {
          return decide_blind_transfer(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::merge_conference>) {
          return decide_merge(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::join_supervisor>) {
          return decide_join_supervisor(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::change_supervisor_mode>) {
          return decide_change_mode(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::leave_supervisor>) {
          return decide_leave_supervisor(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::end_call>) {
          return decide_end(s, x, ctx);
        } else {
          return decide_post(s, c, ctx);
        }
      },
      c);
}

}  // namespace backline::domain::rules
