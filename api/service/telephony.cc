// The Telephony Integration API (/telephony/v1): Salesforce's paths and field names, over the
// engine's call commands and the routing actor. Callers need the `telephony` (or `admin`) role.
//
// Field mapping (what a field becomes; a field the engine has no fact for is named in the
// answer's "ignored" list, never silently dropped):
//   POST /voiceCalls           -> create_call (voiceCallId drawn here, vendorCallKey kept)
//   PATCH /voiceCalls/{id}     -> callAttributes: update_attributes; queue: assign_queue;
//                                 agent: answer; recordingLocation: start_recording; endTime
//                                 or isActiveCall=false: end_call (disconnectReason), in that
//                                 order
//   POST .../messages          -> add_transcript
//   PATCH .../omniFlow         -> routing customer_call -> {"agent"} or {"queue"} (the queue
//                                 decided becomes the record's queue: assign_queue)
//   PATCH .../clearRouting     -> routing clear_routing
//   POST .../requestCallback   -> routing customer_callback (keeps the queue position)
//   POST .../realtimeConversationEvents / postConversationEvents -> add_conversation_event
#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "actors/engine.h"
#include "api/http/problem.h"
#include "api/service/internal.h"

namespace backline::api {
namespace {

using nlohmann::json;
namespace cmd = domain::cmd;

constexpr std::size_t bulk_entries_max = 100;
constexpr std::size_t events_per_request_max = 100;

void require_telephony(const http::request& req) {
  require_role(req, {"telephony", "admin"});
}

// callAttributes: an object, or (as Salesforce sends it) a string holding a JSON object.
domain::call_attributes parse_attributes(const json& body, std::string_view field) {
  domain::call_attributes a;
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return a;
  json obj = *it;
  if (obj.is_string()) {
    obj = json::parse(it->get<std::string>(), nullptr, false);
    if (obj.is_discarded()) {
      throw api_error(http::validation_failed(field, "callAttributes is not a JSON object"));
    }
  }
  if (!obj.is_object()) {
    throw api_error(http::validation_failed(field, "callAttributes must be a JSON object"));
  }
  for (const auto& [key, value] : obj.items()) {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    if (key.size() > domain::id_bytes_max || text.size() > domain::text_bytes_max) {
      throw api_error(http::validation_failed(
          field, fmt::format("callAttributes.{} is too long", key.substr(0, 64))));
    }
    if (key == "case_id" || key == "caseId") {
      a.case_id = std::move(text);
    } else if (key == "contact_id" || key == "contactId") {
      a.contact_id = std::move(text);
    } else if (key == "account_id" || key == "accountId") {
      a.account_id = std::move(text);
    } else if (key == "subject") {
      a.subject = std::move(text);
    } else if (key == "case_category" || key == "caseCategory") {
      a.case_category = std::move(text);
    } else {
      a.custom.emplace_back(key, std::move(text));
    }
  }
  if (a.custom.size() > domain::custom_attributes_max) {
    throw api_error(http::validation_failed(
        field, fmt::format("at most {} custom callAttributes", domain::custom_attributes_max)));
  }
  std::sort(a.custom.begin(), a.custom.end());  // object keys are unique already
  return a;
}

// `body[field]`: a non-empty array of at most `max` items, else 400 naming the field.
const json& bounded_array(const json& body, std::string_view field, std::size_t max) {
  const auto it = body.find(field);
  if (it == body.end() || !it->is_array() || it->empty()) {
    throw api_error(http::validation_failed(field, fmt::format("{} is a non-empty array", field)));
  }
  if (it->size() > max) {
    throw api_error(
        http::validation_failed(field, fmt::format("at most {} {} per request", max, field)));
  }
  return *it;
}

bool has(const json& body, std::string_view field) {
  const auto it = body.find(field);
  return it != body.end() && !it->is_null();
}

void create_voice_call(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_telephony(req);
  const json body = json_body(req);
  const auto center = optional_string(body, "callCenterApiName");
  if (!center.empty() && center != ctx->tenant) {
    throw api_error(http::validation_failed(
        "callCenterApiName", fmt::format("this engine serves the call center '{}'", ctx->tenant)));
  }
  cmd::create_call c;
  c.voice_call_id = actors::new_id(ctx->options.engine->now_us());
  c.vendor_call_key = required_string(body, "vendorCallKey");
  c.from = optional_string(body, "from");
  c.to = optional_string(body, "to");
  c.queue = optional_string(body, "queue");
  const auto method = optional_string(body, "initiationMethod");
  if (method.empty() || method == "Inbound") {
    c.type = domain::call_type::inbound;
    c.method = domain::initiation_method::inbound;
  } else if (method == "Outbound") {
    c.type = domain::call_type::outbound;
    c.method = domain::initiation_method::outbound;
  } else if (method == "Callback") {
    c.type = domain::call_type::outbound;
    c.method = domain::initiation_method::callback;
  } else if (method == "Transfer") {
    throw api_error(http::validation_failed(
        "initiationMethod",
        "a transfer segment is created by the transfer itself: POST /v1/calls/{id}/transfer"));
  } else {
    throw api_error(http::validation_failed("initiationMethod",
                                            "initiationMethod is Inbound, Outbound or Callback"));
  }
  c.attributes = parse_attributes(body, "callAttributes");
  if (has(body, "participants") && !body.at("participants").is_array()) {
    throw api_error(http::validation_failed("participants", "participants must be an array"));
  }
  if (auto parent = optional_string(body, "parentVoiceCallId"); !parent.empty()) {
    c.parent_id = existing_voice_call(*ctx, resolve_voice_call(*ctx, parent), "parentVoiceCallId");
  }
  std::vector<std::string> ignored;
  for (const auto* f : {"startTime", "participants", "callOrigin"}) {
    if (has(body, f)) ignored.emplace_back(f);
  }
  const std::string id = c.voice_call_id, key = c.vendor_call_key;
  auto attributes = c.attributes;
  submit_command(
      ctx, req, respond, std::move(c),
      [ctx, id, key, attributes, ignored](const actors::command_result&) {
        remember_call(*ctx, key, id, attributes);
        json out{{"voiceCallId", id}, {"errors", json::array()}};
        if (!ignored.empty()) out["ignored"] = ignored;
        return out;
      },
      201);
}

// Runs `commands` one after the other; answers after the last, or at the first refusal.
void submit_in_order(const context_ptr& ctx, const http::request& req, http::responder respond,
                     std::shared_ptr<std::vector<domain::command_body>> commands, std::size_t next,
                     json ok) {
  if (next == commands->size()) {
    respond(http::response::json(200, ok));
    return;
  }
  auto request = command_for(*ctx, req, std::move((*commands)[next]));
  ctx->options.engine->submit(
      std::move(request),
      [ctx, req_copy = req, respond, commands, next, ok](actors::command_result r) mutable {
        if (r.status != actors::outcome::accepted) {
          respond(command_response(r, 200, nullptr));
          return;
        }
        submit_in_order(ctx, req_copy, respond, commands, next + 1, std::move(ok));
      },
      ctx->options.command_timeout);
}

void update_voice_call(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_telephony(req);
  const json body = json_body(req);
  const std::string id = resolve_voice_call(*ctx, path_param(req));
  auto commands = std::make_shared<std::vector<domain::command_body>>();
  if (has(body, "callAttributes")) {
    commands->push_back(cmd::update_attributes{id, parse_attributes(body, "callAttributes")});
  }
  // Present, these name something: an empty string is refused (400, naming the field), not
  // taken as "no change" (omit the field for that).
  if (has(body, "queue")) {
    commands->push_back(cmd::assign_queue{id, required_string(body, "queue")});
  }
  if (has(body, "agent")) commands->push_back(cmd::answer{id, required_string(body, "agent")});
  if (has(body, "recordingLocation")) {
    commands->push_back(cmd::start_recording{
        id, required_string(body, "recordingLocation", domain::text_bytes_max)});
  }
  bool ends = has(body, "endTime");
  if (has(body, "isActiveCall")) {
    if (!body.at("isActiveCall").is_boolean()) {
      throw api_error(
          http::validation_failed("isActiveCall", "isActiveCall must be true or false"));
    }
    ends = ends || !body.at("isActiveCall").get<bool>();
  }
  if (ends) {
    auto reason = optional_string(body, "disconnectReason");
    commands->push_back(cmd::end_call{id, reason.empty() ? "telephony" : reason});
  }
  std::vector<std::string> ignored;
  for (const auto* f :
       {"startTime", "enqueueTime", "acceptTime", "fromNumber", "totalRecordingDuration"}) {
    if (has(body, f)) ignored.emplace_back(f);
  }
  json ok{{"voiceCallId", id}, {"errors", json::array()}};
  if (!ignored.empty()) ok["ignored"] = ignored;
  submit_in_order(ctx, req, std::move(respond), commands, 0, std::move(ok));
}

cmd::add_transcript transcript_message(const context& ctx, const std::string& voice_call_id,
                                       const json& m) {
  if (!m.is_object())
    throw api_error(http::validation_failed("messages", "a message is an object"));
  cmd::add_transcript t;
  t.voice_call_id = voice_call_id;
  t.message_id = optional_string(m, "messageId");
  if (t.message_id.empty()) t.message_id = actors::new_id(ctx.options.engine->now_us());
  t.speaker = optional_string(m, "participantId");
  t.sender_type = optional_string(m, "senderType");
  t.text = required_string(m, "content", domain::text_bytes_max);
  for (auto [field, slot] :
       {std::pair{"startTime", &t.start_ms}, std::pair{"endTime", &t.end_ms}}) {
    if (!has(m, field)) continue;
    if (!m.at(field).is_number_integer()) {
      throw api_error(http::validation_failed(field, fmt::format("{} is milliseconds", field)));
    }
    *slot = m.at(field).get<std::int64_t>();
  }
  if (!has(m, "endTime")) t.end_ms = t.start_ms;
  return t;
}

void post_messages(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_telephony(req);
  const json body = json_body(req);
  const std::string id = resolve_voice_call(*ctx, path_param(req, "vendorCallKey"));
  auto commands = std::make_shared<std::vector<domain::command_body>>();
  const auto it = body.find("messages");
  if (it != body.end() && it->is_array()) {
    if (it->size() > events_per_request_max) {
      throw api_error(http::validation_failed(
          "messages", fmt::format("at most {} messages per request", events_per_request_max)));
    }
    for (const auto& m : *it) commands->push_back(transcript_message(*ctx, id, m));
  } else {
    commands->push_back(transcript_message(*ctx, id, body));
  }
  submit_in_order(ctx, req, std::move(respond), commands, 0, json{{"errors", json::array()}});
}

// POST /voiceCalls/messages: {"entries":[{"vendorCallKey", "messages":[...]}, ...]}; each
// entry answers on its own: {"entries":[{"vendorCallKey","errors":[...]}]}.
void post_bulk_messages(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_telephony(req);
  const json body = json_body(req);
  const json& entries_in = bounded_array(body, "entries", bulk_entries_max);
  struct entry {
    std::string key;
    std::vector<domain::command_body> commands;
  };
  auto entries = std::make_shared<std::vector<entry>>();
  std::size_t total = 0;
  for (const auto& e : entries_in) {
    if (!e.is_object())
      throw api_error(http::validation_failed("entries", "an entry is an object"));
    entry x;
    x.key = required_string(e, "vendorCallKey");
    const std::string id = resolve_voice_call(*ctx, x.key);
    const auto msgs = e.find("messages");
    if (msgs == e.end() || !msgs->is_array()) {
      throw api_error(http::validation_failed("messages", "each entry has a messages array"));
    }
    total += msgs->size();
    if (total > events_per_request_max) {
      throw api_error(http::validation_failed(
          "messages", fmt::format("at most {} messages per request", events_per_request_max)));
    }
    for (const auto& m : *msgs) x.commands.push_back(transcript_message(*ctx, id, m));
    entries->push_back(std::move(x));
  }
  // Every command at once; the answer waits for all of them.
  struct gather {
    std::mutex mutex;
    std::size_t left = 0;
    json results = json::array();
    http::responder respond;
  };
  auto g = std::make_shared<gather>();
  g->respond = std::move(respond);
  for (const auto& e : *entries) {
    g->results.push_back(json{{"vendorCallKey", e.key}, {"errors", json::array()}});
    g->left += e.commands.size();
  }
  if (g->left == 0) {
    g->respond(http::response::json(200, json{{"entries", g->results}}));
    return;
  }
  for (std::size_t i = 0; i < entries->size(); ++i) {
    for (auto& c : (*entries)[i].commands) {
      ctx->options.engine->submit(
          command_for(*ctx, req, std::move(c)),
          [g, i](actors::command_result r) {
            const std::lock_guard lock(g->mutex);
            if (r.status != actors::outcome::accepted) {
              g->results[i]["errors"].push_back(
                  json{{"status", std::string(actors::to_string(r.status))},
                       {"rule", std::string(domain::rule_name(r.rule))},
                       {"detail", r.detail}});
            }
            if (--g->left == 0)
              g->respond(http::response::json(200, json{{"entries", g->results}}));
          },
          ctx->options.command_timeout);
    }
  }
}

void post_conversation_events(const context_ptr& ctx, http::request& req, http::responder& respond,
                              bool post_call) {
  require_telephony(req);
  const json body = json_body(req);
  const std::string id = resolve_voice_call(*ctx, path_param(req, "vendorCallKey"));
  const json& events = bounded_array(body, "events", events_per_request_max);
  auto commands = std::make_shared<std::vector<domain::command_body>>();
  for (const auto& e : events) {
    if (!e.is_object()) throw api_error(http::validation_failed("events", "an event is an object"));
    cmd::add_conversation_event c;
    c.voice_call_id = id;
    c.event_id = optional_string(e, "id");
    if (c.event_id.empty()) c.event_id = actors::new_id(ctx->options.engine->now_us());
    c.post_call = post_call;
    c.type = required_string(e, "type");
    c.payload = e.dump();
    if (c.payload.size() > domain::text_bytes_max) {
      throw api_error(http::validation_failed(
          "events", fmt::format("an event is at most {} bytes of JSON", domain::text_bytes_max)));
    }
    commands->push_back(std::move(c));
  }
  submit_in_order(ctx, req, std::move(respond), commands, 0, json{{"errors", json::array()}});
}

// The answer to a routing request in Salesforce's shape.
http::response route_response(const actors::route_result& r) {
  using domain::route_outcome;
  switch (r.outcome) {
    case route_outcome::ringing:
      return http::response::json(200, json{{"agent", r.agent}, {"offerId", r.offer_id}});
    case route_outcome::queued:
      return http::response::json(200, json{{"queue", r.queue}});
    case route_outcome::callback:
      return http::response::json(
          200, json{{"callbackId", r.callback_id}, {"agent", r.agent}, {"queue", r.queue}});
    case route_outcome::done:
      return http::response::json(200, json{{"errors", json::array()}});
    case route_outcome::refused:
      break;
  }
  if (r.detail == "overloaded") return http::overloaded(1, "routing is busy");
  if (r.rule == domain::errc::ok) return http::internal_error(r.detail);
  return command_response(actors::command_result{actors::outcome::rejected, r.rule, r.detail}, 200,
                          nullptr);
}

void submit_route(const context_ptr& ctx, domain::routing_request request,
                  http::responder respond) {
  ctx->options.engine->submit(
      std::move(request),
      [respond = std::move(respond)](actors::route_result r) mutable {
        respond(route_response(r));
      },
      ctx->options.command_timeout);
}

void omni_flow(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_telephony(req);
  const json body = json_body(req);
  domain::route_req::customer_call c;
  c.call_id = resolve_voice_call(*ctx, path_param(req));
  c.dialled_number = optional_string(body, "dialedNumber");
  c.flow_override = optional_string(body, "flowDevName");
  c.fallback_queue_override = optional_string(body, "fallbackQueue");
  c.attributes = has(body, "flowInputParameters") ? parse_attributes(body, "flowInputParameters")
                                                  : created_attributes(*ctx, c.call_id);
  submit_route(ctx, std::move(c), std::move(respond));
}

void clear_routing(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_telephony(req);
  submit_route(ctx, domain::route_req::clear_routing{resolve_voice_call(*ctx, path_param(req))},
               std::move(respond));
}

void request_callback(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_telephony(req);
  const json body = json_body(req);
  domain::route_req::customer_callback c;
  c.call_id = resolve_voice_call(*ctx, path_param(req));
  c.number = optional_string(body, "callbackNumber");
  if (c.number.empty()) c.number = optional_string(body, "number");
  submit_route(ctx, std::move(c), std::move(respond));
}

}  // namespace

void add_telephony_routes(http::router& r, const context_ptr& ctx) {
  using http::method;
  const auto bind = [ctx](void (*f)(const context_ptr&, http::request&, http::responder&)) {
    return guarded(
        [ctx, f](http::request& req, http::responder& respond) { f(ctx, req, respond); });
  };
  const std::string base = "/telephony/v1/voiceCalls";
  r.add(method::post, base, bind(create_voice_call));
  r.add(method::post, base + "/messages", bind(post_bulk_messages));
  r.add(method::patch, base + "/{id}", bind(update_voice_call));
  r.add(method::post, base + "/{vendorCallKey}/messages", bind(post_messages));
  r.add(method::patch, base + "/{id}/omniFlow", bind(omni_flow));
  r.add(method::patch, base + "/{id}/clearRouting", bind(clear_routing));
  r.add(method::post, base + "/{id}/requestCallback", bind(request_callback));
  r.add(method::post, base + "/{vendorCallKey}/realtimeConversationEvents",
        guarded([ctx](http::request& req, http::responder& respond) {
          post_conversation_events(ctx, req, respond, false);
        }));
  r.add(method::post, base + "/{vendorCallKey}/postConversationEvents",
        guarded([ctx](http::request& req, http::responder& respond) {
          post_conversation_events(ctx, req, respond, true);
        }));
}

}  // namespace backline::api
