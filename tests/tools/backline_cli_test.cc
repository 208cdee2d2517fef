// The backline CLI as a user runs it: on a log written by `backlined --demo --once` (a call with
// a consult, a warm transfer, a supervisor who whispers then barges), run the built binary and
// check what it prints and its exit codes. The output and SVG pieces are also tested directly.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "tests/tools/subprocess.h"
#include "tools/cli_common.h"
#include "tools/cli_output.h"
#include "tools/cli_svg.h"
#include "tools/cli_views.h"

namespace {

using nlohmann::json;

using backline::testing::run_result;
using backline::testing::slurp;

std::string test_path(const std::string& what) {
  return backline::testing::test_path("backline-cli", what);
}

// Runs `binary args` (stdout is a file: the default output is jsonl); `signal_after_ms` > 0
// sends SIGINT after that long.
run_result run(const std::string& binary, const std::string& args, int signal_after_ms = 0) {
  return backline::testing::run(binary, args, test_path("run"), signal_after_ms);
}

run_result backline(const std::string& args, int signal_after_ms = 0) {
  return run(BACKLINE, args, signal_after_ms);
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    out.push_back(json::parse(text.substr(start, end - start)));
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

std::vector<std::uint64_t> positions(const std::vector<json>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e.at("position").get<std::uint64_t>());
  return out;
}

// A log with the demo's events, and what the demo's own output says about them.
class BacklineCli : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = test_path("data");
    std::filesystem::remove_all(data_);
  }
  void TearDown() override { std::filesystem::remove_all(data_); }

  // `projections`: backlined keeps the read models up to date (its default).
  void write_demo_log(bool projections = true) {
    auto r = run(BACKLINED, "--data " + data_ + " --demo --once --listen off" +
                                (projections ? "" : " --no-projections"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    demo_ = json_lines(r.out);
    ASSERT_GE(demo_.size(), 15u);
  }
  const json& first(const std::string& type) const {
    for (const auto& e : demo_) {
      if (e.at("type") == type) return e;
    }
    throw std::runtime_error("no " + type + " in the demo");
  }
  std::int64_t occurred_us(const json& e) const {
    return backline::cli::parse_instant(e.at("occurred_at").get<std::string>(), 0, "test").value();
  }
  std::string data() const { return " --data " + data_; }

  std::string data_;
  std::vector<json> demo_;  // the demo's committed events (position 2 on; 1 is the directory)
};

TEST_F(BacklineCli, TailPrintsTheLastEventsAsJsonLinesWhenStdoutIsNotATerminal) {
  write_demo_log();
  auto r = backline("events tail" + data());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto events = json_lines(r.out);
  // The whole log (1 directory event + the demo) is under the default of 20.
  ASSERT_EQ(events.size(), demo_.size() + 1);
  EXPECT_EQ(events.front().at("type"), "directory_replaced");
  EXPECT_EQ(events.back(), demo_.back());

  auto last5 = json_lines(backline("events tail -n 5" + data()).out);
  const std::uint64_t last = demo_.back().at("position");
  EXPECT_EQ(positions(last5),
            (std::vector<std::uint64_t>{last - 4, last - 3, last - 2, last - 1, last}));
}

TEST_F(BacklineCli, TailPrintsJsonCsvAndTable) {
  write_demo_log();
  auto as_json = backline("events tail -n 3 -o json" + data());
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const auto array = json::parse(as_json.out);
  ASSERT_TRUE(array.is_array());
  EXPECT_EQ(array.size(), 3u);
  EXPECT_EQ(array.back(), demo_.back());

  auto csv = backline("events tail -n 2 -o csv" + data());
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.substr(0, csv.out.find('\n')),
            "position,occurred_at,stream,version,type,event_id,correlation_id,causation_id,"
            "tenant,principal,data");
  // The data column is JSON: it holds commas and quotes, so it is quoted with quotes doubled.
  EXPECT_NE(csv.out.find(",\"{\"\"agent_id\"\":\"\""), std::string::npos) << csv.out;

  auto table = backline("events tail -n 2 -o table" + data());
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const auto header = table.out.substr(0, table.out.find('\n'));
  EXPECT_EQ(header.rfind("POSITION", 0), 0u) << table.out;
  // Aligned: the TYPE column starts at the same offset on the header and on every row.
  const auto type_at = header.find("TYPE");
  const auto row = table.out.substr(table.out.find('\n') + 1);
  EXPECT_EQ(row.find("wrap_up_recorded"), type_at) << table.out;
}

