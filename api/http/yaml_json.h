#pragma once
// A YAML subset -> JSON converter, for api/openapi.yaml (served as /openapi.json).
//
// Supported: block mappings (`key: value`, `key:` + an indented block), block sequences
// (`- item`, `- key: value` starting a mapping, at the parent key's indent or deeper), plain,
// 'single' and "double" quoted scalars (with \" \\ \n \t \/ escapes), literal `|` and folded `>`
// block scalars (with `-` chomping), empty or one-line flow collections of scalars (`[]`, `{}`,
// `[a, "b"]`, `{a: 1}`), `#` comments, null/~, true/false, integers and decimals. Keys are
// always strings. Not supported (an error naming the line): tabs for indentation, anchors and
// aliases, tags, multi-line flow collections, multiple documents, duplicate keys.
//
// Pure; thread-safe.

#include <expected>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace backline::http {

// The error is "line N: what".
std::expected<nlohmann::ordered_json, std::string> yaml_to_json(std::string_view yaml);

}  // namespace backline::http
