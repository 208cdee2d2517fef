#include "schemas/codec.h"

#include <cassert>
#include <cstring>
#include <vector>

#include "schemas/codec_internal.h"

namespace backline::schemas {
namespace {

class codec_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "backline.schemas"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::ok:
        return "ok";
      case errc::verification_failed:
        return "not a well-formed Backline buffer (verifier refused it)";
      case errc::unknown_body:
        return "unknown body type (written by a newer build?)";
      case errc::invalid_value:
        return "an enum value out of range";
    }
    return "unknown schemas error";
  }
};

std::uint64_t load_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}
void store_be64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}

template <class Body>
std::string finish_envelope(const envelope_meta& m, Body&& encode_body) {
  detail::builder& b = detail::thread_builder();
  auto [type, table] = encode_body(b);
  auto stream_kind = detail::str(b, m.stream_kind);
  auto stream_id = detail::str(b, m.stream_id);
  auto correlation_id = detail::str(b, m.correlation_id);
  auto causation_id = detail::str(b, m.causation_id);
  auto tenant = detail::str(b, m.tenant);
  auto principal = detail::str(b, m.principal);
  const fb::Uuid event_id(load_be64(m.event_id.data()), load_be64(m.event_id.data() + 8));
  auto root = fb::CreateEnvelope(b, &event_id, stream_kind, stream_id, m.stream_version,
                                 m.log_position, m.occurred_at_us, correlation_id, causation_id,
                                 tenant, principal, type, table);
  fb::FinishEnvelopeBuffer(b, root);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

// The root table of `bytes` once verified, or null. May point into the per-thread scratch copy.
const fb::Envelope* verified_envelope(std::string_view bytes) {
  if (bytes.size() < sizeof(flatbuffers::uoffset_t) + flatbuffers::kFileIdentifierLength ||
      bytes.size() > envelope_bytes_max) {
    return nullptr;
  }
  const std::uint8_t* data = detail::aligned(bytes);
  if (!fb::EnvelopeBufferHasIdentifier(data)) return nullptr;
  flatbuffers::Verifier v(data, bytes.size(), detail::verifier_options());
  return fb::VerifyEnvelopeBuffer(v) ? fb::GetEnvelope(data) : nullptr;
}

envelope_meta read_meta(const fb::Envelope& e) {
  envelope_meta m;
  if (const fb::Uuid* id = e.event_id()) {
    m.event_id = uuid_from_halves(id->hi(), id->lo());
  }
  m.stream_kind = detail::str(e.stream_kind());
  m.stream_id = detail::str(e.stream_id());
  m.stream_version = e.stream_version();
  m.log_position = e.log_position();
  m.occurred_at_us = e.occurred_at_us();
  m.correlation_id = detail::str(e.correlation_id());
  m.causation_id = detail::str(e.causation_id());
  m.tenant = detail::str(e.tenant());
  m.principal = detail::str(e.principal());
  return m;
}

template <class T>
std::expected<body, errc> as_body(std::expected<T, errc> v) {
  if (!v) return std::unexpected(v.error());
  return body(std::move(*v));
}

std::expected<body, errc> read_body(const fb::Envelope& e) {
  const auto tag = static_cast<std::size_t>(e.body_type());
  if (tag >= detail::queue_event_tag_base) {
    return as_body(detail::decode_queue_event_body(e.body_type(), e.body()));
  }
  if (tag >= detail::agent_event_tag_base) {
    return as_body(detail::decode_agent_event_body(e.body_type(), e.body()));
  }
  if (e.body_type() == fb::EventBody::DirectoryReplaced) {
    const fb::DirectoryReplaced* t = e.body_as_DirectoryReplaced();
    if (t == nullptr) return std::unexpected(errc::verification_failed);
    detail::reader r;
    domain::directory d = detail::from_fb(t->directory(), r);
    if (r.invalid_value) return std::unexpected(errc::invalid_value);
    d.reindex();
    return body(std::move(d));
  }
  return as_body(detail::decode_event_body(e.body_type(), e.body()));
}

}  // namespace

const std::error_category& codec_category() {
  static const codec_category_impl category;
  return category;
}

namespace detail {
// The verifier checks alignment against absolute addresses, and bytes from RocksDB or Kafka may
// start anywhere: a misaligned input is copied to an aligned per-thread scratch buffer first.
const std::uint8_t* aligned(std::string_view bytes) {
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(std::uint64_t) == 0) {
    return reinterpret_cast<const std::uint8_t*>(bytes.data());
  }
  thread_local std::vector<std::uint64_t> scratch;
  scratch.resize(bytes.size() / sizeof(std::uint64_t) + 1);
  std::memcpy(scratch.data(), bytes.data(), bytes.size());
  return reinterpret_cast<const std::uint8_t*>(scratch.data());
}

