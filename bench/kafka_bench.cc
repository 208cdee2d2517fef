// Events published per second by the outbox relay (eventlog/kafka/publisher.h) to a 3-broker dev
// cluster (librdkafka's mock, in this process) with idempotence and acks=all, next to the anchor
// `kcat -P` sending the same number of same-sized keyed messages with the same CloudEvents headers
// and producer settings to the same cluster in the same run.
//
// Both figures are wall time from starting the client to the last acknowledgement, connection
// set-up included. The log is filled first (not timed). The run alternates the two --rounds
// times (3 by default; each relay round publishes the whole log again with a fresh position) and
// the FIGURE takes the median of each: on a noisy machine one pair swings by a third.
//
// The anchor is fair (checked for issue 6): kcat sends exactly as many messages as there are
// events, each with the key the relay sends for the same log position (the stream id, so the same
// partitions), a value of the envelopes' mean size, and the same eight CloudEvents headers with
// values of the same lengths; to a topic of the same cluster with the same partitions and
// replication, in the same run, right after the relay. It gets the settings that shape what goes
// on the wire as the relay sets them (enable.idempotence=true, acks=all, linger.ms=5,
// partitioner=murmur2_random) and kcat's defaults otherwise: its local queue bound (100,000
// messages) is its own, as the relay's in-flight bound is the relay's. kcat reads a prepared text
// file; the relay reads and verifies the RocksDB log. Nothing else runs in between.
//
// Also printed: CPU per event, of this process's threads during the relay's run, and of kcat's
// process and this one (the mock brokers) during kcat's. The machine is shared and noisy; these
// say where the work went when the wall-time rates swing.
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "bench/bench_util.h"
#include "eventlog/kafka/dev_broker.h"
#include "eventlog/kafka/publisher.h"
#include "eventlog/log.h"
#include "schemas/codec.h"

