#pragma once
// What every `backline` subcommand shares: exit codes, errors that tell the user what to do next,
// time and position arguments, and opening the event log read-only.
//
// Contract
// - Nothing here throws across its boundary; failures come back as `cli_error`, whose `code` is
//   the process exit code and whose `message` is one sentence for the operator.
// - `open_log` opens the log as a RocksDB secondary (eventlog::options::read_only), so the CLI
//   reads a live engine's log without disturbing it; each read catches up with the engine.

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace backline::eventlog {
class log;
}

namespace backline::cli {

// The process exit codes, as `backline --help` lists them.
enum exit_code : int {
  exit_ok = 0,
  exit_check_failed = 1,  // a verification or a diff failed
  exit_usage = 2,         // bad flags or arguments
  exit_not_found = 3,     // an id, a data directory or a file is missing; an I/O error
};

struct cli_error {
  int code = exit_not_found;
  std::string message;  // "what failed: what to do next"
};

template <class T>
using result = std::expected<T, cli_error>;

inline std::unexpected<cli_error> fail(int code, std::string message) {
  return std::unexpected(cli_error{code, std::move(message)});
}

// Prints "backline: <message>" on stderr and returns its code.
int report(const cli_error& e);

// An instant in Unix microseconds: RFC 3339 ("2024-05-01T12:00:00Z", fractions and offsets
// allowed), Unix microseconds ("1714564800000000") or "now". `now_us` is the caller's clock.
result<std::int64_t> parse_instant(std::string_view text, std::int64_t now_us,
                                   std::string_view flag);

// Where `--from` starts: a log position, an instant, or the beginning of the log.
// A bare number below `unix_us_min` is a position, above it Unix microseconds: positions never
// get that large (10^15 events) and no event predates 2001.
inline constexpr std::int64_t unix_us_min = 1'000'000'000'000'000;
struct start_point {
  enum class kind { position, instant } what = kind::position;
  std::uint64_t position = 1;
  std::int64_t at_us = 0;
};
result<start_point> parse_start(std::string_view text, std::int64_t now_us);

std::int64_t system_now_us();

// Opens the event log under `data_dir` read-only. A directory without a log is exit_not_found
// with the hint to start backlined there first.
// exit_not_found with a hint when `data_dir` holds no event log.
result<void> require_log_dir(const std::string& data_dir);
result<std::unique_ptr<eventlog::log>> open_log(const std::string& data_dir);

// The log's last committed position, caught up with the engine first (a secondary's
// committed_position() is only as fresh as its last read).
std::uint64_t refresh_committed(eventlog::log& log);

// SIGINT / SIGTERM ask a long-running command (`events tail --follow`) to stop: it finishes the
// batch it prints, closes its output (a json array) and exits 0.
void install_stop_handlers();
bool stop_requested();

}  // namespace backline::cli