TEST_F(BacklineCli, TailFiltersByStreamAndType) {
  write_demo_log();
  const std::string call = first("call_created").at("stream");
  auto stream = json_lines(backline("events tail -n 100 --stream " + call + data()).out);
  std::size_t in_call = 0;
  for (const auto& e : demo_) in_call += e.at("stream") == call;
  EXPECT_EQ(stream.size(), in_call);
  for (const auto& e : stream) EXPECT_EQ(e.at("stream"), call);

  auto modes = json_lines(backline("events tail --type supervisor_mode_changed" + data()).out);
  ASSERT_EQ(modes.size(), 1u);
  EXPECT_EQ(modes[0].at("data").at("mode"), "barge");

  auto bad = backline("events tail --type no_such_event" + data());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("known types"), std::string::npos) << bad.err;
  auto missing = backline("events tail --stream call/nope" + data());
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("no stream 'call/nope'"), std::string::npos) << missing.err;
}

TEST_F(BacklineCli, TailStartsFromAPositionATimeOrTheBeginning) {
  write_demo_log();
  const std::uint64_t last = demo_.back().at("position");
  EXPECT_EQ(json_lines(backline("events tail --from beginning" + data()).out).size(), last);
  auto from10 = positions(json_lines(backline("events tail --from 10" + data()).out));
  ASSERT_FALSE(from10.empty());
  EXPECT_EQ(from10.front(), 10u);
  EXPECT_EQ(from10.back(), last);

  // A time starts at the first event that occurred at or after it: events of one command
  // share their instant, so that may come before position 10.
  const json& tenth = demo_[8];  // position 10
  ASSERT_EQ(tenth.at("position"), 10u);
  std::uint64_t expected = 10;
  for (const auto& e : demo_) {
    if (e.at("occurred_at") == tenth.at("occurred_at")) {
      expected = std::min<std::uint64_t>(expected, e.at("position"));
    }
  }
  auto by_rfc3339 = json_lines(
      backline("events tail --from " + tenth.at("occurred_at").get<std::string>() + data()).out);
  ASSERT_FALSE(by_rfc3339.empty());
  EXPECT_EQ(by_rfc3339.front().at("position"), expected);
  auto by_us =
      json_lines(backline("events tail --from " + std::to_string(occurred_us(tenth)) + data()).out);
  EXPECT_EQ(positions(by_us), positions(by_rfc3339));

  // Within a stream, a position starts at the stream's first event at or after it.
  const std::string call = first("call_created").at("stream");
  auto stream_from =
      json_lines(backline("events tail --stream " + call + " --from 10" + data()).out);
  ASSERT_FALSE(stream_from.empty());
  EXPECT_GE(stream_from.front().at("position"), 10u);

  EXPECT_EQ(backline("events tail --from yesterday-ish" + data()).exit_code, 2);
}

TEST_F(BacklineCli, FollowPrintsUntilInterruptedAndClosesItsOutput) {
  write_demo_log();
  auto r = backline("events tail --follow -n 2 -o json" + data(), 700);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto array = json::parse(r.out);  // a closed array: SIGINT ended it cleanly
  EXPECT_EQ(array.size(), 2u);
}

