#pragma once
// The call center's configuration (directory): agents, queues, phone channels, recording policy.
// A plain value: loaded from TOML by actors/directory_loader.h, kept in the log as a
// `directory_replaced` event, and passed read-only to `decide` through its context.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace backline::domain {

enum class supervise_mode : std::uint8_t { monitor = 0, whisper = 1, barge = 2 };
std::string_view to_string(supervise_mode m);

// What kind of user an agent entry is. Supervisors and specialists are agents too.
enum class agent_kind : std::uint8_t { agent = 0, supervisor = 1, specialist = 2 };
std::string_view to_string(agent_kind k);

struct skill {
  std::string name;
  int level = 0;  // 1..10
  friend bool operator==(const skill&, const skill&) = default;
};

// Supervision grants, one list per mode, each naming the teams (or "*") the supervisor may
// supervise in that mode. An empty list denies the mode: the default is deny.
struct supervision_grants {
  std::vector<std::string> monitor;
  std::vector<std::string> whisper;
  std::vector<std::string> barge;
  friend bool operator==(const supervision_grants&, const supervision_grants&) = default;
};

struct agent_entry {
  std::string id;  // stable user id, e.g. "alice"
  std::string name;
  std::string extension;  // internal dial number, e.g. "2001"
  std::string team;
  agent_kind kind = agent_kind::agent;
  std::vector<skill> skills;
  supervision_grants grants;
  int capacity = 1;  // concurrent voice work items
  friend bool operator==(const agent_entry&, const agent_entry&) = default;
};

enum class routing_strategy : std::uint8_t { longest_idle = 0, most_skilled = 1 };

struct queue_entry {
  std::string name;  // e.g. "Billing"
  std::string extension;
  std::vector<skill> required_skills;  // minimum levels
  routing_strategy strategy = routing_strategy::longest_idle;
  int sla_target_s = 20;
  int overflow_after_s = 0;  // 0: never overflow
  std::string overflow_queue;
  friend bool operator==(const queue_entry&, const queue_entry&) = default;
};

// One rule of a phone channel's flow: when attribute `field` equals `value`, route to the queue
// (or agent). Rules are tried in order; the channel's fallback queue catches the rest.
struct flow_rule {
  std::string field;  // e.g. "case_category"
  std::string value;  // e.g. "billing"
  std::string queue;
  std::string agent;
  std::vector<skill> required_skills;
  friend bool operator==(const flow_rule&, const flow_rule&) = default;
};

struct phone_channel {
  std::string number;  // dialled number, E.164
  std::string flow;    // flow name
  std::string fallback_queue;
  std::vector<flow_rule> rules;
  friend bool operator==(const phone_channel&, const phone_channel&) = default;
};

struct recording_policy {
  bool record_inbound = true;
  bool record_outbound = true;
  bool record_internal = false;
  std::vector<std::string> forbidden_jurisdictions;  // e.g. "DE"
  friend bool operator==(const recording_policy&, const recording_policy&) = default;
};

// Positions of the entries by key, so a lookup in a directory of 10,000 agents is not a scan.
// Not part of the directory's value: every index compares equal. Copies of a directory share
// the maps (the positions stay valid in the copy).
struct directory_index {
  struct hash : std::hash<std::string_view> {
    using is_transparent = void;
  };
  using positions = std::unordered_map<std::string, std::size_t, hash, std::equal_to<>>;
  struct maps_type {
    positions agents, extensions, queues, channels;
  };
  std::shared_ptr<const maps_type> maps;  // null until directory::reindex()
  friend bool operator==(const directory_index&, const directory_index&) { return true; }
};

struct directory {
  std::string call_center;  // tenant api name
  std::vector<agent_entry> agents;
  std::vector<queue_entry> queues;
  std::vector<phone_channel> channels;
  recording_policy recording;

  // Builds the lookup index; the loader and the codec call it. A directory edited after its last
  // reindex() (tests do) is checked against its index: a hit is verified, a miss is trusted only
  // while the entry counts still match. REQUIRES: reindex() after any edit that keeps a count
  // (a rename in place, an erase followed by an insert).
  void reindex();

  const agent_entry* find_agent(std::string_view id) const;
  const agent_entry* find_extension(std::string_view extension) const;
  const queue_entry* find_queue(std::string_view name) const;
  const phone_channel* find_channel(std::string_view number) const;

  // True when `supervisor_id` is a supervisor with an explicit grant of `mode` over the team of
  // `agent_id`. Unknown ids, other kinds and missing grants are all denied.
  bool may_supervise(std::string_view supervisor_id, supervise_mode mode,
                     std::string_view agent_id) const;

  directory_index index;

  friend bool operator==(const directory&, const directory&) = default;
};

}  // namespace backline::domain
