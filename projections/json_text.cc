// Canonical JSON strings: escaped as nlohmann::json's dump() escapes them (see json_text.h).
#include "projections/json_text.h"

namespace backline::projections::json_text {
namespace {

// The length of the valid UTF-8 sequence at the start of `s` (its first byte >= 0x80), or 0.
std::size_t utf8_sequence(std::string_view s) {
  const auto b = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;  // overlong
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;  // overlong
    if (c == 0xf4) hi = 0x8f;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || b(1) < lo || b(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if (b(i) < 0x80 || b(i) > 0xbf) return 0;
  }
  return n;
}

}  // namespace

void writer::escaped(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out_.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    // The common case: a run of printable ASCII that needs no escape.
    std::size_t run = i;
    while (run < s.size()) {
      const auto c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++run;
    }
    out_.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (const std::size_t n = utf8_sequence(s.substr(i)); n != 0) {
        out_.append(s.data() + i, n);
        i += n;
      } else {
        out_.append("\xef\xbf\xbd", 3);  // U+FFFD for each byte that is not UTF-8
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out_.append("\\\"", 2);
        break;
      case '\\':
        out_.append("\\\\", 2);
        break;
      case '\b':
        out_.append("\\b", 2);
        break;
      case '\f':
        out_.append("\\f", 2);
        break;
      case '\n':
        out_.append("\\n", 2);
        break;
      case '\r':
        out_.append("\\r", 2);
        break;
      case '\t':
        out_.append("\\t", 2);
        break;
      default: {
        const char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
        out_.append(u, 6);
      }
    }
    ++i;
  }
  out_.push_back('"');
}

}  // namespace backline::projections::json_text
