// Readers: any thread, concurrently with the writer. RocksDB iterators and Gets only; every
// envelope read back is verified again (DESIGN invariant 6, paired with the writer's check).

#include <algorithm>
#include <limits>

#include "eventlog/log_impl.h"

namespace backline::eventlog::detail {
namespace {

std::error_code read_error(const rocksdb::Status& s) {
  return s.IsCorruption() ? make_error_code(errc::corrupt) : make_error_code(errc::io_error);
}

}  // namespace

void log_impl::catch_up() {
  if (!opts_.read_only) return;
  std::lock_guard lock(catch_up_mu_);
  if (!db_->TryCatchUpWithPrimary().ok()) return;  // keep serving what we have
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[cf_events]));
  it->SeekToLast();
  if (it->Valid() && it->key().size() == 8)
    committed_.store(get_u64_be(it->key().data()), std::memory_order_release);
}

std::uint64_t log_impl::last_version_in_db(rocksdb::Iterator& it, std::string_view stream) {
  std::string key;
  stream_key(key, stream, std::numeric_limits<std::uint64_t>::max());
  it.SeekForPrev(key);
  if (!it.Valid()) return 0;
  const auto found = it.key();
  if (found.size() != stream.size() + 9 ||
      !found.starts_with(rocksdb::Slice(key.data(), stream.size() + 1)))
    return 0;
  return get_u64_be(found.data() + stream.size() + 1);
}

std::expected<std::vector<record>, std::error_code> log_impl::read_stream(
    std::string_view stream, std::uint64_t from_version, std::size_t max) {
  catch_up();
  from_version = std::max<std::uint64_t>(from_version, 1);
  std::string start, end;
  stream_key(start, stream, from_version);
  // Versions are gapless from 1: without `from_version` there is nothing from it on. A point
  // lookup (bloom filters, no iterator) answers that for a new stream, e.g. every new call.
  rocksdb::PinnableSlice value;
  auto first = db_->Get(rocksdb::ReadOptions(), cf_[cf_streams], start, &value);
  if (first.IsNotFound()) return std::vector<record>{};
  if (!first.ok()) return std::unexpected(read_error(first));
  end.assign(stream).push_back('\x01');  // just past every "stream\0<version>" key
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_[cf_streams]));
  std::vector<record> out;
  for (it->Seek(start); it->Valid() && out.size() < max; it->Next()) {
    if (it->key().size() != stream.size() + 9 || it->value().size() != 8)
      return std::unexpected(make_error_code(errc::corrupt));
    const auto version = get_u64_be(it->key().data() + stream.size() + 1);
    const auto position = get_u64_be(it->value().data());
    char pos_be[8];
    put_u64_be(pos_be, position);
    value.Reset();
    auto s = db_->Get(rocksdb::ReadOptions(), cf_[cf_events], rocksdb::Slice(pos_be, 8), &value);
    if (!s.ok())
      return std::unexpected(s.IsNotFound() ? make_error_code(errc::corrupt) : read_error(s));
    record r;
    if (auto ec = make_record(position, value.ToStringView(), r)) return std::unexpected(ec);
    if (r.stream != stream || r.stream_version != version)
      return std::unexpected(make_error_code(errc::corrupt));
    out.push_back(std::move(r));
  }
  if (!it->status().ok()) return std::unexpected(read_error(it->status()));
  return out;
}

// visit_from, each record copied into the vector.
std::expected<std::vector<record>, std::error_code> log_impl::read_from(std::uint64_t from,
                                                                        std::size_t max) {
  std::vector<record> out;
  auto visited = visit_from(
      from, max,
      [&out](const record& r) {
        out.push_back(r);
        return true;
      },
      read_hint::recent);
  if (!visited) return std::unexpected(visited.error());
  return out;
}

// read_from without the vector: one record, refilled in place for each event.
std::expected<std::size_t, std::error_code> log_impl::visit_from(
    std::uint64_t from, std::size_t max, const std::function<bool(const record&)>& visit,
    read_hint hint) {
  catch_up();
  from = std::max<std::uint64_t>(from, 1);
  const auto last = committed_position();  // never ahead of what `done` may have announced
  if (from > last || max == 0) return 0;
  char start[8], end[8];
  put_u64_be(start, from);
  put_u64_be(end, last + 1);
  rocksdb::Slice upper(end, 8);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  if (hint == read_hint::scan) {
    ro.fill_cache = false;
    // About what `max` events take: each call makes a new iterator, whose first read fetches the
    // whole read-ahead, so a fixed 2 MiB under the relay's 1,024-event reads copied six times the
    // bytes used (a fifth of the relay thread, in the kernel).
    constexpr std::size_t event_bytes_guess = 512, readahead_min = 64 << 10,
                          readahead_max = 2 << 20;
    ro.readahead_size = max >= readahead_max / event_bytes_guess
                            ? readahead_max
                            : std::max(readahead_min, max * event_bytes_guess);
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_[cf_events]));
  record r;
  std::size_t visited = 0;
  auto expected_position = from;
  for (it->Seek(rocksdb::Slice(start, 8)); it->Valid() && visited < max; it->Next()) {
    if (it->key().size() != 8 || get_u64_be(it->key().data()) != expected_position)
      return std::unexpected(make_error_code(errc::corrupt));  // positions are gapless
    if (auto ec = make_record(expected_position, it->value().ToStringView(), r))
      return std::unexpected(ec);
    ++expected_position;
    ++visited;
    if (!visit(r)) return visited;
  }
  if (!it->status().ok()) return std::unexpected(read_error(it->status()));
  return visited;
}

std::uint64_t log_impl::stream_version(std::string_view stream) {
  catch_up();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[cf_streams]));
  return last_version_in_db(*it, stream);
}

std::optional<std::string> log_impl::resolve_alias(std::string_view alias) {
  catch_up();
  std::string stream;
  auto s = db_->Get(rocksdb::ReadOptions(), cf_[cf_aliases], rocksdb::Slice(alias), &stream);
  if (!s.ok()) return std::nullopt;
  return stream;
}

}  // namespace backline::eventlog::detail
