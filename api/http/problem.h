#pragma once
// RFC 9457 problem details (application/problem+json) with stable `type` URIs.
//
// Every error the API answers is one of these. The `type` URIs below are part of the API
// contract: never rename one; add new ones. Body members: type, title, status, detail, and
// `field` (the offending request field, for validation) or any extension the caller adds.
//
// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "api/http/types.h"

namespace backline::http {

namespace problem_types {
inline constexpr std::string_view bad_request = "https://backline.dev/problems/bad-request";
inline constexpr std::string_view validation = "https://backline.dev/problems/validation";
inline constexpr std::string_view unauthorized = "https://backline.dev/problems/unauthorized";
inline constexpr std::string_view forbidden = "https://backline.dev/problems/forbidden";
inline constexpr std::string_view not_found = "https://backline.dev/problems/not-found";
inline constexpr std::string_view method_not_allowed =
    "https://backline.dev/problems/method-not-allowed";
inline constexpr std::string_view conflict = "https://backline.dev/problems/conflict";
inline constexpr std::string_view idempotency_in_flight =
    "https://backline.dev/problems/idempotency-in-flight";
inline constexpr std::string_view idempotency_key_reused =
    "https://backline.dev/problems/idempotency-key-reused";
inline constexpr std::string_view payload_too_large =
    "https://backline.dev/problems/payload-too-large";
inline constexpr std::string_view unsupported_media_type =
    "https://backline.dev/problems/unsupported-media-type";
inline constexpr std::string_view upgrade_required =
    "https://backline.dev/problems/upgrade-required";
inline constexpr std::string_view rule_refused = "https://backline.dev/problems/rule-refused";
inline constexpr std::string_view too_many_requests =
    "https://backline.dev/problems/too-many-requests";
inline constexpr std::string_view header_too_large =
    "https://backline.dev/problems/header-too-large";
inline constexpr std::string_view internal = "https://backline.dev/problems/internal";
inline constexpr std::string_view overloaded = "https://backline.dev/problems/overloaded";
inline constexpr std::string_view timeout = "https://backline.dev/problems/timeout";
}  // namespace problem_types

// The problem body as JSON text: {"type","title","status","detail"[,"field"]}.
std::string problem_json(int status, std::string_view type, std::string_view title,
                         std::string_view detail, std::optional<std::string_view> field = {});

// A complete response with content type application/problem+json.
response problem(int status, std::string_view type, std::string_view title, std::string_view detail,
                 std::optional<std::string_view> field = {});

// The usual ones, with their status, type and title fixed.
response bad_request(std::string_view detail);
response validation_failed(std::string_view field, std::string_view detail);  // 400 + field
response unauthorized(std::string_view detail);  // 401 + WWW-Authenticate: Bearer
response forbidden(std::string_view detail);
response not_found(std::string_view detail);
response method_not_allowed(std::string_view allow);  // 405 + Allow
response conflict(std::string_view detail);           // e.g. expected-version mismatch
response payload_too_large(std::size_t limit_bytes);
response unsupported_media_type(std::string_view got);
response rule_refused(std::string_view rule, std::string_view detail);   // 422, "rule" member
response too_many_requests(int retry_after_s, std::string_view detail);  // 429 + Retry-After
response overloaded(int retry_after_s, std::string_view detail);         // 503 + Retry-After
response gateway_timeout(std::string_view detail);                       // 504
response internal_error(std::string_view detail);                        // 500

}  // namespace backline::http
