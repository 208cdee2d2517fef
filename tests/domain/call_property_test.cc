// Property tests of the call aggregate (DESIGN.md, "Testing"): random command sequences over a
// small alphabet of ids, seeded so a failure replays. After each accepted decision:
//   (a) deciding the same command again yields no events (nothing, or a rejection);
//   (b) folding the whole log from a fresh state reproduces the state (compared by render());
//   (c) the invariants below hold, including the hear matrix's rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "actors/domain/call.h"
#include "tests/domain/call_fixture.h"

namespace backline::domain::calltest {
namespace {

constexpr std::uint64_t sequences = 3000;
constexpr int commands_per_sequence = 60;

struct generator {
  std::mt19937_64 rng;

  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng); }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

  const std::vector<std::string> agents{"alice",   "bob",  "ivan", "sam",  "peggy",
                                        "quentin", "root", "bare", "ghost"};
  const std::vector<std::string> supervisors{"peggy", "quentin", "wendy", "root", "bare", "bob"};
  const std::vector<std::string> consult_ids{"K1", "K2", "K3"};
  const std::vector<std::string> segment_ids{"D1", "D2", "D3"};
  const std::vector<std::string> session_ids{"S1", "S2", "S3"};
  const std::vector<std::string> others{"C", "X", ""};
  const std::vector<std::string> queues{"General", "Billing", "Nowhere"};

  // A voice call id: mostly a live one the state holds, sometimes any id of the alphabet.
  std::string call(const call_state& s) {
    std::vector<const segment*> live;
    for (const auto& g : s.segments) {
      if (g.active()) live.push_back(&g);
    }
    if (!live.empty() && chance(0.75)) return live[below(live.size())]->id;
    if (!s.segments.empty() && chance(0.6)) return pick(s.segments).id;
    std::vector<std::string> all = others;
    for (const auto* v : {&consult_ids, &segment_ids, &session_ids}) {
      all.insert(all.end(), v->begin(), v->end());
    }
    return pick(all);
  }
  std::string fresh(const std::vector<std::string>& ids) { return pick(ids); }
  // A segment of `kind` the state holds (mostly), else any id from `ids`.
  const segment* existing(const call_state& s, segment_kind kind) {
    std::vector<const segment*> found;
    for (const auto& g : s.segments) {
      if (g.kind == kind) found.push_back(&g);
    }
    return found.empty() || chance(0.3) ? nullptr : found[below(found.size())];
  }
  std::string consult_id(const call_state& s) {
    const segment* k = existing(s, segment_kind::consult);
    return k != nullptr ? k->id : pick(consult_ids);
  }
  std::string session_id(const call_state& s) {
    const segment* x = existing(s, segment_kind::supervision);
    return x != nullptr ? x->id : pick(session_ids);
  }
  // A participant: mostly one on the named segment.
  std::string party(const call_state& s, const std::string& call_id) {
    const segment* g = s.find(call_id);
    if (g != nullptr && !g->participants.empty() && chance(0.7)) return pick(g->participants).id;
    return chance(0.2) ? customer : pick(agents);
  }
  supervise_mode mode() { return static_cast<supervise_mode>(below(3)); }
  call_attributes attributes() {
    call_attributes a;
    if (chance(0.3)) a.case_id = chance(0.5) ? "500A" : "500B";
    if (chance(0.2)) a.subject = "billing";
    const std::vector<std::string> keys{"k1", "k2", "k3"};
    for (std::size_t i = below(3); i > 0; --i) {
      a.custom.emplace_back(pick(keys), chance(0.5) ? "v1" : "v2");
    }
    return a;
  }

  command_body create() {
    cmd::create_call c;
    c.voice_call_id = chance(0.9) ? "C" : "C2";
    switch (below(3)) {
      case 0:
        c.type = call_type::inbound;
        c.from = customer;
        c.to = center;
        c.queue = "General";
        break;
      case 1:
        c.type = call_type::outbound;
        c.method = initiation_method::outbound;
        c.to = customer;
        c.initiator_agent = pick(agents);
        break;
      default:
        c.type = call_type::internal;
        c.method = initiation_method::internal;
        c.initiator_agent = pick(agents);
        c.target_agent = pick(agents);
        break;
    }
    c.jurisdiction = chance(0.2) ? "DE" : "US";
    c.attributes = attributes();
    return c;
  }

