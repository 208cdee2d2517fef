// make_room: a full cache drops one entry per new key, never all of them.

#include "eventlog/bounded_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_map>
#include <unordered_set>

namespace backline::eventlog {
namespace {

TEST(BoundedCache, BelowTheBoundNothingIsDropped) {
  std::unordered_map<std::string, int> cache{{"a", 1}, {"b", 2}};
  make_room(cache, 3, "c");
  EXPECT_EQ(cache.size(), 2u);
  std::unordered_map<std::string, int> empty;
  make_room(empty, 0, "a");  // a bound of 0 leaves nothing to drop
  EXPECT_TRUE(empty.empty());
}

TEST(BoundedCache, AFullCacheDropsOneEntryPerNewKeyAndKeepsTheRest) {
  constexpr std::size_t max = 1'000;
  std::unordered_map<std::string, int> cache;
  for (int i = 0; i < 5'000; ++i) {
    const std::string key = "call-" + std::to_string(i);
    const std::size_t before = cache.size();
    make_room(cache, max, key);
    EXPECT_EQ(cache.size(), before < max ? before : max - 1) << "at key " << i;
    cache.emplace(key, i);
    ASSERT_LE(cache.size(), max);
  }
  EXPECT_EQ(cache.size(), max);
  for (const auto& [key, value] : cache) EXPECT_EQ(key, "call-" + std::to_string(value));
}

TEST(BoundedCache, EvictionIsSpreadNotAlwaysTheNewestEntry) {
  // libstdc++ puts a key that lands in an empty bucket at the front of the table, so dropping
  // `begin()` would drop the entry inserted just before and keep the oldest ones forever.
  constexpr std::size_t max = 1'000;
  std::unordered_map<std::string, int> cache;
  for (int i = 0; i < 10'000; ++i) {
    const std::string key = "stream-" + std::to_string(i);
    make_room(cache, max, key);
    cache.emplace(key, i);
  }
  std::size_t old = 0, recent = 0;
  for (const auto& [key, value] : cache) (value < 9'000 ? old : recent) += 1;
  EXPECT_GT(recent, 300u) << "recent entries survive";
  EXPECT_GT(old, 0u) << "and so do some older ones: about random replacement";
}

TEST(BoundedCache, ASetIsBoundedTheSameWay) {
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 300; ++i) {
    const std::string id = "event-" + std::to_string(i);
    make_room(seen, 100, id);
    seen.insert(id);
    ASSERT_LE(seen.size(), 100u);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_TRUE(seen.contains("event-299"));
}

TEST(BoundedCache, InsertOrAssignBoundedUpdatesInPlaceAndEvictsOnlyForANewKey) {
  std::unordered_map<std::string, int> cache;
  for (int i = 0; i < 10; ++i) insert_or_assign_bounded(cache, 10, "k" + std::to_string(i), i);
  insert_or_assign_bounded(cache, 10, "k3", 33);  // full, but the key is there: nothing dropped
  EXPECT_EQ(cache.size(), 10u);
  EXPECT_EQ(cache.at("k3"), 33);
  insert_or_assign_bounded(cache, 10, "new", 1);  // a new key: one other entry makes room
  EXPECT_EQ(cache.size(), 10u);
  EXPECT_EQ(cache.at("new"), 1);
}

}  // namespace
}  // namespace backline::eventlog
