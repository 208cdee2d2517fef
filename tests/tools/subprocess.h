#pragma once
// Running the built binaries as a user does, for the tools tests: stdout and stderr go to files
// (so stdout is not a terminal), and a signal can stop a long-running command.

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace backline::testing {

struct run_result {
  int exit_code = -1;
  std::string out, err;
};

// ctest runs tests in parallel processes: every path carries the pid and the test's name.
inline std::string test_path(const std::string& prefix, const std::string& what) {
  return ::testing::TempDir() + "/" + prefix + "-" + std::to_string(getpid()) + "-" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() + "." + what;
}

inline std::string slurp(const std::string& path) {
  std::string s;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
  }
  return s;
}

// Runs `binary args` from the source tree, stdin from /dev/null; when `signal_after_ms` > 0,
// sends `signal` after that long. `scratch` names the files that catch the output.
inline run_result run(const std::string& binary, const std::string& args,
                      const std::string& scratch, int signal_after_ms = 0, int signal = SIGINT) {
  const std::string out = scratch + ".out", err = scratch + ".err";
  const std::string command = std::string("cd ") + BACKLINE_SOURCE_DIR + " && exec " + binary +
                              " " + args + " >" + out + " 2>" + err + " </dev/null";
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), nullptr);
    _exit(127);
  }
  if (signal_after_ms > 0) {
    usleep(signal_after_ms * 1000);
    kill(pid, signal);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  run_result r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

}  // namespace backline::testing
