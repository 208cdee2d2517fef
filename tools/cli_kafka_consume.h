#pragma once
// The CLI's Kafka consumers: `backline project --kafka` (the read models built from Kafka) and
// `backline events tail --kafka` (events decoded from Kafka). docs/kafka.md, "Consuming".
//
// Contract of `project_from_kafka`
// - Joins consumer group `group` on `topics` (default: Backline's four topics) with auto commit
//   off, and folds every record into the projection store at `store_dir` with a projector made
//   without a log (projections/projector.h, "From Kafka"): the same envelope bytes, so the same
//   models as a projection of the log; the next offset of each topic-partition is written in the
//   same WriteBatch as the data.
// - On assignment (rebalance callback; eager or cooperative, as the group's protocol says) it
//   seeks each partition to the offset stored in the store, or to the beginning. On revocation it
//   first flushes what was applied, with its offsets. Kafka's committed offsets are not used.
// - Duplicates (the relay is at least once) are skipped by event id and stream version.
// - Runs until SIGINT/SIGTERM (install_stop_handlers), or with `until_idle_s` > 0 until no
//   record arrived for that long after the partitions were assigned. Then flushes and returns.
// - Errors are `cli_error`s: the store cannot be opened (exit 3), a record that does not decode
//   (exit 1), librdkafka refusing a setting (exit 2), no assignment within `assign_timeout_s`.
// - Runs on the calling thread; librdkafka's own threads never call into the projector.

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "projections/projector.h"
#include "tools/cli_common.h"
#include "tools/cli_output.h"

namespace backline::cli {

struct project_kafka_options {
  std::string bootstrap;  // bootstrap.servers
  std::string group;      // group.id
  std::string data_dir = "var";
  std::string store_dir;            // empty: <data_dir>/projections
  std::vector<std::string> topics;  // empty: kafka::topic_names{}.all()
  double until_idle_s = 0;          // 0: until a stop signal
  double assign_timeout_s = 60;     // with until_idle_s: give up when nothing is assigned
  std::vector<std::pair<std::string, std::string>> consumer_config;  // extra librdkafka settings
  bool progress = false;  // a status line on stderr (the CLI: when stderr is a terminal)
  std::size_t batch_events = 4096;
};

struct project_kafka_result {
  projections::projector_stats stats;
  projections::kafka_offsets offsets;
  std::uint64_t checkpoint = 0;
  std::uint64_t records = 0;  // Kafka records received (applied, duplicates, already applied)
};

result<project_kafka_result> project_from_kafka(const project_kafka_options& options);
int run_project_kafka(const project_kafka_options& options);

// `backline events tail --kafka`: every record of `topics` from the beginning (assigned, no
// group offsets), decoded and printed in `output`; stops at the end of every partition, or with
// `follow` at a stop signal.
struct kafka_tail_options {
  std::string bootstrap;
  std::vector<std::string> topics;  // empty: kafka::topic_names{}.all()
  bool follow = false;
  format output = format::jsonl;
  std::vector<std::pair<std::string, std::string>> consumer_config;
  std::FILE* out = stdout;  // where the events go (tests: a file)
};

int run_events_tail_kafka(const kafka_tail_options& options);

}  // namespace backline::cli
