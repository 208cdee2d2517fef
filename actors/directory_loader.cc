#include "actors/directory_loader.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace backline::actors {
namespace {

using domain::agent_kind;
using domain::skill;
using keys = std::initializer_list<std::string_view>;

// Which characters a string may hold. Ids end up in URLs, log lines and Kafka keys, so they keep
// to a safe set; display names may hold any text but control characters.
enum class charset : std::uint8_t {
  text,          // any UTF-8 without control characters
  id,            // A-Z a-z 0-9 . _ - @
  grant,         // an id, or "*" for every team
  digits,        // 1..16 digits (extensions)
  e164,          // "+", then 2..15 digits, the first not 0
  jurisdiction,  // A-Z 0-9 - (ISO 3166 codes such as "DE" or "US-CA")
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' || c == '_' ||
         c == '-' || c == '@';
}
bool is_control(char c) {
  return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}
bool is_jurisdiction_char(char c) {
  return (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-';
}

// What is wrong with a non-empty `s` for `cs`, or nothing.
std::optional<std::string> charset_problem(std::string_view s, charset cs) {
  switch (cs) {
    case charset::text:
      if (std::ranges::any_of(s, is_control))
        return "contains a control character (tab, newline, ...); remove it";
      return std::nullopt;
    case charset::grant:
      if (s == "*") return std::nullopt;
      [[fallthrough]];
    case charset::id:
      if (!std::ranges::all_of(s, is_id_char))
        return fmt::format("\"{}\" may only use letters, digits and . _ - @ (no spaces)", s);
      return std::nullopt;
    case charset::digits:
      if (s.size() > 16 || !std::ranges::all_of(s, is_digit))
        return fmt::format("\"{}\" is not an extension; use 1 to 16 digits, e.g. \"2001\"", s);
      return std::nullopt;
    case charset::e164:
      if (s.size() < 3 || s.size() > 16 || s[0] != '+' || s[1] == '0' ||
          !std::all_of(s.begin() + 1, s.end(), is_digit))
        return fmt::format(
            "\"{}\" is not an E.164 number; write \"+\", the country code and the number, digits "
            "only, e.g. \"+14155550100\"",
            s);
      return std::nullopt;
    case charset::jurisdiction:
      if (s.size() < 2 || s.size() > 16 || !std::ranges::all_of(s, is_jurisdiction_char))
        return fmt::format(
            "\"{}\" is not a jurisdiction code; use an upper-case ISO 3166 code such as \"DE\" or "
            "\"US-CA\"",
            s);
      return std::nullopt;
  }
  return std::nullopt;
}

std::string_view type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "a list";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "a whole number";
    case toml::node_type::floating_point:
      return "a decimal number";
    case toml::node_type::boolean:
      return "true/false";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown value";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The candidate closest to `typo` (at most two edits away), or empty.
template <typename Range>
std::string_view closest(std::string_view typo, const Range& candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (std::string_view c : candidates) {
    std::size_t d = edit_distance(typo, c);
    if (d < best_distance) best = c, best_distance = d;
  }
  return best;
}

std::string join(keys names) {
  std::string out;
  for (std::string_view n : names) out += fmt::format("{}{}", out.empty() ? "" : ", ", n);
  return out;
}

std::string member_path(std::string_view table, std::string_view key) {
  return table.empty() ? std::string(key) : fmt::format("{}.{}", table, key);
}
std::string index_path(std::string_view array, std::size_t i) {
  return fmt::format("{}[{}]", array, i);
}

// A name used in one place that must be defined in another; checked once everything is read.
struct reference {
  enum class kind : std::uint8_t { queue, agent, team } target;
  std::string name;
  toml::source_region where;
  std::string key;
};

// Walks the parsed document, fills a directory and collects problems. Each problem is reported at
// the most precise place known: the value when there is one, else the table that lacks it.
class loader {
 public:
  domain::directory load(const toml::table& root);
  std::vector<load_problem> take_problems();
  void report(const toml::source_region& where, std::string key, std::string text);

 private:
  // Readers: each reports and returns nothing when a value is wrong; absent optional values
  // also return nothing, so the caller keeps the field's default.
  void check_keys(const toml::table& t, std::string_view path, keys allowed);
  bool check_string(const toml::node& n, const std::string& path, charset cs);
  std::optional<std::string> read_string(const toml::table& t, std::string_view path,
                                         std::string_view key, bool required, charset cs);
  std::optional<int> read_int(const toml::table& t, std::string_view path, std::string_view key,
                              int min, int max);
  std::optional<bool> read_bool(const toml::table& t, std::string_view path, std::string_view key);
  std::vector<std::string> read_list(const toml::table& t, std::string_view path,
                                     std::string_view key, std::size_t max, charset cs);
  std::vector<skill> read_skills(const toml::table& t, std::string_view path, std::string_view key);
  const toml::table* read_table(const toml::table& t, std::string_view path, std::string_view key);
  void for_each_table(const toml::table& t, std::string_view path, std::string_view key,
                      std::size_t max,
                      const std::function<void(const toml::table&, const std::string&)>& each);
  void note_unique(std::unordered_map<std::string, std::size_t>& seen, const std::string& value,
                   const toml::table& t, std::string_view key, const std::string& path,
                   std::string_view what);
  void refer(reference::kind target, const std::string& name, const toml::table& t,
             std::string_view key, const std::string& path);

  // Sections.
  void load_call_center(const toml::table& root, domain::directory& d);
  void load_recording(const toml::table& root, domain::directory& d);
  void load_agent(const toml::table& t, const std::string& path, domain::directory& d);
  void load_grants(const toml::table& t, const std::string& path, domain::agent_entry& a);
  void load_queue(const toml::table& t, const std::string& path, domain::directory& d);
  void load_channel(const toml::table& t, const std::string& path, domain::directory& d);
  void load_rule(const toml::table& t, const std::string& path, domain::phone_channel& c);
  void resolve(const domain::directory& d);
  void check_overflow_loops(const domain::directory& d);

  std::vector<load_problem> problems_;
  std::size_t dropped_ = 0;
  std::vector<reference> references_;
  std::unordered_map<std::string, std::size_t> agent_ids_, extensions_, queue_names_, numbers_;
  std::vector<toml::source_region> overflow_where_;  // parallel to directory::queues
};

void loader::report(const toml::source_region& where, std::string key, std::string text) {
  if (problems_.size() >= problems_max) {
    ++dropped_;
    return;
  }
  problems_.push_back({where.begin.line, where.begin.column, std::move(key), std::move(text)});
}

std::vector<load_problem> loader::take_problems() {
  std::ranges::stable_sort(problems_, [](const load_problem& a, const load_problem& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  if (dropped_ > 0) {
    problems_.push_back({0, 0, "",
                         fmt::format("{} more problems not shown; fix the ones above and load "
                                     "again",
                                     dropped_)});
  }
  return std::move(problems_);
}

void loader::check_keys(const toml::table& t, std::string_view path, keys allowed) {
  for (auto&& [k, v] : t) {
    std::string_view name = k.str();
    if (std::ranges::find(allowed, name) != allowed.end()) continue;
    std::string_view guess = closest(name, allowed);
    std::string hint = guess.empty() ? fmt::format("the keys allowed here are: {}", join(allowed))
                                     : fmt::format("did you mean \"{}\"?", guess);
    report(k.source(), member_path(path, name), fmt::format("unknown key \"{}\"; {}", name, hint));
  }
}

bool loader::check_string(const toml::node& n, const std::string& path, charset cs) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    report(n.source(), path,
           fmt::format("expected a string in quotes, found {}", type_name(n.type())));
    return false;
  }
  const std::string& v = s->get();
  if (v.size() > directory_string_bytes_max) {
    report(n.source(), path,
           fmt::format("is {} bytes long; shorten it to at most {} bytes", v.size(),
                       directory_string_bytes_max));
    return false;
  }
  if (v.empty()) return true;  // the caller decides whether empty is allowed
  if (auto why = charset_problem(v, cs)) {
    report(n.source(), path, *why);
    return false;
  }
  return true;
}

std::optional<std::string> loader::read_string(const toml::table& t, std::string_view path,
                                               std::string_view key, bool required, charset cs) {
  std::string p = member_path(path, key);
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    if (required) report(t.source(), p, fmt::format("missing required key; add {} = \"...\"", key));
    return std::nullopt;
  }
  if (!check_string(*n, p, cs)) return std::nullopt;
  const std::string& v = n->as_string()->get();
  if (v.empty() && required) {
    report(n->source(), p, "must not be empty");
    return std::nullopt;
  }
  return v;
}

std::optional<int> loader::read_int(const toml::table& t, std::string_view path,
                                    std::string_view key, int min, int max) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  const auto* i = n->as_integer();
  if (i == nullptr) {
    report(n->source(), member_path(path, key),
           fmt::format("expected a whole number, found {}", type_name(n->type())));
    return std::nullopt;
  }
  std::int64_t v = i->get();
  if (v < min || v > max) {
    report(n->source(), member_path(path, key),
           fmt::format("{} is out of range; use a value from {} to {}", v, min, max));
    return std::nullopt;
  }
  return static_cast<int>(v);
}

