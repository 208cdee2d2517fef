// Behaviour of the event log: group commit, gapless positions and versions, refusals, reads,
// subscriptions, reopening and the read-only secondary.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tests/eventlog/test_util.h"

namespace backline::eventlog {
namespace {

using namespace std::chrono_literals;
using testing::append_and_wait;
using testing::event;
using testing::open_log;
using testing::outcome;
using testing::request;
using testing::temp_dir;

// Renders records as "position:stream@version" lines, to compare whole sequences at once.
std::string render(const std::vector<record>& records) {
  std::string out;
  for (const auto& r : records)
    out +=
        std::to_string(r.position) + ":" + r.stream + "@" + std::to_string(r.stream_version) + "\n";
  return out;
}

// Appends without waiting, retrying while the queue is full; `done` counts finished requests.
void append_retrying(log& l, const std::function<append_request()>& make,
                     std::function<void(outcome)> done) {
  for (;;) {
    auto r = make();
    r.done = done;
    auto ec = l.append(std::move(r));
    if (ec != errc::overloaded) {
      ASSERT_FALSE(ec) << ec.message();
      return;
    }
    std::this_thread::yield();
  }
}

// Counts down finished requests; wait() blocks until all have finished.
class latch_counter {
 public:
  explicit latch_counter(std::size_t n) : left_(n) {}
  void arrive() {
    std::lock_guard lock(mu_);
    if (--left_ == 0) cv_.notify_all();
  }
  bool wait(std::chrono::seconds limit = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return left_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t left_;
};

TEST(EventLog, AppendAssignsGaplessPositionsAcrossConcurrentWriters) {
  temp_dir dir;
  auto l = open_log(dir.path());
  constexpr int threads = 4, requests_per_thread = 400;
  std::mutex mu;
  std::set<std::uint64_t> first_positions;
  std::atomic<std::uint64_t> events{0};
  latch_counter finished(threads * requests_per_thread);
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      // Each thread is the single writer of its own two streams, like an actor.
      std::uint64_t versions[2] = {0, 0};
      for (int i = 0; i < requests_per_thread; ++i) {
        const int s = i % 2, n = 1 + i % 3;
        const auto id = "t" + std::to_string(t) + "s" + std::to_string(s);
        std::vector<pending_event> batch;
        for (int k = 0; k < n; ++k) batch.push_back(event(id, ++versions[s]));
        events += n;
        append_retrying(
            *l, [&] { return request(batch); },
            [&](outcome o) {
              ASSERT_TRUE(o.has_value()) << o.error().message();
              {
                std::lock_guard lock(mu);
                first_positions.insert(*o);
              }
              finished.arrive();
            });
      }
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_TRUE(finished.wait());
  EXPECT_EQ(l->committed_position(), events.load());
  auto all = l->read_from(1, SIZE_MAX);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), events.load());
  std::map<std::string, std::uint64_t> last_version;
  for (std::size_t i = 0; i < all->size(); ++i) {
    const auto& r = (*all)[i];
    EXPECT_EQ(r.position, i + 1);
    EXPECT_EQ(r.stream_version, ++last_version[r.stream]) << r.stream;
  }
  EXPECT_EQ(first_positions.size(), std::size_t{threads * requests_per_thread});
  const auto c = l->counters();
  EXPECT_EQ(c.events, events.load());
  EXPECT_EQ(c.requests, std::uint64_t{threads * requests_per_thread});
  EXPECT_GE(c.batches, 1u);
  EXPECT_EQ(c.syncs, 0u);  // wal_no_sync
}

TEST(EventLog, MultiEventRequestIsCommittedAtomicallyAtConsecutivePositions) {
  temp_dir dir;
  auto l = open_log(dir.path());
  ASSERT_TRUE(append_and_wait(*l, request({event("a", 1)})).has_value());
  auto first = append_and_wait(*l, request({event("a", 2), event("b", 1), event("a", 3)}));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, 2u);
  auto all = l->read_from(1, 100);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(render(*all), "1:call/a@1\n2:call/a@2\n3:call/b@1\n4:call/a@3\n");
  for (const auto& r : *all) {  // the writer stamped each envelope's log_position in place
    auto d = schemas::decode(r.envelope);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->meta.log_position, r.position);
  }
}

