// The seeded routing simulation: a full 8-hour day with invariants checked at every event, and
// replay determinism (same seed, same event-log hash; another seed, another hash).
#include "tests/sim/routing_sim.h"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

namespace backline::sim {
namespace {

sim_summary run_and_print(const sim_config& c) {
  const auto start = std::chrono::steady_clock::now();
  sim_summary s = run_simulation(c);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::cout << "seed=" << c.seed << " " << render(s) << " runtime=" << ms << "ms\n";
  for (const auto& v : s.violations) std::cout << "  violation: " << v << "\n";
  return s;
}

TEST(RoutingSimulation, AnEightHourDayKeepsEveryInvariant) {
  const sim_config c;
  const sim_summary s = run_and_print(c);
  EXPECT_TRUE(s.violations.empty());
  EXPECT_GT(s.customer_calls, 10'000u);
  EXPECT_GT(s.internal_calls, 500u);
  EXPECT_GT(s.answered, s.customer_calls / 2);
  EXPECT_GT(s.abandoned, 0u);
  EXPECT_GT(s.called_back, 0u);
  EXPECT_GT(s.consults, 0u);
  EXPECT_GT(s.missed, 0u);
  EXPECT_GT(s.declined, 0u);
  EXPECT_GT(s.callbacks_requested, 0u);
  EXPECT_GT(s.callbacks_completed, 0u);
  EXPECT_GT(s.overflowed, 0u);
  // Every call created (customer, internal, callback calls) ended in exactly one outcome.
  EXPECT_EQ(s.answered + s.abandoned + s.called_back, s.calls);
  EXPECT_GE(s.calls,
            s.customer_calls + s.internal_calls - s.internal_refused - s.internal_callbacks);
}

TEST(RoutingSimulation, TheSameSeedGivesTheSameEventLog) {
  sim_config c;
  c.day_us = 2LL * 3600 * 1'000'000;
  const sim_summary a = run_and_print(c);
  const sim_summary b = run_and_print(c);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.events, b.events);
  c.seed = 2;
  const sim_summary other = run_and_print(c);
  EXPECT_NE(a.hash, other.hash);
  EXPECT_TRUE(other.violations.empty());
}

TEST(RoutingSimulation, OtherSeedsKeepEveryInvariantToo) {
  for (std::uint64_t seed = 3; seed <= 6; ++seed) {
    sim_config c;
    c.seed = seed;
    const sim_summary s = run_and_print(c);
    EXPECT_TRUE(s.violations.empty()) << "seed " << seed;
    EXPECT_EQ(s.answered + s.abandoned + s.called_back, s.calls) << "seed " << seed;
  }
}

}  // namespace
}  // namespace backline::sim