std::optional<bool> loader::read_bool(const toml::table& t, std::string_view path,
                                      std::string_view key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (const auto* b = n->as_boolean()) return b->get();
  report(n->source(), member_path(path, key),
         fmt::format("expected true or false (no quotes), found {}", type_name(n->type())));
  return std::nullopt;
}

std::vector<std::string> loader::read_list(const toml::table& t, std::string_view path,
                                           std::string_view key, std::size_t max, charset cs) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (n == nullptr) return out;
  std::string p = member_path(path, key);
  const auto* list = n->as_array();
  if (list == nullptr) {
    report(n->source(), p,
           fmt::format("expected a list such as [\"a\", \"b\"], found {}", type_name(n->type())));
    return out;
  }
  if (list->size() > max) {
    report(n->source(), p, fmt::format("has {} entries; at most {} allowed", list->size(), max));
    return out;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const toml::node& e = *list->get(i);
    std::string ep = index_path(p, i);
    if (!check_string(e, ep, cs)) continue;
    if (e.as_string()->get().empty()) {
      report(e.source(), ep, "must not be empty");
      continue;
    }
    out.push_back(e.as_string()->get());
  }
  return out;
}

const toml::table* loader::read_table(const toml::table& t, std::string_view path,
                                      std::string_view key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return nullptr;
  const toml::table* tt = n->as_table();
  if (tt == nullptr)
    report(n->source(), member_path(path, key),
           fmt::format("expected a table such as {{ a = 1 }}, found {}", type_name(n->type())));
  return tt;
}

