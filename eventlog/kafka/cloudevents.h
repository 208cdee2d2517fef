#pragma once
// How an event of the log becomes a Kafka record: the topic of its stream kind, its key, and its
// CloudEvents attributes (binary mode: `ce_*` headers; structured mode: one JSON object). Pure
// functions, no librdkafka: the publisher, the tests and the documentation share them.
//
// The contract (DESIGN.md, "Kafka contract"; docs/kafka.md; api/asyncapi.yaml):
// - topic: one per stream kind, `topic_names` (configurable); the JSON mirror is `<topic>.json`.
// - key: the stream id (the part after "<kind>/"), so a stream's events share a partition.
// - value: the FlatBuffers envelope bytes as the log holds them (log_position stamped).
// - headers: ce_specversion "1.0", ce_id (event id, UUIDv7 text), ce_source
//   ("<source_prefix><tenant>"), ce_type ("<type prefix of the kind>.<event type>", e.g.
//   "backline.voicecall.v1.participant_joined", "backline.queue.v1.offer_declined"), ce_time
//   (occurred-at, RFC 3339 UTC with µs), ce_subject (the stream, "call/<id>"), content-type
//   "application/x-flatbuffers", ce_dataschema.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace backline::schemas {
struct decoded;
}

namespace backline::kafka {

// Topic names per stream kind. A kind this build does not know goes to "backline.<kind>.v1".
struct topic_names {
  std::string call = "backline.voicecall.v1";
  std::string agent = "backline.agent.v1";
  std::string queue = "backline.queue.v1";
  std::string directory = "backline.directory.v1";

  std::string for_kind(std::string_view kind) const;
  std::vector<std::string> all() const;  // the four above, in that order
};

inline constexpr std::string_view json_topic_suffix = ".json";
inline constexpr std::string_view content_type_flatbuffers = "application/x-flatbuffers";
inline constexpr std::string_view content_type_cloudevents_json =
    "application/cloudevents+json; charset=UTF-8";
inline constexpr std::string_view default_source_prefix = "/backline/";
inline constexpr std::string_view default_dataschema = "urn:backline:schema:envelope.fbs:v1";

// The ce_type prefix of a stream kind. Fixed, independent of the topic names: renaming a topic
// for a deployment does not change what consumers match on.
// "call" -> "backline.voicecall.v1", "agent" -> "backline.agent.v1", ... , other ->
// "backline.<kind>.v1".
std::string type_prefix(std::string_view kind);

// The CloudEvents attributes of one event, as strings.
struct attributes {
  std::string id, source, type, time, subject;
};

struct attribute_options {
  std::string source_prefix = std::string(default_source_prefix);
  std::string dataschema = std::string(default_dataschema);
};

// REQUIRES: `event_type` is schemas::type_name of the event's body.
attributes make_attributes(const attribute_options& o, std::string_view event_id,
                           std::string_view kind, std::string_view stream_id,
                           std::string_view tenant, std::int64_t occurred_at_us,
                           std::string_view event_type);

// The binary-mode headers, in the order they are sent: name, value.
std::vector<std::pair<std::string, std::string>> binary_headers(const attribute_options& o,
                                                                const attributes& a);

// The structured-mode record value (application/cloudevents+json): the attributes plus
// "datacontenttype":"application/json" and "data": schemas::to_json of the event.
std::string structured_json(const attribute_options& o, const attributes& a,
                            const schemas::decoded& d);

// The same bytes appended to `out`, from attributes the caller holds elsewhere (the publisher
// formats them once per event into its own buffers, for the headers and the JSON mirror).
struct attribute_views {
  std::string_view id, source, type, time, subject;
};
void append_structured_json(std::string& out, const attribute_options& o, const attribute_views& a,
                            const schemas::decoded& d);

}  // namespace backline::kafka
