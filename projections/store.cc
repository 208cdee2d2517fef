// The projection store on RocksDB: column families, the checkpoint, reads, digests.
#include "projections/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdio>
#include <filesystem>

#include "projections/keys.h"

namespace backline::projections {
namespace {

constexpr const char* model_names[model_count] = {
    "voice_calls", "transcripts",   "conversation_events",
    "chains",      "segment_roots", "by_time",
    "by_type",     "by_agent",      "by_queue",
    "by_parent",   "meta"};
constexpr std::string_view checkpoint_key = "checkpoint";
constexpr std::string_view format_key = "format";
// 2: the by_* models share the column family "indexes" behind a one-byte prefix.
constexpr std::string_view format_version = "2";

// The column families, and where each model lives in them.
enum class family : std::uint8_t {
  voice_calls,
  transcripts,
  conversation_events,
  chains,
  segment_roots,
  indexes,
  meta,
};
constexpr std::size_t family_count = 7;
constexpr const char* family_names[family_count] = {
    "voice_calls", "transcripts", "conversation_events", "chains", "segment_roots",
    "indexes",     "meta"};

struct placement {
  family cf;
  bool prefixed;  // keys carry the model's number as a first byte
};
constexpr placement place(model m) {
  switch (m) {
    case model::voice_calls:
      return {family::voice_calls, false};
    case model::transcripts:
      return {family::transcripts, false};
    case model::conversation_events:
      return {family::conversation_events, false};
    case model::chains:
      return {family::chains, false};
    case model::segment_roots:
      return {family::segment_roots, false};
    case model::by_time:
    case model::by_type:
    case model::by_agent:
    case model::by_queue:
    case model::by_parent:
      return {family::indexes, true};
    case model::meta:
      return {family::meta, false};
  }
  return {family::meta, false};
}
char prefix_of(model m) {
  return static_cast<char>(m);
}
// The key as stored: with the model's prefix byte where the family is shared.
std::string physical_key(model m, std::string_view key) {
  std::string k;
  k.reserve(key.size() + 1);
  if (place(m).prefixed) k.push_back(prefix_of(m));
  k.append(key);
  return k;
}

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "backline.projections"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::ok:
        return "ok";
      case errc::io_error:
        return "projection store I/O error (see the log line on stderr)";
      case errc::not_found:
        return "no projection store there: run `backline catch-up` first";
      case errc::busy:
        return "the projection store is open read-write by another process: open it read-only";
      case errc::corrupt:
        return "a stored record or log event cannot be decoded";
      case errc::bad_options:
        return "invalid request to the projection store";
      case errc::not_empty:
        return "the scratch directory already holds a store: remove it";
    }
    return "unknown projections error";
  }
};

std::error_code io_error(const rocksdb::Status& s, const char* what) {
  std::fprintf(
      stderr,
      "{\"level\":\"error\",\"module\":\"projections\",\"msg\":\"%s\",\"rocksdb\":\"%s\"}\n", what,
      s.ToString().c_str());
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) return errc::busy;
  return errc::io_error;
}

// One block cache for every store of the process (the CLI may open several): the hot records
// and index blocks of a point read stay in memory whatever else the machine does.
std::shared_ptr<rocksdb::Cache> block_cache() {
  static const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(256 << 20);
  return cache;
}