std::vector<skill> loader::read_skills(const toml::table& t, std::string_view path,
                                       std::string_view key) {
  std::vector<skill> out;
  const toml::table* skills = read_table(t, path, key);
  if (skills == nullptr) return out;
  std::string p = member_path(path, key);
  if (skills->size() > directory_skills_per_entry_max) {
    report(skills->source(), p,
           fmt::format("has {} skills; at most {} allowed", skills->size(),
                       directory_skills_per_entry_max));
    return out;
  }
  for (auto&& [k, v] : *skills) {
    std::string name(k.str());
    std::string sp = member_path(p, name);
    if (name.size() > directory_string_bytes_max) {
      report(k.source(), sp,
             fmt::format("the skill name is {} bytes long; shorten it to at most {} bytes",
                         name.size(), directory_string_bytes_max));
      continue;
    }
    if (auto why = charset_problem(name, charset::id)) {
      report(k.source(), sp, "skill name " + *why);
      continue;
    }
    if (auto level = read_int(*skills, p, name, skill_level_min, skill_level_max))
      out.push_back({name, *level});
  }
  return out;  // in key order (toml++ tables are sorted), so a reload compares equal
}

void loader::for_each_table(
    const toml::table& t, std::string_view path, std::string_view key, std::size_t max,
    const std::function<void(const toml::table&, const std::string&)>& each) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return;
  std::string p = member_path(path, key);
  const auto* list = n->as_array();
  if (list == nullptr) {
    report(n->source(), p,
           fmt::format("expected a list of tables, found {}; start each entry with [[{}]]",
                       type_name(n->type()), p));
    return;
  }
  if (list->size() > max) {
    report(n->source(), p, fmt::format("has {} entries; at most {} allowed", list->size(), max));
    return;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const toml::node& e = *list->get(i);
    if (const toml::table* entry = e.as_table()) {
      each(*entry, index_path(p, i));
    } else {
      report(e.source(), index_path(p, i),
             fmt::format("expected a table, found {}; start each entry with [[{}]]",
                         type_name(e.type()), p));
    }
  }
}

