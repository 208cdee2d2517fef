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
// Rehydration. A conversation that is not in memory (after a restart, a kill -9 in the middle of
// a catch-up, or an eviction) is folded again from its own stream, up to the event before the
// one being applied; every one of those events is at or below the checkpoint, so the result is
// exactly what the store holds. Agent, queue and directory events only advance the checkpoint.
//
// Memory. A conversation whose segments have all ended is evicted at the second flush after it
// ended (wrap-up usually follows the end); beyond `conversations_max` any conversation may be
// evicted. Eviction costs a rehydration later, never correctness.
//
// Threads: a projector is used by one thread at a time; the log and the store may be shared.
// The destructor does NOT flush: what was applied since the last flush is folded again next
// time (that is what a crash does too). It waits for a write already in flight.

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "projections/store.h"

namespace backline::eventlog {
class log;
struct record;
}  // namespace backline::eventlog

namespace backline::projections {

struct projector_options {
  std::size_t batch_events = 4096;          // events per WriteBatch (with the checkpoint)
  std::size_t read_events = 4096;           // events per log read while catching up
  std::size_t conversations_max = 100'000;  // folded conversations kept in memory
  // Called on the projector's thread once a flush's write is done, with its checkpoint (progress
  // output, tests that crash, the live projector's figures).
  std::function<void(std::uint64_t checkpoint)> on_flush;
};

struct projector_stats {
  std::uint64_t events = 0;       // applied (every kind)
  std::uint64_t call_events = 0;  // folded into a conversation
  std::uint64_t flushes = 0;
  std::uint64_t records_written = 0;  // VoiceCall records
  std::uint64_t rehydrations = 0;     // conversations folded again from their stream
  std::uint64_t evictions = 0;
  std::uint64_t cached = 0;  // conversations in memory now
};

class projector {
 public:
  // REQUIRES: `log` and `st` outlive the projector; `st` is open read-write. The log may be a
  // read-only secondary.
  projector(eventlog::log& log, store& st, projector_options opts = {});
  ~projector();
  projector(const projector&) = delete;
  projector& operator=(const projector&) = delete;

  // Folds every committed event after the store's checkpoint up to `until` (inclusive; capped
  // at the log's committed position), then flushes. Returns the new checkpoint.
  std::expected<std::uint64_t, std::error_code> catch_up(std::uint64_t until = UINT64_MAX);

  // Applies one event (from a subscription). Events at or below the last applied position are
  // ignored; REQUIRES positions without gaps after it. Flushes every `batch_events` events.
  std::error_code apply(const eventlog::record& r);
  // Writes what was applied since the last flush, with the checkpoint.
  std::error_code flush();

  std::uint64_t applied_position() const;
  projector_stats stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Rebuilds every read model from position 0 up to `until` (capped at the committed position) in
// a fresh store at `scratch_dir`. errc::not_empty when a store is already there.
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
