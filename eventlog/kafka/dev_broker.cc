#include "eventlog/kafka/dev_broker.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <future>
#include <optional>

#include <fmt/format.h>

namespace {

// Port pinning. librdkafka 2.0.2's mock binds each broker to 127.0.0.1 port 0 inside
// rd_kafka_mock_cluster_new, on the calling thread. This definition of bind() interposes the
// C library's for the whole process (librdkafka resolves bind through the executable first);
// it changes nothing unless the calling thread armed it, and then only a loopback bind to
// port 0: that one gets the next pinned port.
thread_local int pinned_next_port = 0;

using bind_fn = int (*)(int, const struct sockaddr*, socklen_t);

bind_fn real_bind() {
  static const bind_fn f = reinterpret_cast<bind_fn>(dlsym(RTLD_NEXT, "bind"));
  return f;
}

}  // namespace

extern "C" int bind(int fd, const struct sockaddr* addr, socklen_t len) {
  if (pinned_next_port > 0 && addr && addr->sa_family == AF_INET &&
      len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in pinned;
    std::memcpy(&pinned, addr, sizeof pinned);
    if (pinned.sin_port == 0 && pinned.sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
      pinned.sin_port = htons(static_cast<std::uint16_t>(pinned_next_port++));
      return real_bind()(fd, reinterpret_cast<const sockaddr*>(&pinned), sizeof pinned);
    }
  }
  return real_bind()(fd, addr, len);
}

namespace backline::kafka {

dev_broker::~dev_broker() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_) rd_kafka_destroy(handle_);
}

std::expected<std::unique_ptr<dev_broker>, std::string> dev_broker::start(
    const dev_broker_options& options) {
  if (options.brokers < 1 || options.brokers > 32) {
    return std::unexpected("--brokers must be between 1 and 32");
  }
  if (options.partitions < 1 || options.partitions > 1024) {
    return std::unexpected("--partitions must be between 1 and 1024");
  }
  if (options.port_base < 0 || options.port_base + options.brokers > 65'536) {
    return std::unexpected("--port-base must leave room for one port per broker below 65536");
  }
  std::unique_ptr<dev_broker> b(new dev_broker());
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The bookkeeping instance never connects anywhere; keep it quiet.
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  b->handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!b->handle_) {
    rd_kafka_conf_destroy(conf);
    return std::unexpected(fmt::format("cannot create a librdkafka instance: {}", err));
  }
  pinned_next_port = options.port_base;
  b->cluster_ = rd_kafka_mock_cluster_new(b->handle_, options.brokers);
  pinned_next_port = 0;
  if (!b->cluster_) {
    return std::unexpected(
        options.port_base > 0
            ? fmt::format("cannot start the mock brokers on ports {}..{}: is one of them taken? "
                          "Pick another --port-base or leave it out",
                          options.port_base, options.port_base + options.brokers - 1)
            : std::string("cannot start the mock brokers (see librdkafka's message above)"));
  }
  b->bootstrap_ = rd_kafka_mock_cluster_bootstraps(b->cluster_);
  if (options.port_base > 0 &&
      b->bootstrap_.find(fmt::format(":{}", options.port_base)) == std::string::npos) {
    return std::unexpected(fmt::format(
        "this librdkafka build did not let the dev broker pin its ports (got {}); leave out "
        "--port-base",
        b->bootstrap_));
  }
  b->replication_ = options.replication > 0 ? options.replication : std::min(3, options.brokers);
  std::vector<std::string> names = options.topics.all();
  if (options.json_topics) {
    for (const auto& t : options.topics.all()) names.push_back(t + std::string(json_topic_suffix));
  }
  names.insert(names.end(), options.extra_topics.begin(), options.extra_topics.end());
  // One thread per topic: the 2.0.2 mock sometimes misses the wake-up of a request queued right
  // behind another and serves it only at its next 1 s poll timeout; in parallel those waits
  // overlap instead of adding up (8 topics: ~1 s instead of ~4 s).
  std::vector<std::future<std::expected<void, std::string>>> created;
  for (const auto& name : names) {
    created.push_back(std::async(std::launch::async, [&b, &name, &options] {
      return b->create_topic(name, options.partitions);
    }));
  }
  std::optional<std::string> failure;
  for (auto& f : created) {
    if (auto ok = f.get(); !ok && !failure) failure = ok.error();
  }
  if (failure) return std::unexpected(*failure);
  return b;
}

std::expected<void, std::string> dev_broker::create_topic(const std::string& name, int partitions) {
  const auto e = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, replication_);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(
        fmt::format("cannot create topic {} on the dev broker: {}", name, rd_kafka_err2str(e)));
  }
  std::lock_guard lock(mutex_);
  topics_.push_back(name);
  return {};
}

}  // namespace backline::kafka
