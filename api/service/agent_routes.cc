// The agent API (/v1): presence, the directory (agents, extensions, queues), internal calls,
// offers, and what an agent does on a call. The caller is the token's subject: an agent acts as
// themself (participant, initiator, wrap-up author); the domain refuses what their call state
// does not allow (participant_not_found, consult_not_connected, ...: 422 naming the rule).
//
//   PUT  /v1/agents/{id}/presence      -> agent set_presence (self; supervisor/admin: anyone)
//   GET  /v1/agents, /v1/agents/{id}   -> the directory entry and live presence (live_board.h)
//   GET  /v1/directory?q=&limit=       -> autocomplete over agents, extensions and queues
//   POST /v1/calls/internal            -> routing internal_call (ring / queue / callback)
//   POST /v1/offers/{id}/accept|decline -> routing accept / decline (agent = subject)
//   POST /v1/calls/{id}/consult        -> routing consult (rings the specialist)
//   POST /v1/calls/{id}/transfer       -> complete_warm_transfer or blind_transfer
//   POST /v1/calls/{id}/conference     -> merge_conference
//   POST /v1/calls/{id}/hold|resume|mute|unmute|leave (participant = subject), hangup (end_call)
//   POST /v1/calls/{id}/wrap-up        -> wrap_up (agent = subject)
#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "actors/domain/directory.h"
#include "actors/engine.h"
#include "api/http/problem.h"
#include "api/service/internal.h"
#include "eventlog/log.h"
#include "schemas/codec.h"

