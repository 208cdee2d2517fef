// The writer thread: group commit. It drains the queue, checks and stages each request into one
// WriteBatch, writes it (synced or not), publishes the committed position, wakes subscribers and
// only then runs the `done` callbacks.

#include <algorithm>
#include <iterator>

#include "eventlog/bounded_cache.h"
#include "eventlog/log_impl.h"
#include "schemas/codec.h"

namespace backline::eventlog::detail {
namespace {

// Bounds the writer's version cache; past it, each new stream evicts one (misses read RocksDB).
// Its buckets are allocated up front (2 MiB): growing a map of a hundred thousand entries
// rehashes all of them at once, ~15 ms with every append waiting (bench/RESULTS.md, issue 3).
constexpr std::size_t version_cache_streams_max = 1 << 18;

using outcome = std::expected<std::uint64_t, std::error_code>;

}  // namespace

void log_impl::writer_loop() {
  versions_.reserve(version_cache_streams_max);
  std::vector<append_request> reqs;
  for (;;) {
    reqs.clear();
    if (take_batch(reqs) == 0) return;  // stopping, and the queue is drained
    commit_batch(reqs);
  }
}

// Moves queued requests into `out` up to batch_events_max events (always at least one request,
// so an oversized request still goes through alone). Returns the number of requests taken.
std::size_t log_impl::take_batch(std::vector<append_request>& out) {
  // Spin a little (200 pauses, about 5 µs on this project's 2-core machine) before sleeping:
  // under load the next request is usually already on its way, and a sleep costs the appender a
  // futex wake. 2,000 pauses (about 55 µs) kept the writer spinning through the gaps of a
  // moderate load, a core taken from the actors and from RocksDB's flushes.
  for (int i = 0; i < 200 && queued_.load(std::memory_order_acquire) == 0; ++i) {
    __builtin_ia32_pause();
  }
  std::unique_lock lock(queue_mu_);
  writer_sleeping_ = true;
  queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
  writer_sleeping_ = false;
  std::size_t events = 0;
  while (!queue_.empty()) {
    const auto n = queue_.front().events.size();
    if (!out.empty() && events + n > opts_.batch_events_max) break;
    events += n;
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  queued_.store(queue_.size(), std::memory_order_release);
  return out.size();
}

void log_impl::commit_batch(std::vector<append_request>& reqs) {
  batch_.Clear();
  version_it_.reset();  // a fresh view of "streams" for this batch's cache misses
  std::vector<outcome> outcomes;
  outcomes.reserve(reqs.size());
  std::uint64_t position = next_position_;
  for (auto& req : reqs) {
    auto ec = failed_.load(std::memory_order_relaxed) ? make_error_code(errc::io_error)
                                                      : stage_request(req, position);
    if (ec) {
      outcomes.emplace_back(std::unexpected(ec));
      continue;
    }
    outcomes.emplace_back(position);
    position += req.events.size();
  }
  version_it_.reset();
  if (batch_.Count() > 0) {
    auto s = db_->Write(write_options_, &batch_);
    if (!s.ok()) {
      fail(s, "cannot write a batch to the event log");
      versions_.clear();  // it holds versions of the batch that was not written
      for (auto& o : outcomes)
        if (o) o = std::unexpected(make_error_code(errc::io_error));
    } else {
      n_batches_.fetch_add(1, std::memory_order_relaxed);
      if (write_options_.sync) n_syncs_.fetch_add(1, std::memory_order_relaxed);
      n_events_.fetch_add(position - next_position_, std::memory_order_relaxed);
      next_position_ = position;
      committed_.store(position - 1, std::memory_order_release);
      wake_waiters();
    }
  }
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    if (outcomes[i]) n_requests_.fetch_add(1, std::memory_order_relaxed);
    if (reqs[i].done) reqs[i].done(outcomes[i]);
  }
  std::lock_guard lock(queue_mu_);
  if (spent_.empty()) {
    spent_.swap(reqs);
  } else {
    std::move(reqs.begin(), reqs.end(), std::back_inserter(spent_));
  }
}

// Checks a whole request before staging any of it, so a refused request writes nothing.
std::error_code log_impl::stage_request(append_request& req, std::uint64_t position) {
  for (const auto& e : req.events) {
    if (e.stream.find('\0') != std::string::npos) return errc::corrupt;
    if (!schemas::verify_envelope(e.envelope)) return errc::corrupt;
    const auto id = identity_of(e.envelope);
    if (!same_stream(id, e.stream) || id.stream_version != e.stream_version) return errc::corrupt;
  }
  if (auto ec = check_versions(req)) return ec;
  char pos_be[8];
  for (auto& e : req.events) {
    schemas::stamp_position(e.envelope, position);
    put_u64_be(pos_be, position);
    stream_key(key_, e.stream, e.stream_version);
    batch_.Put(cf_[cf_events], rocksdb::Slice(pos_be, 8), e.envelope);
    batch_.Put(cf_[cf_streams], key_, rocksdb::Slice(pos_be, 8));
    ++position;
  }
  for (const auto& [alias, stream] : req.aliases) batch_.Put(cf_[cf_aliases], alias, stream);
  for (const auto& [stream, version] : staged_versions_) {
    insert_or_assign_bounded(versions_, version_cache_streams_max, *stream, version);
  }
  return {};
}

// Each event's version must be the next one of its stream, counting earlier events of the
// same request. Leaves the new last versions in staged_versions_. A command's few events find
// their stream's staged version by a scan; a larger request (an import, a bench's fill) through
// staged_index_, so that its check stays linear in its events.
std::error_code log_impl::check_versions(const append_request& req) {
  staged_versions_.clear();
  const bool indexed = req.events.size() > staged_scan_events_max;
  if (indexed) staged_index_.clear();
  const auto staged_of = [&](const std::string& stream) -> std::uint64_t* {
    if (indexed) {
      const auto it = staged_index_.find(stream);
      return it != staged_index_.end() ? &staged_versions_[it->second].second : nullptr;
    }
    const auto it = std::find_if(staged_versions_.begin(), staged_versions_.end(),
                                 [&](const auto& sv) { return *sv.first == stream; });
    return it != staged_versions_.end() ? &it->second : nullptr;
  };
  for (const auto& e : req.events) {
    std::uint64_t* staged = staged_of(e.stream);
    const auto last = staged ? *staged : cached_version(e.stream, e.stream_version);
    if (failed_.load(std::memory_order_relaxed)) return errc::io_error;  // the lookup failed
    if (e.stream_version != last + 1) return errc::version_gap;
    if (staged) {
      *staged = e.stream_version;
      continue;
    }
    if (indexed) staged_index_.emplace(e.stream, staged_versions_.size());
    staged_versions_.emplace_back(&e.stream, e.stream_version);
  }
  return {};
}

std::uint64_t log_impl::cached_version(const std::string& stream, std::uint64_t next) {
  if (auto it = versions_.find(stream); it != versions_.end()) return it->second;
  auto v = last_version_if(stream, next);
  if (!v) {
    if (!version_it_) version_it_.reset(db_->NewIterator({}, cf_[cf_streams]));
    v = last_version_in_db(*version_it_, stream);
    if (!version_it_->status().ok()) {
      fail(version_it_->status(), "cannot read a stream's last version");
      return 0;
    }
  }
  make_room(versions_, version_cache_streams_max, stream);
  versions_.emplace(stream, *v);
  return *v;
}

// Versions are gapless from 1, so `next - 1` is the last one exactly when `next` is absent and
// `next - 1` present (or `next` is 1). Point lookups: a skiplist search per memtable, and the
// SST files' bloom filters reject an absent key. A new stream (every new call) costs one, not a
// SeekForPrev of an iterator over every memtable and level (15% of the writer thread in
// routing_bench, 7% with the lookups). Empty when the guess is wrong or a lookup failed: the
// caller then asks the iterator.
std::optional<std::uint64_t> log_impl::last_version_if(std::string_view stream,
                                                       std::uint64_t next) {
  if (next == 0) return std::nullopt;
  const auto present = [&](std::uint64_t version) -> std::optional<bool> {
    stream_key(probe_key_, stream, version);
    rocksdb::PinnableSlice value;
    const auto st = db_->Get(rocksdb::ReadOptions(), cf_[cf_streams], probe_key_, &value);
    if (st.ok()) return true;
    if (st.IsNotFound()) return false;
    return std::nullopt;
  };
  if (present(next) != false) return std::nullopt;
  if (next == 1) return 0;
  if (present(next - 1) != true) return std::nullopt;
  return next - 1;
}

void log_impl::wake_waiters() {
  { std::lock_guard lock(commit_mu_); }  // a waiter is either before its check or in wait()
  commit_cv_.notify_all();
}

}  // namespace backline::eventlog::detail
