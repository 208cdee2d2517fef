// The projector: fold, batch, flush with the checkpoint, rehydrate, evict. The contract is in
// projector.h.
#include "projections/projector.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <unordered_map>

#include "eventlog/log.h"
#include "projections/keys.h"
#include "projections/voice_call.h"
#include "schemas/codec.h"

namespace backline::projections {
namespace {

struct conversation {
  domain::call_state state;
  std::string tenant;
  std::vector<index_entry> written;  // the index entries the store holds for it
  // Per segment (in state.segments order): a hash of the record last written this session, 0
  // when unknown (rehydrated, new), so an unchanged record is not written again.
  std::vector<std::size_t> record_hashes;
  bool touched = false;  // changed since the last flush
};

bool all_ended(const domain::call_state& s) {
  return !s.segments.empty() &&
         std::ranges::none_of(s.segments, [](const domain::segment& g) { return g.active(); });
}

std::string call_stream(std::string_view root) {
  return "call/" + std::string(root);
}

}  // namespace

struct projector::impl {
  eventlog::log& log;
  store& st;
  projector_options opts;
  write_batch batch;  // being staged
  // Written on another thread while the next batch is folded (see flush); at most one.
  write_batch in_flight;
  std::future<std::error_code> writing;
  std::uint64_t writing_position = 0;
  std::uint64_t flushed = 0;  // the checkpoint of the last write that completed
  std::unordered_map<std::string, conversation> cache;
  std::vector<std::string> touched;     // roots changed since the last flush
  std::vector<std::string> ended_prev;  // roots all ended at the previous flush
  std::uint64_t applied = 0;
  std::size_t pending = 0;
  projector_stats stats;
  // Reused buffers: a record's text, the index entries now and their differences.
  std::string record;
  std::vector<index_entry> now, gone, added;

  impl(eventlog::log& l, store& s, projector_options o)
      : log(l),
        st(s),
        opts(std::move(o)),
        batch(s),
        in_flight(s),
        flushed(s.checkpoint()),
        applied(s.checkpoint()) {
    opts.batch_events = std::max<std::size_t>(1, opts.batch_events);
    opts.read_events = std::max<std::size_t>(1, opts.read_events);
  }
  ~impl() { (void)wait(); }  // a write in flight completes; nothing else is flushed

