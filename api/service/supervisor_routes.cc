// The supervisor API (/v1/calls/{id}/supervise): Monitor, Whisper and Barge on a voice call.
// Callers need the `supervisor` role; the grants (which modes over which teams) come from the
// directory and are enforced by the call domain: a mode without its grant is refused with the
// rule supervisor_not_granted (422), so the API never decides a grant itself.
//
//   POST   /v1/calls/{id}/supervise  {"mode", "coached_agent"?} -> join_supervisor (201, session)
//   PATCH  /v1/calls/{id}/supervise  {"mode", "coached_agent"?, "session_id"?}
//                                                             -> change_supervisor_mode
//   DELETE /v1/calls/{id}/supervise  {"session_id"?}           -> leave_supervisor
//
// PATCH and DELETE find the caller's session on that call: the body's session_id, else the one
// this process opened (context::sessions), else the read models (an open supervision session of
// the caller whose parent is the call). A session_id of another supervisor's session is refused
// by the domain (rule not_session_owner, 422).
#include <optional>

#include <fmt/format.h>

#include "actors/domain/directory.h"
#include "actors/engine.h"
#include "api/http/problem.h"
#include "api/service/internal.h"
#include "eventlog/bounded_cache.h"
#include "projections/live.h"
#include "projections/queries.h"

namespace backline::api {
namespace {

using nlohmann::json;
namespace cmd = domain::cmd;

std::string session_key(const std::string& voice_call_id, const std::string& supervisor) {
  return voice_call_id + '\n' + supervisor;
}

void remember_session(context& ctx, const std::string& key, const std::string& session) {
  const std::lock_guard lock(ctx.sessions_mutex);
  eventlog::insert_or_assign_bounded(ctx.sessions, context::sessions_max, key, session);
}

void forget_session(context& ctx, const std::string& key) {
  const std::lock_guard lock(ctx.sessions_mutex);
  ctx.sessions.erase(key);
}

domain::supervise_mode parse_mode(const json& body) {
  const auto mode = required_string(body, "mode");
  if (mode == "monitor") return domain::supervise_mode::monitor;
  if (mode == "whisper") return domain::supervise_mode::whisper;
  if (mode == "barge") return domain::supervise_mode::barge;
  throw api_error(http::validation_failed("mode", "mode is monitor, whisper or barge"));
}

// The caller's open session on voice call `id` in the read models, if they have one.
std::optional<std::string> session_in_read_models(const context& ctx, const std::string& id,
                                                  const std::string& supervisor) {
  if (ctx.options.projections == nullptr) return std::nullopt;
  projections::list_filter f;
  f.parent = id;
  f.agent = supervisor;
  f.limit = 64;
  auto records = projections::list_calls(ctx.options.projections->read_models(), f);
  if (!records) return std::nullopt;
  for (auto it = records->rbegin(); it != records->rend(); ++it) {  // the latest first
    const json& r = *it;
    if (r.value("segment_kind", "") == "supervision" &&
        r.value("supervisor_id", "") == supervisor && r.value("end_time", json()).is_null()) {
      return r.value("id", "");
    }
  }
  return std::nullopt;
}

std::string find_session(context& ctx, const http::request& req, const json& body) {
  if (auto s = optional_string(body, "session_id"); !s.empty()) return s;
  const std::string id = path_param(req);
  {
    const std::lock_guard lock(ctx.sessions_mutex);
    if (auto it = ctx.sessions.find(session_key(id, req.auth.subject)); it != ctx.sessions.end()) {
      return it->second;
    }
  }
  if (auto s = session_in_read_models(ctx, id, req.auth.subject)) return *s;
  throw api_error(http::not_found(
      fmt::format("{} has no supervision session on voice call {} that this server knows of; "
                  "send its session_id",
                  req.auth.subject, id)));
}

// The agent a whisper coaches as the domain decided it (the segment's owner when none was
// named); `named` when nothing was appended (a repeat).
std::string decided_coached_agent(const actors::command_result& r, const std::string& named) {
  for (const auto& e : r.call_events) {
    if (const auto* j = std::get_if<domain::evt::supervisor_joined>(&e.body)) {
      return j->coached_agent;
    }
    if (const auto* m = std::get_if<domain::evt::supervisor_mode_changed>(&e.body)) {
      return m->coached_agent;
    }
  }
  return named;
}

void join(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_role(req, {"supervisor"});
  const json body = json_body(req);
  cmd::join_supervisor c;
  c.voice_call_id = path_param(req);
  c.session_id = actors::new_id(ctx->options.engine->now_us());
  c.supervisor_id = req.auth.subject;
  c.mode = parse_mode(body);
  c.coached_agent = optional_string(body, "coached_agent");
  const std::string key = session_key(c.voice_call_id, c.supervisor_id);
  const std::string mode(domain::to_string(c.mode));
  submit_command(
      ctx, req, respond, c,
      [ctx, key, c, mode](const actors::command_result& r) {
        remember_session(*ctx, key, c.session_id);
        return json{{"session_id", c.session_id},
                    {"voice_call_id", c.voice_call_id},
                    {"supervisor", c.supervisor_id},
                    {"mode", mode},
                    {"coached_agent", decided_coached_agent(r, c.coached_agent)}};
      },
      201, true);
}

void change_mode(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_role(req, {"supervisor"});
  const json body = json_body(req);
  cmd::change_supervisor_mode c;
  c.mode = parse_mode(body);
  c.coached_agent = optional_string(body, "coached_agent");
  c.session_id = find_session(*ctx, req, body);
  c.supervisor_id = req.auth.subject;  // only their own session (rule not_session_owner)
  const std::string mode(domain::to_string(c.mode));
  submit_command(
      ctx, req, respond, c,
      [c, mode](const actors::command_result& r) {
        return json{{"session_id", c.session_id},
                    {"mode", mode},
                    {"coached_agent", decided_coached_agent(r, c.coached_agent)}};
      },
      200, true);
}

void leave(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_role(req, {"supervisor"});
  const json body = json_body(req);
  const std::string session = find_session(*ctx, req, body);
  const std::string key = session_key(path_param(req), req.auth.subject);
  submit_command(ctx, req, respond, cmd::leave_supervisor{session, req.auth.subject},
                 [ctx, key, session](const actors::command_result&) {
                   forget_session(*ctx, key);
                   return json{{"session_id", session}, {"left", true}};
                 });
}

}  // namespace

void add_supervisor_routes(http::router& r, const context_ptr& ctx) {
  using http::method;
  const auto bind = [ctx](void (*f)(const context_ptr&, http::request&, http::responder&)) {
    return guarded(
        [ctx, f](http::request& req, http::responder& respond) { f(ctx, req, respond); });
  };
  r.add(method::post, "/v1/calls/{id}/supervise", bind(join));
  r.add(method::patch, "/v1/calls/{id}/supervise", bind(change_mode));
  r.add(method::del, "/v1/calls/{id}/supervise", bind(leave));
}

}  // namespace backline::api
