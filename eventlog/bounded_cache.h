// A bound for the unordered maps and sets the engine's threads use as caches (the log writer's
// stream versions, the router's aliases, the routing actor's call handles, the projector's seen
// event ids, the API's created calls, supervision sessions and verified tokens).
#pragma once

#include <cstddef>
#include <utility>

namespace backline::eventlog {

// Makes room for `incoming` in `cache`, an unordered map or set of at most `max` entries: when it
// is full, drops one entry, the first of the bucket `incoming` hashes to (or of the next bucket
// that has one), which is about a random entry. Never the whole map: clearing a full cache freed
// up to a million entries at once and stalled its thread for tens of milliseconds (issue 3's
// latency figure, bench/RESULTS.md). REQUIRES: `incoming` is not in `cache`.
template <class Map>
void make_room(Map& cache, std::size_t max, const typename Map::key_type& incoming) {
  if (cache.size() < max || cache.empty()) return;
  const std::size_t buckets = cache.bucket_count();
  for (std::size_t b = cache.hash_function()(incoming) % buckets;; b = (b + 1) % buckets) {
    if (auto it = cache.begin(b); it != cache.end(b)) {
      if constexpr (requires { it->first; }) {
        cache.erase(cache.find(it->first));
      } else {
        cache.erase(cache.find(*it));
      }
      return;
    }
  }
}

// `cache.insert_or_assign(key, value)` for a map bounded by make_room.
template <class Map, class Value>
void insert_or_assign_bounded(Map& cache, std::size_t max, const typename Map::key_type& key,
                              Value&& value) {
  if (auto it = cache.find(key); it != cache.end()) {
    it->second = std::forward<Value>(value);
    return;
  }
  make_room(cache, max, key);
  cache.emplace(key, std::forward<Value>(value));
}

}  // namespace backline::eventlog
