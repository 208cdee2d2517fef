#include "eventlog/kafka/cloudevents.h"

#include <algorithm>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "schemas/codec.h"

namespace backline::kafka {

std::string topic_names::for_kind(std::string_view kind) const {
  if (kind == "call") return call;
  if (kind == "agent") return agent;
  if (kind == "queue") return queue;
  if (kind == "directory") return directory;
  return fmt::format("backline.{}.v1", kind);
}

std::vector<std::string> topic_names::all() const {
  return {call, agent, queue, directory};
}

std::string type_prefix(std::string_view kind) {
  if (kind == "call") return "backline.voicecall.v1";
  return fmt::format("backline.{}.v1", kind);
}

attributes make_attributes(const attribute_options& o, std::string_view event_id,
                           std::string_view kind, std::string_view stream_id,
                           std::string_view tenant, std::int64_t occurred_at_us,
                           std::string_view event_type) {
  attributes a;
  a.id = event_id;
  a.source = o.source_prefix;
  a.source += tenant;
  a.type = type_prefix(kind);
  a.type += '.';
  a.type += event_type;
  a.time = schemas::format_rfc3339_us(occurred_at_us);
  a.subject = kind;
  a.subject += '/';
  a.subject += stream_id;
  return a;
}

std::vector<std::pair<std::string, std::string>> binary_headers(const attribute_options& o,
                                                                const attributes& a) {
  return {{"ce_specversion", "1.0"},
          {"ce_id", a.id},
          {"ce_source", a.source},
          {"ce_type", a.type},
          {"ce_time", a.time},
          {"ce_subject", a.subject},
          {"content-type", std::string(content_type_flatbuffers)},
          {"ce_dataschema", o.dataschema}};
}

namespace {

// A JSON string literal, as nlohmann::json dumps it (UTF-8 kept, invalid bytes replaced). The
// attributes are nearly always plain printable ASCII, which needs no escaping: copied as is.
void append_quoted(std::string& out, std::string_view s) {
  const bool plain = std::all_of(
      s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (plain) {
    out.push_back('"');
    out.append(s);
    out.push_back('"');
    return;
  }
  out +=
      nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void append_structured_json(std::string& out, const attribute_options& o, const attribute_views& a,
                            const schemas::decoded& d) {
  out.append(R"({"specversion":"1.0","id":)");
  append_quoted(out, a.id);
  out.append(R"(,"source":)");
  append_quoted(out, a.source);
  out.append(R"(,"type":)");
  append_quoted(out, a.type);
  out.append(R"(,"time":)");
  append_quoted(out, a.time);
  out.append(R"(,"subject":)");
  append_quoted(out, a.subject);
  out.append(R"(,"dataschema":)");
  append_quoted(out, o.dataschema);
  // schemas::to_json is already one JSON object: embed it as is rather than parse it again.
  out.append(R"(,"datacontenttype":"application/json","data":)");
  out.append(schemas::to_json(d));
  out.push_back('}');
}

std::string structured_json(const attribute_options& o, const attributes& a,
                            const schemas::decoded& d) {
  std::string out;
  append_structured_json(out, o, {a.id, a.source, a.type, a.time, a.subject}, d);
  return out;
}

}  // namespace backline::kafka
