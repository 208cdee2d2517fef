#pragma once
// The embedded event log: RocksDB on disk, one writer thread doing group commit.
//
// Contract
// - `append` is thread-safe and never blocks: it enqueues into a bounded queue and returns
//   errc::overloaded when the queue is full. The writer thread drains the queue, assigns gapless
//   log positions (from 1), stamps each envelope's `log_position` in place, writes everything
//   drained (up to `batch_events_max`) in ONE RocksDB WriteBatch (sync or not, per `durability`),
//   publishes the new committed position, and only then runs each request's `done` callback on
//   the writer thread. So a reply sent from `done` always follows durability (DESIGN invariant 2).
// - All events of one append_request are committed atomically, in order, at consecutive positions.
// - Every envelope is verified with the FlatBuffers verifier before it is written (a programmer
//   error is refused with errc::corrupt, nothing of that request is written) and again on read.
// - Readers (read_stream, read_from, resolve_alias) may run on any thread, concurrently with the
//   writer. `subscribe` runs its callback on a dedicated thread per subscription.
//
// On-disk layout (column families): "events" position(u64 BE) -> envelope bytes;
// "streams" stream + '\0' + version(u64 BE) -> position(u64 BE); "aliases" alias -> stream;
// "meta" small settings. See docs/ARCHITECTURE.md.

#include <atomic>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace backline::eventlog {

enum class errc : int {
  ok = 0,
  io_error = 1,     // RocksDB reported an error (the message is logged); the log stops accepting
  overloaded = 2,   // the append queue is full: retry later (HTTP 503)
  closed = 3,       // the log is shutting down
  corrupt = 4,      // an envelope failed verification
  version_gap = 5,  // a stream version is not the next one for its stream (programmer error)
  bad_options = 6,
};
const std::error_category& log_category();
inline std::error_code make_error_code(errc e) {
  return {static_cast<int>(e), log_category()};
}

enum class durability { fsync_per_batch, wal_no_sync };

// How a reader goes through the log: `recent` keeps what it reads in the block cache (tails and
// catch-ups that read the same blocks again); `scan` reads ahead and leaves the cache alone (one
// pass over a long stretch, e.g. the Kafka relay's backlog: about a sixth less CPU per event).
enum class read_hint { recent, scan };

struct options {
  std::string dir;  // created if missing
  durability durability_mode = durability::wal_no_sync;
  std::size_t queue_requests_max = 65'536;  // pending append requests before errc::overloaded
  std::size_t batch_events_max = 8'192;     // events per WriteBatch
  bool read_only = false;  // open as a RocksDB secondary (a CLI reading a live engine's log)
};

// One event to append. `stream` is "<kind>/<id>", e.g. "call/0193...". The stream version is
// assigned by the stream's single writer (its actor); the log checks it is the next one.
struct pending_event {
  std::string stream;
  std::uint64_t stream_version = 0;
  std::string envelope;  // a verified schemas::Envelope; log_position is overwritten
};

struct append_request {
  std::vector<pending_event> events;
  // alias -> stream, written in the same batch (e.g. a transfer segment's voice call id -> the
  // conversation's stream), so a router can find the stream of any voice call id.
  std::vector<std::pair<std::string, std::string>> aliases;
  // Runs on the writer thread after the batch is durable: the first position on success.
  std::function<void(std::expected<std::uint64_t, std::error_code>)> done;
};

struct record {
  std::uint64_t position = 0;
  std::string stream;
  std::uint64_t stream_version = 0;
  std::string envelope;
};

struct stats {
  std::uint64_t batches = 0, events = 0, requests = 0, syncs = 0;
};

class subscription {
 public:
  virtual ~subscription() = default;  // stops the thread and joins it
};

class log {
 public:
  log(const log&) = delete;
  log& operator=(const log&) = delete;
  virtual ~log() = default;  // drains the queue (runs pending callbacks), then closes

  // Opens (creating if needed) the log in `opts.dir` and starts the writer thread.
  static std::expected<std::unique_ptr<log>, std::error_code> open(const options& opts);

  virtual std::error_code append(append_request request) = 0;

  // Refuses further appends (errc::closed), commits what is queued, runs its callbacks and stops
  // the writer thread. Reads keep working until the log is destroyed. Idempotent. For owners
  // that must drain the writer's callbacks while their targets still exist (the engine).
  virtual void stop_appends() = 0;

  // Events of `stream` with version >= from_version, in version order, at most `max`.
  virtual std::expected<std::vector<record>, std::error_code> read_stream(
      std::string_view stream, std::uint64_t from_version = 1, std::size_t max = SIZE_MAX) = 0;
  // Events with position >= from, in position order, at most `max`.
  virtual std::expected<std::vector<record>, std::error_code> read_from(std::uint64_t from,
                                                                        std::size_t max) = 0;
  // The same events as read_from(from, max), verified the same way, but handed to `visit` one at
  // a time instead of copied into a vector: the record passed is reused from one event to the
  // next (its strings keep their capacity), so a reader that does not keep it allocates nothing
  // per event (the Kafka relay). `visit` runs on the calling thread and returns false to stop
  // after that event. Returns how many events were visited; on an error, the events visited
  // before it were valid. REQUIRES: `visit` keeps no reference to the record after it returns.
  virtual std::expected<std::size_t, std::error_code> visit_from(
      std::uint64_t from, std::size_t max, const std::function<bool(const record&)>& visit,
      read_hint hint = read_hint::recent);
  // A reader's place in the log, for one thread that reads on from where it stopped (the Kafka
  // relay, subscriptions, the projector's catch-up). Its visit_from is the log's, but a read
  // that starts where the previous one ended continues the previous one's RocksDB iterator
  // instead of making and positioning a new one. An iterator holds the memtables and SST files
  // it was made on, so the cursor drops it at the end it saw, and remakes it when a read starts
  // elsewhere, after `reopen_after_events` or once it is a second old. A reader about to pause
  // with events left calls release(). Not thread-safe; valid while the log is.
  class cursor {
   public:
    virtual ~cursor() = default;
    virtual std::expected<std::size_t, std::error_code> visit_from(
        std::uint64_t from, std::size_t max, const std::function<bool(const record&)>& visit) = 0;
    // Drops the iterator until the next read.
    virtual void release() = 0;
  };
  static constexpr std::size_t cursor_reopen_after_events = 65'536;  // about 20 MB of events
  virtual std::unique_ptr<cursor> open_cursor(
      read_hint hint, std::size_t reopen_after_events = cursor_reopen_after_events) = 0;
  // The last version of a stream (0 when it has none).
  virtual std::uint64_t stream_version(std::string_view stream) = 0;
  virtual std::optional<std::string> resolve_alias(std::string_view alias) = 0;

  virtual std::uint64_t committed_position() const = 0;
  virtual stats counters() const = 0;

  // Calls `on_record` for every committed event from position `from` on, in order, forever
  // (catching up from disk, then following commits), on its own thread. The record is valid
  // only during the call (it is refilled in place for the next event).
  virtual std::unique_ptr<subscription> subscribe(std::uint64_t from,
                                                  std::function<void(const record&)> on_record) = 0;

 protected:
  log() = default;
};

}  // namespace backline::eventlog

template <>
struct std::is_error_code_enum<backline::eventlog::errc> : std::true_type {};
