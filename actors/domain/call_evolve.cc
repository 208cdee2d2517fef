// The call aggregate's `evolve`: folds one event into the state. Events are facts already
// checked by `decide`; a fact that cannot apply is a programmer error and asserts.
#include <algorithm>
#include <cassert>

#include "actors/domain/call.h"

namespace backline::domain {

const participant* segment::find(std::string_view participant_id) const {
  for (const auto& p : participants) {
    if (p.id == participant_id) return &p;
  }
  return nullptr;
}
participant* segment::find(std::string_view participant_id) {
  return const_cast<participant*>(std::as_const(*this).find(participant_id));
}
call_disposition segment::disposition() const {
  switch (status) {
    case segment_status::ringing: return call_disposition::new_call;
    case segment_status::connected: return call_disposition::in_progress;
    case segment_status::ended: return call_disposition::completed;
  }
  return call_disposition::new_call;
}
const segment* call_state::find(std::string_view voice_call_id) const {
  for (const auto& s : segments) {
    if (s.id == voice_call_id) return &s;
  }
  return nullptr;
}
segment* call_state::find(std::string_view voice_call_id) {
  return const_cast<segment*>(std::as_const(*this).find(voice_call_id));
}

namespace {

segment& must_find(call_state& s, std::string_view id) {
  segment* seg = s.find(id);
  assert(seg != nullptr && "event names a voice call the state does not hold");
  return *seg;
}

participant& must_find(segment& seg, std::string_view id) {
  participant* p = seg.find(id);
  assert(p != nullptr && "event names a participant the voice call does not hold");
  return *p;
}

void end_hold(segment& seg, participant& p, std::int64_t at) {
  if (!p.held) return;
  const std::int64_t held_us = std::max<std::int64_t>(0, at - p.held_since_us);
  seg.holds.total_us += held_us;
  seg.holds.longest_us = std::max(seg.holds.longest_us, held_us);
  p.held = false;
}

void leave(segment& seg, participant& p, std::int64_t at) {
  end_hold(seg, p, at);
  p.present = false;
  p.left_at_us = at;
}

void end_segment(segment& seg, std::int64_t at, std::string reason) {
  if (!seg.active()) return;
  for (auto& p : seg.participants) {
    if (p.present) leave(seg, p, at);
  }
  seg.status = segment_status::ended;
  seg.ended_at_us = at;
  seg.end_reason = std::move(reason);
  if (seg.recording == recording_state::recording || seg.recording == recording_state::paused) {
    seg.recording = recording_state::stopped;
  }
}

void join(segment& seg, std::string id, participant_role role, std::string number,
          std::int64_t at) {
  if (participant* p = seg.find(id)) {
    p->present = true;
    p->held = p->muted = false;
    p->joined_at_us = at;
    p->left_at_us = 0;
    return;
  }
  seg.participants.push_back(participant{std::move(id), role, std::move(number), true, false,
                                         false, at, 0, 0});
}

void insert_sorted(std::vector<std::string>& ids, const std::string& id) {
  ids.insert(std::ranges::lower_bound(ids, id), id);
}

// A new segment that continues the customer's conversation after `from` (a transfer).
segment& continue_customer(call_state& s, const segment& from, const std::string& id,
                           std::int64_t at) {
  segment next;
  next.id = id;
  next.kind = segment_kind::customer;
  next.type = from.type;
  next.method = initiation_method::transfer;
  next.from = from.from;
  next.to = from.to;
  next.queue = from.queue;
  next.previous_id = from.id;
  next.created_at_us = at;
  next.recording_allowed = from.recording_allowed;
  next.attributes = from.attributes;
  for (const auto& p : from.participants) {
    if (p.role == participant_role::customer && p.present) join(next, p.id, p.role, p.number, at);
  }
  s.customer_segment_id = id;
  s.segments.push_back(std::move(next));
  return s.segments.back();
}

participant_role role_in(const segment& seg, std::string_view id) {
  const participant* p = seg.find(id);
  return p ? p->role : participant_role::agent;
}

struct folder {
  call_state& s;
  std::int64_t at;

