// Queries: point reads, the chain tree, listings over the time-keyed indexes.
#include "projections/queries.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "projections/keys.h"
#include "projections/voice_call.h"

namespace backline::projections {
namespace {

using nlohmann::json;

constexpr std::size_t chunk_records = 256;

std::expected<json, std::error_code> parse(std::string_view bytes) {
  json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::unexpected(make_error_code(errc::corrupt));
  return j;
}

std::expected<json, std::error_code> children(const store& st, model m, std::string_view id) {
  const std::string begin = keys::name_prefix(id);
  json out = json::array();
  std::error_code parse_ec;
  auto ec = st.scan(m, begin, keys::prefix_end(begin), [&](std::string_view, std::string_view v) {
    auto j = parse(v);
    if (!j) parse_ec = j.error();
    if (j) out.push_back(std::move(*j));
    return !parse_ec;
  });
  if (ec || parse_ec) return std::unexpected(ec ? ec : parse_ec);
  return out;
}

// Records for `ids`, in order (missing ones skipped: an index never outlives its record, but a
// read-only store may be between two refreshes of different column families).
std::expected<std::vector<json>, std::error_code> records(const store& st,
                                                          const std::vector<std::string>& ids) {
  auto values = st.multi_get(model::voice_calls, ids);
  if (!values) return std::unexpected(values.error());
  std::vector<json> out;
  for (auto& v : *values) {
    if (!v) continue;
    auto j = parse(*v);
    if (!j) return std::unexpected(j.error());
    out.push_back(std::move(*j));
  }
  return out;
}

// Most conversations have a few segments: their chain entries (indexes 0, 1, ...; never a gap)
// are read as point lookups, which bloom filters answer, and only a longer chain is scanned.
constexpr std::uint16_t chain_point_reads = 8;

std::expected<std::vector<std::string>, std::error_code> chain_ids(const store& st,
                                                                   const std::string& root) {
  std::vector<std::string> keys_now;
  for (std::uint16_t i = 0; i < chain_point_reads; ++i) {
    keys_now.push_back(keys::chain_key(root, i));
  }
  auto values = st.multi_get(model::chains, keys_now);
  if (!values) return std::unexpected(values.error());
  std::vector<std::string> ids;
  for (const auto& v : *values) {
    if (!v) return ids;
    ids.emplace_back(v->substr(v->find(':') + 1));
  }
  const std::string end = keys::prefix_end(keys::name_prefix(root));
  auto ec = st.scan(model::chains, keys::chain_key(root, chain_point_reads), end,
                    [&](std::string_view, std::string_view v) {
                      ids.emplace_back(v.substr(v.find(':') + 1));
                      return true;
                    });
  if (ec) return std::unexpected(ec);
  return ids;
}

// Calls placed from the conversation's segments that are conversations of their own (an
// internal call with a parent_call_id): appended to `ids`, from the by_parent index. The
// conversation's own children (consults, supervision) are in `ids` already.
std::error_code add_linked(const store& st, std::vector<std::string>& ids) {
  const std::size_t own = ids.size();
  for (std::size_t i = 0; i < own; ++i) {
    const std::string prefix = keys::name_prefix(ids[i]);
    auto ec = st.scan(model::by_parent, prefix, keys::prefix_end(prefix),
                      [&](std::string_view k, std::string_view) {
                        const std::string_view id = keys::index_id(k, prefix.size());
                        if (std::ranges::find(ids, id) == ids.end()) ids.emplace_back(id);
                        return true;
                      });
    if (ec) return ec;
  }
  return {};
}

json summary(const json& r) {
  json s;
  for (const char* f : {"id",
                        "segment_kind",
                        "call_type",
                        "initiation_method",
                        "owner_agent",
                        "from_number",
                        "to_number",
                        "queue",
                        "start_time",
                        "accept_time",
                        "end_time",
                        "duration_s",
                        "agent_interaction_duration_s",
                        "number_of_holds",
                        "total_hold_duration_s",
                        "status",
                        "end_reason",
                        "previous_call_id",
                        "next_call_id",
                        "parent_voice_call_id",
                        "supervisor_id",
                        "supervisor_modes",
                        "disposition_code"}) {
    s[f] = r.value(f, json());
  }
  json agents = json::array();
  for (const auto& p : r.value("participants", json::array())) {
    if (p.value("role", "") != "customer") {
      agents.push_back({{"id", p.value("id", "")}, {"role", p.value("role", "")}});
    }
  }
  s["agents"] = std::move(agents);
  return s;
}

json build_tree(std::string_view requested, const std::string& root,
                const std::vector<json>& recs) {
  json tree;
  tree["conversation_id"] = root;
  tree["requested_id"] = requested;
  json segments = json::array();
  for (const auto& r : recs) {
    if (!r.value("parent_voice_call_id", "").empty()) continue;
    json s = summary(r);
    s["children"] = json::array();
    segments.push_back(std::move(s));
  }
  for (const auto& r : recs) {
    const std::string parent = r.value("parent_voice_call_id", "");
    if (parent.empty()) continue;
    auto it = std::ranges::find_if(segments, [&](const json& s) { return s["id"] == parent; });
    if (it != segments.end()) {
      (*it)["children"].push_back(summary(r));
    } else {
      segments.push_back(summary(r));  // its parent is not in the store yet: show it anyway
    }
  }
  tree["segments"] = std::move(segments);
  return tree;
}

std::string str(const json& j, const char* f) {
  const auto& v = j.contains(f) ? j.at(f) : json();
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

std::string render_line(const json& s) {
  const std::string kind = str(s, "segment_kind");
  std::string line = fmt::format("{} {}", str(s, "id"), kind);
  if (kind == "consult") {
    line += fmt::format(" {}->{}", str(s, "from_number"), str(s, "to_number"));
  } else if (kind == "supervision") {
    line += " " + str(s, "supervisor_id");
    std::string modes;
    for (const auto& m : s.value("supervisor_modes", json::array())) {
      modes +=
          fmt::format("{}{}:{}s", modes.empty() ? " " : ",", str(m, "mode"), str(m, "duration_s"));
    }
    line += modes;
  } else {
    line += fmt::format(" {} owner={}", str(s, "initiation_method"), str(s, "owner_agent"));
  }
  line += fmt::format(" {}s", str(s, "duration_s"));
  if (kind == "customer" || kind == "direct") {
    line +=
        fmt::format(" holds={}/{}s", str(s, "number_of_holds"), str(s, "total_hold_duration_s"));
  }
  if (const auto reason = str(s, "end_reason"); reason != "-" && !reason.empty()) {
    line += " " + reason;
  }
  if (const auto next = str(s, "next_call_id"); !next.empty() && next != "-") {
    line += " next=" + next;
  }
  return line;
}

bool takes_part(const json& r, const std::string& agent) {
  if (r.value("owner_agent", "") == agent) return true;
  for (const auto& p : r.value("participants", json::array())) {
    if (p.value("id", "") == agent && p.value("role", "") != "customer") return true;
  }
  return false;
}

bool matches(const json& r, const list_filter& f) {
  if (f.type && r.value("call_type", "") != salesforce_call_type(*f.type)) return false;
  if (!f.agent.empty() && !takes_part(r, f.agent)) return false;
  if (!f.queue.empty() && r.value("queue", "") != f.queue) return false;
  if (!f.parent.empty() && r.value("parent_voice_call_id", "") != f.parent) return false;
  return true;
}

// The most selective index the filter allows: its model and key prefix.
std::pair<model, std::string> pick_index(const list_filter& f) {
  if (!f.parent.empty()) return {model::by_parent, keys::name_prefix(f.parent)};
  if (!f.agent.empty()) return {model::by_agent, keys::name_prefix(f.agent)};
  if (!f.queue.empty()) return {model::by_queue, keys::name_prefix(f.queue)};
  if (f.type) return {model::by_type, std::string(1, static_cast<char>(*f.type))};
  return {model::by_time, {}};
}

// Scans index `m` under `prefix` for start times in [from, to), fetching the records in chunks;
// `visit` returns false to stop.
std::error_code scan_index(const store& st, model m, const std::string& prefix,
                           std::int64_t from_us, std::int64_t to_us,
                           const std::function<bool(const json&)>& visit) {
  std::vector<std::string> ids;
  std::error_code inner;
  bool stopped = false;
  auto drain = [&] {
    auto recs = records(st, ids);
    ids.clear();
    if (!recs) {
      inner = recs.error();
      return false;
    }
    for (const auto& r : *recs) {
      if (!visit(r)) return false;
    }
    return true;
  };
  auto ec = st.scan(m, keys::index_key(prefix, from_us, {}), keys::index_key(prefix, to_us, {}),
                    [&](std::string_view k, std::string_view) {
                      ids.emplace_back(keys::index_id(k, prefix.size()));
                      if (ids.size() < chunk_records) return true;
                      stopped = !drain();
                      return !stopped;
                    });
  if (!ec && !inner && !stopped && !ids.empty()) drain();
  return ec ? ec : inner;
}

}  // namespace

std::expected<std::optional<json>, std::error_code> get_call(const store& st, std::string_view id) {
  auto v = st.get(model::voice_calls, id);
  if (!v) return std::unexpected(v.error());
  if (!*v) return std::optional<json>{};
  auto j = parse(**v);
  if (!j) return std::unexpected(j.error());
  return std::optional<json>{std::move(*j)};
}

std::expected<json, std::error_code> transcript(const store& st, std::string_view id) {
  return children(st, model::transcripts, id);
}
std::expected<json, std::error_code> conversation_events(const store& st, std::string_view id) {
  return children(st, model::conversation_events, id);
}

std::expected<std::optional<json>, std::error_code> chain(const store& st, std::string_view id) {
  auto root = st.get(model::segment_roots, id);
  if (!root) return std::unexpected(root.error());
  if (!*root) return std::optional<json>{};
  auto ids = chain_ids(st, **root);
  if (!ids) return std::unexpected(ids.error());
  if (auto ec = add_linked(st, *ids)) return std::unexpected(ec);
  auto recs = records(st, *ids);
  if (!recs) return std::unexpected(recs.error());
  return std::optional<json>{build_tree(id, **root, *recs)};
}

std::string render_chain(const json& tree) {
  std::string out;
  for (const auto& s : tree.value("segments", json::array())) {
    out += render_line(s) + "\n";
    for (const auto& c : s.value("children", json::array())) out += "  " + render_line(c) + "\n";
  }
  return out;
}

std::expected<std::vector<json>, std::error_code> list_calls(const store& st,
                                                             const list_filter& f) {
  const std::size_t limit = std::min(f.limit, list_limit_max);
  std::vector<json> out;
  if (limit == 0 || f.from_us >= f.to_us) return out;
  const auto [m, prefix] = pick_index(f);
  auto ec = scan_index(st, m, prefix, f.from_us, f.to_us, [&](const json& r) {
    if (matches(r, f)) out.push_back(r);
    return out.size() < limit;
  });
  if (ec) return std::unexpected(ec);
  return out;
}

std::error_code for_each_call(const store& st, std::int64_t from_us, std::int64_t to_us,
                              const std::function<bool(const json&)>& visit) {
  if (from_us >= to_us) return {};
  return scan_index(st, model::by_time, {}, from_us, to_us, visit);
}

std::optional<domain::call_type> parse_call_type(std::string_view s) {
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "inbound") return domain::call_type::inbound;
  if (lower == "outbound") return domain::call_type::outbound;
  if (lower == "internal") return domain::call_type::internal;
  return std::nullopt;
}

}  // namespace backline::projections
