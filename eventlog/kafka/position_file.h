#pragma once
// The publisher's stored position: the last log position whose records (and every record
// before it) Kafka acknowledged. One small text file, replaced atomically (write a temporary,
// fsync, rename, fsync the directory), so a crash leaves the old or the new value, never a torn
// one. The event log exposes no API to write its own `meta` column family, hence a file.
//
// Not thread-safe: one owner (the publisher's relay thread).

#include <cstdint>
#include <expected>
#include <string>

namespace backline::kafka {

class position_file {
 public:
  explicit position_file(std::string path) : path_(std::move(path)) {}

  // The stored position; 0 when the file does not exist (nothing published yet). A file that
  // exists but does not hold a number is an error (a sentence for the operator).
  std::expected<std::uint64_t, std::string> load() const;
  // Durably replaces the stored position. Errors are sentences for the operator.
  std::expected<void, std::string> store(std::uint64_t position) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace backline::kafka
