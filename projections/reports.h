#pragma once
// Reports computed from the VoiceCall records whose start time is in a window, optionally
// grouped by UTC day or hour. Each returns a small table the CLI prints as a table, JSON or CSV.
//
// Reports (`report_names()`), their rows and what they count:
// - internal_ratio_by_category / internal_ratio_by_subject: per case category (subject) of the
//   customer call, customer_calls (conversations started by a customer segment in the window),
//   with_consult (those whose conversation holds a consult) and internal_ratio.
// - consults_by_specialist: per consult target, consults and consult_minutes (answer to end).
// - transfer_rate: customer segments, transferred (ended by a warm or blind transfer), rate.
// - handle_time_by_agent: per owner of a customer-facing segment, segments and
//   avg_handle_s (answer to end, holds included; after-call work is not in the log).
// - customer_volume: customer calls by call type, internal calls excluded: inbound, outbound,
//   customer_calls, customer_segments (transfer segments included).
// - supervisor_interventions: per mode, interventions (times a session entered it) and minutes.
// Minutes and ratios are rounded to 2 decimals. Rows are sorted by bucket, then by key.
//
// Runs on the caller's thread; errors are errc values of store.h (errc::bad_options for an
// unknown report name).

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "projections/store.h"

namespace backline::projections {

using cell = std::variant<std::string, std::int64_t, double>;

struct table {
  std::vector<std::string> columns;
  std::vector<std::vector<cell>> rows;
};

enum class group_by { none, day, hour };
std::optional<group_by> parse_group_by(std::string_view s);  // "none", "day", "hour"

struct report_window {
  std::int64_t from_us = 0, to_us = 0;  // start times in [from_us, to_us)
  group_by by = group_by::none;         // adds a first column "bucket" ("2024-05-01[T13]")
};

const std::vector<std::string_view>& report_names();

std::expected<table, std::error_code> report(const store& st, std::string_view name,
                                             const report_window& w);

// RFC 4180 CSV with a header line (numbers as they are, doubles with 2 decimals).
std::string to_csv(const table& t);

}  // namespace backline::projections