  command_body next(const call_state& s) {
    if (!s.exists() && chance(0.8)) return create();
    const std::string id = call(s);
    const segment* g = s.find(id);
    switch (below(36)) {
      case 0:
        return create();
      case 1:
      case 2:
        return cmd::ring{id, pick(agents)};
      case 3:
      case 4: {
        std::string agent = g != nullptr && chance(0.7) ? g->ringing_agent : pick(agents);
        if (g != nullptr && agent.empty()) agent = g->initiator_agent;
        return cmd::answer{id, agent};
      }
      case 5:
        return cmd::join{id, pick(agents),
                         chance(0.8) ? participant_role::agent : participant_role::specialist, ""};
      case 6:
        return cmd::leave{id, party(s, id)};
      case 7:
        return cmd::hold{id, party(s, id)};
      case 8:
        return cmd::resume{id, party(s, id)};
      case 9:
        return cmd::mute{id, party(s, id)};
      case 10:
        return cmd::unmute{id, party(s, id)};
      case 11:
      case 12: {
        std::string initiator = g != nullptr && chance(0.8) ? g->owner_agent : pick(agents);
        return cmd::start_consult{id, fresh(consult_ids), initiator, pick(agents), chance(0.6)};
      }
      case 13:
        return cmd::complete_consult{consult_id(s)};
      case 14:
        return cmd::cancel_consult{consult_id(s)};
      case 15:
      case 16: {
        const segment* k = existing(s, segment_kind::consult);
        if (k == nullptr)
          return cmd::complete_warm_transfer{id, pick(consult_ids), pick(segment_ids)};
        return cmd::complete_warm_transfer{k->parent_id, k->id, pick(segment_ids)};
      }
      case 17: {
        const bool to_queue = chance(0.3);
        return cmd::blind_transfer{id, fresh(segment_ids), to_queue ? "" : pick(agents),
                                   to_queue ? pick(queues) : (chance(0.1) ? "General" : "")};
      }
      case 18: {
        const segment* k = existing(s, segment_kind::consult);
        if (k == nullptr) return cmd::merge_conference{id, pick(consult_ids)};
        return cmd::merge_conference{k->parent_id, k->id};
      }
      case 19:
      case 20:
        return cmd::join_supervisor{id, fresh(session_ids), pick(supervisors), mode(),
                                    chance(0.7) ? "" : party(s, id)};
      case 21:
        return cmd::change_supervisor_mode{session_id(s), mode(), chance(0.7) ? "" : pick(agents)};
      case 22:
        return cmd::leave_supervisor{session_id(s)};
      case 23:  // rarer than the others, so that calls live long enough for the flows
        if (chance(0.4)) return cmd::end_call{id, chance(0.5) ? "" : "dropped"};
        return cmd::answer{id, g != nullptr ? g->ringing_agent : "alice"};
      case 24: {
        std::string agent = g != nullptr && chance(0.7) ? g->owner_agent : pick(agents);
        return cmd::wrap_up{id, agent, chance(0.5) ? "resolved" : "escalated", ""};
      }
      case 25: {
        const std::int64_t start = static_cast<std::int64_t>(below(5)) - 1;
        return cmd::add_transcript{id,      fmt::format("m{}", below(6)),
                                   "alice", "Agent",
                                   start,   start + static_cast<std::int64_t>(below(4)) - 1,
                                   "text"};
      }
      case 26:
        return cmd::add_conversation_event{id, fmt::format("e{}", below(6)), chance(0.5),
                                           "sentiment", "{}"};
      case 27:
      case 28: {
        switch (below(4)) {
          case 0:
            return cmd::start_recording{id, "rec.wav"};
          case 1:
            return cmd::pause_recording{id};
          case 2:
            return cmd::resume_recording{id};
          default:
            return cmd::stop_recording{id};
        }
      }
      case 29:
        if (chance(0.3)) return cmd::assign_queue{id, chance(0.5) ? "General" : "Billing"};
        return cmd::update_attributes{id, attributes()};
      case 30:
      case 31: {  // a consult, then its target answers
        const segment* k = existing(s, segment_kind::consult);
        if (k != nullptr && k->active()) return cmd::answer{k->id, k->to};
        return cmd::start_consult{id, pick(consult_ids), g ? g->owner_agent : "alice", pick(agents),
                                  chance(0.5)};
      }
      case 32:
        return cmd::merge_conference{id, consult_id(s)};
      case 33:
        return cmd::join_supervisor{id, pick(session_ids), pick(supervisors), mode(), ""};
      default:
        return cmd::change_supervisor_mode{session_id(s), mode(), chance(0.7) ? "" : pick(agents)};
    }
  }
};

