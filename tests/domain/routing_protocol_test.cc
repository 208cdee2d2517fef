// The routing protocol's edge cases, driven the way the routing actor drives it: every command
// goes through the aggregates' decide/evolve, every event is folded into the view.
#include "actors/domain/routing_protocol.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace backline::domain {
namespace {

constexpr std::int64_t second_us = 1'000'000;

directory small_directory() {
  directory d;
  d.call_center = "test";
  auto agent = [&](std::string id, std::string ext, std::vector<skill> skills, int capacity = 1) {
    agent_entry a;
    a.id = a.name = std::move(id);
    a.extension = std::move(ext);
    a.skills = std::move(skills);
    a.capacity = capacity;
    d.agents.push_back(std::move(a));
  };
  agent("alice", "2001", {{"billing", 5}});
  agent("bob", "2002", {{"billing", 3}});
  agent("carol", "2003", {{"billing", 8}, {"tech", 2}});
  agent("dave", "2004", {{"tech", 9}});
  d.queues.push_back(queue_entry{
      "Billing", "5001", {{"billing", 1}}, routing_strategy::longest_idle, 20, 60, "General"});
  d.queues.push_back(queue_entry{
      "Rare", "5002", {{"klingon", 5}}, routing_strategy::longest_idle, 20, 60, "General"});
  d.queues.push_back(queue_entry{"General", "5999", {}, routing_strategy::longest_idle, 20, 0, {}});
  phone_channel ch{"+18005550000", "support", "General", {}};
  ch.rules.push_back(flow_rule{"case_category", "billing", "Billing", {}, {}});
  ch.rules.push_back(flow_rule{"case_category", "vip", "", "carol", {}});
  d.channels.push_back(std::move(ch));
  return d;
}

// Runs steps against real aggregates, folding every event into the view; records what happened.
class harness {
 public:
  harness() : dir_(small_directory()), view(dir_) {
    for (const auto& a : dir_.agents) agents[a.id] = agent_state{};
    for (const auto& q : dir_.queues) queues[q.name] = queue_state{};
  }
  harness(const harness&) = delete;  // the view points into dir_

  bool send(const routing_command& c) {
    auto ok = std::visit([&](const auto& x) { return send_one(x); }, c);
    if (!ok) refusals.push_back(std::string(ok.error().rule()) + " " + render(c));
    last_refusal = ok ? rejection{} : ok.error();
    return ok.has_value();
  }
  void run(const std::vector<routing_step>& steps) {
    for (const auto& step : steps) {
      for (std::size_t i = 0; i < step.commands.size(); ++i) {
        if (!send(step.commands[i])) {
          on_refused(view, step, i, last_refusal, now);
          break;
        }
      }
    }
  }
  void settle() {
    for (int i = 0; i < 100; ++i) {
      auto steps = next_commands(view, now);
      if (steps.empty()) return;
      run(steps);
    }
    FAIL() << "the protocol did not settle";
  }
  request_result ask(const routing_request& r) {
    request_result res = request(view, r, now);
    run(res.steps);
    settle();
    return res;
  }
  void agent(const std::string& id, agent_command c) {
    send(route::to_agent{id, std::move(c)});
    settle();
  }
  void hangup(const std::string& call) {
    send(route::to_call{call, cmd::end_call{call, "hangup"}});
    settle();
  }
  void available(const std::string& id) {
    agent(id, agent_cmd::set_presence{presence::available, {}});
    advance(1);  // distinct idle-since times: longest idle is the first made available
  }
  void advance(std::int64_t seconds) {
    now += seconds * second_us;
    settle();
  }
  const work_item* ringing(const std::string& agent_id) const {
    for (const auto& w : agents.at(agent_id).work) {
      if (!w.accepted) return &w;
    }
    return nullptr;
  }
  void accept(const std::string& agent_id) {
    const work_item* w = ringing(agent_id);
    ASSERT_NE(w, nullptr) << agent_id << " is not ringing";
    agent(agent_id, agent_cmd::accept_offer{w->offer_id});
  }
  request_result customer(const std::string& id, const std::string& category, int priority = 0) {
    route_req::customer_call c;
    c.call_id = id;
    c.from = "+4930123";
    c.dialled_number = "+18005550000";
    c.attributes.case_category = category;
    c.priority = priority;
    return ask(c);
  }
  // The events of one kind, rendered "stream type", in log order.
  std::vector<std::string> events_of(std::string_view type) const {
    std::vector<std::string> out;
    for (const auto& e : log) {
      if (e.find(type) != std::string::npos) out.push_back(e);
    }
    return out;
  }

