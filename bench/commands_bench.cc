// Commands per second through router -> call actor -> decide -> log append -> reply, with the
// anchor RocksDB db_bench fillseq (same value size) measured in the same run; p50/p99 latency at
// half that rate; commits per fsync with fsync per batch; resident memory of 100,000 active calls.
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "actors/engine.h"
#include "bench/bench_util.h"
#include "eventlog/log.h"

namespace {

using namespace backline;
using clock_type = std::chrono::steady_clock;

// Lane i drives call i: create, ring, answer, then hold / resume the customer forever. The
// strings are made once per lane, so the driver costs the engine's cores as little as possible.
struct lane_ids {
  std::string call, customer, command_prefix;
};
std::vector<lane_ids> g_lanes;

void prepare_lanes(std::size_t n) {
  for (std::size_t lane = g_lanes.size(); lane < n; ++lane) {
    g_lanes.push_back({fmt::format("bench-call-{:07}", lane), fmt::format("+1415{:07}", lane),
                       fmt::format("{}-", lane)});
  }
}

actors::command_request lane_command(std::size_t lane, std::uint64_t step) {
  const lane_ids& ids = g_lanes[lane];
  actors::command_request r;
  r.command_id.reserve(24);
  r.command_id = ids.command_prefix;
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, step).ptr;
  r.command_id.append(digits, end);
  r.principal = "bench";
  switch (step) {
    case 0:
      r.body = domain::cmd::create_call{ids.call, domain::call_type::inbound,
                                        domain::initiation_method::inbound, {}, ids.customer,
                                        "+18005550199", "General"};
      break;
    case 1: r.body = domain::cmd::ring{ids.call, "alice"}; break;
    case 2: r.body = domain::cmd::answer{ids.call, "alice"}; break;
    default:
      if (step % 2 == 1) {
        r.body = domain::cmd::hold{ids.call, ids.customer};
      } else {
        r.body = domain::cmd::resume{ids.call, ids.customer};
      }
  }
  return r;
}

struct run_result {
  std::uint64_t commands = 0, failures = 0;
  double seconds = 0;
  std::vector<double> latencies_us;
};

// Closed loop: every lane keeps one command in flight, from `first_step` until `last_step`
// (exclusive) or until the deadline. Lanes are spread over many driver actors, because a CAF
// 0.17 actor's bookkeeping of its outstanding requests grows with their number.
constexpr std::size_t lanes_per_driver = 64;

struct shared_result {
  std::mutex mutex;
  run_result total;
  std::size_t drivers_left = 0;
  std::promise<void> done;
  void add(const run_result& r) {
    std::lock_guard lock(mutex);
    total.commands += r.commands;
    total.failures += r.failures;
    total.latencies_us.insert(total.latencies_us.end(), r.latencies_us.begin(),
                              r.latencies_us.end());
    if (--drivers_left == 0) done.set_value();
  }
};

struct loop_state {
  actors::router_actor router;
  std::size_t first_lane = 0;
  std::vector<std::uint64_t> step;
  std::uint64_t last_step = 0;
  clock_type::time_point deadline;
  std::size_t outstanding = 0;
  run_result result;
  shared_result* shared = nullptr;
};

void issue(caf::stateful_actor<loop_state>* self, std::size_t i) {
  auto& st = self->state;
  if (st.step[i] >= st.last_step || clock_type::now() >= st.deadline) {
    if (--st.outstanding == 0) st.shared->add(st.result);
    return;
  }
  self->request(st.router, caf::infinite, actors::command_atom::value,
                lane_command(st.first_lane + i, st.step[i]++))
      .then(
          [self, i](const actors::command_result& r) {
            if (r.status == actors::outcome::accepted) {
              ++self->state.result.commands;
            } else {
              ++self->state.result.failures;
            }
            issue(self, i);
          },
          [self, i](const caf::error&) {
            ++self->state.result.failures;
            issue(self, i);
          });
}

run_result closed_loop(actors::engine& e, std::size_t lanes, std::uint64_t first_step,
                       std::uint64_t last_step, double seconds) {
  shared_result shared;
  shared.drivers_left = (lanes + lanes_per_driver - 1) / lanes_per_driver;
  auto finished = shared.done.get_future();
  const auto start = clock_type::now();
  const auto deadline = start + std::chrono::duration_cast<clock_type::duration>(
                                    std::chrono::duration<double>(seconds));
  for (std::size_t first = 0; first < lanes; first += lanes_per_driver) {
    const std::size_t n = std::min(lanes_per_driver, lanes - first);
    e.system().spawn([&, first, n](caf::stateful_actor<loop_state>* self) {
      auto& st = self->state;
      st.router = e.router();
      st.first_lane = first;
      st.step.assign(n, first_step);
      st.last_step = last_step;
      st.deadline = deadline;
      st.outstanding = n;
      st.shared = &shared;
      for (std::size_t i = 0; i < n; ++i) issue(self, i);
    });
  }
  finished.wait();
  // The last driver sets `done` while it holds the mutex: once the mutex is free again, no
  // driver touches `shared`, which this frame destroys (it aborted in glibc's mutex code, 1 run
  // in 10, when the driver unlocked a mutex already gone).
  const std::lock_guard last_driver_out(shared.mutex);
  run_result r = std::move(shared.total);
  r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  return r;
}

