#pragma once
// Private to projections/: key encodings of the read models (see store.h and README.md).
// Big-endian numbers sort numerically under RocksDB's bytewise comparator; an instant is stored
// with its sign bit flipped so that negative instants (never produced, but representable) still
// sort first.

#include <cstdint>
#include <string>
#include <string_view>

namespace backline::projections::keys {

inline void append_u64_be(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
inline void append_u32_be(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
inline void append_u16_be(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
inline std::uint64_t read_u64_be(std::string_view in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < in.size(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

inline constexpr std::size_t time_bytes = 8;
inline void append_time(std::string& out, std::int64_t us) {
  append_u64_be(out, static_cast<std::uint64_t>(us) ^ (std::uint64_t{1} << 63));
}
inline std::int64_t read_time(std::string_view in) {
  return static_cast<std::int64_t>(read_u64_be(in) ^ (std::uint64_t{1} << 63));
}

// "<prefix>\0" for the indexes keyed by a name (agent, queue, parent) and the chains.
inline std::string name_prefix(std::string_view name) {
  std::string k(name);
  k.push_back('\0');
  return k;
}
// prefix + time + id: one index entry.
inline std::string index_key(std::string_view prefix, std::int64_t at_us, std::string_view id) {
  std::string k(prefix);
  append_time(k, at_us);
  k.append(id);
  return k;
}
// The id at the end of an index key whose prefix is `prefix_bytes` long.
inline std::string_view index_id(std::string_view key, std::size_t prefix_bytes) {
  return key.substr(prefix_bytes + time_bytes);
}
inline std::string child_key(std::string_view id, std::uint32_t ordinal) {
  std::string k = name_prefix(id);
  append_u32_be(k, ordinal);
  return k;
}
inline std::string chain_key(std::string_view root, std::uint16_t index) {
  std::string k = name_prefix(root);
  append_u16_be(k, index);
  return k;
}
// The smallest key after every key starting with `prefix`; empty when there is none.
inline std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

}  // namespace backline::projections::keys
