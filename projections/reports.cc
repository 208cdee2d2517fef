// Reports over the VoiceCall records of a window. What each counts is in reports.h.
#include "projections/reports.h"

#include <cmath>
#include <map>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "projections/keys.h"
#include "projections/queries.h"

namespace backline::projections {
namespace {

using nlohmann::json;

std::string text(const json& r, const char* f) {
  auto it = r.find(f);
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::int64_t number(const json& r, const char* f) {
  auto it = r.find(f);
  return it != r.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}
double round2(double v) {
  return std::round(v * 100.0) / 100.0;
}
double ratio(std::int64_t part, std::int64_t whole) {
  return whole == 0 ? 0.0 : round2(static_cast<double>(part) / static_cast<double>(whole));
}
double minutes(std::int64_t us) {
  return round2(static_cast<double>(us) / 60e6);
}
// An interval in µs, 0 when either end is unset.
std::int64_t span_us(const json& r, const char* from, const char* to) {
  const auto a = number(r, from), b = number(r, to);
  return a == 0 || b == 0 ? 0 : std::max<std::int64_t>(0, b - a);
}

std::string bucket_of(const json& r, group_by by) {
  const std::string start = text(r, "start_time");  // 2024-05-01T13:04:05.000000Z
  switch (by) {
    case group_by::none:
      return {};
    case group_by::day:
      return start.substr(0, 10);
    case group_by::hour:
      return start.substr(0, 13);
  }
  return {};
}

using group_key = std::pair<std::string, std::string>;  // bucket, key

struct counters {
  std::int64_t a = 0, b = 0, c = 0, d = 0;
};

// Adds the bucket column when grouping, then the key column when there is one.
struct table_builder {
  const report_window& w;
  bool keyed;
  table t;
  table_builder(const report_window& win, std::string key_column,
                std::vector<std::string> value_columns)
      : w(win), keyed(!key_column.empty()) {
    if (w.by != group_by::none) t.columns.push_back("bucket");
    if (!key_column.empty()) t.columns.push_back(std::move(key_column));
    for (auto& c : value_columns) t.columns.push_back(std::move(c));
  }
  void row(const group_key& k, std::vector<cell> values) {
    std::vector<cell> r;
    if (w.by != group_by::none) r.emplace_back(k.first);
    if (keyed) r.emplace_back(k.second);
    for (auto& v : values) r.push_back(std::move(v));
    t.rows.push_back(std::move(r));
  }
};

class conversation_consults {
 public:
  explicit conversation_consults(const store& st) : st_(st) {}
  std::expected<bool, std::error_code> has_consult(const std::string& root) {
    if (auto it = known_.find(root); it != known_.end()) return it->second;
    bool found = false;
    const std::string begin = keys::name_prefix(root);
    auto ec = st_.scan(model::chains, begin, keys::prefix_end(begin),
                       [&](std::string_view, std::string_view v) {
                         found = v.starts_with("consult:");
                         return !found;
                       });
    if (ec) return std::unexpected(ec);
    known_[root] = found;
    return found;
  }

 private:
  const store& st_;
  std::unordered_map<std::string, bool> known_;
};

std::expected<table, std::error_code> internal_ratio(const store& st, const report_window& w,
                                                     const char* attribute, std::string column) {
  std::map<group_key, counters> groups;
  conversation_consults consults(st);
  std::error_code inner;
  auto ec = for_each_call(st, w.from_us, w.to_us, [&](const json& r) {
    if (text(r, "segment_kind") != "customer" || !text(r, "previous_call_id").empty()) return true;
    std::string key = text(r, attribute);
    auto& g = groups[{bucket_of(r, w.by), key.empty() ? "(none)" : key}];
    ++g.a;
    auto has = consults.has_consult(text(r, "conversation_id"));
    if (!has) inner = has.error();
    if (has && *has) ++g.b;
    return !inner;
  });
  if (ec || inner) return std::unexpected(ec ? ec : inner);
  table_builder b(w, std::move(column), {"customer_calls", "with_consult", "internal_ratio"});
  for (const auto& [k, g] : groups) b.row(k, {g.a, g.b, ratio(g.b, g.a)});
  return b.t;
}

// A report with one group per (bucket, key(record)); `add` folds a record into its counters
// and returns false to skip it.
template <typename Key, typename Add, typename Row>
std::expected<table, std::error_code> grouped(const store& st, const report_window& w,
                                              table_builder b, Key key, Add add, Row row) {
  std::map<group_key, counters> groups;
  auto ec = for_each_call(st, w.from_us, w.to_us, [&](const json& r) {
    const auto k = key(r);
    if (!k) return true;
    add(r, groups[{bucket_of(r, w.by), *k}]);
    return true;
  });
  if (ec) return std::unexpected(ec);
  for (const auto& [k, g] : groups) b.row(k, row(g));
  return b.t;
}

std::optional<std::string> kind_is(const json& r, const char* kind, const char* key_field) {
  if (text(r, "segment_kind") != kind) return std::nullopt;
  return key_field ? text(r, key_field) : std::string();
}

std::expected<table, std::error_code> consults_by_specialist(const store& st,
                                                             const report_window& w) {
  return grouped(
      st, w, table_builder(w, "specialist", {"consults", "consult_minutes"}),
      [](const json& r) { return kind_is(r, "consult", "to_number"); },
      [](const json& r, counters& g) {
        ++g.a;
        g.b += span_us(r, "accept_time_us", "end_time_us");
      },
      [](const counters& g) {
        return std::vector<cell>{g.a, minutes(g.b)};
      });
}

std::expected<table, std::error_code> transfer_rate(const store& st, const report_window& w) {
  table_builder b(w, {}, {"customer_segments", "transferred", "transfer_rate"});
  std::map<group_key, counters> groups;
  auto ec = for_each_call(st, w.from_us, w.to_us, [&](const json& r) {
    if (text(r, "segment_kind") != "customer") return true;
    auto& g = groups[{bucket_of(r, w.by), {}}];
    ++g.a;
    if (!text(r, "next_call_id").empty()) ++g.b;
    return true;
  });
  if (ec) return std::unexpected(ec);
  for (const auto& [k, g] : groups) b.row(k, {g.a, g.b, ratio(g.b, g.a)});
  return b.t;
}

std::expected<table, std::error_code> handle_time_by_agent(const store& st,
                                                           const report_window& w) {
  return grouped(
      st, w, table_builder(w, "agent", {"segments", "avg_handle_s"}),
      [](const json& r) -> std::optional<std::string> {
        auto owner = kind_is(r, "customer", "owner_agent");
        if (!owner || owner->empty() || span_us(r, "accept_time_us", "end_time_us") == 0) {
          return std::nullopt;
        }
        return owner;
      },
      [](const json& r, counters& g) {
        ++g.a;
        g.b += span_us(r, "accept_time_us", "end_time_us");
      },
      [](const counters& g) {
        return std::vector<cell>{g.a,
                                 round2(static_cast<double>(g.b) / 1e6 / static_cast<double>(g.a))};
      });
}

std::expected<table, std::error_code> customer_volume(const store& st, const report_window& w) {
  table_builder b(w, {}, {"inbound", "outbound", "customer_calls", "customer_segments"});
  std::map<group_key, counters> groups;
  auto ec = for_each_call(st, w.from_us, w.to_us, [&](const json& r) {
    if (text(r, "segment_kind") != "customer" || text(r, "call_type") == "Internal") return true;
    auto& g = groups[{bucket_of(r, w.by), {}}];
    ++g.d;
    if (!text(r, "previous_call_id").empty()) return true;
    ++g.c;
    if (text(r, "call_type") == "Inbound") ++g.a;
    if (text(r, "call_type") == "Outbound") ++g.b;
    return true;
  });
  if (ec) return std::unexpected(ec);
  for (const auto& [k, g] : groups) b.row(k, {g.a, g.b, g.c, g.d});
  return b.t;
}

std::expected<table, std::error_code> supervisor_interventions(const store& st,
                                                               const report_window& w) {
  table_builder b(w, "mode", {"interventions", "minutes"});
  std::map<group_key, counters> groups;
  auto ec = for_each_call(st, w.from_us, w.to_us, [&](const json& r) {
    if (text(r, "segment_kind") != "supervision") return true;
    for (const auto& m : r.value("supervisor_modes", json::array())) {
      auto& g = groups[{bucket_of(r, w.by), text(m, "mode")}];
      ++g.a;
      g.b += span_us(m, "from_us", "until_us");
    }
    return true;
  });
  if (ec) return std::unexpected(ec);
  for (const auto& [k, g] : groups) b.row(k, {g.a, minutes(g.b)});
  return b.t;
}

std::expected<table, std::error_code> run(const store& st, std::string_view name,
                                          const report_window& w) {
  if (name == "internal_ratio_by_category") {
    return internal_ratio(st, w, "case_category", "case_category");
  }
  if (name == "internal_ratio_by_subject") return internal_ratio(st, w, "subject", "subject");
  if (name == "consults_by_specialist") return consults_by_specialist(st, w);
  if (name == "transfer_rate") return transfer_rate(st, w);
  if (name == "handle_time_by_agent") return handle_time_by_agent(st, w);
  if (name == "customer_volume") return customer_volume(st, w);
  if (name == "supervisor_interventions") return supervisor_interventions(st, w);
  return std::unexpected(make_error_code(errc::bad_options));
}

std::string csv_field(const cell& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&c)) return fmt::format("{:.2f}", *d);
  const auto& s = std::get<std::string>(c);
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  return out + "\"";
}

}  // namespace

std::optional<group_by> parse_group_by(std::string_view s) {
  if (s == "none") return group_by::none;
  if (s == "day") return group_by::day;
  if (s == "hour") return group_by::hour;
  return std::nullopt;
}

const std::vector<std::string_view>& report_names() {
  static const std::vector<std::string_view> names = {
      "internal_ratio_by_category", "internal_ratio_by_subject",
      "consults_by_specialist",     "transfer_rate",
      "handle_time_by_agent",       "customer_volume",
      "supervisor_interventions"};
  return names;
}

std::expected<table, std::error_code> report(const store& st, std::string_view name,
                                             const report_window& w) {
  try {
    return run(st, name, w);
  } catch (const json::exception&) {  // a record that is not what voice_call.cc writes
    return std::unexpected(make_error_code(errc::corrupt));
  }
}

std::string to_csv(const table& t) {
  std::string out;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    out += (i ? "," : "") + csv_field(t.columns[i]);
  }
  out += '\n';
  for (const auto& row : t.rows) {
    for (std::size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + csv_field(row[i]);
    out += '\n';
  }
  return out;
}

}  // namespace backline::projections
