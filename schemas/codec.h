#pragma once
// Encoding between the domain's C++ values and the FlatBuffers storage formats of schemas/*.fbs.
// Every function that reads bytes from outside verifies them with the FlatBuffers verifier
// first and returns an error instead of touching an unverified buffer.

#include <array>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

#include "actors/domain/agent.h"
#include "actors/domain/call.h"
#include "actors/domain/directory.h"
#include "actors/domain/queue.h"

namespace backline::schemas {

enum class errc : int {
  ok = 0,
  verification_failed = 1,  // not a well-formed Envelope / Command buffer
  unknown_body = 2,         // a union member this build does not know (newer writer)
  invalid_value = 3,        // an enum value out of range
};
const std::error_category& codec_category();
inline std::error_code make_error_code(errc e) {
  return {static_cast<int>(e), codec_category()};
}

// The largest buffer the codec accepts from outside (a directory with thousands of agents fits).
inline constexpr std::size_t envelope_bytes_max = std::size_t{64} << 20;
inline constexpr std::size_t command_bytes_max = std::size_t{1} << 20;

using uuid = std::array<std::uint8_t, 16>;

// A UUIDv7 (RFC 9562): 48-bit unix milliseconds, version 7, 74 random bits from `random_bits`.
uuid make_uuid_v7(std::int64_t unix_ms, std::uint64_t random_hi, std::uint64_t random_lo);
std::string to_string(const uuid& u);  // 8-4-4-4-12 lowercase hex
// to_string without allocating: the 36 characters, unterminated.
void format_uuid(const uuid& u, char (&out)[36]);
// The uuid of the two big-endian halves the FlatBuffers `Uuid` struct stores.
uuid uuid_from_halves(std::uint64_t hi, std::uint64_t lo);

// The envelope of DESIGN.md invariant 3, without its body.
struct envelope_meta {
  uuid event_id{};
  std::string stream_kind, stream_id;
  std::uint64_t stream_version = 0;
  std::uint64_t log_position = 0;
  std::int64_t occurred_at_us = 0;
  std::string correlation_id, causation_id, tenant, principal;
  friend bool operator==(const envelope_meta&, const envelope_meta&) = default;
};

// What an envelope carries: a call event, the directory, an agent event or a queue event.
// New alternatives are added at the end only (code switches on the index).
using body = std::variant<domain::event_body, domain::directory, domain::agent_event_body,
                          domain::queue_event_body>;

struct decoded {
  envelope_meta meta;
  body payload;
};

// Encodes a finished, size-prefix-free Envelope (file identifier "BLEV"), with every scalar
// present (force_defaults), so `stamp_position` can overwrite log_position in place.
std::string encode(const envelope_meta& meta, const domain::event_body& e);
std::string encode(const envelope_meta& meta, const domain::directory& d);
std::string encode(const envelope_meta& meta, const domain::agent_event_body& e);
std::string encode(const envelope_meta& meta, const domain::queue_event_body& e);

bool verify_envelope(std::string_view bytes);
// Overwrites log_position in place. REQUIRES: verified bytes produced by `encode`.
void stamp_position(std::string& bytes, std::uint64_t position);

// Verifies, then decodes.
std::expected<decoded, std::error_code> decode(std::string_view bytes);
// decode() without verifying again, for bytes that were just verified: a record the event log
// handed out (it verifies every envelope it reads; the projector decodes millions of them).
// REQUIRES: verify_envelope(bytes) (asserted in debug builds).
std::expected<decoded, std::error_code> decode_verified(std::string_view bytes);

// The domain event with its instant (meta.occurred_at_us), for `evolve`.
inline domain::event to_event(const decoded& d) {
  return {d.meta.occurred_at_us, std::get<domain::event_body>(d.payload)};
}
// The same for agent and queue events. REQUIRES: the payload holds that kind of event.
inline domain::agent_event to_agent_event(const decoded& d) {
  return {d.meta.occurred_at_us, std::get<domain::agent_event_body>(d.payload)};
}
inline domain::queue_event to_queue_event(const decoded& d) {
  return {d.meta.occurred_at_us, std::get<domain::queue_event_body>(d.payload)};
}

// One JSON object per event (for the demo, `backline events tail` and the Kafka JSON mirror):
// {"position":..,"stream":"call/..","version":..,"type":"call_created","occurred_at":"RFC3339",
//  "event_id":..,"correlation_id":..,"causation_id":..,"tenant":..,"principal":..,"data":{...}}
std::string to_json(const decoded& d);

// The event's snake_case type name, e.g. "call_created", "directory_replaced", "presence_changed",
// "enqueued" (CloudEvents ce_type). Agent and queue events share the names of domain's
// `event_type_name`, so "offer_declined" is an agent or a queue event: the stream kind tells.
std::string_view type_name(const body& b);

// RFC 3339 UTC with microseconds, e.g. "2024-05-01T12:00:00.123456Z".
std::string format_rfc3339_us(std::int64_t unix_us);

// A command as it crosses a process boundary or is kept for idempotency (schemas/command.fbs,
// file identifier "BLCM").
struct command_meta {
  std::string command_id;              // the Idempotency-Key
  std::uint64_t expected_version = 0;  // expected stream version; 0 = any
  std::string tenant, principal;
  std::int64_t issued_at_us = 0;
  friend bool operator==(const command_meta&, const command_meta&) = default;
};

std::string encode_command(const command_meta& meta, const domain::command_body& c);
bool verify_command(std::string_view bytes);
// Verifies, then decodes.
std::expected<std::pair<command_meta, domain::command_body>, std::error_code> decode_command(
    std::string_view bytes);

}  // namespace backline::schemas

template <>
struct std::is_error_code_enum<backline::schemas::errc> : std::true_type {};
