#pragma once
// The router: the one entry point for commands. Agent and queue commands go to the actor of
// that directory entry (unknown ids are refused). Call commands: It finds the conversation of the voice
// call a command names (the call actor's own id, a cached alias, or the log's alias index for
// transfer segments, consults and supervisor sessions), activates its call actor on demand and
// delegates the command to it, so the reply goes straight from the call actor to the client.
//
// Bounded: at most `active_calls_max` live call actors (beyond: outcome::overloaded) and at most
// `alias_cache_max` cached aliases (beyond: one forgotten per new one). Both maps get their
// buckets up front, the calls' for `calls_reserved` (a rehash of a hundred thousand entries
// stalls the router for ~15 ms; past it they still grow). A call actor that passivates tells the
// router, which forgets it; a command racing with that passivation gets CAF's
// request_receiver_down and may be retried. The router also keeps the idle checks of call actors
// with no active segment and sweeps them (every idle_timeout / 10, at most once a second), so no
// call actor holds a timer of CAF's clock.

#include <memory>

#include "actors/call_actor.h"
#include "actors/messages.h"
#include "actors/stream_actors.h"

namespace backline::actors {

struct router_config {
  std::shared_ptr<const call_actor_config> call;
  std::shared_ptr<const stream_actors_config> streams;  // agents and queues
  std::size_t active_calls_max = 1'000'000;
  std::size_t calls_reserved = 1 << 18;
  std::size_t alias_cache_max = 1 << 18;
};

router_actor spawn_router(caf::actor_system& system, std::shared_ptr<const router_config> config);

}  // namespace backline::actors
