// VoiceCall records and their index entries, from a folded conversation.
#include "projections/voice_call.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "projections/json_text.h"
#include "projections/keys.h"
#include "schemas/codec.h"

namespace backline::projections {

std::string_view salesforce_call_type(domain::call_type t) {
  switch (t) {
    case domain::call_type::inbound:
      return "Inbound";
    case domain::call_type::outbound:
      return "Outbound";
    case domain::call_type::internal:
      return "Internal";
  }
  return "";
}

namespace {

// Salesforce's picklist spelling of the domain's enums.
std::string_view sf_method(domain::initiation_method m) {
  switch (m) {
    case domain::initiation_method::inbound:
      return "Inbound";
    case domain::initiation_method::outbound:
      return "Outbound";
    case domain::initiation_method::transfer:
      return "Transfer";
    case domain::initiation_method::callback:
      return "Callback";
    case domain::initiation_method::internal:
      return "Internal";
  }
  return "";
}
std::string_view sf_disposition(domain::call_disposition d) {
  switch (d) {
    case domain::call_disposition::new_call:
      return "new";
    case domain::call_disposition::in_progress:
      return "in-progress";
    case domain::call_disposition::completed:
      return "completed";
  }
  return "";
}

using json_text::writer;

constexpr std::size_t rfc3339_bytes = 27;  // 2024-05-01T12:00:00.123456Z

void put_digits(char* out, unsigned v, int width) {
  for (int i = width - 1; i >= 0; --i, v /= 10) out[i] = static_cast<char>('0' + v % 10);
}

// RFC 3339 with microseconds into `out`; false for a year outside 0..9999 (never produced),
// which schemas::format_rfc3339_us handles.
bool format_instant(char (&out)[rfc3339_bytes], std::int64_t unix_us) {
  // Days from the epoch to a civil date (H. Hinnant's algorithm, as std::chrono does).
  constexpr std::int64_t day_us = 86'400'000'000;
  std::int64_t days = unix_us / day_us, rem = unix_us % day_us;
  if (rem < 0) {
    rem += day_us;
    --days;
  }
  const std::int64_t z = days + 719'468;
  const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const auto doe = static_cast<unsigned>(z - era * 146'097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 0 || y > 9999) return false;
  const auto seconds = static_cast<unsigned>(rem / 1'000'000);
  put_digits(out, static_cast<unsigned>(y), 4);
  out[4] = '-';
  put_digits(out + 5, m, 2);
  out[7] = '-';
  put_digits(out + 8, d, 2);
  out[10] = 'T';
  put_digits(out + 11, seconds / 3600, 2);
  out[13] = ':';
  put_digits(out + 14, seconds / 60 % 60, 2);
  out[16] = ':';
  put_digits(out + 17, seconds % 60, 2);
  out[19] = '.';
  put_digits(out + 20, static_cast<unsigned>(rem % 1'000'000), 6);
  out[26] = 'Z';
  return true;
}

// An instant as two fields: "<name>" (RFC 3339, null when unset) and "<name>_us".
void put_time(writer& w, std::string_view name, std::int64_t us) {
  w.key(name);
  if (us == 0) {
    w.null();
  } else if (char text[rfc3339_bytes]; format_instant(text, us)) {
    w.string({text, rfc3339_bytes});
  } else {
    w.string(schemas::format_rfc3339_us(us));
  }
  char key[32];
  assert(name.size() + 3 <= sizeof key && "the instants of this file have short names");
  const std::size_t n = std::min(name.size(), sizeof key - 3);
  std::memcpy(key, name.data(), n);
  std::memcpy(key + n, "_us", 3);
  w.key({key, n + 3});
  if (us == 0) {
    w.null();
  } else {
    w.number(us);
  }
}
// Whole seconds (Salesforce's *InSeconds fields), null when either end is unset.
void put_seconds_between(writer& w, std::string_view name, std::int64_t from_us,
                         std::int64_t to_us) {
  w.key(name);
  if (from_us == 0 || to_us == 0) {
    w.null();
  } else {
    w.number(std::max<std::int64_t>(0, to_us - from_us) / 1'000'000);
  }
}

// Keys in sorted order in every object below: the bytes must be dump()'s.
void put_participants(writer& w, const domain::segment& seg) {
  w.key("participants");
  w.begin_array();
  for (const auto& p : seg.participants) {
    w.begin_object();
    w.field("held", p.held);
    w.field("id", p.id);
    put_time(w, "joined_at", p.joined_at_us);
    put_time(w, "left_at", p.left_at_us);
    w.field("muted", p.muted);
    w.field("number", p.number);
    w.field("present", p.present);
    w.field("role", domain::to_string(p.role));
    w.end_object();
  }
  w.end_array();
}

// The supervisor session's timeline: each mode from its start to the next change (or the end).
void put_modes(writer& w, const domain::segment& seg) {
  w.key("supervisor_modes");
  w.begin_array();
  for (std::size_t i = 0; i < seg.modes.size(); ++i) {
    const auto& m = seg.modes[i];
    const std::int64_t until = i + 1 < seg.modes.size() ? seg.modes[i + 1].at_us : seg.ended_at_us;
    w.begin_object();
    w.field("coached_agent", m.coached_agent);
    put_seconds_between(w, "duration_s", m.at_us, until);
    put_time(w, "from", m.at_us);
    w.field("mode", domain::to_string(m.mode));
    put_time(w, "until", until);
    w.end_object();
  }
  w.end_array();
}

// `custom` is sorted by key with unique keys (domain::call_attributes), as a JSON object's are.
void put_custom(writer& w, const domain::call_attributes& a) {
  w.key("custom_attributes");
  w.begin_object();
  for (const auto& [k, v] : a.custom) {
    w.data_key(k);
    w.string(v);
  }
  w.end_object();
}

}  // namespace

void append_rfc3339_us(std::string& out, std::int64_t unix_us) {
  char text[rfc3339_bytes];
  if (format_instant(text, unix_us)) {
    out.append(text, rfc3339_bytes);
  } else {
    out += schemas::format_rfc3339_us(unix_us);  // never produced; the slow path agrees
  }
}

void append_voice_call_record(std::string& out, const domain::call_state& conv,
                              const domain::segment& s, std::string_view call_center) {
  const domain::call_attributes& a = s.attributes;
  writer w(out);
  w.begin_object();
  put_time(w, "accept_time", s.answered_at_us);
  put_seconds_between(w, "agent_interaction_duration_s", s.answered_at_us, s.ended_at_us);
  w.field("call_center", call_center);
  w.field("call_disposition", sf_disposition(s.disposition()));
  w.field("call_type", salesforce_call_type(s.type));
  w.field("case_category", a.case_category);
  w.field("conversation_events", s.conversation_events);
  w.field("conversation_id", conv.id);
  put_custom(w, a);
  w.field("disposition_code", s.disposition_code);
  put_seconds_between(w, "duration_s", s.created_at_us, s.ended_at_us);
  w.field("end_reason", s.end_reason);
  put_time(w, "end_time", s.ended_at_us);
  w.null_field("enqueue_time");  // not in the call stream (see README: fields the domain lacks)
  w.field("from_number", s.from);
  w.field("id", s.id);
  w.field("initiation_method", sf_method(s.method));
  w.field("initiator_agent", s.initiator_agent);
  w.field("longest_hold_duration_s", s.holds.longest_us / 1'000'000);
  w.field("next_call_id", s.next_id);
  w.field("number_of_holds", s.holds.count);
  w.field("owner_agent", s.owner_agent);
  w.field("parent_voice_call_id", s.parent_id);
  put_participants(w, s);
  w.field("previous_call_id", s.previous_id);
  w.field("queue", s.queue);
  w.field("recording_allowed", s.recording_allowed);
  w.field("recording_location", s.recording_location);
  w.field("recording_state", domain::to_string(s.recording));
  w.field("related_account_id", a.account_id);
  w.field("related_case_id", a.case_id);
  w.field("related_contact_id", a.contact_id);
  w.field("ringing_agent", s.ringing_agent);
  w.field("segment_kind", domain::to_string(s.kind));
  put_time(w, "start_time", s.created_at_us);
  w.field("status", domain::to_string(s.status));
  w.field("subject", a.subject);
  w.field("supervisor_id", s.supervisor_id);
  put_modes(w, s);
  w.field("to_number", s.to);
  w.field("total_hold_duration_s", s.holds.total_us / 1'000'000);
  w.field("total_hold_duration_us", s.holds.total_us);
  w.field("transcript_messages", s.transcript_messages);
  w.field("vendor_call_key", s.vendor_call_key);
  w.field("wrap_up_notes", s.wrap_up_notes);
  w.field("wrapped_up", s.wrapped_up);
  w.end_object();
}

std::string voice_call_record(const domain::call_state& conv, const domain::segment& seg,
                              std::string_view call_center) {
  std::string out;
  append_voice_call_record(out, conv, seg, call_center);
  return out;
}

void append_transcript_record(std::string& out, const domain::evt::transcript_message_added& e,
                              std::int64_t at_us) {
  writer w(out);
  w.begin_object();
  w.field("end_ms", e.end_ms);
  w.field("message_id", e.message_id);
  w.field("recorded_at_us", at_us);
  w.field("sender_type", e.sender_type);
  w.field("speaker", e.speaker);
  w.field("start_ms", e.start_ms);
  w.field("text", e.text);
  w.end_object();
}

std::string transcript_record(const domain::evt::transcript_message_added& e, std::int64_t at_us) {
  std::string out;
  append_transcript_record(out, e, at_us);
  return out;
}

void append_conversation_event_record(std::string& out,
                                      const domain::evt::conversation_event_recorded& e,
                                      std::int64_t at_us) {
  writer w(out);
  w.begin_object();
  w.field("event_id", e.event_id);
  w.field("payload", e.payload);  // the JSON text as given: the projection does not reinterpret it
  w.field("post_call", e.post_call);
  w.field("recorded_at_us", at_us);
  w.field("type", e.type);
  w.end_object();
}

std::string conversation_event_record(const domain::evt::conversation_event_recorded& e,
                                      std::int64_t at_us) {
  std::string out;
  append_conversation_event_record(out, e, at_us);
  return out;
}

namespace {

// Fills `out` from its first element on, reusing the elements (and their strings' capacity)
// that an earlier call left: a projector calls this for every conversation it flushes.
class entry_sink {
 public:
  explicit entry_sink(std::vector<index_entry>& out) : out_(out) {}
  ~entry_sink() { out_.resize(used_); }
  entry_sink(const entry_sink&) = delete;
  entry_sink& operator=(const entry_sink&) = delete;

