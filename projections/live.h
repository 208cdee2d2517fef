#pragma once
// The live projector: the read models kept up to date inside the engine's process (backlined),
// started with one call.
//
//   auto live = projections::live_projector::start(*log, {.store_dir = default_store_dir(data)});
//   ...
//   live->stop();  // or let the destructor do it
//
// What it does. It opens the projection store read-write (the process holds it: a CLI reads it
// as a secondary), and starts ONE dedicated thread that first catches up from the store's
// checkpoint to the log's committed position in chunks (stop() interrupts it between chunks),
// then subscribes to the log from the next position (eventlog::log::subscribe; the subscription's
// own thread applies each event). What was applied is flushed, with the checkpoint in the same
// WriteBatch, at most every `flush_events` events and at most `flush_interval_ms` after an event
// was applied: a query sees an event within about that interval. The projector is guarded by a
// mutex; the two threads never apply and flush at the same time.
//
// Errors. The first error (a corrupt event, a store I/O error) stops the projecting: it is kept
// in error(), logged on stderr as a JSON line, caught_up() turns false and lag() grows. The log
// still has everything; restarting the live projector (or the process) catches up again.
//
// Threads: start, stop and the figures may be called from any thread; stop() and the destructor
// must not be called from the subscription's callback (they join it).

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <system_error>

#include "projections/projector.h"
#include "projections/store.h"

namespace backline::eventlog {
class log;
}

namespace backline::projections {

struct live_options {
  std::string store_dir;            // e.g. default_store_dir(data_dir); created if missing
  std::size_t flush_events = 4096;  // events per flush at most (projector_options::batch_events)
  std::chrono::milliseconds flush_interval{100};  // an applied event is flushed within this
  std::size_t catch_up_chunk_events = 65'536;     // events between stop checks while catching up
  std::size_t conversations_max = 100'000;        // folded conversations kept in memory
};

class live_projector {
 public:
  // Opens the store and starts the thread. Errors of store::open (errc::busy: another process
  // projects into that directory).
  // REQUIRES: `log` outlives the live projector.
  static std::expected<std::unique_ptr<live_projector>, std::error_code> start(eventlog::log& log,
                                                                               live_options opts);

  ~live_projector();  // stop()
  live_projector(const live_projector&) = delete;
  live_projector& operator=(const live_projector&) = delete;

  // Stops following the log, flushes what was applied (with the checkpoint), joins the threads.
  // Idempotent.
  void stop();

  // True once the initial catch-up has reached the committed position of the log at that time
  // and the projector follows the log, with no error since (for /readyz).
  bool caught_up() const;
  // Committed events of the log that the read models do not show yet (committed position minus
  // the flushed checkpoint).
  std::uint64_t lag() const;
  // The last position flushed to the store (what queries see).
  std::uint64_t checkpoint() const;
  // The first error, or none.
  std::error_code error() const;
  projector_stats stats() const;

  // The store, for queries in the same process (reads may run on any thread).
  const store& read_models() const;

 private:
  struct impl;
  explicit live_projector(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace backline::projections