  std::map<std::string, agent_state> agents;
  std::map<std::string, queue_state> queues;
  std::map<std::string, call_state> calls;
  std::vector<std::string> log, refusals;
  rejection last_refusal;
  std::int64_t now = 1'000 * second_us;

 private:
  std::expected<void, rejection> send_one(const route::to_agent& c) {
    agent_state& s = agents.at(c.agent_id);
    auto d = decide(s, c.command, agent_context{now, dir_.find_agent(c.agent_id)->capacity, true});
    if (!d) return std::unexpected(d.error());
    for (const auto& e : *d) {
      evolve(s, e);
      EXPECT_LE(static_cast<int>(s.work.size()), dir_.find_agent(c.agent_id)->capacity);
      log.push_back("agent/" + c.agent_id + " " + std::string(event_type_name(e.body)) + " " +
                    (std::holds_alternative<agent_evt::offer_reserved>(e.body)
                         ? std::get<agent_evt::offer_reserved>(e.body).voice_call_id
                         : std::string()));
      apply(view, c.agent_id, e);
    }
    return {};
  }
  std::expected<void, rejection> send_one(const route::to_queue& c) {
    queue_state& s = queues.at(c.queue);
    auto d = decide(s, c.command, queue_context{now, dir_.find_queue(c.queue)});
    if (!d) return std::unexpected(d.error());
    for (const auto& e : *d) {
      evolve(s, e);
      log.push_back("queue/" + c.queue + " " + std::string(event_type_name(e.body)));
      apply(view, c.queue, e);
    }
    return {};
  }
  std::expected<void, rejection> send_one(const route::to_call& c) {
    call_state& s = calls[c.call_id];
    auto d = decide(s, c.command, decide_context{now, &dir_});
    if (!d) return std::unexpected(d.error());
    for (const auto& e : *d) {
      evolve(s, e);
      log.push_back("call/" + c.call_id + " " + std::string(event_type_name(e.body)));
      apply(view, c.call_id, e);
    }
    return {};
  }

  directory dir_;

 public:
  routing_view view;
};

}  // namespace
}  // namespace backline::domain

