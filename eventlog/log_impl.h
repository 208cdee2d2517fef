#pragma once
// Private to eventlog/: the RocksDB implementation of eventlog::log. The public contract is in
// eventlog/log.h; this header only says how the pieces share state.
//
// Threads
// - callers of append: take queue_mu_, push, take the spent requests, notify the writer (never
//   wait); the spent requests are destroyed after the lock is released.
// - the writer thread (writer.cc): owns versions_, batch_, next_position_; the only RocksDB writer.
// - readers (reader.cc): any thread; RocksDB Get/iterators only, no shared mutable state.
// - one thread per subscription (subscription.cc): waits on commit_cv_.

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "eventlog/log.h"

namespace backline::eventlog::detail {

// Column family indexes into log_impl::cf_.
enum cf_index : std::size_t { cf_events = 0, cf_streams, cf_aliases, cf_meta, cf_count };

// Big-endian u64 keys sort in numeric order under RocksDB's bytewise comparator.
void put_u64_be(char* out, std::uint64_t v);
std::uint64_t get_u64_be(const char* in);
// stream + '\0' + version(BE) appended to `out` (cleared first).
void stream_key(std::string& out, std::string_view stream, std::uint64_t version);

// Stream and version read straight from a verified Envelope (field ids 1, 2 and 3 of
// schemas/envelope.fbs, which are a storage format and so never move). REQUIRES: verified bytes.
struct envelope_identity {
  std::string_view stream_kind, stream_id;
  std::uint64_t stream_version = 0;
};
envelope_identity identity_of(std::string_view verified_envelope);
// True when `stream` is "<kind>/<id>" of the envelope.
bool same_stream(const envelope_identity& id, std::string_view stream);

// Verifies `bytes` and fills `out` (position, stream, version, envelope), or errc::corrupt.
std::error_code make_record(std::uint64_t position, std::string_view bytes, record& out);

// The shared half of a subscription: its thread and stop flag. The handle given to the caller
// and the log both hold it, so whichever goes first stops and joins the thread.
struct subscription_core {
  std::atomic<bool> stop{false};
  std::mutex mu;          // serialises stop_subscription
  class log_impl* owner;  // set to null once stopped
  std::thread thread;
};
void stop_subscription(subscription_core& core);

class log_impl final : public log {
 public:
  explicit log_impl(const options& opts);
  ~log_impl() override;
  void stop_appends() override;

  std::error_code start();  // opens RocksDB, recovers positions, starts the writer

  std::error_code append(append_request request) override;
  std::expected<std::vector<record>, std::error_code> read_stream(std::string_view stream,
                                                                  std::uint64_t from_version,
                                                                  std::size_t max) override;
  std::expected<std::vector<record>, std::error_code> read_from(std::uint64_t from,
                                                                std::size_t max) override;
  std::expected<std::size_t, std::error_code> visit_from(
      std::uint64_t from, std::size_t max, const std::function<bool(const record&)>& visit,
      read_hint hint) override;
  std::unique_ptr<cursor> open_cursor(read_hint hint, std::size_t reopen_after_events) override;
  std::uint64_t stream_version(std::string_view stream) override;
  std::optional<std::string> resolve_alias(std::string_view alias) override;
  std::uint64_t committed_position() const override;
  stats counters() const override;
  std::unique_ptr<subscription> subscribe(std::uint64_t from,
                                          std::function<void(const record&)> on_record) override;

  // For subscriptions: blocks until committed_position() >= position or `stop` is set. In
  // read-only mode, or with `poll`, it returns after a short pause instead (a read-only log has
  // no local commits to wait for; a failed read is retried after the pause).
  void wait_for_commit(std::uint64_t position, const std::atomic<bool>& stop, bool poll);
  void wake_waiters();

 private:
  friend class log_cursor;
  // open.cc
  std::error_code open_primary();
  std::error_code open_secondary();
  std::error_code recover_position();
  void close_db();
  // reader.cc
  void catch_up();  // read-only: TryCatchUpWithPrimary, then refresh committed_
  std::uint64_t last_version_in_db(rocksdb::Iterator& it, std::string_view stream);
  // writer.cc
  void writer_loop();
  std::size_t take_batch(std::vector<append_request>& out);
  void commit_batch(std::vector<append_request>& reqs);
  std::error_code stage_request(append_request& req, std::uint64_t position);
  std::error_code check_versions(const append_request& req);
  // The stream's last committed version; `next` is the version the caller expects to append.
  std::uint64_t cached_version(const std::string& stream, std::uint64_t next);
  std::optional<std::uint64_t> last_version_if(std::string_view stream, std::uint64_t next);
  void fail(const rocksdb::Status& s, const char* what);

  const options opts_;
  std::string secondary_dir_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> cf_;  // indexed by cf_index
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::WriteOptions write_options_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<append_request> queue_;
  bool stopping_ = false;         // guarded by queue_mu_
  bool writer_sleeping_ = false;  // guarded by queue_mu_: append signals only then
  // Requests the writer is done with, guarded by queue_mu_: the next append takes them and frees
  // them on its own thread, which allocated them. Freed on the writer thread, every event's
  // strings and every `done` closure went back to another thread's malloc arena, under its lock.
  std::vector<append_request> spent_;
  // Requests queued, readable without the lock: the writer spins on it briefly before it sleeps,
  // so a busy engine hands over requests without a futex wake per append.
  std::atomic<std::size_t> queued_{0};
  std::atomic<bool> failed_{false};
  std::thread writer_;

  // Writer-thread state.
  std::uint64_t next_position_ = 1;
  std::unordered_map<std::string, std::uint64_t> versions_;  // stream -> last committed version
  std::vector<std::pair<const std::string*, std::uint64_t>> staged_versions_;  // this request
  // A request of more events than this indexes its staged versions by stream (check_versions):
  // stream -> its index in staged_versions_.
  static constexpr std::size_t staged_scan_events_max = 16;
  std::unordered_map<std::string_view, std::size_t> staged_index_;
  std::unique_ptr<rocksdb::Iterator> version_it_;  // lazily created once per batch
  rocksdb::WriteBatch batch_;
  std::string key_;
  std::string probe_key_;  // last_version_if's lookups

  std::atomic<std::uint64_t> committed_{0};
  std::atomic<std::uint64_t> n_batches_{0}, n_events_{0}, n_requests_{0}, n_syncs_{0};
  std::mutex commit_mu_;    // pairs with commit_cv_
  std::mutex catch_up_mu_;  // read-only: one TryCatchUpWithPrimary at a time
  std::condition_variable commit_cv_;

  std::mutex subs_mu_;
  std::vector<std::weak_ptr<subscription_core>> subs_;
};

}  // namespace backline::eventlog::detail
