// The engine binary as a user runs it: the demo prints committed events as JSON, SIGTERM stops
// it cleanly, and a restart recovers what the log holds.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include "tests/tools/subprocess.h"

namespace {

using backline::testing::run_result;

std::string test_path(const std::string& what) {
  return backline::testing::test_path("backlined", what);
}

// Runs backlined with `args`; when `stop_after_ms` > 0, sends SIGTERM after that long.
run_result run_backlined(const std::string& args, int stop_after_ms = 0) {
  // An ephemeral API port: tests run in parallel, and 8080 may be taken.
  return backline::testing::run(BACKLINED, args + " --listen 127.0.0.1:0", test_path("run"),
                                stop_after_ms, SIGTERM);
}

class Backlined : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = test_path("data");
    std::filesystem::remove_all(data_);
  }
  void TearDown() override { std::filesystem::remove_all(data_); }
  std::string data_;
};

TEST_F(Backlined, DemoPrintsEveryCommittedEventAsJson) {
  auto r = run_backlined("--data " + data_ + " --demo --once");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> types;
  std::size_t start = 0;
  while (start < r.out.size()) {
    const auto end = r.out.find('\n', start);
    auto line = nlohmann::json::parse(r.out.substr(start, end - start));
    types.push_back(line.at("type").get<std::string>());
    start = end + 1;
  }
  ASSERT_GE(types.size(), 15u);
  EXPECT_EQ(types.front(), "call_created");
  EXPECT_NE(std::find(types.begin(), types.end(), "warm_transfer_completed"), types.end());
  EXPECT_NE(std::find(types.begin(), types.end(), "supervisor_mode_changed"), types.end());
  EXPECT_EQ(types.back(), "wrap_up_recorded");
  EXPECT_NE(r.err.find("supervisor_not_granted"), std::string::npos);
}

TEST_F(Backlined, StopsCleanlyOnSigtermAndRecoversTheLogOnRestart) {
  ASSERT_EQ(run_backlined("--data " + data_ + " --demo --once").exit_code, 0);
  auto r = run_backlined("--data " + data_, 1500);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stopped cleanly"), std::string::npos) << r.err;
  // 1 directory event + the demo's events were recovered, and the directory was not re-recorded.
  EXPECT_NE(r.err.find("recovered the log: 19 events committed"), std::string::npos) << r.err;
}

TEST_F(Backlined, AnswersHelpWithExamples) {
  auto r = run_backlined("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos);
}

TEST_F(Backlined, ABadDirectoryFileIsReportedWithWhatToFix) {
  auto r = run_backlined("--data " + data_ + " --directory does-not-exist.toml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does-not-exist.toml"), std::string::npos) << r.err;
}

}  // namespace
