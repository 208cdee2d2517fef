// Chains, listings and reports on the scripted day (tests/projections/world.h), against figures
// worked out by hand from the script.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "projections/queries.h"
#include "projections/reports.h"
#include "tests/projections/world.h"

namespace backline::projections::testing {
namespace {

using nlohmann::json;

constexpr const char* c1_tree =
    "C1 customer Inbound owner=alice 200s holds=3/105s transferred next=D1\n"
    "  K1 consult alice->sam 45s consult_completed\n"
    "  S1 supervision peggy monitor:10s,whisper:50s 60s supervisor_left\n"
    "  K2 consult alice->ivan 30s transferred\n"
    "D1 customer Transfer owner=ivan 120s holds=0/0s customer_hangup\n";

TEST_F(ProjectedDay, ChainFromAnyVoiceCallOfTheConversationIsTheWholeTree) {
  for (const char* id : {"C1", "K1", "S1", "K2", "D1"}) {
    auto c = chain(*st, id);
    ASSERT_TRUE(c && c->has_value()) << id;
    EXPECT_EQ((**c)["conversation_id"], "C1");
    EXPECT_EQ((**c)["requested_id"], id);
    EXPECT_EQ(render_chain(**c), c1_tree) << id;
  }
}

TEST_F(ProjectedDay, ChainSaysWhoWhenAndHowLong) {
  auto c = chain(*st, "D1");
  ASSERT_TRUE(c && c->has_value());
  const json& first = (**c)["segments"][0];
  EXPECT_EQ(first["start_time"], "2024-05-01T08:00:00.000000Z");
  EXPECT_EQ(first["agents"], json::parse(R"([{"id":"alice","role":"agent"}])"));
  const json& consult = first["children"][0];
  EXPECT_EQ(consult["agents"],
            json::parse(R"([{"id":"alice","role":"agent"},{"id":"sam","role":"specialist"}])"));
  EXPECT_EQ(consult["agent_interaction_duration_s"], 40);
  EXPECT_EQ((**c)["segments"][1]["previous_call_id"], "C1");
}

TEST_F(ProjectedDay, BlindTransferAndDirectInternalCallsHaveTheirOwnChains) {
  auto c3 = chain(*st, "D3");
  ASSERT_TRUE(c3 && c3->has_value());
  EXPECT_EQ(render_chain(**c3),
            "C3 customer Inbound owner=bob 150s holds=0/0s transferred next=D3\n"
            "  K3 consult bob->sara 100s consult_completed\n"
            "D3 customer Transfer owner=judy 340s holds=0/0s customer_hangup\n");
  auto i5 = chain(*st, "I5");
  ASSERT_TRUE(i5 && i5->has_value());
  EXPECT_EQ(render_chain(**i5), "I5 direct Internal owner=alice 50s holds=0/0s agent_hangup\n");
}

std::string ids(const store& st, const list_filter& f) {
  auto r = list_calls(st, f);
  EXPECT_TRUE(r.has_value());
  std::string out;
  for (const auto& j : r.value_or(std::vector<json>{})) {
    out += (out.empty() ? "" : ",") + j["id"].get<std::string>();
  }
  return out;
}

TEST_F(ProjectedDay, ListFiltersByTypeAgentQueueParentAndTime) {
  EXPECT_EQ(ids(*st, {}), "C1,K1,S1,K2,D1,C2,C3,K3,D3,C4,I5");
  EXPECT_EQ(ids(*st, {.type = domain::call_type::internal}), "K1,S1,K2,K3,I5");
  EXPECT_EQ(ids(*st, {.type = domain::call_type::outbound}), "C2");
  EXPECT_EQ(ids(*st, {.agent = "sam"}), "K1");
  EXPECT_EQ(ids(*st, {.agent = "alice"}), "C1,K1,K2,I5");
  EXPECT_EQ(ids(*st, {.agent = "peggy"}), "S1");
  EXPECT_EQ(ids(*st, {.queue = "Billing"}), "C1,D1,D3");
  EXPECT_EQ(ids(*st, {.parent = "C1"}), "K1,S1,K2");
  EXPECT_EQ(ids(*st, {.type = domain::call_type::inbound, .agent = "bob"}), "C3");
  EXPECT_EQ(ids(*st, {.from_us = day_start_us + hour_us, .to_us = day_start_us + 3 * hour_us}),
            "C2,C3,K3,D3");
  EXPECT_EQ(
      ids(*st,
          {.from_us = day_start_us + hour_us, .to_us = day_start_us + 3 * hour_us, .limit = 2}),
      "C2,C3");
  EXPECT_EQ(ids(*st, {.agent = "bob", .from_us = day_start_us + 2 * hour_us}), "C3,K3,I5");
  EXPECT_EQ(ids(*st, {.agent = "nobody"}), "");
  EXPECT_EQ(ids(*st, {.from_us = day_start_us, .to_us = day_start_us}), "");
}

std::string csv(const store& st, std::string_view name, group_by by = group_by::none,
                std::int64_t from = day_start_us, std::int64_t to = day_start_us + 24 * hour_us) {
  auto t = report(st, name, {from, to, by});
  EXPECT_TRUE(t.has_value()) << name;
  return t ? to_csv(*t) : "";
}

TEST_F(ProjectedDay, InternalCallRatioPerCaseCategoryAndSubject) {
  EXPECT_EQ(csv(*st, "internal_ratio_by_category"),
            "case_category,customer_calls,with_consult,internal_ratio\n"
            "(none),1,0,0.00\n"
            "Billing,2,2,1.00\n"
            "Sales,1,0,0.00\n");
  EXPECT_EQ(csv(*st, "internal_ratio_by_subject"),
            "subject,customer_calls,with_consult,internal_ratio\n"
            "(none),1,0,0.00\n"
            "Invoice,1,1,1.00\n"
            "Refund,1,1,1.00\n"
            "Upgrade,1,0,0.00\n");
}

TEST_F(ProjectedDay, ConsultsAndConsultMinutesPerSpecialist) {
  // ivan 20 s, sam 40 s, sara 90 s of talk (answer to end).
  EXPECT_EQ(csv(*st, "consults_by_specialist"),
            "specialist,consults,consult_minutes\n"
            "ivan,1,0.33\n"
            "sam,1,0.67\n"
            "sara,1,1.50\n");
}

TEST_F(ProjectedDay, TransferRateOverallAndPerHour) {
  EXPECT_EQ(csv(*st, "transfer_rate"),
            "customer_segments,transferred,transfer_rate\n"
            "6,2,0.33\n");
  EXPECT_EQ(csv(*st, "transfer_rate", group_by::hour),
            "bucket,customer_segments,transferred,transfer_rate\n"
            "2024-05-01T08,2,1,0.50\n"
            "2024-05-01T09,1,0,0.00\n"
            "2024-05-01T10,2,1,0.50\n"
            "2024-05-01T13,1,0,0.00\n");
  EXPECT_EQ(
      csv(*st, "transfer_rate", group_by::none, day_start_us + hour_us, day_start_us + 4 * hour_us),
      "customer_segments,transferred,transfer_rate\n"
      "3,1,0.33\n");
}

TEST_F(ProjectedDay, AverageHandleTimePerAgentPerSegment) {
  // alice C1 185 s; bob C2 200 s and C3 150 s; ivan D1 120 s; judy D3 300 s and C4 100 s.
  EXPECT_EQ(csv(*st, "handle_time_by_agent"),
            "agent,segments,avg_handle_s\n"
            "alice,1,185.00\n"
            "bob,2,175.00\n"
            "ivan,1,120.00\n"
            "judy,2,200.00\n");
}

TEST_F(ProjectedDay, CustomerFacingVolumeExcludesInternalCalls) {
  EXPECT_EQ(csv(*st, "customer_volume", group_by::day),
            "bucket,inbound,outbound,customer_calls,customer_segments\n"
            "2024-05-01,3,1,4,6\n");
}

TEST_F(ProjectedDay, SupervisorInterventionsByMode) {
  EXPECT_EQ(csv(*st, "supervisor_interventions"),
            "mode,interventions,minutes\n"
            "monitor,1,0.17\n"
            "whisper,1,0.83\n");
}

TEST_F(ProjectedDay, UnknownReportIsRefused) {
  auto t = report(*st, "nope", {day_start_us, day_start_us + hour_us});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), errc::bad_options);
  for (auto name : report_names()) {
    EXPECT_TRUE(report(*st, name, {day_start_us, day_start_us + hour_us, group_by::hour}));
  }
}

