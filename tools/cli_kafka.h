#pragma once
// `backline kafka-dev`: runs the development Kafka broker (eventlog/kafka/dev_broker.h,
// librdkafka's mock cluster on 127.0.0.1) until SIGINT/SIGTERM. For development and tests only: it
// keeps everything in memory. Real deployments use Apache Kafka (deploy/, docs/kafka.md).
//
// Contract
// - Prints the bootstrap string as the first line on stdout (flushed at once), so a script can
//   start it in the background with stdout to a file and read that line. Human lines go to
//   stderr.
// - Returns the process exit code: 0 after a signal, 2 for bad options, 3 when the brokers cannot
//   start (e.g. a pinned port is taken).

#include <string>

namespace backline::cli {

struct kafka_dev_options {
  int brokers = 3;
  int port_base = 0;  // 0: any free ports
  int partitions = 6;
  bool json_topics = true;
};

int run_kafka_dev(const kafka_dev_options& options);

}  // namespace backline::cli
