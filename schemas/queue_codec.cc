// The queue events of domain::queue_evt <-> the tables of queue.fbs, and their range of the
// EventBody union (queue_event_tag_base + the alternative's index).

#include <array>
#include <tuple>

#include "schemas/codec_internal.h"

namespace backline::schemas::detail {
namespace {

namespace evt = domain::queue_evt;

// ---- domain -> FlatBuffers -----------------------------------------------------------------

offset<fb::Enqueued> to_fb(builder& b, const evt::enqueued& e) {
  auto required_skills = skills(b, e.required_skills);
  return fb::CreateEnqueued(b, str(b, e.item_id), str(b, e.voice_call_id), e.priority,
                            required_skills, e.enqueued_at_us);
}
offset<fb::Dequeued> to_fb(builder& b, const evt::dequeued& e) {
  return fb::CreateDequeued(b, str(b, e.item_id), str(b, e.agent_id), e.wait_us);
}
offset<fb::Abandoned> to_fb(builder& b, const evt::abandoned& e) {
  return fb::CreateAbandoned(b, str(b, e.item_id), e.wait_us);
}
offset<fb::RoutingCleared> to_fb(builder& b, const evt::routing_cleared& e) {
  return fb::CreateRoutingCleared(b, str(b, e.item_id));
}
offset<fb::Overflowed> to_fb(builder& b, const evt::overflowed& e) {
  return fb::CreateOverflowed(b, str(b, e.item_id), str(b, e.to_queue), e.wait_us);
}
offset<fb::CustomerCallbackRequested> to_fb(builder& b, const evt::customer_callback_requested& e) {
  return fb::CreateCustomerCallbackRequested(b, str(b, e.item_id), str(b, e.number));
}
offset<fb::QueueOfferMade> to_fb(builder& b, const evt::offer_made& e) {
  return fb::CreateQueueOfferMade(b, str(b, e.item_id), str(b, e.agent_id), str(b, e.offer_id));
}
offset<fb::QueueOfferDeclined> to_fb(builder& b, const evt::offer_declined& e) {
  return fb::CreateQueueOfferDeclined(b, str(b, e.item_id), str(b, e.offer_id));
}
offset<fb::QueueOfferTimedOut> to_fb(builder& b, const evt::offer_timed_out& e) {
  return fb::CreateQueueOfferTimedOut(b, str(b, e.item_id), str(b, e.offer_id));
}

// ---- FlatBuffers -> domain -----------------------------------------------------------------

evt::enqueued from_fb(const fb::Enqueued& t, reader&) {
  return {.item_id = str(t.item_id()),
          .voice_call_id = str(t.voice_call_id()),
          .priority = t.priority(),
          .required_skills = skills(t.required_skills()),
          .enqueued_at_us = t.enqueued_at_us()};
}
evt::dequeued from_fb(const fb::Dequeued& t, reader&) {
  return {.item_id = str(t.item_id()), .agent_id = str(t.agent_id()), .wait_us = t.wait_us()};
}
evt::abandoned from_fb(const fb::Abandoned& t, reader&) {
  return {.item_id = str(t.item_id()), .wait_us = t.wait_us()};
}
evt::routing_cleared from_fb(const fb::RoutingCleared& t, reader&) {
  return {str(t.item_id())};
}
evt::overflowed from_fb(const fb::Overflowed& t, reader&) {
  return {.item_id = str(t.item_id()), .to_queue = str(t.to_queue()), .wait_us = t.wait_us()};
}
evt::customer_callback_requested from_fb(const fb::CustomerCallbackRequested& t, reader&) {
  return {str(t.item_id()), str(t.number())};
}
evt::offer_made from_fb(const fb::QueueOfferMade& t, reader&) {
  return {str(t.item_id()), str(t.agent_id()), str(t.offer_id())};
}
evt::offer_declined from_fb(const fb::QueueOfferDeclined& t, reader&) {
  return {str(t.item_id()), str(t.offer_id())};
}
evt::offer_timed_out from_fb(const fb::QueueOfferTimedOut& t, reader&) {
  return {str(t.item_id()), str(t.offer_id())};
}

// ---- the union -----------------------------------------------------------------------------

// The tables in domain::queue_event_body's order; the union tag of alternative I is
// queue_event_tag_base + I.
using queue_tables = std::tuple<fb::Enqueued, fb::Dequeued, fb::Abandoned, fb::RoutingCleared,
                                fb::Overflowed, fb::CustomerCallbackRequested, fb::QueueOfferMade,
                                fb::QueueOfferDeclined, fb::QueueOfferTimedOut>;

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
using codec = event_union<domain::queue_event_body, queue_tables, queue_event_tag_base, fns>;

}  // namespace

std::pair<fb::EventBody, offset<void>> encode_queue_event_body(builder& b,
                                                               const domain::queue_event_body& e) {
  return codec::encode(b, e);
}

std::expected<domain::queue_event_body, errc> decode_queue_event_body(fb::EventBody type,
                                                                      const void* table) {
  return codec::decode(type, table);
}

}  // namespace backline::schemas::detail
