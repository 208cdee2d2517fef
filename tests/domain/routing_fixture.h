#pragma once
// Test helpers for the agent and queue aggregates: fixtures that run commands the way the actor
// shells do (decide, then fold every event into the state and append it to the log), on a
// virtual clock. Used by agent_test.cc, queue_test.cc and routing_test.cc.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/domain/agent.h"
#include "actors/domain/queue.h"

namespace backline::domain::routingtest {

inline constexpr std::int64_t second_us = 1'000'000;

template <class State, class Command, class Event, class Context>
struct aggregate_fixture {
  State state;
  std::vector<Event> log;
  Context ctx;

  // Decides and folds; returns the decision so a test can inspect events or the rejection.
  auto run(const Command& c) {
    auto d = decide(state, c, ctx);
    if (d) {
      for (const auto& e : *d) {
        evolve(state, e);
        log.push_back(e);
      }
    }
    return d;
  }
  // Runs a command that must be accepted; returns the names of its events.
  std::vector<std::string> ok(const Command& c) {
    auto d = run(c);
    EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().detail);
    std::vector<std::string> names;
    if (d) {
      for (const auto& e : *d) names.emplace_back(event_type_name(e.body));
    }
    return names;
  }
  // Runs a command that must be refused; returns the rule, and checks nothing was appended.
  errc refused(const Command& c) {
    const std::size_t before = log.size();
    auto d = run(c);
    EXPECT_FALSE(d.has_value());
    EXPECT_EQ(log.size(), before);
    return d ? errc::ok : d.error().code;
  }
  void advance(std::int64_t us) { ctx.now_us += us; }
  // Folding the whole log from scratch gives the same state.
  void expect_replays() const {
    State fresh;
    for (const auto& e : log) evolve(fresh, e);
    EXPECT_EQ(render(fresh), render(state));
    EXPECT_TRUE(fresh == state);
  }
};

struct agent_fixture : aggregate_fixture<agent_state, agent_command, agent_event, agent_context> {
  agent_fixture(int capacity = 1) {
    ctx.now_us = 1'000 * second_us;
    ctx.capacity = capacity;
  }
  void available() { ok(agent_cmd::set_presence{presence::available, {}}); }
  std::vector<std::string> reserve(std::string offer, std::string call,
                                   offer_kind kind = offer_kind::queue) {
    return ok(agent_cmd::reserve_offer{std::move(offer), std::move(call), kind, {}, 20'000});
  }
  errc refuse_reserve(std::string offer, std::string call) {
    return refused(
        agent_cmd::reserve_offer{std::move(offer), std::move(call), offer_kind::queue, {}, 20'000});
  }
};

struct queue_fixture : aggregate_fixture<queue_state, queue_command, queue_event, queue_context> {
  queue_entry config;
  queue_fixture() {
    ctx.now_us = 1'000 * second_us;
    config.name = "Billing";
    config.overflow_after_s = 60;
    config.overflow_queue = "General";
    ctx.config = &config;
  }
  std::vector<std::string> enqueue(std::string item, int priority = 0,
                                   std::vector<skill> skills = {}) {
    return ok(queue_cmd::enqueue{item, "call-" + item, priority, std::move(skills), 0});
  }
  std::vector<std::string> order() const {
    std::vector<std::string> ids;
    for (const auto& i : state.items) ids.push_back(i.item_id);
    return ids;
  }
};

using names = std::vector<std::string>;

}  // namespace backline::domain::routingtest