// Point reads (get, chain's id -> root, the chain's records) dominate the queries: bloom filters
// (whole keys) on the families read by key, so a read touches one table per level at most, and
// small blocks. Index and filter blocks stay in each open table reader (the default; a
// secondary opens every table up front with max_open_files = -1), so they are never evicted.
// Records compress well (JSON); index keys are mostly shared prefixes that the blocks'
// delta encoding already shrinks, so those families skip compression (flush CPU on 2 cores).
//
// A bulk build only appends to its memtables (nothing reads the store while it is built), so
// they are vectors sorted once, on the flush thread, instead of skiplists that every insert
// searches. Its flushes are atomic: when voice_calls fills its memtable, every family writes a
// table, so the memtables are 4 times larger (fewer, larger level-0 tables: at 5 M events 7
// flushes instead of 26, a finished store of 49 tables instead of 107 whose compactions lagged
// behind), and level 0 is compacted in rounds of 8 tables instead of 4 (the ids of a
// conversation's segments interleave, so every level-0 table overlaps the last level and each
// round rewrites it). At 5 M events: 890 -> 314 MB rewritten, 34 -> 27 s of CPU. The price:
// up to 3 x 256 MB of memtables while a rebuild runs.
rocksdb::ColumnFamilyOptions cf_options(family f, bool bulk_build) {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = 64 << 20;
  if (bulk_build) {
    o.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    o.write_buffer_size = 256 << 20;
    o.level0_file_num_compaction_trigger = 8;
  }
  o.max_write_buffer_number = 3;
  o.level_compaction_dynamic_level_bytes = true;
  const bool records =
      f == family::voice_calls || f == family::transcripts || f == family::conversation_events;
  o.compression = records ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions t;
  t.block_size = 4 << 10;
  t.block_cache = block_cache();
  t.whole_key_filtering = true;
  if (f == family::voice_calls || f == family::segment_roots || f == family::chains ||
      f == family::meta) {
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

std::vector<rocksdb::ColumnFamilyDescriptor> descriptors(bool bulk_build) {
  std::vector<rocksdb::ColumnFamilyDescriptor> d;
  d.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (std::size_t i = 0; i < family_count; ++i) {
    d.emplace_back(family_names[i], cf_options(static_cast<family>(i), bulk_build));
  }
  return d;
}

rocksdb::DBOptions db_options(bool read_only, bool bulk_build) {
  rocksdb::DBOptions o;
  o.create_if_missing = !read_only;
  o.create_missing_column_families = !read_only;
  o.max_background_jobs = 2;
  o.bytes_per_sync = 1 << 20;
  if (read_only) o.max_open_files = -1;  // required by secondary instances
  if (bulk_build) {
    // Without the WAL, only flushing every family at once keeps the checkpoint (meta) and the
    // models of one WriteBatch together on disk (store.h, Bulk build).
    o.atomic_flush = true;
    o.allow_concurrent_memtable_write = false;  // vector memtables; one writer anyway
  }
  return o;
}

}  // namespace

const std::error_category& projections_category() {
  static const category c;
  return c;
}

std::string_view model_name(model m) {
  return model_names[static_cast<std::size_t>(m)];
}

std::string default_store_dir(std::string_view data_dir) {
  return std::string(data_dir) + "/projections";
}

struct store::impl {
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* default_cf = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> cf;  // indexed by family
  std::string secondary_dir;

  rocksdb::ColumnFamilyHandle* handle(model m) const {
    return cf[static_cast<std::size_t>(place(m).cf)];
  }

  ~impl() {
    if (db == nullptr) return;
    for (auto* h : cf) db->DestroyColumnFamilyHandle(h);
    if (default_cf) db->DestroyColumnFamilyHandle(default_cf);
    db->Close();
    delete db;
    if (!secondary_dir.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(secondary_dir, ignored);
    }
  }
};

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
store::~store() = default;

std::expected<std::unique_ptr<store>, std::error_code> store::open(const store_options& opts) {
  if (opts.dir.empty()) return std::unexpected(make_error_code(errc::bad_options));
  const bool read_only = opts.mode == open_mode::read_only;
  if (read_only && opts.bulk_build) return std::unexpected(make_error_code(errc::bad_options));
  auto p = std::make_unique<impl>();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s;
  if (read_only) {
    if (!std::filesystem::exists(opts.dir + "/CURRENT")) {
      return std::unexpected(make_error_code(errc::not_found));
    }
    // One directory per instance: two read-only stores in one process must not share it.
    static std::atomic<unsigned> instances{0};
    p->secondary_dir = opts.dir + "/secondary-" + std::to_string(::getpid()) + "-" +
                       std::to_string(instances.fetch_add(1));
    s = rocksdb::DB::OpenAsSecondary(db_options(true, false), opts.dir, p->secondary_dir,
                                     descriptors(false), &handles, &p->db);
  } else {
    std::error_code fs_ec;
    std::filesystem::create_directories(opts.dir, fs_ec);
    if (fs_ec) return std::unexpected(make_error_code(errc::io_error));
    s = rocksdb::DB::Open(db_options(false, opts.bulk_build), opts.dir,
                          descriptors(opts.bulk_build), &handles, &p->db);
  }
  if (!s.ok()) return std::unexpected(io_error(s, "cannot open the projection store"));
  p->default_cf = handles[0];
  p->cf.assign(handles.begin() + 1, handles.end());
  std::unique_ptr<store> st(new store(std::move(p)));
  st->dir_ = opts.dir;
  st->read_only_ = read_only;
  st->bulk_build_ = opts.bulk_build;
  if (auto ec = st->load_checkpoint()) return std::unexpected(ec);
  return st;
}

std::error_code store::load_checkpoint() {
  auto format = get(model::meta, format_key);
  if (!format) return format.error();
  if (format->has_value() && **format != format_version) {
    std::fprintf(stderr,
                 "{\"level\":\"error\",\"module\":\"projections\",\"msg\":\"the projection "
                 "store in %s has on-disk format %s, this build reads %s: remove it and rebuild "
                 "it from the log\"}\n",
                 dir_.c_str(), (*format)->c_str(), std::string(format_version).c_str());
    return errc::corrupt;
  }
  auto v = get(model::meta, checkpoint_key);
  if (!v) return v.error();
  if (v->has_value() && (*v)->size() != 8) return errc::corrupt;
  checkpoint_ = v->has_value() ? keys::read_u64_be(**v) : 0;
  return {};
}

std::error_code store::refresh() {
  if (!read_only_) return {};
  auto s = impl_->db->TryCatchUpWithPrimary();
  if (!s.ok()) return io_error(s, "cannot catch up with the projector");
  return load_checkpoint();
}

std::expected<std::optional<std::string>, std::error_code> store::get(model m,
                                                                      std::string_view key) const {
  std::string value;
  const std::string k = physical_key(m, key);
  auto s = impl_->db->Get({}, impl_->handle(m), k, &value);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) return std::unexpected(io_error(s, "cannot read the projection store"));
  return std::optional<std::string>{std::move(value)};
}