namespace {

using namespace backline;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::string envelope(std::uint32_t stream, std::uint64_t version) {
  schemas::envelope_meta meta;
  meta.event_id = schemas::make_uuid_v7(1'700'000'000'000, stream, version);
  meta.stream_kind = "call";
  meta.stream_id = fmt::format("bench-call-{:07}", stream);
  meta.stream_version = version;
  meta.occurred_at_us = 1'700'000'000'000'000 + static_cast<std::int64_t>(version);
  meta.correlation_id = meta.stream_id;
  meta.causation_id = fmt::format("{}-{}", stream, version);
  meta.tenant = "acme_support";
  meta.principal = "bench";
  if (version % 2 == 0) {
    return schemas::encode(meta, domain::evt::participant_held{meta.stream_id, "+14155550100"});
  }
  return schemas::encode(meta, domain::evt::participant_resumed{meta.stream_id, "+14155550100"});
}

// Fills the log with `events` events over `streams` streams; returns the mean envelope size.
std::size_t fill_log(eventlog::log& log, std::size_t events, std::uint32_t streams) {
  std::vector<std::uint64_t> versions(streams, 0);
  std::size_t bytes = 0, done = 0;
  std::vector<std::future<void>> pending;
  while (done < events) {
    eventlog::append_request r;
    for (std::size_t i = 0; i < 1'000 && done < events; ++i, ++done) {
      const auto s = static_cast<std::uint32_t>(done % streams);
      const auto v = ++versions[s];
      r.events.push_back({fmt::format("call/bench-call-{:07}", s), v, envelope(s, v)});
      bytes += r.events.back().envelope.size();
    }
    auto p = std::make_shared<std::promise<void>>();
    pending.push_back(p->get_future());
    r.done = [p](auto) { p->set_value(); };
    while (log.append(std::move(r)) == eventlog::errc::overloaded) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  for (auto& f : pending) f.get();
  return bytes / std::max<std::size_t>(events, 1);
}

// Publishes the whole log with a new relay (a fresh state directory: from position 1); returns
// events/s, or 0 when the relay cannot start or does not finish within 5 minutes.
double publish_all(eventlog::log& log, kafka::publisher_options po, std::size_t events) {
  const double cpu0 = bench::cpu_seconds(RUSAGE_SELF);
  const auto threads0 = bench::cpu_by_thread();
  const auto t0 = clock_type::now();
  auto p = kafka::publisher::start(log, po);
  if (!p) {
    fmt::print(stderr, "kafka_bench: {}\n", p.error());
    return 0;
  }
  std::uint64_t in_flight_max = 0;  // sampled every 10 ms
  const auto deadline = clock_type::now() + std::chrono::minutes(5);
  while (!(*p)->wait_published(events, std::chrono::milliseconds(10))) {
    in_flight_max = std::max(in_flight_max, (*p)->stats().in_flight_events);
    if (clock_type::now() > deadline) {
      fmt::print(stderr, "kafka_bench: not everything was published within 5 minutes\n");
      return 0;
    }
  }
  const double s = seconds_since(t0);
  const double cpu = bench::cpu_seconds(RUSAGE_SELF) - cpu0;
  std::map<std::string, double> threads;
  bench::add_cpu(threads, threads0, bench::cpu_by_thread());
  const double rate = static_cast<double>(events) / s;
  const auto st = (*p)->stats();
  fmt::print(
      "publisher: {} events ({} records) in {:.2f} s = {:.0f} events/s; {} producer "
      "errors, {} restarts, at most {} events in flight\n",
      events, st.records_delivered_total, s, rate, st.producer_errors_total,
      st.producer_restarts_total, in_flight_max);
  const double per_event = 1e6 / static_cast<double>(events);
  fmt::print(
      "publisher: CPU {:.2f} us/event: relay thread {:.2f}, librdkafka threads {:.2f}, mock "
      "brokers {:.2f}, the log's background work {:.2f}\n",
      cpu * per_event, bench::cpu_of(threads, "bl-kafka-relay") * per_event,
      (bench::cpu_of(threads, "rdk:broker") + bench::cpu_of(threads, "rdk:main")) * per_event,
      bench::cpu_of(threads, "rdk:mock") * per_event,
      bench::cpu_of(threads, "rocksdb") * per_event);
  std::fflush(stdout);  // progress for whoever watches a redirected run (e.g. perf scripts)
  return rate;
}

// kcat's input: `events` lines "key<TAB>payload" with the relay's keys and the envelopes' mean
// size. Returns the file's path.
std::string write_kcat_input(std::size_t events, std::size_t value_bytes, std::uint32_t streams,
                             const std::string& scratch) {
  const std::string input = scratch + "/kcat-input.txt";
  std::FILE* f = std::fopen(input.c_str(), "w");
  const std::string payload(value_bytes, 'x');
  for (std::size_t i = 0; i < events; ++i) {
    fmt::print(f, "bench-call-{:07}\t{}\n", i % streams, payload);
  }
  std::fclose(f);
  return input;
}

// kcat -P sends `input` with the relay's headers: the same records on the wire (see the top of
// this file). Returns msgs/s, or 0 when kcat fails.
double kcat_anchor(const std::string& bootstrap, const std::string& topic, std::size_t events,
                   const std::string& input) {
  // The same eight headers as the publisher's, values of the same lengths, on every message.
  const std::string headers =
      "-H ce_specversion=1.0 -H ce_id=01a22794-232f-7490-b374-4efe17b069e8 "
      "-H ce_source=/backline/acme_support -H ce_type=backline.voicecall.v1.participant_held "
      "-H ce_time=2023-11-14T22:13:20.000001Z -H ce_subject=call/bench-call-0000001 "
      "-H content-type=application/x-flatbuffers "
      "-H ce_dataschema=urn:backline:schema:envelope.fbs:v1";
  const std::string cmd = fmt::format(
      "kcat -P -q -b {} -t {} -K '\\t' -l {} -X enable.idempotence=true -X acks=all "
      "-X linger.ms=5 -X partitioner=murmur2_random {}",
      bootstrap, topic, headers, input);
  const double cpu0 = bench::cpu_seconds(RUSAGE_SELF);
  const double kcat_cpu0 = bench::cpu_seconds(RUSAGE_CHILDREN);
  const auto t0 = clock_type::now();
  const int status = std::system(cmd.c_str());
  const double s = seconds_since(t0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fmt::print(stderr, "kafka_bench: `{}` failed (is the kcat package installed?)\n", cmd);
    return 0;
  }
  fmt::print("kcat -P: CPU {:.2f} us/msg in kcat + {:.2f} us/msg in the brokers\n",
             (bench::cpu_seconds(RUSAGE_CHILDREN) - kcat_cpu0) * 1e6 / static_cast<double>(events),
             (bench::cpu_seconds(RUSAGE_SELF) - cpu0) * 1e6 / static_cast<double>(events));
  return static_cast<double>(events) / s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kafka_bench: events published per second to Kafka, next to kcat -P"};
  app.footer(R"(Examples:
  kafka_bench                                  # 500,000 events, 3 brokers, 6 partitions
  kafka_bench --events 100000 --rounds 1       # a quick run
  kafka_bench --json                           # with the JSON mirror (two records per event)
  kafka_bench --no-anchor --in-flight 20000    # the relay alone, another in-flight bound

Prints FIGURE kafka_published_events_per_s ... anchor=kcat_P_msgs_per_s:... ratio=...)");
  std::size_t events = 500'000;
  std::uint32_t streams = 10'000;
  int brokers = 3, partitions = 6;
  bool json = false;
  kafka::publisher_options po;
  std::vector<std::string> producer_config;
  app.add_option("--events", events, "events in the log, all published")->capture_default_str();
  app.add_option("--streams", streams, "distinct streams (Kafka keys)")->capture_default_str();
  app.add_option("--brokers", brokers, "mock brokers")->capture_default_str();
  app.add_option("--partitions", partitions, "partitions per topic")->capture_default_str();
  app.add_flag("--json", json, "also publish the JSON mirror");
  app.add_option("--in-flight", po.in_flight_events_max, "publisher: in-flight events bound")
      ->capture_default_str();
  app.add_option("--read-batch", po.read_batch_events_max, "publisher: events per log read")
      ->capture_default_str();
  bool no_anchor = false;
  int rounds = 3;
  app.add_option("--rounds", rounds, "rounds of relay then kcat; the figure takes the medians")
      ->capture_default_str()
      ->check(CLI::Range(1, 99));
  app.add_flag("--no-anchor", no_anchor, "publisher only (for profiling): no kcat, no FIGURE");
  app.add_option("--producer-config", producer_config,
                 "publisher: extra librdkafka settings KEY=VALUE (repeatable)");
  CLI11_PARSE(app, argc, argv);

  const std::string scratch = bench::scratch_dir("backline-kafka-bench");
  kafka::dev_broker_options bo;
  bo.brokers = brokers;
  bo.partitions = partitions;
  bo.json_topics = json;
  bo.extra_topics = {"bench.kcat"};
  auto broker = kafka::dev_broker::start(bo);
  if (!broker) {
    fmt::print(stderr, "kafka_bench: {}\n", broker.error());
    return 1;
  }
  eventlog::options lo;
  lo.dir = scratch + "/log";
  auto log = eventlog::log::open(lo);
  if (!log) {
    fmt::print(stderr, "kafka_bench: cannot open the log: {}\n", log.error().message());
    return 1;
  }
  const auto t_fill = clock_type::now();
  const std::size_t value_bytes = fill_log(**log, events, streams);
  fmt::print("log: {} events over {} streams in {:.2f} s, envelope {} bytes\n", events, streams,
             seconds_since(t_fill), value_bytes);
  for (const auto& kv : producer_config) {
    const auto eq = kv.find('=');
    po.producer_config.emplace_back(kv.substr(0, eq),
                                    eq == std::string::npos ? "" : kv.substr(eq + 1));
  }
  po.bootstrap = (*broker)->bootstrap();
  po.json_mirror = json;
  po.log_line = [](const std::string& l) { fmt::print(stderr, "{}\n", l); };
  const std::string kcat_input =
      no_anchor ? "" : write_kcat_input(events, value_bytes, streams, scratch);

  // Rounds alternate the relay and kcat; the figure is the median of each.
  std::vector<double> rates, anchors;
  for (int round = 1; round <= rounds; ++round) {
    if (rounds > 1) fmt::print("round {} of {}\n", round, rounds);
    po.state_dir = fmt::format("{}/state-{}", scratch, round);
    const double rate = publish_all(**log, po, events);
    if (rate == 0) return 1;
    rates.push_back(rate);
    if (no_anchor) continue;
    const double anchor = kcat_anchor(po.bootstrap, "bench.kcat", events, kcat_input);
    if (anchor == 0) return 1;
    anchors.push_back(anchor);
    fmt::print("kcat -P: {} messages of {} bytes = {:.0f} msgs/s (ratio {:.3f})\n", events,
               value_bytes, anchor, rate / anchor);
  }
  if (!no_anchor) {
    const double rate = bench::percentile(rates, 0.5), anchor = bench::percentile(anchors, 0.5);
    if (rounds > 1) {
      fmt::print("median of {} rounds: relay {:.0f} events/s, kcat {:.0f} msgs/s\n", rounds, rate,
                 anchor);
    }
    bench::print_figure("kafka_published_events_per_s", rate, "1/s", "kcat_P_msgs_per_s", anchor);
  }

  log->reset();
  std::error_code ignored;
  std::filesystem::remove_all(scratch, ignored);
  return 0;
}