flatbuffers::Verifier::Options verifier_options() {
  flatbuffers::Verifier::Options o;
  o.max_depth = 16;         // Envelope > DirectoryReplaced > Directory > Agent > Grants > [string]
  o.max_tables = 1u << 20;  // a large directory, not a decompression bomb
  o.check_alignment = true;
  return o;
}

builder& thread_builder() {
  thread_local builder b(4096);
  b.Clear();
  b.ForceDefaults(true);
  return b;
}
}  // namespace detail

uuid make_uuid_v7(std::int64_t unix_ms, std::uint64_t random_hi, std::uint64_t random_lo) {
  // RFC 9562 §5.7: unix_ts_ms (48) | ver (4) | rand_a (12) | var (2) | rand_b (62).
  const auto ms = static_cast<std::uint64_t>(unix_ms) & 0xFFFF'FFFF'FFFFull;
  const std::uint64_t hi = (ms << 16) | 0x7000u | (random_hi & 0x0FFFu);
  const std::uint64_t lo = (random_lo & 0x3FFF'FFFF'FFFF'FFFFull) | 0x8000'0000'0000'0000ull;
  uuid u{};
  store_be64(u.data(), hi);
  store_be64(u.data() + 8, lo);
  return u;
}

void format_uuid(const uuid& u, char (&out)[36]) {
  // Two characters per byte from a table, at fixed offsets: no branch, no shift by a variable
  // (the Kafka relay formats one per record).
  static constexpr auto pairs = [] {
    constexpr char hex[] = "0123456789abcdef";
    std::array<char, 512> t{};
    for (std::size_t b = 0; b < 256; ++b) {
      t[2 * b] = hex[b >> 4];
      t[2 * b + 1] = hex[b & 0x0F];
    }
    return t;
  }();
  static constexpr std::uint8_t at[16] = {0,  2,  4,  6,  9,  11, 14, 16,
                                          19, 21, 24, 26, 28, 30, 32, 34};
  for (std::size_t i = 0; i < u.size(); ++i) std::memcpy(out + at[i], &pairs[2 * u[i]], 2);
  out[8] = out[13] = out[18] = out[23] = '-';
}

std::string to_string(const uuid& u) {
  char text[36];
  format_uuid(u, text);
  return std::string(text, sizeof text);
}

uuid uuid_from_halves(std::uint64_t hi, std::uint64_t lo) {
  uuid u;
  store_be64(u.data(), hi);
  store_be64(u.data() + 8, lo);
  return u;
}

std::string encode(const envelope_meta& meta, const domain::event_body& e) {
  return finish_envelope(meta, [&](detail::builder& b) { return detail::encode_event_body(b, e); });
}

std::string encode(const envelope_meta& meta, const domain::directory& d) {
  return finish_envelope(meta, [&](detail::builder& b) {
    auto dir = detail::to_fb(b, d);
    auto table = fb::CreateDirectoryReplaced(b, dir);
    return std::pair(fb::EventBody::DirectoryReplaced, table.Union());
  });
}

std::string encode(const envelope_meta& meta, const domain::agent_event_body& e) {
  return finish_envelope(meta,
                         [&](detail::builder& b) { return detail::encode_agent_event_body(b, e); });
}

std::string encode(const envelope_meta& meta, const domain::queue_event_body& e) {
  return finish_envelope(meta,
                         [&](detail::builder& b) { return detail::encode_queue_event_body(b, e); });
}

bool verify_envelope(std::string_view bytes) {
  return verified_envelope(bytes) != nullptr;
}

void stamp_position(std::string& bytes, std::uint64_t position) {
  assert(verify_envelope(bytes));
  [[maybe_unused]] const bool stamped =
      fb::GetMutableEnvelope(bytes.data())->mutate_log_position(position);
  assert(stamped && "log_position absent: the bytes were not produced by encode()");
}

std::expected<decoded, std::error_code> decode(std::string_view bytes) {
  const fb::Envelope* e = verified_envelope(bytes);
  if (e == nullptr) return std::unexpected(errc::verification_failed);
  auto payload = read_body(*e);
  if (!payload) return std::unexpected(payload.error());
  return decoded{read_meta(*e), std::move(*payload)};
}

std::expected<decoded, std::error_code> decode_verified(std::string_view bytes) {
  assert(verify_envelope(bytes));
  const fb::Envelope* e = fb::GetEnvelope(detail::aligned(bytes));
  auto payload = read_body(*e);
  if (!payload) return std::unexpected(payload.error());
  return decoded{read_meta(*e), std::move(*payload)};
}

}  // namespace backline::schemas