std::expected<std::vector<std::optional<std::string>>, std::error_code> store::multi_get(
    model m, const std::vector<std::string>& keys) const {
  std::vector<std::string> stored;
  stored.reserve(keys.size());
  for (const auto& k : keys) stored.push_back(physical_key(m, k));
  std::vector<rocksdb::Slice> slices(stored.begin(), stored.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  impl_->db->MultiGet({}, impl_->handle(m), keys.size(), slices.data(), values.data(),
                      statuses.data());
  std::vector<std::optional<std::string>> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) {
      return std::unexpected(io_error(statuses[i], "cannot read the projection store"));
    }
    out[i] = values[i].ToString();
  }
  return out;
}

std::error_code store::scan(model m, std::string_view begin, std::string_view end,
                            const visitor& visit) const {
  rocksdb::ReadOptions ro;
  const std::size_t skip = place(m).prefixed ? 1 : 0;
  const std::string first = physical_key(m, begin);
  // A shared family ends the model's range at the next prefix.
  const std::string last = end.empty() && skip != 0
                               ? std::string(1, static_cast<char>(prefix_of(m) + 1))
                               : physical_key(m, end);
  rocksdb::Slice upper(last);
  if (!end.empty() || skip != 0) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->handle(m)));
  for (it->Seek(first); it->Valid(); it->Next()) {
    const auto k = it->key();
    const auto v = it->value();
    if (!visit({k.data() + skip, k.size() - skip}, {v.data(), v.size()})) break;
  }
  if (!it->status().ok()) return io_error(it->status(), "cannot scan the projection store");
  return {};
}

std::expected<model_digest, std::error_code> store::digest(model m) const {
  model_digest d{m, 14695981039346656037ull, 0};
  auto mix = [&d](std::string_view bytes) {
    std::uint64_t n = bytes.size();
    for (int i = 0; i < 8; ++i, n >>= 8) {
      d.hash = (d.hash ^ (n & 0xff)) * 1099511628211ull;
    }
    for (unsigned char c : bytes) d.hash = (d.hash ^ c) * 1099511628211ull;
  };
  auto ec = scan(m, {}, {}, [&](std::string_view k, std::string_view v) {
    if (m == model::meta && k.starts_with(consumer_meta_prefix)) return true;
    mix(k);
    mix(v);
    ++d.keys;
    return true;
  });
  if (ec) return std::unexpected(ec);
  return d;
}

