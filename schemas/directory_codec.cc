// domain::directory, domain::call_attributes and skill lists <-> directory.fbs / call.fbs.

#include <vector>

#include "schemas/codec_internal.h"

namespace backline::schemas::detail {
namespace {

using string_vector = flatbuffers::Vector<offset<flatbuffers::String>>;

offset<string_vector> strings(builder& b, const std::vector<std::string>& v) {
  if (v.empty()) return {};
  std::vector<offset<flatbuffers::String>> offsets;
  offsets.reserve(v.size());
  for (const auto& s : v) offsets.push_back(b.CreateString(s));
  return b.CreateVector(offsets);
}
std::vector<std::string> strings(const string_vector* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const flatbuffers::String* s : *v) out.push_back(str(s));
  return out;
}

// Tables in a vector are built one after the other, then the vector of their offsets.
template <class Fb, class Domain, class Encode>
offset<flatbuffers::Vector<offset<Fb>>> table_vector(builder& b, const std::vector<Domain>& v,
                                                     Encode encode) {
  if (v.empty()) return {};
  std::vector<offset<Fb>> offsets;
  offsets.reserve(v.size());
  for (const auto& x : v) offsets.push_back(encode(b, x));
  return b.CreateVector(offsets);
}
template <class Domain, class Fb, class Decode>
std::vector<Domain> from_vector(const flatbuffers::Vector<offset<Fb>>* v, Decode decode) {
  std::vector<Domain> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const Fb* x : *v) out.push_back(decode(*x));
  return out;
}

offset<fb::Agent> make_agent(builder& b, const domain::agent_entry& a) {
  auto grants = fb::CreateSupervisionGrants(
      b, strings(b, a.grants.monitor), strings(b, a.grants.whisper), strings(b, a.grants.barge));
  return fb::CreateAgent(b, str(b, a.id), str(b, a.name), str(b, a.extension), str(b, a.team),
                         to_fb(a.kind), skills(b, a.skills), grants, a.capacity);
}
domain::agent_entry read_agent(const fb::Agent& a, reader& r) {
  domain::supervision_grants grants;
  if (const fb::SupervisionGrants* g = a.grants()) {
    grants = {strings(g->monitor()), strings(g->whisper()), strings(g->barge())};
  }
  return {.id = str(a.id()),
          .name = str(a.name()),
          .extension = str(a.extension()),
          .team = str(a.team()),
          .kind = from_fb(a.kind(), r),
          .skills = skills(a.skills()),
          .grants = std::move(grants),
          .capacity = a.capacity()};
}

offset<fb::Queue> make_queue(builder& b, const domain::queue_entry& q) {
  return fb::CreateQueue(b, str(b, q.name), str(b, q.extension), skills(b, q.required_skills),
                         to_fb(q.strategy), q.sla_target_s, q.overflow_after_s,
                         str(b, q.overflow_queue));
}
domain::queue_entry read_queue(const fb::Queue& q, reader& r) {
  return {.name = str(q.name()),
          .extension = str(q.extension()),
          .required_skills = skills(q.required_skills()),
          .strategy = from_fb(q.strategy(), r),
          .sla_target_s = q.sla_target_s(),
          .overflow_after_s = q.overflow_after_s(),
          .overflow_queue = str(q.overflow_queue())};
}

offset<fb::FlowRule> make_rule(builder& b, const domain::flow_rule& f) {
  return fb::CreateFlowRule(b, str(b, f.field), str(b, f.value), str(b, f.queue), str(b, f.agent),
                            skills(b, f.required_skills));
}
domain::flow_rule read_rule(const fb::FlowRule& f) {
  return {str(f.field()), str(f.value()), str(f.queue()), str(f.agent()),
          skills(f.required_skills())};
}

