// Pure routing: flow evaluation with overrides and fallback, internal targets, agent selection,
// next work for a free agent, and the offer protocol between the agent and queue aggregates.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "actors/domain/routing.h"
#include "tests/domain/routing_fixture.h"

namespace backline::domain::routingtest {
namespace {

directory make_directory() {
  directory d;
  d.call_center = "test_center";
  agent_entry alice{.id = "alice", .extension = "2001", .skills = {{"billing", 5}}};
  agent_entry bob{.id = "bob", .extension = "2002", .skills = {{"billing", 2}, {"fr", 4}}};
  d.agents = {alice, bob};
  d.queues = {
      queue_entry{.name = "Billing", .extension = "3001", .required_skills = {{"billing", 1}}},
      queue_entry{.name = "General"},
      queue_entry{.name = "French", .required_skills = {{"fr", 3}}},
      queue_entry{.name = "VIP"},
  };
  phone_channel support{.number = "+14155550100", .flow = "support", .fallback_queue = "General"};
  support.rules = {
      flow_rule{.field = "case_category",
                .value = "billing",
                .queue = "Billing",
                .required_skills = {{"billing", 3}}},
      flow_rule{.field = "case_category", .value = "billing", .queue = "VIP"},  // shadowed
      flow_rule{.field = "lang", .value = "fr", .queue = "French"},
      flow_rule{.field = "account_id", .value = "acme", .queue = "VIP", .agent = "bob"},
      flow_rule{.field = "subject", .value = "broken", .queue = "Nowhere"},  // misconfigured
  };
  phone_channel sales{.number = "+14155550200", .flow = "sales", .fallback_queue = "VIP"};
  sales.rules = {flow_rule{.field = "", .value = "", .queue = "Billing"}};  // catch-all
  phone_channel bare{.number = "+14155550300", .flow = "bare"};
  d.channels = {support, sales, bare};
  return d;
}

call_attributes category(std::string c) {
  call_attributes a;
  a.case_category = std::move(c);
  return a;
}

TEST(Flow, RulesAreEvaluatedInOrderAndTheFirstMatchWins) {
  const directory dir = make_directory();
  auto d = evaluate_flow(dir, "+14155550100", {}, {}, category("billing"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->queue, "Billing");
  EXPECT_EQ(d->rule_index, 0);
  EXPECT_FALSE(d->fallback());
  EXPECT_EQ(d->flow, "support");
  // The rule's billing>=3 and the queue's billing>=1 merge to the stricter level.
  EXPECT_EQ(d->required_skills, (std::vector<skill>{{"billing", 3}}));
}

TEST(Flow, ACustomAttributeOrAnAccountCanSelectTheRule) {
  const directory dir = make_directory();
  call_attributes fr;
  fr.custom = {{"lang", "fr"}};
  auto d = evaluate_flow(dir, "+14155550100", {}, {}, fr);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->queue, "French");
  EXPECT_EQ(d->rule_index, 2);
  EXPECT_EQ(d->required_skills, (std::vector<skill>{{"fr", 3}}));
  call_attributes acme;
  acme.account_id = "acme";
  d = evaluate_flow(dir, "+14155550100", {}, {}, acme);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->agent, "bob");
  EXPECT_EQ(d->queue, "VIP");
  EXPECT_EQ(d->rule_index, 3);
}

TEST(Flow, NoMatchingRuleFallsBackToTheChannelsFallbackQueue) {
  const directory dir = make_directory();
  auto d = evaluate_flow(dir, "+14155550100", {}, {}, category("returns"));
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->fallback());
  EXPECT_EQ(d->queue, "General");
}

TEST(Flow, ARuleNamingAnUnknownQueueIsSkipped) {
  const directory dir = make_directory();
  call_attributes a;
  a.subject = "broken";
  auto d = evaluate_flow(dir, "+14155550100", {}, {}, a);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->fallback());
  EXPECT_EQ(d->queue, "General");
}

