// Subscriptions: one thread each, reading committed records in chunks, then waiting for commits.

#include <pthread.h>

#include <chrono>
#include <cstdio>

#include "eventlog/log_impl.h"

namespace backline::eventlog::detail {
namespace {

constexpr std::size_t chunk_records_max = 1024;
constexpr auto poll_interval = std::chrono::milliseconds(100);

class subscription_handle final : public subscription {
 public:
  explicit subscription_handle(std::shared_ptr<subscription_core> core) : core_(std::move(core)) {}
  ~subscription_handle() override { stop_subscription(*core_); }

 private:
  std::shared_ptr<subscription_core> core_;
};

// Visits each chunk in place (one reused record, no copy per event) and follows commits. The
// chunks of a catch-up continue each other: one cursor, one iterator through them.
void run(log_impl& log, const subscription_core& core, std::uint64_t next,
         const std::function<void(const record&)>& on_record) {
  const auto cursor = log.open_cursor(read_hint::recent, log::cursor_reopen_after_events);
  while (!core.stop.load(std::memory_order_acquire)) {
    bool stopped = false;
    auto visited = cursor->visit_from(next, chunk_records_max, [&](const record& r) {
      if (core.stop.load(std::memory_order_acquire)) {
        stopped = true;
        return false;
      }
      on_record(r);
      next = r.position + 1;
      return true;
    });
    if (stopped) return;
    if (!visited) {  // the records before the error were delivered; `next` follows them
      std::fprintf(stderr,
                   "{\"level\":\"error\",\"module\":\"eventlog\",\"msg\":\"subscription cannot "
                   "read at position %llu: %s; retrying\"}\n",
                   static_cast<unsigned long long>(next), visited.error().message().c_str());
      log.wait_for_commit(next, core.stop, /*poll=*/true);
      continue;
    }
    if (*visited < chunk_records_max) log.wait_for_commit(next, core.stop, false);
  }
}

}  // namespace

void stop_subscription(subscription_core& core) {
  std::lock_guard lock(core.mu);
  core.stop.store(true, std::memory_order_release);
  if (core.owner) core.owner->wake_waiters();
  core.owner = nullptr;
  if (!core.thread.joinable()) return;
  if (core.thread.get_id() == std::this_thread::get_id())
    core.thread.detach();  // destroyed from its own callback: the thread ends after it returns
  else
    core.thread.join();
}

std::unique_ptr<subscription> log_impl::subscribe(std::uint64_t from,
                                                  std::function<void(const record&)> on_record) {
  auto core = std::make_shared<subscription_core>();
  core->owner = this;
  {
    std::lock_guard lock(subs_mu_);
    std::erase_if(subs_, [](const auto& w) { return w.expired(); });
    subs_.push_back(core);
  }
  // The thread shares ownership of the core, so it stays valid even after a detach. The lock
  // keeps a callback that destroys its own subscription from seeing `thread` half-assigned.
  std::lock_guard lock(core->mu);
  core->thread = std::thread([this, core, from, cb = std::move(on_record)] {
    run(*this, *core, std::max<std::uint64_t>(from, 1), cb);
  });
  pthread_setname_np(core->thread.native_handle(), "bl-subscription");
  return std::make_unique<subscription_handle>(core);
}

void log_impl::wait_for_commit(std::uint64_t position, const std::atomic<bool>& stop, bool poll) {
  std::unique_lock lock(commit_mu_);
  auto ready = [&] {
    return stop.load(std::memory_order_acquire) ||
           (!poll && committed_.load(std::memory_order_acquire) >= position);
  };
  if (poll || opts_.read_only)
    commit_cv_.wait_for(lock, poll_interval, ready);
  else
    commit_cv_.wait(lock, ready);
}

}  // namespace backline::eventlog::detail
