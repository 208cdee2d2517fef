#pragma once
// The engine's HTTP API (backline::api): the Telephony Integration API (/telephony/v1), the
// agent and supervisor API (/v1), the live event stream (GET /v1/events, WebSocket) and the
// operational routes' checks and figures, served by backline::http over the engine (commands and
// routing, actors/engine.h) and the read models (projections/live.h).
//
//   http::server server(http_options, registry);
//   api::install(server, {.engine = &engine, .projections = live.get(), .verifier = v});
//   server.start();
//
// Contract
// - Every route but /livez, /readyz and /metrics needs a JWT bearer token (api/auth): the
//   server's before hook verifies it with the pinned algorithm and puts the tenant (iss),
//   subject (sub) and roles in `request::auth`. A token of another tenant than the engine's
//   call center is refused (403); nobody reads or acts on another tenant's calls.
// - Handlers never block: commands go through `engine::submit`, and the response is sent when
//   the engine answers, i.e. after the command's events are durable in the log.
// - Command outcomes map to HTTP: accepted 200/201, rejected 422 naming the rule (404 when the
//   rule is `not_found`), conflict 409, overloaded 503 + Retry-After, failed 500.
// - Admin: `POST /v1/admin/revoked-tokens` {"jti","exp"} (role admin) adds a token id to the
//   revocation list (persisted before the answer); the verifier refuses it from then on.
// - Readiness (/readyz): the log accepts appends, the projections caught up (when enabled),
//   Kafka reachable (when enabled). Metrics (/metrics): the log's committed position, the
//   projections' lag, the Kafka publisher's lag and errors, under the `backline_` prefix.
//
// REQUIRES: everything the options point to outlives the server; install before start().

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace backline::actors {
class engine;
}
namespace backline::projections {
class live_projector;
}
namespace backline::kafka {
class publisher;
}
namespace backline::auth {
class verifier;
class revocation_list;
}  // namespace backline::auth
namespace backline::http {
class server;
}

namespace backline::api {

struct service_options {
  actors::engine* engine = nullptr;                          // required
  const projections::live_projector* projections = nullptr;  // null: read routes answer 503
  const kafka::publisher* kafka = nullptr;                   // null: Kafka is not enabled
  std::shared_ptr<const auth::verifier> verifier;            // required
  // The verifier's revocation list, for POST /v1/admin/revoked-tokens; null: the route answers
  // 503 (nothing can be revoked).
  std::shared_ptr<auth::revocation_list> revoked;
  std::chrono::milliseconds command_timeout{5'000};  // engine answer, then 504
  // Unix seconds for token expiry checks; default: the engine's clock.
  std::function<std::int64_t()> now_s;
};

// Installs the before hook, readiness probe, metrics and every route on `server`.
void install(http::server& server, service_options options);

}  // namespace backline::api
