#pragma once
// Test support for the schemas suite: one sample of every event (call, agent, queue) and command
// with every field
// different from its default, and a structural view of aggregates (as_tuple) to compare them
// field by field without operator== on the domain types.

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "actors/domain/agent.h"
#include "actors/domain/call.h"
#include "actors/domain/directory.h"
#include "actors/domain/queue.h"
#include "schemas/codec.h"

namespace backline::schemas::testing {

// ---- aggregates as tuples --------------------------------------------------------------------

struct any_field {
  template <class T>
  operator T() const;
};

// The number of members of an aggregate: the longest brace list that still initializes it.
template <class T, class... A>
consteval std::size_t field_count() {
  if constexpr (requires { T{A{}..., any_field{}}; }) {
    return field_count<T, A..., any_field>();
  } else {
    return sizeof...(A);
  }
}

template <class T>
auto as_tuple(const T& v) {
  constexpr std::size_t n = field_count<T>();
  static_assert(n >= 1 && n <= 13, "extend as_tuple for larger aggregates");
  // clang-format off
  if constexpr (n == 1) { const auto& [a] = v; return std::tie(a); }
  else if constexpr (n == 2) { const auto& [a, b] = v; return std::tie(a, b); }
  else if constexpr (n == 3) { const auto& [a, b, c] = v; return std::tie(a, b, c); }
  else if constexpr (n == 4) { const auto& [a, b, c, d] = v; return std::tie(a, b, c, d); }
  else if constexpr (n == 5) { const auto& [a, b, c, d, e] = v; return std::tie(a, b, c, d, e); }
  else if constexpr (n == 6) {
    const auto& [a, b, c, d, e, f] = v; return std::tie(a, b, c, d, e, f); }
  else if constexpr (n == 7) {
    const auto& [a, b, c, d, e, f, g] = v; return std::tie(a, b, c, d, e, f, g); }
  else if constexpr (n == 8) {
    const auto& [a, b, c, d, e, f, g, h] = v; return std::tie(a, b, c, d, e, f, g, h); }
  else if constexpr (n == 9) {
    const auto& [a, b, c, d, e, f, g, h, i] = v; return std::tie(a, b, c, d, e, f, g, h, i); }
  else if constexpr (n == 10) {
    const auto& [a, b, c, d, e, f, g, h, i, j] = v;
    return std::tie(a, b, c, d, e, f, g, h, i, j); }
  else if constexpr (n == 11) {
    const auto& [a, b, c, d, e, f, g, h, i, j, k] = v;
    return std::tie(a, b, c, d, e, f, g, h, i, j, k); }
  else if constexpr (n == 12) {
    const auto& [a, b, c, d, e, f, g, h, i, j, k, l] = v;
    return std::tie(a, b, c, d, e, f, g, h, i, j, k, l); }
  else {
    const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m] = v;
    return std::tie(a, b, c, d, e, f, g, h, i, j, k, l, m); }
  // clang-format on
}

template <class T>
bool same_fields(const T& x, const T& y) {
  return as_tuple(x) == as_tuple(y);
}

// The indexes of the members of `v` that still equal a value-initialized T's: a sample must have
// none, so a field the codec forgets cannot round-trip by accident.
template <class T>
std::vector<std::size_t> default_fields(const T& v) {
  static const T blank{};
  std::vector<std::size_t> out;
  auto x = as_tuple(v);
  auto y = as_tuple(blank);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((std::get<I>(x) == std::get<I>(y) ? out.push_back(I) : void()), ...);
  }
  (std::make_index_sequence<std::tuple_size_v<decltype(x)>>());
  return out;
}

// ---- samples ----------------------------------------------------------------------------------

inline domain::call_attributes sample_attributes() {
  return {.case_id = "500Qy00000AbCdE",
          .contact_id = "003Qy00000XyZ",
          .account_id = "001Qy00000Acme",
          .subject = "Invoice \"March\" — wrong amount",  // quotes and non-ASCII
          .case_category = "billing",
          .custom = {{"language", "de"}, {"priority", "high"}, {"vip", "true"}}};
}

std::vector<domain::event_body> sample_events();
std::vector<domain::agent_event_body> sample_agent_events();
std::vector<domain::queue_event_body> sample_queue_events();
std::vector<domain::command_body> sample_commands();
domain::directory sample_directory();
envelope_meta sample_meta();
command_meta sample_command_meta();

}  // namespace backline::schemas::testing
