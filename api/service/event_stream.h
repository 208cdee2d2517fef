#pragma once
// Private to api/service: GET /v1/events, the live event stream of the consoles (WebSocket).
//
// A session gets, first, a snapshot of what its principal may see right now
// ({"type":"snapshot", ...}), then every committed event it may see, as the JSON of
// schemas/json.cc, in log order, as it is committed (after it is durable). Who sees what:
//   agent       its own agent stream (presence, offers, callbacks) and the calls it is or was on
//   supervisor  the agents of the teams it has any supervision grant for (and its own team),
//               their calls and the queues
//   telephony   every call and queue event of its call center
//   admin       everything
// A call's people (agents rung or joined, consult targets, supervisors) are learned from the
// call's own events as they pass, so the hub needs no read of the read models.
//
// Threads and bounds. ONE log subscription (its own thread) decodes each event once and offers
// it to every session; sending is ws_session::send (bounded queue; a slow console is closed with
// 1008 and resyncs from a new snapshot). At most `sessions_max` sessions (the server's own
// bound applies too); the people of at most `conversations_max` recent conversations are kept.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/http/router.h"

namespace backline::eventlog {
class log;
}
namespace backline::domain {
struct directory;
}

namespace backline::api {

class event_hub;

// The snapshot of one principal (JSON text of an object; "type" and "position" are added).
using snapshot_fn = std::function<std::string(const http::request& upgrade)>;

// Subscribes to `log` from its committed position + 1 and registers GET /v1/events on `r`.
// The hub lives as long as the route. REQUIRES: `log` and `dir` outlive the router.
void add_event_stream(http::router& r, eventlog::log& log, const domain::directory& dir,
                      snapshot_fn snapshot);

}  // namespace backline::api
