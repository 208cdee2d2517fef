#pragma once
// Private helpers shared by the codec's .cc files. Not part of the module's contract.

#include <array>
#include <cstddef>
#include <expected>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "actors/domain/agent.h"
#include "actors/domain/call.h"
#include "actors/domain/directory.h"
#include "actors/domain/queue.h"
#include "schemas/codec.h"
#include "schemas/command_generated.h"
#include "schemas/envelope_generated.h"

namespace backline::schemas::detail {

using builder = flatbuffers::FlatBufferBuilder;
template <class T>
using offset = flatbuffers::Offset<T>;

// One builder per thread, reused so that encoding allocates only the returned string once the
// builder has grown to the largest buffer seen. REQUIRES: not re-entered while in use.
builder& thread_builder();

// `bytes` itself when 8-aligned, else a copy in a per-thread scratch buffer (valid until the
// next call on this thread): the verifier checks alignment against absolute addresses, and bytes
// from RocksDB or Kafka may start anywhere.
const std::uint8_t* aligned(std::string_view bytes);
flatbuffers::Verifier::Options verifier_options();

// Empty strings are left out of the buffer (a null offset; force_defaults skips it) and read
// back as "": smaller buffers, same value.
inline offset<flatbuffers::String> str(builder& b, const std::string& s) {
  return s.empty() ? offset<flatbuffers::String>() : b.CreateString(s);
}
inline std::string str(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : std::string(s->data(), s->size());
}

// Decoding collects the first problem instead of throwing; the caller turns it into an errc.
struct reader {
  bool invalid_value = false;
};

// Enum mapping: the domain's values equal the schema's (asserted here), so a cast suffices one
// way, and a range check the other way (a newer writer, or bit rot that passed the verifier).
template <class Fb, class Domain>
constexpr Domain checked_enum(Fb v, reader& r) {
  if (static_cast<unsigned>(v) > static_cast<unsigned>(Fb::MAX)) {
    r.invalid_value = true;
    return Domain{};
  }
  return static_cast<Domain>(v);
}

#define BACKLINE_ENUM_MAP(FB, DOMAIN)      \
  inline FB to_fb(DOMAIN v) {              \
    return static_cast<FB>(v);             \
  }                                        \
  inline DOMAIN from_fb(FB v, reader& r) { \
    return checked_enum<FB, DOMAIN>(v, r); \
  }
BACKLINE_ENUM_MAP(fb::CallType, domain::call_type)
BACKLINE_ENUM_MAP(fb::InitiationMethod, domain::initiation_method)
BACKLINE_ENUM_MAP(fb::ParticipantRole, domain::participant_role)
BACKLINE_ENUM_MAP(fb::SegmentKind, domain::segment_kind)
BACKLINE_ENUM_MAP(fb::SuperviseMode, domain::supervise_mode)
BACKLINE_ENUM_MAP(fb::AgentKind, domain::agent_kind)
BACKLINE_ENUM_MAP(fb::RoutingStrategy, domain::routing_strategy)
BACKLINE_ENUM_MAP(fb::Presence, domain::presence)
BACKLINE_ENUM_MAP(fb::OfferKind, domain::offer_kind)
#undef BACKLINE_ENUM_MAP

static_assert(int(fb::CallType::Internal) == int(domain::call_type::internal));
static_assert(int(fb::CallType::MAX) == int(domain::call_type::internal));
static_assert(int(fb::InitiationMethod::Internal) == int(domain::initiation_method::internal));
static_assert(int(fb::InitiationMethod::Callback) == int(domain::initiation_method::callback));
static_assert(int(fb::InitiationMethod::MAX) == int(domain::initiation_method::internal));
static_assert(int(fb::ParticipantRole::Specialist) == int(domain::participant_role::specialist));
static_assert(int(fb::ParticipantRole::MAX) == int(domain::participant_role::specialist));
static_assert(int(fb::SegmentKind::Supervision) == int(domain::segment_kind::supervision));
static_assert(int(fb::SegmentKind::MAX) == int(domain::segment_kind::supervision));
static_assert(int(fb::SuperviseMode::Barge) == int(domain::supervise_mode::barge));
static_assert(int(fb::SuperviseMode::MAX) == int(domain::supervise_mode::barge));
static_assert(int(fb::AgentKind::Specialist) == int(domain::agent_kind::specialist));
static_assert(int(fb::AgentKind::MAX) == int(domain::agent_kind::specialist));
static_assert(int(fb::RoutingStrategy::MostSkilled) == int(domain::routing_strategy::most_skilled));
static_assert(int(fb::RoutingStrategy::MAX) == int(domain::routing_strategy::most_skilled));
static_assert(int(fb::Presence::Offline) == int(domain::presence::offline));
static_assert(int(fb::Presence::Available) == int(domain::presence::available));
static_assert(int(fb::Presence::Busy) == int(domain::presence::busy));
static_assert(int(fb::Presence::Away) == int(domain::presence::away));
static_assert(int(fb::Presence::AfterCallWork) == int(domain::presence::after_call_work));
static_assert(int(fb::Presence::MAX) == int(domain::presence::after_call_work));
static_assert(int(fb::OfferKind::Direct) == int(domain::offer_kind::direct));
static_assert(int(fb::OfferKind::Callback) == int(domain::offer_kind::callback));
static_assert(int(fb::OfferKind::MAX) == int(domain::offer_kind::callback));

offset<fb::CallAttributes> to_fb(builder& b, const domain::call_attributes& a);
domain::call_attributes from_fb(const fb::CallAttributes* a);

// Skill lists (directory entries, queue items). An empty list is left out of the buffer.
offset<flatbuffers::Vector<offset<fb::Skill>>> skills(builder& b,
                                                      const std::vector<domain::skill>& v);
std::vector<domain::skill> skills(const flatbuffers::Vector<offset<fb::Skill>>* v);

// Union bodies: the tag and the table. Call event tags equal the variant index + 1 (checked at
// compile time).
std::pair<fb::EventBody, offset<void>> encode_event_body(builder& b, const domain::event_body& e);
std::expected<domain::event_body, errc> decode_event_body(fb::EventBody type, const void* table);

// Agent and queue events have their own ranges of union tags: the tag of alternative I of
// domain::agent_event_body is agent_event_tag_base + I, of domain::queue_event_body
// queue_event_tag_base + I (checked at compile time by event_union below).
inline constexpr std::size_t agent_event_tag_base = 100;
inline constexpr std::size_t queue_event_tag_base = 200;
static_assert(agent_event_tag_base + std::variant_size_v<domain::agent_event_body> <=
              queue_event_tag_base);
static_assert(queue_event_tag_base + std::variant_size_v<domain::queue_event_body> <= 256,
              "EventBody's type field is a ubyte");

std::pair<fb::EventBody, offset<void>> encode_agent_event_body(builder& b,
                                                               const domain::agent_event_body& e);
std::expected<domain::agent_event_body, errc> decode_agent_event_body(fb::EventBody type,
                                                                      const void* table);
std::pair<fb::EventBody, offset<void>> encode_queue_event_body(builder& b,
                                                               const domain::queue_event_body& e);
std::expected<domain::queue_event_body, errc> decode_queue_event_body(fb::EventBody type,
                                                                      const void* table);

std::pair<fb::CommandBody, offset<void>> encode_command_body(builder& b,
                                                             const domain::command_body& c);
std::expected<domain::command_body, errc> decode_command_body(fb::CommandBody type,
                                                              const void* table);

offset<fb::Directory> to_fb(builder& b, const domain::directory& d);
domain::directory from_fb(const fb::Directory* d, reader& r);

// The index of T among a variant's alternatives.
template <class V, class T, std::size_t I = 0>
consteval std::size_t variant_index() {
  static_assert(I < std::variant_size_v<V>, "type is not an alternative of the variant");
  if constexpr (std::is_same_v<std::variant_alternative_t<I, V>, T>) {
    return I;
  } else {
    return variant_index<V, T, I + 1>();
  }
}

template <class T>
struct offset_target;
template <class T>
struct offset_target<flatbuffers::Offset<T>> {
  using type = T;
};

// One range of the EventBody union <-> one domain event variant: the tag of alternative I is
// `base + I` and `Tables` lists the tables in the variant's order (both checked at compile time).
// `Fns` forwards to the codec file's overload sets: static encode(builder&, const Alt&) ->
// Offset<Table> and decode(const Table&, reader&) -> Alt.
template <class Variant, class Tables, std::size_t base, class Fns>
struct event_union {
  static_assert(std::tuple_size_v<Tables> == std::variant_size_v<Variant>);

