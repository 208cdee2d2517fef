// The call aggregate's `decide` for the record around the conversation: wrap-up, transcripts,
// conversation events, recording and call attributes.
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

bool seen(const std::vector<std::string>& sorted_ids, const std::string& id) {
  return std::ranges::binary_search(sorted_ids, id);
}

decision decide_wrap_up(const call_state& s, const cmd::wrap_up& c, const decide_context& ctx) {
  auto seg = find_segment(s, c.voice_call_id);
  if (!seg) return fail(seg);
  const segment& g = **seg;
  if (auto ok = check_id("agent_id", c.agent_id); !ok) return std::unexpected(ok.error());
  if (auto ok = check_text("disposition_code", c.disposition_code, id_bytes_max); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_text("notes", c.notes); !ok) return std::unexpected(ok.error());
  if (g.active()) {
    return reject(errc::call_not_ended,
                  fmt::format("voice call {} is still live: wrap up after it ends", g.id));
  }
  const participant* p = g.find(c.agent_id);
  if (c.agent_id != g.owner_agent &&
      (p == nullptr || p->role == participant_role::customer)) {
    return reject(errc::participant_not_found,
                  fmt::format("{} did not handle voice call {}", c.agent_id, g.id));
  }
  if (g.wrapped_up && g.disposition_code == c.disposition_code && g.wrap_up_notes == c.notes) {
    return events{};
  }
  return events{{ctx.now_us, evt::wrap_up_recorded{c.voice_call_id, c.agent_id,
                                                   c.disposition_code, c.notes}}};
}

decision decide_transcript(const call_state& s, const cmd::add_transcript& c,
                           const decide_context& ctx) {
  auto seg = find_segment(s, c.voice_call_id);
  if (!seg) return fail(seg);
  if (auto ok = check_id("message_id", c.message_id); !ok) return std::unexpected(ok.error());
  if (seen(s.message_ids, c.message_id)) return events{};
  if (auto ok = check_text("speaker", c.speaker, id_bytes_max); !ok) return fail(ok);
  if (auto ok = check_text("sender_type", c.sender_type, id_bytes_max); !ok) return fail(ok);
  if (auto ok = check_text("text", c.text); !ok) return std::unexpected(ok.error());
  if (c.start_ms < 0 || c.end_ms < c.start_ms) {
    return reject(errc::invalid_argument, "need 0 <= start_ms <= end_ms");
  }
  if (s.message_ids.size() >= transcript_messages_max) {
    return reject(errc::limit_exceeded, fmt::format("a conversation holds at most {} messages",
                                                    transcript_messages_max));
  }
  return events{{ctx.now_us, evt::transcript_message_added{c.voice_call_id, c.message_id,
                                                           c.speaker, c.sender_type, c.start_ms,
                                                           c.end_ms, c.text}}};
}

decision decide_conversation_event(const call_state& s, const cmd::add_conversation_event& c,
                                   const decide_context& ctx) {
  auto seg = find_segment(s, c.voice_call_id);
  if (!seg) return fail(seg);
  if (auto ok = check_id("event_id", c.event_id); !ok) return std::unexpected(ok.error());
  if (seen(s.conversation_event_ids, c.event_id)) return events{};
  if (auto ok = check_id("type", c.type); !ok) return std::unexpected(ok.error());
  if (auto ok = check_text("payload", c.payload); !ok) return std::unexpected(ok.error());
  if (c.post_call && (*seg)->active()) {
    return reject(errc::call_not_ended, "post-call conversation events come after the call ends");
  }
  if (!c.post_call && !(*seg)->active()) {
    return reject(errc::call_ended, "real-time conversation events need a live call");
  }
  if (s.conversation_event_ids.size() >= conversation_events_max) {
    return reject(errc::limit_exceeded, fmt::format("a conversation holds at most {} events",
                                                    conversation_events_max));
  }
  return events{{ctx.now_us, evt::conversation_event_recorded{c.voice_call_id, c.event_id,
                                                              c.post_call, c.type, c.payload}}};
}

decision decide_start_recording(const call_state& s, const cmd::start_recording& c,
                                const decide_context& ctx) {
  auto seg = find_connected(s, c.voice_call_id);
  if (!seg) return fail(seg);
  if (auto ok = check_text("location", c.location, 1024); !ok) return fail(ok);
  if (!(*seg)->recording_allowed) {
    return reject(errc::recording_forbidden,
                  fmt::format("the recording policy forbids recording voice call {}", c.voice_call_id));
  }
  const recording_state r = (*seg)->recording;
  if (r == recording_state::recording || r == recording_state::paused) return events{};
  return events{{ctx.now_us, evt::recording_started{c.voice_call_id, c.location}}};
}

