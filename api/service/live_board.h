#pragma once
// Private to api/service: what the consoles read about people and queues right now (an agent's
// presence, a queue's waiting count and estimated wait), kept in memory from the log so that a
// directory lookup (autocomplete, every keystroke) costs a map lookup and no RocksDB read.
// The read models hold calls only; the routing actor's view is not readable from outside.
//
// How it stays current. On start, one thread notes the log's committed position P, folds the
// stream of every directory agent ("agent/<id>") and queue ("queue/<name>") with the domain's
// own `evolve`, then subscribes to the log from P + 1 and folds each later event of those
// streams (skipping versions it already folded). So a read may trail the log by the
// subscription's delay (milliseconds); before the first fold finished it answers nullopt.
//
// Bounded by the directory: one state per agent and per queue. Threads: reads from any thread
// (one mutex); the destructor stops both threads (never call it from the subscription).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "actors/domain/agent.h"
#include "actors/domain/queue.h"

namespace backline::eventlog {
class log;
class subscription;
struct record;
}  // namespace backline::eventlog
namespace backline::domain {
struct directory;
}

namespace backline::api {

class live_board {
 public:
  // REQUIRES: `log` and `dir` outlive the board.
  live_board(eventlog::log& log, const domain::directory& dir);
  ~live_board();
  live_board(const live_board&) = delete;
  live_board& operator=(const live_board&) = delete;

  struct presence_view {
    domain::presence status = domain::presence::offline;
    std::string reason;
    std::int64_t since_us = 0;
    std::size_t work_items = 0;         // ringing offers and accepted calls
    std::size_t callbacks_waiting = 0;  // callback requests for this agent
  };
  // Nullopt: not a directory agent, or the first fold has not reached it yet.
  std::optional<presence_view> agent(std::string_view id) const;
  // Nullopt: not a directory queue, or not folded yet.
  std::optional<domain::queue_figures> queue(std::string_view name, std::int64_t now_us) const;
  // True once every directory stream was folded and the subscription follows the log.
  bool ready() const { return ready_.load(std::memory_order_acquire); }

 private:
  void warm_up();
  void on_record(const eventlog::record& r);
  template <class State>
  bool fold_stream(const std::string& stream, State& state);

  eventlog::log& log_;
  const domain::directory& dir_;
  mutable std::mutex mutex_;
  std::map<std::string, domain::agent_state, std::less<>> agents_;  // folded ones only
  std::map<std::string, domain::queue_state, std::less<>> queues_;
  std::atomic<bool> stop_{false}, ready_{false};
  std::unique_ptr<eventlog::subscription> subscription_;  // set by the warm-up thread
  std::thread warm_;
};

}  // namespace backline::api
