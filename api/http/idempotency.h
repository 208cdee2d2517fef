#pragma once
// The Idempotency-Key store: a bounded LRU of first responses, per tenant + principal + key.
//
// Semantics (DESIGN invariant 4 at the HTTP edge)
// - The first POST with a key runs; its response is stored when it is final: 2xx and 4xx. A
//   5xx (503 overload, 504 timeout, 500) is not stored: the key is released and a retry runs
//   again. That is safe because the engine's command id is the same key, so a command that did
//   commit before the 504 answers its first outcome again without appending.
// - A retry with the same key and the same request (method, path, body) gets the stored
//   response again, with the header `Idempotent-Replayed: true`.
// - The same key with a different request -> 422 (problem type idempotency-key-reused).
// - A concurrent retry while the first is still in flight is NOT queued behind it: it is told
//   409 (problem type idempotency-in-flight) with Retry-After: 1. Waiting would hold a
//   connection and a slot per retry for an unbounded time; 409 keeps the store bounded and is
//   what the IETF Idempotency-Key draft recommends.
// - Bounded: `entries_max` entries; the least recently used completed entry is evicted first.
//   In-flight entries are never evicted; when every entry is in flight, `begin` answers
//   `outcome::full` (the server answers 503). Entries older than `ttl` count as absent.
//
// Thread-safe (one mutex). O(1) per call, except that eviction skips in-flight entries (at most
// the server's in-flight bound).

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/http/types.h"

namespace backline::http {

class idempotency_store {
 public:
  enum class outcome { proceed, replay, in_flight, mismatch, full };
  struct begin_result {
    outcome result = outcome::proceed;
    std::optional<response> stored;  // for replay
  };

  explicit idempotency_store(std::size_t entries_max = 100'000,
                             std::chrono::seconds ttl = std::chrono::hours(24));
  idempotency_store(const idempotency_store&) = delete;
  idempotency_store& operator=(const idempotency_store&) = delete;

  // "tenant\x1fsubject\x1fkey": the scope of one key.
  static std::string scope(std::string_view tenant, std::string_view subject, std::string_view key);
  // A fingerprint of the request a key was first used for (FNV-1a of method, path and body).
  static std::uint64_t fingerprint(std::string_view method, std::string_view path,
                                   std::string_view body);

  // On `proceed` the caller owns the key until it calls `complete` or `release`.
  begin_result begin(const std::string& scope, std::uint64_t fingerprint);
  // Stores `r` as the key's outcome when final (2xx/4xx); otherwise releases the key.
  void complete(const std::string& scope, const response& r);
  void release(const std::string& scope);

  std::size_t size() const;
  std::size_t in_flight() const;

 private:
  using clock = std::chrono::steady_clock;
  struct entry {
    std::uint64_t fingerprint = 0;
    bool done = false;
    response stored;
    clock::time_point created;
    std::list<std::string>::iterator lru;  // front = most recently used
  };
  bool evict_one();

  const std::size_t entries_max_;
  const std::chrono::seconds ttl_;
  mutable std::mutex mutex_;
  std::list<std::string> lru_;
  std::unordered_map<std::string, entry> entries_;
  std::size_t in_flight_ = 0;
};

}  // namespace backline::http
