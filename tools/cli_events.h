#pragma once
// `backline events tail`: print events of the log, or of one stream, and optionally follow it.
//
// Contract
// - Reads the log read-only (a RocksDB secondary): safe while backlined runs.
// - Without `from`, prints the last `count` events that pass the filters. With it, prints every
//   matching event from that point on. `--follow` then polls the engine's log every
//   `poll_interval_ms` until SIGINT/SIGTERM (install_stop_handlers) and exits 0.
// - A time in `from` starts at the first event that occurred at or after it (found by binary
//   search: occurred-at follows the log's order up to clock skew between actors).
// - Returns the process exit code; errors are printed on stderr with what to do next.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/cli_output.h"

namespace backline::cli {

struct tail_options {
  std::string data_dir = "var";
  std::string from;  // empty: the last `count` events
  std::size_t count = 20;
  std::string stream;  // e.g. "call/<root id>", "agent/alice"; empty: the whole log
  std::string type;    // event type name, e.g. "call_created"; empty: every type
  bool follow = false;
  std::int64_t poll_interval_ms = 200;
  format output = format::jsonl;
};

int run_events_tail(const tail_options& options);

// The columns of an event record (schemas::to_json) in `f`: what every events tail prints, from
// the log or from Kafka (cli_kafka_consume.h).
std::vector<column> event_columns(format f);

// Every event type name the codec knows ("call_created", ..., "directory_replaced", ...),
// sorted and unique.
std::vector<std::string> known_event_types();

}  // namespace backline::cli
