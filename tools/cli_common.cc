#include "tools/cli_common.h"

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "eventlog/log.h"
#include "projections/instant.h"

namespace backline::cli {
namespace {

volatile std::sig_atomic_t stop_flag = 0;
void on_stop_signal(int) {
  stop_flag = 1;
}

std::optional<std::int64_t> parse_integer(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

int report(const cli_error& e) {
  fmt::print(stderr, "backline: {}\n", e.message);
  return e.code;
}

void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

bool stop_requested() {
  return stop_flag != 0;
}

std::int64_t system_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

result<std::int64_t> parse_instant(std::string_view text, std::int64_t now_us,
                                   std::string_view flag) {
  if (auto v = projections::parse_instant_us(text, now_us)) return *v;
  return fail(exit_usage, fmt::format("{}: '{}' is not a time; use RFC 3339 "
                                      "(2024-05-01T12:00:00Z), Unix microseconds or 'now'",
                                      flag, text));
}

result<start_point> parse_start(std::string_view text, std::int64_t now_us) {
  if (text == "beginning") return start_point{start_point::kind::position, 1, 0};
  if (auto v = parse_integer(text); v && *v < unix_us_min) {
    return start_point{start_point::kind::position, static_cast<std::uint64_t>(*v), 0};
  }
  if (auto v = parse_instant(text, now_us, "--from"); v) {
    return start_point{start_point::kind::instant, 0, *v};
  }
  return fail(exit_usage, fmt::format("--from: '{}' is neither a log position, a time (RFC 3339, "
                                      "Unix microseconds, 'now') nor 'beginning'",
                                      text));
}

result<void> require_log_dir(const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // RocksDB keeps a CURRENT file in every database directory: without it there is no log, and
  // opening a secondary there would only print RocksDB's own error.
  if (!fs::exists(fs::path(data_dir) / "CURRENT", ec)) {
    return fail(exit_not_found, fmt::format("no event log under {}: start backlined --data {} "
                                            "first, or pass the right --data",
                                            data_dir, data_dir));
  }
  return {};
}

result<std::unique_ptr<eventlog::log>> open_log(const std::string& data_dir) {
  if (auto ok = require_log_dir(data_dir); !ok) return std::unexpected(ok.error());
  eventlog::options o;
  o.dir = data_dir;
  o.read_only = true;
  auto log = eventlog::log::open(o);
  if (!log) {
    return fail(exit_not_found,
                fmt::format("cannot open the event log under {} read-only ({}): check the "
                            "directory's permissions",
                            data_dir, log.error().message()));
  }
  return std::move(*log);
}

std::uint64_t refresh_committed(eventlog::log& log) {
  // An empty read catches the secondary up and refreshes committed_position().
  (void)log.read_from(std::numeric_limits<std::uint64_t>::max(), 0);
  return log.committed_position();
}

}  // namespace backline::cli