// Returns the first broken invariant, or "" when all hold.
std::string check_invariants(const call_state& s, std::size_t log_size) {
  if (s.version != log_size) return fmt::format("version {} != {} events", s.version, log_size);
  if (s.segments.size() > segments_per_call_max) return "too many segments";
  int live_customer_segments = 0;
  for (const auto& g : s.segments) {
    if (g.kind == segment_kind::customer && g.active()) ++live_customer_segments;
    std::size_t present = 0;
    for (const auto& p : g.participants) {
      if (p.present) ++present;
      if (!p.present && p.held) return fmt::format("{} on {} is held but gone", p.id, g.id);
    }
    if (present > participants_per_segment_max) return fmt::format("{} is over-full", g.id);
    if (!g.active() && present > 0) return fmt::format("ended {} has people on it", g.id);
    if (!g.active() &&
        (g.recording == recording_state::recording || g.recording == recording_state::paused)) {
      return fmt::format("ended {} is still recording", g.id);
    }
    if (g.holds.total_us < g.holds.longest_us || g.holds.longest_us < 0) {
      return fmt::format("{} holds total {} < longest {}", g.id, g.holds.total_us,
                         g.holds.longest_us);
    }
    if (g.holds.total_us > 0 && g.holds.count == 0) return fmt::format("{} uncounted hold", g.id);
    if (g.kind == segment_kind::consult || g.kind == segment_kind::supervision) {
      const segment* parent = s.find(g.parent_id);
      if (parent == nullptr) return fmt::format("{} has no parent {}", g.id, g.parent_id);
      if (parent->kind == segment_kind::supervision) return fmt::format("{} under a session", g.id);
      if (g.active() && !parent->active()) {
        return fmt::format("{} is live under ended {}", g.id, parent->id);
      }
    }
    if (g.kind == segment_kind::supervision && g.modes.empty()) return g.id + " has no mode";
    if (!g.next_id.empty()) {
      const segment* next = s.find(g.next_id);
      if (next == nullptr || next->previous_id != g.id) return g.id + " next link is one-way";
      if (g.active()) return g.id + " was transferred but is live";
    }
    if (!g.previous_id.empty()) {
      const segment* prev = s.find(g.previous_id);
      if (prev == nullptr || prev->next_id != g.id) return g.id + " previous link is one-way";
      if (g.method != initiation_method::transfer) return g.id + " continues but is no transfer";
    }
    if (g.status != segment_status::ringing && g.answered_at_us == 0) {
      if (g.status == segment_status::connected) return g.id + " connected, never answered";
    }
    const auto& custom = g.attributes.custom;
    for (std::size_t i = 1; i < custom.size(); ++i) {
      if (!(custom[i - 1].first < custom[i].first)) {
        return fmt::format("{} custom attributes not sorted/unique at {}", g.id, custom[i].first);
      }
    }
  }
  if (live_customer_segments > 1) return "more than one live customer segment";
  if (!s.customer_segment_id.empty()) {
    const segment* c = s.find(s.customer_segment_id);
    if (c == nullptr || c->kind != segment_kind::customer) return "customer segment is wrong";
  }
  if (!std::ranges::is_sorted(s.message_ids) ||
      std::ranges::adjacent_find(s.message_ids) != s.message_ids.end()) {
    return "message ids not sorted/unique";
  }
  return "";
}