offset<fb::PhoneChannel> make_channel(builder& b, const domain::phone_channel& c) {
  auto rules = table_vector<fb::FlowRule>(b, c.rules, make_rule);
  return fb::CreatePhoneChannel(b, str(b, c.number), str(b, c.flow), str(b, c.fallback_queue),
                                rules);
}
domain::phone_channel read_channel(const fb::PhoneChannel& c) {
  return {.number = str(c.number()),
          .flow = str(c.flow()),
          .fallback_queue = str(c.fallback_queue()),
          .rules = from_vector<domain::flow_rule>(
              c.rules(), [](const fb::FlowRule& f) { return read_rule(f); })};
}

}  // namespace

offset<flatbuffers::Vector<offset<fb::Skill>>> skills(builder& b,
                                                      const std::vector<domain::skill>& v) {
  if (v.empty()) return {};
  std::vector<offset<fb::Skill>> offsets;
  offsets.reserve(v.size());
  for (const auto& s : v) offsets.push_back(fb::CreateSkill(b, str(b, s.name), s.level));
  return b.CreateVector(offsets);
}
std::vector<domain::skill> skills(const flatbuffers::Vector<offset<fb::Skill>>* v) {
  std::vector<domain::skill> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const fb::Skill* s : *v) out.push_back({str(s->name()), s->level()});
  return out;
}

offset<fb::CallAttributes> to_fb(builder& b, const domain::call_attributes& a) {
  offset<flatbuffers::Vector<offset<fb::KeyValue>>> custom;
  if (!a.custom.empty()) {
    std::vector<offset<fb::KeyValue>> entries;
    entries.reserve(a.custom.size());
    for (const auto& [k, v] : a.custom) {
      entries.push_back(fb::CreateKeyValue(b, str(b, k), str(b, v)));
    }
    custom = b.CreateVector(entries);
  }
  return fb::CreateCallAttributes(b, str(b, a.case_id), str(b, a.contact_id), str(b, a.account_id),
                                  str(b, a.subject), str(b, a.case_category), custom);
}

domain::call_attributes from_fb(const fb::CallAttributes* a) {
  domain::call_attributes out;
  if (a == nullptr) return out;
  out.case_id = str(a->case_id());
  out.contact_id = str(a->contact_id());
  out.account_id = str(a->account_id());
  out.subject = str(a->subject());
  out.case_category = str(a->case_category());
  if (const auto* custom = a->custom()) {
    out.custom.reserve(custom->size());
    for (const fb::KeyValue* kv : *custom)
      out.custom.emplace_back(str(kv->key()), str(kv->value()));
  }
  return out;
}

offset<fb::Directory> to_fb(builder& b, const domain::directory& d) {
  auto agents = table_vector<fb::Agent>(b, d.agents, make_agent);
  auto queues = table_vector<fb::Queue>(b, d.queues, make_queue);
  auto channels = table_vector<fb::PhoneChannel>(b, d.channels, make_channel);
  const domain::recording_policy& p = d.recording;
  auto recording =
      fb::CreateRecordingPolicy(b, p.record_inbound, p.record_outbound, p.record_internal,
                                strings(b, p.forbidden_jurisdictions));
  return fb::CreateDirectory(b, str(b, d.call_center), agents, queues, channels, recording);
}

domain::directory from_fb(const fb::Directory* d, reader& r) {
  domain::directory out;
  if (d == nullptr) return out;
  out.call_center = str(d->call_center());
  out.agents = from_vector<domain::agent_entry>(
      d->agents(), [&r](const fb::Agent& a) { return read_agent(a, r); });
  out.queues = from_vector<domain::queue_entry>(
      d->queues(), [&r](const fb::Queue& q) { return read_queue(q, r); });
  out.channels = from_vector<domain::phone_channel>(
      d->channels(), [](const fb::PhoneChannel& c) { return read_channel(c); });
  if (const fb::RecordingPolicy* p = d->recording()) {
    out.recording = {p->record_inbound(), p->record_outbound(), p->record_internal(),
                     strings(p->forbidden_jurisdictions())};
  }
  return out;
}

}  // namespace backline::schemas::detail
