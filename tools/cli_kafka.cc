#include "tools/cli_kafka.h"

#include <csignal>
#include <cstdio>

#include <fmt/format.h>

#include "eventlog/kafka/dev_broker.h"
#include "tools/cli_common.h"

namespace backline::cli {

int run_kafka_dev(const kafka_dev_options& options) {
  // The brokers run on librdkafka's threads: block the stop signals before they start, then
  // take them with sigwait on this thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  kafka::dev_broker_options o;
  o.brokers = options.brokers;
  o.port_base = options.port_base;
  o.partitions = options.partitions;
  o.json_topics = options.json_topics;
  auto broker = kafka::dev_broker::start(o);
  if (!broker) return report({exit_not_found, broker.error()});
  fmt::print("{}\n", (*broker)->bootstrap());
  std::fflush(stdout);
  fmt::print(stderr,
             "backline: dev Kafka broker (librdkafka mock cluster, in memory; for development "
             "and tests only): {} brokers, topics {} with {} partitions each\n"
             "backline: try  backlined --demo --kafka {}\n"
             "backline:      kcat -C -J -b {} -t {} -e\n"
             "backline: stop with Ctrl-C\n",
             options.brokers, fmt::join((*broker)->topics(), ", "), options.partitions,
             (*broker)->bootstrap(), (*broker)->bootstrap(), o.topics.call);
  int sig = 0;
  sigwait(&set, &sig);
  fmt::print(stderr, "backline: stopping the dev Kafka broker\n");
  return exit_ok;
}

}  // namespace backline::cli
