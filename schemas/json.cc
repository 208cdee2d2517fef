// The JSON rendering of decoded envelopes (demo, `backline events tail`, the Kafka JSON mirror).
// Field names are the C++ (snake_case) names, enums are their snake_case names. Our own maps:
// the domain's to_string functions live in its .cc files, which this library does not link.

#include <array>
#include <chrono>
#include <cstdio>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "schemas/codec.h"

namespace backline::domain {

NLOHMANN_JSON_SERIALIZE_ENUM(call_type, {{call_type::inbound, "inbound"},
                                         {call_type::outbound, "outbound"},
                                         {call_type::internal, "internal"}})
NLOHMANN_JSON_SERIALIZE_ENUM(initiation_method, {{initiation_method::inbound, "inbound"},
                                                 {initiation_method::outbound, "outbound"},
                                                 {initiation_method::transfer, "transfer"},
                                                 {initiation_method::callback, "callback"},
                                                 {initiation_method::internal, "internal"}})
NLOHMANN_JSON_SERIALIZE_ENUM(participant_role, {{participant_role::customer, "customer"},
                                                {participant_role::agent, "agent"},
                                                {participant_role::supervisor, "supervisor"},
                                                {participant_role::specialist, "specialist"}})
NLOHMANN_JSON_SERIALIZE_ENUM(segment_kind, {{segment_kind::customer, "customer"},
                                            {segment_kind::direct, "direct"},
                                            {segment_kind::consult, "consult"},
                                            {segment_kind::supervision, "supervision"}})
NLOHMANN_JSON_SERIALIZE_ENUM(supervise_mode, {{supervise_mode::monitor, "monitor"},
                                              {supervise_mode::whisper, "whisper"},
                                              {supervise_mode::barge, "barge"}})
NLOHMANN_JSON_SERIALIZE_ENUM(agent_kind, {{agent_kind::agent, "agent"},
                                          {agent_kind::supervisor, "supervisor"},
                                          {agent_kind::specialist, "specialist"}})
NLOHMANN_JSON_SERIALIZE_ENUM(routing_strategy, {{routing_strategy::longest_idle, "longest_idle"},
                                                {routing_strategy::most_skilled, "most_skilled"}})
NLOHMANN_JSON_SERIALIZE_ENUM(presence, {{presence::offline, "offline"},
                                        {presence::available, "available"},
                                        {presence::busy, "busy"},
                                        {presence::away, "away"},
                                        {presence::after_call_work, "after_call_work"}})
NLOHMANN_JSON_SERIALIZE_ENUM(offer_kind, {{offer_kind::queue, "queue"},
                                          {offer_kind::direct, "direct"},
                                          {offer_kind::callback, "callback"}})

// Custom fields as one object, in key order.
inline void to_json(nlohmann::json& j, const call_attributes& a) {
  nlohmann::json custom = nlohmann::json::object();
  for (const auto& [k, v] : a.custom) custom[k] = v;
  j = {{"case_id", a.case_id}, {"contact_id", a.contact_id},       {"account_id", a.account_id},
       {"subject", a.subject}, {"case_category", a.case_category}, {"custom", std::move(custom)}};
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(skill, name, level)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(supervision_grants, monitor, whisper, barge)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(agent_entry, id, name, extension, team, kind, skills, grants,
                                   capacity)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(queue_entry, name, extension, required_skills, strategy,
                                   sla_target_s, overflow_after_s, overflow_queue)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(flow_rule, field, value, queue, agent, required_skills)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(phone_channel, number, flow, fallback_queue, rules)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(recording_policy, record_inbound, record_outbound,
                                   record_internal, forbidden_jurisdictions)

inline void to_json(nlohmann::json& j, const directory& d) {
  j = {{"call_center", d.call_center},
       {"agents", d.agents},
       {"queues", d.queues},
       {"channels", d.channels},
       {"recording", d.recording}};
}

namespace evt {
// to_json only: events are never parsed back from JSON (the FlatBuffers envelope is the record).
#define BACKLINE_EVENT_JSON(TYPE, ...)                                                \
  inline void to_json(nlohmann::json& nlohmann_json_j, const TYPE& nlohmann_json_t) { \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, __VA_ARGS__))          \
  }
BACKLINE_EVENT_JSON(call_created, voice_call_id, kind, type, method, vendor_call_key, from, to,
                    queue, parent_id, previous_id, initiator_agent, recording_allowed, attributes)
BACKLINE_EVENT_JSON(call_ringing, voice_call_id, agent_id)
BACKLINE_EVENT_JSON(call_answered, voice_call_id, agent_id)
BACKLINE_EVENT_JSON(participant_joined, voice_call_id, participant_id, role, number)
BACKLINE_EVENT_JSON(participant_left, voice_call_id, participant_id)
BACKLINE_EVENT_JSON(participant_held, voice_call_id, participant_id)
BACKLINE_EVENT_JSON(participant_resumed, voice_call_id, participant_id)
BACKLINE_EVENT_JSON(participant_muted, voice_call_id, participant_id)
BACKLINE_EVENT_JSON(participant_unmuted, voice_call_id, participant_id)
BACKLINE_EVENT_JSON(consult_started, voice_call_id, consult_call_id, initiator_agent, target_agent,
                    customer_held, recording_allowed)
BACKLINE_EVENT_JSON(consult_completed, consult_call_id)
BACKLINE_EVENT_JSON(consult_cancelled, consult_call_id)
BACKLINE_EVENT_JSON(warm_transfer_completed, voice_call_id, consult_call_id, new_segment_id,
                    target_agent)
BACKLINE_EVENT_JSON(blind_transferred, voice_call_id, new_segment_id, target_agent, target_queue,
                    fallback_queue)
BACKLINE_EVENT_JSON(conference_merged, voice_call_id, consult_call_id, target_agent)
BACKLINE_EVENT_JSON(supervisor_joined, voice_call_id, session_id, supervisor_id, mode,
                    coached_agent)
BACKLINE_EVENT_JSON(supervisor_mode_changed, session_id, mode, coached_agent)
BACKLINE_EVENT_JSON(supervisor_left, session_id)
BACKLINE_EVENT_JSON(call_ended, voice_call_id, reason)
BACKLINE_EVENT_JSON(wrap_up_recorded, voice_call_id, agent_id, disposition_code, notes)
BACKLINE_EVENT_JSON(transcript_message_added, voice_call_id, message_id, speaker, sender_type,
                    start_ms, end_ms, text)
BACKLINE_EVENT_JSON(conversation_event_recorded, voice_call_id, event_id, post_call, type, payload)
BACKLINE_EVENT_JSON(recording_started, voice_call_id, location)
BACKLINE_EVENT_JSON(recording_paused, voice_call_id)
BACKLINE_EVENT_JSON(recording_resumed, voice_call_id)
BACKLINE_EVENT_JSON(recording_stopped, voice_call_id)
BACKLINE_EVENT_JSON(attributes_updated, voice_call_id, attributes)
BACKLINE_EVENT_JSON(queue_assigned, voice_call_id, queue)
}  // namespace evt

