// GET /v1/events: one log subscription fanned out to the consoles' WebSocket sessions.
#include "api/service/event_stream.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/domain/directory.h"
#include "api/http/problem.h"
#include "api/http/websocket.h"
#include "eventlog/log.h"
#include "schemas/codec.h"

namespace backline::api {
namespace {

constexpr std::size_t sessions_max = 1'000;
constexpr std::size_t conversations_max = 100'000;

enum class viewer : std::uint8_t { agent, supervisor, telephony, admin };

struct audience {
  viewer kind = viewer::agent;
  std::string subject;
  std::set<std::string, std::less<>> agents;  // supervisor: the agents of its teams
};

// The agents of the teams `supervisor_id` may supervise in any mode, and of its own team.
std::set<std::string, std::less<>> team_agents(const domain::directory& dir,
                                               std::string_view supervisor_id) {
  std::set<std::string, std::less<>> teams;
  bool every_team = false;
  for (const auto& a : dir.agents) {
    if (a.id != supervisor_id) continue;
    teams.insert(a.team);
    for (const auto* grant : {&a.grants.monitor, &a.grants.whisper, &a.grants.barge}) {
      for (const auto& t : *grant) {
        every_team = every_team || t == "*";
        teams.insert(t);
      }
    }
  }
  std::set<std::string, std::less<>> out;
  for (const auto& a : dir.agents) {
    if (every_team || teams.contains(a.team)) out.insert(a.id);
  }
  return out;
}

// The people a call event names (agents rung, joined, targeted; supervisors).
void people_of(const domain::event_body& e, std::vector<std::string>& out) {
  namespace evt = domain::evt;
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, evt::call_created>) {
          out.push_back(x.initiator_agent);
        } else if constexpr (std::is_same_v<T, evt::call_ringing> ||
                             std::is_same_v<T, evt::call_answered>) {
          out.push_back(x.agent_id);
        } else if constexpr (std::is_same_v<T, evt::participant_joined>) {
          out.push_back(x.participant_id);
        } else if constexpr (std::is_same_v<T, evt::consult_started>) {
          out.push_back(x.initiator_agent);
          out.push_back(x.target_agent);
        } else if constexpr (std::is_same_v<T, evt::warm_transfer_completed> ||
                             std::is_same_v<T, evt::blind_transferred> ||
                             std::is_same_v<T, evt::conference_merged>) {
          out.push_back(x.target_agent);
        } else if constexpr (std::is_same_v<T, evt::supervisor_joined>) {
          out.push_back(x.supervisor_id);
          out.push_back(x.coached_agent);
        }
      },
      e);
}

}  // namespace

class event_hub {
 public:
  event_hub(eventlog::log& log, const domain::directory& dir) : dir_(dir) {
    delivered_ = log.committed_position();
    subscription_ =
        log.subscribe(delivered_ + 1, [this](const eventlog::record& r) { on_record(r); });
  }
  ~event_hub() { subscription_.reset(); }  // joins the subscription's thread

  http::ws_decision upgrade(http::request& req, const snapshot_fn& snapshot) {
    audience a;
    a.subject = req.auth.subject;
    if (req.auth.has_role("admin")) {
      a.kind = viewer::admin;
    } else if (req.auth.has_role("telephony")) {
      a.kind = viewer::telephony;
    } else if (req.auth.has_role("supervisor")) {
      a.kind = viewer::supervisor;
      a.agents = team_agents(dir_, a.subject);
    } else if (req.auth.has_role("agent")) {
      a.kind = viewer::agent;
    } else {
      return http::ws_decision::refuse(http::forbidden("the event stream needs a role"));
    }
    {
      const std::lock_guard lock(mutex_);
      if (sessions_.size() >= sessions_max) {
        return http::ws_decision::refuse(
            http::overloaded(5, fmt::format("at most {} event streams", sessions_max)));
      }
    }
    http::ws_handlers h;
    h.on_open = [this, a = std::move(a), snapshot](const std::shared_ptr<http::ws_session>& s) {
      // Under the lock: no event reaches the session before its snapshot, none is skipped.
      const std::lock_guard lock(mutex_);
      auto j =
          nlohmann::json::parse(snapshot ? snapshot(s->upgrade_request()) : "{}", nullptr, false);
      if (!j.is_object()) j = nlohmann::json::object();
      j["type"] = "snapshot";
      j["position"] = delivered_;
      if (s->send(j.dump())) sessions_.push_back({s, a});
    };
    h.on_close = [this](const std::shared_ptr<http::ws_session>& s, std::uint16_t) {
      const std::lock_guard lock(mutex_);
      std::erase_if(sessions_, [&](const entry& e) { return e.session == s; });
    };
    return http::ws_decision::accept_with(std::move(h));
  }

 private:
  struct entry {
    std::shared_ptr<http::ws_session> session;
    audience who;
  };

  bool visible(const audience& a, const schemas::envelope_meta& m,
               const std::set<std::string, std::less<>>* people) const {
    if (a.kind == viewer::admin) return true;
    const auto& kind = m.stream_kind;
    if (a.kind == viewer::telephony) return kind == "call" || kind == "queue";
    if (kind == "agent") {
      return a.kind == viewer::agent ? m.stream_id == a.subject : a.agents.contains(m.stream_id);
    }
    if (kind == "queue") return a.kind == viewer::supervisor;
    if (kind != "call" || !people) return false;
    if (people->contains(a.subject)) return true;
    if (a.kind != viewer::supervisor) return false;
    return std::any_of(people->begin(), people->end(),
                       [&a](const std::string& p) { return a.agents.contains(p); });
  }

  void on_record(const eventlog::record& r) {
    auto d = schemas::decode(r.envelope);
    const std::lock_guard lock(mutex_);
    delivered_ = r.position;
    if (!d || sessions_.empty()) {
      if (d && d->payload.index() == 0) learn_people(*d);
      return;
    }
    const auto* people = d->payload.index() == 0 ? &learn_people(*d) : nullptr;
    std::string text;
    for (const auto& e : sessions_) {
      if (!visible(e.who, d->meta, people)) continue;
      if (text.empty()) text = schemas::to_json(*d);
      e.session->send(text);  // a full queue closes the session (1008); on_close removes it
    }
  }

  const std::set<std::string, std::less<>>& learn_people(const schemas::decoded& d) {
    auto [it, fresh] = people_.try_emplace(d.meta.stream_id);
    if (fresh) {
      order_.push_back(d.meta.stream_id);
      if (order_.size() > conversations_max) {
        people_.erase(order_.front());
        order_.pop_front();
      }
    }
    std::vector<std::string> names;
    people_of(std::get<domain::event_body>(d.payload), names);
    for (auto& n : names) {
      if (!n.empty()) it->second.insert(std::move(n));
    }
    return it->second;
  }

  const domain::directory& dir_;
  std::mutex mutex_;
  std::uint64_t delivered_ = 0;
  std::vector<entry> sessions_;
  std::unordered_map<std::string, std::set<std::string, std::less<>>> people_;  // by stream id
  std::deque<std::string> order_;  // conversations in first-seen order (the bound)
  std::unique_ptr<eventlog::subscription> subscription_;
};

void add_event_stream(http::router& r, eventlog::log& log, const domain::directory& dir,
                      snapshot_fn snapshot) {
  auto hub = std::make_shared<event_hub>(log, dir);
  r.websocket("/v1/events", [hub, snapshot = std::move(snapshot)](http::request& req) {
    return hub->upgrade(req, snapshot);
  });
}

}  // namespace backline::api