void loader::note_unique(std::unordered_map<std::string, std::size_t>& seen,
                         const std::string& value, const toml::table& t, std::string_view key,
                         const std::string& path, std::string_view what) {
  const toml::node* n = t.get(key);
  if (value.empty() || n == nullptr) return;
  auto [it, inserted] = seen.emplace(value, n->source().begin.line);
  if (!inserted)
    report(n->source(), member_path(path, key),
           fmt::format("{} \"{}\" is already used on line {}; {}", what, value, it->second,
                       "give each one a different value"));
}

void loader::refer(reference::kind target, const std::string& name, const toml::table& t,
                   std::string_view key, const std::string& path) {
  const toml::node* n = t.get(key);
  references_.push_back(
      {target, name, n != nullptr ? n->source() : t.source(), member_path(path, key)});
}

void loader::load_call_center(const toml::table& root, domain::directory& d) {
  const toml::node* n = root.get("call_center");
  if (n == nullptr) {
    report(root.source(), "call_center",
           "missing the [call_center] table; add it with name = \"your_center\"");
    return;
  }
  const toml::table* t = read_table(root, "", "call_center");
  if (t == nullptr) return;
  check_keys(*t, "call_center", {"name"});
  if (auto name = read_string(*t, "call_center", "name", true, charset::id)) d.call_center = *name;
}

void loader::load_recording(const toml::table& root, domain::directory& d) {
  const toml::table* t = read_table(root, "", "recording");
  if (t == nullptr) return;  // absent: the defaults of recording_policy
  constexpr std::string_view p = "recording";
  check_keys(*t, p,
             {"record_inbound", "record_outbound", "record_internal", "forbidden_jurisdictions"});
  domain::recording_policy& r = d.recording;
  r.record_inbound = read_bool(*t, p, "record_inbound").value_or(r.record_inbound);
  r.record_outbound = read_bool(*t, p, "record_outbound").value_or(r.record_outbound);
  r.record_internal = read_bool(*t, p, "record_internal").value_or(r.record_internal);
  r.forbidden_jurisdictions = read_list(*t, p, "forbidden_jurisdictions",
                                        directory_jurisdictions_max, charset::jurisdiction);
}

std::optional<agent_kind> parse_kind(std::string_view s) {
  if (s == "agent") return agent_kind::agent;
  if (s == "supervisor") return agent_kind::supervisor;
  if (s == "specialist") return agent_kind::specialist;
  return std::nullopt;
}

void loader::load_agent(const toml::table& t, const std::string& path, domain::directory& d) {
  check_keys(t, path, {"id", "name", "extension", "team", "kind", "capacity", "skills", "grants"});
  domain::agent_entry a;
  a.id = read_string(t, path, "id", true, charset::id).value_or("");
  note_unique(agent_ids_, a.id, t, "id", path, "agent id");
  a.name = read_string(t, path, "name", true, charset::text).value_or("");
  a.extension = read_string(t, path, "extension", false, charset::digits).value_or("");
  note_unique(extensions_, a.extension, t, "extension", path, "extension");
  a.team = read_string(t, path, "team", false, charset::id).value_or("");
  if (auto kind = read_string(t, path, "kind", false, charset::text)) {
    if (auto k = parse_kind(*kind)) {
      a.kind = *k;
    } else {
      report(t.get("kind")->source(), member_path(path, "kind"),
             fmt::format("unknown kind \"{}\"; use \"agent\", \"supervisor\" or \"specialist\"",
                         *kind));
    }
  }
  a.capacity =
      read_int(t, path, "capacity", agent_capacity_min, agent_capacity_max).value_or(a.capacity);
  a.skills = read_skills(t, path, "skills");
  load_grants(t, path, a);
  d.agents.push_back(std::move(a));
}

