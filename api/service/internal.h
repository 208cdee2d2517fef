#pragma once
// Private to api/service: the state the route files share and the helpers every handler uses.
//
// A handler's shape:
//
//   r.add(http::method::post, "/v1/calls/{id}/hold", guarded(ctx, [ctx](auto& req, auto respond) {
//     require_role(req, {"agent"});                       // throws api_error -> 403
//     const auto body = json_body(req);                   // throws api_error -> 400
//     submit_command(ctx, req, std::move(respond), domain::cmd::hold{...},
//                    [](const actors::command_result& r) { return nlohmann::json{...}; });
//   }));
//
// `guarded` turns an `api_error` thrown before the handler answered into its problem+json.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "actors/domain/call.h"
#include "actors/messages.h"
#include "api/http/router.h"
#include "api/http/types.h"
#include "api/service/live_board.h"
#include "api/service/service.h"

namespace backline::api {

struct context {
  service_options options;
  std::string tenant;  // the engine's call center (a token's iss must name it)

  // The calls created through this process: vendorCallKey -> voiceCallId, and each call's
  // attributes (the Omni flow's input when the request names none). Bounded: when full, each
  // new key forgets one at random (a restart forgets them all; clients may always use
  // voiceCallId). Its buckets are reserved by install(): no rehash stall while it grows.
  struct created_call {
    std::string voice_call_id;
    domain::call_attributes attributes;
  };
  std::mutex created_mutex;
  std::unordered_map<std::string, created_call> created;  // by vendorCallKey and voiceCallId
  static constexpr std::size_t created_max = 200'000;

  // Presence and queue figures for the directory routes (live_board.h; started by install()).
  std::unique_ptr<live_board> board;

  // (voice call id, supervisor) -> the supervision session this process opened, so PATCH and
  // DELETE /v1/calls/{id}/supervise find it without a session id (bounded; the read models
  // answer for the others).
  std::mutex sessions_mutex;
  std::unordered_map<std::string, std::string> sessions;
  static constexpr std::size_t sessions_max = 100'000;
};
using context_ptr = std::shared_ptr<context>;

// Route groups (one file each).
void add_telephony_routes(http::router& r, const context_ptr& ctx);
void add_agent_routes(http::router& r, const context_ptr& ctx);       // agent_routes.cc
void add_supervisor_routes(http::router& r, const context_ptr& ctx);  // supervisor_routes.cc
void add_read_routes(http::router& r, const context_ptr& ctx);        // read_routes.cc
// The first message of GET /v1/events (event_stream.h): the principal's own directory entry with
// presence; a supervisor's supervisable agents; queues with their figures (agent_routes.cc).
std::string console_snapshot(const context& ctx, const http::request& upgrade);

// A refusal found while reading the request: answered as problem+json by `guarded`.
struct api_error : std::runtime_error {
  explicit api_error(http::response r) : std::runtime_error("api error"), response(std::move(r)) {}
  http::response response;
};

using guarded_handler = std::function<void(http::request&, http::responder&)>;
// Runs `h`; an api_error it throws becomes the response, any other exception a 500.
http::handler guarded(guarded_handler h);

// The request body as a JSON object ({} when empty). 400 when it is not one.
nlohmann::json json_body(const http::request& req);
// A string member: 400 naming the field when missing (required), not a string or longer than
// `bytes_max`. Optional: "" when absent or null.
std::string required_string(const nlohmann::json& body, std::string_view field,
                            std::size_t bytes_max = domain::id_bytes_max);
std::string optional_string(const nlohmann::json& body, std::string_view field,
                            std::size_t bytes_max = domain::id_bytes_max);

// 403 unless the caller holds one of `roles` ("telephony", "agent", "supervisor", "admin").
void require_role(const http::request& req, std::initializer_list<std::string_view> roles);
// Reads: any role of the tenant (the before hook checked the tenant).
void require_any_role(const http::request& req);

// The path parameter `name` ({id}), percent-decoded by the router.
std::string path_param(const http::request& req, std::string_view name = "id");
// `?limit=N`: `fallback` when absent; 400 naming "limit" unless an integer in [1, max].
std::size_t query_limit(const http::request& req, std::size_t fallback, std::size_t max);

// A call command as the caller sends it: a fresh command id, the caller's tenant and subject,
// and `If-Match: <stream version>` as the expected version (400 when not a number).
actors::command_request command_for(const context& ctx, const http::request& req,
                                    domain::command_body body);

// The HTTP answer to a command outcome: `ok_status` with `ok_body(result)` when accepted; else
// 422 naming the rule (404 for call_not_found / offer_not_found / callback_not_found / unknown
// agent), 409, 503 + Retry-After, 500.
using ok_body_fn = std::function<nlohmann::json(const actors::command_result&)>;
http::response command_response(const actors::command_result& r, int ok_status,
                                const ok_body_fn& ok_body);

// Sends `body` through the engine and answers `respond` when it is durable (or refused).
// `with_events`: `ok_body` sees the events appended (command_result::call_events, ...).
void submit_command(const context_ptr& ctx, const http::request& req, http::responder respond,
                    domain::command_body body, ok_body_fn ok_body, int ok_status = 200,
                    bool with_events = false);

// A voice call named by the client: a voiceCallId, or a vendorCallKey (remembered in memory for
// the calls created through this process, else the log's durable alias). Unknown keys come back
// unchanged (the engine then answers 404).
std::string resolve_voice_call(context& ctx, const std::string& id_or_vendor_key);
void remember_call(context& ctx, const std::string& vendor_key, const std::string& voice_call_id,
                   const domain::call_attributes& attributes);
// A voice call named as a new call's parent (parent_call_id, parentVoiceCallId): `id` when the
// log holds it (a conversation's root or one of its segments); else 404 naming `field`.
std::string existing_voice_call(const context& ctx, const std::string& id, std::string_view field);
// The attributes a call was created with through this process (empty when unknown).
domain::call_attributes created_attributes(context& ctx, const std::string& voice_call_id);

}  // namespace backline::api
