// The relay thread: read the log from the published position, produce, count delivery reports
// per position, advance the published position over the acknowledged prefix, store it.
#include "eventlog/kafka/publisher.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "eventlog/kafka/position_file.h"
#include "eventlog/log.h"
#include "schemas/codec.h"
#include "schemas/envelope_generated.h"

namespace backline::kafka {

std::string position_file_path(const std::string& state_dir) {
  return (std::filesystem::path(state_dir) / "kafka-published-position").string();
}

namespace {

using clock_type = std::chrono::steady_clock;

std::string_view view(const flatbuffers::String* s) {
  return s ? s->string_view() : std::string_view{};
}

// The event id as schemas::to_string prints it (8-4-4-4-12 lowercase hex), without allocating.
void event_id_text(const fb::Envelope& e, char (&out)[36]) {
  const fb::Uuid* id = e.event_id();
  schemas::format_uuid(id ? schemas::uuid_from_halves(id->hi(), id->lo()) : schemas::uuid{}, out);
}

// ce_time as schemas::format_rfc3339_us prints it; the calendar part is formatted once per second.
class time_formatter {
 public:
  std::string_view operator()(std::int64_t unix_us) {
    const std::int64_t second =
        unix_us >= 0 ? unix_us / 1'000'000 : -((-unix_us + 999'999) / 1'000'000);
    if (second != second_ || text_.size() != 27) {
      text_ = schemas::format_rfc3339_us(second * 1'000'000);  // "YYYY-MM-DDTHH:MM:SS.000000Z"
      second_ = second;
      if (text_.size() != 27) return text_ = schemas::format_rfc3339_us(unix_us);
    }
    auto micros = static_cast<std::uint32_t>(unix_us - second * 1'000'000);
    for (int i = 25; i >= 20; --i, micros /= 10) text_[i] = static_cast<char>('0' + micros % 10);
    return text_;
  }

 private:
  std::int64_t second_ = 0;
  std::string text_;
};

// The in-flight window's storage: a ring that grows by doubling and never shrinks, so a relay in
// its steady state allocates nothing for it (a std::deque allocates a block every few dozen
// events and now and then reallocates its map: a large allocation, see poll_every_events).
template <typename T>
class ring {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) { return items_[(head_ + i) & (items_.size() - 1)]; }
  T& front() { return items_[head_]; }
  T& back() { return (*this)[size_ - 1]; }
  void push_back(const T& v) {
    if (size_ == items_.size()) grow();
    ++size_;
    back() = v;
  }
  void pop_front() {
    head_ = (head_ + 1) & (items_.size() - 1);
    --size_;
  }
  void clear() { head_ = size_ = 0; }

 private:
  void grow() {
    std::vector<T> bigger(std::max<std::size_t>(items_.size() * 2, 1'024));  // a power of two
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = (*this)[i];
    items_.swap(bigger);
    head_ = 0;
  }
  std::vector<T> items_;
  std::size_t head_ = 0, size_ = 0;
};

// The settings the publisher's guarantees rest on; the operator's pass-through may not weaken them.
std::optional<std::string> refuse_weakening(const std::string& key, const std::string& value) {
  if (key == "enable.idempotence" && value != "true") {
    return "--kafka-config enable.idempotence must stay true: the publisher relies on the "
           "idempotent producer for ordering and no duplicates from retries";
  }
  if ((key == "acks" || key == "request.required.acks") && value != "all" && value != "-1") {
    return "--kafka-config acks must stay 'all': a record is published only once every in-sync "
           "replica has it";
  }
  if (key == "message.timeout.ms" || key == "delivery.timeout.ms") {
    return "--kafka-config " + key +
           " is managed by the publisher (infinite: the log holds events until Kafka takes "
           "them); remove it";
  }
  return std::nullopt;
}

}  // namespace

struct publisher::impl {
  eventlog::log& log;
  publisher_options o;
  position_file pos_file;
  rd_kafka_t* rk = nullptr;
  std::thread thread;
  std::atomic<bool> stop{false};

  // Relay-thread state. `window[i]` is position published_local + 1 + i: its records not yet
  // acknowledged and their bytes. No record bytes are kept: librdkafka copies key and value into
  // the message it allocates anyway (RD_KAFKA_MSG_F_COPY, one malloc per record), so the log is
  // read into one reused record (eventlog::log::visit_from) and nothing the relay allocates per
  // event outlives its produce call.
  struct slot {
    std::uint32_t bytes = 0;  // envelope + JSON mirror; records are far below 4 GiB
    std::uint32_t remaining = 0;
  };
  ring<slot> window;
  std::uint64_t window_bytes = 0;
  std::uint64_t published_local = 0, stored_local = 0, next = 1;
  bool rewind_needed = false;
  bool discarding = false;  // delivery reports of a producer being torn down are ignored
  clock_type::time_point last_store{};
  // Per stream kind: topic handles of the current producer and ce_type per body type.
  struct kind_entry {
    std::string kind;
    rd_kafka_topic_t* topic = nullptr;
    rd_kafka_topic_t* json_topic = nullptr;
    std::array<std::string, 256> types;  // empty: not seen yet
  };
  std::vector<std::unique_ptr<kind_entry>> kinds;
  // The log read on from one read to the next (one RocksDB iterator through a backlog), with
  // the hint it was opened with.
  std::unique_ptr<eventlog::log::cursor> cursor;
  eventlog::read_hint cursor_hint = eventlog::read_hint::recent;
  time_formatter format_time;
  std::string last_tenant, last_source, subject, json;
  // The records' Kafka timestamp (CreateTime): when the relay hands them to the producer, read
  // once every `poll_every_events` records. Left to librdkafka, it read the wall clock per
  // record (~4% of the relay thread). Not the event's own time: a backlog sent late must not
  // fall under the topic's time-based retention as soon as it arrives.
  std::int64_t produce_time_ms = 0;

  // Shared with stats() and wait_published().
  std::atomic<std::uint64_t> published{0}, stored{0}, in_flight{0};
  std::atomic<std::uint64_t> produced{0}, delivered{0}, delivery_errors{0}, producer_errors{0},
      restarts{0};
  std::mutex mutex;
  std::condition_variable published_cv;

  // Rate-limited error lines (librdkafka logs from its own threads too).
  std::mutex log_mutex;
  clock_type::time_point last_warning{};
  std::uint64_t suppressed = 0;

  impl(eventlog::log& l, publisher_options opts)
      : log(l), o(std::move(opts)), pos_file(position_file_path(o.state_dir)) {}

  // Any thread; one line at a time.
  void say(const std::string& line) {
    std::lock_guard lock(log_mutex);
    emit(line);
  }
  void warn(const std::string& line) {
    std::lock_guard lock(log_mutex);
    const auto now = clock_type::now();
    if (now - last_warning < std::chrono::seconds(1)) {
      ++suppressed;
      return;
    }
    last_warning = now;
    if (suppressed > 0) {
      emit(fmt::format("{} ({} similar lines suppressed in the last second)", line, suppressed));
      suppressed = 0;
    } else {
      emit(line);
    }
  }
  void emit(const std::string& line) {  // REQUIRES: log_mutex held
    if (o.log_line) o.log_line("kafka: " + line);
  }

  // --- producer -------------------------------------------------------------------------------

  static void on_delivery(rd_kafka_t* from, const rd_kafka_message_t* m, void* opaque) {
    static_cast<impl*>(opaque)->delivery(from, m);
  }
  static void on_error(rd_kafka_t* from, int err, const char* reason, void* opaque) {
    static_cast<impl*>(opaque)->error(from, static_cast<rd_kafka_resp_err_t>(err), reason);
  }
  static void on_log(const rd_kafka_t* from, int level, const char*, const char* buf) {
    auto* self = static_cast<impl*>(rd_kafka_opaque(from));
    if (level <= 4 && self) self->warn(fmt::format("librdkafka: {}", buf));
  }

  void delivery(rd_kafka_t* from, const rd_kafka_message_t* m) {
    if (from != rk || discarding) return;
    const auto position = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m->_private));
    if (m->err) {
      ++delivery_errors;
      warn(fmt::format("delivery of log position {} to {} failed: {}; re-sending from position {}",
                       position, rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err),
                       published_local + 1));
      rewind_needed = true;
      return;
    }
    ++delivered;
    if (position <= published_local || position - published_local > window.size()) return;
    --window[position - published_local - 1].remaining;
  }

