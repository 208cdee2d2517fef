#include "actors/domain/directory.h"

#include <algorithm>
#include <functional>

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

namespace {

// The entry of `key` in `entries`: by the index when it is fresh, else by a scan. A hit is
// verified against the entry; a miss is trusted only when `index_fresh` (the entry counts still
// match the reindex). Duplicate keys resolve to the first entry either way.
template <class Entry, class Key>
const Entry* lookup(const std::vector<Entry>& entries, const directory_index::positions* index,
                    bool index_fresh, std::string_view key, Key key_of) {
  if (index != nullptr) {
    if (auto it = index->find(key); it != index->end()) {
      if (it->second < entries.size() && std::invoke(key_of, entries[it->second]) == key) {
        return &entries[it->second];
      }
    } else if (index_fresh) {
      return nullptr;
    }
  }
  auto it = std::ranges::find(entries, key, key_of);
  return it == entries.end() ? nullptr : &*it;
}

template <class Entry, class Key>
void index_into(directory_index::positions& out, const std::vector<Entry>& entries, Key key_of) {
  out.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string& key = std::invoke(key_of, entries[i]);
    if (!key.empty()) out.emplace(key, i);
  }
}

}  // namespace

void directory::reindex() {
  auto next = std::make_shared<directory_index::maps_type>();
  index_into(next->agents, agents, &agent_entry::id);
  index_into(next->extensions, agents, &agent_entry::extension);
  index_into(next->queues, queues, &queue_entry::name);
  index_into(next->channels, channels, &phone_channel::number);
  index.maps = std::move(next);
}

const agent_entry* directory::find_agent(std::string_view id) const {
  const bool fresh = index.maps && index.maps->agents.size() == agents.size();
  return lookup(agents, index.maps ? &index.maps->agents : nullptr, fresh, id, &agent_entry::id);
}

const agent_entry* directory::find_extension(std::string_view extension) const {
  if (extension.empty()) return nullptr;  // an empty extension means "not dialable"
  // Extensions are optional: the agent count says whether the extension index is fresh.
  const bool fresh = index.maps && index.maps->agents.size() == agents.size();
  return lookup(agents, index.maps ? &index.maps->extensions : nullptr, fresh, extension,
                &agent_entry::extension);
}

const queue_entry* directory::find_queue(std::string_view name) const {
  const bool fresh = index.maps && index.maps->queues.size() == queues.size();
  return lookup(queues, index.maps ? &index.maps->queues : nullptr, fresh, name,
                &queue_entry::name);
}

const phone_channel* directory::find_channel(std::string_view number) const {
  const bool fresh = index.maps && index.maps->channels.size() == channels.size();
  return lookup(channels, index.maps ? &index.maps->channels : nullptr, fresh, number,
                &phone_channel::number);
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