TEST(EventLog, ReadStreamReturnsOneStreamInVersionOrderFromAVersion) {
  temp_dir dir;
  auto l = open_log(dir.path());
  for (std::uint64_t v = 1; v <= 5; ++v) {
    ASSERT_TRUE(append_and_wait(*l, request({event("a", v), event("ab", v)})).has_value());
  }
  auto from3 = l->read_stream("call/a", 3);
  ASSERT_TRUE(from3.has_value());
  EXPECT_EQ(render(*from3), "5:call/a@3\n7:call/a@4\n9:call/a@5\n");
  auto two = l->read_stream("call/ab", 1, 2);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(render(*two), "2:call/ab@1\n4:call/ab@2\n");
  EXPECT_EQ(l->stream_version("call/a"), 5u);
  EXPECT_EQ(l->stream_version("call/none"), 0u);
  auto none = l->read_stream("call/none");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  auto from0 = l->read_stream("call/a", 0);  // versions start at 1
  ASSERT_TRUE(from0.has_value());
  EXPECT_EQ(from0->size(), 5u);
  auto past = l->read_stream("call/a", 6);
  ASSERT_TRUE(past.has_value());
  EXPECT_TRUE(past->empty());
}

TEST(EventLog, ReadFromHonoursItsStartAndMaximum) {
  temp_dir dir;
  auto l = open_log(dir.path());
  for (std::uint64_t v = 1; v <= 6; ++v)
    ASSERT_TRUE(append_and_wait(*l, request({event("a", v)})).has_value());
  auto part = l->read_from(3, 2);
  ASSERT_TRUE(part.has_value());
  EXPECT_EQ(render(*part), "3:call/a@3\n4:call/a@4\n");
  auto past = l->read_from(7, 10);
  ASSERT_TRUE(past.has_value());
  EXPECT_TRUE(past->empty());
}

TEST(EventLog, AliasIsWrittenInTheSameBatchAndResolvesToItsStream) {
  temp_dir dir;
  auto l = open_log(dir.path());
  EXPECT_FALSE(l->resolve_alias("vc-2").has_value());
  ASSERT_TRUE(append_and_wait(*l, request({event("conv", 1)}, {{"vc-2", "call/conv"}})));
  EXPECT_EQ(l->resolve_alias("vc-2"), std::optional<std::string>("call/conv"));
}