namespace agent_evt {
BACKLINE_EVENT_JSON(presence_changed, to, reason)
BACKLINE_EVENT_JSON(offer_reserved, offer_id, voice_call_id, kind, queue, callback_id,
                    ring_timeout_ms)
BACKLINE_EVENT_JSON(offer_accepted, offer_id)
BACKLINE_EVENT_JSON(offer_declined, offer_id)
BACKLINE_EVENT_JSON(offer_timed_out, offer_id)
BACKLINE_EVENT_JSON(offer_withdrawn, offer_id, reason)
BACKLINE_EVENT_JSON(work_released, voice_call_id)
BACKLINE_EVENT_JSON(callback_requested, callback_id, caller_agent, voice_call_id, requested_at_us)
BACKLINE_EVENT_JSON(callback_offered, callback_id, offer_id)
BACKLINE_EVENT_JSON(callback_completed, callback_id)
BACKLINE_EVENT_JSON(callback_cancelled, callback_id)
}  // namespace agent_evt

namespace queue_evt {
BACKLINE_EVENT_JSON(enqueued, item_id, voice_call_id, priority, required_skills, enqueued_at_us)
BACKLINE_EVENT_JSON(dequeued, item_id, agent_id, wait_us)
BACKLINE_EVENT_JSON(abandoned, item_id, wait_us)
BACKLINE_EVENT_JSON(routing_cleared, item_id)
BACKLINE_EVENT_JSON(overflowed, item_id, to_queue, wait_us)
BACKLINE_EVENT_JSON(customer_callback_requested, item_id, number)
BACKLINE_EVENT_JSON(offer_made, item_id, agent_id, offer_id)
BACKLINE_EVENT_JSON(offer_declined, item_id, offer_id)
BACKLINE_EVENT_JSON(offer_timed_out, item_id, offer_id)
}  // namespace queue_evt
#undef BACKLINE_EVENT_JSON
}  // namespace backline::domain

