#pragma once
// The OpenAPI 3.1 document of the API: api/openapi.yaml, embedded at build time, converted to
// JSON once (yaml_json.h) and served as GET /openapi.json.
//
// Whoever adds a route adds it to api/openapi.yaml in the same change; tests/http checks that
// every route the server registers is described (and the document describes nothing else).
// Thread-safe (the conversion runs once, under a function-local static).

#include <expected>
#include <string>
#include <string_view>

namespace backline::http {

std::string_view openapi_yaml();
// The document as compact JSON, or why api/openapi.yaml is not in the supported YAML subset.
const std::expected<std::string, std::string>& openapi_json();

}  // namespace backline::http