void loader::load_grants(const toml::table& t, const std::string& path, domain::agent_entry& a) {
  const toml::table* g = read_table(t, path, "grants");
  if (g == nullptr) return;
  std::string p = member_path(path, "grants");
  if (a.kind != agent_kind::supervisor) {
    report(g->source(), p,
           "only supervisors hold supervision grants; set kind = \"supervisor\" or remove the "
           "grants");
    return;
  }
  check_keys(*g, p, {"monitor", "whisper", "barge"});
  a.grants.monitor = read_list(*g, p, "monitor", directory_grant_teams_max, charset::grant);
  a.grants.whisper = read_list(*g, p, "whisper", directory_grant_teams_max, charset::grant);
  a.grants.barge = read_list(*g, p, "barge", directory_grant_teams_max, charset::grant);
  for (std::string_view mode : {"monitor", "whisper", "barge"}) {
    const toml::array* list = g->get(mode) != nullptr ? g->get(mode)->as_array() : nullptr;
    if (list == nullptr || list->size() > directory_grant_teams_max) continue;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto* team = list->get(i)->as_string();
      if (team == nullptr || team->get() == "*" || team->get().empty()) continue;
      references_.push_back({reference::kind::team, team->get(), list->get(i)->source(),
                             index_path(member_path(p, mode), i)});
    }
  }
}

void loader::load_queue(const toml::table& t, const std::string& path, domain::directory& d) {
  check_keys(t, path,
             {"name", "extension", "required_skills", "strategy", "sla_target_s",
              "overflow_after_s", "overflow_queue"});
  domain::queue_entry q;
  q.name = read_string(t, path, "name", true, charset::text).value_or("");
  note_unique(queue_names_, q.name, t, "name", path, "queue name");
  q.extension = read_string(t, path, "extension", false, charset::digits).value_or("");
  note_unique(extensions_, q.extension, t, "extension", path, "extension");
  q.required_skills = read_skills(t, path, "required_skills");
  if (auto s = read_string(t, path, "strategy", false, charset::text)) {
    if (*s == "longest_idle") {
      q.strategy = domain::routing_strategy::longest_idle;
    } else if (*s == "most_skilled") {
      q.strategy = domain::routing_strategy::most_skilled;
    } else {
      report(t.get("strategy")->source(), member_path(path, "strategy"),
             fmt::format("unknown strategy \"{}\"; use \"longest_idle\" or \"most_skilled\"", *s));
    }
  }
  q.sla_target_s =
      read_int(t, path, "sla_target_s", 1, queue_sla_target_s_max).value_or(q.sla_target_s);
  const toml::node* after = t.get("overflow_after_s");
  q.overflow_after_s = read_int(t, path, "overflow_after_s", 0, queue_overflow_after_s_max)
                           .value_or(q.overflow_after_s);
  q.overflow_queue = read_string(t, path, "overflow_queue", false, charset::text).value_or("");
  const toml::node* target = t.get("overflow_queue");
  overflow_where_.push_back(target != nullptr ? target->source() : t.source());
  if (!q.overflow_queue.empty()) {
    if (q.overflow_queue == q.name) {
      report(target->source(), member_path(path, "overflow_queue"),
             "a queue cannot overflow into itself; name another queue or remove overflow_queue");
    } else {
      refer(reference::kind::queue, q.overflow_queue, t, "overflow_queue", path);
    }
    if (after == nullptr || q.overflow_after_s == 0)
      report(target->source(), member_path(path, "overflow_queue"),
             "overflow_queue is set but overflow_after_s is 0 (never); set overflow_after_s to "
             "the seconds a call waits before it overflows");
  } else if (q.overflow_after_s > 0 && target == nullptr) {
    report(after->source(), member_path(path, "overflow_after_s"),
           "overflow_after_s is set but there is no overflow_queue; name the queue calls move to");
  }
  d.queues.push_back(std::move(q));
}