namespace backline::schemas {
namespace {

// In domain::event_body's order.
constexpr std::array<std::string_view, 28> event_type_names = {"call_created",
                                                               "call_ringing",
                                                               "call_answered",
                                                               "participant_joined",
                                                               "participant_left",
                                                               "participant_held",
                                                               "participant_resumed",
                                                               "participant_muted",
                                                               "participant_unmuted",
                                                               "consult_started",
                                                               "consult_completed",
                                                               "consult_cancelled",
                                                               "warm_transfer_completed",
                                                               "blind_transferred",
                                                               "conference_merged",
                                                               "supervisor_joined",
                                                               "supervisor_mode_changed",
                                                               "supervisor_left",
                                                               "call_ended",
                                                               "wrap_up_recorded",
                                                               "transcript_message_added",
                                                               "conversation_event_recorded",
                                                               "recording_started",
                                                               "recording_paused",
                                                               "recording_resumed",
                                                               "recording_stopped",
                                                               "attributes_updated",
                                                               "queue_assigned"};
static_assert(event_type_names.size() == std::variant_size_v<domain::event_body>);

// In domain::agent_event_body's and domain::queue_event_body's order; the names of the domain's
// event_type_name (agent.cc, queue.cc), which this library does not link.
constexpr std::array<std::string_view, 11> agent_event_type_names = {
    "presence_changed", "offer_reserved",     "offer_accepted",    "offer_declined",
    "offer_timed_out",  "offer_withdrawn",    "work_released",     "callback_requested",
    "callback_offered", "callback_completed", "callback_cancelled"};
static_assert(agent_event_type_names.size() == std::variant_size_v<domain::agent_event_body>);
constexpr std::array<std::string_view, 9> queue_event_type_names = {
    "enqueued",        "dequeued",       "abandoned",
    "routing_cleared", "overflowed",     "customer_callback_requested",
    "offer_made",      "offer_declined", "offer_timed_out"};
static_assert(queue_event_type_names.size() == std::variant_size_v<domain::queue_event_body>);

nlohmann::json data_of(const body& b) {
  return std::visit(
      [](const auto& v) -> nlohmann::json {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, domain::directory>) {
          return {{"directory", v}};
        } else {
          return std::visit([](const auto& e) { return nlohmann::json(e); }, v);
        }
      },
      b);
}

}  // namespace

std::string_view type_name(const body& b) {
  return std::visit(
      [](const auto& v) -> std::string_view {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, domain::directory>) {
          return "directory_replaced";
        } else if constexpr (std::is_same_v<T, domain::event_body>) {
          return event_type_names[v.index()];
        } else if constexpr (std::is_same_v<T, domain::agent_event_body>) {
          return agent_event_type_names[v.index()];
        } else {
          static_assert(std::is_same_v<T, domain::queue_event_body>);
          return queue_event_type_names[v.index()];
        }
      },
      b);
}

std::string format_rfc3339_us(std::int64_t unix_us) {
  using namespace std::chrono;
  const sys_time<microseconds> t{microseconds{unix_us}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ", int{ymd.year()},
                unsigned{ymd.month()}, unsigned{ymd.day()}, static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<long long>(hms.subseconds().count()));
  return buf;
}

std::string to_json(const decoded& d) {
  const envelope_meta& m = d.meta;
  nlohmann::json j = {{"position", m.log_position},
                      {"stream", m.stream_kind + "/" + m.stream_id},
                      {"version", m.stream_version},
                      {"type", type_name(d.payload)},
                      {"occurred_at", format_rfc3339_us(m.occurred_at_us)},
                      {"event_id", to_string(m.event_id)},
                      {"correlation_id", m.correlation_id},
                      {"causation_id", m.causation_id},
                      {"tenant", m.tenant},
                      {"principal", m.principal},
                      {"data", data_of(d.payload)}};
  // Strings come from outside: replace invalid UTF-8 instead of throwing.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace backline::schemas
