// Arguments and printing of the projection-backed subcommands; the queries are the backend's
// (cli_views_backend.h).
#include "tools/cli_views.h"

#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "schemas/codec.h"
#include "tools/cli_views_backend.h"

namespace backline::cli {
namespace {

using nlohmann::json;

std::vector<column> record_columns(format f) {
  std::vector<column> c = {{"ID", "/id"},
                           {"TYPE", "/call_type"},
                           {"METHOD", "/initiation_method"},
                           {"KIND", "/segment_kind"},
                           {"DISPOSITION", "/call_disposition"},
                           {"OWNER", "/owner_agent"},
                           {"QUEUE", "/queue"},
                           {"PARENT", "/parent_voice_call_id"},
                           {"PREVIOUS", "/previous_call_id"},
                           {"START", "/start_time"},
                           {"DURATION_S", "/duration_s"}};
  if (f == format::csv) {
    for (auto& col : c) {
      for (auto& ch : col.header) ch = static_cast<char>(std::tolower(ch));
    }
  }
  return c;
}

void print_records(const std::vector<json>& records, format f) {
  record_writer out(f, record_columns(f));
  for (const auto& r : records) out.write(r);
  out.finish();
}

// One record: a FIELD / VALUE table, or the record itself.
void print_record(const json& record, format f) {
  if (f == format::json) {
    fmt::print("{}\n", record.dump(2, ' ', false, json::error_handler_t::replace));
  } else if (f == format::table) {
    std::vector<std::vector<std::string>> rows = {{"FIELD", "VALUE"}};
    for (const auto& [k, v] : record.items()) rows.push_back({k, cell_text(v)});
    print_table(rows);
  } else {
    print_records({record}, f);
  }
}

void print_report(const report_table& t, format f) {
  std::vector<column> columns;
  for (const auto& c : t.columns) columns.push_back({c, "/" + c});
  if (f == format::table) fmt::print("{}\n\n", t.title);
  record_writer out(f, std::move(columns));
  for (const auto& row : t.rows) {
    json record = json::object();
    for (std::size_t c = 0; c < t.columns.size() && c < row.size(); ++c) {
      record[t.columns[c]] = row[c];
    }
    out.write(record);
  }
  out.finish();
}

// The chain flattened for csv: one row per voice call, children after their segment.
void print_chain(const chain_view& chain, format f) {
  if (f == format::table) {
    fmt::print("conversation {}\n{}", chain.tree.value("conversation_id", ""), chain.text);
    return;
  }
  if (f == format::json || f == format::jsonl) {
    fmt::print("{}\n", chain.tree.dump(f == format::json ? 2 : -1, ' ', false,
                                       json::error_handler_t::replace));
    return;
  }
  std::vector<json> rows;
  for (const auto& s : chain.tree.value("segments", json::array())) {
    rows.push_back(s);
    for (const auto& child : s.value("children", json::array())) rows.push_back(child);
  }
  std::vector<column> columns = record_columns(f);
  columns.push_back({"supervisor_id", "/supervisor_id"});
  columns.push_back({"supervisor_modes", "/supervisor_modes"});
  record_writer out(f, std::move(columns));
  for (auto& r : rows) {
    r.erase("children");
    out.write(r);
  }
  out.finish();
}

result<std::int64_t> instant_or(const std::string& text, std::int64_t fallback,
                                std::string_view flag) {
  if (text.empty()) return fallback;
  return parse_instant(text, system_now_us(), flag);
}

}  // namespace

report_data to_chart(const report_table& t) {
  report_data chart{t.title, {}, {}, {}};
  std::vector<std::size_t> keys, measures;
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    const bool numeric = !t.rows.empty() && c < t.rows[0].size() && t.rows[0][c].is_number();
    (numeric ? measures : keys).push_back(c);
  }
  for (std::size_t c : keys) chart.x_label += (chart.x_label.empty() ? "" : " / ") + t.columns[c];
  for (std::size_t c : measures) chart.series.push_back({t.columns[c], {}});
  for (const auto& row : t.rows) {
    std::string label;
    for (std::size_t c : keys) label += (label.empty() ? "" : " ") + cell_text(row[c]);
    chart.buckets.push_back(label);
    for (std::size_t m = 0; m < measures.size(); ++m) {
      const auto& v = row[measures[m]];
      chart.series[m].values.push_back(v.is_number() ? v.get<double>() : 0.0);
    }
  }
  return chart;
}

