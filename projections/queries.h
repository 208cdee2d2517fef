#pragma once
// Queries on the projection store: a VoiceCall record, its transcript and conversation events,
// the conversation tree of any voice call (the internal-call chain), and filtered listings.
//
// Every query reads the store as it is (a read-only store reads as of its last `refresh`), runs
// on the caller's thread, and returns errc values of store.h; an unknown id is an empty result,
// not an error. Records are the JSON objects of projections/voice_call.h.

#include <cstdint>
#include <expected>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/domain/call.h"
#include "projections/store.h"

namespace backline::projections {

// `backline calls get ID`: one point read.
std::expected<std::optional<nlohmann::json>, std::error_code> get_call(const store& st,
                                                                       std::string_view id);
// The transcript messages (in arrival order) and conversation events of one voice call; an
// empty array when there are none.
std::expected<nlohmann::json, std::error_code> transcript(const store& st, std::string_view id);
std::expected<nlohmann::json, std::error_code> conversation_events(const store& st,
                                                                   std::string_view id);

// `backline chain ID`: from any voice call id of a conversation, the whole tree:
// {"conversation_id", "requested_id", "segments": [customer-facing segments in order (the
// customer call, then each transfer segment), each a summary with "children": the consults and
// supervisor sessions on it, and the internal calls placed from it (their own conversations,
// linked by parent_call_id)]}. A summary says who (owner, agents with roles, supervisor and its
// modes), when (start, accept, end) and how long (duration_s, agent_interaction_duration_s,
// holds). Reads: one point read (id -> root), one multi-get of the first 8 chain entries (root ->
// segments; a prefix scan only for a longer chain), one by_parent prefix scan per segment, one
// multi-get of the records.
std::expected<std::optional<nlohmann::json>, std::error_code> chain(const store& st,
                                                                    std::string_view id);
// The tree as indented text, one line per voice call, durations only (no instants):
//   C customer Inbound owner=alice 300s holds=1/30s next=D
//     K consult alice->sam 45s consult_completed
std::string render_chain(const nlohmann::json& chain);

inline constexpr std::size_t list_limit_max = 10'000;

// `backline calls list`: every criterion that is set must hold. Time is the start time, in
// [from_us, to_us). `agent` matches the owner and every agent, specialist or supervisor who took
// part. Results are in start time order (then id), at most `limit` (capped at list_limit_max).
struct list_filter {
  std::optional<domain::call_type> type;
  std::string agent, queue, parent;
  std::int64_t from_us = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_us = std::numeric_limits<std::int64_t>::max();
  std::size_t limit = 100;
};
std::expected<std::vector<nlohmann::json>, std::error_code> list_calls(const store& st,
                                                                       const list_filter& f);

// Visits the records whose start time is in [from_us, to_us), in start time order, until
// `visit` returns false (the reports' scan). Records are read in chunks of 256.
std::error_code for_each_call(const store& st, std::int64_t from_us, std::int64_t to_us,
                              const std::function<bool(const nlohmann::json&)>& visit);

// "Inbound" -> call_type::inbound (Salesforce spelling, case-insensitive); nullopt otherwise.
std::optional<domain::call_type> parse_call_type(std::string_view s);

}  // namespace backline::projections
