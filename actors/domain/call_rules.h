#pragma once
// Internal to the call aggregate: the checks and helpers its decide functions share.
// Not part of the domain's public contract (see call.h).

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "actors/domain/call.h"

namespace backline::domain::rules {

using events = std::vector<event>;

std::unexpected<rejection> reject(errc code, std::string detail);

// Collects the events of one decision, all stamped with the decision's instant.
struct emitter {
  std::int64_t at_us;
  events out;
  void operator()(event_body body) { out.push_back(event{at_us, std::move(body)}); }
};

std::expected<void, rejection> check_id(std::string_view field, std::string_view value);
std::expected<void, rejection> check_text(std::string_view field, std::string_view value,
                                          std::size_t max = text_bytes_max);
std::expected<void, rejection> check_attributes(const call_attributes& a);
std::expected<const segment*, rejection> find_segment(const call_state& s, std::string_view id);
// The segment must be connected: ringing and ended segments carry no conversation.
std::expected<const segment*, rejection> find_connected(const call_state& s, std::string_view id);
std::expected<const participant*, rejection> find_present(const segment& seg,
                                                          std::string_view participant_id);
std::size_t present_count(const segment& seg);
const participant* customer_of(const segment& seg);
participant_role role_of(const decide_context& ctx, std::string_view agent_id);
// With a directory, agents must exist in it; without one (pure tests) any id is accepted.
std::expected<void, rejection> check_known_agent(const decide_context& ctx, std::string_view id);
// A new segment id must be well-formed, fresh, and within the per-call bound.
std::expected<void, rejection> check_new_segment(const call_state& s, std::string_view field,
                                                 std::string_view id);
bool recording_allowed(const decide_context& ctx, call_type type, std::string_view jurisdiction);
// Ends what hangs off a segment that is about to end: its live consults (except `keep`) are
// cancelled and its supervisors leave, each as its own event.
void close_children(const call_state& s, std::string_view seg_id, std::string_view keep,
                    emitter& emit);

// Commands of the second half (consult, transfer, supervision, post-call), in call_flows.cc.
decision decide_flows(const call_state& s, const command_body& c, const decide_context& ctx);
// Wrap-up, transcripts, conversation events, recording and attributes, in call_post.cc.
decision decide_post(const call_state& s, const command_body& c, const decide_context& ctx);

}  // namespace backline::domain::rules
