#include "tools/cli_events.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <thread>
#include <variant>

#include <fmt/format.h>
#include <unistd.h>

#include "eventlog/log.h"
#include "schemas/codec.h"
#include "tools/cli_common.h"

namespace backline::cli {
namespace {

constexpr std::size_t chunk_events = 1024;  // one read's worth: bounded memory at any log size
constexpr std::uint64_t progress_events_min = 10'000;

// The whole log is walked by position, one stream by version: the same walk over an "index".
struct source {
  eventlog::log& log;
  std::string stream;  // empty: the whole log

  result<std::vector<eventlog::record>> read(std::uint64_t from, std::size_t max) {
    auto r = stream.empty() ? log.read_from(from, max) : log.read_stream(stream, from, max);
    if (!r) {
      return fail(exit_not_found, fmt::format("cannot read the event log: {}; check the disk, "
                                              "then run backline replay --verify",
                                              r.error().message()));
    }
    return std::move(*r);
  }
  std::uint64_t last() {
    return stream.empty() ? refresh_committed(log) : log.stream_version(stream);
  }
  std::uint64_t index(const eventlog::record& r) const {
    return stream.empty() ? r.position : r.stream_version;
  }
};

// Decodes a record and keeps it when it passes the type filter.
struct filter {
  std::string type;

