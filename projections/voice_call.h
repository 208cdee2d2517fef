#pragma once
// The VoiceCall view: how a folded conversation (domain::call_state) becomes one record per
// segment and the index entries that find it. Pure functions of the state (no clock, no
// randomness), so a rebuild writes the same bytes. Used by the projector; the field list is in
// projections/README.md.
//
// Records are canonical JSON text: compact, keys sorted, exactly what nlohmann::json's dump()
// gives for the same object (so one state always gives the same bytes and the CLI prints them
// without another mapping). They are written directly (projections/json_text.h), not built as
// nlohmann::json objects: that was most of the projector's CPU.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/domain/call.h"
#include "projections/store.h"

namespace backline::projections {

// Salesforce's picklist spelling of a call type, as the records store it: "Inbound", ...
std::string_view salesforce_call_type(domain::call_type t);

// Appends the VoiceCall record of segment `seg` of conversation `conv` to `out`. `call_center`
// is the tenant of the conversation's envelopes.
void append_voice_call_record(std::string& out, const domain::call_state& conv,
                              const domain::segment& seg, std::string_view call_center);
std::string voice_call_record(const domain::call_state& conv, const domain::segment& seg,
                              std::string_view call_center);

// A transcript message / conversation event as stored in their models (the append_ forms add
// the bytes to `out`, so a caller can reuse one buffer).
std::string transcript_record(const domain::evt::transcript_message_added& e, std::int64_t at_us);
std::string conversation_event_record(const domain::evt::conversation_event_recorded& e,
                                      std::int64_t at_us);
void append_transcript_record(std::string& out, const domain::evt::transcript_message_added& e,
                              std::int64_t at_us);
void append_conversation_event_record(std::string& out,
                                      const domain::evt::conversation_event_recorded& e,
                                      std::int64_t at_us);

// One key of an index model (chains, segment_roots, by_*) with its value.
struct index_entry {
  model which = model::by_time;
  std::string key, value;
  friend auto operator<=>(const index_entry&, const index_entry&) = default;
};

// Every index entry of every segment of `conv`, sorted, into `out` (replacing what it held; its
// elements' strings are reused, so a caller that keeps `out` allocates nothing once warm).
void index_entries(const domain::call_state& conv, std::vector<index_entry>& out);
std::vector<index_entry> index_entries(const domain::call_state& conv);

// RFC 3339 UTC with microseconds, as schemas::format_rfc3339_us, appended to `out` without
// formatting through stdio.
void append_rfc3339_us(std::string& out, std::int64_t unix_us);

}  // namespace backline::projections
