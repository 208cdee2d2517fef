// Routed internal calls through the routing actor, the agent and call actors and the log: with
// 10,000 agents and 500 queues, the agents form 5,000 caller/callee pairs (agent 2p calls agent
// 2p+1). A routed call is what the issue names: route (internal_call; the reply says ringing once
// the offer is durable) -> accept (the call is answered). The run goes in rounds: every pair gets
// one routed call (timed), then every call is ended and wrapped up (not timed: that is call
// teardown, not routing) so the agents are available for the next round. Anchor in the same run:
// the plain command rate through the router (hold / resume on a few calls, as in commands_bench).
// Closed loop: 2,048 calls in flight. Open loop (the latency figure): one pacer starts the calls
// at a fixed rate, half the closed-loop rate unless --open-rate says otherwise. Each phase also
// prints the CPU a routed call costs per thread, which swings less than the rates when other
// work shares the machine.

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS ((void)0)
#define CALLGRIND_DUMP_STATS_AT(what) ((void)0)
#endif

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "actors/engine.h"
#include "bench/bench_util.h"

namespace {

using namespace backline;
using clock_type = std::chrono::steady_clock;
using domain::route_outcome;

std::string agent_id(std::size_t i) {
  return fmt::format("a{:05}", i);
}

// The directory, written as TOML (the engine loads a file): every agent has one skill, every
// queue requires one of ten skills.
std::string write_directory(const std::string& dir, std::size_t agents, std::size_t queues) {
  const std::string path = dir + "/bench-callcenter.toml";
  std::ofstream out(path);
  out << "[call_center]\nname = \"bench\"\n\n";
  for (std::size_t i = 0; i < agents; ++i) {
    out << fmt::format(
        "[[agents]]\nid = \"{}\"\nname = \"Agent {}\"\nextension = \"{}\"\n"
        "skills = {{ s{} = 5 }}\n\n",
        agent_id(i), i, 100'000 + i, i % 10);
  }
  for (std::size_t q = 0; q < queues; ++q) {
    out << fmt::format(
        "[[queues]]\nname = \"Q{:03}\"\nextension = \"{}\"\n"
        "required_skills = {{ s{} = 3 }}\n\n",
        q, 900'000 + q, q % 10);
  }
  return path;
}

// Profilers see only the timed closed-loop rounds, not the teardown between them: with
// ROUTING_BENCH_PERF_CTL=<fifo>, `perf record -D -1 --control fifo:<fifo>`; under
// valgrind --tool=callgrind, one dump per round (instruction counts do not swing with the
// machine's load as times do).
void perf_control(const char* command) {
  if (std::string_view(command) == "enable") {
    CALLGRIND_ZERO_STATS;
  } else {
    CALLGRIND_DUMP_STATS_AT("closed-loop round");
  }
  static const char* fifo = std::getenv("ROUTING_BENCH_PERF_CTL");
  if (fifo == nullptr) return;
  std::ofstream out(fifo);
  out << command << "\n";
}

struct totals {
  std::mutex mutex;
  std::uint64_t routed = 0, failures = 0, skipped = 0;
  std::vector<double> offer_us;
  std::vector<std::string> calls;
  std::string first_failure;
  std::size_t drivers_left = 0;
  std::promise<void> done;
};

enum class phase : std::uint8_t { idle, route, accept };

// A lane places the calls of its pairs one after another.
struct lane {
  phase at = phase::idle;
  std::vector<std::size_t> pairs;  // pair p: agent 2p calls agent 2p+1
  std::size_t next = 0;            // the next pair to call
  std::string call, offer;
  clock_type::time_point sent;
};

// One driver actor owns a few lanes (a CAF 0.17 actor's bookkeeping grows with its outstanding
// requests). Closed loop (rate 0): a lane calls its next pair as soon as the last one was
// answered. Open loop: the pacer below tells a driver to start one call, which it does on a free
// lane.
struct driver_state {
  actors::routing_actor routing;
  std::vector<lane> lanes;
  std::string tag;
  bool open_loop = false;
  std::size_t next_lane = 0;  // open loop: where the search for a free lane starts
  std::size_t outstanding = 0, lanes_left = 0;
  bool reported = false;
  std::uint64_t routed = 0, failures = 0, skipped = 0;
  std::vector<double> offer_us;
  std::vector<std::string> calls;  // answered, for the teardown
  std::string first_failure;
  totals* out = nullptr;
};
using driver = caf::stateful_actor<driver_state>;
using tick_atom = caf::atom_constant<caf::atom("btick")>;
using start_atom = caf::atom_constant<caf::atom("bstart")>;

void report(driver* self) {
  auto& st = self->state;
  if (st.reported) return;
  st.reported = true;
  std::lock_guard lock(st.out->mutex);
  st.out->routed += st.routed;
  st.out->failures += st.failures;
  st.out->skipped += st.skipped;
  st.out->offer_us.insert(st.out->offer_us.end(), st.offer_us.begin(), st.offer_us.end());
  st.out->calls.insert(st.out->calls.end(), st.calls.begin(), st.calls.end());
  if (st.out->first_failure.empty()) st.out->first_failure = st.first_failure;
  if (--st.out->drivers_left == 0) st.out->done.set_value();
  self->quit();
}

void start_call(driver* self, std::size_t i);

// The lane's call ended one way or the other: the next pair, or the lane is done.
void lane_next(driver* self, std::size_t i) {
  auto& st = self->state;
  lane& l = st.lanes[i];
  l.at = phase::idle;
  --st.outstanding;
  if (l.next >= l.pairs.size()) {
    if (--st.lanes_left == 0) report(self);
    return;
  }
  if (!st.open_loop) start_call(self, i);
}

// A failed call: counted, and the lane goes on (its pair may be in any state; later rounds
// call it again and may fail again, which the figures show).
void fail(driver* self, std::size_t i, std::string why) {
  auto& st = self->state;
  ++st.failures;
  if (st.first_failure.empty()) st.first_failure = std::move(why);
  lane_next(self, i);
}

void accept(driver* self, std::size_t i) {
  auto& st = self->state;
  lane& l = st.lanes[i];
  const std::size_t pair = l.pairs[l.next - 1];
  l.at = phase::accept;
  self->request(st.routing, caf::infinite, actors::accept_atom::value, agent_id(2 * pair + 1),
                l.offer)
      .then(
          [self, i](const actors::command_result& r) {
            if (r.status != actors::outcome::accepted) return fail(self, i, r.detail);
            auto& st = self->state;
            ++st.routed;
            st.calls.push_back(st.lanes[i].call);
            lane_next(self, i);
          },
          [self, i](const caf::error& e) { fail(self, i, self->system().render(e)); });
}

void start_call(driver* self, std::size_t i) {
  auto& st = self->state;
  lane& l = st.lanes[i];
  const std::size_t pair = l.pairs[l.next++];
  ++st.outstanding;
  l.call = fmt::format("{}-{}-{}", st.tag, pair, l.next);
  l.at = phase::route;
  l.sent = clock_type::now();
  domain::routing_request req =
      domain::route_req::internal_call{l.call, agent_id(2 * pair), agent_id(2 * pair + 1)};
  self->request(st.routing, caf::infinite, actors::route_atom::value, std::move(req))
      .then(
          [self, i](const actors::route_result& r) {
            auto& st = self->state;
            lane& l = st.lanes[i];
            if (r.outcome != route_outcome::ringing || !r.detail.empty()) {
              return fail(self, i, fmt::format("{}: {}", domain::to_string(r.outcome), r.detail));
            }
            st.offer_us.push_back(
                std::chrono::duration<double, std::micro>(clock_type::now() - l.sent).count());
            l.offer = r.offer_id;
            accept(self, i);
          },
          [self, i](const caf::error& e) { fail(self, i, self->system().render(e)); });
}

struct run_figures {
  double routed_per_s = 0, seconds = 0;
  std::uint64_t routed = 0, failures = 0, rounds = 0, skipped = 0;
  std::vector<double> offer_us;
  std::string first_failure;
  std::map<std::string, double> cpu_s;  // timed rounds only, by thread name
};

constexpr std::size_t lanes_per_driver = 64;

// Open loop: one pacer for all drivers (a timer per driver cost CAF's timer thread more than
// the routing it paced). Every millisecond it tells drivers, in turn, to start the calls owed
// at `rate`; it runs until the round is over and it is told to stop.
struct pacer_state {
  std::vector<caf::actor> drivers;
  std::size_t next = 0;
  double rate = 0, owed = 0;
  clock_type::time_point last_tick;
};

caf::behavior pacer(caf::stateful_actor<pacer_state>* self, std::vector<caf::actor> drivers,
                    double rate) {
  self->state.drivers = std::move(drivers);
  self->state.rate = rate;
  self->state.last_tick = clock_type::now();
  self->send(self, tick_atom::value);
  return {[self](tick_atom) {
    auto& st = self->state;
    const auto now = clock_type::now();
    st.owed += st.rate * std::chrono::duration<double>(now - st.last_tick).count();
    st.last_tick = now;
    for (; st.owed >= 1; st.owed -= 1) {
      self->send(st.drivers[st.next++ % st.drivers.size()], start_atom::value);
    }
    self->delayed_send(self, std::chrono::milliseconds(1), tick_atom::value);
  }};
}

// One round: every pair gets one call; returns when all were answered (or failed). The answered
// calls are left in `t.calls` for the teardown.
void drive_round(actors::engine& e, std::size_t lanes, std::size_t pairs, double rate,
                 const std::string& tag, totals& t) {
  const std::size_t driver_count = (lanes + lanes_per_driver - 1) / lanes_per_driver;
  t.drivers_left = driver_count;
  auto finished = t.done.get_future();
  std::vector<caf::actor> drivers;
  for (std::size_t first = 0, d = 0; first < lanes; first += lanes_per_driver, ++d) {
    const std::size_t n = std::min(lanes_per_driver, lanes - first);
    drivers.push_back(e.system().spawn([&, d, n](driver* self) -> caf::behavior {
      auto& st = self->state;
      st.routing = e.routing();
      st.lanes.resize(n);
      // Driver d calls pairs d, d + driver_count, ..., dealt to its lanes in turn: every driver
      // has as many pairs as the others (give or take one), so the pacer's turns, one driver
      // after another, start every call at the rate asked. Dealt by lane instead, some drivers
      // had a third fewer pairs, stopped early, and the turns sent to them were lost: the open
      // loop ran at about 80% of its rate.
      for (std::size_t p = d, k = 0; p < pairs; p += driver_count, ++k) {
        st.lanes[k % n].pairs.push_back(p);
      }
      st.tag = tag;
      st.open_loop = rate > 0;
      st.out = &t;
      st.lanes_left = n;
      for (std::size_t i = 0; i < n; ++i) {
        if (st.lanes[i].pairs.empty()) --st.lanes_left;
      }
      if (st.lanes_left == 0) report(self);
      if (!st.open_loop) {
        for (std::size_t i = 0; i < n; ++i) {
          if (!st.lanes[i].pairs.empty()) start_call(self, i);
        }
      }
      return {[self](start_atom) {
        auto& st = self->state;
        for (std::size_t k = 0; k < st.lanes.size(); ++k) {
          const std::size_t i = (st.next_lane + k) % st.lanes.size();
          lane& l = st.lanes[i];
          if (l.at != phase::idle || l.next >= l.pairs.size()) continue;
          st.next_lane = i + 1;
          return start_call(self, i);
        }
        ++st.skipped;  // every lane busy: the call owed is not made
      }};
    }));
  }
  caf::actor paced;
  if (rate > 0) paced = e.system().spawn(pacer, drivers, rate);
  finished.wait();
  // The last driver sets `done` while it holds the mutex: once the mutex is free again, no
  // driver touches `t`, which the caller destroys after the round.
  { const std::lock_guard last_driver_out(t.mutex); }
  if (paced) caf::anon_send_exit(paced, caf::exit_reason::user_shutdown);
}

// Sends `requests` (made by `make(k)`) in batches of `batch` from a blocking actor and waits
// for each batch; returns the number accepted.
template <class Handle, class Make>
std::size_t batched(actors::engine& e, const Handle& to, std::size_t requests, std::size_t batch,
                    Make make) {
  caf::scoped_actor self{e.system()};
  std::size_t accepted = 0;
  for (std::size_t first = 0; first < requests; first += batch) {
    const std::size_t n = std::min(batch, requests - first);
    std::vector<decltype(self->request(to, caf::infinite, actors::command_atom::value,
                                       make(std::size_t{0})))>
        pending;
    pending.reserve(n);
    for (std::size_t k = first; k < first + n; ++k) {
      pending.push_back(self->request(to, caf::infinite, actors::command_atom::value, make(k)));
    }
    for (auto& h : pending) {
      h.receive(
          [&](const actors::command_result& r) {
            accepted += r.status == actors::outcome::accepted;
          },
          [](const caf::error&) {});
    }
  }
  return accepted;
}

// Ends every answered call of a round and wraps the callees up, so every agent is available
// again (through the routing actor, which releases the callee's work when the call ends).
void teardown(actors::engine& e, const std::vector<std::string>& calls) {
  batched(e, e.routing(), calls.size(), 1024, [&](std::size_t k) {
    actors::command_request r;
    r.principal = "bench";
    r.body = domain::cmd::end_call{calls[k], "hangup"};
    return r;
  });
  batched(e, e.routing(), calls.size(), 1024, [&](std::size_t k) {
    // The call id is "<tag>-<pair>-<n>": the callee is agent 2 * pair + 1.
    const std::size_t dash = calls[k].find('-');
    const std::size_t pair = std::stoul(calls[k].substr(dash + 1));
    actors::agent_request r;
    r.principal = r.target = agent_id(2 * pair + 1);
    r.body = domain::agent_cmd::finish_wrap_up{};
    return r;
  });
}

// Rounds until `seconds` of routing were timed; the teardown between rounds is not timed.
run_figures drive(actors::engine& e, std::size_t lanes, std::size_t pairs, double rate,
                  double seconds, const std::string& tag) {
  run_figures f;
  while (f.seconds < seconds) {
    totals t;
    const auto cpu_before = bench::cpu_by_thread();
    const auto start = clock_type::now();
    if (rate == 0) perf_control("enable");
    drive_round(e, lanes, pairs, rate, fmt::format("{}{}", tag, f.rounds), t);
    if (rate == 0) perf_control("disable");
    f.seconds += std::chrono::duration<double>(clock_type::now() - start).count();
    bench::add_cpu(f.cpu_s, cpu_before, bench::cpu_by_thread());
    ++f.rounds;
    f.routed += t.routed;
    f.failures += t.failures;
    f.skipped += t.skipped;
    f.offer_us.insert(f.offer_us.end(), t.offer_us.begin(), t.offer_us.end());
    if (f.first_failure.empty()) f.first_failure = t.first_failure;
    teardown(e, t.calls);
    if (t.routed == 0) break;  // nothing works: stop rather than spin
  }
  f.routed_per_s = static_cast<double>(f.routed) / f.seconds;
  return f;
}

// The anchor: hold / resume on `calls` connected calls through the router, `rounds` times.
double command_rate(actors::engine& e, std::size_t calls, std::size_t rounds) {
  auto call = [](std::size_t c) { return fmt::format("anchor-{}", c); };
  auto customer = [](std::size_t c) { return fmt::format("+1415{:07}", c); };
  auto request = [](domain::command_body body) {
    actors::command_request r;
    r.principal = "bench";
    r.body = std::move(body);
    return r;
  };
  batched(e, e.router(), calls, calls, [&](std::size_t c) {
    return request(domain::cmd::create_call{call(c),
                                            domain::call_type::inbound,
                                            domain::initiation_method::inbound,
                                            {},
                                            customer(c),
                                            "+18005550199",
                                            "Q000"});
  });
  batched(e, e.router(), calls, calls, [&](std::size_t c) {
    return request(domain::cmd::ring{call(c), agent_id(c)});
  });
  batched(e, e.router(), calls, calls, [&](std::size_t c) {
    return request(domain::cmd::answer{call(c), agent_id(c)});
  });
  const auto cpu_before = bench::cpu_by_thread();
  const auto start = clock_type::now();
  std::size_t accepted = 0;
  for (std::size_t round = 0; round < rounds; ++round) {
    accepted += batched(e, e.router(), calls, calls, [&](std::size_t c) {
      return round % 2 == 0 ? request(domain::cmd::hold{call(c), customer(c)})
                            : request(domain::cmd::resume{call(c), customer(c)});
    });
  }
  const double rate = static_cast<double>(accepted) /
                      std::chrono::duration<double>(clock_type::now() - start).count();
  std::map<std::string, double> cpu;
  bench::add_cpu(cpu, cpu_before, bench::cpu_by_thread());
  std::string line;
  for (const auto& [name, s] : cpu) {
    if (s > 0) {
      line += fmt::format(" {} {:.1f} us", name,
                          1e6 * s / static_cast<double>(std::max<std::size_t>(1, accepted)));
    }
  }
  fmt::print("  anchor CPU per command, by thread:{}\n", line);
  return rate;
}

void print_run(const char* what, run_figures& f) {
  const double p50 = f.offer_us.empty() ? 0 : bench::percentile(f.offer_us, 0.50);
  const double p99 = f.offer_us.empty() ? 0 : bench::percentile(f.offer_us, 0.99);
  fmt::print(
      "{}: {} routed calls in {} rounds, {:.2f} s timed = {:.0f}/s; request->offer p50 {:.0f} "
      "us, p99 {:.0f} us; {} failures{}{}; {} calls not made (no free lane)\n",
      what, f.routed, f.rounds, f.seconds, f.routed_per_s, p50, p99, f.failures,
      f.first_failure.empty() ? "" : ", first: ", f.first_failure, f.skipped);
  std::string cpu;
  for (const auto& [name, s] : f.cpu_s) {
    if (s <= 0) continue;
    cpu += fmt::format(" {} {:.1f} us", name,
                       1e6 * s / static_cast<double>(std::max<std::uint64_t>(1, f.routed)));
  }
  fmt::print("  CPU per routed call, by thread:{}\n", cpu);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"routing_bench: routed internal calls through the routing actor and the log"};
  app.footer(R"(Examples:
  routing_bench                            # the issue's figures: 10,000 agents, 500 queues
  routing_bench --lanes 256 --seconds 2    # a quick run)");
  std::size_t agents = 10'000, queues = 500, lanes = 2'048, anchor_calls = 512;
  double seconds = 5;
  app.add_option("--agents", agents, "agents in the directory")->capture_default_str();
  app.add_option("--queues", queues, "queues in the directory")->capture_default_str();
  app.add_option("--lanes", lanes, "calls in flight at once (at most agents/2)")
      ->capture_default_str();
  app.add_option("--seconds", seconds, "length of each timed phase")->capture_default_str();
  app.add_option("--anchor-calls", anchor_calls, "calls for the anchor (100 rounds each)")
      ->capture_default_str();
  double open_rate = 0;
  app.add_option("--open-rate", open_rate,
                 "routed calls/s of the open-loop phase (0: half the closed-loop rate)");
  std::string policy = "stealing";
  app.add_option("--scheduler", policy, "CAF scheduler policy: stealing or sharing")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  lanes = std::min(lanes, agents / 2);
  const std::string scratch = bench::scratch_dir("backline-routing-bench");
  actors::engine_options o;
  o.data_dir = scratch + "/log";
  o.directory_file = write_directory(scratch, agents, queues);
  o.routing_steps_in_flight_max = std::max<std::size_t>(4096, 4 * lanes);
  o.scheduler_policy = policy;
  auto started = actors::engine::start(o);
  if (!started) {
    fmt::print(stderr, "cannot start the engine: {}\n", started.error());
    return 1;
  }
  auto& e = **started;
  const auto t0 = clock_type::now();
  const std::size_t available = batched(e, e.routing(), agents, 1024, [&](std::size_t i) {
    actors::agent_request r;
    r.principal = r.target = agent_id(i);
    r.body = domain::agent_cmd::set_presence{domain::presence::available, {}};
    return r;
  });
  fmt::print("setup: {} of {} agents available in {:.2f} s; {} queues\n", available, agents,
             std::chrono::duration<double>(clock_type::now() - t0).count(), queues);

  const std::size_t pairs = agents / 2;
  auto full = drive(e, lanes, pairs, 0, seconds, "full");
  print_run("closed loop", full);
  const double rate = open_rate > 0 ? open_rate : full.routed_per_s / 2;
  auto half = drive(e, lanes, pairs, rate, seconds, "half");
  print_run(fmt::format("open loop at {:.0f}/s", rate).c_str(), half);
  const double anchor = command_rate(e, std::min(anchor_calls, agents), 100);
  fmt::print("anchor: hold/resume through the router on {} calls: {:.0f} commands/s\n",
             std::min(anchor_calls, agents), anchor);
  bench::print_figure("routed_calls_per_s", full.routed_per_s, "1/s", "commands_per_s", anchor);
  const double p50 = half.offer_us.empty() ? 0 : bench::percentile(half.offer_us, 0.50);
  const double p99 = half.offer_us.empty() ? 0 : bench::percentile(half.offer_us, 0.99);
  bench::print_figure("route_offer_latency_p50_us", p50, "us", "commands_per_s", anchor);
  bench::print_figure("route_offer_latency_p99_us", p99, "us", "commands_per_s", anchor);
  started->reset();
  std::filesystem::remove_all(scratch);
  return 0;
}