namespace backline::domain {
namespace {

const queue_item* item_of(const harness& h, const std::string& queue, const std::string& call) {
  return h.queues.at(queue).find_call(call);
}

TEST(RoutingProtocol, AnAcceptedOfferDequeuesAndConnectsTheCall) {
  harness h;
  h.available("alice");
  const request_result r = h.customer("c1", "billing");
  EXPECT_EQ(r.outcome, route_outcome::queued);
  EXPECT_EQ(r.queue, "Billing");
  ASSERT_NE(h.ringing("alice"), nullptr);
  EXPECT_EQ(h.calls["c1"].find("c1")->ringing_agent, "alice");
  h.accept("alice");
  EXPECT_EQ(item_of(h, "Billing", "c1"), nullptr);
  EXPECT_EQ(h.calls["c1"].find("c1")->status, segment_status::connected);
  EXPECT_EQ(h.calls["c1"].find("c1")->owner_agent, "alice");
  // The call ends: the agent's work is released and after-call work starts.
  h.send(route::to_call{"c1", cmd::end_call{"c1", "hangup"}});
  h.settle();
  EXPECT_TRUE(h.agents["alice"].work.empty());
  EXPECT_EQ(h.agents["alice"].current, presence::after_call_work);
}

TEST(RoutingProtocol, TwoPsrsRacingForTheLastSlotOneIsRefusedAndTheItemMovesOn) {
  harness h;
  h.available("alice");
  h.available("bob");
  // Two items arrive; before the router's offers reach the agents, a direct call (another
  // router) takes alice's only slot.
  route_req::customer_call c1{"c1", "+1", "+18005550000", {}, {}, {}, 0};
  c1.attributes.case_category = "billing";
  route_req::customer_call c2 = c1;
  c2.call_id = "c2";
  auto r1 = request(h.view, c1, h.now);
  h.run(r1.steps);
  auto r2 = request(h.view, c2, h.now);
  h.run(r2.steps);
  const auto offers = next_commands(h.view, h.now);
  ASSERT_EQ(offers.size(), 2u);
  h.send(route::to_agent{
      "alice", agent_cmd::reserve_offer{"x", "other-call", offer_kind::direct, {}, 20'000}});
  h.run(offers);
  ASSERT_EQ(h.refusals.size(), 1u);
  EXPECT_EQ(h.refusals[0], "agent_at_capacity agent/alice reserve_offer");
  h.settle();
  // c1 (the older) was meant for alice; it waits, never pushed over alice's capacity; c2 rings bob.
  EXPECT_EQ(h.agents["alice"].work.size(), 1u);
  EXPECT_EQ(item_of(h, "Billing", "c2")->offer_agent, "bob");
  EXPECT_FALSE(item_of(h, "Billing", "c1")->offering());
  // A third agent frees up: the waiting item goes to them.
  h.available("carol");
  EXPECT_EQ(item_of(h, "Billing", "c1")->offer_agent, "carol");
}

TEST(RoutingProtocol, AnAgentGoingOfflineWhileRingingSendsTheItemToTheNextAgent) {
  harness h;
  h.available("alice");
  h.customer("c1", "billing");
  ASSERT_EQ(item_of(h, "Billing", "c1")->offer_agent, "alice");
  h.available("bob");
  h.agent("alice", agent_cmd::set_presence{presence::offline, {}});
  const queue_item* item = item_of(h, "Billing", "c1");
  EXPECT_EQ(item->offer_agent, "bob");
  EXPECT_EQ(item->tried_agents, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(h.events_of("offer_withdrawn").size(), 1u);
  EXPECT_EQ(h.calls["c1"].find("c1")->ringing_agent, "bob");
}

TEST(RoutingProtocol, ARingTimeoutIsAMissedOfferAndNeverRingsTheSameAgentTwice) {
  harness h;
  h.available("alice");
  h.customer("c1", "billing");
  h.advance(19);
  EXPECT_EQ(h.agents["alice"].missed_offers, 0u);
  h.advance(1);  // 20 s: the default ring timeout
  EXPECT_EQ(h.agents["alice"].missed_offers, 1u);
  EXPECT_EQ(h.agents["alice"].current, presence::away);  // missed offer policy
  h.available("alice");
  EXPECT_FALSE(item_of(h, "Billing", "c1")->offering());  // alice was tried
  h.available("bob");
  EXPECT_EQ(item_of(h, "Billing", "c1")->offer_agent, "bob");
  h.agent("bob", agent_cmd::decline_offer{h.ringing("bob")->offer_id});
  EXPECT_EQ(item_of(h, "Billing", "c1")->tried_agents.size(), 2u);
  EXPECT_FALSE(item_of(h, "Billing", "c1")->offering());
}

TEST(RoutingProtocol, TheRingTimeoutIsConfigurable) {
  harness h;
  h.view.config.ring_timeout_ms = 5'000;
  h.available("alice");
  h.customer("c1", "billing");
  ASSERT_FALSE(h.view.ring_deadlines.empty());
  EXPECT_EQ(h.view.ring_deadlines.begin()->first, h.now + 5 * second_us);
  EXPECT_LE(next_deadline_us(h.view), h.now + 5 * second_us);
  h.advance(5);
  EXPECT_EQ(h.agents["alice"].missed_offers, 1u);
}

TEST(RoutingProtocol, AQueueWithNoQualifiedAgentsWaitsThenOverflowsKeepingItsTime) {
  harness h;
  h.available("alice");
  h.available("dave");
  const auto r = h.ask(route_req::internal_call{"i1", "bob", "Rare"});
  EXPECT_EQ(r.outcome, route_outcome::queued);
  const std::int64_t enqueued = item_of(h, "Rare", "i1")->enqueued_at_us;
  h.advance(30);
  EXPECT_FALSE(item_of(h, "Rare", "i1")->offering());
  EXPECT_TRUE(next_commands(h.view, h.now).empty());
  h.advance(31);  // past overflow_after_s = 60: to General, the original time kept
  EXPECT_EQ(item_of(h, "Rare", "i1"), nullptr);
  const queue_item* moved = item_of(h, "General", "i1");
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(moved->enqueued_at_us, enqueued);
  EXPECT_EQ(moved->offer_agent, "alice");
}

TEST(RoutingProtocol, PriorityFirstThenFifo) {
  harness h;
  h.customer("c1", "billing", 0);
  h.advance(1);
  h.customer("c2", "billing", 0);
  h.advance(1);
  h.customer("c3", "billing", 5);
  h.available("alice");
  std::vector<std::string> served;
  for (int i = 0; i < 3; ++i) {
    ASSERT_NE(h.ringing("alice"), nullptr);
    const std::string call = h.ringing("alice")->voice_call_id;
    served.push_back(call);
    h.accept("alice");
    h.hangup(call);
    h.agent("alice", agent_cmd::finish_wrap_up{});
  }
  EXPECT_EQ(served, (std::vector<std::string>{"c3", "c1", "c2"}));
}

TEST(RoutingProtocol, ABusyTargetGetsACallbackTheCallerCanCancel) {
  harness h;
  h.available("alice");
  h.available("carol");
  h.customer("c1", "billing");
  h.accept("alice");  // alice is now busy on a call
  const auto r = h.ask(route_req::internal_call{"i1", "carol", "2001"});  // alice's extension
  EXPECT_EQ(r.outcome, route_outcome::callback);
  EXPECT_EQ(r.agent, "alice");
  ASSERT_EQ(h.agents["alice"].callbacks.size(), 1u);
  EXPECT_EQ(h.agents["alice"].callbacks[0].caller_agent, "carol");
  EXPECT_FALSE(h.calls.contains("i1"));  // no disruptive ring
  h.ask(route_req::cancel_callback{"alice", r.callback_id});
  EXPECT_TRUE(h.agents["alice"].callbacks.empty());
  EXPECT_EQ(h.events_of("callback_cancelled").size(), 1u);
}

TEST(RoutingProtocol, OfflineAndAwayTargetsAreRefusedWithTheRule) {
  harness h;
  auto r = h.ask(route_req::internal_call{"i1", "carol", "bob"});
  EXPECT_EQ(r.outcome, route_outcome::refused);
  ASSERT_TRUE(r.refusal.has_value());
  EXPECT_EQ(r.refusal->rule(), "agent_offline");
  h.available("bob");
  h.agent("bob", agent_cmd::set_presence{presence::away, "lunch"});
  r = h.ask(route_req::internal_call{"i2", "carol", "2002"});
  EXPECT_EQ(r.refusal->rule(), "agent_away");
  EXPECT_NE(r.refusal->detail.find("lunch"), std::string::npos);
  EXPECT_TRUE(h.calls.empty() || !h.calls["i2"].exists());
}

TEST(RoutingProtocol, CallbacksAreOfferedOldestFirstBeforeQueueWork) {
  harness h;
  h.available("alice");
  h.available("carol");
  h.available("dave");
  h.customer("c1", "billing");
  h.accept("alice");
  h.ask(route_req::internal_call{"i1", "dave", "alice"});
  h.advance(5);
  h.ask(route_req::internal_call{"i2", "carol", "alice"});
  const std::int64_t first_requested = h.agents["alice"].callbacks[0].requested_at_us;
  h.agent("carol", agent_cmd::set_presence{presence::busy, "meeting"});  // not offered c2
  h.customer("c2", "billing");  // new queue work waits for alice too
  h.hangup("c1");
  h.agent("alice", agent_cmd::finish_wrap_up{});
  // Available again: dave's (older) callback first, not the queue item.
  const work_item* w = h.ringing("alice");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->kind, offer_kind::callback);
  EXPECT_EQ(h.agents["alice"].find_callback(w->callback_id)->caller_agent, "dave");
  // A declined callback offer keeps its place and original request time.
  h.agent("alice", agent_cmd::decline_offer{w->offer_id});
  h.advance(1);
  EXPECT_EQ(h.agents["alice"].callbacks[0].requested_at_us, first_requested);
  // Accepting places the callback call to dave, who is rung.
  h.accept("alice");
  ASSERT_NE(h.ringing("dave"), nullptr);
  const std::string call = h.ringing("dave")->voice_call_id;
  EXPECT_EQ(h.calls[call].find(call)->method, initiation_method::callback);
  h.accept("dave");
  h.send(route::to_call{call, cmd::end_call{call, "hangup"}});
  h.settle();
  EXPECT_EQ(h.events_of("callback_completed").size(), 1u);
  h.agent("alice", agent_cmd::finish_wrap_up{});
  // Then carol's callback, then the queue item.
  h.agent("carol", agent_cmd::set_presence{presence::available, {}});
  w = h.ringing("alice");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->kind, offer_kind::callback);
  EXPECT_EQ(h.agents["alice"].find_callback(w->callback_id)->caller_agent, "carol");
}

TEST(RoutingProtocol, AFlowRuleNamingAnAgentOffersThemFirst) {
  harness h;
  h.available("alice");
  h.available("carol");
  const auto r = h.customer("c1", "vip");
  EXPECT_EQ(r.agent, "carol");
  EXPECT_EQ(r.queue, "General");  // the channel's fallback: where the call waits
  EXPECT_EQ(item_of(h, "General", "c1")->offer_agent, "carol");  // alice idles longer
}

TEST(RoutingProtocol, ClearRoutingDeletesThePsrAndWithdrawsTheRing) {
  harness h;
  h.available("alice");
  h.customer("c1", "billing");
  ASSERT_NE(h.ringing("alice"), nullptr);
  h.ask(route_req::clear_routing{"c1"});
  EXPECT_EQ(item_of(h, "Billing", "c1"), nullptr);
  EXPECT_EQ(h.queues["Billing"].cleared, 1u);
  EXPECT_EQ(h.ringing("alice"), nullptr);
  EXPECT_TRUE(h.refusals.empty());
  EXPECT_TRUE(h.ask(route_req::clear_routing{"c1"}).steps.empty());  // idempotent
}

TEST(RoutingProtocol, AnAbandonedCallLeavesTheQueue) {
  harness h;
  h.customer("c1", "billing");
  h.send(route::to_call{"c1", cmd::end_call{"c1", "abandoned"}});
  h.settle();
  EXPECT_EQ(item_of(h, "Billing", "c1"), nullptr);
  EXPECT_EQ(h.queues["Billing"].abandoned, 1u);
}

TEST(RoutingProtocol, ACustomerCallbackKeepsItsQueuePosition) {
  harness h;
  h.customer("c1", "billing");
  h.advance(1);
  h.customer("c2", "billing");
  const std::int64_t at = item_of(h, "Billing", "c1")->enqueued_at_us;
  h.ask(route_req::customer_callback{"c1", "+4930999"});
  EXPECT_TRUE(item_of(h, "Billing", "c1")->is_callback);
  EXPECT_EQ(item_of(h, "Billing", "c1")->enqueued_at_us, at);
  EXPECT_EQ(h.queues["Billing"].items.front().voice_call_id, "c1");
  h.available("alice");
  EXPECT_EQ(h.ringing("alice")->voice_call_id, "c1");
}

TEST(RoutingProtocol, UnknownTargetsAndSelfCallsAreRefused) {
  harness h;
  EXPECT_EQ(h.ask(route_req::internal_call{"i1", "carol", "9999"}).refusal->rule(), "no_route");
  EXPECT_EQ(h.ask(route_req::internal_call{"i2", "carol", "2003"}).refusal->rule(),
            "transfer_target_invalid");
}

TEST(RoutingProtocol, ADirectCallRingsTheTargetAloneAndEndsWhenUnanswered) {
  harness h;
  h.available("bob");
  const auto r = h.ask(route_req::internal_call{"i1", "carol", "bob"});
  EXPECT_EQ(r.outcome, route_outcome::ringing);
  EXPECT_EQ(h.calls["i1"].find("i1")->ringing_agent, "bob");
  h.agent("bob", agent_cmd::decline_offer{h.ringing("bob")->offer_id});
  EXPECT_EQ(h.calls["i1"].find("i1")->status, segment_status::ended);
  EXPECT_EQ(h.calls["i1"].find("i1")->end_reason, "no_answer");
}

TEST(RoutingProtocol, ABlindTransferToAQueueWaitsThereAndIsOfferedToItsAgents) {
  harness h;
  h.available("alice");
  h.customer("c1", "billing");
  h.accept("alice");
  h.available("dave");
  h.send(route::to_call{"c1", cmd::blind_transfer{"c1", "t1", "", "General", "alice"}});
  h.settle();
  // Alice's segment ended: her work is released and after-call work starts.
  EXPECT_TRUE(h.agents["alice"].work.empty());
  EXPECT_EQ(h.agents["alice"].current, presence::after_call_work);
  // The new segment waits in General and rings its agent.
  ASSERT_NE(h.ringing("dave"), nullptr);
  EXPECT_EQ(h.ringing("dave")->voice_call_id, "t1");
  EXPECT_EQ(h.calls["c1"].find("t1")->ringing_agent, "dave");
  h.accept("dave");
  EXPECT_EQ(item_of(h, "General", "t1"), nullptr);
  EXPECT_EQ(h.calls["c1"].find("t1")->status, segment_status::connected);
  EXPECT_EQ(h.calls["c1"].find("t1")->owner_agent, "dave");
  EXPECT_EQ(h.calls["c1"].find("t1")->previous_id, "c1");
  h.hangup("c1");  // ends nothing: c1 ended with the transfer
  h.send(route::to_call{"c1", cmd::end_call{"t1", "hangup"}});
  h.settle();
  EXPECT_TRUE(h.agents["dave"].work.empty());
}

TEST(RoutingProtocol, ACallerWhoHangsUpWhileTransferredToAQueueLeavesIt) {
  harness h;
  h.available("alice");
  h.customer("c1", "billing");
  h.accept("alice");
  h.send(route::to_call{"c1", cmd::blind_transfer{"c1", "t1", "", "Rare", ""}});
  h.settle();
  ASSERT_NE(item_of(h, "Rare", "t1"), nullptr);  // nobody has the skill: it waits
  h.send(route::to_call{"c1", cmd::end_call{"t1", "caller_hung_up"}});
  h.settle();
  EXPECT_EQ(item_of(h, "Rare", "t1"), nullptr);
  EXPECT_EQ(h.events_of("abandoned").size(), 1u);
}

TEST(RoutingProtocol, ABlindTransferToAnAgentOffersThemTheNewSegment) {
  harness h;
  h.available("alice");
  h.available("dave");
  h.customer("c1", "billing");
  h.accept("alice");
  h.send(route::to_call{"c1", cmd::blind_transfer{"c1", "t1", "dave", "", "alice"}});
  h.settle();
  EXPECT_TRUE(h.agents["alice"].work.empty());
  ASSERT_NE(h.ringing("dave"), nullptr);
  EXPECT_EQ(h.ringing("dave")->voice_call_id, "t1");
  h.accept("dave");
  EXPECT_EQ(h.calls["c1"].find("t1")->status, segment_status::connected);
  EXPECT_EQ(h.calls["c1"].find("t1")->owner_agent, "dave");
  h.send(route::to_call{"c1", cmd::end_call{"t1", "hangup"}});
  h.settle();
  EXPECT_TRUE(h.agents["dave"].work.empty());
  EXPECT_TRUE(h.view.offers.empty());
}

// Declined, unanswered, or a target who cannot take it: the customer is not dropped, the new
// segment waits in the queue they last waited in and is offered to its agents.
TEST(RoutingProtocol, AnUnansweredBlindTransferToAnAgentFallsBackToTheCustomersQueue) {
  enum class how { decline, timeout, away };
  for (const how h_ : {how::decline, how::timeout, how::away}) {
    const int n = static_cast<int>(h_);
    harness h;
    h.available("alice");
    h.available("dave");
    h.customer("c1", "billing");
    h.accept("alice");
    if (h_ == how::away) h.agent("dave", agent_cmd::set_presence{presence::away, "lunch"});
    h.send(route::to_call{"c1", cmd::blind_transfer{"c1", "t1", "dave", "", "alice"}});
    h.settle();
    if (h_ == how::decline) h.agent("dave", agent_cmd::decline_offer{h.ringing("dave")->offer_id});
    if (h_ == how::timeout) h.advance(21);
    EXPECT_EQ(h.ringing("dave"), nullptr) << n;
    ASSERT_NE(item_of(h, "Billing", "t1"), nullptr) << n;
    h.available("bob");
    ASSERT_NE(h.ringing("bob"), nullptr) << n;
    EXPECT_EQ(h.ringing("bob")->voice_call_id, "t1") << n;
    h.accept("bob");
    EXPECT_EQ(h.calls["c1"].find("t1")->owner_agent, "bob") << n;
    EXPECT_EQ(h.calls["c1"].find("t1")->status, segment_status::connected) << n;
  }
}

// Call c9, created by the platform without a queue and never routed, answered by alice; dave is
// available for a transfer.
void answered_without_routing(harness& h) {
  h.available("alice");
  h.available("dave");
  cmd::create_call c;
  c.voice_call_id = "c9";
  c.from = "+4930123";
  c.to = "+18005550000";
  h.send(route::to_call{"c9", c});
  h.send(route::to_call{"c9", cmd::ring{"c9", "alice"}});
  h.send(route::to_call{"c9", cmd::answer{"c9", "alice"}});
}

TEST(RoutingProtocol, AnUnansweredBlindTransferOfACallThatNeverWaitedEndsIt) {
  harness h;
  answered_without_routing(h);
  h.send(route::to_call{"c9", cmd::blind_transfer{"c9", "t9", "dave", "", "alice"}});
  h.settle();
  h.agent("dave", agent_cmd::decline_offer{h.ringing("dave")->offer_id});
  EXPECT_EQ(h.calls["c9"].find("t9")->status, segment_status::ended);
  EXPECT_EQ(h.calls["c9"].find("t9")->end_reason, "no_answer");
  EXPECT_TRUE(h.agents["dave"].work.empty());
}

// The event carries the record's queue: a view that never saw the customer wait (the engine
// restarted since, or the platform reported the queue with PATCH) still does not drop them.
TEST(RoutingProtocol, AnUnansweredBlindTransferFallsBackToTheRecordsQueueTheViewNeverSaw) {
  harness h;
  answered_without_routing(h);
  h.send(route::to_call{"c9", cmd::assign_queue{"c9", "General"}});
  h.settle();
  h.view.queue_of.clear();  // what a restarted routing view knows of the call
  h.send(route::to_call{"c9", cmd::blind_transfer{"c9", "t9", "dave", "", "alice"}});
  h.settle();
  h.agent("dave", agent_cmd::decline_offer{h.ringing("dave")->offer_id});
  EXPECT_NE(h.calls["c9"].find("t9")->status, segment_status::ended);
  EXPECT_NE(item_of(h, "General", "t9"), nullptr);
}

// The consulted agent's work moves with them: to the new segment of a warm transfer, into the
// call of a conference; it is released when that segment ends.
TEST(RoutingProtocol, AWarmTransferOrAConferenceReleasesTheConsultedAgentWhenTheCallEnds) {
  for (const bool conference : {false, true}) {
    harness h;
    h.available("alice");
    h.available("dave");
    h.customer("c1", "billing");
    h.accept("alice");
    h.ask(route_req::consult{"c1", "c1", "k1", "alice", "dave", true});
    h.accept("dave");
    if (conference) {
      h.send(route::to_call{"c1", cmd::merge_conference{"c1", "k1", "alice"}});
    } else {
      h.send(route::to_call{"c1", cmd::complete_warm_transfer{"c1", "k1", "t1", "alice"}});
    }
    h.settle();
    EXPECT_EQ(h.agents["dave"].work.size(), 1u) << "conference " << conference;
    if (!conference) {
      EXPECT_TRUE(h.agents["alice"].work.empty());  // alice's segment ended with the transfer
      EXPECT_EQ(h.agents["alice"].current, presence::after_call_work);
    }
    h.send(route::to_call{"c1", cmd::end_call{conference ? "c1" : "t1", "hangup"}});
    h.settle();
    EXPECT_TRUE(h.agents["dave"].work.empty()) << "conference " << conference;
    EXPECT_TRUE(h.agents["alice"].work.empty()) << "conference " << conference;
  }
}

TEST(RoutingProtocol, AConsultReservesTheSpecialistAndReleasesThemWhenItEnds) {
  harness h;
  h.available("alice");
  h.available("dave");
  h.customer("c1", "billing");
  h.accept("alice");
  const auto r = h.ask(route_req::consult{"c1", "c1", "k1", "alice", "dave", true});
  EXPECT_EQ(r.outcome, route_outcome::ringing);
  h.accept("dave");
  EXPECT_EQ(h.calls["c1"].find("k1")->status, segment_status::connected);
  EXPECT_EQ(h.agents["dave"].work.size(), 1u);
  h.send(route::to_call{"c1", cmd::complete_consult{"k1"}});
  h.settle();
  EXPECT_TRUE(h.agents["dave"].work.empty());
  // A busy specialist is not rung.
  h.agent("dave", agent_cmd::set_presence{presence::busy, "meeting"});
  EXPECT_EQ(h.ask(route_req::consult{"c1", "c1", "k2", "alice", "dave", true}).refusal->rule(),
            "agent_not_available");
}

}  // namespace
}  // namespace backline::domain

namespace backline::domain {
namespace {

TEST(RoutingProtocol, AnAcceptForAnItemThatWasAbandonedMeanwhileReleasesTheAgent) {
  harness h;
  h.available("alice");
  h.customer("c1", "billing");
  const std::string offer = h.ringing("alice")->offer_id;
  // The accept and the caller's hang-up race: the queue drops the item first.
  h.send(route::to_queue{"Billing", queue_cmd::abandon{item_of(h, "Billing", "c1")->item_id}});
  h.agent("alice", agent_cmd::accept_offer{offer});
  ASSERT_FALSE(h.refusals.empty());
  EXPECT_EQ(h.refusals.back(), "queue_item_not_found queue/Billing dequeue");
  EXPECT_TRUE(h.agents["alice"].work.empty());  // the slot is given back
}

}  // namespace
}  // namespace backline::domain
