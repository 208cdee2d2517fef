// The agent events of domain::agent_evt <-> the tables of agent.fbs, and their range of the
// EventBody union (agent_event_tag_base + the alternative's index).

#include <array>
#include <tuple>

#include "schemas/codec_internal.h"

namespace backline::schemas::detail {
namespace {

namespace evt = domain::agent_evt;
using detail::from_fb;  // the enum overloads, hidden by the ones below otherwise
using detail::to_fb;

// ---- domain -> FlatBuffers -----------------------------------------------------------------

offset<fb::PresenceChanged> to_fb(builder& b, const evt::presence_changed& e) {
  return fb::CreatePresenceChanged(b, to_fb(e.to), str(b, e.reason));
}
offset<fb::OfferReserved> to_fb(builder& b, const evt::offer_reserved& e) {
  return fb::CreateOfferReserved(b, str(b, e.offer_id), str(b, e.voice_call_id), to_fb(e.kind),
                                 str(b, e.queue), str(b, e.callback_id), e.ring_timeout_ms);
}
offset<fb::OfferAccepted> to_fb(builder& b, const evt::offer_accepted& e) {
  return fb::CreateOfferAccepted(b, str(b, e.offer_id));
}
offset<fb::OfferDeclined> to_fb(builder& b, const evt::offer_declined& e) {
  return fb::CreateOfferDeclined(b, str(b, e.offer_id));
}
offset<fb::OfferTimedOut> to_fb(builder& b, const evt::offer_timed_out& e) {
  return fb::CreateOfferTimedOut(b, str(b, e.offer_id));
}
offset<fb::OfferWithdrawn> to_fb(builder& b, const evt::offer_withdrawn& e) {
  return fb::CreateOfferWithdrawn(b, str(b, e.offer_id), str(b, e.reason));
}
offset<fb::WorkReleased> to_fb(builder& b, const evt::work_released& e) {
  return fb::CreateWorkReleased(b, str(b, e.voice_call_id));
}
offset<fb::CallbackRequested> to_fb(builder& b, const evt::callback_requested& e) {
  return fb::CreateCallbackRequested(b, str(b, e.callback_id), str(b, e.caller_agent),
                                     str(b, e.voice_call_id), e.requested_at_us);
}
offset<fb::CallbackOffered> to_fb(builder& b, const evt::callback_offered& e) {
  return fb::CreateCallbackOffered(b, str(b, e.callback_id), str(b, e.offer_id));
}
offset<fb::CallbackCompleted> to_fb(builder& b, const evt::callback_completed& e) {
  return fb::CreateCallbackCompleted(b, str(b, e.callback_id));
}
offset<fb::CallbackCancelled> to_fb(builder& b, const evt::callback_cancelled& e) {
  return fb::CreateCallbackCancelled(b, str(b, e.callback_id));
}

// ---- FlatBuffers -> domain -----------------------------------------------------------------

evt::presence_changed from_fb(const fb::PresenceChanged& t, reader& r) {
  return {.to = from_fb(t.to(), r), .reason = str(t.reason())};
}
evt::offer_reserved from_fb(const fb::OfferReserved& t, reader& r) {
  return {.offer_id = str(t.offer_id()),
          .voice_call_id = str(t.voice_call_id()),
          .kind = from_fb(t.kind(), r),
          .queue = str(t.queue()),
          .callback_id = str(t.callback_id()),
          .ring_timeout_ms = t.ring_timeout_ms()};
}
evt::offer_accepted from_fb(const fb::OfferAccepted& t, reader&) {
  return {str(t.offer_id())};
}
evt::offer_declined from_fb(const fb::OfferDeclined& t, reader&) {
  return {str(t.offer_id())};
}
evt::offer_timed_out from_fb(const fb::OfferTimedOut& t, reader&) {
  return {str(t.offer_id())};
}
evt::offer_withdrawn from_fb(const fb::OfferWithdrawn& t, reader&) {
  return {str(t.offer_id()), str(t.reason())};
}
evt::work_released from_fb(const fb::WorkReleased& t, reader&) {
  return {str(t.voice_call_id())};
}
evt::callback_requested from_fb(const fb::CallbackRequested& t, reader&) {
  return {.callback_id = str(t.callback_id()),
          .caller_agent = str(t.caller_agent()),
          .voice_call_id = str(t.voice_call_id()),
          .requested_at_us = t.requested_at_us()};
}
evt::callback_offered from_fb(const fb::CallbackOffered& t, reader&) {
  return {str(t.callback_id()), str(t.offer_id())};
}
evt::callback_completed from_fb(const fb::CallbackCompleted& t, reader&) {
  return {str(t.callback_id())};
}
evt::callback_cancelled from_fb(const fb::CallbackCancelled& t, reader&) {
  return {str(t.callback_id())};
}

// ---- the union -----------------------------------------------------------------------------

// The tables in domain::agent_event_body's order; the union tag of alternative I is
// agent_event_tag_base + I.
using agent_tables =
    std::tuple<fb::PresenceChanged, fb::OfferReserved, fb::OfferAccepted, fb::OfferDeclined,
               fb::OfferTimedOut, fb::OfferWithdrawn, fb::WorkReleased, fb::CallbackRequested,
               fb::CallbackOffered, fb::CallbackCompleted, fb::CallbackCancelled>;
static_assert(std::tuple_size_v<agent_tables> == std::variant_size_v<domain::agent_event_body>);

template <std::size_t I>
domain::agent_event_body decode_one(const void* table, reader& r) {
  using table_t = std::tuple_element_t<I, agent_tables>;
  static_assert(static_cast<std::size_t>(fb::EventBodyTraits<table_t>::enum_value) ==
                    agent_event_tag_base + I,
                "EventBody tag must equal agent_event_tag_base + the agent_event_body index");
  auto e = from_fb(*static_cast<const table_t*>(table), r);
  static_assert(
      std::is_same_v<decltype(e), std::variant_alternative_t<I, domain::agent_event_body>>);
  return e;
}

template <std::size_t... I>
constexpr auto make_decoders(std::index_sequence<I...>) {
  using fn = domain::agent_event_body (*)(const void*, reader&);
  return std::array<fn, sizeof...(I)>{&decode_one<I>...};
}
constexpr auto decoders =
    make_decoders(std::make_index_sequence<std::tuple_size_v<agent_tables>>());

}  // namespace

std::pair<fb::EventBody, offset<void>> encode_agent_event_body(builder& b,
                                                               const domain::agent_event_body& e) {
  return std::visit(
      [&b](const auto& v) {
        using table_t = typename offset_target<decltype(to_fb(b, v))>::type;
        using event_t = std::decay_t<decltype(v)>;
        constexpr auto tag = fb::EventBodyTraits<table_t>::enum_value;
        static_assert(static_cast<std::size_t>(tag) ==
                      agent_event_tag_base + variant_index<domain::agent_event_body, event_t>());
        return std::pair(tag, to_fb(b, v).Union());
      },
      e);
}

std::expected<domain::agent_event_body, errc> decode_agent_event_body(fb::EventBody type,
                                                                      const void* table) {
  const auto tag = static_cast<std::size_t>(type);
  if (tag < agent_event_tag_base || tag - agent_event_tag_base >= decoders.size()) {
    return std::unexpected(errc::unknown_body);
  }
  if (table == nullptr) return std::unexpected(errc::verification_failed);
  reader r;
  domain::agent_event_body e = decoders[tag - agent_event_tag_base](table, r);
  if (r.invalid_value) return std::unexpected(errc::invalid_value);
  return e;
}

}  // namespace backline::schemas::detail
