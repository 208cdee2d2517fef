// Who hears whom (DESIGN.md, "Who hears whom"), and the text rendering of a call's state.
#include <algorithm>

#include <fmt/format.h>

#include "actors/domain/call.h"

namespace backline::domain {
namespace {

// Whether `p` can be heard in its segment (and hear it): present, not held.
bool live(const participant& p) { return p.present && !p.held; }

struct matrix_builder {
  hear_matrix m;

  std::size_t index(const std::string& id) {
    auto it = std::ranges::find(m.parties, id);
    if (it != m.parties.end()) return static_cast<std::size_t>(it - m.parties.begin());
    m.parties.push_back(id);
    return m.parties.size() - 1;
  }
  void allow(std::size_t listener, std::size_t speaker) {
    if (listener != speaker) m.cells[listener * m.parties.size() + speaker] = 1;
  }
};

// Connected segments whose participants are on the media plane.
bool on_air(const segment& g) { return g.status == segment_status::connected; }

}  // namespace

hear_matrix compute_hear_matrix(const call_state& state) {
  matrix_builder b;
  for (const auto& g : state.segments) {
    if (!on_air(g)) continue;
    for (const auto& p : g.participants) {
      if (p.present) b.index(p.id);
    }
  }
  const std::size_t n = b.m.parties.size();
  b.m.cells.assign(n * n, 0);
  for (const auto& g : state.segments) {
    if (!on_air(g) || g.kind == segment_kind::supervision) continue;
    // Parties of one conversation segment hear each other unless held or muted. Everyone on
    // a customer, direct or consult segment converses, whatever their role: a supervisor who
    // answers a consult or a direct call talks like an agent. Listen-only supervision happens
    // only through a supervision session (below).
    for (const auto& l : g.participants) {
      if (!live(l)) continue;
      for (const auto& sp : g.participants) {
        if (live(sp) && !sp.muted) b.allow(b.index(l.id), b.index(sp.id));
      }
    }
  }
  for (const auto& x : state.segments) {
    if (!on_air(x) || x.kind != segment_kind::supervision) continue;
    const segment* g = state.find(x.parent_id);
    const participant* sup = x.find(x.supervisor_id);
    // A supervisor held on their session hears nothing and is heard by nobody.
    if (g == nullptr || !on_air(*g) || sup == nullptr || !live(*sup)) continue;
    const std::size_t si = b.index(sup->id);
    const mode_change& mode = x.modes.back();
    for (const auto& p : g->participants) {
      if (!live(p)) continue;
      if (!p.muted) b.allow(si, b.index(p.id));  // every mode hears the call
      if (sup->muted) continue;
      if (mode.mode == supervise_mode::barge ||
          (mode.mode == supervise_mode::whisper && p.id == mode.coached_agent)) {
        b.allow(b.index(p.id), si);
      }
    }
  }
  return std::move(b.m);
}

bool hear_matrix::hears(std::string_view listener, std::string_view speaker) const {
  auto l = std::ranges::find(parties, listener);
  auto s = std::ranges::find(parties, speaker);
  if (l == parties.end() || s == parties.end()) return false;
  return cells[static_cast<std::size_t>(l - parties.begin()) * parties.size() +
               static_cast<std::size_t>(s - parties.begin())] != 0;
}

std::string hear_matrix::render() const {
  std::vector<std::string> sorted = parties;
  std::ranges::sort(sorted);
  std::string out;
  for (const auto& l : sorted) {
    std::vector<std::string> heard;
    for (const auto& s : sorted) {
      if (hears(l, s)) heard.push_back(s);
    }
    out += fmt::format("{} <- {}\n", l, fmt::join(heard, ","));
  }
  return out;
}

std::string render(const call_state& s) {
  std::string out = fmt::format("call {} v{} customer_segment={}\n", s.id, s.version,
                                s.customer_segment_id);
  for (const auto& g : s.segments) {
    out += fmt::format(
        "  segment {} kind={} type={} method={} status={} from={} to={} queue={} parent={} "
        "previous={} next={} owner={} ringing={} initiator={} created={} answered={} ended={} "
        "reason={} holds={}/{}/{} wrapped={} code={} notes={} rec={}/{}/{} transcripts={} "
        "events={} attrs={}|{}|{}|{}|{}|{}\n",
        g.id, to_string(g.kind), to_string(g.type), to_string(g.method), to_string(g.status),
        g.from, g.to, g.queue, g.parent_id, g.previous_id, g.next_id, g.owner_agent,
        g.ringing_agent, g.initiator_agent, g.created_at_us, g.answered_at_us, g.ended_at_us,
        g.end_reason, g.holds.count, g.holds.total_us, g.holds.longest_us, g.wrapped_up,
        g.disposition_code, g.wrap_up_notes, g.recording_allowed, to_string(g.recording),
        g.recording_location, g.transcript_messages, g.conversation_events,
        g.attributes.case_id, g.attributes.contact_id, g.attributes.account_id,
        g.attributes.subject, g.attributes.case_category, g.attributes.custom.size());
    for (const auto& p : g.participants) {
      out += fmt::format("    {} role={} number={} present={} held={} muted={} joined={} left={}\n",
                         p.id, to_string(p.role), p.number, p.present, p.held, p.muted,
                         p.joined_at_us, p.left_at_us);
    }
    for (const auto& m : g.modes) {
      out += fmt::format("    mode {} coached={} at={}\n", to_string(m.mode), m.coached_agent,
                         m.at_us);
    }
  }
  return out;
}

}  // namespace backline::domain