TEST(Flow, TheFlowNameAndFallbackQueueCanBeOverridden) {
  const directory dir = make_directory();
  auto d = evaluate_flow(dir, "+14155550100", "sales", {}, category("returns"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->flow, "sales");
  EXPECT_EQ(d->queue, "Billing");  // sales' catch-all rule
  EXPECT_EQ(d->channel_number, "+14155550100");
  d = evaluate_flow(dir, "+14155550100", {}, "VIP", category("returns"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->queue, "VIP");
  EXPECT_TRUE(d->fallback());
  // A matching rule still wins over an overridden fallback.
  d = evaluate_flow(dir, "+14155550100", {}, "VIP", category("billing"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->queue, "Billing");
}

TEST(Flow, AnUnknownNumberRoutesOnlyToAnOverriddenFlowOrFallback) {
  const directory dir = make_directory();
  auto d = evaluate_flow(dir, "+19999999999", {}, {}, {});
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, errc::no_route);
  d = evaluate_flow(dir, "+19999999999", {}, "General", {});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->queue, "General");
  EXPECT_EQ(d->channel_number, "+19999999999");
  d = evaluate_flow(dir, "+19999999999", "support", {}, category("billing"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->queue, "Billing");
  d = evaluate_flow(dir, "+14155550100", "no-such-flow", {}, {});
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, errc::no_route);
}

TEST(Flow, AMissingOrUnknownFallbackQueueIsNoRoute) {
  const directory dir = make_directory();
  auto d = evaluate_flow(dir, "+14155550300", {}, {}, {});
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, errc::no_route);
  d = evaluate_flow(dir, "+14155550100", {}, "Nowhere", category("returns"));
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, errc::no_route);
}