  index_entry& next(model m) {
    if (used_ == out_.size()) out_.emplace_back();
    index_entry& e = out_[used_++];
    e.which = m;
    e.key.clear();
    e.value.clear();
    return e;
  }
  // An index entry: `prefix` (a name and \0, a type byte, or nothing), the segment's start and
  // id (keys::index_key); no value.
  void index(model m, std::string_view prefix, std::int64_t at_us, std::string_view id) {
    index_entry& e = next(m);
    e.key.append(prefix);
    keys::append_time(e.key, at_us);
    e.key.append(id);
  }
  void named_index(model m, std::string_view name, std::int64_t at_us, std::string_view id) {
    index_entry& e = next(m);
    e.key.append(name).push_back('\0');
    keys::append_time(e.key, at_us);
    e.key.append(id);
  }

 private:
  std::vector<index_entry>& out_;
  std::size_t used_ = 0;
};

}  // namespace

void index_entries(const domain::call_state& conv, std::vector<index_entry>& out) {
  {
    entry_sink sink(out);
    // A handful of agents per segment; kept between calls so that a call allocates nothing.
    thread_local std::vector<std::string_view> agents;
    for (std::size_t i = 0; i < conv.segments.size(); ++i) {
      const auto& s = conv.segments[i];
      const std::int64_t t = s.created_at_us;
      index_entry& chain = sink.next(model::chains);  // keys::chain_key
      chain.key.append(conv.id).push_back('\0');
      keys::append_u16_be(chain.key, static_cast<std::uint16_t>(i));
      chain.value.append(domain::to_string(s.kind)).append(1, ':').append(s.id);
      index_entry& root = sink.next(model::segment_roots);
      root.key.append(s.id);
      root.value.append(conv.id);
      sink.index(model::by_time, {}, t, s.id);
      const char type = static_cast<char>(s.type);
      sink.index(model::by_type, std::string_view(&type, 1), t, s.id);
      // An agent finds the records they own and the ones they took part in (a specialist's
      // consults, a supervisor's sessions).
      agents.clear();
      if (!s.owner_agent.empty()) agents.push_back(s.owner_agent);
      for (const auto& p : s.participants) {
        if (p.role != domain::participant_role::customer) agents.push_back(p.id);
      }
      std::ranges::sort(agents);
      const auto [first, last] = std::ranges::unique(agents);
      agents.erase(first, last);
      for (auto a : agents) sink.named_index(model::by_agent, a, t, s.id);
      if (!s.queue.empty()) sink.named_index(model::by_queue, s.queue, t, s.id);
      if (!s.parent_id.empty()) sink.named_index(model::by_parent, s.parent_id, t, s.id);
    }
  }
  std::ranges::sort(out);
}

std::vector<index_entry> index_entries(const domain::call_state& conv) {
  std::vector<index_entry> out;
  index_entries(conv, out);
  return out;
}

}  // namespace backline::projections
