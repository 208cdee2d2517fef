// Routed internal calls through the routing actor, the agent and call actors and the log: with
// 10,000 agents and 500 queues, lane i makes agent 2i call agent 2i+1 (internal_call) over and
// over: route (the reply says ringing: the offer is durable) -> accept (answered) -> end_call
// (work released) -> finish_wrap_up (available again). Only route -> accept counts in the figure;
// the rest keeps the agents free so the run can go on. Anchor in the same run: the plain
// command rate through the router (hold / resume on a few calls, as in commands_bench).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
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

struct totals {
  std::mutex mutex;
  std::uint64_t routed = 0, failures = 0;
  std::vector<double> offer_us;
  std::string first_failure;
  std::size_t drivers_left = 0;
  std::promise<void> done;
};

enum class phase : std::uint8_t { idle, route, accept, end, wrap_up };

struct lane {
  phase at = phase::idle;
  std::uint64_t n = 0;
  std::string call, offer;
  clock_type::time_point sent;
};

// One driver actor owns a few lanes (a CAF 0.17 actor's bookkeeping grows with its outstanding
// requests). Closed loop (rate 0): a lane starts its next call as soon as it is free again. Open
// loop: every millisecond, start the calls owed at `rate` on free lanes.
struct driver_state {
  actors::routing_actor routing;
  std::size_t first_lane = 0;
  std::vector<lane> lanes;
  std::string tag;
  double rate = 0, owed = 0;
  clock_type::time_point deadline, last_tick;
  std::size_t outstanding = 0;
  bool stopping = false, reported = false;
  std::uint64_t routed = 0, failures = 0;
  std::vector<double> offer_us;
  std::string first_failure;
  totals* out = nullptr;
};
using driver = caf::stateful_actor<driver_state>;
using tick_atom = caf::atom_constant<caf::atom("btick")>;

void step(driver* self, std::size_t i);

void report(driver* self) {
  auto& st = self->state;
  if (st.reported) return;
  st.reported = true;
  std::lock_guard lock(st.out->mutex);
  st.out->routed += st.routed;
  st.out->failures += st.failures;
  st.out->offer_us.insert(st.out->offer_us.end(), st.offer_us.begin(), st.offer_us.end());
  if (st.out->first_failure.empty()) st.out->first_failure = st.first_failure;
  if (--st.out->drivers_left == 0) st.out->done.set_value();
}

// A failed lane stops (its agents may be in any state); the run goes on with the others.
void fail(driver* self, std::size_t i, std::string why) {
  auto& st = self->state;
  ++st.failures;
  if (st.first_failure.empty()) st.first_failure = std::move(why);
  st.lanes[i].at = phase::idle;
  st.lanes[i].n = UINT64_MAX;  // never again
  if (--st.outstanding == 0 && (st.stopping || st.rate == 0)) report(self);
}

void lane_done(driver* self, std::size_t i) {
  auto& st = self->state;
  st.lanes[i].at = phase::idle;
  --st.outstanding;
  if (clock_type::now() >= st.deadline) st.stopping = true;
  if (st.stopping) {
    if (st.outstanding == 0) report(self);
    return;
  }
  if (st.rate == 0) {
    ++st.outstanding;
    step(self, i);
  }
}

template <class... Ts>
void request_then(driver* self, std::size_t i, Ts&&... xs) {
  self->request(self->state.routing, caf::infinite, std::forward<Ts>(xs)...)
      .then(
          [self, i](const actors::command_result& r) {
            if (r.status != actors::outcome::accepted) return fail(self, i, r.detail);
            step(self, i);
          },
          [self, i](const caf::error& e) { fail(self, i, self->system().render(e)); });
}

void start_call(driver* self, std::size_t i) {
  auto& st = self->state;
  lane& l = st.lanes[i];
  const std::size_t g = st.first_lane + i;
  l.call = fmt::format("{}-{}-{}", st.tag, g, l.n++);
  l.at = phase::route;
  l.sent = clock_type::now();
  domain::routing_request req =
      domain::route_req::internal_call{l.call, agent_id(2 * g), agent_id(2 * g + 1)};
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
            l.at = phase::accept;
            request_then(self, i, actors::accept_atom::value, agent_id(2 * (st.first_lane + i) + 1),
                         l.offer);
          },
          [self, i](const caf::error& e) { fail(self, i, self->system().render(e)); });
}

// Called when the lane's previous request succeeded: sends the next one.
void step(driver* self, std::size_t i) {
  auto& st = self->state;
  lane& l = st.lanes[i];
  const std::string target = agent_id(2 * (st.first_lane + i) + 1);
  switch (l.at) {
    case phase::idle:
      return start_call(self, i);
    case phase::route:
      return;  // answered in start_call
    case phase::accept: {
      ++st.routed;
      l.at = phase::end;
      actors::command_request r;
      r.principal = "bench";
      r.body = domain::cmd::end_call{l.call, "hangup"};
      return request_then(self, i, actors::command_atom::value, std::move(r));
    }
    case phase::end: {
      l.at = phase::wrap_up;
      actors::agent_request r;
      r.principal = target;
      r.target = target;
      r.body = domain::agent_cmd::finish_wrap_up{};
      return request_then(self, i, actors::command_atom::value, std::move(r));
    }
    case phase::wrap_up:
      return lane_done(self, i);
  }
}

