#include "projections/time_travel.h"

#include <algorithm>
#include <variant>
#include <vector>

#include "eventlog/log.h"
#include "projections/voice_call.h"
#include "schemas/codec.h"

namespace backline::projections {
namespace {

using nlohmann::json;

// Unset instants (0) are null, not 1970.
json instant(std::int64_t us) {
  return us == 0 ? json(nullptr) : json(schemas::format_rfc3339_us(us));
}

// Reads the whole conversation stream (bounded by the domain: a conversation is small).
std::expected<std::vector<schemas::decoded>, snapshot_error> read_conversation(
    eventlog::log& log, const std::string& stream) {
  auto records = log.read_stream(stream);
  if (!records) {
    return std::unexpected(
        snapshot_error{snapshot_errc::unreadable, stream, 0, 0, records.error().message()});
  }
  std::vector<schemas::decoded> events;
  events.reserve(records->size());
  for (const auto& r : *records) {
    auto d = schemas::decode(r.envelope);
    if (!d || !std::holds_alternative<domain::event_body>(d->payload)) {
      return std::unexpected(snapshot_error{snapshot_errc::corrupt, stream, 0, r.position,
                                            "an event that is not a call event"});
    }
    events.push_back(std::move(*d));
  }
  return events;
}

}  // namespace

std::string find_call_stream(eventlog::log& log, std::string_view voice_call_id) {
  if (auto stream = log.resolve_alias(voice_call_id)) return *stream;
  // A conversation's root id has no alias: its stream is named after it.
  std::string root = "call/" + std::string(voice_call_id);
  return log.stream_version(root) > 0 ? root : std::string{};
}

std::expected<call_snapshot, snapshot_error> fold_call_at(eventlog::log& log,
                                                          const std::string& voice_call_id,
                                                          std::int64_t at_us) {
  call_snapshot s{voice_call_id, find_call_stream(log, voice_call_id), {}, at_us, 0, {}};
  if (s.stream.empty()) return std::unexpected(snapshot_error{snapshot_errc::not_found});
  auto events = read_conversation(log, s.stream);
  if (!events) return std::unexpected(events.error());
  if (!events->empty()) s.tenant = events->front().meta.tenant;
  std::size_t folded = 0;
  for (; folded < events->size() && (*events)[folded].meta.occurred_at_us <= at_us; ++folded) {
    domain::evolve(s.state, schemas::to_event((*events)[folded]));
    s.last_event_us = (*events)[folded].meta.occurred_at_us;
  }
  if (s.state.find(voice_call_id) != nullptr) return s;
  // Not there yet at that instant: say when it appeared, so the caller can pick a later one.
  domain::call_state all = s.state;
  for (std::size_t i = folded; i < events->size(); ++i) {
    domain::evolve(all, schemas::to_event((*events)[i]));
    if (const auto* g = all.find(voice_call_id)) {
      return std::unexpected(
          snapshot_error{snapshot_errc::not_yet, s.stream, g->created_at_us, 0, {}});
    }
  }
  return std::unexpected(snapshot_error{snapshot_errc::corrupt, s.stream, 0, 0,
                                        "the log's index names a stream that never created it"});
}

json hear_json(const domain::hear_matrix& m) {
  std::vector<std::string> parties = m.parties;
  std::ranges::sort(parties);
  json hears = json::object();
  for (const auto& l : parties) {
    json heard = json::array();
    for (const auto& sp : parties) {
      if (m.hears(l, sp)) heard.push_back(sp);
    }
    hears[l] = std::move(heard);
  }
  return {{"parties", parties}, {"hears", std::move(hears)}};
}

json voice_call_json(const call_snapshot& s, const domain::segment& g) {
  // The VoiceCall view's own record (voice_call.h), so time travel and the read models print
  // the same record.
  return json::parse(voice_call_record(s.state, g, s.tenant), nullptr, false);
}

json snapshot_json(const call_snapshot& s) {
  json records = json::array();
  for (const auto& g : s.state.segments) records.push_back(voice_call_json(s, g));
  return {{"voice_call_id", s.voice_call_id},
          {"conversation_id", s.state.id},
          {"stream", s.stream},
          {"as_of", schemas::format_rfc3339_us(s.at_us)},
          {"events_folded", s.state.version},
          {"last_event_at", instant(s.last_event_us)},
          {"customer_segment_id", s.state.customer_segment_id},
          {"voice_calls", std::move(records)},
          {"hear_matrix", hear_json(domain::compute_hear_matrix(s.state))}};
}

}  // namespace backline::projections