// Open loop at `rate` commands/s: every millisecond, send the commands due, each to a lane that
// has none in flight; record each command's latency.
struct open_state {
  actors::router_actor router;
  std::vector<std::uint64_t> step;
  std::vector<bool> busy;
  std::size_t next_lane = 0;
  double rate = 0, owed = 0;
  clock_type::time_point start, deadline, last_tick;
  std::size_t outstanding = 0;
  bool stopping = false;
  run_result result;
  std::promise<run_result> done;
};

using tick_atom = caf::atom_constant<caf::atom("tick")>;

void send_one(caf::stateful_actor<open_state>* self) {
  auto& st = self->state;
  const std::size_t n = st.busy.size();
  for (std::size_t tries = 0; tries < n; ++tries) {
    const std::size_t lane = st.next_lane++ % n;
    if (st.busy[lane]) continue;
    st.busy[lane] = true;
    ++st.outstanding;
    const auto sent = clock_type::now();
    self->request(st.router, caf::infinite, actors::command_atom::value,
                  lane_command(lane, st.step[lane]++))
        .then(
            [self, lane, sent](const actors::command_result& r) {
              auto& st = self->state;
              st.busy[lane] = false;
              --st.outstanding;
              if (r.status == actors::outcome::accepted) {
                ++st.result.commands;
                st.result.latencies_us.push_back(
                    std::chrono::duration<double, std::micro>(clock_type::now() - sent).count());
              } else {
                ++st.result.failures;
              }
              if (st.stopping && st.outstanding == 0) st.done.set_value(std::move(st.result));
            },
            [self, lane](const caf::error&) {
              auto& st = self->state;
              st.busy[lane] = false;
              --st.outstanding;
              ++st.result.failures;
              if (st.stopping && st.outstanding == 0) st.done.set_value(std::move(st.result));
            });
    return;
  }
}

run_result open_loop(actors::engine& e, std::size_t lanes, std::uint64_t first_step, double rate,
                     double seconds) {
  std::promise<run_result> done;
  auto result = done.get_future();
  e.system().spawn([&, lanes, rate, seconds](caf::stateful_actor<open_state>* self)
                       -> caf::behavior {
    auto& st = self->state;
    st.router = e.router();
    st.step.assign(lanes, first_step);
    st.busy.assign(lanes, false);
    st.rate = rate;
    st.start = st.last_tick = clock_type::now();
    st.deadline = st.start + std::chrono::duration_cast<clock_type::duration>(
                                 std::chrono::duration<double>(seconds));
    st.done = std::move(done);
    self->send(self, tick_atom::value);
    return {[self](tick_atom) {
      auto& st = self->state;
      const auto now = clock_type::now();
      if (now >= st.deadline) {
        st.stopping = true;
        if (st.outstanding == 0) st.done.set_value(std::move(st.result));
        return;
      }
      st.owed += st.rate * std::chrono::duration<double>(now - st.last_tick).count();
      st.last_tick = now;
      for (; st.owed >= 1; st.owed -= 1) send_one(self);
      self->delayed_send(self, std::chrono::milliseconds(1), tick_atom::value);
    }};
  });
  return result.get();
}

std::string g_policy = "stealing";
std::size_t g_threads = 0;

std::unique_ptr<actors::engine> start_engine(const std::string& dir, bool fsync,
                                             const std::string& directory_file) {
  actors::engine_options o;
  o.scheduler_policy = g_policy;
  o.scheduler_threads = g_threads;
  o.data_dir = dir;
  o.fsync_per_batch = fsync;
  o.directory_file = directory_file;
  auto e = actors::engine::start(o);
  if (!e) {
    fmt::print(stderr, "cannot start the engine: {}\n", e.error());
    std::exit(1);
  }
  return std::move(*e);
}

