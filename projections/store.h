#pragma once
// The projection store: the read models of the event log in their own RocksDB database (by
// default `<data>/projections`), one column family per read model, and the checkpoint (the last
// log position folded in, one for all models) written in the same WriteBatch as the data, so the
// models and the checkpoint always agree, even after kill -9 (DESIGN invariant 5).
//
// Contract
// - Open read-write by exactly one process (the projector; RocksDB's LOCK refuses a second one
//   with errc::busy), or read-only as a RocksDB secondary in `<dir>/secondary-<pid>-<n>` (a CLI
//   reading while the engine projects); `refresh()` catches a secondary up with the primary.
// - Reads (`get`, `multi_get`, `scan`, `digest`) may run on any thread, concurrently with one
//   writer. `write` is for the single writer (projections::projector).
// - Errors are std::error_code values of projections::errc; nothing throws across this header.
//   An I/O error is also logged on stderr as one JSON line with RocksDB's message.
// - Bulk build (`store_options::bulk_build`, used by projections::rebuild on a fresh store):
//   writes skip RocksDB's WAL and land in append-only memtables sorted when they are flushed,
//   and every column family is flushed together (RocksDB's atomic_flush). Each WriteBatch still
//   holds the data with its checkpoint, and a flush writes whole batches of every family at
//   once, so what a kill -9 leaves is the last flush: the models and the checkpoint still agree,
//   only the progress since that flush is lost (the projector folds it again from the log).
//   Writes are durable once `flush()` returns (the projector calls it at the end of a catch-up)
//   or the store is closed. Not for a store that is read while it is written (the memtables are
//   not sorted for reads) nor for the live projector, whose flushes must be durable at once.
//
// Keys and values of each model are described in projections/README.md.

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace rocksdb {
class WriteBatch;
}

namespace backline::projections {

enum class errc : int {
  ok = 0,
  io_error = 1,     // RocksDB failed (logged on stderr)
  not_found = 2,    // no projection store in that directory (run the projector first)
  busy = 3,         // another process holds the store read-write (stop it, or open read-only)
  corrupt = 4,      // a stored record or a log event cannot be decoded; a store of another
                    // on-disk format (remove it and rebuild: the log has everything)
  bad_options = 5,  // e.g. a write on a read-only store, an unknown report name
  not_empty = 6,    // a rebuild's scratch directory already holds a store
};
const std::error_category& projections_category();
inline std::error_code make_error_code(errc e) {
  return {static_cast<int>(e), projections_category()};
}

// The read models. Indexes are read models too: replay-and-verify hashes every one of them.
// New models are added before `meta` only when the on-disk format version changes.
// On disk the five listing indexes (by_*) share one column family, "indexes", each key behind a
// one-byte prefix (the model's number); the API hides it: keys, scans and digests are per model.
enum class model : std::uint8_t {
  voice_calls = 0,          // voice call id -> VoiceCall record (canonical JSON)
  transcripts = 1,          // voice call id \0 ordinal(u32 BE) -> transcript message (JSON)
  conversation_events = 2,  // voice call id \0 ordinal(u32 BE) -> conversation event (JSON)
  chains = 3,               // root id \0 segment index(u16 BE) -> "<kind>:<voice call id>"
  segment_roots = 4,        // voice call id -> root id (its conversation)
  by_time = 5,              // start(time key) voice call id -> ""
  by_type = 6,              // call type(1 byte) start id -> ""
  by_agent = 7,             // owner agent \0 start id -> ""
  by_queue = 8,             // queue \0 start id -> ""
  by_parent = 9,            // parent voice call id \0 start id -> ""
  meta = 10,                // "checkpoint" -> u64 BE; "format" -> "2"; "kafka/..." (below)
};
inline constexpr std::size_t model_count = 11;
std::string_view model_name(model m);  // the column family name, e.g. "voice_calls"

enum class open_mode { read_write, read_only };

struct store_options {
  std::string dir;  // created if missing (read_write only)
  open_mode mode = open_mode::read_write;
  bool bulk_build = false;  // read_write only: see "Bulk build" above
};

// `<data_dir>/projections`: where the engine and the CLI keep the store by default.
std::string default_store_dir(std::string_view data_dir);

class store;

// Staged writes for one `store::write`. Owned by one thread. Operations are kept in an arena
// and handed to RocksDB at `store::write` sorted by key within each column family, each key once
// (the last operation on it wins, as if applied in order): a memtable takes sorted keys much
// faster than scattered ones, and a key staged twice in one flush is written once. A bulk
// build's memtables sort at flush time, so there they go in staging order.
class write_batch {
 public:
  explicit write_batch(const store& s);
  ~write_batch();
  write_batch(const write_batch&) = delete;
  write_batch& operator=(const write_batch&) = delete;

