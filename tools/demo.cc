#include "tools/demo.h"

#include <fmt/format.h>

#include "actors/engine.h"

namespace backline::tools {
namespace {

namespace cmd = domain::cmd;

struct driver {
  actors::engine& engine;
  const std::function<void(const std::string&)>& say;
  bool ok = true;

  // Runs one step; `expect_ok` false means the step demonstrates a refusal.
  void step(std::string what, std::string principal, domain::command_body body,
            bool expect_ok = true) {
    actors::command_request req{actors::new_id(engine.now_us()), 0, {}, std::move(principal),
                                std::move(body)};
    auto r = engine.execute(std::move(req));
    const bool accepted = r.status == actors::outcome::accepted;
    if (accepted) {
      say(fmt::format("  ✓ {} ({} event{}, stream version {})", what, r.events,
                      r.events == 1 ? "" : "s", r.stream_version));
    } else {
      say(fmt::format("  {} {}: {} [{}] {}", expect_ok ? "✗" : "⊘", what,
                      actors::to_string(r.status), domain::rule_name(r.rule), r.detail));
    }
    if (accepted != expect_ok) ok = false;
  }
};

}  // namespace

bool run_demo(actors::engine& engine, const std::function<void(const std::string&)>& say) {
  driver d{engine, say};
  const auto now = engine.now_us();
  const std::string call = actors::new_id(now), consult = actors::new_id(now + 1),
                    segment = actors::new_id(now + 2), whisper = actors::new_id(now + 3),
                    denied = actors::new_id(now + 4);
  const std::string customer = "+14155550100";
  say(fmt::format("demo: inbound call {} from {}", call, customer));
  domain::call_attributes attrs;
  attrs.case_id = "500Dn00000CASE1";
  attrs.subject = "Double charge on invoice";
  attrs.case_category = "billing";
  d.step("customer call arrives", "telephony",
         cmd::create_call{call, domain::call_type::inbound, domain::initiation_method::inbound,
                          "vck-0001", customer, "+18005550199", "Billing", {}, {}, "US", attrs});
  d.step("alice is offered the call", "telephony", cmd::ring{call, "alice"});
  d.step("alice answers", "alice", cmd::answer{call, "alice"});
  d.step("transcript: customer", "telephony",
         cmd::add_transcript{call, "m1", customer, "EndUser", 0, 2400,
                             "I was charged twice this month."});
  d.step("recording starts", "telephony",
         cmd::start_recording{call, "recordings/" + call + ".wav"});
  d.step("alice consults ivan (tier 2), customer on hold", "alice",
         cmd::start_consult{call, consult, "alice", "ivan", true});
  d.step("ivan answers the consult", "ivan", cmd::answer{consult, "ivan"});
  d.step("alice completes a warm transfer to ivan", "alice",
         cmd::complete_warm_transfer{call, consult, segment});
  d.step("quentin tries to whisper to ivan (no grant)", "quentin",
         cmd::join_supervisor{segment, denied, "quentin", domain::supervise_mode::whisper, "ivan"},
         false);
  d.step("peggy joins in whisper mode, coaching ivan", "peggy",
         cmd::join_supervisor{segment, whisper, "peggy", domain::supervise_mode::whisper, "ivan"});
  d.step("peggy barges in", "peggy",
         cmd::change_supervisor_mode{whisper, domain::supervise_mode::barge, {}});
  d.step("peggy leaves", "peggy", cmd::leave_supervisor{whisper});
  d.step("ivan ends the call", "ivan", cmd::end_call{segment, "agent_hangup"});
  d.step("alice wraps up her segment", "alice",
         cmd::wrap_up{call, "alice", "transferred", "Billing dispute, sent to tier 2"});
  d.step("ivan wraps up", "ivan",
         cmd::wrap_up{segment, "ivan", "resolved", "Refunded the duplicate charge"});
  say(d.ok ? "demo: done" : "demo: a step did not go as expected");
  return d.ok;
}

}  // namespace backline::tools
