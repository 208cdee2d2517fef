#include "actors/domain/directory.h"

#include <algorithm>

namespace backline::domain {

std::string_view to_string(supervise_mode m) {
  switch (m) {
    case supervise_mode::monitor:
      return "monitor";
    case supervise_mode::whisper:
      return "whisper";
    case supervise_mode::barge:
      return "barge";
  }
  return "unknown";
}

std::string_view to_string(agent_kind k) {
  switch (k) {
    case agent_kind::agent:
      return "agent";
    case agent_kind::supervisor:
      return "supervisor";
    case agent_kind::specialist:
      return "specialist";
  }
  return "unknown";
}

// Linear scans: the directory is a plain value compared with operator== and carried in an event,
// so it holds no index. Callers on a hot path keep their own index of a directory they hold.
const agent_entry* directory::find_agent(std::string_view id) const {
  auto it = std::ranges::find(agents, id, &agent_entry::id);
  return it == agents.end() ? nullptr : &*it;
}

const agent_entry* directory::find_extension(std::string_view extension) const {
  if (extension.empty()) return nullptr;  // an empty extension means "not dialable"
  auto it = std::ranges::find(agents, extension, &agent_entry::extension);
  return it == agents.end() ? nullptr : &*it;
}

const queue_entry* directory::find_queue(std::string_view name) const {
  auto it = std::ranges::find(queues, name, &queue_entry::name);
  return it == queues.end() ? nullptr : &*it;
}

const phone_channel* directory::find_channel(std::string_view number) const {
  auto it = std::ranges::find(channels, number, &phone_channel::number);
  return it == channels.end() ? nullptr : &*it;
}

namespace {

const std::vector<std::string>& grant_for(const supervision_grants& g, supervise_mode mode) {
  switch (mode) {
    case supervise_mode::monitor:
      return g.monitor;
    case supervise_mode::whisper:
      return g.whisper;
    case supervise_mode::barge:
      return g.barge;
  }
  static const std::vector<std::string> none;  // an out-of-range mode is denied
  return none;
}

}  // namespace

bool directory::may_supervise(std::string_view supervisor_id, supervise_mode mode,
                              std::string_view agent_id) const {
  const agent_entry* sup = find_agent(supervisor_id);
  const agent_entry* agent = find_agent(agent_id);
  if (sup == nullptr || agent == nullptr) return false;
  if (sup->kind != agent_kind::supervisor) return false;
  // Nobody coaches or listens in on themselves: a supervisor's own calls are not supervised by
  // their own grant, even when it names their team.
  if (sup == agent) return false;
  for (const std::string& team : grant_for(sup->grants, mode)) {
    if (team == "*") return true;
    // An agent with no team is covered only by "*", never by an empty entry in a grant.
    if (!team.empty() && team == agent->team) return true;
  }
  return false;
}

}  // namespace backline::domain