  result<std::optional<nlohmann::json>> operator()(const eventlog::record& r) const {
    auto d = schemas::decode(r.envelope);
    if (!d) {
      return fail(exit_check_failed,
                  fmt::format("the event at position {} does not decode ({}): a newer backline "
                              "wrote it, or the log is damaged; run backline replay --verify",
                              r.position, d.error().message()));
    }
    if (!type.empty() && schemas::type_name(d->payload) != type) return std::nullopt;
    return nlohmann::json::parse(schemas::to_json(*d));
  }
};

// The first index in [1, last] whose record satisfies `pred` (monotone: false then true);
// last + 1 when none does.
result<std::uint64_t> first_index_where(source& src, std::uint64_t last,
                                        const std::function<bool(const schemas::decoded&)>& pred) {
  std::uint64_t lo = 1, hi = last + 1;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    auto rs = src.read(mid, 1);
    if (!rs) return std::unexpected(rs.error());
    if (rs->empty()) return fail(exit_not_found, "the event log changed while it was searched");
    auto d = schemas::decode(rs->front().envelope);
    if (!d) return fail(exit_check_failed, fmt::format("undecodable event at {}", mid));
    if (pred(*d)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

// The last `count` matching records, oldest first, scanning back from `last` chunk by chunk.
result<std::vector<nlohmann::json>> last_matching(source& src, const filter& keep,
                                                  std::uint64_t last, std::size_t count) {
  std::vector<nlohmann::json> found;  // newest first
  std::uint64_t hi = last;
  while (hi >= 1 && found.size() < count) {
    const std::uint64_t lo = hi > chunk_events ? hi - chunk_events + 1 : 1;
    auto rs = src.read(lo, hi - lo + 1);
    if (!rs) return std::unexpected(rs.error());
    for (auto it = rs->rbegin(); it != rs->rend() && found.size() < count; ++it) {
      auto j = keep(*it);
      if (!j) return std::unexpected(j.error());
      if (*j) found.push_back(std::move(**j));
    }
    hi = lo - 1;
  }
  std::ranges::reverse(found);
  return found;
}

// Prints matching records from index `next` up to `last`; returns the index after the last read.
result<std::uint64_t> print_range(source& src, const filter& keep, record_writer& out,
                                  std::uint64_t next, std::uint64_t last) {
  const std::uint64_t total = last >= next ? last - next + 1 : 0;
  progress bar("reading", total >= progress_events_min && !isatty(STDOUT_FILENO) ? total : 0);
  std::uint64_t done = 0;
  while (next <= last && !stop_requested()) {
    auto rs = src.read(
        next, static_cast<std::size_t>(std::min<std::uint64_t>(chunk_events, last - next + 1)));
    if (!rs) return std::unexpected(rs.error());
    if (rs->empty()) break;
    for (const auto& r : *rs) {
      auto j = keep(r);
      if (!j) return std::unexpected(j.error());
      if (*j) out.write(**j);
    }
    next = src.index(rs->back()) + 1;
    done += rs->size();
    if (total >= progress_events_min) bar.update(done);
  }
  out.flush();
  return next;
}

// Where printing starts for an explicit --from.
result<std::uint64_t> start_index(source& src, const start_point& from, std::uint64_t last) {
  if (from.what == start_point::kind::instant) {
    const auto at = from.at_us;
    return first_index_where(
        src, last, [at](const schemas::decoded& d) { return d.meta.occurred_at_us >= at; });
  }
  if (src.stream.empty()) return std::max<std::uint64_t>(from.position, 1);
  const auto pos = from.position;  // a log position, within one stream: the first version at it
  return first_index_where(src, last,
                           [pos](const schemas::decoded& d) { return d.meta.log_position >= pos; });
}

// Follows the log until SIGINT/SIGTERM, printing each new batch as it is committed.
result<void> follow(source& src, const filter& keep, record_writer& out, std::uint64_t next,
                    std::int64_t poll_interval_ms) {
  while (!stop_requested()) {
    const std::uint64_t last = src.last();
    if (last >= next) {
      auto n = print_range(src, keep, out, next, last);
      if (!n) return std::unexpected(n.error());
      next = *n;
      continue;
    }
    // Short naps, so a signal is answered within 50 ms.
    for (std::int64_t slept = 0; slept < poll_interval_ms && !stop_requested(); slept += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return {};
}

template <class Variant, std::size_t... I>
void add_type_names(std::set<std::string>& names, std::index_sequence<I...>) {
  (names.emplace(
       schemas::type_name(schemas::body{Variant{std::variant_alternative_t<I, Variant>{}}})),
   ...);
}

}  // namespace

std::vector<column> event_columns(format f) {
  if (f == format::csv) {
    return {{"position", "/position"},
            {"occurred_at", "/occurred_at"},
            {"stream", "/stream"},
            {"version", "/version"},
            {"type", "/type"},
            {"event_id", "/event_id"},
            {"correlation_id", "/correlation_id"},
            {"causation_id", "/causation_id"},
            {"tenant", "/tenant"},
            {"principal", "/principal"},
            {"data", "/data"}};
  }
  // Minimum widths fit a position up to 10^8, an RFC 3339 instant, "call/<uuid>", a stream
  // version up to 10^4 and the longest type name, so followed batches stay aligned.
  return {{"POSITION", "/position", 0, 8},
          {"OCCURRED_AT", "/occurred_at", 0, 27},
          {"STREAM", "/stream", 0, 41},
          {"V", "/version", 0, 4},
          {"TYPE", "/type", 0, 27},
          {"PRINCIPAL", "/principal", 0, 10},
          {"DATA", "/data", 72}};
}

std::vector<std::string> known_event_types() {
  std::set<std::string> names;
  auto add = [&]<class V>(std::type_identity<V>) {
    add_type_names<V>(names, std::make_index_sequence<std::variant_size_v<V>>{});
  };
  add(std::type_identity<domain::event_body>{});
  add(std::type_identity<domain::agent_event_body>{});
  add(std::type_identity<domain::queue_event_body>{});
  names.emplace(schemas::type_name(schemas::body{domain::directory{}}));
  return {names.begin(), names.end()};
}

int run_events_tail(const tail_options& o) {
  if (!o.type.empty()) {
    const auto known = known_event_types();
    if (!std::ranges::binary_search(known, o.type)) {
      return report({exit_usage, fmt::format("--type: unknown event type '{}'; known types: {}",
                                             o.type, fmt::join(known, ", "))});
    }
  }
  std::optional<start_point> from;
  if (!o.from.empty()) {
    auto p = parse_start(o.from, system_now_us());
    if (!p) return report(p.error());
    from = *p;
  }
  auto log = open_log(o.data_dir);
  if (!log) return report(log.error());
  source src{**log, o.stream};
  const filter keep{o.type};
  const std::uint64_t last = src.last();
  if (!o.stream.empty() && last == 0 && !o.follow) {
    return report({exit_not_found,
                   fmt::format("no stream '{}' in the log under {}: streams are named kind/id, "
                               "e.g. call/<root voice call id> or agent/alice",
                               o.stream, o.data_dir)});
  }
  record_writer out(o.output, event_columns(o.output));
  std::uint64_t next = last + 1;
  if (from) {
    auto start = start_index(src, *from, last);
    if (!start) return report(start.error());
    auto n = print_range(src, keep, out, *start, last);
    if (!n) return report(n.error());
    next = *n;
  } else {
    auto tail = last_matching(src, keep, last, o.count);
    if (!tail) return report(tail.error());
    for (const auto& j : *tail) out.write(j);
    out.flush();
  }
  if (o.follow) {
    if (auto ok = follow(src, keep, out, next, o.poll_interval_ms); !ok) return report(ok.error());
  }
  out.finish();
  return exit_ok;
}

}  // namespace backline::cli
