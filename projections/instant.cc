#include "projections/instant.h"

#include <charconv>
#include <chrono>

namespace backline::projections {
namespace {

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

}  // namespace

// RFC 3339: date 'T' time, optional fraction (kept to microseconds), then 'Z' or ±hh:mm.
std::optional<std::int64_t> parse_rfc3339_us(std::string_view s) {
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

std::optional<std::int64_t> parse_instant_us(std::string_view text, std::int64_t now_us) {
  if (text == "now") return now_us;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc{} && end == text.data() + text.size() && v >= 0) return v;
  return parse_rfc3339_us(text);
}

}  // namespace backline::projections