TEST(EventLog, VersionGapIsRefusedAndNothingOfTheRequestIsWritten) {
  temp_dir dir;
  auto l = open_log(dir.path());
  ASSERT_TRUE(append_and_wait(*l, request({event("a", 1)})).has_value());
  auto gap = append_and_wait(*l, request({event("a", 2), event("b", 2)}, {{"x", "call/a"}}));
  ASSERT_FALSE(gap.has_value());
  EXPECT_EQ(gap.error(), errc::version_gap);
  auto repeat = append_and_wait(*l, request({event("a", 1)}));
  ASSERT_FALSE(repeat.has_value());
  EXPECT_EQ(repeat.error(), errc::version_gap);
  EXPECT_EQ(l->committed_position(), 1u);
  EXPECT_EQ(l->stream_version("call/a"), 1u);
  EXPECT_FALSE(l->resolve_alias("x").has_value());
  // The refusal touched that request only: the stream goes on from where it was.
  auto next = append_and_wait(*l, request({event("a", 2)}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, 2u);
}

// A request of many events over many streams (an import) is checked like a command's few: each
// event's version follows its stream's earlier events in the same request.
TEST(EventLog, ALargeRequestCountsEachStreamsEarlierEventsInIt) {
  temp_dir dir;
  auto l = open_log(dir.path());
  ASSERT_TRUE(append_and_wait(*l, request({event("s0", 1)})).has_value());
  const auto large = [](std::uint64_t last_version_of_s7) {
    std::vector<pending_event> events;
    std::map<std::string, std::uint64_t> versions{{"s0", 1}};
    for (int i = 0; i < 300; ++i) {
      const std::string s = "s" + std::to_string(i % 40);
      events.push_back(event(s, ++versions[s]));
    }
    events.push_back(event("s7", last_version_of_s7));
    return events;
  };
  // s7 is at version 8 after the first 300 events (indices 7, 47, ..., 287).
  auto gap = append_and_wait(*l, request(large(10)));
  ASSERT_FALSE(gap.has_value());
  EXPECT_EQ(gap.error(), errc::version_gap);
  EXPECT_EQ(l->committed_position(), 1u);
  auto repeat = append_and_wait(*l, request(large(8)));
  ASSERT_FALSE(repeat.has_value());
  EXPECT_EQ(repeat.error(), errc::version_gap);
  auto ok = append_and_wait(*l, request(large(9)));
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(l->committed_position(), 302u);
  EXPECT_EQ(l->stream_version("call/s0"), 9u);
  EXPECT_EQ(l->stream_version("call/s7"), 9u);
  EXPECT_EQ(l->stream_version("call/s39"), 7u);
}

TEST(EventLog, CorruptEnvelopeIsRefusedAndNothingOfTheRequestIsWritten) {
  temp_dir dir;
  auto l = open_log(dir.path());
  auto garbage = event("a", 2);
  garbage.envelope = "definitely not a flatbuffer envelope";
  auto bad = append_and_wait(*l, request({event("a", 1), garbage}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), errc::corrupt);
  auto truncated = event("a", 1);
  truncated.envelope.resize(truncated.envelope.size() / 2);
  EXPECT_EQ(append_and_wait(*l, request({truncated})).error(), errc::corrupt);
  auto mislabelled = event("a", 1);
  mislabelled.stream = "call/b";  // the envelope says call/a
  EXPECT_EQ(append_and_wait(*l, request({mislabelled})).error(), errc::corrupt);
  auto wrong_version = event("a", 1);
  wrong_version.stream_version = 2;
  EXPECT_EQ(append_and_wait(*l, request({wrong_version})).error(), errc::corrupt);
  EXPECT_EQ(l->committed_position(), 0u);
  EXPECT_EQ(l->stream_version("call/a"), 0u);
  EXPECT_EQ(l->counters().batches, 0u);
}

TEST(EventLog, FullQueueAnswersOverloadedWithoutBlockingTheCaller) {
  temp_dir dir;
  auto l = open_log(dir.path(), durability::wal_no_sync, /*queue_requests_max=*/2);
  // Hold the writer inside the first request's callback, so the queue cannot drain.
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  auto first = request({event("a", 1)});
  first.done = [&, released](outcome) {
    entered.set_value();
    released.wait();
  };
  ASSERT_FALSE(l->append(std::move(first)));
  entered.get_future().wait();
  latch_counter finished(2);
  for (std::uint64_t v = 2; v <= 3; ++v) {
    auto r = request({event("a", v)});
    r.done = [&](outcome o) {
      EXPECT_TRUE(o.has_value());
      finished.arrive();
    };
    ASSERT_FALSE(l->append(std::move(r)));
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(l->append(request({event("a", 4)})), errc::overloaded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 100ms);
  release.set_value();
  ASSERT_TRUE(finished.wait());
  EXPECT_EQ(l->committed_position(), 3u);
  // It recovers: the queue has room again.
  EXPECT_TRUE(append_and_wait(*l, request({event("a", 4)})).has_value());
}

TEST(EventLog, ReopeningRecoversCommittedPositionAndStreamVersions) {
  temp_dir dir;
  {
    auto l = open_log(dir.path());
    ASSERT_TRUE(append_and_wait(*l, request({event("a", 1), event("a", 2), event("b", 1)})));
  }
  auto l = open_log(dir.path());
  EXPECT_EQ(l->committed_position(), 3u);
  EXPECT_EQ(l->stream_version("call/a"), 2u);
  // The writer's version cache is empty after a reopen: it must look the stream up on disk.
  EXPECT_EQ(append_and_wait(*l, request({event("a", 2)})).error(), errc::version_gap);
  auto next = append_and_wait(*l, request({event("a", 3), event("c", 1)}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, 4u);
  EXPECT_EQ(l->committed_position(), 5u);
}

// A stream's last version, not cached after a reopen, is looked up by the version the request
// expects to append next: a wrong guess (behind, ahead, a new stream not at 1) must still be
// refused, each from a fresh writer cache.
TEST(EventLog, AfterReopeningEveryWrongNextVersionIsStillAGap) {
  temp_dir dir;
  {
    auto l = open_log(dir.path());
    ASSERT_TRUE(append_and_wait(*l, request({event("a", 1), event("a", 2), event("a", 3)})));
  }
  for (const auto& [stream, version] : std::vector<std::pair<std::string, std::uint64_t>>{
           {"a", 1}, {"a", 3}, {"a", 5}, {"b", 2}, {"b", 0}}) {
    auto l = open_log(dir.path());
    auto r = append_and_wait(*l, request({event(stream, version)}));
    ASSERT_FALSE(r.has_value()) << stream << " at version " << version;
    EXPECT_EQ(r.error(), errc::version_gap) << stream << " at version " << version;
  }
  auto l = open_log(dir.path());
  ASSERT_TRUE(append_and_wait(*l, request({event("a", 4), event("b", 1)})).has_value());
  EXPECT_EQ(l->stream_version("call/a"), 4u);
  EXPECT_EQ(l->stream_version("call/b"), 1u);
}

TEST(EventLog, DestroyingTheLogDrainsTheQueueAndRunsEveryCallback) {
  temp_dir dir;
  constexpr std::uint64_t n = 2000;
  std::atomic<std::uint64_t> ok{0};
  {
    auto l = open_log(dir.path());
    for (std::uint64_t v = 1; v <= n; ++v) {
      auto r = request({event("a", v)});
      r.done = [&](outcome o) { ok += o.has_value(); };
      ASSERT_FALSE(l->append(std::move(r)));
    }
  }
  EXPECT_EQ(ok.load(), n);
  auto l = open_log(dir.path());
  EXPECT_EQ(l->committed_position(), n);
}

// A finished request is freed by the next append, on the appender's thread; stop_appends frees
// what is left, so callbacks' captures (an engine's actor handles) never outlive it.
TEST(EventLog, FinishedRequestsAreFreedByTheNextAppendOrByStopAppends) {
  temp_dir dir;
  auto l = open_log(dir.path());
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  auto first = request({event("a", 1)});
  first.done = [token = std::move(token)](outcome) {};
  ASSERT_FALSE(l->append(std::move(first)));
  for (std::uint64_t v = 2; v <= 50 && !watch.expired(); ++v) {
    ASSERT_TRUE(append_and_wait(*l, request({event("a", v)})).has_value());
  }
  EXPECT_TRUE(watch.expired()) << "a later append frees the finished request";

  auto kept = std::make_shared<int>(0);
  watch = kept;
  auto last = request({event("b", 1)});
  last.done = [kept = std::move(kept)](outcome) {};
  ASSERT_FALSE(l->append(std::move(last)));
  l->stop_appends();
  EXPECT_TRUE(watch.expired()) << "stop_appends frees the requests no append took";
}

TEST(EventLog, SubscriptionCatchesUpThenFollowsLiveCommits) {
  temp_dir dir;
  auto l = open_log(dir.path());
  constexpr std::uint64_t before = 1500, after = 1500;
  for (std::uint64_t v = 1; v <= before; ++v) l->append(request({event("a", v)}));
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::uint64_t> seen;
  auto sub = l->subscribe(1, [&](const record& r) {
    std::lock_guard lock(mu);
    seen.push_back(r.position);
    cv.notify_all();
  });
  for (std::uint64_t v = before + 1; v <= before + after; ++v) {
    l->append(request({event("a", v)}));
    if (v % 100 == 0) std::this_thread::sleep_for(1ms);  // let commits trickle in live
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return seen.size() >= before + after; }));
  }
  const auto t0 = std::chrono::steady_clock::now();
  sub.reset();  // stops and joins promptly, although the thread is waiting for commits
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  ASSERT_EQ(seen.size(), before + after);
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
}

