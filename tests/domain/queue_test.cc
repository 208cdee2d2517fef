// The queue aggregate: ordering, offers bookkeeping, customer callbacks, overflow, live figures
// and bounds, plus a seeded property test over random command sequences.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "actors/domain/queue.h"
#include "tests/domain/routing_fixture.h"

namespace backline::domain::routingtest {
namespace {

using qc = queue_command;

TEST(Queue, ServesHigherPriorityFirstThenFirstInFirstOut) {
  queue_fixture q;
  q.enqueue("a", 0);
  q.advance(second_us);
  q.enqueue("b", 5);
  q.advance(second_us);
  q.enqueue("c", 0);
  q.advance(second_us);
  q.enqueue("d", 5);
  q.advance(second_us);
  q.enqueue("e", -1);
  EXPECT_EQ(q.order(), (names{"b", "d", "a", "c", "e"}));
  q.expect_replays();
}

TEST(Queue, ItemsEnqueuedAtTheSameInstantAreOrderedById) {
  queue_fixture q;
  q.enqueue("z");
  q.enqueue("m");
  q.enqueue("a");
  EXPECT_EQ(q.order(), (names{"a", "m", "z"}));
}

TEST(Queue, EnqueueIsIdempotentAndACallWaitsOnce) {
  queue_fixture q;
  EXPECT_EQ(q.enqueue("a", 1, {{"billing", 3}}), names{"enqueued"});
  EXPECT_EQ(q.enqueue("a", 1, {{"billing", 3}}), names{});
  EXPECT_EQ(q.refused(queue_cmd::enqueue{"a", "call-a", 2, {}, 0}), errc::queue_item_exists);
  EXPECT_EQ(q.refused(queue_cmd::enqueue{"b", "call-a", 1, {}, 0}), errc::queue_item_exists);
}

TEST(Queue, EnqueueChecksItsArguments) {
  queue_fixture q;
  EXPECT_EQ(q.refused(queue_cmd::enqueue{"", "c", 0, {}, 0}), errc::invalid_argument);
  EXPECT_EQ(q.refused(queue_cmd::enqueue{std::string(129, 'x'), "c", 0, {}, 0}),
            errc::invalid_argument);
  EXPECT_EQ(q.refused(queue_cmd::enqueue{"a", "c", 5000, {}, 0}), errc::invalid_argument);
  EXPECT_EQ(q.refused(queue_cmd::enqueue{"a", "c", 0, {{"x", 11}}, 0}), errc::invalid_argument);
  EXPECT_EQ(q.refused(queue_cmd::enqueue{"a", "c", 0, {{"x", 1}, {"x", 2}}, 0}),
            errc::invalid_argument);
  EXPECT_EQ(q.refused(queue_cmd::enqueue{"a", "c", 0, {}, q.ctx.now_us + 1}),
            errc::invalid_argument);
  std::vector<skill> many;
  for (std::size_t i = 0; i <= required_skills_max; ++i)
    many.push_back({"s" + std::to_string(i), 1});
  EXPECT_EQ(q.refused(queue_cmd::enqueue{"a", "c", 0, many, 0}), errc::limit_exceeded);
}

TEST(Queue, WaitingItemsAreBounded) {
  queue_fixture q;
  for (std::size_t i = 0; i < queue_items_max; ++i) {
    auto d = q.run(queue_cmd::enqueue{"i" + std::to_string(i), "c" + std::to_string(i), 0, {}, 0});
    ASSERT_TRUE(d.has_value());
  }
  EXPECT_EQ(q.refused(queue_cmd::enqueue{"more", "c-more", 0, {}, 0}), errc::limit_exceeded);
}

TEST(Queue, NeverOffersTheSameAgentTwiceForTheSameCall) {
  queue_fixture q;
  q.enqueue("a");
  EXPECT_EQ(q.ok(queue_cmd::offer_made{"a", "alice", "o1"}), names{"offer_made"});
  EXPECT_EQ(q.ok(queue_cmd::offer_made{"a", "alice", "o1"}), names{});  // a repeat
  EXPECT_EQ(q.refused(queue_cmd::offer_made{"a", "bob", "o2"}), errc::offer_in_progress);
  EXPECT_EQ(q.ok(queue_cmd::offer_declined{"a", "o1"}), names{"offer_declined"});
  EXPECT_EQ(q.refused(queue_cmd::offer_made{"a", "alice", "o3"}), errc::agent_already_tried);
  EXPECT_EQ(q.ok(queue_cmd::offer_made{"a", "bob", "o4"}), names{"offer_made"});
  EXPECT_EQ(q.ok(queue_cmd::offer_timed_out{"a", "o4"}), names{"offer_timed_out"});
  EXPECT_EQ(q.state.items[0].tried_agents, (names{"alice", "bob"}));
  q.expect_replays();
}

TEST(Queue, AnOfferEndsOnlyWithItsOwnId) {
  queue_fixture q;
  q.enqueue("a");
  EXPECT_EQ(q.refused(queue_cmd::offer_declined{"a", "o1"}), errc::offer_not_found);
  q.ok(queue_cmd::offer_made{"a", "alice", "o1"});
  EXPECT_EQ(q.refused(queue_cmd::offer_timed_out{"a", "o2"}), errc::offer_not_found);
  EXPECT_EQ(q.refused(queue_cmd::offer_made{"zz", "alice", "o1"}), errc::queue_item_not_found);
}

TEST(Queue, TriedAgentsPerItemAreBounded) {
  queue_fixture q;
  q.enqueue("a");
  for (std::size_t i = 0; i < tried_agents_per_item_max; ++i) {
    const std::string o = "o" + std::to_string(i);
    q.ok(queue_cmd::offer_made{"a", "agent" + std::to_string(i), o});
    q.ok(queue_cmd::offer_declined{"a", o});
  }
  EXPECT_EQ(q.refused(queue_cmd::offer_made{"a", "one-more", "ox"}), errc::limit_exceeded);
}

TEST(Queue, AcceptDequeuesTheItemOnlyForTheRingingAgent) {
  queue_fixture q;
  q.enqueue("a");
  q.ok(queue_cmd::offer_made{"a", "alice", "o1"});
  q.advance(7 * second_us);
  EXPECT_EQ(q.refused(queue_cmd::dequeue{"a", "bob"}), errc::offer_in_progress);
  EXPECT_EQ(q.ok(queue_cmd::dequeue{"a", "alice"}), names{"dequeued"});
  EXPECT_EQ(std::get<queue_evt::dequeued>(q.log.back().body).wait_us, 7 * second_us);
  EXPECT_TRUE(q.state.items.empty());
  EXPECT_EQ(q.refused(queue_cmd::dequeue{"a", "alice"}), errc::queue_item_not_found);
  q.expect_replays();
}

TEST(Queue, ACustomerCallbackKeepsItsQueuePosition) {
  queue_fixture q;
  q.enqueue("a");
  q.advance(second_us);
  q.enqueue("b");
  q.advance(second_us);
  q.enqueue("c");
  q.advance(30 * second_us);
  EXPECT_EQ(q.ok(queue_cmd::request_customer_callback{"b", "+15550002"}),
            names{"customer_callback_requested"});
  EXPECT_EQ(q.ok(queue_cmd::request_customer_callback{"b", "+15550002"}), names{});
  EXPECT_EQ(q.order(), (names{"a", "b", "c"}));
  EXPECT_TRUE(q.state.items[1].is_callback);
  EXPECT_EQ(q.state.items[1].enqueued_at_us, 1'001 * second_us);
  EXPECT_EQ(figures(q.state, q.ctx.now_us).callbacks, 1u);
  EXPECT_EQ(q.refused(queue_cmd::request_customer_callback{"b", ""}), errc::invalid_argument);
  q.expect_replays();
}

TEST(Queue, OverflowsOnlyAfterTheConfiguredWait) {
  queue_fixture q;
  q.enqueue("a");
  q.advance(59 * second_us);
  EXPECT_EQ(q.refused(queue_cmd::overflow{"a"}), errc::overflow_not_due);
  EXPECT_TRUE(overflow_due(q.state, q.config, q.ctx.now_us).empty());
  q.advance(second_us);
  EXPECT_EQ(overflow_due(q.state, q.config, q.ctx.now_us), names{"a"});
  EXPECT_EQ(q.ok(queue_cmd::overflow{"a"}), names{"overflowed"});
  const auto& e = std::get<queue_evt::overflowed>(q.log.back().body);
  EXPECT_EQ(e.to_queue, "General");
  EXPECT_EQ(e.wait_us, 60 * second_us);
  EXPECT_TRUE(q.state.items.empty());
  EXPECT_EQ(q.state.overflowed, 1u);
  q.expect_replays();
}

TEST(Queue, ARingingItemDoesNotOverflowUntilItsOfferEnds) {
  queue_fixture q;
  q.enqueue("a");
  q.ok(queue_cmd::offer_made{"a", "alice", "o1"});
  q.advance(90 * second_us);
  EXPECT_TRUE(overflow_due(q.state, q.config, q.ctx.now_us).empty());
  EXPECT_EQ(q.refused(queue_cmd::overflow{"a"}), errc::offer_in_progress);
  q.ok(queue_cmd::offer_timed_out{"a", "o1"});
  EXPECT_EQ(q.ok(queue_cmd::overflow{"a"}), names{"overflowed"});
}

TEST(Queue, WithoutOverflowConfiguredItemsWait) {
  queue_fixture q;
  q.config.overflow_after_s = 0;
  q.enqueue("a");
  q.advance(3600 * second_us);
  EXPECT_EQ(q.refused(queue_cmd::overflow{"a"}), errc::overflow_not_due);
  EXPECT_TRUE(overflow_due(q.state, q.config, q.ctx.now_us).empty());
  q.ctx.config = nullptr;
  EXPECT_EQ(q.refused(queue_cmd::overflow{"a"}), errc::overflow_not_due);
}

TEST(Queue, AnOverflowedItemKeepsItsOriginalEnqueueTimeInTheFallbackQueue) {
  queue_fixture general;
  general.ctx.now_us = 2'000 * second_us;
  general.enqueue("newer");
  general.ok(queue_cmd::enqueue{"moved", "call-moved", 0, {}, 1'500 * second_us});
  EXPECT_EQ(general.order(), (names{"moved", "newer"}));
  EXPECT_EQ(general.ok(queue_cmd::enqueue{"moved", "call-moved", 0, {}, 0}), names{});
}

TEST(Queue, AbandonAndClearRoutingRemoveTheItem) {
  queue_fixture q;
  q.enqueue("a");
  q.enqueue("b");
  q.advance(4 * second_us);
  EXPECT_EQ(q.ok(queue_cmd::abandon{"a"}), names{"abandoned"});
  EXPECT_EQ(std::get<queue_evt::abandoned>(q.log.back().body).wait_us, 4 * second_us);
  EXPECT_EQ(q.ok(queue_cmd::clear_routing{"b"}), names{"routing_cleared"});
  EXPECT_EQ(q.refused(queue_cmd::clear_routing{"b"}), errc::queue_item_not_found);
  EXPECT_EQ(q.refused(queue_cmd::abandon{"a"}), errc::queue_item_not_found);
  EXPECT_EQ(q.state.abandoned, 1u);
  EXPECT_EQ(q.state.cleared, 1u);
  q.expect_replays();
}

TEST(Queue, LiveFiguresCountWaitingItemsAndTheOldestWait) {
  queue_fixture q;
  EXPECT_EQ(figures(q.state, q.ctx.now_us).oldest_wait_us, 0);
  EXPECT_EQ(figures(q.state, q.ctx.now_us).estimated_wait_us, -1);  // no history
  q.enqueue("a");
  q.advance(10 * second_us);
  q.enqueue("b");
  q.ok(queue_cmd::offer_made{"b", "alice", "o1"});
  q.advance(5 * second_us);
  const queue_figures f = figures(q.state, q.ctx.now_us);
  EXPECT_EQ(f.waiting, 2u);
  EXPECT_EQ(f.ringing, 1u);
  EXPECT_EQ(f.oldest_wait_us, 15 * second_us);
}

TEST(Queue, EstimatedWaitFollowsTheServiceIntervalTimesPosition) {
  queue_fixture q;
  // A busy period: five items wait; one leaves every 10 s.
  for (int i = 0; i < 5; ++i) q.enqueue("i" + std::to_string(i));
  for (int i = 0; i < 3; ++i) {
    q.advance(10 * second_us);
    q.ok(queue_cmd::dequeue{"i" + std::to_string(i), "alice"});
  }
  EXPECT_EQ(q.state.ewma_service_interval_us, 10 * second_us);
  EXPECT_EQ(estimated_wait_us(q.state, 1), 10 * second_us);
  EXPECT_EQ(figures(q.state, q.ctx.now_us).estimated_wait_us, 30 * second_us);  // 2 wait + 1
  // A long idle gap before an item arrives does not count: only its own 2 s wait does.
  q.ok(queue_cmd::dequeue{"i3", "alice"});
  q.ok(queue_cmd::dequeue{"i4", "alice"});
  q.advance(3600 * second_us);
  q.enqueue("late");
  q.advance(2 * second_us);
  const std::int64_t before = q.state.ewma_service_interval_us;
  q.ok(queue_cmd::dequeue{"late", "bob"});
  EXPECT_EQ(q.state.ewma_service_interval_us, before + (2 * second_us - before) / 8);
  EXPECT_LT(q.state.ewma_service_interval_us, before);
  q.expect_replays();
}

// ---------------------------------------------------------------------------------------------
// Property test: random command sequences (seeded) keep the invariants.
qc random_queue_command(std::mt19937_64& rng, const queue_state& s) {
  auto below = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const std::string ids[] = {"a", "b", "c", "d", "e", "f"};
  const std::string agents[] = {"alice", "bob", "carol"};
  std::string item = ids[below(6)];
  if (!s.items.empty() && below(4) != 0) item = s.items[below(s.items.size())].item_id;
  const std::string offer = "o" + std::to_string(below(4));
  const std::string& agent = agents[below(3)];
  switch (below(9)) {
    case 0:
    case 1:
      return queue_cmd::enqueue{item, "call-" + item, static_cast<int>(below(3)),
                                below(2) ? std::vector<skill>{} : std::vector<skill>{{"b", 2}}, 0};
    case 2:
      return queue_cmd::dequeue{item, agent};
    case 3:
      return below(2) ? qc{queue_cmd::abandon{item}} : qc{queue_cmd::clear_routing{item}};
    case 4:
      return queue_cmd::overflow{item};
    case 5:
      return queue_cmd::request_customer_callback{item, "+1555000" + std::to_string(below(2))};
    case 6:
      return queue_cmd::offer_made{item, agent, offer};
    case 7: {
      const queue_item* it = s.find(item);
      return queue_cmd::offer_declined{item, it != nullptr && below(3) ? it->offer_id : offer};
    }
    default: {
      const queue_item* it = s.find(item);
      return queue_cmd::offer_timed_out{item, it != nullptr && below(3) ? it->offer_id : offer};
    }
  }
}

bool ordered(const queue_item& a, const queue_item& b) {
  return std::tuple(-a.priority, a.enqueued_at_us, a.item_id) <
         std::tuple(-b.priority, b.enqueued_at_us, b.item_id);
}

TEST(QueueProperty, RandomCommandSequencesKeepTheInvariants) {
  std::set<std::string_view> seen;  // every event type must be exercised
  for (std::uint64_t seed = 1; seed <= 1500; ++seed) {
    std::mt19937_64 rng(seed);
    queue_fixture q;
    q.config.overflow_after_s = 5;
    for (int step = 0; step < 80; ++step) {
      q.advance(static_cast<std::int64_t>(rng() % 3) * second_us);
      const qc c = random_queue_command(rng, q.state);
      const queue_state before = q.state;
      auto d = q.run(c);
      if (!d) continue;
      for (const auto& e : *d) seen.insert(event_type_name(e.body));
      ASSERT_TRUE(std::ranges::is_sorted(q.state.items, ordered)) << render(q.state);
      for (const auto& i : q.state.items) {
        // Never the same agent twice; a position never moves once enqueued.
        auto tried = i.tried_agents;
        std::ranges::sort(tried);
        ASSERT_EQ(std::ranges::adjacent_find(tried), tried.end()) << render(q.state);
        if (const queue_item* old = before.find(i.item_id)) {
          ASSERT_EQ(old->enqueued_at_us, i.enqueued_at_us);
          ASSERT_EQ(old->priority, i.priority);
        }
        ASSERT_LE(i.tried_agents.size(), tried_agents_per_item_max);
      }
      auto again = decide(q.state, c, q.ctx);
      ASSERT_TRUE(!again || again->empty()) << "seed " << seed << ": repeating " << command_name(c)
                                            << " yields " << event_type_name(again->front().body);
    }
    q.expect_replays();
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(seen.size(), std::variant_size_v<queue_event_body>);
}

}  // namespace
}  // namespace backline::domain::routingtest
