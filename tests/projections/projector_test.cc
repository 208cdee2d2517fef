// The projector: rebuilds are byte-identical, incremental catch-up equals a full build whatever
// the batch and cache sizes, an abandoned batch is folded again without double counting, and
// replay-and-verify finds a store that drifted from the log.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "projections/queries.h"
#include "tests/projections/world.h"

namespace backline::projections::testing {
namespace {

std::string built(world& w, const std::string& name, projector_options o = {},
                  std::uint64_t until = UINT64_MAX) {
  auto cp = rebuild(w.log(), w.dir() + "/" + name, until, std::move(o));
  EXPECT_TRUE(cp.has_value()) << (cp ? "" : cp.error().message());
  auto st = open_store(w.dir() + "/" + name);
  return st ? digests(*st) : "";
}

TEST(Rebuild, FromPositionZeroGivesIdenticalBytes) {
  world w;
  w.scripted_day();
  w.bulk(40);
  const std::string a = built(w, "a");
  EXPECT_EQ(built(w, "b"), a);
  EXPECT_NE(a.find("voice_calls "), std::string::npos);
}

TEST(Rebuild, RefusesAScratchDirectoryThatHoldsAStore) {
  world w;
  w.scripted_day();
  ASSERT_TRUE(rebuild(w.log(), w.dir() + "/a"));
  auto again = rebuild(w.log(), w.dir() + "/a");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), errc::not_empty);
}

TEST(Rebuild, BatchAndCacheSizesDoNotChangeTheBytes) {
  world w;
  w.scripted_day();
  w.bulk(30);
  const std::string reference = built(w, "ref");
  EXPECT_EQ(built(w, "one", {.batch_events = 1, .read_events = 3}), reference);
  // A cache of one conversation rehydrates nearly every event's conversation from the log.
  EXPECT_EQ(built(w, "tiny", {.batch_events = 7, .conversations_max = 1}), reference);
  EXPECT_EQ(built(w, "mid", {.batch_events = 64, .read_events = 10, .conversations_max = 3}),
            reference);
}

TEST(CatchUp, IncrementalEqualsAFullBuild) {
  world w;
  w.scripted_day();
  auto st = open_store(w.dir() + "/live");
  {
    projector p(w.log(), *st, {.batch_events = 5});
    ASSERT_TRUE(p.catch_up());
  }
  w.bulk(20);  // more events; conversations of the day get post-call updates too
  w.run(cmd::add_conversation_event{"C1", "late", true, "category", "{}"});
  {
    projector p(w.log(), *st, {.batch_events = 5});
    auto cp = p.catch_up();
    ASSERT_TRUE(cp);
    EXPECT_EQ(*cp, w.log().committed_position());
    EXPECT_GT(p.stats().rehydrations, 0u);  // C1 came back from the log
  }
  EXPECT_EQ(digests(*st), built(w, "full"));
  auto c1 = get_call(*st, "C1");
  ASSERT_TRUE(c1 && *c1);
  EXPECT_EQ((**c1)["conversation_events"], 2);
  EXPECT_EQ((**c1)["number_of_holds"], 3);  // not counted again
}

TEST(CatchUp, StopsAtTheRequestedPosition) {
  world w;
  w.scripted_day();
  auto st = open_store(w.dir() + "/live");
  projector p(w.log(), *st);
  auto cp = p.catch_up(10);
  ASSERT_TRUE(cp);
  EXPECT_EQ(*cp, 10u);
  EXPECT_EQ(st->checkpoint(), 10u);
  EXPECT_EQ(digests(*st), built(w, "until10", {}, 10));
}

