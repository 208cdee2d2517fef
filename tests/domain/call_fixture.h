#pragma once
// Test helpers for the call aggregate: a directory built in code (no TOML loader) and a fixture
// that runs commands the way the actor shell does: decide, then fold every event into the state
// and append it to the log. Used by call_test.cc, call_flows_test.cc, hear_matrix_test.cc and
// call_property_test.cc.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/domain/call.h"
#include "actors/domain/directory.h"

namespace backline::domain::calltest {

// The customer's number and the contact center's dialled number.
inline const std::string customer = "+15550001";
inline const std::string center = "+14155550100";

inline agent_entry make_agent(std::string id, std::string team, agent_kind kind = agent_kind::agent,
                              supervision_grants grants = {}) {
  agent_entry a;
  a.id = std::move(id);
  a.name = "Name of " + a.id;
  a.team = std::move(team);
  a.kind = kind;
  a.grants = std::move(grants);
  return a;
}

// tier1: alice, bob; tier2: ivan, judy; specialists: sam, sara.
// Supervisors: peggy (every mode over tier1), quentin (monitor over tier1), wendy (whisper over
// tier1), barry (barge over tier1), tina (every mode over tier2), root ("*" in every mode),
// bare (no grant). Queues: General, Billing. Recording: inbound and outbound yes, internal no,
// jurisdiction "DE" forbidden.
inline directory make_directory() {
  using k = agent_kind;
  directory d;
  d.call_center = "test_center";
  d.agents = {
      make_agent("alice", "tier1"),
      make_agent("bob", "tier1"),
      make_agent("ivan", "tier2"),
      make_agent("judy", "tier2"),
      make_agent("sam", "specialists", k::specialist),
      make_agent("sara", "specialists", k::specialist),
      make_agent("peggy", "supervisors", k::supervisor,
                 {.monitor = {"tier1"}, .whisper = {"tier1"}, .barge = {"tier1"}}),
      make_agent("quentin", "supervisors", k::supervisor, {.monitor = {"tier1"}}),
      make_agent("wendy", "supervisors", k::supervisor, {.whisper = {"tier1"}}),
      make_agent("barry", "supervisors", k::supervisor, {.barge = {"tier1"}}),
      make_agent("tina", "supervisors", k::supervisor,
                 {.monitor = {"tier2"}, .whisper = {"tier2"}, .barge = {"tier2"}}),
      make_agent("root", "supervisors", k::supervisor,
                 {.monitor = {"*"}, .whisper = {"*"}, .barge = {"*"}}),
      make_agent("bare", "supervisors", k::supervisor),
  };
  for (std::size_t i = 0; i < d.agents.size(); ++i) {
    d.agents[i].extension = std::to_string(2001 + i);
  }
  for (const char* name : {"General", "Billing"}) {
    queue_entry q;
    q.name = name;
    d.queues.push_back(q);
  }
  phone_channel main;
  main.number = center;
  main.flow = "support_main";
  main.fallback_queue = "General";
  d.channels.push_back(main);
  d.recording.record_inbound = true;
  d.recording.record_outbound = true;
  d.recording.record_internal = false;
  d.recording.forbidden_jurisdictions = {"DE"};
  return d;
}

// "call_created,participant_joined": the event type names, in order.
inline std::string names(const std::vector<event>& events) {
  std::string out;
  for (const auto& e : events) {
    if (!out.empty()) out += ',';
    out += event_type_name(e.body);
  }
  return out;
}

struct call_fixture {
  directory dir = make_directory();
  bool with_directory = true;
  call_state state;
  std::vector<event> log;
  std::int64_t now_us = 1'000'000'000;

  decide_context ctx() const { return {now_us, with_directory ? &dir : nullptr}; }
  decision decide(const command_body& c) const { return domain::decide(state, c, ctx()); }
  void advance_ms(std::int64_t ms) { now_us += ms * 1000; }

  // Decides and folds; the command must be accepted. Returns the events it emitted.
  std::vector<event> run(const command_body& c) {
    decision d = decide(c);
    if (!d) {
      ADD_FAILURE() << command_name(c) << " on " << target_voice_call_id(c) << " was refused by "
                    << d.error().rule() << ": " << d.error().detail;
      return {};
    }
    for (const auto& e : *d) {
      evolve(state, e);
      log.push_back(e);
    }
    return std::move(*d);
  }
  // Runs `c` and returns the names of its events (empty when it changed nothing).
  std::string run_names(const command_body& c) { return names(run(c)); }

  // The command must be refused; returns the rule that refused it ("" when it was accepted).
  std::string rule(const command_body& c) const {
    decision d = decide(c);
    if (d) {
      ADD_FAILURE() << command_name(c) << " on " << target_voice_call_id(c)
                    << " was accepted with [" << names(*d) << "]";
      return "";
    }
    EXPECT_FALSE(d.error().detail.empty()) << "a rejection tells the caller what to do";
    return std::string(d.error().rule());
  }

  const segment& seg(std::string_view id) const {
    const segment* g = state.find(id);
    if (g == nullptr) {
      ADD_FAILURE() << "no segment " << id;
      static const segment none;
      return none;
    }
    return *g;
  }
  const participant& who(std::string_view seg_id, std::string_view id) const {
    const participant* p = seg(seg_id).find(id);
    if (p == nullptr) {
      ADD_FAILURE() << "no participant " << id << " on " << seg_id;
      static const participant none;
      return none;
    }
    return *p;
  }
  std::string hears() const { return compute_hear_matrix(state).render(); }

  // Scenarios --------------------------------------------------------------------------------
  // An inbound customer call rung to and answered by `agent`.
  void inbound(const std::string& id = "C", const std::string& agent = "alice") {
    run(cmd::create_call{.voice_call_id = id,
                         .type = call_type::inbound,
                         .method = initiation_method::inbound,
                         .vendor_call_key = "vck-" + id,
                         .from = customer,
                         .to = center,
                         .queue = "General"});
    run(cmd::ring{id, agent});
    run(cmd::answer{id, agent});
  }
  // `from` consults `to` on `id`; the consult `k` is answered.
  void consult(const std::string& id, const std::string& k, const std::string& from,
               const std::string& to, bool hold_customer = true) {
    run(cmd::start_consult{id, k, from, to, hold_customer});
    run(cmd::answer{k, to});
  }
  void supervise(const std::string& id, const std::string& session, const std::string& sup,
                 supervise_mode mode, const std::string& coached = {}) {
    run(cmd::join_supervisor{id, session, sup, mode, coached});
  }
};

}  // namespace backline::domain::calltest
