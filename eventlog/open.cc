// Opening and closing RocksDB: the column families and their tuning for an append-only log.

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "eventlog/log_impl.h"

namespace backline::eventlog::detail {
namespace {

constexpr const char* cf_names[cf_count] = {"events", "streams", "aliases", "meta"};

std::error_code io_error(const rocksdb::Status& s, const char* what) {
  std::fprintf(stderr,
               "{\"level\":\"error\",\"module\":\"eventlog\",\"msg\":\"%s\",\"rocksdb\":\"%s\"}\n",
               what, s.ToString().c_str());
  return errc::io_error;
}

rocksdb::CompressionType cold_compression() {
  auto supported = rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType t) {
    return std::find(supported.begin(), supported.end(), t) != supported.end();
  };
  return has(rocksdb::kLZ4Compression) ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
}

// Keys arrive in order (positions) or nearly so (stream versions), nothing is ever overwritten
// or deleted: big memtables, no compression where data is hot, LZ4 where it has cooled down.
// `bloom`: whole-key bloom filters (10 bits a key, in SST files and memtables), for point
// lookups that mostly miss.
rocksdb::ColumnFamilyOptions cf_options(std::size_t write_buffer_bytes, bool bloom = false) {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = write_buffer_bytes;
  o.max_write_buffer_number = 4;
  o.min_write_buffer_number_to_merge = 1;
  o.level_compaction_dynamic_level_bytes = true;
  o.target_file_size_base = 64 << 20;
  o.max_bytes_for_level_base = 256 << 20;
  const auto cold = cold_compression();
  o.compression_per_level = {
      rocksdb::kNoCompression, rocksdb::kNoCompression, cold, cold, cold, cold, cold};
  rocksdb::BlockBasedTableOptions t;
  t.block_size = 16 << 10;
  t.cache_index_and_filter_blocks = false;
  if (bloom) {
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // The memtables too: a miss otherwise searches the skiplist of each of up to
    // max_write_buffer_number memtables (3.6% of the CAF thread in routing_bench's profile).
    o.memtable_whole_key_filtering = true;
    o.memtable_prefix_bloom_size_ratio = 0.02;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

rocksdb::DBOptions db_options() {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.max_background_jobs = 2;
  o.bytes_per_sync = 1 << 20;
  o.manual_wal_flush = false;        // each Write reaches the OS before it returns
  o.unordered_write = false;         // readers must never see position n+1 before n
  o.enable_pipelined_write = false;  // one writer thread: nothing to pipeline
  o.max_total_wal_size = 512 << 20;
  o.keep_log_file_num = 4;
  return o;
}

// "stream\0" of a "stream\0<version>" key: a stream's versions arrive in order, so the
// memtable can insert each one next to the previous (see memtable_insert_with_hint_...).
class stream_prefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "backline.stream_prefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), key.size() - 8};
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > 8; }
};

std::vector<rocksdb::ColumnFamilyDescriptor> descriptors() {
  std::vector<rocksdb::ColumnFamilyDescriptor> d;
  d.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options(4 << 20));
  auto events = cf_options(64 << 20);
  // Positions only grow: every insert lands right after the previous one.
  events.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(0));
  d.emplace_back(cf_names[cf_events], events);
  // read_stream asks first for the stream's first wanted version: for a new stream (every new
  // call) the filters answer "absent" without a data block or an iterator.
  auto streams = cf_options(32 << 20, true);
  streams.memtable_insert_with_hint_prefix_extractor = std::make_shared<stream_prefix>();
  d.emplace_back(cf_names[cf_streams], streams);
  // Alias lookups mostly miss: a voice call id that is a conversation's root, a vendorCallKey
  // the API did not remember.
  d.emplace_back(cf_names[cf_aliases], cf_options(8 << 20, true));
  d.emplace_back(cf_names[cf_meta], cf_options(4 << 20));
  return d;
}

}  // namespace

std::error_code log_impl::open_primary() {
  std::error_code fs_ec;
  std::filesystem::create_directories(opts_.dir, fs_ec);
  if (fs_ec) return errc::io_error;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  auto s = rocksdb::DB::Open(db_options(), opts_.dir, descriptors(), &handles, &db_);
  if (!s.ok()) return io_error(s, "cannot open the event log");
  default_cf_ = handles[0];
  cf_.assign(handles.begin() + 1, handles.end());
  return {};
}

std::error_code log_impl::open_secondary() {
  // One directory per instance: two read-only logs in one process must not share it.
  static std::atomic<unsigned> instances{0};
  secondary_dir_ = opts_.dir + "/secondary-" + std::to_string(::getpid()) + "-" +
                   std::to_string(instances.fetch_add(1));
  auto o = db_options();
  o.create_if_missing = false;
  o.create_missing_column_families = false;
  o.max_open_files = -1;  // required by secondary instances
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  auto s =
      rocksdb::DB::OpenAsSecondary(o, opts_.dir, secondary_dir_, descriptors(), &handles, &db_);
  if (!s.ok()) return io_error(s, "cannot open the event log as a secondary (read-only)");
  default_cf_ = handles[0];
  cf_.assign(handles.begin() + 1, handles.end());
  return {};
}

// The next position follows the last key of "events" (positions are gapless from 1).
std::error_code log_impl::recover_position() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[cf_events]));
  it->SeekToLast();
  if (!it->status().ok()) return io_error(it->status(), "cannot read the last log position");
  std::uint64_t last = 0;
  if (it->Valid()) {
    if (it->key().size() != 8) return errc::corrupt;
    last = get_u64_be(it->key().data());
  }
  next_position_ = last + 1;
  committed_.store(last, std::memory_order_release);
  return {};
}

void log_impl::close_db() {
  if (!db_) return;
  version_it_.reset();
  for (auto* h : cf_) db_->DestroyColumnFamilyHandle(h);
  if (default_cf_) db_->DestroyColumnFamilyHandle(default_cf_);
  cf_.clear();
  default_cf_ = nullptr;
  if (!opts_.read_only) db_->FlushWAL(true);  // a no-op unless the WAL was left unsynced
  db_->Close();
  delete db_;
  db_ = nullptr;
  if (!secondary_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(secondary_dir_, ignored);
  }
}

void log_impl::fail(const rocksdb::Status& s, const char* what) {
  io_error(s, what);
  failed_.store(true, std::memory_order_relaxed);
}

}  // namespace backline::eventlog::detail
