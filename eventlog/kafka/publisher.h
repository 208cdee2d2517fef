#pragma once
// The Kafka outbox relay: follows the event log and publishes every committed event to Kafka,
// at least once and in log order per key (DESIGN.md, "Kafka contract"; docs/kafka.md).
//
// Contract
// - Threads: `start` spawns ONE relay thread that owns the librdkafka producer. It reads the log
//   (an `eventlog::log::cursor`, never past the committed position), produces, serves delivery
//   reports (`rd_kafka_poll` on the same thread) and stores the published position. Nothing
//   runs inside a CAF actor and nothing here ever calls into the engine: the engine appends to
//   the log and never waits for Kafka (DESIGN invariant 8, "durable before visible": a record is
//   produced only after its event is durable in the log).
// - Records: topic per stream kind, key = stream id, value = the envelope bytes unchanged,
//   CloudEvents binary-mode headers (eventlog/kafka/cloudevents.h). With `json_mirror`, also a
//   CloudEvents structured-mode JSON record to "<topic>.json" with the same key.
// - Producer: idempotent (`enable.idempotence=true`, `acks=all`), `message.timeout.ms=0`
//   (librdkafka retries until the broker answers), `partitioner=murmur2_random` (the Java
//   client's choice, so other producers of the same key agree on the partition).
// - Published position: the last position P such that Kafka acknowledged every record of every
//   position <= P. It is stored in `<state_dir>/kafka-published-position` (position_file.h)
//   only after those delivery reports, at most every `store_interval_ms` and when stopping.
//   A restart (crash, kill -9, redeploy) re-sends from the stored position + 1: nothing is lost;
//   the re-sent tail (acknowledged but not yet stored, or in flight) arrives twice and consumers
//   dedupe by ce_id. Keeping the first copy of each ce_id keeps each key's order, because the
//   idempotent producer acknowledges a partition's records as a prefix.
// - Bounded: at most `in_flight_events_max` events (and `in_flight_bytes_max` envelope bytes)
//   are produced and not yet acknowledged. During a broker outage the relay stops reading at
//   that bound; events stay in the log and are sent when the brokers return. Memory stays flat.
// - Errors: a failed delivery (only permanent errors reach the relay; transient ones are retried
//   by librdkafka) or a fatal producer error rebuilds the producer and re-sends from the
//   published position + 1 after `restart_backoff_ms`. Every error is counted in `stats()` and
//   logged through `log_line` (rate-limited to one line per second plus a count of the
//   suppressed ones).
// - Shutdown: the destructor stops reading, waits up to `flush_timeout_ms` for in-flight
//   deliveries, stores the published position and joins the thread. The log must outlive it.

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "eventlog/kafka/cloudevents.h"

namespace backline::eventlog {
class log;
}

namespace backline::kafka {

struct publisher_options {
  std::string bootstrap;  // bootstrap.servers, e.g. "kafka-0:9092,kafka-1:9092"
  topic_names topics;
  bool json_mirror = false;  // also publish structured-mode JSON to "<topic>.json"
  // Where the published position is stored (created if missing). Usually the engine's --data.
  std::string state_dir;
  attribute_options attributes;
  // Passed to librdkafka after the publisher's defaults (TLS, SASL, compression, linger...).
  // `enable.idempotence` and `acks` cannot be weakened: start() refuses it.
  std::vector<std::pair<std::string, std::string>> producer_config;
  // Create missing topics at start with this many partitions (Kafka Admin API); 0: do not
  // create (the cluster's auto-creation or an operator does). A failure is logged, not fatal.
  int topic_partitions = 0;
  int topic_replication = -1;  // -1: the broker's default.replication.factor

  std::size_t in_flight_events_max = 200'000;
  std::size_t in_flight_bytes_max = std::size_t{256} << 20;
  std::size_t read_batch_events_max = 1'024;
  std::int64_t idle_poll_ms = 5;  // how long the relay waits when it is caught up
  std::int64_t store_interval_ms = 200;
  std::int64_t flush_timeout_ms = 5'000;
  std::int64_t restart_backoff_ms = 500;
  std::string client_id = "backline-publisher";
  // One human line per event worth an operator's attention (start, errors, restarts).
  // Called from start()'s caller, the relay thread and librdkafka's threads, one call at a time.
  // Default: nothing.
  std::function<void(const std::string&)> log_line;
};

struct publisher_stats {
  std::uint64_t committed_position = 0;  // the log's
  std::uint64_t published_position = 0;  // acknowledged by Kafka, every position up to it
  std::uint64_t stored_position = 0;     // as last written to the position file
  std::uint64_t lag_events = 0;          // committed_position - published_position
  std::uint64_t in_flight_events = 0;
  std::uint64_t records_produced_total = 0;  // Kafka records handed to the producer
  std::uint64_t records_delivered_total = 0;
  std::uint64_t delivery_errors_total = 0;  // permanent per-record failures (re-sent)
  std::uint64_t producer_errors_total = 0;  // error callbacks: transport, all brokers down...
  std::uint64_t producer_restarts_total = 0;
};

class publisher {
 public:
  publisher(const publisher&) = delete;
  publisher& operator=(const publisher&) = delete;
  ~publisher();

  // Loads the stored position, builds the producer, (optionally) creates the topics and starts
  // the relay thread. Errors are sentences for the operator (bad option, unreadable position
  // file, librdkafka refusing a setting, a stored position beyond the log's committed position:
  // the file belongs to another log, and resuming after it would skip events; the operator
  // removes it to re-publish from the start). REQUIRES: `log` outlives the publisher.
  static std::expected<std::unique_ptr<publisher>, std::string> start(eventlog::log& log,
                                                                      publisher_options options);

  publisher_stats stats() const;  // any thread

  // Waits until the published position reaches `position` (e.g. the log's committed position
  // before a clean exit). Any thread. False on timeout.
  bool wait_published(std::uint64_t position, std::chrono::milliseconds timeout);

  struct impl;

 private:
  explicit publisher(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// "<state_dir>/kafka-published-position".
std::string position_file_path(const std::string& state_dir);

}  // namespace backline::kafka
