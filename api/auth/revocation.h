#pragma once
// The revocation list: token ids (`jti`) refused before their expiry, e.g. a stolen agent token.
//
// Contract
// - In memory, with an optional file behind it. `open(path)` loads the file (a missing file is an
//   empty list) and remembers the path; from then on `revoke` writes the whole list back
//   atomically (temporary file, fsync, rename) BEFORE it returns, so a revocation that was
//   acknowledged survives a restart. Without a path (default constructor) it is the in-memory
//   twin used by tests.
// - Thread-safe: `contains` takes a shared lock (every request calls it), `revoke`/`prune`/`save`
//   an exclusive one. `revoke` does file I/O: call it from an HTTP or I/O thread, never from a
//   scheduled CAF actor.
// - Bounded: at most `entries_max` ids, each a valid_jti(). An entry is kept until its
//   token's `exp` has passed (then `prune` may drop it: the verifier refuses that token anyway).
// - File format (JSON): {"version":1,"revoked":[{"jti":"...","exp":1714564800},...]}.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/auth/errc.h"

namespace backline::auth {

inline constexpr std::size_t jti_bytes_max = 128;
inline constexpr std::size_t revoked_entries_max_default = 100'000;

// A token id is 1..jti_bytes_max printable ASCII characters (0x20..0x7E).
bool valid_jti(std::string_view jti);

class revocation_list {
 public:
  explicit revocation_list(std::size_t entries_max = revoked_entries_max_default)
      : entries_max_(entries_max) {}
  revocation_list(const revocation_list&) = delete;
  revocation_list& operator=(const revocation_list&) = delete;

  // Loads `path` (missing: empty) and persists every later `revoke` there. io_error / bad_json
  // when the file exists but cannot be read or is not a revocation list.
  static result<std::shared_ptr<revocation_list>> open(
      const std::filesystem::path& path, std::size_t entries_max = revoked_entries_max_default);

  // Adds `jti` (kept until `exp_s`, Unix seconds). Revoking an id again keeps the later expiry.
  // invalid_claim for an empty or over-long id, limit_exceeded when full, io_error when the file
  // cannot be written (the list in memory then keeps the id: it is refused until restart).
  result<void> revoke(std::string_view jti, std::int64_t exp_s);

  bool contains(std::string_view jti) const;
  std::size_t size() const;

  // Drops ids whose expiry is before `now_s - keep_after_exp_s`; returns how many. In memory
  // only: the next `revoke` or `save` writes the smaller list.
  std::size_t prune(std::int64_t now_s, std::int64_t keep_after_exp_s = 3600);

  // Writes the list to `path` atomically (mode 0600).
  result<void> save(const std::filesystem::path& path) const;

 private:
  result<void> load(const std::filesystem::path& path);
  std::string to_json_locked() const;

  const std::size_t entries_max_;
  std::filesystem::path path_;  // empty: in memory only
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::int64_t> entries_;  // jti -> exp (Unix s)
};

}  // namespace backline::auth