struct run_figures {
  double routed_per_s = 0, seconds = 0;
  std::uint64_t routed = 0, failures = 0;
  std::vector<double> offer_us;
  std::string first_failure;
};

constexpr std::size_t lanes_per_driver = 64;

run_figures drive(actors::engine& e, std::size_t lanes, double rate, double seconds,
                  const std::string& tag) {
  totals t;
  t.drivers_left = (lanes + lanes_per_driver - 1) / lanes_per_driver;
  auto finished = t.done.get_future();
  const auto start = clock_type::now();
  const auto deadline = start + std::chrono::duration_cast<clock_type::duration>(
                                    std::chrono::duration<double>(seconds));
  const double drivers = static_cast<double>(t.drivers_left);
  for (std::size_t first = 0; first < lanes; first += lanes_per_driver) {
    const std::size_t n = std::min(lanes_per_driver, lanes - first);
    e.system().spawn([&, first, n](driver* self) -> caf::behavior {
      auto& st = self->state;
      st.routing = e.routing();
      st.first_lane = first;
      st.lanes.resize(n);
      st.tag = tag;
      st.rate = rate / drivers;
      st.deadline = deadline;
      st.last_tick = clock_type::now();
      st.out = &t;
      if (rate == 0) {
        st.outstanding = n;
        for (std::size_t i = 0; i < n; ++i) step(self, i);
      } else {
        self->send(self, tick_atom::value);
      }
      return {[self](tick_atom) {
        auto& st = self->state;
        const auto now = clock_type::now();
        if (now >= st.deadline) {
          st.stopping = true;
          if (st.outstanding == 0) report(self);
          return;
        }
        st.owed += st.rate * std::chrono::duration<double>(now - st.last_tick).count();
        st.last_tick = now;
        for (std::size_t i = 0; i < st.lanes.size() && st.owed >= 1; ++i) {
          if (st.lanes[i].at != phase::idle || st.lanes[i].n == UINT64_MAX) continue;
          st.owed -= 1;
          ++st.outstanding;
          step(self, i);
        }
        st.owed = std::min(st.owed, 1.0 + st.rate / 100);  // no burst after a stall
        self->delayed_send(self, std::chrono::milliseconds(1), tick_atom::value);
      }};
    });
  }
  finished.wait();
  run_figures f;
  f.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  f.routed = t.routed;
  f.failures = t.failures;
  f.routed_per_s = static_cast<double>(t.routed) / f.seconds;
  f.offer_us = std::move(t.offer_us);
  f.first_failure = std::move(t.first_failure);
  return f;
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
  const auto start = clock_type::now();
  std::size_t accepted = 0;
  for (std::size_t round = 0; round < rounds; ++round) {
    accepted += batched(e, e.router(), calls, calls, [&](std::size_t c) {
      return round % 2 == 0 ? request(domain::cmd::hold{call(c), customer(c)})
                            : request(domain::cmd::resume{call(c), customer(c)});
    });
  }
  return static_cast<double>(accepted) /
         std::chrono::duration<double>(clock_type::now() - start).count();
}

void print_run(const char* what, run_figures& f) {
  const double p50 = f.offer_us.empty() ? 0 : bench::percentile(f.offer_us, 0.50);
  const double p99 = f.offer_us.empty() ? 0 : bench::percentile(f.offer_us, 0.99);
  fmt::print(
      "{}: {} routed calls in {:.2f} s = {:.0f}/s; request->offer p50 {:.0f} us, p99 {:.0f} "
      "us; {} failures{}{}\n",
      what, f.routed, f.seconds, f.routed_per_s, p50, p99, f.failures,
      f.first_failure.empty() ? "" : ", first: ", f.first_failure);
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
  app.add_option("--lanes", lanes, "concurrent caller/callee pairs (at most agents/2)")
      ->capture_default_str();
  app.add_option("--seconds", seconds, "length of each timed phase")->capture_default_str();
  app.add_option("--anchor-calls", anchor_calls, "calls for the anchor (100 rounds each)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  lanes = std::min(lanes, agents / 2);
  const std::string scratch = bench::scratch_dir("backline-routing-bench");
  actors::engine_options o;
  o.data_dir = scratch + "/log";
  o.directory_file = write_directory(scratch, agents, queues);
  o.routing_steps_in_flight_max = std::max<std::size_t>(4096, 4 * lanes);
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

  auto full = drive(e, lanes, 0, seconds, "full");
  print_run("closed loop", full);
  auto half = drive(e, lanes, full.routed_per_s / 2, seconds, "half");
  print_run(fmt::format("open loop at {:.0f}/s", full.routed_per_s / 2).c_str(), half);
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
