// install(): the before hook (JWT), readiness, engine figures on /metrics, and the route groups.
#include "api/service/service.h"

#include <fmt/format.h>

#include "actors/domain/directory.h"
#include "actors/engine.h"
#include "api/auth/jwt.h"
#include "api/auth/revocation.h"
#include "api/auth/token_cache.h"
#include "api/http/problem.h"
#include "api/http/server.h"
#include "api/service/event_stream.h"
#include "api/service/internal.h"
#include "eventlog/kafka/publisher.h"
#include "eventlog/log.h"
#include "projections/live.h"

namespace backline::api {
namespace {

// The JWT check of every authenticated route.
http::before_hook make_auth_hook(const context_ptr& ctx) {
  auto tokens = std::make_shared<auth::token_cache>(ctx->options.verifier);
  return [ctx, tokens](http::request& req) -> std::optional<http::response> {
    const auto token = auth::bearer_token(req.header("authorization"));
    if (!token) {
      return http::unauthorized(
          "send Authorization: Bearer <token> (for development: backline token --data DIR "
          "--sub alice --role agent)");
    }
    const auto claims = tokens->verify(*token, ctx->options.now_s());
    if (!claims) {
      return http::unauthorized(
          fmt::format("{}: {}", auth::errc_name(claims.error().code), claims.error().detail));
    }
    if (claims->tenant != ctx->tenant) {
      return http::forbidden(
          fmt::format("the token's tenant '{}' is not this call center", claims->tenant));
    }
    req.auth.tenant = claims->tenant;
    req.auth.subject = claims->subject;
    req.auth.roles.clear();
    for (const auto name : claims->roles.names()) req.auth.roles.emplace_back(name);
    return std::nullopt;
  };
}

// Kafka counts as reachable while it is caught up or its published position moved lately.
struct kafka_progress {
  std::mutex mutex;
  std::uint64_t published = 0;
  std::int64_t moved_at_s = 0;
};

http::readiness_probe make_readiness(const context_ptr& ctx) {
  auto progress = std::make_shared<kafka_progress>();
  return [ctx, progress]() {
    std::vector<http::readiness_check> checks;
    auto& log = ctx->options.engine->log();
    checks.push_back({"log", true, fmt::format("committed position {}", log.committed_position())});
    if (const auto* live = ctx->options.projections) {
      const auto err = live->error();
      checks.push_back(
          {"projections", live->caught_up() && !err,
           err ? "stopped: " + err.message() : fmt::format("lag {} events", live->lag())});
    }
    if (const auto* kafka = ctx->options.kafka) {
      const auto s = kafka->stats();
      const std::int64_t now = ctx->options.now_s();
      const std::lock_guard lock(progress->mutex);
      if (s.published_position != progress->published || progress->moved_at_s == 0) {
        progress->published = s.published_position;
        progress->moved_at_s = now;
      }
      const bool ok = s.lag_events == 0 || now - progress->moved_at_s < 10;
      checks.push_back({"kafka", ok,
                        ok ? fmt::format("lag {} events", s.lag_events)
                           : fmt::format("nothing acknowledged for {} s, lag {} events",
                                         now - progress->moved_at_s, s.lag_events)});
    }
    return checks;
  };
}

void add_engine_metrics(http::metrics::registry& m, const context_ptr& ctx) {
  auto* log = &ctx->options.engine->log();
  m.gauge_callback("backline_log_committed_position", "The event log's last committed position", {},
                   [log] { return static_cast<double>(log->committed_position()); });
  if (const auto* live = ctx->options.projections) {
    m.gauge_callback("backline_projections_lag_events",
                     "Committed events the read models do not show yet", {},
                     [live] { return static_cast<double>(live->lag()); });
    m.gauge_callback("backline_projections_caught_up",
                     "1 when the read models follow the log with no error", {},
                     [live] { return live->caught_up() && !live->error() ? 1.0 : 0.0; });
  }
  if (const auto* kafka = ctx->options.kafka) {
    m.gauge_callback("backline_kafka_lag_events", "Committed events Kafka has not acknowledged yet",
                     {}, [kafka] { return static_cast<double>(kafka->stats().lag_events); });
    m.gauge_callback("backline_kafka_in_flight_events", "Events produced and not yet acknowledged",
                     {}, [kafka] { return static_cast<double>(kafka->stats().in_flight_events); });
    m.gauge_callback("backline_kafka_published_position",
                     "The last log position Kafka acknowledged with everything before it", {},
                     [kafka] { return static_cast<double>(kafka->stats().published_position); });
    m.counter_callback("backline_kafka_records_delivered_total",
                       "Kafka records acknowledged by the brokers", {},
                       [kafka] { return kafka->stats().records_delivered_total; });
    m.counter_callback("backline_kafka_producer_errors_total",
                       "Producer errors (transport, brokers down); librdkafka retries them", {},
                       [kafka] { return kafka->stats().producer_errors_total; });
    m.counter_callback("backline_kafka_delivery_errors_total",
                       "Records whose delivery failed for good (re-sent after a restart)", {},
                       [kafka] { return kafka->stats().delivery_errors_total; });
    m.counter_callback("backline_kafka_producer_restarts_total",
                       "Times the producer was rebuilt after a fatal error", {},
                       [kafka] { return kafka->stats().producer_restarts_total; });
  }
}

// POST /v1/admin/revoked-tokens {"jti","exp"}: revoke a token id until its expiry.
void add_admin_routes(http::router& r, const context_ptr& ctx) {
  r.add(http::method::post, "/v1/admin/revoked-tokens",
        guarded([ctx](http::request& req, http::responder& respond) {
          require_role(req, {"admin"});
          const auto body = json_body(req);
          const auto jti = required_string(body, "jti", auth::jti_bytes_max);
          const auto exp = body.find("exp");
          if (exp == body.end() || !exp->is_number_integer()) {
            throw api_error(http::validation_failed(
                "exp", "exp is the token's expiry in Unix seconds (its exp claim)"));
          }
          if (!ctx->options.revoked) {
            throw api_error(http::overloaded(60, "this engine has no revocation list"));
          }
          const auto done = ctx->options.revoked->revoke(jti, exp->get<std::int64_t>());
          if (!done) {
            switch (done.error().code) {
              case auth::errc::io_error:
                throw api_error(http::internal_error(done.error().detail));
              case auth::errc::limit_exceeded:
                throw api_error(http::overloaded(60, done.error().detail));
              default:
                throw api_error(http::validation_failed("jti", done.error().detail));
            }
          }
          respond(http::response::json(201, nlohmann::json{{"jti", jti}, {"revoked", true}}));
        }));
}

}  // namespace

void install(http::server& server, service_options options) {
  auto ctx = std::make_shared<context>();
  ctx->created.reserve(context::created_max);
  ctx->tenant = options.engine->directory().call_center;
  if (!options.now_s) {
    auto* engine = options.engine;
    options.now_s = [engine] { return engine->now_us() / 1'000'000; };
  }
  ctx->options = std::move(options);
  server.set_before(make_auth_hook(ctx));
  server.set_readiness(make_readiness(ctx));
  add_engine_metrics(server.metrics(), ctx);
  ctx->board =
      std::make_unique<live_board>(ctx->options.engine->log(), ctx->options.engine->directory());
  add_telephony_routes(server.routes(), ctx);
  add_agent_routes(server.routes(), ctx);
  add_supervisor_routes(server.routes(), ctx);
  add_read_routes(server.routes(), ctx);
  add_admin_routes(server.routes(), ctx);
  add_event_stream(server.routes(), ctx->options.engine->log(), ctx->options.engine->directory(),
                   [ctx](const http::request& upgrade) { return console_snapshot(*ctx, upgrade); });
}

}  // namespace backline::api