std::error_code store::write(write_batch& batch, std::uint64_t checkpoint) {
  if (read_only_) return errc::bad_options;
  assert(checkpoint >= checkpoint_ && "log positions only grow");
  std::string cp;
  keys::append_u64_be(cp, checkpoint);
  batch.put(model::meta, checkpoint_key, cp);
  batch.put(model::meta, format_key, format_version);

  // Sorted by (family, stored key); a stable sort keeps equal keys in staging order, so the last
  // of each run is the operation that wins.
  using op = write_batch::op;
  const std::string& arena = batch.arena_;
  const auto key_of = [&arena](const op& o) {
    return std::string_view(arena.data() + o.at, o.key_size);
  };
  const auto rank = [](const op& o) {
    // Within a shared family the prefix byte (the model) orders first.
    return std::pair{static_cast<int>(place(o.which).cf), static_cast<int>(o.which)};
  };
  std::vector<const op*> order;
  order.reserve(batch.ops_.size());
  for (const auto& o : batch.ops_) order.push_back(&o);
  // A bulk build's vector memtables are sorted when flushed, whatever the order of inserts: the
  // operations go in staging order (a key staged twice is then written twice, the later wins).
  if (!bulk_build_) {
    std::stable_sort(order.begin(), order.end(), [&](const op* a, const op* b) {
      const auto ra = rank(*a), rb = rank(*b);
      if (ra != rb) return ra < rb;
      return key_of(*a) < key_of(*b);
    });
  }
  rocksdb::WriteBatch& wb = *batch.batch_;
  wb.Clear();
  for (std::size_t i = 0; i < order.size(); ++i) {
    const op& o = *order[i];
    if (i + 1 < order.size() && rank(*order[i + 1]) == rank(o) &&
        key_of(*order[i + 1]) == key_of(o)) {
      continue;  // a later operation on the same key wins
    }
    const char prefix = prefix_of(o.which);
    const bool prefixed = place(o.which).prefixed;
    const rocksdb::Slice key_parts[2] = {rocksdb::Slice(&prefix, prefixed ? 1 : 0),
                                         rocksdb::Slice(arena.data() + o.at, o.key_size)};
    const rocksdb::SliceParts key(key_parts, 2);
    auto* cf = impl_->handle(o.which);
    rocksdb::Status s;
    if (o.del) {
      s = wb.Delete(cf, key);
    } else {
      const rocksdb::Slice value(arena.data() + o.at + o.key_size, o.value_size);
      s = wb.Put(cf, key, rocksdb::SliceParts(&value, 1));
    }
    if (!s.ok()) return io_error(s, "cannot stage a write to the projection store");
  }
  // WAL on, no sync: the log is the source of truth, we can replay. A bulk build has no WAL: it
  // is durable at flush(), all families at once (store.h).
  rocksdb::WriteOptions wo;
  wo.disableWAL = bulk_build_;
  auto s = impl_->db->Write(wo, &wb);
  if (!s.ok()) return io_error(s, "cannot write the projection store");
  checkpoint_ = checkpoint;
  batch.clear();
  return {};
}

std::error_code store::flush() {
  if (read_only_ || !bulk_build_) return {};
  std::vector<rocksdb::ColumnFamilyHandle*> all(impl_->cf.begin(), impl_->cf.end());
  all.push_back(impl_->default_cf);
  rocksdb::FlushOptions fo;
  fo.wait = true;
  auto s = impl_->db->Flush(fo, all);
  if (!s.ok()) return io_error(s, "cannot flush the projection store");
  return {};
}

write_batch::write_batch(const store& s)
    : store_(&s), batch_(std::make_unique<rocksdb::WriteBatch>()) {}
write_batch::~write_batch() = default;

void write_batch::stage(model m, std::string_view key, std::string_view value, bool del) {
  assert(key.size() <= UINT32_MAX && value.size() <= UINT32_MAX);
  ops_.push_back({arena_.size(), static_cast<std::uint32_t>(key.size()),
                  static_cast<std::uint32_t>(value.size()), m, del});
  arena_.append(key);
  arena_.append(value);
}
void write_batch::put(model m, std::string_view key, std::string_view value) {
  stage(m, key, value, false);
}
void write_batch::del(model m, std::string_view key) {
  stage(m, key, {}, true);
}
void write_batch::swap(write_batch& other) noexcept {
  std::swap(store_, other.store_);
  arena_.swap(other.arena_);
  ops_.swap(other.ops_);
  batch_.swap(other.batch_);
}
void write_batch::clear() {
  arena_.clear();
  ops_.clear();
  batch_->Clear();
}

}  // namespace backline::projections
