#pragma once
// The agent and queue actors: thin CAF shells around the pure agent and queue aggregates
// (actors/domain/agent.h, queue.h), on the same core as the call actor (actors/aggregate_core.h):
// idempotent command ids, expected versions, pipelined appends, replies after durability.
//
// One agent actor per directory agent (stream "agent/<id>"): the single place where an agent's
// capacity is reserved, since every reservation for that agent is decided there in turn. One
// queue actor per directory queue (stream "queue/<name>"). Both are activated on demand by the
// router and stay active (the directory bounds their number).

#include <memory>

#include "actors/messages.h"

namespace backline::domain {
struct directory;
}

namespace backline::actors {

using agent_actor =
    caf::typed_actor<caf::replies_to<command_atom, agent_request>::with<command_result>,
                     caf::reacts_to<committed_atom, append_failed>>;
using queue_actor =
    caf::typed_actor<caf::replies_to<command_atom, queue_request>::with<command_result>,
                     caf::reacts_to<committed_atom, append_failed>>;

struct stream_actors_config {
  stream_actor_config stream;
  std::shared_ptr<const domain::directory> directory;  // immutable snapshot
};

// REQUIRES: `agent_id` / `queue_name` exist in the directory (the router checks).
// A failed load or append stops the actor and tells `router` (crash-only).
agent_actor spawn_agent_actor(caf::actor_system& system, std::string agent_id,
                              router_actor router,
                              std::shared_ptr<const stream_actors_config> config);
queue_actor spawn_queue_actor(caf::actor_system& system, std::string queue_name,
                              router_actor router,
                              std::shared_ptr<const stream_actors_config> config);

}  // namespace backline::actors