// Whether `listener` hears `speaker` as a participant of a connected conversation segment (the
// speaker present, not held, not muted there): both on it, or the listener supervising it.
bool hears_as_participant(const call_state& s, const std::string& listener,
                          const std::string& speaker) {
  auto live = [](const participant* p) { return p != nullptr && p->present && !p->held; };
  for (const auto& g : s.segments) {
    if (g.status != segment_status::connected || g.kind == segment_kind::supervision) continue;
    const participant* p = g.find(speaker);
    if (!live(p) || p->muted) continue;
    if (live(g.find(listener))) return true;
    for (const auto& x : s.segments) {
      if (x.kind == segment_kind::supervision && x.status == segment_status::connected &&
          x.parent_id == g.id && x.supervisor_id == listener && live(x.find(listener))) {
        return true;
      }
    }
  }
  return false;
}

// The hear matrix against DESIGN.md's table, holds and mutes.
std::string check_hearing(const call_state& s) {
  const hear_matrix m = compute_hear_matrix(s);
  const std::size_t n = m.parties.size();
  if (m.cells.size() != n * n) return "matrix has the wrong size";
  for (std::size_t i = 0; i < n; ++i) {
    if (m.cells[i * n + i] != 0) return m.parties[i] + " hears themself";
  }
  // Per party: where they are live (present, not held) and unmuted on air.
  struct standing {
    bool live = false, audible = false, customer = false;
  };
  std::vector<standing> st(n);
  auto index = [&](const std::string& id) {
    return static_cast<std::size_t>(std::ranges::find(m.parties, id) - m.parties.begin());
  };
  for (const auto& g : s.segments) {
    if (g.status != segment_status::connected) continue;
    for (const auto& p : g.participants) {
      if (!p.present) continue;
      const std::size_t i = index(p.id);
      if (i == n) return p.id + " is present on air but not a party";
      if (!p.held) st[i].live = true;
      if (!p.held && !p.muted) st[i].audible = true;
      if (p.role == participant_role::customer) st[i].customer = true;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      if (!m.cells[i * n + j]) continue;
      if (!st[i].live)
        return fmt::format("{} is held everywhere but hears {}", m.parties[i], m.parties[j]);
      if (!st[j].audible)
        return fmt::format("{} hears {} who is held or muted", m.parties[i], m.parties[j]);
    }
  }
  // A supervisor is heard only by those the table allows: everyone live on the call in Barge,
  // the coached agent in Whisper, nobody in Monitor (or by someone they also talk with).
  auto session_lets_hear = [&](const std::string& listener, const std::string& sup) {
    for (const auto& x : s.segments) {
      if (x.kind != segment_kind::supervision || x.status != segment_status::connected ||
          x.supervisor_id != sup) {
        continue;
      }
      const segment* g = s.find(x.parent_id);
      const participant* l = g != nullptr ? g->find(listener) : nullptr;
      if (l == nullptr || !l->present || l->held) continue;
      const mode_change& mode = x.modes.back();
      if (mode.mode == supervise_mode::barge) return true;
      if (mode.mode == supervise_mode::whisper && listener == mode.coached_agent &&
          l->role != participant_role::customer) {
        return true;
      }
    }
    return false;
  };
  for (const auto& x : s.segments) {
    if (x.kind != segment_kind::supervision || x.status != segment_status::connected) continue;
    const std::size_t sup = index(x.supervisor_id);
    if (sup == n) continue;  // the supervisor left the session
    for (std::size_t l = 0; l < n; ++l) {
      if (!m.cells[l * n + sup]) continue;
      const std::string& who = m.parties[l];
      if (hears_as_participant(s, who, x.supervisor_id)) continue;
      if (!session_lets_hear(who, x.supervisor_id)) {
        return fmt::format("{} hears {} ({} on {})", who, x.supervisor_id,
                           to_string(x.modes.back().mode), x.parent_id);
      }
    }
  }
  // Two live, audible conversing parties of one on-air segment hear each other.
  for (const auto& g : s.segments) {
    if (g.status != segment_status::connected || g.kind == segment_kind::supervision) continue;
    for (const auto& a : g.participants) {
      for (const auto& b : g.participants) {
        if (a.id == b.id || !a.present || !b.present || a.held || b.held || b.muted) continue;
        if (!m.hears(a.id, b.id)) return fmt::format("{} does not hear {} on {}", a.id, b.id, g.id);
      }
    }
  }
  return "";
}