// Who hears whom around the supervisor's barge: while peggy whispers only ivan hears her; once
// she barges the customer hears her too; after she leaves she is off the air.
TEST_F(BacklineCli, CallsGetAtShowsTheHearMatrixBeforeAndAfterABarge) {
  write_demo_log();
  const json& joined = first("supervisor_joined");
  const std::string session = joined.at("data").at("session_id");
  const std::string segment = joined.at("data").at("voice_call_id");
  const std::string customer = first("call_created").at("data").at("from");
  const auto barge_us = occurred_us(first("supervisor_mode_changed"));
  auto at = [&](std::int64_t us) {
    auto r = backline("calls get " + segment + " --at " + std::to_string(us) + data());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  };
  const json whisper = at(barge_us - 1);
  EXPECT_EQ(whisper.at("voice_call_id"), segment);
  const json& w = whisper.at("hear_matrix").at("hears");
  EXPECT_EQ(w.at("ivan"), json({customer, "peggy"}));
  EXPECT_EQ(w.at(customer), json({"ivan"}));  // never hears a whisper
  EXPECT_EQ(w.at("peggy"), json({customer, "ivan"}));

  const json barge = at(barge_us);
  EXPECT_EQ(barge.at("hear_matrix").at("hears").at(customer), json({"ivan", "peggy"}));
  const auto left_us = occurred_us(first("supervisor_left"));
  const json after = at(left_us);
  EXPECT_EQ(after.at("hear_matrix").at("parties"), json({customer, "ivan"}));

  // The session itself resolves to the same conversation and shows its mode timeline.
  auto s = json::parse(
      backline("calls get " + session + " --at " + std::to_string(barge_us) + " -o json" + data())
          .out);
  for (const auto& vc : s.at("voice_calls")) {
    if (vc.at("id") != session) continue;
    ASSERT_EQ(vc.at("supervisor_modes").size(), 2u);
    EXPECT_EQ(vc.at("supervisor_modes")[1].at("mode"), "barge");
  }
}

TEST_F(BacklineCli, CallsGetAtPrintsATableAndCsv) {
  write_demo_log();
  const std::string segment = first("supervisor_joined").at("data").at("voice_call_id");
  const auto barge_us = occurred_us(first("supervisor_mode_changed"));
  auto table =
      backline("calls get " + segment + " --at " + std::to_string(barge_us) + " -o table" + data());
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("who hears whom"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("barge"), std::string::npos) << table.out;
  auto csv = backline("calls get " + segment + " --at now -o csv" + data());
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("id,", 0), 0u) << csv.out;
}

TEST_F(BacklineCli, UnknownIdsAndInstantsBeforeTheCallAreNotFound) {
  write_demo_log();
  auto r = backline("calls get no-such-call --at now" + data());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no voice call no-such-call"), std::string::npos) << r.err;

  const json& created = first("call_created");
  const std::string call = created.at("data").at("voice_call_id");
  auto early =
      backline("calls get " + call + " --at " + std::to_string(occurred_us(created) - 1) + data());
  EXPECT_EQ(early.exit_code, 3);
  EXPECT_NE(early.err.find("did not exist yet"), std::string::npos) << early.err;
}

TEST_F(BacklineCli, AMissingLogSaysToStartTheEngineFirst) {
  auto r = backline("events tail" + data());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no event log under " + data_ + ": start backlined --data " + data_),
            std::string::npos)
      << r.err;
}

TEST_F(BacklineCli, MisuseIsExitTwo) {
  EXPECT_EQ(backline("").exit_code, 2);
  EXPECT_EQ(backline("events tail --no-such-flag").exit_code, 2);
  EXPECT_EQ(backline("events tail -o xml").exit_code, 2);
  EXPECT_EQ(backline("calls get").exit_code, 2);
  auto bad_time = backline("calls get x --at tomorrow" + data());
  EXPECT_EQ(bad_time.exit_code, 2);
  EXPECT_NE(bad_time.err.find("RFC 3339"), std::string::npos) << bad_time.err;
}

