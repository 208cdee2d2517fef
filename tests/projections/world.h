#pragma once
// Test helpers for the projections suite: a real event log in a temporary directory, fed by the
// call aggregate itself (decide, then fold and append each event as the call actor would), and
// the scripted day the tests check figures against.

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <string>

#include "actors/domain/call.h"
#include "eventlog/log.h"
#include "projections/projector.h"
#include "projections/store.h"
#include "schemas/codec.h"
#include "tests/domain/call_fixture.h"
#include "tests/eventlog/test_util.h"

namespace backline::projections::testing {

using domain::calltest::customer;
namespace cmd = domain::cmd;

using eventlog::testing::temp_dir;

// 2024-05-01T08:00:00Z: the scripted day starts at 8 a.m. UTC.
inline constexpr std::int64_t day_start_us = 1'714'550'400'000'000;
inline constexpr std::int64_t hour_us = 3'600'000'000;
inline constexpr std::int64_t s_us = 1'000'000;

// Conversations written to a real log through the aggregate.
class world {
 public:
  world() : log_dir_(dir_.path() + "/log") {
    eventlog::options o;
    o.dir = log_dir_;
    auto l = eventlog::log::open(o);
    EXPECT_TRUE(l.has_value());
    if (l) log_ = std::move(*l);
  }
  eventlog::log& log() { return *log_; }
  const std::string& dir() const { return dir_.path(); }
  const std::string& log_dir() const { return log_dir_; }
  void close_log() { log_.reset(); }

  std::int64_t now_us = day_start_us;
  void at(std::int64_t us) { now_us = us; }
  void wait_s(std::int64_t s) { now_us += s * s_us; }

  // Decides `c` on the conversation of its voice call (a new one for create_call), folds and
  // appends the events. The command must be accepted.
  void run(const domain::command_body& c) {
    const std::string& target = domain::target_voice_call_id(c);
    const std::string root =
        std::holds_alternative<cmd::create_call>(c) ? target : root_of_.at(target);
    domain::call_state& s = conversations_[root];
    auto d = domain::decide(s, c, {now_us, &directory_});
    ASSERT_TRUE(d.has_value()) << domain::command_name(c) << " on " << target << ": "
                               << d.error().rule() << " " << d.error().detail;
    eventlog::append_request req;
    for (const auto& e : *d) {
      domain::evolve(s, e);
      req.events.push_back({"call/" + root, s.version, envelope(root, s.version, e)});
    }
    for (const auto& g : s.segments) root_of_[g.id] = root;
    append(std::move(req));
  }

  // A directory event: not a call event, the projector only moves its checkpoint over it.
  void directory_event() {
    schemas::envelope_meta m = meta("directory", "acme_support", ++directory_version_, now_us);
    append_one("directory/acme_support", directory_version_, schemas::encode(m, directory_));
  }

  void append(eventlog::append_request req) {
    auto p = std::make_shared<std::promise<std::expected<std::uint64_t, std::error_code>>>();
    auto f = p->get_future();
    req.done = [p](std::expected<std::uint64_t, std::error_code> r) { p->set_value(r); };
    ASSERT_FALSE(log_->append(std::move(req)));
    ASSERT_TRUE(f.get().has_value());
  }

  // The scripted day (figures in projections_test.cc):
  //  C1 08:00 inbound Billing/Refund, alice: hold 30 s, consult sam, monitor+whisper by peggy,
  //     warm transfer to ivan (segment D1), ivan ends; both wrap up.
  //  C2 09:00 outbound by bob, 200 s.
  //  C3 10:00 inbound Billing/Invoice, bob: consult sara, blind transfer to queue Billing (D3),
  //     judy answers, ends.
  //  C4 13:00 inbound Sales/Upgrade, judy, 100 s, no consult.
  //  I5 14:00 internal alice -> bob, 50 s.
  void scripted_day();
  // `n` small conversations (inbound, consult, warm transfer, end, wrap-up), interleaved in
  // pairs, starting at `first`; with a directory event every 50 conversations.
  void bulk(int n, int first = 0);