std::string describe(const command_body& c) {
  return fmt::format("{}({})", command_name(c), target_voice_call_id(c));
}

TEST(CallProperties, RandomSequencesKeepTheInvariants) {
  const directory dir = make_directory();
  std::uint64_t accepted = 0, with_events = 0, rejected = 0;
  for (std::uint64_t seed = 1; seed <= sequences; ++seed) {
    generator gen{std::mt19937_64{seed}};
    call_state state;
    std::vector<event> log;
    std::int64_t now_us = 1'000'000;
    const bool with_directory = seed % 8 != 0;
    std::vector<std::string> trace;
    for (int step = 0; step < commands_per_sequence; ++step) {
      now_us += static_cast<std::int64_t>(gen.below(3000)) * 1000;
      const decide_context ctx{now_us, with_directory ? &dir : nullptr};
      const command_body c = gen.next(state);
      trace.push_back(describe(c));
      const decision d = decide(state, c, ctx);
      const auto where = [&] {
        return fmt::format("seed {} step {}: {}\n{}", seed, step, fmt::join(trace, " "),
                           render(state));
      };
      if (!d) {
        ++rejected;
        ASSERT_NE(d.error().code, errc::ok) << where();
        ASSERT_NE(d.error().rule(), "unknown_rule") << where();
        continue;
      }
      ++accepted;
      if (!d->empty()) ++with_events;
      // decide is a function: the same inputs give the same events.
      const decision again_same = decide(state, c, ctx);
      ASSERT_TRUE(again_same.has_value()) << where();
      ASSERT_EQ(names(*again_same), names(*d)) << where();
      for (const auto& e : *d) {
        ASSERT_EQ(e.at_us, now_us) << where();
        evolve(state, e);
        log.push_back(e);
      }
      trace.back() += fmt::format("[{}]", names(*d));
      // (a) A repeat changes nothing.
      const decision repeat = decide(state, c, ctx);
      ASSERT_TRUE(!repeat || repeat->empty()) << "repeat emitted [" << names(*repeat) << "]\n"
                                              << where();
      // (b) Folding the log from scratch reproduces the state.
      call_state fresh;
      for (const auto& e : log) evolve(fresh, e);
      ASSERT_EQ(render(fresh), render(state)) << where();
      // (c) Invariants.
      const std::string broken = check_invariants(state, log.size());
      ASSERT_EQ(broken, "") << where();
      const std::string unheard = check_hearing(state);
      ASSERT_EQ(unheard, "") << where() << compute_hear_matrix(state).render();
    }
  }
  // The generator must reach deep states, not only bounce off rejections.
  EXPECT_GT(with_events, sequences * 8);
  RecordProperty("accepted", std::to_string(accepted));
  RecordProperty("rejected", std::to_string(rejected));
}

// A coverage check on the generator: over all sequences, every event type is emitted.
TEST(CallProperties, RandomSequencesReachEveryEventType) {
  const directory dir = make_directory();
  std::vector<std::string> seen;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    generator gen{std::mt19937_64{seed}};
    call_state state;
    std::int64_t now_us = 1'000'000;
    for (int step = 0; step < commands_per_sequence; ++step) {
      now_us += 1000;
      const decision d = decide(state, gen.next(state), {now_us, &dir});
      if (!d) continue;
      for (const auto& e : *d) {
        evolve(state, e);
        const std::string name(event_type_name(e.body));
        if (std::ranges::find(seen, name) == seen.end()) seen.push_back(name);
      }
    }
  }
  EXPECT_EQ(seen.size(), std::variant_size_v<event_body>)
      << fmt::format("{}", fmt::join(seen, ","));
}

}  // namespace
}  // namespace backline::domain::calltest
