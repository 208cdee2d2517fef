#pragma once
// The projector: folds the event log into the projection store, and the two ways to check it
// (rebuild from position 0, replay-and-verify).
//
// How it folds. Conversations (streams `call/<root id>`) are folded with domain::evolve, the
// same fold as the call actor's, and kept in memory while active. Events are applied in log
// order; every `batch_events` events (and at the end of a catch-up) the records of the
// conversations touched since the last flush are rendered and written with the checkpoint (the
// last applied position) in ONE WriteBatch. Records are recomputed from the folded state, never
// incremented, so folding an event twice cannot double count, and the store after position P
// is the same whatever the batch boundaries were. Only records that changed since this projector
// last wrote them, and only index entries that changed, are staged. A flush that the batch size
// triggers is written on another thread while the next batch is folded (one write in flight at
// most, in order); `flush()` and `catch_up` return once their write is done.
//
// Folding a batch allocates next to nothing once warm: the log is visited in place
// (eventlog::log::visit_from), records, keys and index entries are rendered into reused buffers,
// and evicted conversations are destroyed on the writing thread.
//
// Rehydration. A conversation that is not in memory (after a restart, a kill -9 in the middle of
// a catch-up, or an eviction) is folded again from its own stream, up to the event before the
// one being applied; every one of those events is at or below the checkpoint, so the result is
// exactly what the store holds. Agent, queue and directory events only advance the checkpoint.
//
// Memory. A conversation whose segments have all ended is evicted at the second flush after it
// ended (wrap-up usually follows the end); beyond `conversations_max` any conversation may be
// evicted. Eviction costs a rehydration later, never correctness.
//
// From Kafka (`backline project --kafka`). A projector made without a log folds envelopes that a
// Kafka consumer hands it (`apply(kafka_event)`), the same bytes the log holds, so the models are
// the same bytes as a projection of the log. What differs:
// - Order: the relay keys records by stream id, so one stream's events arrive in order (one
//   partition); streams interleave differently than in the log, which the models do not see
//   (each record is recomputed from its own conversation).
// - Duplicates: the relay is at least once. An event whose id this projector already applied,
//   or whose stream version its conversation already folded (after a restart), is skipped and
//   counted in `duplicates`; its offset still advances. Event ids are remembered for one run
//   only, so after a restart an agent, queue or directory event sent again is applied again:
//   harmless, as those only advance the checkpoint (the highest position seen).
// - Offsets: the next offset of each topic-partition is written in the SAME WriteBatch as the
//   data (meta `kafka/offset/<topic>\0<partition u32 BE>` -> u64 BE), so a consumer that seeks to
//   `load_kafka_offsets` after a crash applies every event exactly once.
// - Rehydration: there is no log to read a stream back from, so each call event's envelope is
//   also kept in meta (`kafka/env/<root>\0<version u32 BE>`) in the same batch, and a
//   conversation not in memory is folded again from those.
// - Checkpoint: the highest log position (stamped in the envelopes) applied so far; once every
//   topic is consumed it equals the log's committed position.
// meta's `kafka/` keys are left out of its digest (store.h), so replay_and_verify and per-model
// digests compare a Kafka-built store with the log.
//
// Threads: a projector is used by one thread at a time; the log and the store may be shared.
// The destructor does NOT flush: what was applied since the last flush is folded again next
// time (that is what a crash does too). It waits for a write already in flight.

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "projections/store.h"

namespace backline::eventlog {
class log;
struct record;
}  // namespace backline::eventlog

