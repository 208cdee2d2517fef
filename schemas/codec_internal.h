#pragma once
// Private helpers shared by the codec's .cc files. Not part of the module's contract.

#include <expected>
#include <string>
#include <utility>

#include "actors/domain/call.h"
#include "actors/domain/directory.h"
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

offset<fb::CallAttributes> to_fb(builder& b, const domain::call_attributes& a);
domain::call_attributes from_fb(const fb::CallAttributes* a);

// Union bodies: the tag and the table. Tags equal the variant index + 1 (checked at compile time).
std::pair<fb::EventBody, offset<void>> encode_event_body(builder& b, const domain::event_body& e);
std::expected<domain::event_body, errc> decode_event_body(fb::EventBody type, const void* table);

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

}  // namespace backline::schemas::detail
