#pragma once
// The call actor: the thin CAF shell around the pure call aggregate (actors/domain/call.h).
// One actor per conversation stream ("call/<root voice call id>"). It loads its state from the
// log when activated, then for each command: checks idempotency and the expected version,
// calls `decide`, appends the events and folds them at once, so the next command is decided on
// top of them while the append is in flight (pipelining, at most `pending_commands_max` appends
// per call). Replies still follow durability: the log's writer thread sends the reply of an
// append from its `done` callback, and a reply that depends on in-flight events (a rejection, a
// no-op, a replay) travels through an empty append that completes after them. An append that
// fails stops the actor (its state is ahead of the log); the next command re-activates it from
// the log. When every segment has ended and nothing happened for `idle_timeout`, it asks the
// router to passivate it: while no segment is active it registers with the router, whose sweep
// tells it when it would be idle (no timer per call).
//
// Runs on CAF's scheduler; the only I/O it does itself is reading its own stream on activation
// (RocksDB reads, no syncs); appends go to the log's writer thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "actors/messages.h"

namespace backline::eventlog {
class log;
}
namespace backline::domain {
struct directory;
}

namespace backline::actors {

struct call_actor_config {
  stream_actor_config stream;
  std::shared_ptr<const domain::directory> directory;  // immutable snapshot
  std::chrono::milliseconds idle_timeout{30'000};
};

call_actor spawn_call_actor(caf::actor_system& system, std::string root_id, router_actor router,
                            std::shared_ptr<const call_actor_config> config);

// The stream key of a conversation: "call/<root id>".
std::string call_stream(std::string_view root_id);
// The log alias of a call's vendorCallKey (written with its call_created): "vendorCallKey:<key>".
std::string vendor_call_key_alias(std::string_view key);

}  // namespace backline::actors
