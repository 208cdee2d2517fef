#pragma once
// `backline calls get ID --at TIME`: a voice call as it stood at an instant, folded from the log
// through the domain (projections/time_travel.h), with who could hear whom.
//
// Contract
// - Needs only the log (read-only) and the pure domain; no read model. The whole conversation
//   is shown (every VoiceCall segment of it: transfers, consults, supervisor sessions), because
//   the hear matrix is a function of the whole conversation; `voice_call_id` says which record
//   was asked for.
// - Events whose occurred-at is at or before `at_us` are folded, in stream version order.
// - Unknown id, or an instant before the record existed: exit_not_found with a hint.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/domain/call.h"
#include "projections/time_travel.h"
#include "tools/cli_common.h"
#include "tools/cli_output.h"

namespace backline::eventlog {
class log;
}

namespace backline::cli {

// The fold itself lives in projections/time_travel.h (the HTTP API's `?at=` uses it too).
using projections::call_snapshot;
using projections::snapshot_json;
using projections::voice_call_json;

// Folds `voice_call_id`'s conversation up to `at_us` (INT64_MAX: everything); failures as
// sentences for the operator (exit_not_found, exit_check_failed).
result<call_snapshot> fold_call_at(eventlog::log& log, const std::string& voice_call_id,
                                   std::int64_t at_us);

// Prints a snapshot: table (sections: records, participants, supervision, hear grid), json (one
// object), jsonl (one line), csv (one row per VoiceCall record).
void print_snapshot(const call_snapshot& s, format f);

struct call_get_options {
  std::string data_dir = "var";
  std::string voice_call_id;
  std::string at;  // RFC 3339, Unix µs or "now"
  format output = format::jsonl;
};
int run_calls_get_at(const call_get_options& options);

}  // namespace backline::cli
