#pragma once
// Loads the call center's directory (agents, queues, phone channels, recording policy) from a
// TOML file written by a contact-center admin. deploy/demo-callcenter.toml is the annotated
// example of the format.
//
// The loader is the only gate between an admin's text and domain::directory: what it returns is
// complete and consistent (required fields present, names unique, references resolved, every
// value within its bound), so the domain asserts rather than re-checks. Unknown keys are refused
// so that a typo ("capactiy = 2") is never silently ignored.
//
// On error nothing is returned but a load_error: every problem found (up to problems_max), each
// with the line, column and key to fix, in document order. Pure apart from
// load_directory_file, which reads one file; callable from any thread; no exceptions escape.

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "actors/domain/directory.h"

namespace backline::actors {

// Bounds (STYLE: a limit on everything).
inline constexpr std::size_t directory_text_bytes_max = 64 * 1024 * 1024;
inline constexpr std::size_t directory_agents_max = 100'000;
inline constexpr std::size_t directory_queues_max = 10'000;
inline constexpr std::size_t directory_channels_max = 10'000;
inline constexpr std::size_t directory_rules_per_channel_max = 1'000;
inline constexpr std::size_t directory_skills_per_entry_max = 64;
inline constexpr std::size_t directory_grant_teams_max = 1'000;
inline constexpr std::size_t directory_jurisdictions_max = 300;
inline constexpr std::size_t directory_string_bytes_max = 128;
inline constexpr int skill_level_min = 1;
inline constexpr int skill_level_max = 10;
inline constexpr int agent_capacity_min = 1;
inline constexpr int agent_capacity_max = 16;
inline constexpr int queue_sla_target_s_max = 3'600;
inline constexpr int queue_overflow_after_s_max = 86'400;

// One thing to fix in the file. Line and column are 1-based (0 when the problem is not tied to
// a place, e.g. the file could not be read).
struct load_problem {
  std::size_t line = 0;
  std::size_t column = 0;
  std::string key;   // dotted path of the offending key, e.g. "agents[3].skills.billing"
  std::string text;  // what is wrong and what to do, e.g. "level 11 is out of range; use 1..10"
  friend bool operator==(const load_problem&, const load_problem&) = default;
};

struct load_error {
  std::string source;                  // the file name (or source name) given to the loader
  std::vector<load_problem> problems;  // in document order, never empty
  // One line per problem, as compilers print them: "<source>:<line>:<column>: <key>: <text>".
  std::string message;
};

inline constexpr std::size_t problems_max = 50;

// Parses and validates `toml_text`. `source_name` names the text in messages (usually the path).
std::expected<domain::directory, load_error> load_directory(std::string_view toml_text,
                                                            std::string_view source_name);

// Reads `path` (at most directory_text_bytes_max bytes) and loads it.
std::expected<domain::directory, load_error> load_directory_file(const std::string& path);

}  // namespace backline::actors