  void operator()(const evt::call_created& e) {
    segment g;
    g.id = e.voice_call_id;
    g.kind = e.kind;
    g.type = e.type;
    g.method = e.method;
    g.vendor_call_key = e.vendor_call_key;
    g.from = e.from;
    g.to = e.to;
    g.queue = e.queue;
    g.parent_id = e.parent_id;
    g.previous_id = e.previous_id;
    g.initiator_agent = e.initiator_agent;
    g.owner_agent = e.initiator_agent;
    g.recording_allowed = e.recording_allowed;
    g.attributes = e.attributes;
    g.created_at_us = at;
    if (!s.exists()) s.id = e.voice_call_id;
    if (g.kind == segment_kind::customer && s.customer_segment_id.empty()) {
      s.customer_segment_id = g.id;
    }
    s.segments.push_back(std::move(g));
  }
  void operator()(const evt::call_ringing& e) { must_find(s, e.voice_call_id).ringing_agent = e.agent_id; }
  void operator()(const evt::call_answered& e) {
    segment& g = must_find(s, e.voice_call_id);
    g.status = segment_status::connected;
    g.answered_at_us = at;
    if (g.owner_agent.empty() || g.kind == segment_kind::customer) g.owner_agent = e.agent_id;
    if (g.kind == segment_kind::consult || g.kind == segment_kind::direct) {
      g.owner_agent = g.initiator_agent;
    }
  }
  void operator()(const evt::participant_joined& e) {
    join(must_find(s, e.voice_call_id), e.participant_id, e.role, e.number, at);
  }
  void operator()(const evt::participant_left& e) {
    segment& g = must_find(s, e.voice_call_id);
    leave(g, must_find(g, e.participant_id), at);
  }
  void operator()(const evt::participant_held& e) {
    segment& g = must_find(s, e.voice_call_id);
    participant& p = must_find(g, e.participant_id);
    p.held = true;
    p.held_since_us = at;
    ++g.holds.count;
  }
  void operator()(const evt::participant_resumed& e) {
    segment& g = must_find(s, e.voice_call_id);
    end_hold(g, must_find(g, e.participant_id), at);
  }
  void operator()(const evt::participant_muted& e) {
    must_find(must_find(s, e.voice_call_id), e.participant_id).muted = true;
  }
  void operator()(const evt::participant_unmuted& e) {
    must_find(must_find(s, e.voice_call_id), e.participant_id).muted = false;
  }
  void operator()(const evt::consult_started& e) {
    const segment& parent = must_find(s, e.voice_call_id);
    segment k;
    k.id = e.consult_call_id;
    k.kind = segment_kind::consult;
    k.type = call_type::internal;
    k.method = initiation_method::internal;
    k.from = e.initiator_agent;
    k.to = e.target_agent;
    k.parent_id = parent.id;
    k.initiator_agent = k.owner_agent = e.initiator_agent;
    k.ringing_agent = e.target_agent;
    k.created_at_us = at;
    k.recording_allowed = e.recording_allowed;
    k.attributes = parent.attributes;
    join(k, e.initiator_agent, role_in(parent, e.initiator_agent), {}, at);
    s.segments.push_back(std::move(k));
  }
  void operator()(const evt::consult_completed& e) {
    end_segment(must_find(s, e.consult_call_id), at, "consult_completed");
  }
  void operator()(const evt::consult_cancelled& e) {
    end_segment(must_find(s, e.consult_call_id), at, "consult_cancelled");
  }
  void operator()(const evt::warm_transfer_completed& e);
  void operator()(const evt::blind_transferred& e);
  void operator()(const evt::conference_merged& e);
  void operator()(const evt::supervisor_joined& e);
  void operator()(const evt::supervisor_mode_changed& e) {
    must_find(s, e.session_id).modes.push_back(mode_change{e.mode, e.coached_agent, at});
  }
  void operator()(const evt::supervisor_left& e) {
    end_segment(must_find(s, e.session_id), at, "supervisor_left");
  }
  void operator()(const evt::call_ended& e) { end_segment(must_find(s, e.voice_call_id), at, e.reason); }
  void operator()(const evt::wrap_up_recorded& e) {
    segment& g = must_find(s, e.voice_call_id);
    g.wrapped_up = true;
    g.disposition_code = e.disposition_code;
    g.wrap_up_notes = e.notes;
  }
  void operator()(const evt::transcript_message_added& e) {
    ++must_find(s, e.voice_call_id).transcript_messages;
    insert_sorted(s.message_ids, e.message_id);
  }
  void operator()(const evt::conversation_event_recorded& e) {
    ++must_find(s, e.voice_call_id).conversation_events;
    insert_sorted(s.conversation_event_ids, e.event_id);
  }
  void operator()(const evt::recording_started& e) {
    segment& g = must_find(s, e.voice_call_id);
    g.recording = recording_state::recording;
    g.recording_location = e.location;
  }
  void operator()(const evt::recording_paused& e) {
    must_find(s, e.voice_call_id).recording = recording_state::paused;
  }
  void operator()(const evt::recording_resumed& e) {
    must_find(s, e.voice_call_id).recording = recording_state::recording;
  }
  void operator()(const evt::recording_stopped& e) {
    must_find(s, e.voice_call_id).recording = recording_state::stopped;
  }
  void operator()(const evt::attributes_updated& e) {
    must_find(s, e.voice_call_id).attributes = e.attributes;
  }
  void operator()(const evt::queue_assigned& e) { must_find(s, e.voice_call_id).queue = e.queue; }
};

void folder::operator()(const evt::warm_transfer_completed& e) {
  segment& k = must_find(s, e.consult_call_id);
  const participant_role target_role = role_in(k, e.target_agent);
  end_segment(k, at, "transferred");
  segment& from = must_find(s, e.voice_call_id);
  from.next_id = e.new_segment_id;
  const segment snapshot = from;  // continue_customer may reallocate `segments`
  segment& next = continue_customer(s, snapshot, e.new_segment_id, at);
  join(next, e.target_agent, target_role, {}, at);
  next.status = segment_status::connected;
  next.answered_at_us = at;
  next.owner_agent = e.target_agent;
  next.initiator_agent = snapshot.owner_agent;
  end_segment(must_find(s, e.voice_call_id), at, "transferred");
}

void folder::operator()(const evt::blind_transferred& e) {
  segment& from = must_find(s, e.voice_call_id);
  from.next_id = e.new_segment_id;
  const segment snapshot = from;
  segment& next = continue_customer(s, snapshot, e.new_segment_id, at);
  next.ringing_agent = e.target_agent;
  if (!e.target_queue.empty()) next.queue = e.target_queue;
  next.initiator_agent = snapshot.owner_agent;
  end_segment(must_find(s, e.voice_call_id), at, "transferred");
}

void folder::operator()(const evt::conference_merged& e) {
  segment& k = must_find(s, e.consult_call_id);
  const participant_role target_role = role_in(k, e.target_agent);
  end_segment(k, at, "merged");
  segment& g = must_find(s, e.voice_call_id);
  for (auto& p : g.participants) {
    if (p.role == participant_role::customer && p.present) end_hold(g, p, at);
  }
  join(g, e.target_agent, target_role, {}, at);
}

void folder::operator()(const evt::supervisor_joined& e) {
  segment x;
  x.id = e.session_id;
  x.kind = segment_kind::supervision;
  x.type = call_type::internal;
  x.method = initiation_method::internal;
  x.status = segment_status::connected;
  x.from = e.supervisor_id;
  x.parent_id = e.voice_call_id;
  x.supervisor_id = x.owner_agent = x.initiator_agent = e.supervisor_id;
  x.created_at_us = x.answered_at_us = at;
  x.modes.push_back(mode_change{e.mode, e.coached_agent, at});
  join(x, e.supervisor_id, participant_role::supervisor, {}, at);
  s.segments.push_back(std::move(x));
}

}  // namespace

void evolve(call_state& state, const event& e) {
  std::visit(folder{state, e.at_us}, e.body);
  ++state.version;
}

}  // namespace backline::domain