  std::expected<conversation*, std::error_code> load(const schemas::decoded& d);
  std::error_code fold(schemas::decoded&& d);
  void stage_children(conversation& c, const domain::event& e);
  void stage_records(conversation& c);
  void evict();
  std::error_code apply(const eventlog::record& r);
  std::error_code flush(bool sync);
  std::error_code wait();
};

// The conversation of `d`, from memory or folded again from its stream up to the event before
// `d` (all of which the store already reflects: see projector.h, Rehydration).
std::expected<conversation*, std::error_code> projector::impl::load(const schemas::decoded& d) {
  const std::string& root = d.meta.stream_id;
  if (auto it = cache.find(root); it != cache.end()) return &it->second;
  conversation c;
  c.tenant = d.meta.tenant;
  if (d.meta.stream_version > 1) {
    auto prior = log.read_stream(call_stream(root), 1, d.meta.stream_version - 1);
    if (!prior) return std::unexpected(prior.error());
    if (prior->size() != d.meta.stream_version - 1) return std::unexpected(errc::corrupt);
    for (const auto& r : *prior) {
      auto p = schemas::decode(r.envelope);
      if (!p || p->payload.index() != 0) return std::unexpected(errc::corrupt);
      if (r.stream_version == 1) c.tenant = p->meta.tenant;
      domain::evolve(c.state, schemas::to_event(*p));
    }
    c.written = index_entries(c.state);
    ++stats.rehydrations;
  }
  return &cache.emplace(root, std::move(c)).first->second;
}

// Transcript messages and conversation events are not kept by the aggregate (only their count),
// so they are written as they come, under the ordinal the fold gives them: writing one again
// after a rehydration rewrites the same key with the same bytes.
void projector::impl::stage_children(conversation& c, const domain::event& e) {
  if (const auto* t = std::get_if<domain::evt::transcript_message_added>(&e.body)) {
    const domain::segment* g = c.state.find(t->voice_call_id);
    batch.put(model::transcripts, keys::child_key(g->id, g->transcript_messages),
              transcript_record(*t, e.at_us));
  } else if (const auto* v = std::get_if<domain::evt::conversation_event_recorded>(&e.body)) {
    const domain::segment* g = c.state.find(v->voice_call_id);
    batch.put(model::conversation_events, keys::child_key(g->id, g->conversation_events),
              conversation_event_record(*v, e.at_us));
  }
}

std::error_code projector::impl::fold(schemas::decoded&& d) {
  auto c = load(d);
  if (!c) return c.error();
  conversation& conv = **c;
  // The log keeps stream versions gapless; anything else is a corrupt log or a projector bug.
  if (conv.state.version + 1 != d.meta.stream_version) return errc::corrupt;
  const domain::event e{d.meta.occurred_at_us, std::move(std::get<domain::event_body>(d.payload))};
  domain::evolve(conv.state, e);
  stage_children(conv, e);
  if (!conv.touched) {
    conv.touched = true;
    touched.push_back(d.meta.stream_id);
  }
  ++stats.call_events;
  return {};
}

std::error_code projector::impl::apply(const eventlog::record& r) {
  if (r.position <= applied) return {};
  auto d = schemas::decode(r.envelope);
  if (!d) return errc::corrupt;
  if (d->meta.stream_kind == "call" && d->payload.index() == 0) {
    if (auto ec = fold(std::move(*d))) return ec;
  }
  applied = r.position;
  ++stats.events;
  if (++pending >= opts.batch_events) return flush(/*sync=*/false);
  return {};
}

// Every record of the conversation that changed since it was last written, and the index
// entries that changed: deletions first, so a key whose value changed ends with its new value.
void projector::impl::stage_records(conversation& c) {
  c.record_hashes.resize(c.state.segments.size(), 0);
  for (std::size_t i = 0; i < c.state.segments.size(); ++i) {
    const auto& seg = c.state.segments[i];
    record.clear();
    append_voice_call_record(record, c.state, seg, c.tenant);
    // 0 stands for "unknown": a record that hashes to it is simply always written.
    const std::size_t h = std::hash<std::string_view>{}(record);
    if (h != 0 && h == c.record_hashes[i]) continue;
    c.record_hashes[i] = h;
    batch.put(model::voice_calls, seg.id, record);
    ++stats.records_written;
  }
  index_entries(c.state, now);
  gone.clear();
  added.clear();
  std::ranges::set_difference(c.written, now, std::back_inserter(gone));
  std::ranges::set_difference(now, c.written, std::back_inserter(added));
  for (const auto& e : gone) batch.del(e.which, e.key);
  for (const auto& e : added) batch.put(e.which, e.key, e.value);
  std::swap(c.written, now);
  c.touched = false;
}

void projector::impl::evict() {
  for (const auto& root : ended_prev) {
    auto it = cache.find(root);
    if (it != cache.end() && all_ended(it->second.state)) {
      cache.erase(it);
      ++stats.evictions;
    }
  }
  ended_prev.clear();
  for (const auto& root : touched) {
    auto it = cache.find(root);
    if (it != cache.end() && all_ended(it->second.state)) ended_prev.push_back(root);
  }
  // Over the bound: any conversation may go (all are flushed); it is folded again if needed.
  for (auto it = cache.begin(); cache.size() > opts.conversations_max && it != cache.end();) {
    it = cache.erase(it);
    ++stats.evictions;
  }
}

// Waits for the write in flight, if any; its checkpoint is then durable (WAL, no sync).
std::error_code projector::impl::wait() {
  if (!writing.valid()) return {};
  if (auto ec = writing.get()) return ec;
  flushed = writing_position;
  if (opts.on_flush) opts.on_flush(flushed);
  return {};
}

// Renders the touched conversations into the batch, then writes it with the checkpoint. A flush
// that the batch size triggers (`sync` false) hands the batch to another thread and returns, so
// RocksDB's work overlaps the folding of the next batch (two cores: about twice the rate); the
// next flush waits for it first, so writes stay in order and the checkpoint only grows. An
// explicit flush and the end of a catch-up wait for the write.
std::error_code projector::impl::flush(bool sync) {
  if (auto ec = wait()) return ec;
  if (touched.empty() && applied == flushed) return {};
  for (const auto& root : touched) stage_records(cache.at(root));
  batch.swap(in_flight);
  writing_position = applied;
  writing = std::async(std::launch::async,
                       [this, position = applied] { return st.write(in_flight, position); });
  ++stats.flushes;
  pending = 0;
  evict();
  touched.clear();
  return sync ? wait() : std::error_code{};
}

projector::projector(eventlog::log& log, store& st, projector_options opts)
    : impl_(std::make_unique<impl>(log, st, std::move(opts))) {}
projector::~projector() = default;

std::error_code projector::apply(const eventlog::record& r) {
  return impl_->apply(r);
}
std::error_code projector::flush() {
  return impl_->flush(/*sync=*/true);
}
std::uint64_t projector::applied_position() const {
  return impl_->applied;
}
projector_stats projector::stats() const {
  projector_stats s = impl_->stats;
  s.cached = impl_->cache.size();
  return s;
}

std::expected<std::uint64_t, std::error_code> projector::catch_up(std::uint64_t until) {
  impl& p = *impl_;
  const std::uint64_t target = std::min(until, p.log.committed_position());
  while (p.applied < target) {
    const std::size_t n = std::min<std::uint64_t>(p.opts.read_events, target - p.applied);
    auto records = p.log.read_from(p.applied + 1, n);
    if (!records) return std::unexpected(records.error());
    if (records->empty()) break;
    for (const auto& r : *records) {
      if (r.position > target) break;
      if (auto ec = p.apply(r)) return std::unexpected(ec);
    }
  }
  if (auto ec = p.flush(/*sync=*/true)) return std::unexpected(ec);
  return p.applied;
}

std::expected<std::uint64_t, std::error_code> rebuild(eventlog::log& log,
                                                      const std::string& scratch_dir,
                                                      std::uint64_t until, projector_options opts) {
  std::error_code fs_ec;
  if (std::filesystem::exists(scratch_dir + "/CURRENT", fs_ec)) {
    return std::unexpected(make_error_code(errc::not_empty));
  }
  auto st = store::open({scratch_dir, open_mode::read_write});
  if (!st) return std::unexpected(st.error());
  projector p(log, **st, std::move(opts));
  return p.catch_up(until);
}

}  // namespace backline::projections