// Pause, resume and stop move the recording between states; `from` lists where each may start
// and `already` is the state that makes the command a repeat.
template <class Event>
decision decide_recording_step(const call_state& s, const std::string& id,
                               std::initializer_list<recording_state> from,
                               recording_state already, const decide_context& ctx) {
  auto seg = find_segment(s, id);
  if (!seg) return fail(seg);
  const recording_state r = (*seg)->recording;
  if (r == already) return events{};
  if (std::ranges::find(from, r) == from.end()) {
    return reject(errc::recording_not_active,
                  fmt::format("voice call {} recording is {}", id, to_string(r)));
  }
  return events{{ctx.now_us, Event{id}}};
}

// Non-empty fields overwrite; custom attributes merge by key. The event carries the result.
decision decide_attributes(const call_state& s, const cmd::update_attributes& c,
                           const decide_context& ctx) {
  auto seg = find_segment(s, c.voice_call_id);
  if (!seg) return fail(seg);
  if (auto ok = check_attributes(c.attributes); !ok) return std::unexpected(ok.error());
  call_attributes merged = (*seg)->attributes;
  const call_attributes& a = c.attributes;
  for (auto [to, from] : {std::pair{&merged.case_id, &a.case_id},
                          {&merged.contact_id, &a.contact_id},
                          {&merged.account_id, &a.account_id}, {&merged.subject, &a.subject},
                          {&merged.case_category, &a.case_category}}) {
    if (!from->empty()) *to = *from;
  }
  for (const auto& [key, value] : a.custom) {
    auto it = std::ranges::lower_bound(merged.custom, key, {}, &std::pair<std::string, std::string>::first);
    if (it != merged.custom.end() && it->first == key) {
      it->second = value;
    } else {
      merged.custom.insert(it, {key, value});
    }
  }
  if (merged.custom.size() > custom_attributes_max) {
    return reject(errc::limit_exceeded,
                  fmt::format("at most {} custom attributes per call", custom_attributes_max));
  }
  if (merged == (*seg)->attributes) return events{};
  return events{{ctx.now_us, evt::attributes_updated{c.voice_call_id, std::move(merged)}}};
}

// The record's queue: a directory queue, on a segment that has not ended.
decision decide_queue(const call_state& s, const cmd::assign_queue& c, const decide_context& ctx) {
  auto seg = find_segment(s, c.voice_call_id);
  if (!seg) return fail(seg);
  if (auto ok = check_id("queue", c.queue); !ok) return std::unexpected(ok.error());
  if (ctx.dir != nullptr && ctx.dir->find_queue(c.queue) == nullptr) {
    return reject(errc::invalid_argument, fmt::format("the directory has no queue {}", c.queue));
  }
  if ((*seg)->queue == c.queue) return events{};
  if ((*seg)->status == segment_status::ended) {
    return reject(errc::call_ended, fmt::format("voice call {} has ended", c.voice_call_id));
  }
  return events{{ctx.now_us, evt::queue_assigned{c.voice_call_id, c.queue}}};
}

}  // namespace

decision decide_post(const call_state& s, const command_body& c, const decide_context& ctx) {
  using rs = recording_state;
  return std::visit(
      [&](const auto& x) -> decision {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, cmd::wrap_up>) {
          return decide_wrap_up(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::add_transcript>) {
          return decide_transcript(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::add_conversation_event>) {
          return decide_conversation_event(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::start_recording>) {
          return decide_start_recording(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::pause_recording>) {
          return decide_recording_step<evt::recording_paused>(s, x.voice_call_id, {rs::recording},
                                                             rs::paused, ctx);
        } else if constexpr (std::is_same_v<T, cmd::resume_recording>) {
          return decide_recording_step<evt::recording_resumed>(s, x.voice_call_id, {rs::paused},
                                                              rs::recording, ctx);
        } else if constexpr (std::is_same_v<T, cmd::stop_recording>) {
          return decide_recording_step<evt::recording_stopped>(
              s, x.voice_call_id, {rs::recording, rs::paused}, rs::stopped, ctx);
        } else if constexpr (std::is_same_v<T, cmd::update_attributes>) {
          return decide_attributes(s, x, ctx);
        } else if constexpr (std::is_same_v<T, cmd::assign_queue>) {
          return decide_queue(s, x, ctx);
        } else {
          // Every other command is decided in call.cc or call_flows.cc before reaching here.
          static_assert(!sizeof(T*) || true);
          return reject(errc::invalid_argument, "unhandled command");
        }
      },
      c);
}

}  // namespace backline::domain::rules