TEST_F(BacklineCli, HelpListsExamplesAndExitCodes) {
  auto r = backline("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
  auto tail = backline("events tail --help");
  EXPECT_EQ(tail.exit_code, 0);
  EXPECT_NE(tail.out.find("backline events tail -f"), std::string::npos) << tail.out;
}

// Replay builds the read models from the log, --verify compares them with a
// rebuild, and the view commands read them.
TEST_F(BacklineCli, TheEngineKeepsTheReadModelsUpToDate) {
  write_demo_log();
  auto listed = backline("calls list --agent peggy" + data());
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(json_lines(listed.out).size(), 1u);
  auto verify = backline("replay --verify" + data());
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  for (const auto& m : json_lines(verify.out)) EXPECT_EQ(m.at("equal"), true) << m;
}

TEST_F(BacklineCli, ReplayBuildsTheReadModelsThatListChainAndReportRead) {
  write_demo_log(/*projections=*/false);
  auto none = backline("calls list" + data());
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("run backline replay"), std::string::npos) << none.err;
  ASSERT_EQ(backline("replay" + data()).exit_code, 0);
  auto verify = backline("replay --verify" + data());
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  for (const auto& m : json_lines(verify.out)) EXPECT_EQ(m.at("equal"), true) << m;

  const std::string call = first("call_created").at("data").at("voice_call_id");
  auto record = json::parse(backline("calls get " + call + " -o json" + data()).out);
  EXPECT_EQ(record.at("id"), call);
  EXPECT_EQ(record.at("owner_agent"), "alice");
  auto peggy = json_lines(backline("calls list --agent peggy" + data()).out);
  ASSERT_EQ(peggy.size(), 1u);
  EXPECT_EQ(peggy[0].at("segment_kind"), "supervision");
  auto chain = json::parse(backline("chain " + call + data()).out);
  EXPECT_EQ(chain.at("segments").size(), 2u);  // alice's segment, then ivan's transfer segment

  const std::string svg = test_path("svg");
  auto rep = backline(
      "report supervisor_interventions --from 2000-01-01T00:00:00Z --to now "
      "-o csv --svg " +
      svg + data());
  EXPECT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_EQ(rep.out.substr(0, rep.out.find('\n')), "mode,interventions,minutes");
  EXPECT_NE(slurp(svg).find("</svg>"), std::string::npos);
  std::filesystem::remove(svg);
  EXPECT_EQ(backline("report no_such_report" + data()).exit_code, 2);
}

// The pieces, without a process.
TEST(CliOutput, CsvQuotesOnlyWhatNeedsIt) {
  using backline::cli::csv_quote;
  EXPECT_EQ(csv_quote("plain"), "plain");
  EXPECT_EQ(csv_quote("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_quote("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_quote("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_quote(" padded"), "\" padded\"");
}

TEST(CliOutput, TableColumnsAlignOnDisplayWidth) {
  const std::string path = ::testing::TempDir() + "/backline-cli-table-" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "w");
  backline::cli::print_table({{"A", "B"}, {"✓", "x"}, {"long", "y"}}, f);
  std::fclose(f);
  EXPECT_EQ(slurp(path), "A     B\n✓     x\nlong  y\n");
  std::filesystem::remove(path);
}

TEST(CliTime, ParsesRfc3339WithFractionsAndOffsets) {
  using backline::cli::parse_instant;
  EXPECT_EQ(parse_instant("1970-01-01T00:00:01Z", 0, "t").value(), 1'000'000);
  EXPECT_EQ(parse_instant("1970-01-01T00:00:01.5Z", 0, "t").value(), 1'500'000);
  EXPECT_EQ(parse_instant("1970-01-01T01:00:00+01:00", 0, "t").value(), 0);
  EXPECT_EQ(parse_instant("now", 42, "t").value(), 42);
  EXPECT_FALSE(parse_instant("1970-13-01T00:00:00Z", 0, "t").has_value());
  EXPECT_FALSE(parse_instant("1970-01-01", 0, "t").has_value());
}

TEST(CliSvg, DrawsOneBarPerBucketAndSeriesWithEscapedLabels) {
  backline::cli::report_data r{"calls <by> hour",
                               "hour",
                               {"09:00", "10:00", "11:00"},
                               {{"inbound", {3, 5, 2}}, {"internal", {1, 0, 4}}}};
  const std::string svg = backline::cli::render_svg(r, backline::cli::chart_kind::bars);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("calls &lt;by&gt; hour"), std::string::npos);
  std::size_t rects = 0;
  for (auto at = svg.find("<rect x="); at != std::string::npos; at = svg.find("<rect x=", at + 1))
    ++rects;
  EXPECT_EQ(rects, 6u + 2u);  // 3 buckets x 2 series, plus 2 legend swatches
  EXPECT_NE(backline::cli::render_svg(r, backline::cli::chart_kind::lines).find("<polyline"),
            std::string::npos);
}

}  // namespace
