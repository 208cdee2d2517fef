#include "tools/cli_calls.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "eventlog/log.h"
#include "schemas/codec.h"

namespace backline::cli {
namespace {

using nlohmann::json;

// Unset instants (0) are null, not 1970.
json instant(std::int64_t us) {
  return us == 0 ? json(nullptr) : json(schemas::format_rfc3339_us(us));
}

std::string sv(std::string_view s) {
  return std::string(s);
}

std::vector<std::vector<std::string>> segment_rows(const domain::call_state& st) {
  std::vector<std::vector<std::string>> rows = {{"VOICE_CALL", "KIND", "TYPE", "METHOD", "STATUS",
                                                 "OWNER", "PARENT", "PREVIOUS", "NEXT",
                                                 "CREATED_AT", "ENDED_AT"}};
  for (const auto& g : st.segments) {
    rows.push_back({g.id, sv(to_string(g.kind)), sv(to_string(g.type)), sv(to_string(g.method)),
                    sv(to_string(g.status)), g.owner_agent, g.parent_id, g.previous_id, g.next_id,
                    cell_text(instant(g.created_at_us)), cell_text(instant(g.ended_at_us))});
  }
  return rows;
}

std::vector<std::vector<std::string>> participant_rows(const domain::call_state& st) {
  std::vector<std::vector<std::string>> rows = {
      {"VOICE_CALL", "PARTICIPANT", "ROLE", "PRESENT", "HELD", "MUTED", "JOINED_AT"}};
  auto yes = [](bool b) { return std::string(b ? "yes" : "no"); };
  for (const auto& g : st.segments) {
    for (const auto& p : g.participants) {
      rows.push_back({g.id, p.id, sv(to_string(p.role)), yes(p.present), yes(p.held), yes(p.muted),
                      cell_text(instant(p.joined_at_us))});
    }
  }
  return rows;
}

std::vector<std::vector<std::string>> supervision_rows(const domain::call_state& st) {
  std::vector<std::vector<std::string>> rows = {
      {"SESSION", "SUPERVISOR", "SUPERVISES", "MODE", "COACHED", "SINCE", "STATUS"}};
  for (const auto& g : st.segments) {
    if (g.kind != domain::segment_kind::supervision || g.modes.empty()) continue;
    const auto& m = g.modes.back();
    rows.push_back({g.id, g.supervisor_id, g.parent_id, sv(to_string(m.mode)), m.coached_agent,
                    cell_text(instant(m.at_us)), sv(to_string(g.status))});
  }
  return rows;
}

// Rows are listeners, columns speakers: "✓" where the listener hears the speaker.
std::vector<std::vector<std::string>> hear_rows(const domain::hear_matrix& m) {
  std::vector<std::string> parties = m.parties;
  std::ranges::sort(parties);
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"LISTENER \\ SPEAKER"});
  for (const auto& s : parties) rows[0].push_back(s);
  for (const auto& l : parties) {
    std::vector<std::string> row = {l};
    for (const auto& s : parties) row.push_back(l == s ? "-" : m.hears(l, s) ? "✓" : "·");
    rows.push_back(std::move(row));
  }
  return rows;
}

void print_snapshot_table(const call_snapshot& s) {
  fmt::print("voice call {} (conversation {}) as of {}: {} events folded, last at {}\n\n",
             s.voice_call_id, s.stream, schemas::format_rfc3339_us(s.at_us), s.state.version,
             schemas::format_rfc3339_us(s.last_event_us));
  print_table(segment_rows(s.state));
  fmt::print("\n");
  print_table(participant_rows(s.state));
  if (auto rows = supervision_rows(s.state); rows.size() > 1) {
    fmt::print("\n");
    print_table(rows);
  }
  const auto m = domain::compute_hear_matrix(s.state);
  fmt::print("\nwho hears whom (a row hears the columns marked ✓):\n");
  if (m.parties.empty()) {
    fmt::print("  nobody is on the air\n");
  } else {
    print_table(hear_rows(m));
  }
}

}  // namespace

result<call_snapshot> fold_call_at(eventlog::log& log, const std::string& voice_call_id,
                                   std::int64_t at_us) {
  auto s = projections::fold_call_at(log, voice_call_id, at_us);
  if (s) return std::move(*s);
  const auto& e = s.error();
  switch (e.code) {
    case projections::snapshot_errc::not_found:
      return fail(exit_not_found,
                  fmt::format("no voice call {} in the event log: check the id (backline events "
                              "tail --type call_created lists the calls)",
                              voice_call_id));
    case projections::snapshot_errc::not_yet:
      return fail(exit_not_found,
                  fmt::format("voice call {} did not exist yet at {}: it was created at {}; "
                              "pass a later --at",
                              voice_call_id, schemas::format_rfc3339_us(at_us),
                              schemas::format_rfc3339_us(e.created_at_us)));
    case projections::snapshot_errc::unreadable:
      return fail(exit_not_found,
                  fmt::format("cannot read stream {}: {}; check the disk", e.stream, e.detail));
    case projections::snapshot_errc::corrupt:
      break;
  }
  if (e.position != 0) {
    return fail(exit_check_failed,
                fmt::format("stream {} holds an event at position {} that is not a call event "
                            "this backline can read; run backline replay --verify",
                            e.stream, e.position));
  }
  return fail(exit_not_found, fmt::format("voice call {} is named in the log's index but its "
                                          "stream {} never created it; run backline replay "
                                          "--verify",
                                          voice_call_id, e.stream));
}

void print_snapshot(const call_snapshot& s, format f) {
  switch (f) {
    case format::table:
      print_snapshot_table(s);
      return;
    case format::json:
      fmt::print("{}\n", snapshot_json(s).dump(2, ' ', false, json::error_handler_t::replace));
      return;
    case format::jsonl:
      fmt::print("{}\n", snapshot_json(s).dump(-1, ' ', false, json::error_handler_t::replace));
      return;
    case format::csv: {
      // One row per VoiceCall record: the flat fields (nested ones as JSON text).
      std::vector<column> columns = {{"id", "/id"}};
      const json first = voice_call_json(s, s.state.segments.front());  // there is the one asked
      for (const auto& [key, value] : first.items()) {
        if (key != "id") columns.push_back({key, "/" + key});  // the rest: by name
      }
      record_writer out(format::csv, std::move(columns));
      for (const auto& g : s.state.segments) out.write(voice_call_json(s, g));
      return;
    }
  }
}

int run_calls_get_at(const call_get_options& o) {
  std::int64_t at_us = std::numeric_limits<std::int64_t>::max();
  if (!o.at.empty()) {
    auto at = parse_instant(o.at, system_now_us(), "--at");
    if (!at) return report(at.error());
    at_us = *at;
  }
  auto log = open_log(o.data_dir);
  if (!log) return report(log.error());
  auto snapshot = fold_call_at(**log, o.voice_call_id, at_us);
  if (!snapshot) return report(snapshot.error());
  if (o.at.empty()) snapshot->at_us = snapshot->last_event_us;
  print_snapshot(*snapshot, o.output);
  return exit_ok;
}

}  // namespace backline::cli
