// kill -9 under load: a forked child appends continuously and reports every acknowledged
// position through a pipe; the parent kills it mid-stream, reopens the log and finds every
// acknowledged event at its position, with its stream and version.
//
// The child is this same binary, re-executed to run only the disabled test below: forking a
// process that already has RocksDB's background threads and then using RocksDB in the child is
// not safe.
//
// With wal_no_sync a process kill loses nothing either: the WAL is already in the OS page cache.
// Only a machine crash could lose the unsynced tail, which this test cannot simulate.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tests/eventlog/test_util.h"

namespace backline::eventlog {
namespace {

using testing::event;
using testing::outcome;
using testing::request;
using testing::temp_dir;

struct ack {
  std::uint64_t position, version;
  std::uint32_t stream, events;
};
constexpr std::uint32_t streams = 16;
constexpr std::size_t acks_wanted = 3000;

std::string stream_id(std::uint32_t s) {
  return "crash-" + std::to_string(s);
}

// The child: appends forever (until killed), two events per request on a rotating stream.
[[noreturn]] void run_child(const std::string& dir, durability mode, int ack_fd) {
  options o;
  o.dir = dir;
  o.durability_mode = mode;
  o.queue_requests_max = 1024;
  auto l = log::open(o);
  if (!l) ::_exit(2);
  std::uint64_t versions[streams] = {};
  for (std::uint64_t i = 0;; ++i) {
    const auto s = static_cast<std::uint32_t>(i % streams);
    const auto v = versions[s];
    auto r = request({event(stream_id(s), v + 1), event(stream_id(s), v + 2)});
    r.done = [ack_fd, s, v](outcome o) {
      if (!o) ::_exit(3);
      const ack a{*o, v + 1, s, 2};
      if (::write(ack_fd, &a, sizeof a) != sizeof a) ::_exit(4);  // < PIPE_BUF: atomic
    };
    auto ec = (*l)->append(std::move(r));
    if (ec == errc::overloaded) {
      --i;  // the same stream and versions again
      ::usleep(100);
      continue;
    }
    if (ec) ::_exit(5);
    versions[s] = v + 2;
  }
}

bool read_ack(int fd, ack& a) {
  auto* p = reinterpret_cast<char*>(&a);
  std::size_t got = 0;
  while (got < sizeof a) {
    auto n = ::read(fd, p + got, sizeof a - got);
    if (n == 0) return false;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

// Environment of the child: where to append, how, and the pipe for acknowledgements.
constexpr const char* env_dir = "BACKLINE_EVENTLOG_CRASH_DIR";
constexpr const char* env_mode = "BACKLINE_EVENTLOG_CRASH_FSYNC";
constexpr const char* env_fd = "BACKLINE_EVENTLOG_CRASH_ACK_FD";

pid_t spawn_child(const std::string& dir, durability mode, int ack_fd) {
  const pid_t child = ::fork();
  if (child != 0) return child;
  ::setenv(env_dir, dir.c_str(), 1);
  ::setenv(env_mode, mode == durability::fsync_per_batch ? "1" : "0", 1);
  ::setenv(env_fd, std::to_string(ack_fd).c_str(), 1);
  const char* args[] = {"eventlog_test",
                        "--gtest_filter=EventLogCrash.DISABLED_ChildAppendsUntilKilled",
                        "--gtest_also_run_disabled_tests", nullptr};
  ::execv("/proc/self/exe", const_cast<char* const*>(args));
  ::_exit(127);
}

// Not a test: the body of the child process above (disabled so that it never runs alone).
TEST(EventLogCrash, DISABLED_ChildAppendsUntilKilled) {
  const char* dir = std::getenv(env_dir);
  const char* mode = std::getenv(env_mode);
  const char* fd = std::getenv(env_fd);
  if (!dir || !mode || !fd) GTEST_SKIP() << "run by the EventLogCrash tests only";
  run_child(dir,
            std::string_view(mode) == "1" ? durability::fsync_per_batch : durability::wal_no_sync,
            std::atoi(fd));
}

void kill_under_load_loses_no_acknowledged_event(durability mode) {
  temp_dir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = spawn_child(dir.path(), mode, fds[1]);
  ASSERT_GE(child, 0);
  ::close(fds[1]);
  std::vector<ack> acks;
  ack a;
  while (acks.size() < acks_wanted && read_ack(fds[0], a)) acks.push_back(a);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited early with status " << status;
  while (read_ack(fds[0], a)) acks.push_back(a);  // acknowledged before the kill: they count
  ::close(fds[0]);
  ASSERT_GE(acks.size(), acks_wanted);

  auto l = testing::open_log(dir.path());
  ASSERT_TRUE(l);
  for (const auto& k : acks) {
    auto got = l->read_from(k.position, k.events);
    ASSERT_TRUE(got.has_value()) << got.error().message();
    ASSERT_EQ(got->size(), k.events) << "acknowledged position " << k.position << " is missing";
    for (std::uint32_t i = 0; i < k.events; ++i) {
      EXPECT_EQ((*got)[i].stream, "call/" + stream_id(k.stream));
      EXPECT_EQ((*got)[i].stream_version, k.version + i);
    }
  }
  EXPECT_GE(l->committed_position(), acks.back().position + acks.back().events - 1);
}

TEST(EventLogCrash, KillDuringFsyncPerBatchAppendsLosesNoAcknowledgedEvent) {
  kill_under_load_loses_no_acknowledged_event(durability::fsync_per_batch);
}

TEST(EventLogCrash, KillDuringWalNoSyncAppendsLosesNoAcknowledgedEvent) {
  kill_under_load_loses_no_acknowledged_event(durability::wal_no_sync);
}

}  // namespace
}  // namespace backline::eventlog
