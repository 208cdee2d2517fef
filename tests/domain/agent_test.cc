// The agent aggregate: presence, capacity reservation, offers, after-call work and callback
// requests, plus a seeded property test over random command sequences.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "actors/domain/agent.h"
#include "tests/domain/routing_fixture.h"

namespace backline::domain::routingtest {
namespace {

using ac = agent_command;

TEST(Agent, StartsOfflineAndIsRefusedOffersWithANamedRule) {
  agent_fixture a;
  EXPECT_EQ(a.state.current, presence::offline);
  EXPECT_EQ(a.refuse_reserve("o1", "c1"), errc::agent_offline);
  EXPECT_EQ(rule_name(errc::agent_offline), "agent_offline");
}

TEST(Agent, SettingTheSamePresenceTwiceYieldsNoEvents) {
  agent_fixture a;
  EXPECT_EQ(a.ok(agent_cmd::set_presence{presence::available, {}}), names{"presence_changed"});
  EXPECT_EQ(a.ok(agent_cmd::set_presence{presence::available, {}}), names{});
  EXPECT_EQ(a.ok(agent_cmd::set_presence{presence::away, "break"}), names{"presence_changed"});
  EXPECT_EQ(a.ok(agent_cmd::set_presence{presence::away, "break"}), names{});
  EXPECT_EQ(a.ok(agent_cmd::set_presence{presence::away, "lunch"}), names{"presence_changed"});
  EXPECT_EQ(a.state.reason, "lunch");
  a.expect_replays();
}

TEST(Agent, AwayNeedsAReasonAndAfterCallWorkIsNotSetByHand) {
  agent_fixture a;
  EXPECT_EQ(a.refused(agent_cmd::set_presence{presence::away, {}}), errc::invalid_argument);
  EXPECT_EQ(a.refused(agent_cmd::set_presence{presence::after_call_work, {}}),
            errc::invalid_argument);
  EXPECT_EQ(a.refused(agent_cmd::set_presence{presence::away, std::string(200, 'x')}),
            errc::invalid_argument);
}

TEST(Agent, AwayAndBusyAgentsAreRefusedOffersWithNamedRules) {
  agent_fixture a;
  a.ok(agent_cmd::set_presence{presence::away, "break"});
  EXPECT_EQ(a.refuse_reserve("o1", "c1"), errc::agent_away);
  a.ok(agent_cmd::set_presence{presence::busy, "meeting"});
  EXPECT_EQ(a.refuse_reserve("o1", "c1"), errc::agent_not_available);
  a.available();
  EXPECT_EQ(a.reserve("o1", "c1"), names{"offer_reserved"});
}

TEST(Agent, IsNeverOfferedMoreWorkThanItsCapacity) {
  agent_fixture a;
  a.available();
  a.reserve("o1", "c1");
  EXPECT_EQ(a.refuse_reserve("o2", "c2"), errc::agent_at_capacity);
  a.ok(agent_cmd::accept_offer{"o1"});
  EXPECT_EQ(a.refuse_reserve("o2", "c2"), errc::agent_not_available);  // busy now
  EXPECT_EQ(a.state.work.size(), 1u);
}

TEST(Agent, RacingReservationsFromTwoQueuesAndADirectCallOnlyCapacityManySucceed) {
  agent_fixture a(2);
  a.available();
  const std::vector<agent_cmd::reserve_offer> racing = {
      {"q1-offer", "call-1", offer_kind::queue, "Billing", 20'000},
      {"q2-offer", "call-2", offer_kind::queue, "General", 20'000},
      {"direct-offer", "call-3", offer_kind::direct, {}, 20'000},
  };
  int granted = 0;
  for (const auto& r : racing) {
    auto d = a.run(r);
    if (d) {
      ++granted;
    } else {
      EXPECT_EQ(d.error().code, errc::agent_at_capacity);
    }
  }
  EXPECT_EQ(granted, 2);
  EXPECT_EQ(free_capacity(a.state, 2), 0);
  a.expect_replays();
}

TEST(Agent, AnOfferIdOrACallCannotBeReservedTwice) {
  agent_fixture a(3);
  a.available();
  a.reserve("o1", "c1");
  EXPECT_EQ(a.reserve("o1", "c1"), names{});  // a repeat
  EXPECT_EQ(a.refuse_reserve("o1", "c2"), errc::invalid_argument);
  EXPECT_EQ(a.refuse_reserve("o2", "c1"), errc::invalid_argument);
  EXPECT_EQ(a.refused(agent_cmd::reserve_offer{"o3", "c3", offer_kind::queue, {}, 0}),
            errc::invalid_argument);
  EXPECT_EQ(
      a.refused(agent_cmd::reserve_offer{std::string(129, 'o'), "c3", offer_kind::queue, {}, 1000}),
      errc::invalid_argument);
  EXPECT_EQ(a.refused(agent_cmd::reserve_offer{"o3", "c3", offer_kind::callback, {}, 1000}),
            errc::invalid_argument);
}

TEST(Agent, AcceptingAtCapacityMakesTheAgentBusyOnACall) {
  agent_fixture a;
  a.available();
  a.reserve("o1", "c1");
  EXPECT_EQ(a.ok(agent_cmd::accept_offer{"o1"}), (names{"offer_accepted", "presence_changed"}));
  EXPECT_EQ(a.state.current, presence::busy);
  EXPECT_EQ(a.state.reason, on_call_reason);
  EXPECT_EQ(a.ok(agent_cmd::accept_offer{"o1"}), names{});
  EXPECT_EQ(a.refused(agent_cmd::accept_offer{"nope"}), errc::offer_not_found);
  a.expect_replays();
}

TEST(Agent, EndOfTheLastCallStartsAfterCallWorkWhichWrapUpEnds) {
  agent_fixture a;
  a.available();
  a.reserve("o1", "c1");
  a.ok(agent_cmd::accept_offer{"o1"});
  a.advance(60 * second_us);
  EXPECT_EQ(a.ok(agent_cmd::release_work{"c1"}), (names{"work_released", "presence_changed"}));
  EXPECT_EQ(a.state.current, presence::after_call_work);
  EXPECT_EQ(a.refuse_reserve("o2", "c2"), errc::agent_not_available);
  EXPECT_EQ(a.ok(agent_cmd::release_work{"c1"}), names{});  // already released
  a.advance(5 * second_us);
  EXPECT_EQ(a.ok(agent_cmd::finish_wrap_up{}), names{"presence_changed"});
  EXPECT_EQ(a.state.current, presence::available);
  EXPECT_EQ(a.state.last_idle_since_us, a.ctx.now_us);
  EXPECT_EQ(a.ok(agent_cmd::finish_wrap_up{}), names{});
  a.expect_replays();
}

TEST(Agent, AfterCallWorkEndsWhenItsTimerFiresButNotForAStaleTimer) {
  agent_fixture a;
  a.available();
  a.reserve("o1", "c1");
  a.ok(agent_cmd::accept_offer{"o1"});
  a.ok(agent_cmd::release_work{"c1"});
  const std::int64_t first_acw = a.state.acw_since_us;
  a.ok(agent_cmd::finish_wrap_up{});
  a.advance(second_us);
  a.reserve("o2", "c2");
  a.ok(agent_cmd::accept_offer{"o2"});
  a.ok(agent_cmd::release_work{"c2"});
  ASSERT_NE(a.state.acw_since_us, first_acw);
  EXPECT_EQ(a.ok(agent_cmd::acw_timed_out{first_acw}), names{});  // the first period's timer
  EXPECT_EQ(a.ok(agent_cmd::acw_timed_out{a.state.acw_since_us}), names{"presence_changed"});
  EXPECT_EQ(a.state.current, presence::available);
}

TEST(Agent, ReleasingOneOfTwoCallsFreesASlotWithoutAfterCallWork) {
  agent_fixture a(2);
  a.available();
  a.reserve("o1", "c1");
  a.reserve("o2", "c2");
  // Every slot holds work once the first is accepted (the second still rings): busy.
  EXPECT_EQ(a.ok(agent_cmd::accept_offer{"o1"}), (names{"offer_accepted", "presence_changed"}));
  EXPECT_EQ(a.ok(agent_cmd::accept_offer{"o2"}), names{"offer_accepted"});
  EXPECT_EQ(a.ok(agent_cmd::release_work{"c1"}), (names{"work_released", "presence_changed"}));
  EXPECT_EQ(a.state.current, presence::available);
  EXPECT_EQ(free_capacity(a.state, 2), 1);
  EXPECT_EQ(a.ok(agent_cmd::release_work{"c2"}), (names{"work_released", "presence_changed"}));
  EXPECT_EQ(a.state.current, presence::after_call_work);
  a.expect_replays();
}

TEST(Agent, DeclineReleasesCapacityAndLeavesTheAgentAvailable) {
  agent_fixture a;
  a.available();
  a.reserve("o1", "c1");
  EXPECT_EQ(a.ok(agent_cmd::decline_offer{"o1"}), names{"offer_declined"});
  EXPECT_EQ(a.state.current, presence::available);
  EXPECT_EQ(a.state.declined_offers, 1u);
  EXPECT_EQ(a.refused(agent_cmd::decline_offer{"o1"}), errc::offer_not_found);
  EXPECT_EQ(a.reserve("o2", "c2"), names{"offer_reserved"});
}

TEST(Agent, AMissedOfferIsRecordedAndMakesTheAgentAway) {
  agent_fixture a(2);
  a.available();
  a.reserve("o1", "c1");
  a.reserve("o2", "c2");
  EXPECT_EQ(a.ok(agent_cmd::offer_timed_out{"o1"}),
            (names{"offer_timed_out", "offer_withdrawn", "presence_changed"}));
  EXPECT_EQ(a.state.missed_offers, 1u);
  EXPECT_EQ(a.state.current, presence::away);
  EXPECT_EQ(a.state.reason, "missed_offer");
  EXPECT_TRUE(a.state.work.empty());
  EXPECT_EQ(a.refuse_reserve("o3", "c3"), errc::agent_away);
  EXPECT_EQ(a.refused(agent_cmd::accept_offer{"o2"}), errc::offer_not_found);
  a.expect_replays();
}

TEST(Agent, WithoutTheMissedOfferPolicyAMissedOfferOnlyFreesTheSlot) {
  agent_fixture a;
  a.ctx.away_on_missed_offer = false;
  a.available();
  a.reserve("o1", "c1");
  EXPECT_EQ(a.ok(agent_cmd::offer_timed_out{"o1"}), names{"offer_timed_out"});
  EXPECT_EQ(a.state.current, presence::available);
  EXPECT_EQ(a.state.missed_offers, 1u);
}

TEST(Agent, GoingOfflineWhileRingingWithdrawsTheOfferAndRefusesNewOnes) {
  agent_fixture a;
  a.available();
  a.reserve("o1", "c1");
  EXPECT_EQ(a.ok(agent_cmd::set_presence{presence::offline, {}}),
            (names{"offer_withdrawn", "presence_changed"}));
  EXPECT_TRUE(a.state.work.empty());
  EXPECT_EQ(std::get<agent_evt::offer_withdrawn>(a.log[2].body).reason, "agent_offline");
  EXPECT_EQ(a.refused(agent_cmd::accept_offer{"o1"}), errc::offer_not_found);
  EXPECT_EQ(a.refused(agent_cmd::offer_timed_out{"o1"}), errc::offer_not_found);
  EXPECT_EQ(a.refuse_reserve("o2", "c2"), errc::agent_offline);
  a.expect_replays();
}

TEST(Agent, GoingAwayOnACallKeepsTheCallButSkipsAfterCallWork) {
  agent_fixture a;
  a.available();
  a.reserve("o1", "c1");
  a.ok(agent_cmd::accept_offer{"o1"});
  EXPECT_EQ(a.ok(agent_cmd::set_presence{presence::away, "break"}), names{"presence_changed"});
  EXPECT_EQ(a.state.work.size(), 1u);
  EXPECT_EQ(a.ok(agent_cmd::release_work{"c1"}), names{"work_released"});
  EXPECT_EQ(a.state.current, presence::away);
}

TEST(Agent, ACallerWhoHangsUpWhileRingingWithdrawsTheOffer) {
  agent_fixture a;
  a.available();
  a.reserve("o1", "c1");
  EXPECT_EQ(a.ok(agent_cmd::release_work{"c1"}), names{"offer_withdrawn"});
  EXPECT_EQ(a.state.current, presence::available);
  EXPECT_TRUE(a.state.work.empty());
}

TEST(Agent, ABusyTargetOfADirectCallGetsACallbackRequestInsteadOfARing) {
  agent_fixture a;
  EXPECT_EQ(classify_direct_target(a.state, 1).rule, errc::agent_offline);
  a.ok(agent_cmd::set_presence{presence::away, "break"});
  EXPECT_EQ(classify_direct_target(a.state, 1).rule, errc::agent_away);
  EXPECT_EQ(classify_direct_target(a.state, 1).outcome, direct_target_outcome::refuse);
  a.available();
  EXPECT_EQ(classify_direct_target(a.state, 1).outcome, direct_target_outcome::ring);
  a.reserve("o1", "c1");
  EXPECT_EQ(classify_direct_target(a.state, 1).outcome, direct_target_outcome::callback);
  a.ok(agent_cmd::accept_offer{"o1"});
  EXPECT_EQ(classify_direct_target(a.state, 1).outcome, direct_target_outcome::callback);
  a.ok(agent_cmd::release_work{"c1"});  // after-call work
  EXPECT_EQ(classify_direct_target(a.state, 1).outcome, direct_target_outcome::callback);
  EXPECT_EQ(a.ok(agent_cmd::request_callback{"cb1", "bob", "c9", 0}), names{"callback_requested"});
  EXPECT_EQ(a.ok(agent_cmd::request_callback{"cb1", "bob", "c9", 0}), names{});
  EXPECT_EQ(a.refused(agent_cmd::request_callback{"cb1", "carol", "c9", 0}),
            errc::invalid_argument);
}

TEST(Agent, CallbacksKeepTheirOriginalRequestOrder) {
  agent_fixture a;
  a.ok(agent_cmd::request_callback{"cb-late", "bob", {}, 0});
  a.ok(agent_cmd::request_callback{"cb-early", "carol", {}, a.ctx.now_us - 10 * second_us});
  a.ok(agent_cmd::request_callback{"cb-b", "dave", {}, a.ctx.now_us - 5 * second_us});
  a.ok(agent_cmd::request_callback{"cb-a", "erin", {}, a.ctx.now_us - 5 * second_us});
  std::vector<std::string> order;
  for (const auto& c : a.state.callbacks) order.push_back(c.callback_id);
  EXPECT_EQ(order, (names{"cb-early", "cb-a", "cb-b", "cb-late"}));
  EXPECT_EQ(a.refused(agent_cmd::request_callback{"cb-x", "bob", {}, a.ctx.now_us + 1}),
            errc::invalid_argument);
  a.expect_replays();
}

TEST(Agent, AnOfferedCallbackThatIsMissedKeepsItsPlace) {
  agent_fixture a;
  a.ctx.away_on_missed_offer = false;
  a.ok(agent_cmd::request_callback{"cb1", "bob", {}, 0});
  a.advance(second_us);
  a.ok(agent_cmd::request_callback{"cb2", "carol", {}, 0});
  EXPECT_EQ(a.refused(agent_cmd::offer_callback{"cb1", "o1", "call-back-1", 20'000}),
            errc::agent_offline);
  a.available();
  EXPECT_EQ(a.ok(agent_cmd::offer_callback{"cb1", "o1", "call-back-1", 20'000}),
            (names{"offer_reserved", "callback_offered"}));
  EXPECT_EQ(a.ok(agent_cmd::offer_callback{"cb1", "o1", "call-back-1", 20'000}), names{});
  EXPECT_EQ(a.refused(agent_cmd::offer_callback{"cb2", "o2", "call-back-2", 20'000}),
            errc::agent_at_capacity);
  a.ok(agent_cmd::offer_timed_out{"o1"});
  EXPECT_EQ(a.state.callbacks.front().callback_id, "cb1");
  EXPECT_TRUE(a.state.callbacks.front().offer_id.empty());
  a.expect_replays();
}

TEST(Agent, ACompletedCallbackLeavesTheListAndItsCallIsWorkUntilReleased) {
  agent_fixture a;
  a.available();
  a.ok(agent_cmd::request_callback{"cb1", "bob", {}, 0});
  a.ok(agent_cmd::offer_callback{"cb1", "o1", "call-back-1", 20'000});
  a.ok(agent_cmd::accept_offer{"o1"});
  EXPECT_EQ(a.ok(agent_cmd::complete_callback{"cb1"}), names{"callback_completed"});
  EXPECT_TRUE(a.state.callbacks.empty());
  EXPECT_EQ(a.state.work.size(), 1u);
  EXPECT_EQ(a.refused(agent_cmd::complete_callback{"cb1"}), errc::callback_not_found);
  EXPECT_EQ(a.ok(agent_cmd::release_work{"call-back-1"}),
            (names{"work_released", "presence_changed"}));
  a.expect_replays();
}

TEST(Agent, TheEndOfAnAcceptedCallbackCallCompletesTheCallback) {
  agent_fixture a;
  a.available();
  a.ok(agent_cmd::request_callback{"cb1", "bob", {}, 0});
  a.ok(agent_cmd::offer_callback{"cb1", "o1", "call-back-1", 20'000});
  a.ok(agent_cmd::accept_offer{"o1"});
  EXPECT_EQ(a.ok(agent_cmd::release_work{"call-back-1"}),
            (names{"work_released", "callback_completed", "presence_changed"}));
  EXPECT_TRUE(a.state.callbacks.empty());
  a.expect_replays();
}

TEST(Agent, ACancelledCallbackWithdrawsItsRingingOffer) {
  agent_fixture a;
  a.available();
  a.ok(agent_cmd::request_callback{"cb1", "bob", {}, 0});
  a.ok(agent_cmd::offer_callback{"cb1", "o1", "call-back-1", 20'000});
  EXPECT_EQ(a.ok(agent_cmd::cancel_callback{"cb1"}),
            (names{"offer_withdrawn", "callback_cancelled"}));
  EXPECT_TRUE(a.state.work.empty());
  EXPECT_TRUE(a.state.callbacks.empty());
  EXPECT_EQ(a.refused(agent_cmd::cancel_callback{"cb1"}), errc::callback_not_found);
  a.expect_replays();
}

TEST(Agent, PendingCallbacksAreBounded) {
  agent_fixture a;
  for (std::size_t i = 0; i < callbacks_per_agent_max; ++i) {
    a.ok(agent_cmd::request_callback{"cb" + std::to_string(i), "bob", {}, 0});
  }
  EXPECT_EQ(a.refused(agent_cmd::request_callback{"one-more", "bob", {}, 0}), errc::limit_exceeded);
}

// ---------------------------------------------------------------------------------------------
// Property test: random command sequences (seeded) keep the invariants.
struct agent_generator {
  std::mt19937_64 rng;
  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  }
  std::string pick(std::initializer_list<const char*> v) { return *(v.begin() + below(v.size())); }

  ac next(const agent_state& s) {
    const std::string offer = pick({"o1", "o2", "o3", "o4"});
    const std::string call = pick({"c1", "c2", "c3", "c4"});
    const std::string cb = pick({"cb1", "cb2", "cb3"});
    switch (below(12)) {
      case 0: {
        const presence p[] = {presence::offline, presence::available, presence::available,
                              presence::busy, presence::away};
        const presence to = p[below(5)];
        return agent_cmd::set_presence{to, to == presence::away ? pick({"break", "lunch"}) : ""};
      }
      case 1:
      case 2:
        return agent_cmd::reserve_offer{
            offer, call, below(2) ? offer_kind::queue : offer_kind::direct, {}, 20'000};
      case 3:
        return agent_cmd::accept_offer{offer};
      case 4:
        return agent_cmd::decline_offer{offer};
      case 5:
        return agent_cmd::offer_timed_out{offer};
      case 6:
        return agent_cmd::release_work{call};
      case 7:
        return agent_cmd::finish_wrap_up{};
      case 8:
        return agent_cmd::acw_timed_out{below(3) ? s.acw_since_us : 0};
      case 9:
        return agent_cmd::request_callback{cb, pick({"bob", "carol"}), {}, 0};
      case 10:
        return agent_cmd::offer_callback{cb, offer, call, 20'000};
      default:
        return below(2) ? ac{agent_cmd::cancel_callback{cb}} : ac{agent_cmd::complete_callback{cb}};
    }
  }
};

void check_invariants(const agent_state& s, int capacity) {
  ASSERT_LE(static_cast<int>(s.work.size()), capacity) << render(s);
  ASSERT_TRUE(std::ranges::is_sorted(s.callbacks, [](const auto& a, const auto& b) {
    return std::tie(a.requested_at_us, a.callback_id) < std::tie(b.requested_at_us, b.callback_id);
  })) << render(s);
  for (const auto& c : s.callbacks) {
    if (!c.offer_id.empty()) {
      ASSERT_NE(s.find_offer(c.offer_id), nullptr) << render(s);
    }
  }
  if (s.current == presence::after_call_work) {
    ASSERT_TRUE(s.work.empty()) << render(s);
  }
  if (s.current == presence::offline || s.current == presence::away) {
    for (const auto& w : s.work) ASSERT_TRUE(w.accepted) << "ringing while " << render(s);
  }
}

TEST(AgentProperty, RandomCommandSequencesKeepTheInvariants) {
  std::set<std::string_view> seen;  // every event type must be exercised
  for (std::uint64_t seed = 1; seed <= 1500; ++seed) {
    agent_generator gen{std::mt19937_64(seed)};
    agent_fixture a(1 + static_cast<int>(seed % 3));
    a.ctx.away_on_missed_offer = seed % 2 == 0;
    for (int step = 0; step < 80; ++step) {
      a.advance(static_cast<std::int64_t>(gen.below(3)) * second_us);
      const ac c = gen.next(a.state);
      const agent_state before = a.state;
      auto d = a.run(c);
      if (!d) continue;
      for (const auto& e : *d) {
        seen.insert(event_type_name(e.body));
        if (std::holds_alternative<agent_evt::offer_reserved>(e.body)) {
          ASSERT_EQ(before.current, presence::available) << "seed " << seed;
        }
      }
      check_invariants(a.state, a.ctx.capacity);
      auto again = decide(a.state, c, a.ctx);
      ASSERT_TRUE(!again || again->empty())
          << "seed " << seed << " step " << step << ": repeating " << command_name(c) << " yields "
          << event_type_name(again->front().body);
      if (HasFatalFailure()) return;
    }
    a.expect_replays();
  }
  EXPECT_EQ(seen.size(), std::variant_size_v<agent_event_body>);
}

}  // namespace
}  // namespace backline::domain::routingtest
