// The public face of the log: error category, open, append (the producer side of the queue),
// counters, and the small encoding helpers shared by the writer and the readers.

#include "eventlog/log.h"

#include <pthread.h>

#include <flatbuffers/flatbuffers.h>

#include "eventlog/log_impl.h"
#include "schemas/codec.h"

namespace backline::eventlog {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "backline.eventlog"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::ok:
        return "ok";
      case errc::io_error:
        return "the event log's storage failed (see the log for RocksDB's message); the log "
               "no longer accepts appends: restart the engine";
      case errc::overloaded:
        return "the event log's append queue is full: retry later";
      case errc::closed:
        return "the event log is closed or read-only: appends are not accepted";
      case errc::corrupt:
        return "an envelope failed verification (not a well-formed Envelope, or its stream or "
               "version differ from the request's)";
      case errc::version_gap:
        return "a stream version is not the next one for its stream: reload the stream and "
               "decide again";
      case errc::bad_options:
        return "invalid event log options: set a directory and non-zero queue and batch limits";
    }
    return "unknown event log error " + std::to_string(c);
  }
};

}  // namespace

const std::error_category& log_category() {
  static const category instance;
  return instance;
}

std::expected<std::unique_ptr<log>, std::error_code> log::open(const options& opts) {
  if (opts.dir.empty() || opts.queue_requests_max == 0 || opts.batch_events_max == 0)
    return std::unexpected(make_error_code(errc::bad_options));
  auto impl = std::make_unique<detail::log_impl>(opts);
  if (auto ec = impl->start()) return std::unexpected(ec);
  return impl;
}

// For implementations without an in-place reader: copies, then visits.
std::expected<std::size_t, std::error_code> log::visit_from(
    std::uint64_t from, std::size_t max, const std::function<bool(const record&)>& visit,
    read_hint) {
  auto records = read_from(from, max);
  if (!records) return std::unexpected(records.error());
  std::size_t visited = 0;
  for (const auto& r : *records) {
    ++visited;
    if (!visit(r)) break;
  }
  return visited;
}

namespace detail {

void put_u64_be(char* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
}

std::uint64_t get_u64_be(const char* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

void stream_key(std::string& out, std::string_view stream, std::uint64_t version) {
  out.assign(stream);
  out.push_back('\0');
  char be[8];
  put_u64_be(be, version);
  out.append(be, 8);
}

envelope_identity identity_of(std::string_view verified_envelope) {
  // vtable offsets of Envelope fields: 4 + 2 * field id.
  constexpr flatbuffers::voffset_t stream_kind_field = 6, stream_id_field = 8, version_field = 10;
  const auto* table = flatbuffers::GetRoot<flatbuffers::Table>(verified_envelope.data());
  envelope_identity id;
  if (const auto* s = table->GetPointer<const flatbuffers::String*>(stream_kind_field))
    id.stream_kind = s->string_view();
  if (const auto* s = table->GetPointer<const flatbuffers::String*>(stream_id_field))
    id.stream_id = s->string_view();
  id.stream_version = table->GetField<std::uint64_t>(version_field, 0);
  return id;
}

bool same_stream(const envelope_identity& id, std::string_view stream) {
  return stream.size() == id.stream_kind.size() + 1 + id.stream_id.size() &&
         stream.starts_with(id.stream_kind) && stream[id.stream_kind.size()] == '/' &&
         stream.ends_with(id.stream_id);
}

std::error_code make_record(std::uint64_t position, std::string_view bytes, record& out) {
  // Copy first: RocksDB's slices may be misaligned, a std::string's heap buffer is not.
  out.envelope.assign(bytes);
  if (!schemas::verify_envelope(out.envelope)) return errc::corrupt;
  const auto id = identity_of(out.envelope);
  out.position = position;
  out.stream.reserve(id.stream_kind.size() + 1 + id.stream_id.size());
  out.stream.assign(id.stream_kind).append(1, '/').append(id.stream_id);
  out.stream_version = id.stream_version;
  return {};
}

log_impl::log_impl(const options& opts) : opts_(opts) {
  write_options_.sync = opts.durability_mode == durability::fsync_per_batch;
  write_options_.disableWAL = false;  // the WAL is the durability; never turn it off
}

std::error_code log_impl::start() {
  auto ec = opts_.read_only ? open_secondary() : open_primary();
  if (!ec) ec = recover_position();
  if (ec) return ec;
  if (!opts_.read_only) {
    writer_ = std::thread([this] { writer_loop(); });
    pthread_setname_np(writer_.native_handle(), "bl-log-writer");  // for top -H, perf, benches
  }
  return {};
}

void log_impl::stop_appends() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();  // the writer drains the queue before it exits
  // The callbacks' captures (e.g. actor handles) go now, while what they point to still exists.
  std::vector<append_request> spent;
  {
    std::lock_guard lock(queue_mu_);
    spent.swap(spent_);
  }
}

log_impl::~log_impl() {
  stop_appends();
  std::vector<std::shared_ptr<subscription_core>> live;
  {
    std::lock_guard lock(subs_mu_);
    for (auto& w : subs_)
      if (auto s = w.lock()) live.push_back(std::move(s));
    subs_.clear();
  }
  for (auto& s : live) stop_subscription(*s);
  close_db();
}

std::error_code log_impl::append(append_request request) {
  if (opts_.read_only) return errc::closed;
  if (failed_.load(std::memory_order_relaxed)) return errc::io_error;
  std::vector<append_request> spent;  // destroyed here, after the lock is released
  {
    std::lock_guard lock(queue_mu_);
    spent.swap(spent_);
    if (stopping_) return errc::closed;
    if (queue_.size() >= opts_.queue_requests_max) return errc::overloaded;
    queue_.push_back(std::move(request));
    queued_.store(queue_.size(), std::memory_order_release);
    if (!writer_sleeping_) return {};
  }
  queue_cv_.notify_one();
  return {};
}

std::uint64_t log_impl::committed_position() const {
  return committed_.load(std::memory_order_acquire);
}

stats log_impl::counters() const {
  return {.batches = n_batches_.load(std::memory_order_relaxed),
          .events = n_events_.load(std::memory_order_relaxed),
          .requests = n_requests_.load(std::memory_order_relaxed),
          .syncs = n_syncs_.load(std::memory_order_relaxed)};
}

}  // namespace detail
}  // namespace backline::eventlog
