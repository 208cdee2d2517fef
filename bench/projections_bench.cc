// Projections: build rate (events/s folded from an embedded log into an empty projection store,
// a bulk build as projections::rebuild does it, or with the WAL under --with-wal) next to the
// anchor RocksDB db_bench fillseq with the mean envelope size, measured in the same run; `get`
// and `chain` latency (p50/p99) with N voice calls stored; the time to replay K events (a
// rebuild from position 0 up to K; --replay-events 0: all of them).
//
// The log is generated with the call aggregate itself (decide + evolve, no directory): each
// conversation is an inbound call with a transcript line, a consult with the customer held, a
// warm transfer, the end and two wrap-ups, so 3 VoiceCall records and 15 events. Conversations
// run their steps interleaved in groups of 64, so every batch holds many of them.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "actors/domain/call.h"
#include "bench/bench_util.h"
#include "eventlog/log.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "schemas/codec.h"

namespace {

using namespace backline;
using clock_type = std::chrono::steady_clock;
namespace cmd = domain::cmd;

constexpr std::size_t group_conversations = 64;
constexpr int steps = 11;

// CPU time of this process (every thread): the machine may be shared with other work.
double cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double since_s(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

domain::command_body step_command(std::size_t n, int step) {
  const std::string c = fmt::format("c{:07}", n), k = fmt::format("k{:07}", n),
                    d = fmt::format("d{:07}", n);
  switch (step) {
    case 0: {
      cmd::create_call cc{.voice_call_id = c,
                          .vendor_call_key = "vck-" + c,
                          .from = fmt::format("+1555{:07}", n),
                          .to = "+14155550100",
                          .queue = n % 3 ? "General" : "Billing"};
      cc.attributes.case_category = n % 2 ? "Billing" : "Sales";
      return cc;
    }
    case 1:
      return cmd::ring{c, "alice"};
    case 2:
      return cmd::answer{c, "alice"};
    case 3:
      return cmd::add_transcript{c, "m-" + c, "alice", "Agent", 0, 900, "Hello, Backline"};
    case 4:
      return cmd::start_consult{c, k, "alice", "sam", true};
    case 5:
      return cmd::answer{k, "sam"};
    case 6:
      return cmd::complete_warm_transfer{c, k, d};
    case 7:
      return cmd::end_call{d, "customer_hangup"};
    case 8:
      return cmd::wrap_up{c, "alice", "Transferred", {}};
    case 9:
      return cmd::wrap_up{d, "sam", "Resolved", "ok"};
    default:
      return cmd::add_conversation_event{d, "e-" + c, true, "sentiment", "{}"};
  }
}

struct generator {
  eventlog::log& log;
  std::uint64_t envelope_bytes = 0, events = 0;
  std::int64_t now_us = 1'714'550'400'000'000;

  void append(eventlog::append_request req) {
    while (true) {
      auto ec = log.append(std::move(req));
      if (ec != eventlog::errc::overloaded) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // append kept req intact
    }
  }

  // Steps of `count` conversations from `first`, interleaved; one append per step.
  void group(std::size_t first, std::size_t count) {
    std::vector<domain::call_state> states(count);
    for (int step = 0; step < steps; ++step) {
      now_us += 7'000'000;
      eventlog::append_request req;
      for (std::size_t i = 0; i < count; ++i) run(first + i, states[i], step, req);
      append(std::move(req));
    }
  }

  void run(std::size_t n, domain::call_state& s, int step, eventlog::append_request& req) {
    auto d =
        domain::decide(s, step_command(n, step), {now_us + static_cast<std::int64_t>(n), nullptr});
    if (!d) {
      fmt::print(stderr, "generator: step {} refused: {}\n", step, d.error().detail);
      std::exit(1);
    }
    const std::string root = fmt::format("c{:07}", n);
    for (const auto& e : *d) {
      domain::evolve(s, e);
      schemas::envelope_meta m;
      m.event_id = schemas::make_uuid_v7(e.at_us / 1000, events, n);
      m.stream_kind = "call";
      m.stream_id = root;
      m.stream_version = s.version;
      m.occurred_at_us = e.at_us;
      m.correlation_id = root;
      m.causation_id = fmt::format("cmd-{}-{}", n, step);
      m.tenant = "acme_support";
      m.principal = "bench";
      std::string env = schemas::encode(m, e.body);
      envelope_bytes += env.size();
      ++events;
      req.events.push_back({"call/" + root, s.version, std::move(env)});
    }
  }
};

// Writes conversations until `calls` VoiceCall records exist; waits until all are durable.
void generate(generator& g, std::size_t calls) {
  const std::size_t conversations = (calls + 2) / 3;
  for (std::size_t first = 0; first < conversations; first += group_conversations) {
    g.group(first, std::min(group_conversations, conversations - first));
  }
  std::promise<void> done;
  eventlog::append_request marker;
  marker.done = [&done](const auto&) { done.set_value(); };
  g.append(std::move(marker));
  done.get_future().wait();
}

// --reuse-log: the envelope sizes of a log an earlier run wrote.
std::error_code measure_log(eventlog::log& log, generator& g) {
  const std::uint64_t last = log.committed_position();
  for (std::uint64_t at = 1; at <= last;) {
    auto records = log.read_from(at, 65'536);
    if (!records) return records.error();
    if (records->empty()) break;
    for (const auto& r : *records) g.envelope_bytes += r.envelope.size();
    g.events += records->size();
    at += records->size();
  }
  return {};
}

struct latency {
  double p50_us = 0, p99_us = 0;
};

template <typename F>
latency measure(std::size_t samples, std::size_t conversations, F query) {
  std::mt19937_64 rng(42);
  std::vector<double> us;
  us.reserve(samples);
  const char prefixes[] = {'c', 'k', 'd'};
  for (std::size_t i = 0; i < samples; ++i) {
    const std::string id = fmt::format("{}{:07}", prefixes[rng() % 3], rng() % conversations);
    const auto t = clock_type::now();
    if (!query(id)) {
      fmt::print(stderr, "query for {} found nothing\n", id);
      std::exit(1);
    }
    us.push_back(since_s(t) * 1e6);
  }
  return {bench::percentile(us, 0.50), bench::percentile(us, 0.99)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"projections_bench: projection build rate, get/chain latency, replay time"};
  app.footer(R"(Examples:
  projections_bench                                   # 1,000,000 calls (about 5 M events)
  projections_bench --calls 30000 --replay-events 100000
  projections_bench --calls 300000 --samples 50000 --keep --dir /tmp/pb
  projections_bench --calls 300000 --dir /tmp/pb --reuse-log   # the log of the run above
  projections_bench --calls 2000000 --replay-events 0         # a full replay of 10 M events)");
  std::size_t calls = 1'000'000, samples = 20'000, anchor_num = 1'000'000;
  std::uint64_t replay_events = 1'000'000;
  std::size_t batch_events = 0;
  std::string dir;
  bool keep = false, reuse_log = false, with_wal = false;
  app.add_option("--calls", calls, "VoiceCall records to store (3 per conversation)")
      ->capture_default_str();
  app.add_option("--replay-events", replay_events,
                 "events replayed for the replay time (0: the whole log)")
      ->capture_default_str();
  app.add_option("--batch-events", batch_events,
                 "events per WriteBatch of the build (default: projector_options')");
  app.add_option("--samples", samples, "get and chain queries timed")->capture_default_str();
  app.add_option("--anchor-num", anchor_num, "db_bench fillseq operations")->capture_default_str();
  app.add_option("--dir", dir, "scratch directory (default: a fresh one under $TMPDIR)");
  app.add_flag("--keep", keep, "keep the log and the stores");
  app.add_flag("--with-wal", with_wal,
               "build into a store written with the WAL (backlined's and `backline replay`'s "
               "catch-up) instead of a bulk build (rebuild, replay --verify)");
  app.add_flag("--reuse-log", reuse_log,
               "use the log a --keep run left in --dir (same --calls) instead of writing it "
               "again; its stores are removed first");
  CLI11_PARSE(app, argc, argv);
  if (reuse_log && dir.empty()) {
    fmt::print(stderr, "--reuse-log needs the --dir of an earlier --keep run\n");
    return 1;
  }
  if (dir.empty()) dir = bench::scratch_dir("projections-bench");
  std::filesystem::create_directories(dir);

  eventlog::options lo;
  lo.dir = dir + "/log";
  auto log = eventlog::log::open(lo);
  if (!log) {
    fmt::print(stderr, "cannot open the log in {}: {}\n", lo.dir, log.error().message());
    return 1;
  }
  // Only now that this run holds the log (its LOCK): the stores of an earlier run.
  std::filesystem::remove_all(dir + "/projections");
  std::filesystem::remove_all(dir + "/replay");
  generator g{**log};
  auto t = clock_type::now();
  if (reuse_log) {
    if (auto ec = measure_log(**log, g)) {
      fmt::print(stderr, "cannot read the log in {}: {}\n", lo.dir, ec.message());
      return 1;
    }
  } else {
    generate(g, calls);
  }
  const std::uint64_t events = (*log)->committed_position();
  if (events != (calls + 2) / 3 * 15) {
    fmt::print(stderr, "the log holds {} events, not the {} of --calls {}: write it again\n",
               events, (calls + 2) / 3 * 15, calls);
    return 1;
  }
  fmt::print(stderr, "{} {} events ({} calls) in {:.1f} s, mean envelope {} bytes\n",
             reuse_log ? "measured" : "generated", events, calls, since_s(t),
             g.envelope_bytes / std::max<std::uint64_t>(1, g.events));

  const std::size_t value_bytes = g.envelope_bytes / std::max<std::uint64_t>(1, g.events);
  const double anchor =
      bench::fillseq_ops_per_s(value_bytes, std::min<std::uint64_t>(anchor_num, events), dir);

  double build_s = 0;
  {
    // The store's creation (a few fsyncs) is not part of the fold rate. As projections::rebuild
    // does, a bulk build unless --with-wal; catch_up ends once the store is durable.
    auto fresh = projections::store::open(
        {dir + "/projections", projections::open_mode::read_write, !with_wal});
    if (!fresh) return 1;
    projections::projector_options po;
    if (batch_events != 0) po.batch_events = batch_events;
    projections::projector p(**log, **fresh, po);
    t = clock_type::now();
    const double cpu0 = cpu_s();
    auto built = p.catch_up();
    build_s = since_s(t);
    const double build_cpu_s = cpu_s() - cpu0;
    if (!built) {
      fmt::print(stderr, "build failed: {}\n", built.error().message());
      return 1;
    }
    const auto s = p.stats();
    fmt::print(stderr,
               "built in {:.2f} s ({:.2f} s of CPU): {} flushes, {} records written, {} "
               "rehydrations, {} evictions\n",
               build_s, build_cpu_s, s.flushes, s.records_written, s.rehydrations, s.evictions);
  }
  bench::print_figure("projection_build_events_per_s", static_cast<double>(events) / build_s, "1/s",
                      "db_bench_fillseq", anchor);

  auto st = projections::store::open({dir + "/projections", projections::open_mode::read_only});
  if (!st) return 1;
  const std::size_t conversations = (calls + 2) / 3;
  auto get = measure(samples, conversations, [&](const std::string& id) {
    auto r = projections::get_call(**st, id);
    return r && r->has_value();
  });
  auto chain = measure(samples, conversations, [&](const std::string& id) {
    auto r = projections::chain(**st, id);
    return r && r->has_value();
  });
  const double n = static_cast<double>(conversations * 3);
  fmt::print("calls stored: {:.0f}\n", n);
  bench::print_figure("projection_get_p50_us", get.p50_us, "us", "calls", n);
  bench::print_figure("projection_get_p99_us", get.p99_us, "us", "calls", n);
  bench::print_figure("projection_chain_p50_us", chain.p50_us, "us", "calls", n);
  bench::print_figure("projection_chain_p99_us", chain.p99_us, "us", "calls", n);

  const std::uint64_t k = replay_events == 0 ? events : std::min(replay_events, events);
  t = clock_type::now();
  auto replayed = projections::rebuild(**log, dir + "/replay", k);
  const double replay_s = since_s(t);
  if (!replayed) {
    fmt::print(stderr, "replay failed: {}\n", replayed.error().message());
    return 1;
  }
  bench::print_figure("projection_replay_s", replay_s, "s", "events", static_cast<double>(k));
  st->reset();
  log->reset();
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