  void error(rd_kafka_t* from, rd_kafka_resp_err_t err, const char* reason) {
    if (from != rk || discarding) return;
    ++producer_errors;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char why[512];
      const auto fatal = rd_kafka_fatal_error(from, why, sizeof why);
      warn(fmt::format("fatal producer error {}: {}; rebuilding the producer",
                       rd_kafka_err2name(fatal), why));
      rewind_needed = true;
      return;
    }
    warn(fmt::format("producer error {}: {}", rd_kafka_err2name(err), reason));
  }

  std::expected<rd_kafka_t*, std::string> make_producer() {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    auto set = [&](const std::string& k, const std::string& v) -> std::optional<std::string> {
      if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        return fmt::format("librdkafka refused {}={}: {}", k, v, err);
      }
      return std::nullopt;
    };
    const std::size_t copies = o.json_mirror ? 2 : 1;
    const std::vector<std::pair<std::string, std::string>> defaults = {
        {"bootstrap.servers", o.bootstrap},
        {"client.id", o.client_id},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.timeout.ms", "0"},  // infinite: never give up on a record, the log holds it
        {"partitioner", "murmur2_random"},
        {"linger.ms", "5"},
        // Above the relay's own bound, so a produce call never meets a full local queue.
        {"queue.buffering.max.messages",
         std::to_string(
             std::min<std::size_t>(o.in_flight_events_max * copies + 10'000, 10'000'000))},
        {"queue.buffering.max.kbytes",
         std::to_string(
             std::min<std::size_t>(o.in_flight_bytes_max / 1024 * 4 + 65'536, 2'147'483'647))},
    };
    for (const auto& [k, v] : defaults) {
      if (auto e = set(k, v)) {
        rd_kafka_conf_destroy(conf);
        return std::unexpected(*e);
      }
    }
    for (const auto& [k, v] : o.producer_config) {
      std::optional<std::string> e = refuse_weakening(k, v);
      if (!e) e = set(k, v);
      if (e) {
        rd_kafka_conf_destroy(conf);
        return std::unexpected(*e);
      }
    }
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, &on_delivery);
    rd_kafka_conf_set_error_cb(conf, &on_error);
    rd_kafka_conf_set_log_cb(conf, &on_log);
    rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!p) {
      rd_kafka_conf_destroy(conf);
      return std::unexpected(fmt::format("cannot create the Kafka producer: {}", err));
    }
    return p;
  }

