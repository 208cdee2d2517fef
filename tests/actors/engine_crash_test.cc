// kill -9 of a running engine loses no acknowledged command: every "ack" the child printed is
// in the log after a restart, with durability fsync per batch and WAL without sync.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventlog/log.h"

namespace {

void crash_and_check(const std::string& durability) {
  // The pid keeps concurrent runs of this suite (two checkouts, one machine) apart.
  const std::string dir = ::testing::TempDir() + "/engine-crash-" + std::to_string(getpid()) +
                          "-" + durability;
  std::filesystem::remove_all(dir);
  const std::string command = std::string(CRASH_CHILD) + " " + dir + " " + durability;
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    execl(CRASH_CHILD, CRASH_CHILD, dir.c_str(), durability.c_str(), nullptr);
    _exit(127);
  }
  close(out[1]);
  FILE* acks = fdopen(out[0], "r");
  std::map<std::string, unsigned long long> acked;  // call -> highest acknowledged version
  char call[64];
  unsigned long long version = 0;
  int count = 0;
  while (count < 3000 && std::fscanf(acks, "ack %63s %llu\n", call, &version) == 2) {
    acked[call] = std::max(acked[call], version);
    ++count;
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  fclose(acks);
  ASSERT_EQ(count, 3000) << "the child stopped acknowledging early";

  backline::eventlog::options o;
  o.dir = dir;
  auto log = backline::eventlog::log::open(o);
  ASSERT_TRUE(log) << log.error().message();
  for (const auto& [c, v] : acked) {
    EXPECT_GE((*log)->stream_version("call/" + c), v) << c << " lost acknowledged events";
  }
  log->reset();
  std::filesystem::remove_all(dir);
}

TEST(EngineCrash, KillNineLosesNoAcknowledgedCommandWithFsyncPerBatch) {
  crash_and_check("fsync");
}

TEST(EngineCrash, KillNineLosesNoAcknowledgedCommandWithWalWithoutSync) {
  crash_and_check("wal");
}

}  // namespace
