// Canonical JSON strings: escaped as nlohmann::json's dump() escapes them (see json_text.h).
#include "projections/json_text.h"

#include <algorithm>

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

void writer::grow(std::size_t used, std::size_t n) {
  // All of the capacity when it is enough (a reused buffer never reallocates), else double it.
  const std::size_t size =
      used + n <= out_.capacity() ? out_.capacity() : std::max(used + n, 2 * out_.capacity());
  // The bytes past `used` are written before the destructor trims the string to what was.
  out_.resize_and_overwrite(size, [](char*, std::size_t k) { return k; });
  at_ = out_.data() + used;
  end_ = out_.data() + out_.size();
}

// REQUIRES: room for s.size() * 6 + 2 bytes (room() in string()).
void writer::escaped(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  *at_++ = '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // The common case: a run of printable ASCII that needs no escape.
    std::size_t run = i;
    while (run < s.size()) {
      const auto c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++run;
    }
    put(s.substr(i, run - i));
    i = run;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (const std::size_t n = utf8_sequence(s.substr(i)); n != 0) {
        put(s.substr(i, n));
        i += n;
      } else {
        put("\xef\xbf\xbd");  // U+FFFD for each byte that is not UTF-8
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        put("\\\"");
        break;
      case '\\':
        put("\\\\");
        break;
      case '\b':
        put("\\b");
        break;
      case '\f':
        put("\\f");
        break;
      case '\n':
        put("\\n");
        break;
      case '\r':
        put("\\r");
        break;
      case '\t':
        put("\\t");
        break;
      default: {
        const char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
        put({u, 6});
      }
    }
    ++i;
  }
  *at_++ = '"';
}

}  // namespace backline::projections::json_text
