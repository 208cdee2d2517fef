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

// The overload sets above, for detail::event_union.
struct fns {
  template <class E>
  static auto encode(builder& b, const E& e) {
    return to_fb(b, e);
  }
  template <class T>
  static auto decode(const T& t, reader& r) {
    return from_fb(t, r);
  }
};
using codec = event_union<domain::agent_event_body, agent_tables, agent_event_tag_base, fns>;

}  // namespace

std::pair<fb::EventBody, offset<void>> encode_agent_event_body(builder& b,
                                                               const domain::agent_event_body& e) {
  return codec::encode(b, e);
}

std::expected<domain::agent_event_body, errc> decode_agent_event_body(fb::EventBody type,
                                                                      const void* table) {
  return codec::decode(type, table);
}

}  // namespace backline::schemas::detail
