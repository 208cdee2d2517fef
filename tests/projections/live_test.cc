// The live projector: it catches up from the checkpoint, follows a real log while events are
// appended, flushes within its interval, and the store it converges to equals a full rebuild.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "projections/live.h"
#include "projections/queries.h"
#include "tests/projections/world.h"

namespace backline::projections::testing {
namespace {

using namespace std::chrono_literals;

std::string rebuilt(world& w, const std::string& name) {
  auto cp = rebuild(w.log(), w.dir() + "/" + name);
  EXPECT_TRUE(cp.has_value()) << (cp ? "" : cp.error().message());
  auto st = open_store(w.dir() + "/" + name);
  return st ? digests(*st) : "";
}

// Waits until the read models show every committed event (or 20 s pass).
bool converges(const live_projector& live, world& w) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (live.checkpoint() == w.log().committed_position() && live.lag() == 0) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

TEST(LiveProjector, FollowsALogBeingAppendedToAndEqualsAFullRebuild) {
  world w;
  w.bulk(5);  // some history before it starts: caught up from checkpoint 0
  auto live = live_projector::start(
      w.log(), {.store_dir = w.dir() + "/live", .flush_events = 16, .flush_interval = 20ms});
  ASSERT_TRUE(live.has_value()) << live.error().message();
  w.scripted_day();  // appended while it runs
  w.bulk(30, 5);
  ASSERT_TRUE(converges(**live, w));
  EXPECT_TRUE((*live)->caught_up());
  EXPECT_FALSE((*live)->error());
  auto c1 = get_call((*live)->read_models(), "C1");
  ASSERT_TRUE(c1 && *c1);
  EXPECT_EQ((**c1)["number_of_holds"], 3);
  (*live)->stop();
  EXPECT_FALSE((*live)->caught_up());
  EXPECT_EQ(digests((*live)->read_models()), rebuilt(w, "full"));
}

TEST(LiveProjector, FlushesWithinItsIntervalWhenFewEventsArrive) {
  world w;
  auto live = live_projector::start(
      w.log(), {.store_dir = w.dir() + "/live", .flush_events = 100'000, .flush_interval = 10ms});
  ASSERT_TRUE(live.has_value());
  w.run(cmd::create_call{.voice_call_id = "L1",
                         .vendor_call_key = "vck-L1",
                         .from = customer,
                         .to = domain::calltest::center,
                         .queue = "Billing"});
  ASSERT_TRUE(converges(**live, w));  // far fewer events than flush_events: the timer flushed
  auto r = get_call((*live)->read_models(), "L1");
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((**r)["call_disposition"], "new");
}

TEST(LiveProjector, StopFlushesAndARestartCatchesUpFromTheCheckpoint) {
  world w;
  w.scripted_day();
  {
    // A flush interval of an hour: only stop() writes what the subscription applied.
    auto live = live_projector::start(
        w.log(), {.store_dir = w.dir() + "/live", .flush_events = 100'000, .flush_interval = 1h});
    ASSERT_TRUE(live.has_value());
    w.bulk(10);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while ((*live)->stats().events < w.log().committed_position() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    (*live)->stop();
    EXPECT_EQ((*live)->checkpoint(), w.log().committed_position());
  }
  w.bulk(10, 10);  // appended while nothing projects
  auto again =
      live_projector::start(w.log(), {.store_dir = w.dir() + "/live", .catch_up_chunk_events = 7});
  ASSERT_TRUE(again.has_value());
  ASSERT_TRUE(converges(**again, w));
  EXPECT_EQ((*again)->stats().rehydrations, 0u);  // the bulk conversations were new
  (*again)->stop();
  EXPECT_EQ(digests((*again)->read_models()), rebuilt(w, "full"));
}

TEST(LiveProjector, ASecondOneOnTheSameStoreIsRefused) {
  world w;
  auto first = live_projector::start(w.log(), {.store_dir = w.dir() + "/live"});
  ASSERT_TRUE(first.has_value());
  auto second = live_projector::start(w.log(), {.store_dir = w.dir() + "/live"});
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error(), errc::busy);
}

}  // namespace
}  // namespace backline::projections::testing