TEST(ReadOnlyStore, SeesTheProjectorsWritesAfterARefresh) {
  world w;
  w.scripted_day();
  auto rw = open_store(w.dir() + "/p");
  auto ro = open_store(w.dir() + "/p", open_mode::read_only);
  ASSERT_TRUE(rw && ro);
  EXPECT_EQ(ro->checkpoint(), 0u);
  projector p(w.log(), *rw);
  ASSERT_TRUE(p.catch_up());
  ASSERT_FALSE(ro->refresh());
  EXPECT_EQ(ro->checkpoint(), rw->checkpoint());
  auto c = chain(*ro, "K1");
  ASSERT_TRUE(c && c->has_value());
  EXPECT_EQ(render_chain(**c), c1_tree);
  write_batch b(*ro);
  EXPECT_EQ(ro->write(b, 1), errc::bad_options);
}

TEST(ReadOnlyStore, MissingStoreTellsWhatToDo) {
  temp_dir d;
  auto s = store::open({d.path() + "/none", open_mode::read_only});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), errc::not_found);
  EXPECT_NE(s.error().message().find("catch-up"), std::string::npos);
}

TEST(ReadWriteStore, ASecondWriterIsTurnedAway) {
  temp_dir d;
  auto a = open_store(d.path() + "/p");
  auto b = store::open({d.path() + "/p", open_mode::read_write});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error(), errc::busy);
}

}  // namespace
}  // namespace backline::projections::testing