  void put(model m, std::string_view key, std::string_view value);
  void del(model m, std::string_view key);
  std::size_t operations() const { return ops_.size(); }
  std::size_t bytes() const { return arena_.size(); }
  void clear();
  void swap(write_batch& other) noexcept;

 private:
  friend class store;
  struct op {
    std::size_t at = 0;  // key then value, in arena_
    std::uint32_t key_size = 0, value_size = 0;
    model which = model::meta;
    bool del = false;
  };
  void stage(model m, std::string_view key, std::string_view value, bool del);

  const store* store_;
  std::string arena_;
  std::vector<op> ops_;
  std::unique_ptr<rocksdb::WriteBatch> batch_;  // rebuilt at each write
};

// Keys of `meta` under this prefix are the Kafka consumer's bookkeeping (`backline project
// --kafka`: offsets per topic-partition, the envelopes it rehydrates conversations from; see
// projector.h). They depend on how the events arrived, not on what they say, so `digest(meta)`
// leaves them out: a store built from Kafka and one built from the log digest the same.
inline constexpr std::string_view consumer_meta_prefix = "kafka/";

// Hash and size of one model (FNV-1a 64 over each key and value with their lengths, in key
// order): two stores with equal digests for every model hold the same bytes (for `meta`, apart
// from the keys under consumer_meta_prefix).
struct model_digest {
  model which = model::meta;
  std::uint64_t hash = 0;
  std::uint64_t keys = 0;
};

class store {
 public:
  store(const store&) = delete;
  store& operator=(const store&) = delete;
  ~store();  // closes; a secondary removes its own directory

  // errc::not_found when a read-only open finds no store; errc::busy when a read-write open
  // finds it locked by another process.
  static std::expected<std::unique_ptr<store>, std::error_code> open(const store_options& opts);

  // The last log position folded into every model (0: nothing yet). As of open, the last
  // `write` or the last `refresh`.
  std::uint64_t checkpoint() const { return checkpoint_; }
  bool read_only() const { return read_only_; }
  bool bulk_build() const { return bulk_build_; }
  const std::string& dir() const { return dir_; }

  // Read-only: catches up with the primary (its WAL included). A no-op read-write.
  std::error_code refresh();

  std::expected<std::optional<std::string>, std::error_code> get(model m,
                                                                 std::string_view key) const;
  // One value (or nullopt) per key, in the order of `keys`.
  std::expected<std::vector<std::optional<std::string>>, std::error_code> multi_get(
      model m, const std::vector<std::string>& keys) const;
  // Visits the keys in [begin, end) in order (an empty `end`: to the last key) until `visit`
  // returns false.
  using visitor = std::function<bool(std::string_view key, std::string_view value)>;
  std::error_code scan(model m, std::string_view begin, std::string_view end,
                       const visitor& visit) const;
  std::expected<model_digest, std::error_code> digest(model m) const;

  // Writes `batch` and the checkpoint atomically, then clears `batch`.
  // REQUIRES: read-write; `checkpoint` >= checkpoint() (positions only grow).
  std::error_code write(write_batch& batch, std::uint64_t checkpoint);
  // Writes every column family's memtable to table files, all at once: a bulk-build store's
  // writes are durable after it. A no-op for a store written with the WAL (its writes already
  // are) and for a read-only one.
  std::error_code flush();

 private:
  friend class write_batch;
  struct impl;
  explicit store(std::unique_ptr<impl> p);
  std::error_code load_checkpoint();

  std::unique_ptr<impl> impl_;
  std::string dir_;
  bool read_only_ = false;
  bool bulk_build_ = false;
  std::uint64_t checkpoint_ = 0;
};

}  // namespace backline::projections

template <>
struct std::is_error_code_enum<backline::projections::errc> : std::true_type {};
