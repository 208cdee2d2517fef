#include "api/service/live_board.h"

#include <cstdio>
#include <type_traits>
#include <variant>

#include "actors/domain/directory.h"
#include "eventlog/log.h"
#include "schemas/codec.h"

namespace backline::api {
namespace {

constexpr std::size_t read_chunk_events = 4096;
constexpr std::string_view agent_prefix = "agent/";
constexpr std::string_view queue_prefix = "queue/";

// Folds one envelope into `state` when it holds an event of that aggregate. False when it does
// not decode (logged; the board then keeps the state it had).
template <class State>
bool apply(State& state, const eventlog::record& r) {
  auto d = schemas::decode(r.envelope);
  if (d) {
    if constexpr (std::is_same_v<State, domain::agent_state>) {
      if (std::holds_alternative<domain::agent_event_body>(d->payload)) {
        domain::evolve(state, schemas::to_agent_event(*d));
        return true;
      }
    } else {
      if (std::holds_alternative<domain::queue_event_body>(d->payload)) {
        domain::evolve(state, schemas::to_queue_event(*d));
        return true;
      }
    }
  }
  std::fprintf(stderr,
               "{\"level\":\"error\",\"module\":\"api\",\"msg\":\"live board: event at position "
               "%llu of %s is not readable; presence and queue figures stop for it\"}\n",
               static_cast<unsigned long long>(r.position), r.stream.c_str());
  return false;
}

}  // namespace

live_board::live_board(eventlog::log& log, const domain::directory& dir) : log_(log), dir_(dir) {
  warm_ = std::thread([this] { warm_up(); });
}

live_board::~live_board() {
  stop_.store(true, std::memory_order_release);
  if (warm_.joinable()) warm_.join();
  subscription_.reset();  // joins its thread: no callback runs after this
}

template <class State>
bool live_board::fold_stream(const std::string& stream, State& state) {
  while (!stop_.load(std::memory_order_acquire)) {
    auto records = log_.read_stream(stream, state.version + 1, read_chunk_events);
    if (!records) return false;
    for (const auto& r : *records) {
      if (r.stream_version != state.version + 1 || !apply(state, r)) return false;
    }
    if (records->size() < read_chunk_events) return true;
  }
  return false;
}

void live_board::warm_up() {
  const std::uint64_t from = log_.committed_position() + 1;
  for (const auto& a : dir_.agents) {
    if (stop_.load(std::memory_order_acquire)) return;
    domain::agent_state s;
    if (!fold_stream(std::string(agent_prefix) + a.id, s)) continue;
    const std::lock_guard lock(mutex_);
    agents_.insert_or_assign(a.id, std::move(s));
  }
  for (const auto& q : dir_.queues) {
    if (stop_.load(std::memory_order_acquire)) return;
    domain::queue_state s;
    if (!fold_stream(std::string(queue_prefix) + q.name, s)) continue;
    const std::lock_guard lock(mutex_);
    queues_.insert_or_assign(q.name, std::move(s));
  }
  if (stop_.load(std::memory_order_acquire)) return;
  // Events committed since `from` are delivered again; their versions say they were folded.
  subscription_ = log_.subscribe(from, [this](const eventlog::record& r) { on_record(r); });
  ready_.store(true, std::memory_order_release);
}

void live_board::on_record(const eventlog::record& r) {
  const std::string_view stream = r.stream;
  const auto follow = [&](auto& states, std::string_view key) {
    const std::lock_guard lock(mutex_);
    auto it = states.find(key);
    if (it == states.end() || r.stream_version <= it->second.version) return;
    if (r.stream_version == it->second.version + 1) {
      apply(it->second, r);
    } else {
      fold_stream(r.stream, it->second);  // a gap cannot happen (see the header); heal anyway
    }
  };
  if (stream.starts_with(agent_prefix)) {
    follow(agents_, stream.substr(agent_prefix.size()));
  } else if (stream.starts_with(queue_prefix)) {
    follow(queues_, stream.substr(queue_prefix.size()));
  }
}

std::optional<live_board::presence_view> live_board::agent(std::string_view id) const {
  const std::lock_guard lock(mutex_);
  const auto it = agents_.find(id);
  if (it == agents_.end()) return std::nullopt;
  const auto& s = it->second;
  return presence_view{s.current, s.reason, s.presence_since_us, s.work.size(), s.callbacks.size()};
}

std::optional<domain::queue_figures> live_board::queue(std::string_view name,
                                                       std::int64_t now_us) const {
  const std::lock_guard lock(mutex_);
  const auto it = queues_.find(name);
  if (it == queues_.end()) return std::nullopt;
  return domain::figures(it->second, now_us);
}

}  // namespace backline::api