void loader::load_channel(const toml::table& t, const std::string& path, domain::directory& d) {
  check_keys(t, path, {"number", "flow", "fallback_queue", "rules"});
  domain::phone_channel c;
  c.number = read_string(t, path, "number", true, charset::e164).value_or("");
  note_unique(numbers_, c.number, t, "number", path, "number");
  c.flow = read_string(t, path, "flow", true, charset::text).value_or("");
  c.fallback_queue = read_string(t, path, "fallback_queue", true, charset::text).value_or("");
  if (!c.fallback_queue.empty())
    refer(reference::kind::queue, c.fallback_queue, t, "fallback_queue", path);
  for_each_table(t, path, "rules", directory_rules_per_channel_max,
                 [&](const toml::table& rule, const std::string& rule_path) {
                   load_rule(rule, rule_path, c);
                 });
  d.channels.push_back(std::move(c));
}

void loader::load_rule(const toml::table& t, const std::string& path, domain::phone_channel& c) {
  check_keys(t, path, {"field", "value", "queue", "agent", "required_skills"});
  domain::flow_rule r;
  r.field = read_string(t, path, "field", true, charset::id).value_or("");
  r.value = read_string(t, path, "value", true, charset::text).value_or("");
  r.queue = read_string(t, path, "queue", false, charset::text).value_or("");
  r.agent = read_string(t, path, "agent", false, charset::id).value_or("");
  r.required_skills = read_skills(t, path, "required_skills");
  bool has_queue = t.get("queue") != nullptr, has_agent = t.get("agent") != nullptr;
  if (has_queue && has_agent) {
    report(t.get("agent")->source(), member_path(path, "agent"),
           "a rule routes to one target; keep either queue or agent, not both");
  } else if (!has_queue && !has_agent) {
    report(t.source(), path, "the rule has no target; add queue = \"...\" or agent = \"...\"");
  }
  if (!r.queue.empty()) refer(reference::kind::queue, r.queue, t, "queue", path);
  if (!r.agent.empty()) refer(reference::kind::agent, r.agent, t, "agent", path);
  if (has_queue && r.queue.empty()) report(t.get("queue")->source(), path, "must not be empty");
  if (has_agent && r.agent.empty()) report(t.get("agent")->source(), path, "must not be empty");
  c.rules.push_back(std::move(r));
}

void loader::resolve(const domain::directory& d) {
  std::unordered_set<std::string_view> queues, agents, teams;
  for (const auto& q : d.queues) queues.insert(q.name);
  for (const auto& a : d.agents) agents.insert(a.id), teams.insert(a.team);
  for (const reference& r : references_) {
    if (problems_.size() >= problems_max) return;
    using enum reference::kind;
    const auto& known = r.target == queue ? queues : r.target == agent ? agents : teams;
    if (known.contains(r.name)) continue;
    // Suggestions cost an edit distance per known name: only for small directories.
    std::string_view guess = known.size() <= 1'000 ? closest(r.name, known) : std::string_view();
    std::string hint = guess.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", guess);
    std::string text = r.target == queue ? fmt::format(
                                               "no queue is named \"{}\"{}; add a [[queues]] entry "
                                               "with that name or fix the name",
                                               r.name, hint)
                       : r.target == agent
                           ? fmt::format(
                                 "no agent has id \"{}\"{}; add an [[agents]] entry "
                                 "with that id or fix the id",
                                 r.name, hint)
                           : fmt::format(
                                 "no agent is in team \"{}\"{}; fix the team name, or "
                                 "use \"*\" for every team",
                                 r.name, hint);
    report(r.where, r.key, std::move(text));
  }
}

