#pragma once
// Instants as people and tools write them, for the time windows of the queries and time travel
// (`backline calls get --at`, `GET /v1/voice-calls/{id}?at=`): RFC 3339
// ("2024-05-01T12:00:00Z", fractions kept to microseconds, 'Z' or a ±hh:mm offset), Unix
// microseconds ("1714564800000000") or "now".
//
// Pure functions; the caller passes its clock. Thread-safe.

#include <cstdint>
#include <optional>
#include <string_view>

namespace backline::projections {

// Unix microseconds of an RFC 3339 date-time, or nullopt when `text` is not one.
std::optional<std::int64_t> parse_rfc3339_us(std::string_view text);

// Unix microseconds of `text` (RFC 3339, Unix µs or "now" = `now_us`), or nullopt.
std::optional<std::int64_t> parse_instant_us(std::string_view text, std::int64_t now_us);

}  // namespace backline::projections