TEST(InternalTarget, AnAgentAnExtensionOrAQueueByName) {
  const directory dir = make_directory();
  EXPECT_EQ(resolve_internal_target(dir, "bob").value(), (internal_target{"bob", {}}));
  EXPECT_EQ(resolve_internal_target(dir, "2001").value(), (internal_target{"alice", {}}));
  EXPECT_EQ(resolve_internal_target(dir, "3001").value(), (internal_target{{}, "Billing"}));
  EXPECT_EQ(resolve_internal_target(dir, "General").value(), (internal_target{{}, "General"}));
  EXPECT_EQ(resolve_internal_target(dir, "9999").error().code, errc::no_route);
  EXPECT_EQ(resolve_internal_target(dir, "").error().code, errc::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
agent_candidate candidate(std::string id, std::int64_t idle, std::vector<skill> skills = {},
                          presence p = presence::available, int free = 1) {
  return agent_candidate{std::move(id), p, free, std::move(skills), idle};
}

TEST(PickAgent, LongestIdleIsTheDefault) {
  const std::vector<agent_candidate> c = {candidate("a", 30), candidate("b", 10),
                                          candidate("c", 20)};
  EXPECT_EQ(pick_agent({}, c, routing_strategy::longest_idle, {}), "b");
}

TEST(PickAgent, MostSkilledSumsRequiredLevelsThenPrefersLongestIdle) {
  const std::vector<skill> req = {{"billing", 2}, {"fr", 1}};
  const std::vector<agent_candidate> c = {
      candidate("a", 10, {{"billing", 3}, {"fr", 3}, {"de", 9}}),  // 6 (de does not count)
      candidate("b", 30, {{"billing", 5}, {"fr", 2}}),             // 7
      candidate("c", 20, {{"billing", 4}, {"fr", 3}}),             // 7, idle longer than b
  };
  EXPECT_EQ(pick_agent(req, c, routing_strategy::most_skilled, {}), "c");
  EXPECT_EQ(pick_agent(req, c, routing_strategy::longest_idle, {}), "a");
}

TEST(PickAgent, TiesBreakOnTheAgentId) {
  const std::vector<agent_candidate> c = {candidate("zed", 5), candidate("amy", 5)};
  EXPECT_EQ(pick_agent({}, c, routing_strategy::longest_idle, {}), "amy");
}

TEST(PickAgent, NeverAnUnavailableFullUnqualifiedOrExcludedAgent) {
  const std::vector<skill> req = {{"billing", 3}};
  const std::vector<agent_candidate> c = {
      candidate("offline", 1, {{"billing", 9}}, presence::offline),
      candidate("away", 1, {{"billing", 9}}, presence::away),
      candidate("busy", 1, {{"billing", 9}}, presence::busy),
      candidate("acw", 1, {{"billing", 9}}, presence::after_call_work),
      candidate("full", 1, {{"billing", 9}}, presence::available, 0),
      candidate("novice", 1, {{"billing", 2}}),
      candidate("other", 1, {{"fr", 9}}),
      candidate("tried", 1, {{"billing", 9}}),
  };
  const std::vector<std::string> excluded = {"tried"};
  EXPECT_EQ(pick_agent(req, c, routing_strategy::longest_idle, excluded), std::nullopt);
  EXPECT_EQ(pick_agent(req, c, routing_strategy::most_skilled, excluded), std::nullopt);
  EXPECT_EQ(pick_agent(req, c, routing_strategy::longest_idle, {}), "tried");
}

TEST(PickAgent, ACandidateIsBuiltFromTheDirectoryAndTheAgentsState) {
  agent_fixture a(2);
  a.available();
  a.reserve("o1", "c1");
  const agent_entry e{.id = "alice", .skills = {{"billing", 5}}, .capacity = 2};
  const agent_candidate c = make_candidate(e, a.state);
  EXPECT_EQ(c.free_capacity, 1);
  EXPECT_EQ(c.current, presence::available);
  EXPECT_EQ(c.idle_since_us, a.state.last_idle_since_us);
}

TEST(Routing, AQueueWithNoQualifiedAgentsKeepsItsItemWaitingUntilItOverflows) {
  queue_fixture q;
  q.config.required_skills = {{"billing", 3}};
  q.enqueue("a", 0, {{"billing", 3}});
  const std::vector<agent_candidate> agents = {candidate("bob", 0, {{"billing", 2}})};
  const queue_item* head = next_item_to_offer(q.state);
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(
      pick_agent(head->required_skills, agents, routing_strategy::longest_idle, head->tried_agents),
      std::nullopt);
  q.advance(30 * second_us);
  EXPECT_TRUE(overflow_due(q.state, q.config, q.ctx.now_us).empty());
  q.advance(30 * second_us);
  EXPECT_EQ(overflow_due(q.state, q.config, q.ctx.now_us), names{"a"});
  EXPECT_EQ(q.ok(queue_cmd::overflow{"a"}), names{"overflowed"});
}

// ---------------------------------------------------------------------------------------------
TEST(NextWork, CallbacksAreOfferedBeforeNewQueueWorkInOriginalRequestOrder) {
  agent_fixture a;
  a.ok(agent_cmd::request_callback{"cb-late", "bob", {}, 0});
  a.ok(agent_cmd::request_callback{"cb-early", "carol", {}, a.ctx.now_us - 60 * second_us});
  queue_fixture q;
  q.ctx.now_us = a.ctx.now_us - 600 * second_us;  // queue work that waited ten minutes
  q.enqueue("old", 9);
  const std::vector<queue_view> queues = {{"Billing", &q.state}};
  EXPECT_EQ(next_work_for_agent(a.state, 1, "alice", {}, queues), next_work{});  // offline
  a.available();
  EXPECT_EQ(next_work_for_agent(a.state, 1, "alice", {}, queues),
            (next_work{work_kind::callback, "cb-early", {}, {}}));
  a.ok(agent_cmd::offer_callback{"cb-early", "o1", "back-1", 20'000});
  EXPECT_EQ(next_work_for_agent(a.state, 2, "alice", {}, queues),
            (next_work{work_kind::callback, "cb-late", {}, {}}));
  EXPECT_EQ(next_work_for_agent(a.state, 1, "alice", {}, queues), next_work{});  // full
  a.ok(agent_cmd::decline_offer{"o1"});  // the declined callback keeps its place
  EXPECT_EQ(next_work_for_agent(a.state, 1, "alice", {}, queues).callback_id, "cb-early");
  a.ok(agent_cmd::complete_callback{"cb-early"});
  a.ok(agent_cmd::cancel_callback{"cb-late"});
  EXPECT_EQ(next_work_for_agent(a.state, 1, "alice", {}, queues),
            (next_work{work_kind::queue_item, {}, "Billing", "old"}));
}

TEST(NextWork, TheBestItemAcrossQueuesThatTheAgentMayTake) {
  agent_fixture a;
  a.available();
  queue_fixture billing, general;
  billing.enqueue("b-expert", 5, {{"billing", 9}});  // alice is not expert enough
  billing.advance(second_us);
  billing.enqueue("b-normal", 1, {{"billing", 3}});
  general.enqueue("g-tried", 3);
  general.ok(queue_cmd::offer_made{"g-tried", "alice", "o1"});
  general.ok(queue_cmd::offer_declined{"g-tried", "o1"});
  general.enqueue("g-low", 1);  // same priority as b-normal, enqueued a second earlier
  const std::vector<skill> skills = {{"billing", 5}};
  std::vector<queue_view> queues = {{"Billing", &billing.state}, {"General", &general.state}};
  EXPECT_EQ(next_work_for_agent(a.state, 1, "alice", skills, queues),
            (next_work{work_kind::queue_item, {}, "General", "g-low"}));
  general.ok(queue_cmd::offer_made{"g-low", "bob", "o2"});  // ringing bob
  EXPECT_EQ(next_work_for_agent(a.state, 1, "alice", skills, queues),
            (next_work{work_kind::queue_item, {}, "Billing", "b-normal"}));
  EXPECT_EQ(first_item_for_agent(billing.state, "alice", skills)->item_id, "b-normal");
  EXPECT_EQ(next_item_to_offer(billing.state)->item_id, "b-expert");
}

// ---------------------------------------------------------------------------------------------
// The offer protocol across both aggregates, as the router drives it.
TEST(Protocol, ADeclinedOfferMovesToTheNextAgentNeverTheSameOneAgain) {
  agent_fixture alice, bob;
  alice.available();
  bob.advance(5 * second_us);
  bob.available();  // alice has been idle longer
  queue_fixture q;
  q.enqueue("psr1");
  auto candidates = [&] {
    return std::vector<agent_candidate>{make_candidate(agent_entry{.id = "alice"}, alice.state),
                                        make_candidate(agent_entry{.id = "bob"}, bob.state)};
  };
  const queue_item* item = next_item_to_offer(q.state);
  auto first = pick_agent(item->required_skills, candidates(), routing_strategy::longest_idle,
                          item->tried_agents);
  ASSERT_EQ(first, "alice");
  alice.reserve("o1", "call-psr1");
  q.ok(queue_cmd::offer_made{"psr1", "alice", "o1"});
  alice.ok(agent_cmd::decline_offer{"o1"});
  q.ok(queue_cmd::offer_declined{"psr1", "o1"});
  item = next_item_to_offer(q.state);
  auto second = pick_agent(item->required_skills, candidates(), routing_strategy::longest_idle,
                           item->tried_agents);
  ASSERT_EQ(second, "bob");
  bob.reserve("o2", "call-psr1");
  q.ok(queue_cmd::offer_made{"psr1", "bob", "o2"});
  bob.ok(agent_cmd::accept_offer{"o2"});
  EXPECT_EQ(q.ok(queue_cmd::dequeue{"psr1", "bob"}), names{"dequeued"});
  EXPECT_EQ(bob.state.current, presence::busy);
  EXPECT_EQ(alice.state.current, presence::available);
}

TEST(Protocol, AnAgentGoingOfflineWhileRingingSendsTheCallToTheNextAgent) {
  agent_fixture alice, bob;
  alice.available();
  bob.available();
  queue_fixture q;
  q.enqueue("psr1");
  alice.reserve("o1", "call-psr1");
  q.ok(queue_cmd::offer_made{"psr1", "alice", "o1"});
  EXPECT_EQ(alice.ok(agent_cmd::set_presence{presence::offline, {}}),
            (names{"offer_withdrawn", "presence_changed"}));
  q.ok(queue_cmd::offer_declined{"psr1", "o1"});  // the router relays the withdrawal
  const std::vector<agent_candidate> c = {make_candidate(agent_entry{.id = "alice"}, alice.state),
                                          make_candidate(agent_entry{.id = "bob"}, bob.state)};
  EXPECT_EQ(pick_agent({}, c, routing_strategy::longest_idle, q.state.items[0].tried_agents),
            "bob");
  EXPECT_EQ(alice.refuse_reserve("o3", "call-psr1"), errc::agent_offline);
}

}  // namespace
}  // namespace backline::domain::routingtest
