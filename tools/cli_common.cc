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

namespace backline::cli {
namespace {

volatile std::sig_atomic_t stop_flag = 0;
void on_stop_signal(int) {
  stop_flag = 1;
}

// Reads exactly `digits` decimal digits at `pos`.
bool read_digits(std::string_view s, std::size_t& pos, std::size_t digits, int& out) {
  if (pos + digits > s.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += digits;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, std::string_view any_of) {
  if (pos >= s.size() || any_of.find(s[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

// RFC 3339: date 'T' time, optional fraction (kept to microseconds), then 'Z' or ±hh:mm.
std::optional<std::int64_t> parse_rfc3339(std::string_view s) {
  using namespace std::chrono;
  std::size_t p = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!read_digits(s, p, 4, y) || !expect(s, p, "-") || !read_digits(s, p, 2, mo) ||
      !expect(s, p, "-") || !read_digits(s, p, 2, d) || !expect(s, p, "Tt ") ||
      !read_digits(s, p, 2, h) || !expect(s, p, ":") || !read_digits(s, p, 2, mi) ||
      !expect(s, p, ":") || !read_digits(s, p, 2, sec))
    return std::nullopt;
  std::int64_t frac_us = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int scale = 100'000, digits = 0;
    for (; p < s.size() && s[p] >= '0' && s[p] <= '9'; ++p, ++digits) {
      frac_us += (s[p] - '0') * scale;
      scale /= 10;
    }
    if (digits == 0) return std::nullopt;
  }
  int offset_min = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    const int sign = s[p++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!read_digits(s, p, 2, oh) || !expect(s, p, ":") || !read_digits(s, p, 2, om))
      return std::nullopt;
    offset_min = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (p != s.size() || !ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const auto t = sys_days{ymd} + hours{h} + minutes{mi - offset_min} + seconds{sec};
  return duration_cast<microseconds>(t.time_since_epoch()).count() + frac_us;
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
  if (text == "now") return now_us;
  if (auto v = parse_integer(text)) return *v;
  if (auto v = parse_rfc3339(text)) return *v;
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

std::string find_call_stream(eventlog::log& log, const std::string& voice_call_id) {
  if (auto stream = log.resolve_alias(voice_call_id)) return *stream;
  // A conversation's root id has no alias: its stream is named after it.
  std::string root = "call/" + voice_call_id;
  return log.stream_version(root) > 0 ? root : std::string{};
}

}  // namespace backline::cli
