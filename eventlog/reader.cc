// Readers: any thread, concurrently with the writer. RocksDB iterators and Gets only; every
// envelope read back is verified again (DESIGN invariant 6, paired with the writer's check).

#include <algorithm>
#include <chrono>
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

// One iterator over the events column family, kept between reads that continue each other.
class log_cursor final : public log::cursor {
 public:
  // `reopen_after`: events read with one iterator before it is remade (log::cursor).
  log_cursor(log_impl& log, read_hint hint, std::size_t reopen_after)
      : log_(log), hint_(hint), reopen_after_(std::max<std::size_t>(reopen_after, 1)) {}

  std::expected<std::size_t, std::error_code> visit_from(
      std::uint64_t from, std::size_t max,
      const std::function<bool(const record&)>& visit) override {
    log_.catch_up();
    from = std::max<std::uint64_t>(from, 1);
    const auto last = log_.committed_position();  // never ahead of what `done` may have announced
    if (from > last || max == 0) return 0;
    const auto now = std::chrono::steady_clock::now();
    if (!it_ || from != next_ || !it_->Valid() || read_ >= reopen_after_ ||
        now - opened_at_ >= max_age) {
      open(from, last);
      opened_at_ = now;
    }
    std::size_t visited = 0;
    while (it_->Valid() && visited < max) {
      if (it_->key().size() != 8 || get_u64_be(it_->key().data()) != next_)
        return fail(make_error_code(errc::corrupt));  // positions are gapless
      if (auto ec = make_record(next_, it_->value().ToStringView(), record_)) return fail(ec);
      ++next_;
      ++read_;
      ++visited;
      const bool more = visit(record_);
      it_->Next();  // past the visited event, so a read from next_ goes on from here
      if (!more) break;
    }
    if (!it_->status().ok()) return fail(read_error(it_->status()));
    if (!it_->Valid()) release();  // at the end it saw: hold nothing while the reader waits
    return visited;
  }

  void release() override { it_.reset(); }

 private:
  static constexpr std::chrono::seconds max_age{1};

  void open(std::uint64_t from, std::uint64_t last) {
    it_.reset();  // before the bound it reads changes
    char start[8];
    put_u64_be(start, from);
    put_u64_be(end_, last + 1);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_;
    if (hint_ == read_hint::scan) {
      ro.fill_cache = false;
      // At most what the iterator will read before it is remade (a new iterator's first read
      // fetches the whole read-ahead: a fixed 2 MiB under 1,024-event reads, each with a new
      // iterator, copied six times the bytes used), and at most 256 KiB: a chunk that is still
      // in the CPU's cache when the events in it are visited. Through a cursor, 2 MiB and
      // 256 KiB measured the same within the machine's noise (bench/RESULTS.md, issue 6).
      constexpr std::size_t event_bytes_guess = 512, readahead_min = 64 << 10,
                            readahead_max = 256 << 10;
      const auto events = std::min<std::uint64_t>(last - from + 1, reopen_after_);
      ro.readahead_size =
          std::clamp<std::uint64_t>(events * event_bytes_guess, readahead_min, readahead_max);
    }
    it_.reset(log_.db_->NewIterator(ro, log_.cf_[cf_events]));
    it_->Seek(rocksdb::Slice(start, 8));
    next_ = from;
    read_ = 0;
  }

  std::unexpected<std::error_code> fail(std::error_code ec) {
    release();  // the next read starts afresh
    return std::unexpected(ec);
  }

  log_impl& log_;
  const read_hint hint_;
  const std::size_t reopen_after_;
  char end_[8] = {};
  rocksdb::Slice upper_{end_, 8};
  std::unique_ptr<rocksdb::Iterator> it_;
  std::uint64_t next_ = 0;  // the position it_ is on while it is valid
  std::size_t read_ = 0;    // events read since it_ was made
  std::chrono::steady_clock::time_point opened_at_{};
  record record_;  // refilled in place for each event
};

// read_from without the vector: one record, refilled in place for each event.
std::expected<std::size_t, std::error_code> log_impl::visit_from(
    std::uint64_t from, std::size_t max, const std::function<bool(const record&)>& visit,
    read_hint hint) {
  return log_cursor(*this, hint, max).visit_from(from, max, visit);
}

std::unique_ptr<log::cursor> log_impl::open_cursor(read_hint hint,
                                                   std::size_t reopen_after_events) {
  return std::make_unique<log_cursor>(*this, hint, reopen_after_events);
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
