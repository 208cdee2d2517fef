// Helpers shared by the route files (internal.h).
#include <charconv>

#include <fmt/format.h>

#include "actors/call_actor.h"
#include "actors/engine.h"
#include "api/http/problem.h"
#include "api/service/internal.h"
#include "eventlog/bounded_cache.h"
#include "eventlog/log.h"

namespace backline::api {

http::handler guarded(guarded_handler h) {
  return [h = std::move(h)](http::request& req, http::responder respond) {
    try {
      h(req, respond);
    } catch (const api_error& e) {
      respond(e.response);
    } catch (const nlohmann::json::exception& e) {
      respond(http::bad_request(fmt::format("the request body does not fit: {}", e.what())));
    }
  };
}

nlohmann::json json_body(const http::request& req) {
  if (req.body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw api_error(http::bad_request("the body is not valid JSON"));
  if (!j.is_object()) throw api_error(http::bad_request("the body must be a JSON object"));
  return j;
}

namespace {
std::string string_member(const nlohmann::json& body, std::string_view field, std::size_t bytes_max,
                          bool required) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (required) {
      throw api_error(http::validation_failed(field, fmt::format("'{}' is required", field)));
    }
    return {};
  }
  if (!it->is_string()) {
    throw api_error(http::validation_failed(field, fmt::format("'{}' must be a string", field)));
  }
  auto s = it->get<std::string>();
  if (s.size() > bytes_max) {
    throw api_error(http::validation_failed(
        field, fmt::format("'{}' is longer than {} bytes", field, bytes_max)));
  }
  if (required && s.empty()) {
    throw api_error(http::validation_failed(field, fmt::format("'{}' must not be empty", field)));
  }
  return s;
}
}  // namespace

std::string required_string(const nlohmann::json& body, std::string_view field,
                            std::size_t bytes_max) {
  return string_member(body, field, bytes_max, true);
}
std::string optional_string(const nlohmann::json& body, std::string_view field,
                            std::size_t bytes_max) {
  return string_member(body, field, bytes_max, false);
}

void require_role(const http::request& req, std::initializer_list<std::string_view> roles) {
  for (const auto r : roles) {
    if (req.auth.has_role(r)) return;
  }
  std::string names;
  for (const auto r : roles) names += (names.empty() ? "" : " or ") + std::string(r);
  throw api_error(http::forbidden(fmt::format("this route needs the role {}", names)));
}

void require_any_role(const http::request& req) {
  require_role(req, {"telephony", "agent", "supervisor", "admin"});
}

std::string path_param(const http::request& req, std::string_view name) {
  return std::string(req.path_params.get_or(name, ""));
}

std::size_t query_limit(const http::request& req, std::size_t fallback, std::size_t max) {
  const auto text = req.query.get("limit");
  if (!text) return fallback;
  std::size_t v = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc{} || end != text->data() + text->size() || v == 0 || v > max) {
    throw api_error(http::validation_failed(
        "limit", fmt::format("limit must be a whole number from 1 to {}", max)));
  }
  return v;
}

actors::command_request command_for(const context& ctx, const http::request& req,
                                    domain::command_body body) {
  actors::command_request c;
  c.command_id = actors::new_id(ctx.options.engine->now_us());
  c.tenant = req.auth.tenant;
  c.principal = req.auth.subject;
  c.body = std::move(body);
  if (const auto if_match = req.headers.get("if-match")) {
    std::string_view v = *if_match;
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), c.expected_version);
    if (ec != std::errc{} || end != v.data() + v.size() || c.expected_version == 0) {
      throw api_error(http::validation_failed(
          "If-Match", "If-Match must be the stream version the change expects, e.g. \"7\""));
    }
  }
  return c;
}

http::response command_response(const actors::command_result& r, int ok_status,
                                const ok_body_fn& ok_body) {
  using actors::outcome;
  switch (r.status) {
    case outcome::accepted: {
      auto res = http::response::json(ok_status, ok_body ? ok_body(r) : nlohmann::json::object());
      if (r.stream_version > 0) res.headers.add("ETag", fmt::format("\"{}\"", r.stream_version));
      return res;
    }
    case outcome::rejected: {
      const auto rule = domain::rule_name(r.rule);
      switch (r.rule) {
        case domain::errc::call_not_found:
        case domain::errc::offer_not_found:
        case domain::errc::callback_not_found:
        case domain::errc::supervision_not_found:
        case domain::errc::consult_not_found:
        case domain::errc::unknown_agent:
          return http::problem(404, http::problem_types::not_found, "Not found",
                               r.detail.empty() ? std::string(rule) : r.detail);
        case domain::errc::invalid_argument:
          return http::bad_request(r.detail.empty() ? "invalid argument" : r.detail);
        default:
          return http::rule_refused(rule, r.detail.empty() ? std::string(rule) : r.detail);
      }
    }
    case outcome::conflict:
      return http::conflict(r.detail.empty() ? "the stream moved on: read it again and retry"
                                             : r.detail);
    case outcome::overloaded:
      return http::overloaded(1, r.detail.empty() ? "the engine is busy" : r.detail);
    case outcome::failed:
      break;
  }
  return http::internal_error(r.detail.empty() ? "the command failed" : r.detail);
}

void submit_command(const context_ptr& ctx, const http::request& req, http::responder respond,
                    domain::command_body body, ok_body_fn ok_body, int ok_status,
                    bool with_events) {
  auto request = command_for(*ctx, req, std::move(body));
  request.with_events = with_events;
  ctx->options.engine->submit(
      std::move(request),
      [respond = std::move(respond), ok_body = std::move(ok_body), ok_status](
          actors::command_result r) mutable { respond(command_response(r, ok_status, ok_body)); },
      ctx->options.command_timeout);
}

std::string resolve_voice_call(context& ctx, const std::string& id_or_vendor_key) {
  {
    const std::lock_guard lock(ctx.created_mutex);
    const auto it = ctx.created.find(id_or_vendor_key);
    if (it != ctx.created.end()) return it->second.voice_call_id;
  }
  // Created before a restart, or forgotten by the bounded map: the log's alias.
  return ctx.options.engine->voice_call_of_vendor_key(id_or_vendor_key).value_or(id_or_vendor_key);
}

std::string existing_voice_call(const context& ctx, const std::string& id, std::string_view field) {
  auto& log = ctx.options.engine->log();
  if (const auto stream = log.resolve_alias(id); stream && stream->starts_with("call/")) return id;
  if (log.stream_version(actors::call_stream(id)) > 0) return id;
  throw api_error(http::problem(404, http::problem_types::not_found, "Not found",
                                fmt::format("no voice call {}", id), field));
}

void remember_call(context& ctx, const std::string& vendor_key, const std::string& voice_call_id,
                   const domain::call_attributes& attributes) {
  const std::lock_guard lock(ctx.created_mutex);
  // Full, each new key forgets one at random (a miss only costs the client using the
  // voiceCallId), never half the map at once under the lock.
  context::created_call c{voice_call_id, attributes};
  if (!vendor_key.empty()) {
    eventlog::insert_or_assign_bounded(ctx.created, context::created_max, vendor_key, c);
  }
  eventlog::insert_or_assign_bounded(ctx.created, context::created_max, voice_call_id,
                                     std::move(c));
}

domain::call_attributes created_attributes(context& ctx, const std::string& voice_call_id) {
  const std::lock_guard lock(ctx.created_mutex);
  const auto it = ctx.created.find(voice_call_id);
  return it == ctx.created.end() ? domain::call_attributes{} : it->second.attributes;
}

}  // namespace backline::api
