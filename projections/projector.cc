// The projector: fold, batch, flush with the checkpoint, rehydrate, evict. The contract is in
// projector.h.
#include "projections/projector.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <unordered_map>
#include <unordered_set>

#include "eventlog/bounded_cache.h"
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

// From Kafka: the meta keys of the consumer's bookkeeping (projector.h).
std::string envelope_prefix(std::string_view root) {
  std::string k(consumer_meta_prefix);
  k.append("env/").append(root).push_back('\0');
  return k;
}
std::string envelope_key(std::string_view root, std::uint64_t version) {
  std::string k = envelope_prefix(root);
  keys::append_u32_be(k, static_cast<std::uint32_t>(version));
  return k;
}
std::string offsets_prefix() {
  return std::string(consumer_meta_prefix) + "offset/";
}
std::string offset_key(std::string_view topic, std::int32_t partition) {
  std::string k = offsets_prefix();
  k.append(topic).push_back('\0');
  keys::append_u32_be(k, static_cast<std::uint32_t>(partition));
  return k;
}

}  // namespace

struct projector::impl {
  eventlog::log* log;  // null: from Kafka
  store& st;
  projector_options opts;
  write_batch batch;  // being staged
  // Written on another thread while the next batch is folded (see flush); at most one.
  write_batch in_flight;
  std::future<std::error_code> writing;
  std::uint64_t writing_position = 0;
  std::uint64_t flushed = 0;  // the checkpoint of the last write that completed
  using cache_map = std::unordered_map<std::string, conversation>;
  cache_map cache;
  // The conversation of the last event: a command's events come together in the log, so most
  // events need no lookup. Null after an eviction.
  cache_map::value_type* last = nullptr;
  // Changed since the last flush (elements of `cache`: nothing leaves it between two flushes).
  std::vector<cache_map::value_type*> touched;
  std::vector<std::string> ended_prev, ended;  // roots all ended at the previous / this flush
  // Evicted conversations, destroyed on the writing thread after the write in flight (freeing a
  // conversation's strings and vectors is work the folding thread need not do).
  std::vector<cache_map::node_type> evicted, evicted_in_flight;
  // Index-entry vectors of evicted conversations, reused by new ones (with their strings).
  std::vector<std::vector<index_entry>> spare_entries;
  std::uint64_t applied = 0;
  std::size_t pending = 0;
  projector_stats stats;
  // Reused buffers: a record's text and key, the index entries now and their differences.
  std::string record, key;
  std::vector<index_entry> now;
  std::vector<const index_entry*> gone, added;
  // From Kafka: next offsets, whether they moved since the last flush, recent event ids.
  kafka_offsets offsets;
  bool offsets_dirty = false;
  std::unordered_set<std::string> seen_ids;
  std::error_code open_error;  // loading the offsets failed: every apply returns it

  impl(eventlog::log* l, store& s, projector_options o)
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

  std::expected<cache_map::value_type*, std::error_code> load(const schemas::decoded& d);
  std::error_code rehydrate_from_store(const std::string& root, conversation& c);
  std::error_code apply(const kafka_event& e);
  std::error_code fold(schemas::decoded&& d);
  void stage_children(conversation& c, const domain::event& e);
  void stage_records(conversation& c);
  void evict();
  void retire(cache_map::iterator it);
  std::error_code apply(const eventlog::record& r);
  std::error_code flush(bool sync);
  std::error_code wait();
};

