#pragma once
// The subcommands that read the projections (projections/: RocksDB read models kept by the
// projector): `calls get ID` (the VoiceCall view), `calls list`, `chain`, `report`, `replay`.
//
// Contract
// - The store is opened read-only (a RocksDB secondary of `<data>/projections`), so these
//   commands run beside a live engine.
// - Each `run_*` returns the process exit code and prints its errors on stderr with what to do
//   next. Everything that does not depend on projections/ (arguments, output, the SVG chart)
//   is done here, so wiring a query is one function in cli_views.cc.
// - Built from cli_views.cc over the projections library (cli_views_projections.cc).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/cli_output.h"

namespace backline::cli {

struct view_options {
  std::string data_dir = "var";
  format output = format::jsonl;
};

struct calls_list_options : view_options {
  std::string type;      // inbound | outbound | internal
  std::string agent;     // owner agent id
  std::string queue;     // queue name
  std::string parent;    // parent voice call id (consults, supervisor sessions)
  std::string from, to;  // created in [from, to): RFC 3339, Unix µs or "now"
  std::size_t limit = 100;
};

struct report_options : view_options {
  std::string name;      // see report_names()
  std::string from, to;  // the reported interval [from, to)
  std::string by;        // group by: none | day | hour
  std::string svg_file;  // when set, also draw the report as an SVG chart there
};

struct replay_options : view_options {
  bool verify = false;  // rebuild in a scratch store and compare digests with the live one
};

// The reports `backline report` knows, for --help and for errors.
std::vector<std::string> report_names();

int run_calls_get_view(const view_options& options, const std::string& voice_call_id);
int run_calls_list(const calls_list_options& options);
int run_chain(const view_options& options, const std::string& voice_call_id);
int run_report(const report_options& options);
int run_replay(const replay_options& options);

// Whether this build can read projections: always, since projections/ is part of every build.
bool views_available();

}  // namespace backline::cli