namespace backline::projections {

struct projector_options {
  // Events per WriteBatch (with the checkpoint). A conversation that straddles two batches has
  // its records written twice: 16384 rather than 4096 wrote 7% fewer records at 5 M events.
  std::size_t batch_events = 16'384;
  std::size_t read_events = 4096;           // events per log read while catching up
  std::size_t conversations_max = 100'000;  // folded conversations kept in memory
  // From Kafka: event ids remembered for dedupe (past it, each new id forgets one at random; the
  // stream-version check still catches every duplicate of a call event).
  std::size_t dedupe_ids_max = 1'000'000;
  // Called on the projector's thread once a flush's write is done, with its checkpoint (progress
  // output, tests that crash, the live projector's figures). In a bulk-build store (rebuild) the
  // write is durable only once the catch-up returns (store.h, Bulk build).
  std::function<void(std::uint64_t checkpoint)> on_flush;
};

struct projector_stats {
  std::uint64_t events = 0;       // applied (every kind)
  std::uint64_t call_events = 0;  // folded into a conversation
  std::uint64_t flushes = 0;
  std::uint64_t records_written = 0;  // VoiceCall records
  std::uint64_t rehydrations = 0;     // conversations folded again from their stream
  std::uint64_t evictions = 0;
  std::uint64_t cached = 0;      // conversations in memory now
  std::uint64_t duplicates = 0;  // from Kafka: events skipped as already applied
};

// One record as a Kafka consumer received it.
struct kafka_event {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string_view envelope;  // the record's value: the envelope bytes of the log
};

// The next offset to read, per (topic, partition), as a Kafka projector stored them.
using kafka_offsets = std::map<std::pair<std::string, std::int32_t>, std::int64_t>;
std::expected<kafka_offsets, std::error_code> load_kafka_offsets(const store& st);

class projector {
 public:
  // REQUIRES: `log` and `st` outlive the projector; `st` is open read-write. The log may be a
  // read-only secondary.
  projector(eventlog::log& log, store& st, projector_options opts = {});
  // From Kafka: no log. `catch_up` and `apply(eventlog::record)` return errc::bad_options.
  // REQUIRES: `st` outlives the projector and is open read-write.
  explicit projector(store& st, projector_options opts = {});
  ~projector();
  projector(const projector&) = delete;
  projector& operator=(const projector&) = delete;

  // Folds every committed event after the store's checkpoint up to `until` (inclusive; capped
  // at the log's committed position), then flushes (a bulk-build store's memtables too, so what
  // it wrote is durable). Returns the new checkpoint.
  std::expected<std::uint64_t, std::error_code> catch_up(std::uint64_t until = UINT64_MAX);

  // Applies one event (from a subscription). Events at or below the last applied position are
  // ignored; REQUIRES positions without gaps after it, and a record as the log handed it out
  // (its envelope verified on read: it is not verified again). Flushes every `batch_events`
  // events.
  std::error_code apply(const eventlog::record& r);
  // From Kafka (a projector made without a log): applies one record unless its offset is below
  // the stored next offset of its topic-partition, or it is a duplicate (see above). errc::corrupt
  // when the envelope does not decode or a stream version is missing. Flushes every
  // `batch_events` records.
  std::error_code apply(const kafka_event& e);
  // Writes what was applied since the last flush, with the checkpoint.
  std::error_code flush();

  std::uint64_t applied_position() const;
  // From Kafka: the next offset per topic-partition, as applied (flushed or not).
  const kafka_offsets& offsets() const;
  projector_stats stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Rebuilds every read model from position 0 up to `until` (capped at the committed position) in
// a fresh store at `scratch_dir`, opened as a bulk build (store.h: no WAL, every column family
// flushed at once; a kill -9 leaves the models and the checkpoint of the last flush, which a
// catch_up continues). errc::not_empty when a store is already there.
std::expected<std::uint64_t, std::error_code> rebuild(eventlog::log& log,
                                                      const std::string& scratch_dir,
                                                      std::uint64_t until = UINT64_MAX,
                                                      projector_options opts = {});

// Replay-and-verify: one model of the live store against the rebuild.
struct model_check {
  model which = model::meta;
  model_digest live, rebuilt;
  std::uint64_t only_live = 0, only_rebuilt = 0, different = 0;
  std::vector<std::string> first_differences;  // printable keys, at most 5
  bool equal() const { return live.hash == rebuilt.hash && live.keys == rebuilt.keys; }
};
struct verify_report {
  std::uint64_t checkpoint = 0;  // both stores were compared at this position
  std::vector<model_check> models;
  bool equal() const;
};

// Rebuilds every model from position 0 up to the live store's checkpoint into `scratch_dir`
// (removed afterwards unless `keep_scratch`) and compares each model by hash; where hashes
// differ it walks both in key order for the counts and the first differing keys.
std::expected<verify_report, std::error_code> replay_and_verify(eventlog::log& log,
                                                                const store& live,
                                                                const std::string& scratch_dir,
                                                                bool keep_scratch = false);

// "voice_calls equal 1f3a..(1200 keys)" lines, one per model, and a verdict.
std::string render(const verify_report& r);

}  // namespace backline::projections
