#pragma once
// The development broker: librdkafka's mock cluster (rd_kafka_mock_cluster_new), N brokers
// speaking the Kafka protocol over TCP on 127.0.0.1, in this process. For development and tests
// ONLY: it keeps everything in memory, has no persistence, security or real replication, and
// (librdkafka 2.0.2) does not filter aborted transactions for read_committed consumers. Real
// deployments run Apache Kafka (deploy/docker-compose.yml, deploy/k8s/).
//
// Contract
// - `start` creates the cluster and the topics (Backline's topics, plus their ".json" mirrors
//   when asked) with `partitions` partitions, and returns once the brokers accept connections.
//   The brokers run on librdkafka's own thread; every method here may be called from any
//   thread. The destructor stops the brokers (clients see them disappear).
// - Ports: the kernel picks them, unless `port_base` > 0: broker i (1..N) then listens on
//   port_base + i - 1, and start() fails when such a port is taken. (The 2.0.2 mock has no port
//   option; the dev broker pins the ports by steering the mock's bind() calls made during
//   start() on the calling thread; see dev_broker.cc.)
// - `cluster()` exposes the mock for fault injection (rdkafka_mock.h: push request errors,
//   broker down/up, RTT).

#include <expected>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "eventlog/kafka/cloudevents.h"

struct rd_kafka_mock_cluster_s;
struct rd_kafka_s;

namespace backline::kafka {

struct dev_broker_options {
  int brokers = 3;
  int port_base = 0;  // 0: any free ports
  int partitions = 6;
  int replication = 0;  // 0: min(3, brokers)
  topic_names topics;
  bool json_topics = true;  // also create "<topic>.json"
  std::vector<std::string> extra_topics;
};

class dev_broker {
 public:
  dev_broker(const dev_broker&) = delete;
  dev_broker& operator=(const dev_broker&) = delete;
  ~dev_broker();

  // Errors are sentences for the operator.
  static std::expected<std::unique_ptr<dev_broker>, std::string> start(
      const dev_broker_options& options);

  // "127.0.0.1:PORT,127.0.0.1:PORT,..." for bootstrap.servers.
  const std::string& bootstrap() const { return bootstrap_; }
  std::vector<std::string> topics() const {
    std::lock_guard lock(mutex_);
    return topics_;
  }
  rd_kafka_mock_cluster_s* cluster() const { return cluster_; }

  // Creates another topic (e.g. a test's); may take up to ~1 s (see dev_broker.cc). Errors are
  // sentences.
  std::expected<void, std::string> create_topic(const std::string& name, int partitions);

 private:
  dev_broker() = default;
  rd_kafka_s* handle_ = nullptr;  // the client instance the mock requires for bookkeeping
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_;
  mutable std::mutex mutex_;
  std::vector<std::string> topics_;
  int replication_ = 1;
};

}  // namespace backline::kafka
