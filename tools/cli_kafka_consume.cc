// The CLI's Kafka consumers. The contract is in cli_kafka_consume.h.
#include "tools/cli_kafka_consume.h"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "eventlog/kafka/cloudevents.h"
#include "projections/store.h"
#include "schemas/codec.h"
#include "tools/cli_events.h"

namespace backline::cli {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr int poll_ms = 100;
constexpr std::int64_t metadata_timeout_ms = 10'000;

struct rk_deleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using consumer_ptr = std::unique_ptr<rd_kafka_t, rk_deleter>;
struct list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, list_deleter>;
struct message_deleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using message_ptr = std::unique_ptr<rd_kafka_message_t, message_deleter>;

std::vector<std::string> topics_or_default(const std::vector<std::string>& topics) {
  return topics.empty() ? kafka::topic_names{}.all() : topics;
}

// A consumer with the CLI's settings, then the caller's. `setup` may set callbacks on the conf.
result<consumer_ptr> make_consumer(const std::vector<std::pair<std::string, std::string>>& settings,
                                   const std::function<void(rd_kafka_conf_t*)>& setup) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return fail(exit_usage, fmt::format("Kafka setting {}={}: {}", k, v, err));
    }
  }
  if (setup) setup(conf);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return fail(exit_usage, fmt::format("cannot create the Kafka consumer: {}", err));
  }
  rd_kafka_poll_set_consumer(rk);  // one queue: events and messages from consumer_poll
  return consumer_ptr(rk);
}

// What the rebalance callback needs; it runs inside rd_kafka_consumer_poll, on our thread.
struct group_state {
  projections::projector* projector = nullptr;
  bool assigned = false;
  std::string error;
};

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                  rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto& s = *static_cast<group_state*>(opaque);
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // Seek to what the store holds (applied and possibly not flushed yet: the projector's view).
    const auto& offsets = s.projector->offsets();
    for (int i = 0; i < partitions->cnt; ++i) {
      auto& p = partitions->elems[i];
      auto it = offsets.find({p.topic, p.partition});
      p.offset = it != offsets.end() ? it->second : RD_KAFKA_OFFSET_BEGINNING;
    }
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, partitions)) {
        s.error = rd_kafka_error_string(e);
        rd_kafka_error_destroy(e);
      }
    } else if (auto e = rd_kafka_assign(rk, partitions); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      s.error = rd_kafka_err2str(e);
    }
    s.assigned = true;
    return;
  }
  // Revoked or lost: what was applied goes to the store with its offsets before another member
  // reads these partitions from there.
  if (auto ec = s.projector->flush()) s.error = ec.message();
  if (cooperative) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, partitions)) {
      rd_kafka_error_destroy(e);
    }
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

list_ptr topic_list(const std::vector<std::string>& topics) {
  list_ptr l(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics) {
    rd_kafka_topic_partition_list_add(l.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  return l;
}

void draw_progress(const project_kafka_result& r, const projections::projector& p, bool final) {
  const auto s = p.stats();
  fmt::print(stderr, "\rproject: {} records, {} applied, {} duplicates, checkpoint {}{}", r.records,
             s.events, s.duplicates, p.applied_position(), final ? "\n" : "");
}

}  // namespace

result<project_kafka_result> project_from_kafka(const project_kafka_options& o) {
  const std::string dir =
      o.store_dir.empty() ? projections::default_store_dir(o.data_dir) : o.store_dir;
  auto st = projections::store::open({dir, projections::open_mode::read_write});
  if (!st) {
    return fail(exit_not_found,
                fmt::format("cannot open the projection store {}: {}", dir, st.error().message()));
  }
  projections::projector_options popts;
  popts.batch_events = o.batch_events;
  projections::projector p(**st, popts);
  group_state gs{&p};
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", o.bootstrap}, {"group.id", o.group},
      {"enable.auto.commit", "false"},    {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},  {"client.id", "backline-project"},
      {"enable.partition.eof", "false"},
  };
  settings.insert(settings.end(), o.consumer_config.begin(), o.consumer_config.end());
  auto rk = make_consumer(settings, [&](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, &gs);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
  });
  if (!rk) return std::unexpected(rk.error());
  const auto topics = topics_or_default(o.topics);
  if (auto e = rd_kafka_subscribe(rk->get(), topic_list(topics).get()); e) {
    return fail(exit_usage, fmt::format("cannot subscribe to {}: {}", fmt::join(topics, ", "),
                                        rd_kafka_err2str(e)));
  }

  project_kafka_result out;
  const auto started = clock_type::now();
  auto last_activity = started;
  auto last_draw = started;
  bool was_assigned = false;
  std::optional<cli_error> failure;
  while (!stop_requested() && !failure) {
    message_ptr m(rd_kafka_consumer_poll(rk->get(), poll_ms));
    const auto now = clock_type::now();
    if (!gs.error.empty()) {
      failure = cli_error{exit_not_found, "while rebalancing: " + gs.error};
      break;
    }
    if (gs.assigned && !was_assigned) last_activity = now;
    was_assigned = gs.assigned;
    if (m && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++out.records;
      last_activity = now;
      const projections::kafka_event e{
          rd_kafka_topic_name(m->rkt), m->partition, m->offset,
          std::string_view(static_cast<const char*>(m->payload), m->len)};
      if (auto ec = p.apply(e)) {
        failure = cli_error{exit_check_failed,
                            fmt::format("cannot apply {}[{}] offset {}: {}; is it a Backline "
                                        "topic? check --topics",
                                        e.topic, e.partition, e.offset, ec.message())};
      }
    } else if (m && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      char fatal[256];
      if (rd_kafka_fatal_error(rk->get(), fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failure = cli_error{exit_not_found, fmt::format("Kafka consumer failed: {}", fatal)};
      } else {
        fmt::print(stderr, "backline: kafka: {}\n", rd_kafka_message_errstr(m.get()));
      }
    }
    if (o.progress && now - last_draw > std::chrono::seconds(1)) {
      draw_progress(out, p, false);
      last_draw = now;
    }
    if (o.until_idle_s > 0) {
      const std::chrono::duration<double> idle = now - last_activity;
      if (gs.assigned && idle.count() >= o.until_idle_s) break;
      const std::chrono::duration<double> waited = now - started;
      if (!gs.assigned && waited.count() >= o.assign_timeout_s) {
        failure = cli_error{exit_not_found,
                            fmt::format("no partition of {} was assigned to group {} within {} s: "
                                        "check --kafka and that the topics exist",
                                        fmt::join(topics, ", "), o.group, o.assign_timeout_s)};
      }
    }
  }
  const auto flushed = p.flush();
  rd_kafka_consumer_close(rk->get());
  if (o.progress) draw_progress(out, p, true);
  if (failure) return std::unexpected(*failure);
  if (flushed) {
    return fail(exit_not_found,
                fmt::format("cannot write the projection store: {}", flushed.message()));
  }
  out.stats = p.stats();
  out.offsets = p.offsets();
  out.checkpoint = p.applied_position();
  return out;
}