int run_calls_get_view(const view_options& o, const std::string& id) {
  auto views = open_views(o.data_dir);
  if (!views) return report(views.error());
  auto record = (*views)->voice_call(id);
  if (!record) return report(record.error());
  if (!*record) {
    return report(
        {exit_not_found,
         fmt::format("no voice call {} in the read models (projected up to log "
                     "position {}): check the id with backline calls list; for a recent call, "
                     "run backline replay to catch the read models up",
                     id, (*views)->checkpoint())});
  }
  print_record(**record, o.output);
  return exit_ok;
}

int run_calls_list(const calls_list_options& o) {
  list_query q{o.type, o.agent, o.queue, o.parent, INT64_MIN, INT64_MAX, o.limit};
  auto from = instant_or(o.from, INT64_MIN, "--from");
  if (!from) return report(from.error());
  auto to = instant_or(o.to, INT64_MAX, "--to");
  if (!to) return report(to.error());
  q.from_us = *from;
  q.to_us = *to;
  auto views = open_views(o.data_dir);
  if (!views) return report(views.error());
  auto records = (*views)->list(q);
  if (!records) return report(records.error());
  print_records(*records, o.output);
  return exit_ok;
}

int run_chain(const view_options& o, const std::string& id) {
  auto views = open_views(o.data_dir);
  if (!views) return report(views.error());
  auto chain = (*views)->chain(id);
  if (!chain) return report(chain.error());
  if (!*chain) {
    return report({exit_not_found, fmt::format("no voice call {} in the read models: check the "
                                               "id with backline calls list",
                                               id)});
  }
  print_chain(**chain, o.output);
  return exit_ok;
}

int run_report(const report_options& o) {
  const auto now = system_now_us();
  auto to = instant_or(o.to, now, "--to");
  if (!to) return report(to.error());
  auto from = instant_or(o.from, *to - std::int64_t{86'400'000'000}, "--from");
  if (!from) return report(from.error());
  if (*from >= *to) {
    return report({exit_usage, fmt::format("--from ({}) must be before --to ({})",
                                           schemas::format_rfc3339_us(*from),
                                           schemas::format_rfc3339_us(*to))});
  }
  auto views = open_views(o.data_dir);
  if (!views) return report(views.error());
  auto data = (*views)->report({o.name, o.by, *from, *to});
  if (!data) return report(data.error());
  if (!o.svg_file.empty()) {
    std::ofstream svg(o.svg_file, std::ios::binary | std::ios::trunc);
    svg << render_svg(to_chart(*data));
    if (!svg.good()) {
      return report({exit_not_found, fmt::format("cannot write the chart to {}: check that its "
                                                 "directory exists and is writable",
                                                 o.svg_file)});
    }
  }
  print_report(*data, o.output);
  return exit_ok;
}

int run_replay(const replay_options& o) {
  auto views = open_views(o.data_dir);
  if (!views) return report(views.error());
  progress bar(o.verify ? "rebuilding" : "catching up", 0);
  auto outcome =
      (*views)->replay(o.verify, [&bar](std::uint64_t done, std::uint64_t) { bar.update(done); });
  bar.finish();
  if (!outcome) return report(outcome.error());
  record_writer out(o.output, {{"MODEL", "/model"},
                               {"EQUAL", "/equal"},
                               {"LIVE_KEYS", "/live_keys"},
                               {"REBUILT_KEYS", "/rebuilt_keys"},
                               {"LIVE_HASH", "/live_hash"},
                               {"REBUILT_HASH", "/rebuilt_hash"},
                               {"FIRST_DIFFERENCES", "/first_differences", 60}});
  for (const auto& m : outcome->models) {
    out.write({{"model", m.model},
               {"equal", m.equal},
               {"live_keys", m.live_keys},
               {"rebuilt_keys", m.rebuilt_keys},
               {"live_hash", fmt::format("{:016x}", m.live_hash)},
               {"rebuilt_hash", fmt::format("{:016x}", m.rebuilt_hash)},
               {"first_differences", m.first_differences}});
  }
  out.finish();
  const bool ok = !outcome->verified || outcome->equal();
  fmt::print(stderr, "backline: {} at log position {}\n",
             !outcome->verified ? "read models caught up"
             : ok               ? "replay verified: every read model equals its rebuild"
                                : "replay FAILED: a read model differs from its rebuild",
             outcome->checkpoint);
  return ok ? exit_ok : exit_check_failed;
}

}  // namespace backline::cli
