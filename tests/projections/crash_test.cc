// kill -9 in the middle of a catch-up: a child process projects with small batches and reports
// each flushed checkpoint through a pipe; the parent kills it after a few, reopens the store,
// catches up and must find exactly what a full build from position 0 gives (nothing counted
// twice, nothing lost). The same for a bulk build (rebuild's store: no WAL, atomic flushes),
// where the child reports only the checkpoints that a memtable flush made durable.
//
// The child is this same binary re-executed to run only the disabled test below: a fork of a
// process that already runs RocksDB threads must not use RocksDB.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "tests/projections/world.h"

namespace backline::projections::testing {
namespace {

constexpr const char* env_log = "BACKLINE_PROJ_CRASH_LOG";
constexpr const char* env_store = "BACKLINE_PROJ_CRASH_STORE";
constexpr const char* env_fd = "BACKLINE_PROJ_CRASH_FD";
constexpr const char* env_bulk = "BACKLINE_PROJ_CRASH_BULK";

// Not a test: the child's body (disabled so that it never runs on its own).
TEST(ProjectorCrash, DISABLED_ChildProjectsUntilKilled) {
  const char* log_dir = std::getenv(env_log);
  const char* store_dir = std::getenv(env_store);
  const char* fd = std::getenv(env_fd);
  if (!log_dir || !store_dir || !fd) GTEST_SKIP() << "run by ProjectorCrash tests only";
  const int out = std::atoi(fd);
  eventlog::options o;
  o.dir = log_dir;
  o.read_only = true;
  auto log = eventlog::log::open(o);
  if (!log) ::_exit(2);
  const bool bulk = std::getenv(env_bulk) != nullptr;
  auto st = store::open({store_dir, open_mode::read_write, bulk});
  if (!st) ::_exit(3);
  store& s = **st;
  int writes = 0;
  auto on_flush = [&](std::uint64_t cp) {
    if (bulk) {
      // What RocksDB does when a memtable fills, every other write here; only then is the
      // checkpoint durable. The writes in between are lost by the kill.
      if (++writes % 2 != 0) return;
      if (s.flush()) ::_exit(6);
    }
    if (::write(out, &cp, sizeof cp) != sizeof cp) ::_exit(4);
    ::usleep(2000);  // leave the parent time to kill mid-way
  };
  projector p(**log, s, {.batch_events = 16, .on_flush = on_flush});
  if (!p.catch_up()) ::_exit(5);
  ::pause();  // finished before the kill: wait for it
}

pid_t spawn(const std::string& log_dir, const std::string& store_dir, int fd, bool bulk) {
  const pid_t child = ::fork();
  if (child != 0) return child;
  if (bulk) ::setenv(env_bulk, "1", 1);
  ::setenv(env_log, log_dir.c_str(), 1);
  ::setenv(env_store, store_dir.c_str(), 1);
  ::setenv(env_fd, std::to_string(fd).c_str(), 1);
  const char* args[] = {"projections_test",
                        "--gtest_filter=ProjectorCrash.DISABLED_ChildProjectsUntilKilled",
                        "--gtest_also_run_disabled_tests", nullptr};
  ::execv("/proc/self/exe", const_cast<char* const*>(args));
  ::_exit(127);
}

void kill_nine_mid_catch_up_then_resume(bool bulk) {
  world w;
  w.scripted_day();
  w.bulk(60);
  const std::uint64_t end = w.log().committed_position();
  w.close_log();  // the child opens it; RocksDB state must not be shared across fork
  const std::string store_dir = w.dir() + "/live";
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = spawn(w.log_dir(), store_dir, fds[1], bulk);
  ASSERT_GT(child, 0);
  ::close(fds[1]);
  std::uint64_t cp = 0;
  int flushes = 0;
  while (flushes < 5 && ::read(fds[0], &cp, sizeof cp) == sizeof cp) ++flushes;
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited with " << status;
  ::close(fds[0]);
  ASSERT_EQ(flushes, 5);

  eventlog::options o;
  o.dir = w.log_dir();
  auto log = eventlog::log::open(o);
  ASSERT_TRUE(log);
  auto st = open_store(store_dir);
  ASSERT_TRUE(st);
  EXPECT_GE(st->checkpoint(), cp);   // what was reported flushed is there
  EXPECT_LT(st->checkpoint(), end);  // and the kill did land mid catch-up
  projector p(**log, *st);
  auto done = p.catch_up();
  ASSERT_TRUE(done);
  EXPECT_EQ(*done, end);
  ASSERT_TRUE(rebuild(**log, w.dir() + "/full"));
  auto full = open_store(w.dir() + "/full");
  EXPECT_EQ(digests(*st), digests(*full));
}

TEST(ProjectorCrash, KillNineMidCatchUpResumesWithoutDoubleCounting) {
  kill_nine_mid_catch_up_then_resume(/*bulk=*/false);
}

// Without the WAL, what survives is the last atomic flush of every column family: the models and
// the checkpoint still agree there, so the catch-up that follows equals a full build.
TEST(ProjectorCrash, KillNineMidBulkBuildKeepsModelsAndCheckpointTogether) {
  kill_nine_mid_catch_up_then_resume(/*bulk=*/true);
}

}  // namespace
}  // namespace backline::projections::testing