TEST(EventLog, SubscriptionStartsAtItsPosition) {
  temp_dir dir;
  auto l = open_log(dir.path());
  for (std::uint64_t v = 1; v <= 10; ++v)
    ASSERT_TRUE(append_and_wait(*l, request({event("a", v)})).has_value());
  std::promise<std::vector<std::uint64_t>> got;
  std::vector<std::uint64_t> seen;
  auto sub = l->subscribe(8, [&](const record& r) {
    seen.push_back(r.position);
    if (r.position == 10) got.set_value(seen);
  });
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), (std::vector<std::uint64_t>{8, 9, 10}));
}

TEST(EventLog, SubscriptionOutlivingItsLogIsStoppedByTheLog) {
  temp_dir dir;
  auto l = open_log(dir.path());
  auto sub = l->subscribe(1, [](const record&) {});
  l.reset();    // stops and joins the subscription's thread
  sub.reset();  // then the handle is inert
  SUCCEED();
}

TEST(EventLog, FsyncPerBatchCommitsSeveralRequestsPerSyncUnderConcurrentLoad) {
  temp_dir dir;
  auto l = open_log(dir.path(), durability::fsync_per_batch);
  constexpr int threads = 8, requests_per_thread = 150;
  latch_counter finished(threads * requests_per_thread);
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      const auto id = "t" + std::to_string(t);
      for (std::uint64_t v = 1; v <= requests_per_thread; ++v) {
        append_retrying(
            *l, [&] { return request({event(id, v)}); },
            [&](outcome o) {
              EXPECT_TRUE(o.has_value());
              finished.arrive();
            });
      }
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_TRUE(finished.wait());
  const auto c = l->counters();
  EXPECT_EQ(c.requests, std::uint64_t{threads * requests_per_thread});
  EXPECT_EQ(c.syncs, c.batches);
  EXPECT_GT(c.requests, 2 * c.syncs) << "group commit should share each fsync";
}