int run_project_kafka(const project_kafka_options& o) {
  auto r = project_from_kafka(o);
  if (!r) return report(r.error());
  fmt::print(stderr,
             "backline: projected from Kafka: {} records, {} applied, {} duplicates skipped; "
             "checkpoint {}\n",
             r->records, r->stats.events, r->stats.duplicates, r->checkpoint);
  return exit_ok;
}

namespace {

// Every partition of `topics` from the beginning. Errors are sentences.
result<list_ptr> all_partitions(rd_kafka_t* rk, const std::vector<std::string>& topics) {
  list_ptr l(rd_kafka_topic_partition_list_new(0));
  for (const auto& t : topics) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, t.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    const auto e = rd_kafka_metadata(rk, 0, rkt, &md, metadata_timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
      const auto why = e ? e : md->topics[0].err;
      if (md) rd_kafka_metadata_destroy(md);
      return fail(exit_not_found, fmt::format("no topic {} on the Kafka cluster: {}; check "
                                              "--kafka and --topic",
                                              t, rd_kafka_err2str(why)));
    }
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
      rd_kafka_topic_partition_list_add(l.get(), t.c_str(), md->topics[0].partitions[i].id)
          ->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_metadata_destroy(md);
  }
  return l;
}

}  // namespace

int run_events_tail_kafka(const kafka_tail_options& o) {
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", o.bootstrap},
      {"group.id", fmt::format("backline-tail-{}", ::getpid())},  // required; never committed
      {"enable.auto.commit", "false"},
      {"enable.partition.eof", "true"},
      {"client.id", "backline-tail"},
  };
  settings.insert(settings.end(), o.consumer_config.begin(), o.consumer_config.end());
  auto rk = make_consumer(settings, nullptr);
  if (!rk) return report(rk.error());
  auto parts = all_partitions(rk->get(), topics_or_default(o.topics));
  if (!parts) return report(parts.error());
  if (auto e = rd_kafka_assign(rk->get(), parts->get()); e) {
    return report({exit_not_found, fmt::format("cannot assign: {}", rd_kafka_err2str(e))});
  }
  record_writer out(o.output, event_columns(o.output), o.out);
  std::set<std::pair<std::string, std::int32_t>> at_end;  // partitions that reached their end
  const std::size_t partitions = static_cast<std::size_t>((*parts)->cnt);
  int code = exit_ok;
  while (!stop_requested() && (o.follow || at_end.size() < partitions)) {
    message_ptr m(rd_kafka_consumer_poll(rk->get(), poll_ms));
    if (!m) {
      out.flush();
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // EOF is reported again after new records: each partition counts once.
      at_end.emplace(rd_kafka_topic_name(m->rkt), m->partition);
      continue;
    }
    if (m->err) {
      fmt::print(stderr, "backline: kafka: {}\n", rd_kafka_message_errstr(m.get()));
      continue;
    }
    auto d = schemas::decode(std::string_view(static_cast<const char*>(m->payload), m->len));
    if (!d) {
      code = report(
          {exit_check_failed,
           fmt::format("{}[{}] offset {} is not a Backline envelope ({}); skipped",
                       rd_kafka_topic_name(m->rkt), m->partition, m->offset, d.error().message())});
      continue;
    }
    out.write(nlohmann::json::parse(schemas::to_json(*d)));
  }
  out.finish();
  rd_kafka_consumer_close(rk->get());
  return code;
}

}  // namespace backline::cli
