// The read routes (/v1): VoiceCall records, listings, the internal-call chain and reports, from
// the read models (projections/queries.h, reports.h); any role of the tenant may read. Without
// read models (service_options::projections null) they answer 503, except time travel
// (`?at=`), which folds the log (projections/time_travel.h).
//
//   GET /v1/voice-calls/{id}[?at=TIME]                        -> get_call | fold_call_at
//   GET /v1/voice-calls?type&agent&queue&parent&from&to&limit -> list_calls
//   GET /v1/voice-calls/{id}/chain                            -> chain
//   GET /v1/reports/{name}?from&to&by                         -> report (default: the last day)
//
// Queries run on the connection's I/O thread: each is a few bounded RocksDB reads (a point
// read, a multi-get, a scan capped by `limit`); a report scans the window's records.
#include <algorithm>
#include <limits>
#include <system_error>
#include <variant>

#include <fmt/format.h>

#include "actors/engine.h"
#include "api/http/problem.h"
#include "api/service/internal.h"
#include "projections/instant.h"
#include "projections/live.h"
#include "projections/queries.h"
#include "projections/reports.h"
#include "projections/time_travel.h"
#include "schemas/codec.h"

namespace backline::api {
namespace {

using nlohmann::json;

constexpr std::size_t list_limit_default = 100;
constexpr std::int64_t report_window_default_us = 86'400'000'000;  // one day

const projections::store& read_models(const context& ctx) {
  if (ctx.options.projections == nullptr) {
    throw api_error(http::problem(
        503, http::problem_types::overloaded, "Read models disabled",
        "this server runs without read models (projections): start backlined with them to "
        "query voice calls and reports"));
  }
  return ctx.options.projections->read_models();
}

http::response store_failure(const std::error_code& ec) {
  return http::internal_error(fmt::format("the read models failed: {}", ec.message()));
}

// `?name=TIME` as Unix µs, `fallback` when absent; 400 naming it when it is not a time.
std::int64_t query_instant(const context& ctx, const http::request& req, std::string_view name,
                           std::int64_t fallback) {
  const auto text = req.query.get(name);
  if (!text) return fallback;
  const auto v = projections::parse_instant_us(*text, ctx.options.engine->now_us());
  if (!v) {
    throw api_error(http::validation_failed(
        name, fmt::format("{} is a time: RFC 3339 (2024-05-01T12:00:00Z), Unix microseconds or "
                          "'now'",
                          name)));
  }
  return *v;
}

http::response time_travel(const context& ctx, const std::string& id, std::int64_t at_us) {
  auto s = projections::fold_call_at(ctx.options.engine->log(), id, at_us);
  if (s) return http::response::json(200, projections::snapshot_json(*s));
  const auto& e = s.error();
  switch (e.code) {
    case projections::snapshot_errc::not_found:
      return http::not_found(fmt::format("no voice call {} in the event log", id));
    case projections::snapshot_errc::not_yet:
      return http::not_found(fmt::format(
          "voice call {} did not exist yet at {}: it was created at {}; ask with a later at", id,
          schemas::format_rfc3339_us(at_us), schemas::format_rfc3339_us(e.created_at_us)));
    case projections::snapshot_errc::unreadable:
    case projections::snapshot_errc::corrupt:
      break;
  }
  return http::internal_error(
      fmt::format("cannot fold stream {}: {}; run backline replay --verify", e.stream, e.detail));
}

void get_voice_call(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_any_role(req);
  const std::string id = path_param(req);
  if (req.query.contains("at")) {
    respond(time_travel(*ctx, id, query_instant(*ctx, req, "at", 0)));
    return;
  }
  auto record = projections::get_call(read_models(*ctx), id);
  if (!record) {
    respond(store_failure(record.error()));
  } else if (!*record) {
    respond(http::not_found(fmt::format(
        "no voice call {} in the read models (a call appears within a moment of its first "
        "event)",
        id)));
  } else {
    respond(http::response::json(200, **record));
  }
}

void list_voice_calls(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_any_role(req);
  projections::list_filter f;
  if (const auto type = req.query.get("type")) {
    f.type = projections::parse_call_type(*type);
    if (!f.type) {
      throw api_error(http::validation_failed("type", "type is Inbound, Outbound or Internal"));
    }
  }
  f.agent = std::string(req.query.get_or("agent", ""));
  f.queue = std::string(req.query.get_or("queue", ""));
  f.parent = std::string(req.query.get_or("parent", ""));
  f.from_us = query_instant(*ctx, req, "from", std::numeric_limits<std::int64_t>::min());
  f.to_us = query_instant(*ctx, req, "to", std::numeric_limits<std::int64_t>::max());
  f.limit = query_limit(req, list_limit_default, projections::list_limit_max);
  auto records = projections::list_calls(read_models(*ctx), f);
  if (!records) {
    respond(store_failure(records.error()));
    return;
  }
  json out{{"count", records->size()}, {"voice_calls", std::move(*records)}};
  respond(http::response::json(200, out));
}

void get_chain(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_any_role(req);
  const std::string id = path_param(req);
  auto c = projections::chain(read_models(*ctx), id);
  if (!c) {
    respond(store_failure(c.error()));
  } else if (!*c) {
    respond(http::not_found(fmt::format("no voice call {} in the read models", id)));
  } else {
    respond(http::response::json(200, **c));
  }
}

json cell_json(const projections::cell& c) {
  return std::visit([](const auto& v) { return json(v); }, c);
}

void get_report(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_any_role(req);
  const std::string name = path_param(req, "name");
  const auto& names = projections::report_names();
  if (std::ranges::find(names, name) == names.end()) {
    std::string known;
    for (const auto n : names) known += (known.empty() ? "" : ", ") + std::string(n);
    respond(http::not_found(fmt::format("no report {}; the reports are {}", name, known)));
    return;
  }
  projections::report_window w;
  w.to_us = query_instant(*ctx, req, "to", ctx->options.engine->now_us());
  w.from_us = query_instant(*ctx, req, "from", w.to_us - report_window_default_us);
  if (w.from_us >= w.to_us)
    throw api_error(http::validation_failed("from", "from must be before to"));
  if (const auto by = req.query.get("by")) {
    const auto g = projections::parse_group_by(*by);
    if (!g) throw api_error(http::validation_failed("by", "by is none, day or hour"));
    w.by = *g;
  }
  auto t = projections::report(read_models(*ctx), name, w);
  if (!t) {
    respond(store_failure(t.error()));
    return;
  }
  json rows = json::array();
  for (const auto& row : t->rows) {
    json r = json::array();
    for (const auto& c : row) r.push_back(cell_json(c));
    rows.push_back(std::move(r));
  }
  respond(http::response::json(200, json{{"name", name},
                                         {"from", schemas::format_rfc3339_us(w.from_us)},
                                         {"to", schemas::format_rfc3339_us(w.to_us)},
                                         {"by", std::string(req.query.get_or("by", "none"))},
                                         {"columns", t->columns},
                                         {"rows", std::move(rows)}}));
}

}  // namespace

void add_read_routes(http::router& r, const context_ptr& ctx) {
  using http::method;
  const auto bind = [ctx](void (*f)(const context_ptr&, http::request&, http::responder&)) {
    return guarded(
        [ctx, f](http::request& req, http::responder& respond) { f(ctx, req, respond); });
  };
  r.add(method::get, "/v1/voice-calls", bind(list_voice_calls));
  r.add(method::get, "/v1/voice-calls/{id}", bind(get_voice_call));
  r.add(method::get, "/v1/voice-calls/{id}/chain", bind(get_chain));
  r.add(method::get, "/v1/reports/{name}", bind(get_report));
}

}  // namespace backline::api