// A chain of overflows that comes back to its start would move a waiting call around forever.
void loader::check_overflow_loops(const domain::directory& d) {
  std::unordered_map<std::string_view, std::size_t> index;
  for (std::size_t i = 0; i < d.queues.size(); ++i) index.emplace(d.queues[i].name, i);
  for (std::size_t start = 0; start < d.queues.size(); ++start) {
    std::string chain(d.queues[start].name);
    std::size_t at = start, lowest = start;
    for (std::size_t step = 0; step < d.queues.size(); ++step) {
      auto next = index.find(d.queues[at].overflow_queue);
      if (next == index.end() || next->second == at) break;
      at = next->second;
      lowest = std::min(lowest, at);
      chain += " -> " + d.queues[at].name;
      if (at != start) continue;
      if (lowest == start)  // report each loop once, at its first queue
        report(overflow_where_[start], index_path("queues", start) + ".overflow_queue",
               fmt::format("overflow loops back to this queue ({}); end the chain at a queue "
                           "without overflow_queue",
                           chain));
      break;
    }
  }
}

domain::directory loader::load(const toml::table& root) {
  domain::directory d;
  check_keys(root, "", {"call_center", "recording", "agents", "queues", "channels"});
  load_call_center(root, d);
  load_recording(root, d);
  for_each_table(root, "", "agents", directory_agents_max,
                 [&](const toml::table& t, const std::string& p) { load_agent(t, p, d); });
  for_each_table(root, "", "queues", directory_queues_max,
                 [&](const toml::table& t, const std::string& p) { load_queue(t, p, d); });
  for_each_table(root, "", "channels", directory_channels_max,
                 [&](const toml::table& t, const std::string& p) { load_channel(t, p, d); });
  resolve(d);
  if (overflow_where_.size() == d.queues.size()) check_overflow_loops(d);
  return d;
}

load_error make_error(std::string_view source, std::vector<load_problem> problems) {
  load_error e{std::string(source), std::move(problems), {}};
  for (const load_problem& p : e.problems) {
    if (!e.message.empty()) e.message += '\n';
    e.message += p.line > 0 ? fmt::format("{}:{}:{}: ", source, p.line, p.column)
                            : fmt::format("{}: ", source);
    if (!p.key.empty()) e.message += p.key + ": ";
    e.message += p.text;
  }
  return e;
}

load_error single_error(std::string_view source, std::size_t line, std::size_t column,
                        std::string text) {
  return make_error(source, {load_problem{line, column, "", std::move(text)}});
}

}  // namespace

std::expected<domain::directory, load_error> load_directory(std::string_view toml_text,
                                                            std::string_view source_name) {
  if (toml_text.size() > directory_text_bytes_max)
    return std::unexpected(single_error(
        source_name, 0, 0,
        fmt::format("the directory is {} bytes; at most {} bytes are accepted; split the call "
                    "center",
                    toml_text.size(), directory_text_bytes_max)));
  toml::table root;
#if TOML_EXCEPTIONS
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return std::unexpected(
        single_error(source_name, e.source().begin.line, e.source().begin.column,
                     fmt::format("TOML syntax error: {}; fix the syntax there", e.description())));
  }
#else
  toml::parse_result parsed = toml::parse(toml_text, source_name);
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return std::unexpected(
        single_error(source_name, e.source().begin.line, e.source().begin.column,
                     fmt::format("TOML syntax error: {}; fix the syntax there", e.description())));
  }
  root = std::move(parsed).table();
#endif
  loader l;
  domain::directory d = l.load(root);
  std::vector<load_problem> problems = l.take_problems();
  if (!problems.empty()) return std::unexpected(make_error(source_name, std::move(problems)));
  d.reindex();
  return d;
}

std::expected<domain::directory, load_error> load_directory_file(const std::string& path) {
  std::error_code ec;
  std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec)
    return std::unexpected(single_error(
        path, 0, 0, fmt::format("cannot read the file ({}); check the path", ec.message())));
  if (size > directory_text_bytes_max)
    return std::unexpected(single_error(
        path, 0, 0,
        fmt::format("the file is {} bytes; at most {} bytes are accepted; split the call center",
                    size, directory_text_bytes_max)));
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in || !in.read(text.data(), static_cast<std::streamsize>(text.size())))
    return std::unexpected(single_error(path, 0, 0, "cannot read the file; check its permissions"));
  return load_directory(text, path);
}

}  // namespace backline::actors