std::size_t average_envelope_bytes(eventlog::log& log) {
  auto records = log.read_from(log.committed_position() > 1000 ? log.committed_position() - 1000
                                                               : 1,
                               1000);
  if (!records || records->empty()) return 300;
  std::size_t total = 0;
  for (const auto& r : *records) total += r.envelope.size();
  return total / records->size();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"commands_bench: command throughput, latency and memory of the call engine"};
  app.footer(R"(Examples:
  commands_bench                       # the issue's figures: 10,000 calls, 100,000 for memory
  commands_bench --calls 2000 --seconds 2 --memory-calls 10000   # a quick run)");
  std::size_t calls = 10'000, memory_calls = 100'000, anchor_num = 1'000'000;
  double seconds = 5;
  std::string directory_file = "deploy/demo-callcenter.toml";
  app.add_option("--calls", calls, "concurrent calls")->capture_default_str();
  app.add_option("--seconds", seconds, "length of each timed phase")->capture_default_str();
  app.add_option("--memory-calls", memory_calls, "active calls for the memory figure")
      ->capture_default_str();
  app.add_option("--anchor-num", anchor_num, "db_bench fillseq operations")->capture_default_str();
  app.add_option("--directory", directory_file, "call center TOML")->capture_default_str();
  app.add_option("--policy", g_policy, "CAF scheduler policy: sharing or stealing")
      ->capture_default_str();
  app.add_option("--threads", g_threads, "CAF scheduler threads (0: the engine default)");
  CLI11_PARSE(app, argc, argv);
  const std::string scratch = bench::scratch_dir("backline-bench");
  prepare_lanes(std::max(calls, memory_calls));

  // 0. Resident memory (first, so the baseline is the bare process) for `memory_calls` active (connected) calls.
  {
    const std::size_t before = bench::resident_bytes();
    auto e = start_engine(scratch + "/memory", false, directory_file);
    auto setup = closed_loop(*e, memory_calls, 0, 3, 600);
    const std::size_t after = bench::resident_bytes();
    fmt::print("memory: {} active calls ({} failures), resident {:.1f} MiB (engine {:.1f} MiB, "
               "{:.0f} bytes per call)\n",
               memory_calls, setup.failures, after / 1048576.0, (after - before) / 1048576.0,
               static_cast<double>(after - before) / static_cast<double>(memory_calls));
    bench::print_figure("resident_bytes_100k_calls", static_cast<double>(after), "bytes",
                        "limit_1GiB", 1024.0 * 1024 * 1024);
  }
  // 1. Throughput, WAL without sync, closed loop over `calls` concurrent calls.
  double rate = 0;
  std::size_t value_bytes = 0;
  {
    auto e = start_engine(scratch + "/wal", false, directory_file);
    auto setup = closed_loop(*e, calls, 0, 3, 600);
    fmt::print("setup: {} calls created, rung and answered in {:.2f} s ({} failures)\n", calls,
               setup.seconds, setup.failures);
    auto run = closed_loop(*e, calls, 3, UINT64_MAX, seconds);
    rate = static_cast<double>(run.commands) / run.seconds;
    value_bytes = average_envelope_bytes(e->log());
    const auto stats = e->log().counters();
    fmt::print("throughput: {} commands in {:.2f} s = {:.0f}/s ({} failures); {:.1f} events per "
               "batch; envelope {} bytes\n",
               run.commands, run.seconds, rate, run.failures,
               static_cast<double>(stats.events) / static_cast<double>(std::max<std::uint64_t>(1, stats.batches)),
               value_bytes);
    // 2. Latency at half that rate, open loop.
    auto half = open_loop(*e, calls, UINT64_MAX / 2, rate / 2, seconds);
    const double p50 = bench::percentile(half.latencies_us, 0.50);
    const double p99 = bench::percentile(half.latencies_us, 0.99);
    fmt::print("latency at {:.0f}/s: p50 {:.0f} us, p99 {:.0f} us ({} commands, {} failures)\n",
               rate / 2, p50, p99, half.commands, half.failures);
    bench::print_figure("command_latency_p50_at_half_rate", p50, "us", "commands_per_s", rate);
    bench::print_figure("command_latency_p99_at_half_rate", p99, "us", "commands_per_s", rate);
  }
  const double anchor = bench::fillseq_ops_per_s(value_bytes, anchor_num, scratch);
  fmt::print("anchor: db_bench fillseq, {} x {} bytes, WAL without sync: {:.0f} ops/s\n",
             anchor_num, value_bytes, anchor);
  bench::print_figure("commands_per_s", rate, "1/s", "db_bench_fillseq", anchor);

  // 3. fsync per batch: group commit.
  {
    auto e = start_engine(scratch + "/fsync", true, directory_file);
    closed_loop(*e, calls, 0, 3, 600);
    const auto before = e->log().counters();
    auto run = closed_loop(*e, calls, 3, UINT64_MAX, seconds);
    const auto after = e->log().counters();
    const double per_sync = static_cast<double>(after.requests - before.requests) /
                            static_cast<double>(std::max<std::uint64_t>(1, after.syncs - before.syncs));
    const double fsync_rate = static_cast<double>(run.commands) / run.seconds;
    fmt::print("fsync per batch: {:.0f} commands/s, {:.1f} commits per fsync\n", fsync_rate,
               per_sync);
    bench::print_figure("commits_per_fsync", per_sync, "1", "commands_per_s_fsync", fsync_rate);
  }

  std::filesystem::remove_all(scratch);
  return 0;
}
