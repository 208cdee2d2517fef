#include "eventlog/kafka/position_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace backline::kafka {
namespace {

std::string os_error(std::string_view what, const std::string& path) {
  return fmt::format("{} {}: {}", what, path, std::strerror(errno));
}

}  // namespace

std::expected<std::uint64_t, std::string> position_file::load() const {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;
    return std::unexpected(os_error("cannot open the Kafka published position", path_));
  }
  char buf[64];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) return std::unexpected(os_error("cannot read the Kafka published position", path_));
  std::uint64_t position = 0;
  const auto [end, ec] = std::from_chars(buf, buf + n, position);
  if (ec != std::errc{} || end == buf) {
    return std::unexpected(
        fmt::format("{} does not hold a log position: remove it to publish the whole log again "
                    "(consumers dedupe by ce_id), or write the last published position into it",
                    path_));
  }
  return position;
}

std::expected<void, std::string> position_file::store(std::uint64_t position) const {
  const std::filesystem::path target(path_);
  const std::string tmp = path_ + ".tmp";
  const std::string text = fmt::format("{}\n", position);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::unexpected(os_error("cannot create", tmp));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return std::unexpected(os_error("cannot write", tmp));
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    return std::unexpected(os_error("cannot rename into", path_));
  }
  // The rename itself is durable only once the directory is synced.
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return std::unexpected(os_error("cannot open directory", dir));
  const bool dir_synced = ::fsync(dfd) == 0;
  ::close(dfd);
  if (!dir_synced) return std::unexpected(os_error("cannot sync directory", dir));
  return {};
}

}  // namespace backline::kafka