namespace backline::api {
namespace {

using nlohmann::json;
namespace cmd = domain::cmd;

constexpr std::size_t agents_limit_default = 1000;
constexpr std::size_t agents_limit_max = 10'000;
constexpr std::size_t directory_limit_default = 10;
constexpr std::size_t directory_limit_max = 50;
constexpr std::size_t query_text_bytes_max = 128;

// Acting on calls and offers: agents, and supervisors (who are directory agents too).
void require_agent(const http::request& req) {
  require_role(req, {"agent", "supervisor"});
}

const domain::directory& directory_of(const context& ctx) {
  return ctx.options.engine->directory();
}

json instant_or_null(std::int64_t us) {
  return us == 0 ? json(nullptr) : json(schemas::format_rfc3339_us(us));
}

json presence_json(const context& ctx, std::string_view agent_id) {
  const auto p = ctx.board ? ctx.board->agent(agent_id) : std::nullopt;
  if (!p) return nullptr;  // the board has not folded this agent yet
  return {{"status", std::string(domain::to_string(p->status))},
          {"reason", p->reason},
          {"since", instant_or_null(p->since_us)},
          {"work_items", p->work_items},
          {"callbacks_waiting", p->callbacks_waiting}};
}

json skills_json(const std::vector<domain::skill>& skills) {
  json out = json::object();
  for (const auto& s : skills) out[s.name] = s.level;
  return out;
}

json agent_json(const context& ctx, const domain::agent_entry& a) {
  json out{{"id", a.id},
           {"name", a.name},
           {"extension", a.extension},
           {"team", a.team},
           {"kind", std::string(domain::to_string(a.kind))},
           {"capacity", a.capacity},
           {"skills", skills_json(a.skills)},
           {"presence", presence_json(ctx, a.id)}};
  if (a.kind == domain::agent_kind::supervisor) {
    out["grants"] = {
        {"monitor", a.grants.monitor}, {"whisper", a.grants.whisper}, {"barge", a.grants.barge}};
  }
  return out;
}

json queue_json(const context& ctx, const domain::queue_entry& q) {
  json out{{"name", q.name},
           {"extension", q.extension},
           {"sla_target_s", q.sla_target_s},
           {"waiting", nullptr},
           {"estimated_wait_s", nullptr}};
  const auto f = ctx.board ? ctx.board->queue(q.name, ctx.options.engine->now_us()) : std::nullopt;
  if (f) {
    out["waiting"] = f->waiting;
    out["ringing"] = f->ringing;
    out["oldest_wait_s"] = static_cast<double>(f->oldest_wait_us) / 1e6;
    if (f->estimated_wait_us >= 0) {
      out["estimated_wait_s"] = static_cast<double>(f->estimated_wait_us) / 1e6;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Presence and the directory.

std::optional<domain::presence> parse_presence(std::string_view s) {
  if (s == "available") return domain::presence::available;
  if (s == "busy") return domain::presence::busy;
  if (s == "away") return domain::presence::away;
  if (s == "offline") return domain::presence::offline;
  return std::nullopt;
}

const domain::agent_entry& known_agent(const context& ctx, const std::string& id) {
  const auto* a = directory_of(ctx).find_agent(id);
  if (a == nullptr) {
    throw api_error(http::not_found(fmt::format("no agent {} in the directory", id)));
  }
  return *a;
}

void put_presence(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_role(req, {"agent", "supervisor", "admin"});
  const std::string id = path_param(req);
  if (!req.auth.has_role("supervisor") && !req.auth.has_role("admin") && req.auth.subject != id) {
    throw api_error(http::forbidden(
        fmt::format("an agent sets only their own presence; {} needs the role supervisor", id)));
  }
  known_agent(*ctx, id);
  const json body = json_body(req);
  const auto text = required_string(body, "presence");
  const auto to = parse_presence(text);
  if (!to) {
    throw api_error(http::validation_failed(
        "presence",
        "presence is available, busy, away or offline (after-call work is set by "
        "the engine)"));
  }
  actors::agent_request r;
  r.command_id = actors::new_id(ctx->options.engine->now_us());
  r.tenant = req.auth.tenant;
  r.principal = req.auth.subject;
  r.target = id;
  r.body = domain::agent_cmd::set_presence{*to, optional_string(body, "reason")};
  ctx->options.engine->submit(
      std::move(r),
      [respond, id, text, reason = optional_string(body, "reason")](actors::command_result res) {
        respond(command_response(res, 200, [&](const actors::command_result&) {
          return json{{"agent", id}, {"presence", text}, {"reason", reason}};
        }));
      },
      ctx->options.command_timeout);
}

void get_agents(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_any_role(req);
  const auto limit = query_limit(req, agents_limit_default, agents_limit_max);
  const std::string team(req.query.get_or("team", ""));
  json agents = json::array();
  bool truncated = false;
  for (const auto& a : directory_of(*ctx).agents) {
    if (!team.empty() && a.team != team) continue;
    if (agents.size() == limit) {
      truncated = true;
      break;
    }
    agents.push_back(agent_json(*ctx, a));
  }
  respond(http::response::json(200, json{{"agents", std::move(agents)}, {"truncated", truncated}}));
}

void get_agent(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_any_role(req);
  respond(http::response::json(200, agent_json(*ctx, known_agent(*ctx, path_param(req)))));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// How well `text` matches the lower-case query: 0 exact, 1 prefix (of the text or of one of its
// words), 2 substring; nullopt when it does not match.
std::optional<int> match_rank(std::string_view text, const std::string& q) {
  if (text.empty()) return std::nullopt;
  const std::string t = lower(text);
  if (t == q) return 0;
  if (t.starts_with(q)) return 1;
  const auto at = t.find(q);
  if (at == std::string::npos) return std::nullopt;
  return t[at - 1] == ' ' ? 1 : 2;
}

struct hit {
  int rank = 3;
  bool queue = false;
  std::string key;      // sort key: the display name, then the id
  std::string matched;  // "id", "name", "extension"
  const void* entry = nullptr;
};

void best_of(hit& h, std::string_view text, const std::string& q, const char* field) {
  if (const auto r = match_rank(text, q); r && *r < h.rank) {
    h.rank = *r;
    h.matched = field;
  }
}

void get_directory(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_any_role(req);
  const auto limit = query_limit(req, directory_limit_default, directory_limit_max);
  const std::string q = lower(req.query.get_or("q", ""));
  if (q.empty()) throw api_error(http::validation_failed("q", "q (the text typed) is required"));
  if (q.size() > query_text_bytes_max) {
    throw api_error(http::validation_failed(
        "q", fmt::format("q is longer than {} bytes", query_text_bytes_max)));
  }
  std::vector<hit> hits;
  for (const auto& a : directory_of(*ctx).agents) {
    hit h{3, false, a.name + '\n' + a.id, {}, &a};
    best_of(h, a.extension, q, "extension");
    best_of(h, a.id, q, "id");
    best_of(h, a.name, q, "name");
    if (h.rank < 3) hits.push_back(std::move(h));
  }
  for (const auto& e : directory_of(*ctx).queues) {
    hit h{3, true, e.name, {}, &e};
    best_of(h, e.extension, q, "extension");
    best_of(h, e.name, q, "name");
    if (h.rank < 3) hits.push_back(std::move(h));
  }
  const auto by_rank = [](const hit& x, const hit& y) {
    return std::tie(x.rank, x.queue, x.key) < std::tie(y.rank, y.queue, y.key);
  };
  const std::size_t n = std::min(limit, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(n), hits.end(),
                    by_rank);
  json results = json::array();
  for (std::size_t i = 0; i < n; ++i) {
    const hit& h = hits[i];
    json item = h.queue ? queue_json(*ctx, *static_cast<const domain::queue_entry*>(h.entry))
                        : agent_json(*ctx, *static_cast<const domain::agent_entry*>(h.entry));
    item["kind"] = h.queue ? "queue" : "agent";
    item["matched"] = h.matched;
    results.push_back(std::move(item));
  }
  respond(http::response::json(200, json{{"results", std::move(results)}}));
}

// ---------------------------------------------------------------------------------------------
// Routing: internal calls, consults, offers.

// {"agent": id} | {"extension": ext} | {"queue": name}, resolved through the directory: exactly
// one of `agent`, `queue` is set. 400 for a malformed target, 404 (naming the field) for one
// the directory does not know.
struct call_target {
  std::string agent, queue;
};

call_target parse_target(const context& ctx, const json& body, std::string_view field) {
  const auto it = body.find(field);
  if (it == body.end() || !it->is_object()) {
    throw api_error(http::validation_failed(
        field, fmt::format("{} is an object with one of agent, extension, queue", field)));
  }
  const std::size_t given = it->count("agent") + it->count("extension") + it->count("queue");
  if (given != 1) {
    throw api_error(http::validation_failed(
        field, fmt::format("{} names exactly one of agent, extension, queue", field)));
  }
  const auto& dir = directory_of(ctx);
  const auto unknown = [&](std::string what) {
    return api_error(
        http::problem(404, http::problem_types::not_found, "Not found", std::move(what), field));
  };
  call_target t;
  if (it->contains("agent")) {
    const auto id = required_string(*it, "agent");
    if (dir.find_agent(id) == nullptr) throw unknown(fmt::format("no agent {}", id));
    t.agent = id;
  } else if (it->contains("queue")) {
    const auto name = required_string(*it, "queue");
    const auto* q = dir.find_queue(name);
    if (q == nullptr) throw unknown(fmt::format("no queue {}", name));
    t.queue = q->name;
  } else {
    const auto ext = required_string(*it, "extension");
    if (const auto* a = dir.find_extension(ext)) {
      t.agent = a->id;
    } else {
      const auto q = std::ranges::find(dir.queues, ext, &domain::queue_entry::extension);
      if (q == dir.queues.end()) throw unknown(fmt::format("no extension {}", ext));
      t.queue = q->name;
    }
  }
  return t;
}

// A refused routing request as HTTP: the rule (422, 404, 400), overload 503, else 500.
http::response route_refusal(const actors::route_result& r) {
  if (r.detail == "overloaded") return http::overloaded(1, "routing is busy");
  if (r.rule == domain::errc::ok) {
    return http::internal_error(r.detail.empty() ? "routing did not answer" : r.detail);
  }
  return command_response(actors::command_result{actors::outcome::rejected, r.rule, r.detail}, 200,
                          nullptr);
}

http::response created(json body, const std::string& voice_call_id) {
  auto res = http::response::json(201, body);
  if (!voice_call_id.empty()) res.headers.add("Location", "/v1/voice-calls/" + voice_call_id);
  return res;
}

void post_internal_call(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_agent(req);
  const json body = json_body(req);
  const call_target t = parse_target(*ctx, body, "target");
  domain::route_req::internal_call c;
  c.call_id = actors::new_id(ctx->options.engine->now_us());
  c.from_agent = req.auth.subject;
  c.target = t.agent.empty() ? t.queue : t.agent;
  if (auto parent = optional_string(body, "parent_call_id"); !parent.empty()) {
    c.parent_call_id = existing_voice_call(*ctx, parent, "parent_call_id");
  }
  ctx->options.engine->submit(
      domain::routing_request{c},
      [respond, id = c.call_id, parent = c.parent_call_id](actors::route_result r) {
        using domain::route_outcome;
        json out{{"outcome", std::string(domain::to_string(r.outcome))}};
        if (!parent.empty()) out["parent_call_id"] = parent;
        switch (r.outcome) {
          case route_outcome::ringing:
            out.update({{"call_id", id}, {"agent", r.agent}, {"offer_id", r.offer_id}});
            respond(created(std::move(out), id));
            return;
          case route_outcome::queued:
            out.update({{"call_id", id}, {"queue", r.queue}});
            respond(created(std::move(out), id));
            return;
          case route_outcome::callback:  // no call was placed: the target will call back
            out.update({{"call_id", nullptr}, {"agent", r.agent}, {"callback_id", r.callback_id}});
            respond(created(std::move(out), {}));
            return;
          case route_outcome::done:
          case route_outcome::refused:
            break;
        }
        respond(route_refusal(r));
      },
      ctx->options.command_timeout);
}

void answer_offer(const context_ptr& ctx, http::request& req, http::responder& respond,
                  bool accept) {
  require_agent(req);
  const std::string offer = path_param(req);
  ctx->options.engine->answer_offer(
      accept, req.auth.subject, offer,
      [respond, offer, accept](actors::command_result r) {
        respond(command_response(r, 200, [&](const actors::command_result&) {
          return json{{"offer_id", offer}, {"status", accept ? "accepted" : "declined"}};
        }));
      },
      ctx->options.command_timeout);
}

// The conversation (root voice call id) a voice call belongs to; the id itself when the log
// has no alias for it (a root, or an unknown id the engine then refuses).
std::string root_of(const context& ctx, const std::string& voice_call_id) {
  auto stream = ctx.options.engine->log().resolve_alias(voice_call_id);
  if (!stream || !stream->starts_with("call/")) return voice_call_id;
  return stream->substr(5);
}

bool optional_bool(const json& body, std::string_view field, bool fallback) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    throw api_error(http::validation_failed(field, fmt::format("{} is true or false", field)));
  }
  return it->get<bool>();
}

void post_consult(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_agent(req);
  const json body = json_body(req);
  const call_target t = parse_target(*ctx, body, "target");
  if (t.agent.empty()) {
    throw api_error(http::validation_failed(
        "target", "a consult rings one person: name an agent or their extension"));
  }
  domain::route_req::consult c;
  c.segment_id = path_param(req);
  c.call_id = root_of(*ctx, c.segment_id);
  c.consult_call_id = actors::new_id(ctx->options.engine->now_us());
  c.from_agent = req.auth.subject;
  c.target_agent = t.agent;
  c.hold_customer = optional_bool(body, "hold_customer", true);
  ctx->options.engine->submit(
      domain::routing_request{c},
      [respond, c](actors::route_result r) {
        if (r.outcome != domain::route_outcome::ringing) {
          respond(route_refusal(r));
          return;
        }
        respond(created(json{{"consult_call_id", c.consult_call_id},
                             {"voice_call_id", c.segment_id},
                             {"agent", r.agent},
                             {"offer_id", r.offer_id},
                             {"customer_held", c.hold_customer}},
                        c.consult_call_id));
      },
      ctx->options.command_timeout);
}

// ---------------------------------------------------------------------------------------------
// Call commands.

void post_transfer(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_agent(req);
  const json body = json_body(req);
  const std::string id = path_param(req);
  const std::string consult = optional_string(body, "consult_call_id");
  const bool has_target = body.contains("target") && !body.at("target").is_null();
  if (consult.empty() == !has_target) {
    throw api_error(http::validation_failed(
        consult.empty() ? "target" : "consult_call_id",
        "send consult_call_id (warm transfer to the consulted agent) or target (blind "
        "transfer to an agent or a queue), not both"));
  }
  const std::string segment = actors::new_id(ctx->options.engine->now_us());
  domain::command_body c;
  if (!consult.empty()) {
    c = cmd::complete_warm_transfer{id, consult, segment, req.auth.subject};
  } else {
    const call_target t = parse_target(*ctx, body, "target");
    c = cmd::blind_transfer{id, segment, t.agent, t.queue, req.auth.subject};
  }
  const char* kind = consult.empty() ? "blind" : "warm";
  submit_command(
      ctx, req, respond, std::move(c),
      [id, segment, kind](const actors::command_result&) {
        return json{{"voice_call_id", id}, {"new_segment_id", segment}, {"transfer", kind}};
      },
      201);
}

void post_conference(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_agent(req);
  const json body = json_body(req);
  const std::string id = path_param(req);
  const std::string consult = required_string(body, "consult_call_id");
  submit_command(ctx, req, respond, cmd::merge_conference{id, consult, req.auth.subject},
                 [id, consult](const actors::command_result&) {
                   return json{{"voice_call_id", id}, {"merged_consult_call_id", consult}};
                 });
}

void post_wrap_up(const context_ptr& ctx, http::request& req, http::responder& respond) {
  require_agent(req);
  const json body = json_body(req);
  const std::string id = path_param(req);
  cmd::wrap_up c{id, req.auth.subject, required_string(body, "disposition"),
                 optional_string(body, "notes", domain::text_bytes_max)};
  submit_command(ctx, req, respond, std::move(c),
                 [id, agent = req.auth.subject](const actors::command_result&) {
                   return json{{"voice_call_id", id}, {"agent", agent}, {"wrapped_up", true}};
                 });
}

// hold, resume, mute, unmute, leave, hangup: the subject on voice call {id}. Transfers, merges
// and hangups name the subject as the acting agent, whom the domain requires on the segment
// (rule participant_not_found otherwise).
using participant_command = domain::command_body (*)(std::string id, std::string subject);

void participant_action(const context_ptr& ctx, http::request& req, http::responder& respond,
                        std::string_view action, participant_command make) {
  require_agent(req);
  json_body(req);  // a body, when sent, must still be JSON
  const std::string id = path_param(req);
  submit_command(
      ctx, req, respond, make(id, req.auth.subject),
      [id, action = std::string(action), who = req.auth.subject](const actors::command_result&) {
        return json{{"voice_call_id", id}, {"action", action}, {"participant", who}};
      });
}

}  // namespace

std::string console_snapshot(const context& ctx, const http::request& upgrade) {
  const auto& dir = directory_of(ctx);
  json out{{"principal", upgrade.auth.subject}, {"roles", upgrade.auth.roles}};
  const bool sees_queues = upgrade.auth.has_role("supervisor") ||
                           upgrade.auth.has_role("telephony") || upgrade.auth.has_role("admin");
  if (const auto* me = dir.find_agent(upgrade.auth.subject)) out["agent"] = agent_json(ctx, *me);
  if (upgrade.auth.has_role("supervisor") || upgrade.auth.has_role("admin")) {
    // The agents this principal may supervise in some mode (admin: everyone).
    json agents = json::array();
    for (const auto& a : dir.agents) {
      const bool mine =
          upgrade.auth.has_role("admin") ||
          dir.may_supervise(upgrade.auth.subject, domain::supervise_mode::monitor, a.id) ||
          dir.may_supervise(upgrade.auth.subject, domain::supervise_mode::whisper, a.id) ||
          dir.may_supervise(upgrade.auth.subject, domain::supervise_mode::barge, a.id);
      if (mine) agents.push_back(agent_json(ctx, a));
    }
    out["agents"] = std::move(agents);
  }
  if (sees_queues) {
    json queues = json::array();
    for (const auto& q : dir.queues) queues.push_back(queue_json(ctx, q));
    out["queues"] = std::move(queues);
  }
  return out.dump();
}

void add_agent_routes(http::router& r, const context_ptr& ctx) {
  using http::method;
  const auto bind = [ctx](void (*f)(const context_ptr&, http::request&, http::responder&)) {
    return guarded(
        [ctx, f](http::request& req, http::responder& respond) { f(ctx, req, respond); });
  };
  r.add(method::put, "/v1/agents/{id}/presence", bind(put_presence));
  r.add(method::get, "/v1/agents", bind(get_agents));
  r.add(method::get, "/v1/agents/{id}", bind(get_agent));
  r.add(method::get, "/v1/directory", bind(get_directory));
  r.add(method::post, "/v1/calls/internal", bind(post_internal_call));
  r.add(method::post, "/v1/offers/{id}/accept",
        guarded([ctx](http::request& req, http::responder& respond) {
          answer_offer(ctx, req, respond, true);
        }));
  r.add(method::post, "/v1/offers/{id}/decline",
        guarded([ctx](http::request& req, http::responder& respond) {
          answer_offer(ctx, req, respond, false);
        }));
  r.add(method::post, "/v1/calls/{id}/consult", bind(post_consult));
  r.add(method::post, "/v1/calls/{id}/transfer", bind(post_transfer));
  r.add(method::post, "/v1/calls/{id}/conference", bind(post_conference));
  r.add(method::post, "/v1/calls/{id}/wrap-up", bind(post_wrap_up));

  const std::pair<std::string_view, participant_command> actions[] = {
      {"hold",
       [](std::string id, std::string who) -> domain::command_body {
         return cmd::hold{std::move(id), std::move(who)};
       }},
      {"resume",
       [](std::string id, std::string who) -> domain::command_body {
         return cmd::resume{std::move(id), std::move(who)};
       }},
      {"mute",
       [](std::string id, std::string who) -> domain::command_body {
         return cmd::mute{std::move(id), std::move(who)};
       }},
      {"unmute",
       [](std::string id, std::string who) -> domain::command_body {
         return cmd::unmute{std::move(id), std::move(who)};
       }},
      {"leave",
       [](std::string id, std::string who) -> domain::command_body {
         return cmd::leave{std::move(id), std::move(who)};
       }},
      {"hangup",
       [](std::string id, std::string who) -> domain::command_body {
         return cmd::end_call{std::move(id), "hangup", std::move(who)};
       }},
  };
  for (const auto& [action, make] : actions) {
    r.add(method::post, fmt::format("/v1/calls/{{id}}/{}", action),
          guarded([ctx, action, make](http::request& req, http::responder& respond) {
            participant_action(ctx, req, respond, action, make);
          }));
  }
}

}  // namespace backline::api