  static std::pair<fb::EventBody, offset<void>> encode(builder& b, const Variant& e) {
    return std::visit(
        [&b](const auto& v) {
          using table_t = typename offset_target<decltype(Fns::encode(b, v))>::type;
          using event_t = std::decay_t<decltype(v)>;
          constexpr auto tag = fb::EventBodyTraits<table_t>::enum_value;
          static_assert(static_cast<std::size_t>(tag) == base + variant_index<Variant, event_t>(),
                        "EventBody tag must equal the range's base + the variant index");
          return std::pair(tag, Fns::encode(b, v).Union());
        },
        e);
  }

  static std::expected<Variant, errc> decode(fb::EventBody type, const void* table) {
    const auto tag = static_cast<std::size_t>(type);
    if (tag < base || tag - base >= decoders.size()) return std::unexpected(errc::unknown_body);
    if (table == nullptr) return std::unexpected(errc::verification_failed);
    reader r;
    Variant e = decoders[tag - base](table, r);
    if (r.invalid_value) return std::unexpected(errc::invalid_value);
    return e;
  }

 private:
  template <std::size_t I>
  static Variant decode_one(const void* table, reader& r) {
    using table_t = std::tuple_element_t<I, Tables>;
    static_assert(static_cast<std::size_t>(fb::EventBodyTraits<table_t>::enum_value) == base + I,
                  "EventBody tag must equal the range's base + the variant index");
    auto e = Fns::decode(*static_cast<const table_t*>(table), r);
    static_assert(std::is_same_v<decltype(e), std::variant_alternative_t<I, Variant>>);
    return e;
  }
  template <std::size_t... I>
  static constexpr auto make_decoders(std::index_sequence<I...>) {
    using fn = Variant (*)(const void*, reader&);
    return std::array<fn, sizeof...(I)>{&decode_one<I>...};
  }
  static constexpr auto decoders =
      make_decoders(std::make_index_sequence<std::tuple_size_v<Tables>>());
};

}  // namespace backline::schemas::detail