TEST(EventLog, ReadOnlySecondarySeesThePrimarysCommits) {
  temp_dir dir;
  auto primary = open_log(dir.path());
  ASSERT_TRUE(append_and_wait(*primary, request({event("a", 1)}, {{"vc", "call/a"}})));
  options o;
  o.dir = dir.path();
  o.read_only = true;
  auto secondary = log::open(o);
  ASSERT_TRUE(secondary.has_value()) << secondary.error().message();
  auto& ro = **secondary;
  EXPECT_EQ(ro.committed_position(), 1u);
  EXPECT_EQ(ro.resolve_alias("vc"), std::optional<std::string>("call/a"));
  EXPECT_EQ(ro.append(request({event("a", 2)})), errc::closed);
  // Later commits of the primary become visible on the next read (catch-up).
  ASSERT_TRUE(append_and_wait(*primary, request({event("a", 2), event("b", 1)})));
  auto all = ro.read_from(1, 10);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(render(*all), "1:call/a@1\n2:call/a@2\n3:call/b@1\n");
  EXPECT_EQ(ro.stream_version("call/a"), 2u);
  std::promise<void> third;
  auto sub = ro.subscribe(3, [&](const record& r) {
    if (r.position == 3) third.set_value();
  });
  EXPECT_EQ(third.get_future().wait_for(10s), std::future_status::ready);
}

TEST(EventLog, OpenRefusesMissingDirectoryOrZeroLimits) {
  options o;
  EXPECT_EQ(log::open(o).error(), errc::bad_options);
  temp_dir dir;
  o.dir = dir.path();
  o.batch_events_max = 0;
  EXPECT_EQ(log::open(o).error(), errc::bad_options);
  o.batch_events_max = 1;
  o.read_only = true;  // a secondary needs an existing primary
  o.dir = dir.path() + "/missing";
  EXPECT_EQ(log::open(o).error(), errc::io_error);
}

TEST(EventLog, ErrorCodesExplainWhatToDo) {
  for (auto e : {errc::io_error, errc::overloaded, errc::closed, errc::corrupt, errc::version_gap,
                 errc::bad_options}) {
    std::error_code ec = e;
    EXPECT_EQ(ec.category().name(), std::string("backline.eventlog"));
    EXPECT_GT(ec.message().size(), 20u) << static_cast<int>(e);
  }
}

}  // namespace
}  // namespace backline::eventlog