// The conversation of `d`, from memory or folded again from its stream up to the event before
// `d` (all of which the store already reflects: see projector.h, Rehydration).
std::expected<projector::impl::cache_map::value_type*, std::error_code> projector::impl::load(
    const schemas::decoded& d) {
  const std::string& root = d.meta.stream_id;
  if (last != nullptr && last->first == root) return last;
  if (auto it = cache.find(root); it != cache.end()) return last = &*it;
  conversation c;
  c.tenant = d.meta.tenant;
  if (log == nullptr) {
    if (auto ec = rehydrate_from_store(root, c)) return std::unexpected(ec);
  } else if (d.meta.stream_version > 1) {
    auto prior = log->read_stream(call_stream(root), 1, d.meta.stream_version - 1);
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
  return last = &*cache.emplace(root, std::move(c)).first;
}

// Transcript messages and conversation events are not kept by the aggregate (only their count),
// so they are written as they come, under the ordinal the fold gives them: writing one again
// after a rehydration rewrites the same key with the same bytes.
void projector::impl::stage_children(conversation& c, const domain::event& e) {
  const auto child_key = [this](const std::string& id, std::uint32_t ordinal) {
    key.assign(id).push_back('\0');  // keys::child_key, into a reused buffer
    keys::append_u32_be(key, ordinal);
  };
  if (const auto* t = std::get_if<domain::evt::transcript_message_added>(&e.body)) {
    const domain::segment* g = c.state.find(t->voice_call_id);
    child_key(g->id, g->transcript_messages);
    record.clear();
    append_transcript_record(record, *t, e.at_us);
    batch.put(model::transcripts, key, record);
  } else if (const auto* v = std::get_if<domain::evt::conversation_event_recorded>(&e.body)) {
    const domain::segment* g = c.state.find(v->voice_call_id);
    child_key(g->id, g->conversation_events);
    record.clear();
    append_conversation_event_record(record, *v, e.at_us);
    batch.put(model::conversation_events, key, record);
  }
}

std::error_code projector::impl::fold(schemas::decoded&& d) {
  auto c = load(d);
  if (!c) return c.error();
  conversation& conv = (*c)->second;
  // The log keeps stream versions gapless; anything else is a corrupt log or a projector bug.
  if (conv.state.version + 1 != d.meta.stream_version) return errc::corrupt;
  const domain::event e{d.meta.occurred_at_us, std::move(std::get<domain::event_body>(d.payload))};
  domain::evolve(conv.state, e);
  stage_children(conv, e);
  if (!conv.touched) {
    conv.touched = true;
    touched.push_back(*c);
  }
  ++stats.call_events;
  return {};
}

// From Kafka: every envelope of the stream the store holds (all of them flushed: a conversation
// leaves memory only after a flush, whose write is waited for here).
std::error_code projector::impl::rehydrate_from_store(const std::string& root, conversation& c) {
  if (auto ec = wait()) return ec;
  const std::string begin = envelope_prefix(root);
  std::error_code bad;
  auto ec = st.scan(
      model::meta, begin, keys::prefix_end(begin), [&](std::string_view, std::string_view v) {
        auto p = schemas::decode(v);
        if (!p || p->payload.index() != 0 || p->meta.stream_version != c.state.version + 1) {
          bad = errc::corrupt;
          return false;
        }
        if (p->meta.stream_version == 1) c.tenant = p->meta.tenant;
        domain::evolve(c.state, schemas::to_event(*p));
        return true;
      });
  if (ec || bad) return ec ? ec : bad;
  if (c.state.version > 0) {
    c.written = index_entries(c.state);
    ++stats.rehydrations;
  }
  return {};
}

std::error_code projector::impl::apply(const kafka_event& e) {
  if (open_error) return open_error;
  if (log != nullptr) return errc::bad_options;
  auto [at, fresh] = offsets.try_emplace({std::string(e.topic), e.partition}, 0);
  if (!fresh && e.offset < at->second) return {};  // before the stored offset: applied
  // The offset moves past the record only once it was applied: a record that fails is read
  // again by the next run, never skipped.
  auto d = schemas::decode(e.envelope);
  if (!d) return errc::corrupt;
  const bool seen = [&] {
    std::string id = schemas::to_string(d->meta.event_id);
    if (seen_ids.contains(id)) return true;
    eventlog::make_room(seen_ids, opts.dedupe_ids_max, id);
    seen_ids.insert(std::move(id));
    return false;
  }();
  if (seen) {
    ++stats.duplicates;
  } else if (d->meta.stream_kind == "call" && d->payload.index() == 0) {
    auto c = load(*d);
    if (!c) return c.error();
    if (d->meta.stream_version <= (*c)->second.state.version) {
      ++stats.duplicates;  // applied before this projector's memory (an earlier run)
    } else {
      const std::string root = d->meta.stream_id;
      const std::uint64_t version = d->meta.stream_version;
      const std::uint64_t position = d->meta.log_position;
      if (auto ec = fold(std::move(*d))) return ec;
      batch.put(model::meta, envelope_key(root, version), e.envelope);
      applied = std::max(applied, position);
      ++stats.events;
    }
  } else {
    applied = std::max(applied, d->meta.log_position);
    ++stats.events;
  }
  at->second = e.offset + 1;
  offsets_dirty = true;
  if (++pending >= opts.batch_events) return flush(/*sync=*/false);
  return {};
}

std::error_code projector::impl::apply(const eventlog::record& r) {
  if (log == nullptr) return errc::bad_options;
  if (r.position <= applied) return {};
  auto d = schemas::decode_verified(r.envelope);  // the log verified it as it read it
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
  // Both sorted: one merge finds what went and what came (std::set_difference twice, without
  // copying the entries).
  for (auto w = c.written.cbegin(), n = now.cbegin(); w != c.written.cend() || n != now.cend();) {
    if (n == now.cend() || (w != c.written.cend() && *w < *n)) {
      gone.push_back(&*w++);
    } else if (w == c.written.cend() || *n < *w) {
      added.push_back(&*n++);
    } else {
      ++w;
      ++n;
    }
  }
  for (const auto* e : gone) batch.del(e->which, e->key);
  for (const auto* e : added) batch.put(e->which, e->key, e->value);
  std::swap(c.written, now);
  // `now` holds the entries written before (the next conversation's are filled into them); a
  // new conversation had none: take the entries of an evicted one instead.
  if (now.capacity() == 0 && !spare_entries.empty()) {
    now = std::move(spare_entries.back());
    spare_entries.pop_back();
  }
  c.touched = false;
}

// Takes a conversation out of memory; its entries' strings are kept for reuse, the rest is
// destroyed after the next write (see `evicted`).
void projector::impl::retire(cache_map::iterator it) {
  constexpr std::size_t spare_entries_max = 4096;
  auto& written = it->second.written;
  if (spare_entries.size() < spare_entries_max && written.capacity() != 0) {
    spare_entries.push_back(std::move(written));
  }
  last = nullptr;
  evicted.push_back(cache.extract(it));
  ++stats.evictions;
}

void projector::impl::evict() {
  // Which of the conversations just flushed are over, before any leaves memory (`touched`
  // points into the cache).
  ended.clear();
  for (auto* c : touched) {
    if (all_ended(c->second.state)) ended.push_back(c->first);
  }
  touched.clear();
  for (const auto& root : ended_prev) {
    auto it = cache.find(root);
    if (it != cache.end() && all_ended(it->second.state)) retire(it);
  }
  std::swap(ended_prev, ended);
  // Over the bound: any conversation may go (all are flushed); it is folded again if needed.
  while (cache.size() > opts.conversations_max) retire(cache.begin());
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
  if (touched.empty() && applied == flushed && !offsets_dirty) return {};
  for (auto* c : touched) stage_records(c->second);
  if (offsets_dirty) {
    for (const auto& [tp, next] : offsets) {
      std::string v;
      keys::append_u64_be(v, static_cast<std::uint64_t>(next));
      batch.put(model::meta, offset_key(tp.first, tp.second), v);
    }
    offsets_dirty = false;
  }
  batch.swap(in_flight);
  writing_position = applied;
  evicted_in_flight.swap(evicted);  // empty: wait() cleared it
  writing = std::async(std::launch::async, [this, position = applied] {
    auto ec = st.write(in_flight, position);
    evicted_in_flight.clear();
    return ec;
  });
  ++stats.flushes;
  pending = 0;
  evict();
  return sync ? wait() : std::error_code{};
}

projector::projector(eventlog::log& log, store& st, projector_options opts)
    : impl_(std::make_unique<impl>(&log, st, std::move(opts))) {}
projector::projector(store& st, projector_options opts)
    : impl_(std::make_unique<impl>(nullptr, st, std::move(opts))) {
  auto o = load_kafka_offsets(st);
  if (o) {
    impl_->offsets = std::move(*o);
  } else {
    impl_->open_error = o.error();
  }
}
projector::~projector() = default;

std::error_code projector::apply(const eventlog::record& r) {
  return impl_->apply(r);
}
std::error_code projector::apply(const kafka_event& e) {
  return impl_->apply(e);
}
const kafka_offsets& projector::offsets() const {
  return impl_->offsets;
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
  if (p.log == nullptr) return std::unexpected(make_error_code(errc::bad_options));
  const std::uint64_t target = std::min(until, p.log->committed_position());
  // Visited in place: the log refills one record per event, nothing is copied into a vector. The
  // reads continue each other: one cursor, one iterator through them.
  const auto cursor = p.log->open_cursor(eventlog::read_hint::recent);
  while (p.applied < target) {
    const std::size_t n = std::min<std::uint64_t>(p.opts.read_events, target - p.applied);
    std::error_code failed;
    auto visited = cursor->visit_from(p.applied + 1, n, [&](const eventlog::record& r) {
      if (r.position > target) return false;
      failed = p.apply(r);
      return !failed;
    });
    if (failed) return std::unexpected(failed);
    if (!visited) return std::unexpected(visited.error());
    if (*visited == 0) break;
  }
  if (auto ec = p.flush(/*sync=*/true)) return std::unexpected(ec);
  if (auto ec = p.st.flush()) return std::unexpected(ec);  // a bulk build is durable from here
  return p.applied;
}

std::expected<kafka_offsets, std::error_code> load_kafka_offsets(const store& st) {
  kafka_offsets out;
  const std::string begin = offsets_prefix();
  std::error_code bad;
  auto ec = st.scan(
      model::meta, begin, keys::prefix_end(begin), [&](std::string_view k, std::string_view v) {
        const std::string_view rest = k.substr(begin.size());
        const auto nul = rest.find('\0');
        if (nul == std::string_view::npos || rest.size() != nul + 5 || v.size() != 8) {
          bad = errc::corrupt;
          return false;
        }
        const auto partition = static_cast<std::int32_t>(
            keys::read_u64_be(std::string(4, '\0') + std::string(rest.substr(nul + 1))));
        out[{std::string(rest.substr(0, nul)), partition}] =
            static_cast<std::int64_t>(keys::read_u64_be(v));
        return true;
      });
  if (ec || bad) return std::unexpected(ec ? ec : bad);
  return out;
}

std::expected<std::uint64_t, std::error_code> rebuild(eventlog::log& log,
                                                      const std::string& scratch_dir,
                                                      std::uint64_t until, projector_options opts) {
  std::error_code fs_ec;
  if (std::filesystem::exists(scratch_dir + "/CURRENT", fs_ec)) {
    return std::unexpected(make_error_code(errc::not_empty));
  }
  auto st = store::open({scratch_dir, open_mode::read_write, /*bulk_build=*/true});
  if (!st) return std::unexpected(st.error());
  projector p(log, **st, std::move(opts));
  return p.catch_up(until);
}

}  // namespace backline::projections