TEST(CatchUp, AnAbandonedBatchIsFoldedAgainWithoutDoubleCounting) {
  world w;
  w.scripted_day();
  w.bulk(10);
  auto st = open_store(w.dir() + "/live");
  std::uint64_t flushed = 0;
  {
    // Apply events one by one and walk away in the middle of a batch: the store keeps the last
    // flushed checkpoint, the conversations folded since are lost with the projector.
    projector p(w.log(), *st, {.batch_events = 16});
    auto records = w.log().read_from(1, 40);
    ASSERT_TRUE(records);
    for (const auto& r : *records) ASSERT_FALSE(p.apply(r));
  }  // the write of the flush at 32 may still be in flight until here
  flushed = st->checkpoint();
  EXPECT_EQ(flushed, 32u);
  projector again(w.log(), *st, {.batch_events = 16});
  ASSERT_TRUE(again.catch_up());
  EXPECT_EQ(digests(*st), built(w, "full"));
}

TEST(CatchUp, SubscriptionFeedEqualsAFullBuild) {
  world w;
  w.scripted_day();
  auto st = open_store(w.dir() + "/live");
  projector p(w.log(), *st, {.batch_events = 8});
  std::promise<void> done;
  const std::uint64_t last = w.log().committed_position();
  std::error_code failed;
  {
    auto sub = w.log().subscribe(1, [&](const eventlog::record& r) {
      if (auto ec = p.apply(r)) failed = ec;
      if (r.position == last) done.set_value();
    });
    done.get_future().wait();
  }
  ASSERT_FALSE(failed);
  ASSERT_FALSE(p.flush());
  EXPECT_EQ(st->checkpoint(), last);
  EXPECT_EQ(digests(*st), built(w, "full"));
}

TEST(Eviction, EndedConversationsLeaveTheCache) {
  world w;
  w.bulk(40);
  auto st = open_store(w.dir() + "/live");
  projector p(w.log(), *st, {.batch_events = 32});
  ASSERT_TRUE(p.catch_up());
  const auto s = p.stats();
  EXPECT_GT(s.evictions, 30u);
  EXPECT_LT(s.cached, 10u);
  EXPECT_EQ(s.events, w.log().committed_position());
}

TEST(ReplayAndVerify, EqualStoresAreReportedEqual) {
  world w;
  w.scripted_day();
  auto st = open_store(w.dir() + "/live");
  projector p(w.log(), *st, {.batch_events = 3});
  ASSERT_TRUE(p.catch_up(50));
  auto r = replay_and_verify(w.log(), *st, w.dir() + "/scratch");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->equal()) << render(*r);
  EXPECT_EQ(r->checkpoint, 50u);
  EXPECT_EQ(r->models.size(), model_count);
  EXPECT_NE(render(*r).find("verdict: every read model equals its rebuild"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(w.dir() + "/scratch"));
}

TEST(ReplayAndVerify, ADriftedStoreIsReportedWithItsFirstKeys) {
  world w;
  w.scripted_day();
  auto st = open_store(w.dir() + "/live");
  projector p(w.log(), *st);
  ASSERT_TRUE(p.catch_up());
  write_batch b(*st);
  b.put(model::voice_calls, "C1", "{}");
  b.put(model::voice_calls, "ghost", "{}");
  b.del(model::by_agent, std::string("sam\0", 4));  // not a key: nothing changes there
  ASSERT_FALSE(st->write(b, st->checkpoint()));
  auto r = replay_and_verify(w.log(), *st, w.dir() + "/scratch", /*keep_scratch=*/true);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->equal());
  const model_check& calls = r->models[static_cast<std::size_t>(model::voice_calls)];
  EXPECT_FALSE(calls.equal());
  EXPECT_EQ(calls.different, 1u);
  EXPECT_EQ(calls.only_live, 1u);
  EXPECT_EQ(calls.only_rebuilt, 0u);
  EXPECT_EQ(calls.first_differences, (std::vector<std::string>{"C1", "ghost"}));
  EXPECT_TRUE(r->models[static_cast<std::size_t>(model::by_agent)].equal());
  EXPECT_NE(render(*r).find("DIFFERENT"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(w.dir() + "/scratch/CURRENT"));
}

}  // namespace
}  // namespace backline::projections::testing
