#pragma once
// Time travel: a voice call as it stood at an instant, folded from the log through the domain
// (domain::evolve), with who could hear whom (domain::compute_hear_matrix). Shared by
// `backline calls get --at` and `GET /v1/voice-calls/{id}?at=`.
//
// Contract
// - Needs only the log and the pure domain; no read model. The whole conversation is folded
//   (every VoiceCall segment of it: transfers, consults, supervisor sessions), because the hear
//   matrix is a function of the whole conversation; `voice_call_id` says which record was asked
//   for. Reading one conversation stream is bounded by the domain (segments_per_call_max, ...).
// - Events whose occurred-at is at or before `at_us` are folded, in stream version order.
// - Runs on the caller's thread (RocksDB reads of one stream); the log's readers are thread-safe.
// - Failures come back as a `snapshot_error` with the facts; the caller words the sentence
//   (a flag for the CLI, a query parameter for the API).

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/domain/call.h"

namespace backline::eventlog {
class log;
}

namespace backline::projections {

struct call_snapshot {
  std::string voice_call_id;  // the record asked for
  std::string stream;         // "call/<root>"
  std::string tenant;         // the call center of its events
  std::int64_t at_us = 0;
  std::int64_t last_event_us = 0;  // occurred-at of the last event folded
  domain::call_state state;
};

enum class snapshot_errc {
  not_found,   // no such voice call in the log
  not_yet,     // it exists, but was created after `at_us` (`created_at_us` says when)
  unreadable,  // the log could not be read (`detail`)
  corrupt,     // an event of the stream is not a call event (`position`), or the index names a
               // stream that never created the call
};

struct snapshot_error {
  snapshot_errc code = snapshot_errc::not_found;
  std::string stream;
  std::int64_t created_at_us = 0;  // not_yet
  std::uint64_t position = 0;      // corrupt: the offending event, 0 when none
  std::string detail;
};

// The conversation stream ("call/<root>") of a voice call id: an alias (transfer segment,
// consult, supervisor session) or a root id. Empty when the log holds no such voice call.
std::string find_call_stream(eventlog::log& log, std::string_view voice_call_id);

// Folds `voice_call_id`'s conversation up to `at_us` (INT64_MAX: everything).
std::expected<call_snapshot, snapshot_error> fold_call_at(eventlog::log& log,
                                                          const std::string& voice_call_id,
                                                          std::int64_t at_us);

// {"voice_call_id", "conversation_id", "stream", "as_of", "events_folded", "last_event_at",
//  "customer_segment_id", "voice_calls": [...],
//  "hear_matrix": {"parties": [...], "hears": {"<listener>": ["<speaker>", ...]}}}
nlohmann::json snapshot_json(const call_snapshot& s);
// The VoiceCall record of segment `g` of the snapshot, as the VoiceCall view stores it.
nlohmann::json voice_call_json(const call_snapshot& s, const domain::segment& g);
// The hear matrix as "listener -> the speakers it hears", parties sorted.
nlohmann::json hear_json(const domain::hear_matrix& m);

}  // namespace backline::projections
