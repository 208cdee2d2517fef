// The live projector: catch up on a dedicated thread, then follow a subscription; timed flushes.
// The contract is in live.h.
#include "projections/live.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "eventlog/log.h"

namespace backline::projections {

struct live_projector::impl {
  eventlog::log& log;
  live_options opts;
  std::unique_ptr<store> st;
  std::unique_ptr<projector> proj;  // guarded by mu

  mutable std::mutex mu;
  std::condition_variable wake;  // stop, or an event applied since the last flush
  bool stopping = false;         // guarded by mu
  bool dirty = false;            // applied since the last flush; guarded by mu
  std::error_code first_error;   // guarded by mu
  std::atomic<bool> following{false};
  std::atomic<bool> failed{false};
  std::atomic<std::uint64_t> flushed{0};

  std::thread worker;
  std::unique_ptr<eventlog::subscription> sub;  // owned by the worker thread

  impl(eventlog::log& l, live_options o) : log(l), opts(std::move(o)) {}

  // REQUIRES: mu held.
  void fail(std::error_code ec, const char* what) {
    if (!first_error) {
      first_error = ec;
      std::fprintf(stderr,
                   "{\"level\":\"error\",\"module\":\"projections\",\"msg\":\"live projector "
                   "stopped: %s: %s; restart it to catch up again\"}\n",
                   what, ec.message().c_str());
    }
    failed.store(true, std::memory_order_release);
  }

  // REQUIRES: mu held.
  void flush_locked() {
    if (failed.load(std::memory_order_acquire) || !dirty) return;
    if (auto ec = proj->flush()) {
      fail(ec, "flush");
      return;
    }
    dirty = false;
  }

  // Catches up in chunks until the committed position; false when stopped or failed.
  bool catch_up() {
    while (true) {
      std::lock_guard lock(mu);
      if (stopping || failed.load(std::memory_order_acquire)) return false;
      const std::uint64_t target = log.committed_position();
      const std::uint64_t at = proj->applied_position();
      if (at >= target) return true;
      const std::uint64_t until = std::min<std::uint64_t>(target, at + opts.catch_up_chunk_events);
      if (auto r = proj->catch_up(until); !r) {
        fail(r.error(), "catch-up");
        return false;
      }
      dirty = false;  // catch_up ends with a flush
    }
  }

  // On the subscription's thread.
  void on_record(const eventlog::record& r) {
    std::lock_guard lock(mu);
    if (stopping || failed.load(std::memory_order_acquire)) return;
    if (auto ec = proj->apply(r)) {
      fail(ec, "apply");
      return;
    }
    if (!dirty) {
      dirty = true;
      wake.notify_one();  // starts the flush interval
    }
  }

  void run() {
    if (catch_up()) {
      std::uint64_t from = 0;
      {
        std::lock_guard lock(mu);
        from = proj->applied_position() + 1;
      }
      sub = log.subscribe(from, [this](const eventlog::record& r) { on_record(r); });
      following.store(true, std::memory_order_release);
      std::unique_lock lock(mu);
      while (!stopping) {
        wake.wait(lock, [this] { return stopping || dirty; });
        if (stopping) break;
        // An event was applied: flush it within the interval (apply flushes every flush_events).
        wake.wait_for(lock, opts.flush_interval, [this] { return stopping; });
        flush_locked();
      }
    }
    following.store(false, std::memory_order_release);
    sub.reset();  // joins the subscription's thread: on_record returns at once while stopping
    std::lock_guard lock(mu);
    flush_locked();
  }
};

std::expected<std::unique_ptr<live_projector>, std::error_code> live_projector::start(
    eventlog::log& log, live_options opts) {
  auto p = std::make_unique<impl>(log, std::move(opts));
  auto st = store::open({p->opts.store_dir, open_mode::read_write});
  if (!st) return std::unexpected(st.error());
  p->st = std::move(*st);
  p->flushed.store(p->st->checkpoint());
  impl* raw = p.get();
  p->proj = std::make_unique<projector>(
      log, *p->st,
      projector_options{.batch_events = std::max<std::size_t>(1, p->opts.flush_events),
                        .read_events = 4096,
                        .conversations_max = p->opts.conversations_max,
                        .on_flush = [raw](std::uint64_t cp) {
                          raw->flushed.store(cp, std::memory_order_release);
                        }});
  std::unique_ptr<live_projector> live(new live_projector(std::move(p)));
  live->impl_->worker = std::thread([raw] { raw->run(); });
  return live;
}

live_projector::live_projector(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

live_projector::~live_projector() {
  stop();
}

void live_projector::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
}

bool live_projector::caught_up() const {
  return impl_->following.load(std::memory_order_acquire) &&
         !impl_->failed.load(std::memory_order_acquire);
}

std::uint64_t live_projector::lag() const {
  const std::uint64_t committed = impl_->log.committed_position();
  const std::uint64_t cp = checkpoint();
  return committed > cp ? committed - cp : 0;
}

std::uint64_t live_projector::checkpoint() const {
  return impl_->flushed.load(std::memory_order_acquire);
}

std::error_code live_projector::error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->first_error;
}

projector_stats live_projector::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->proj->stats();
}

const store& live_projector::read_models() const {
  return *impl_->st;
}

}  // namespace backline::projections