 private:
  schemas::envelope_meta meta(std::string kind, std::string id, std::uint64_t version,
                              std::int64_t at_us) {
    schemas::envelope_meta m;
    m.event_id = schemas::make_uuid_v7(at_us / 1000, ++events_, version);
    m.stream_kind = std::move(kind);
    m.stream_id = std::move(id);
    m.stream_version = version;
    m.occurred_at_us = at_us;
    m.correlation_id = m.stream_id;
    m.causation_id = "cmd-" + std::to_string(events_);
    m.tenant = "acme_support";
    m.principal = "test";
    return m;
  }
  std::string envelope(const std::string& root, std::uint64_t version, const domain::event& e) {
    return schemas::encode(meta("call", root, version, e.at_us), e.body);
  }
  void append_one(std::string stream, std::uint64_t version, std::string envelope) {
    eventlog::append_request req;
    req.events.push_back({std::move(stream), version, std::move(envelope)});
    append(std::move(req));
  }

  temp_dir dir_;
  std::string log_dir_;
  std::unique_ptr<eventlog::log> log_;
  domain::directory directory_ = domain::calltest::make_directory();
  std::map<std::string, domain::call_state> conversations_;
  std::map<std::string, std::string> root_of_;
  std::uint64_t events_ = 0, directory_version_ = 0;
};

inline cmd::create_call inbound(std::string id, std::string queue, std::string category,
                                std::string subject) {
  cmd::create_call c{.voice_call_id = id,
                     .type = domain::call_type::inbound,
                     .method = domain::initiation_method::inbound,
                     .vendor_call_key = "vck-" + id,
                     .from = customer,
                     .to = domain::calltest::center,
                     .queue = std::move(queue)};
  c.attributes.case_id = "500-" + id;
  c.attributes.case_category = std::move(category);
  c.attributes.subject = std::move(subject);
  c.attributes.custom = {{"tier", "gold"}};
  return c;
}

inline void world::scripted_day() {
  using domain::supervise_mode;
  at(day_start_us);  // C1
  run(inbound("C1", "Billing", "Billing", "Refund"));
  wait_s(10);
  run(cmd::ring{"C1", "alice"});
  wait_s(5);
  run(cmd::answer{"C1", "alice"});  // 08:00:15
  run(cmd::start_recording{"C1", "s3://rec/C1.wav"});
  run(cmd::add_transcript{"C1", "m1", "alice", "Agent", 0, 1500, "Hello, how can I help?"});
  run(cmd::add_transcript{"C1", "m2", customer, "EndUser", 1600, 4000, "My refund is late."});
  wait_s(60);
  run(cmd::hold{"C1", customer});  // 08:01:15
  wait_s(30);
  run(cmd::resume{"C1", customer});  // 08:01:45
  run(cmd::start_consult{"C1", "K1", "alice", "sam", true});
  wait_s(5);
  run(cmd::answer{"K1", "sam"});  // 08:01:50
  run(cmd::join_supervisor{"C1", "S1", "peggy", supervise_mode::monitor, {}});
  wait_s(10);
  run(cmd::change_supervisor_mode{"S1", supervise_mode::whisper, "alice"});  // 08:02:00
  wait_s(30);
  run(cmd::complete_consult{"K1"});  // 08:02:30: consult talk 40 s
  run(cmd::resume{"C1", customer});  // customer held 08:01:45 .. 08:02:30 = 45 s
  run(cmd::add_conversation_event{"C1", "ce1", false, "sentiment", R"({"score":-0.4})"});
  wait_s(20);
  run(cmd::leave_supervisor{"S1"});  // 08:02:50: whisper 50 s
  run(cmd::start_consult{"C1", "K2", "alice", "ivan", true});
  wait_s(10);
  run(cmd::answer{"K2", "ivan"});  // 08:03:00
  wait_s(20);
  run(cmd::complete_warm_transfer{"C1", "K2", "D1"});  // 08:03:20
  wait_s(120);
  run(cmd::end_call{"D1", "customer_hangup"});  // 08:05:20
  run(cmd::wrap_up{"C1", "alice", "Transferred", "sent to tier 2"});
  run(cmd::wrap_up{"D1", "ivan", "Resolved", "refund issued"});
  run(cmd::add_conversation_event{"D1", "ce2", true, "category", R"({"name":"refund"})"});
  directory_event();

  at(day_start_us + hour_us);  // C2 09:00
  run(cmd::create_call{.voice_call_id = "C2",
                       .type = domain::call_type::outbound,
                       .method = domain::initiation_method::outbound,
                       .from = domain::calltest::center,
                       .to = customer,
                       .initiator_agent = "bob"});
  run(cmd::answer{"C2", "bob"});
  wait_s(200);
  run(cmd::end_call{"C2", "agent_hangup"});

  at(day_start_us + 2 * hour_us);  // C3 10:00
  run(inbound("C3", "General", "Billing", "Invoice"));
  run(cmd::ring{"C3", "bob"});
  run(cmd::answer{"C3", "bob"});
  wait_s(30);
  run(cmd::start_consult{"C3", "K3", "bob", "sara", false});
  wait_s(10);
  run(cmd::answer{"K3", "sara"});
  wait_s(90);
  run(cmd::complete_consult{"K3"});  // consult talk 90 s
  wait_s(20);
  run(cmd::blind_transfer{"C3", "D3", {}, "Billing"});  // C3: answered 150 s
  wait_s(40);
  run(cmd::ring{"D3", "judy"});
  run(cmd::answer{"D3", "judy"});
  wait_s(300);
  run(cmd::end_call{"D3", "customer_hangup"});  // D3: answered 300 s

  at(day_start_us + 5 * hour_us);  // C4 13:00
  run(inbound("C4", "General", "Sales", "Upgrade"));
  run(cmd::ring{"C4", "judy"});
  run(cmd::answer{"C4", "judy"});
  wait_s(100);
  run(cmd::end_call{"C4", "customer_hangup"});

  at(day_start_us + 6 * hour_us);  // I5 14:00
  run(cmd::create_call{.voice_call_id = "I5",
                       .type = domain::call_type::internal,
                       .method = domain::initiation_method::internal,
                       .initiator_agent = "alice",
                       .target_agent = "bob"});
  run(cmd::answer{"I5", "bob"});
  wait_s(50);
  run(cmd::end_call{"I5", "agent_hangup"});
}

inline void world::bulk(int n, int first) {
  // Pairs of conversations run their steps alternately, so batches cut through both.
  for (int i = first; i < first + n; i += 2) {
    const int pair = std::min(2, first + n - i);
    auto id = [&](const char* p, int k) { return p + std::to_string(i + k); };
    for (int k = 0; k < pair; ++k) run(inbound(id("B", k), "General", "Billing", "Bulk"));
    wait_s(1);
    for (int k = 0; k < pair; ++k) run(cmd::ring{id("B", k), k ? "bob" : "alice"});
    for (int k = 0; k < pair; ++k) run(cmd::answer{id("B", k), k ? "bob" : "alice"});
    wait_s(20);
    for (int k = 0; k < pair; ++k) {
      run(cmd::start_consult{id("B", k), id("BK", k), k ? "bob" : "alice", "sam", true});
    }
    for (int k = 0; k < pair; ++k) {
      if (k == 0) run(cmd::answer{id("BK", k), "sam"});
    }
    wait_s(15);
    run(cmd::complete_warm_transfer{id("B", 0), id("BK", 0), id("BD", 0)});
    if (pair == 2) run(cmd::cancel_consult{id("BK", 1)});
    wait_s(60);
    run(cmd::end_call{id("BD", 0), "customer_hangup"});
    if (pair == 2) run(cmd::end_call{id("B", 1), "customer_hangup"});
    run(cmd::wrap_up{id("B", 0), "alice", "Transferred", {}});
    if ((i - first) % 50 == 0) directory_event();
  }
}

// Opens a store read-write in `dir`.
inline std::unique_ptr<store> open_store(const std::string& dir,
                                         open_mode mode = open_mode::read_write) {
  auto s = store::open({dir, mode});
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message());
  return s ? std::move(*s) : nullptr;
}

// Every model's digest, "name hash keys" lines: equal strings mean equal bytes.
inline std::string digests(const store& s) {
  std::string out;
  for (std::size_t i = 0; i < model_count; ++i) {
    auto d = s.digest(static_cast<model>(i));
    EXPECT_TRUE(d.has_value());
    if (!d) continue;
    out += std::string(model_name(d->which)) + " " + std::to_string(d->hash) + " " +
           std::to_string(d->keys) + "\n";
  }
  return out;
}

// The scripted day, projected into `<dir>/projections` with the default options.
class ProjectedDay : public ::testing::Test {
 protected:
  void SetUp() override {
    w.scripted_day();
    st = open_store(w.dir() + "/projections");
    ASSERT_TRUE(st);
    projector p(w.log(), *st);
    auto cp = p.catch_up();
    ASSERT_TRUE(cp.has_value()) << cp.error().message();
    ASSERT_EQ(*cp, w.log().committed_position());
  }
  world w;
  std::unique_ptr<store> st;
};

}  // namespace backline::projections::testing