  void destroy_producer() {
    if (!rk) return;
    for (auto& k : kinds) {
      if (k->topic) rd_kafka_topic_destroy(k->topic);
      if (k->json_topic) rd_kafka_topic_destroy(k->json_topic);
      k->topic = k->json_topic = nullptr;
    }
    discarding = true;
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk, 0);
    rd_kafka_destroy(rk);
    rk = nullptr;
    discarding = false;
  }

  void create_topics() {
    std::vector<std::string> names = o.topics.all();
    if (o.json_mirror) {
      for (const auto& t : o.topics.all()) names.push_back(t + std::string(json_topic_suffix));
    }
    char err[512];
    std::vector<rd_kafka_NewTopic_t*> topics;
    for (const auto& name : names) {
      if (auto* t = rd_kafka_NewTopic_new(name.c_str(), o.topic_partitions, o.topic_replication,
                                          err, sizeof err)) {
        topics.push_back(t);
      } else {
        say(fmt::format("cannot describe topic {} for creation: {}", name, err));
      }
    }
    rd_kafka_AdminOptions_t* ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(ao, 10'000, err, sizeof err);
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, topics.data(), topics.size(), ao, q);
    if (rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 15'000)) {
      if (rd_kafka_event_error(ev)) {
        say(fmt::format("topic creation failed ({}); relying on the cluster's auto-creation",
                        rd_kafka_event_error_string(ev)));
      } else if (const auto* res = rd_kafka_event_CreateTopics_result(ev)) {
        std::size_t n = 0;
        const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
        for (std::size_t i = 0; i < n; ++i) {
          const auto e = rd_kafka_topic_result_error(results[i]);
          if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            say(fmt::format("created topic {} ({} partitions)",
                            rd_kafka_topic_result_name(results[i]), o.topic_partitions));
          } else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            say(fmt::format("cannot create topic {}: {}", rd_kafka_topic_result_name(results[i]),
                            rd_kafka_err2str(e)));
          }
        }
      }
      rd_kafka_event_destroy(ev);
    } else {
      say("topic creation timed out; relying on the cluster's auto-creation");
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
  }

  // --- relay ----------------------------------------------------------------------------------

  kind_entry& kind_of(std::string_view kind) {
    for (auto& k : kinds) {
      if (k->kind == kind) return *k;
    }
    kinds.push_back(std::make_unique<kind_entry>());
    kinds.back()->kind = kind;
    return *kinds.back();
  }

  rd_kafka_topic_t* topic_of(kind_entry& k, bool json) {
    rd_kafka_topic_t*& t = json ? k.json_topic : k.topic;
    if (!t) {
      std::string name = o.topics.for_kind(k.kind);
      if (json) name += json_topic_suffix;
      t = rd_kafka_topic_new(rk, name.c_str(), nullptr);
    }
    return t;
  }

  // ce_type: "<type prefix of the kind>.<event type name>", decoded once per kind and body type.
  const std::string& event_type(kind_entry& k, const fb::Envelope& e, std::string_view envelope) {
    std::string& t = k.types[static_cast<std::uint8_t>(e.body_type())];
    if (t.empty()) {
      auto d = schemas::decode(envelope);
      t = type_prefix(k.kind) + "." + std::string(d ? schemas::type_name(d->payload) : "unknown");
    }
    return t;
  }

  bool produce_one(rd_kafka_topic_t* topic, std::string_view key, std::string_view value,
                   rd_kafka_headers_t* h, std::uint64_t position) {
    const auto err = rd_kafka_producev(
        rk, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_TIMESTAMP(produce_time_ms),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(position))),
        RD_KAFKA_V_END);
    if (err) {
      rd_kafka_headers_destroy(h);
      ++producer_errors;
      warn(fmt::format("cannot produce log position {} to {}: {}; re-sending from position {}",
                       position, rd_kafka_topic_name(topic), rd_kafka_err2str(err),
                       published_local + 1));
      return false;
    }
    ++produced;
    return true;
  }

  static void add_header(rd_kafka_headers_t* h, std::string_view name, std::string_view value) {
    rd_kafka_header_add(h, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  }

  // Produces every record of one log position (the hot path: no allocation but librdkafka's,
  // which copies key and value). REQUIRES: `envelope` verified (the log verified it on read)
  // and aligned as FlatBuffers expects (a std::string's buffer is).
  // False: rewind (the position keeps its unsent records counted, so it is never published).
  bool produce(std::uint64_t position, std::string_view envelope) {
    const auto* e = fb::GetEnvelope(envelope.data());
    const std::string_view kind = view(e->stream_kind()), id = view(e->stream_id());
    kind_entry& k = kind_of(kind);
    const std::string& type = event_type(k, *e, envelope);
    char event_id[36];
    event_id_text(*e, event_id);
    if (const std::string_view tenant = view(e->tenant()); tenant != last_tenant) {
      last_tenant = tenant;
      last_source = o.attributes.source_prefix + last_tenant;
    }
    subject.assign(kind).append("/").append(id);
    const std::string_view time = format_time(e->occurred_at_us());
    const std::string_view id_text(event_id, sizeof event_id);

    json.clear();
    std::uint32_t records = 1;
    if (o.json_mirror) {
      if (auto d = schemas::decode_verified(envelope)) {
        append_structured_json(json, o.attributes, {id_text, last_source, type, time, subject}, *d);
        records = 2;
      }
    }
    window.push_back({static_cast<std::uint32_t>(envelope.size() + json.size()), records});
    window_bytes += window.back().bytes;
    rd_kafka_headers_t* h = rd_kafka_headers_new(8);
    add_header(h, "ce_specversion", "1.0");
    add_header(h, "ce_id", id_text);
    add_header(h, "ce_source", last_source);
    add_header(h, "ce_type", type);
    add_header(h, "ce_time", time);
    add_header(h, "ce_subject", subject);
    add_header(h, "content-type", content_type_flatbuffers);
    add_header(h, "ce_dataschema", o.attributes.dataschema);
    if (!produce_one(topic_of(k, false), id, envelope, h, position)) return false;
    if (records == 2) {
      rd_kafka_headers_t* jh = rd_kafka_headers_new(1);
      add_header(jh, "content-type", content_type_cloudevents_json);
      if (!produce_one(topic_of(k, true), id, json, jh, position)) return false;
    }
    return true;
  }

  void advance() {
    const std::uint64_t before = published_local;
    while (!window.empty() && window.front().remaining == 0) {
      window_bytes -= window.front().bytes;
      window.pop_front();
      ++published_local;
    }
    in_flight = window.size();
    if (published_local != before) {
      {
        std::lock_guard lock(mutex);
        published = published_local;
      }
      published_cv.notify_all();
    }
  }

  void store(bool force) {
    if (published_local == stored_local) return;
    const auto now = clock_type::now();
    if (!force && now - last_store < std::chrono::milliseconds(o.store_interval_ms)) return;
    last_store = now;
    if (auto ok = pos_file.store(published_local); !ok) {
      warn("cannot store the published position: " + ok.error());
      return;
    }
    stored_local = published_local;
    stored = stored_local;
  }

  // Drops the producer and everything in flight, then starts again after the published prefix.
  void rewind() {
    destroy_producer();
    window.clear();
    window_bytes = 0;
    in_flight = 0;
    next = published_local + 1;
    rewind_needed = false;
    ++restarts;
    const auto until = clock_type::now() + std::chrono::milliseconds(o.restart_backoff_ms);
    while (!stop && clock_type::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto p = make_producer();
    if (!p) {  // cannot happen with options start() accepted; keep trying rather than lose events
      warn("cannot rebuild the producer: " + p.error());
      rewind_needed = true;
      return;
    }
    rk = *p;
    say(fmt::format("producer rebuilt; re-sending from log position {}", next));
  }

  bool has_room() const {
    return window.size() < o.in_flight_events_max && window_bytes < o.in_flight_bytes_max;
  }

  // Delivery reports are served among the produce calls, every `poll_every_events` and first
  // thing in each read (after the read has made its iterator), not only between reads. malloc
  // and free are the relay thread's largest cost in perf: librdkafka allocates each record's
  // message and eight headers and frees them when the report is served. A report frees
  // thousands of small chunks, which the next produce calls take straight back from glibc's
  // per-thread caches, unless a large allocation comes between: glibc then first consolidates
  // every small chunk it holds. Served only between reads, the freed chunks waited through the
  // next read's iterator (a large allocation): about a fifth of the thread.
  static constexpr std::size_t poll_every_events = 256;

  void serve_delivery_reports(int timeout_ms) {
    rd_kafka_poll(rk, timeout_ms);
    advance();
  }

  void run() {
    while (!stop) {
      if (rewind_needed) {
        rewind();
        continue;
      }
      std::size_t sent = 0;
      if (has_room()) {
        const std::size_t want =
            std::min(o.read_batch_events_max, o.in_flight_events_max - window.size());
        // A backlog of at least a whole batch is read as a scan (read ahead, block cache left
        // alone); a relay that keeps up reads the few newest events, kept in the cache.
        const std::uint64_t committed = log.committed_position();
        const auto hint = committed >= next && committed - next + 1 >= want
                              ? eventlog::read_hint::scan
                              : eventlog::read_hint::recent;
        const auto visit = [this, &sent](const eventlog::record& r) {
          if (sent % poll_every_events == 0) {
            serve_delivery_reports(0);
            if (rewind_needed) return false;  // `r` is not produced: read again after the rewind
            produce_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
          }
          if (!produce(r.position, r.envelope)) {
            rewind_needed = true;
            return false;
          }
          next = r.position + 1;
          ++sent;
          return true;
        };
        if (!cursor || cursor_hint != hint) {
          cursor = log.open_cursor(hint);
          cursor_hint = hint;
        }
        auto read = cursor->visit_from(next, want, visit);
        if (!read) warn("cannot read the event log: " + read.error().message());
      }
      if (sent == 0) {  // caught up, or the in-flight bound reached (e.g. a broker outage)
        if (cursor) cursor->release();
        serve_delivery_reports(static_cast<int>(o.idle_poll_ms));
      }
      store(false);
    }
    drain();
  }

  void drain() {
    const auto deadline = clock_type::now() + std::chrono::milliseconds(o.flush_timeout_ms);
    while (rk && !window.empty() && !rewind_needed && clock_type::now() < deadline) {
      rd_kafka_poll(rk, 10);
      advance();
    }
    store(true);
    if (!window.empty()) {
      say(
          fmt::format("stopping with {} events unacknowledged; they are re-sent from log position "
                      "{} on the next start",
                      window.size(), published_local + 1));
    }
    destroy_producer();
  }
};

publisher::publisher(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

publisher::~publisher() {
  impl_->stop = true;
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::expected<std::unique_ptr<publisher>, std::string> publisher::start(eventlog::log& log,
                                                                        publisher_options options) {
  if (options.bootstrap.empty()) {
    return std::unexpected("--kafka needs a bootstrap list, e.g. --kafka 127.0.0.1:9092");
  }
  if (options.state_dir.empty()) {
    return std::unexpected("the Kafka publisher needs a state directory for its position");
  }
  if (options.in_flight_events_max == 0 || options.read_batch_events_max == 0 ||
      options.in_flight_bytes_max == 0) {
    return std::unexpected("the Kafka publisher's in-flight and batch limits must be positive");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  auto p = std::make_unique<impl>(log, std::move(options));
  auto loaded = p->pos_file.load();
  if (!loaded) return std::unexpected(loaded.error());
  // A position past the log's end belongs to another log (the data directory was replaced or
  // restored from an older copy): resuming after it would skip every event up to it.
  if (const std::uint64_t committed = log.committed_position(); *loaded > committed) {
    return std::unexpected(fmt::format(
        "{} says log positions up to {} were published to Kafka, but the event log ends at "
        "position {}: the file belongs to another log (was the data directory replaced or "
        "restored?). Remove {} to publish this log from its first event (consumers dedupe by "
        "ce_id), or start with the data directory that file belongs to",
        p->pos_file.path(), *loaded, committed, p->pos_file.path()));
  }
  p->published_local = p->stored_local = *loaded;
  p->published = p->stored = *loaded;
  p->next = *loaded + 1;
  auto rk = p->make_producer();
  if (!rk) return std::unexpected(rk.error());
  p->rk = *rk;
  if (p->o.topic_partitions > 0) p->create_topics();
  p->say(fmt::format("publishing to {} from log position {} (idempotent, acks=all{})",
                     p->o.bootstrap, p->next, p->o.json_mirror ? ", JSON mirror" : ""));
  impl* raw = p.get();
  p->thread = std::thread([raw] { raw->run(); });
  pthread_setname_np(p->thread.native_handle(), "bl-kafka-relay");
  return std::unique_ptr<publisher>(new publisher(std::move(p)));
}

publisher_stats publisher::stats() const {
  publisher_stats s;
  s.committed_position = impl_->log.committed_position();
  s.published_position = impl_->published;
  s.stored_position = impl_->stored;
  s.lag_events =
      s.committed_position > s.published_position ? s.committed_position - s.published_position : 0;
  s.in_flight_events = impl_->in_flight;
  s.records_produced_total = impl_->produced;
  s.records_delivered_total = impl_->delivered;
  s.delivery_errors_total = impl_->delivery_errors;
  s.producer_errors_total = impl_->producer_errors;
  s.producer_restarts_total = impl_->restarts;
  return s;
}

bool publisher::wait_published(std::uint64_t position, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  return impl_->published_cv.wait_for(lock, timeout, [&] { return impl_->published >= position; });
}

}  // namespace backline::kafka
