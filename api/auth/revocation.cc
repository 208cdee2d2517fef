#include "api/auth/revocation.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/auth/keys.h"

namespace backline::auth {

namespace {
// A full list is entries_max ids of at most jti_bytes_max bytes plus JSON framing.
constexpr std::size_t entry_bytes_max = jti_bytes_max * 6 + 64;  // worst-case \u escapes
}  // namespace

bool valid_jti(std::string_view jti) {
  return !jti.empty() && jti.size() <= jti_bytes_max &&
         std::all_of(jti.begin(), jti.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

result<std::shared_ptr<revocation_list>> revocation_list::open(const std::filesystem::path& path,
                                                               std::size_t entries_max) {
  auto list = std::make_shared<revocation_list>(entries_max);
  if (auto loaded = list->load(path); !loaded) return std::unexpected(loaded.error());
  list->path_ = path;
  return list;
}

result<void> revocation_list::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return {};
  const auto size = std::filesystem::file_size(path, ec);
  if (ec)
    return fail(errc::io_error, fmt::format("cannot read {}: {}", path.string(), ec.message()));
  if (size > entries_max_ * entry_bytes_max + 64) {
    return fail(errc::limit_exceeded,
                fmt::format("{} is larger than a full revocation list", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  std::string text(size, '\0');
  if (!in || !in.read(text.data(), static_cast<std::streamsize>(size))) {
    return fail(errc::io_error, fmt::format("cannot read {}", path.string()));
  }
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&] {
    return fail(errc::bad_json,
                fmt::format("{} is not a revocation list ({{\"version\":1,\"revoked\":[...]}}): "
                            "fix or remove it",
                            path.string()));
  };
  if (!doc.is_object() || doc.value("version", 0) != 1 || !doc.contains("revoked") ||
      !doc["revoked"].is_array()) {
    return bad();
  }
  std::unique_lock lock(mu_);
  entries_.clear();
  for (const auto& e : doc["revoked"]) {
    if (!e.is_object() || !e.contains("jti") || !e["jti"].is_string() || !e.contains("exp") ||
        !e["exp"].is_number_integer()) {
      return bad();
    }
    const auto& jti = e["jti"].get_ref<const std::string&>();
    if (!valid_jti(jti)) return bad();
    if (entries_.size() >= entries_max_) {
      return fail(errc::limit_exceeded,
                  fmt::format("{} holds more than {} revoked ids", path.string(), entries_max_));
    }
    auto& exp = entries_[jti];
    exp = std::max(exp, e["exp"].get<std::int64_t>());
  }
  return {};
}

result<void> revocation_list::revoke(std::string_view jti, std::int64_t exp_s) {
  if (!valid_jti(jti)) {
    return fail(
        errc::invalid_claim,
        fmt::format("a token id (jti) has 1 to {} printable ASCII characters", jti_bytes_max));
  }
  std::unique_lock lock(mu_);
  auto it = entries_.find(std::string(jti));
  if (it == entries_.end()) {
    if (entries_.size() >= entries_max_) {
      return fail(errc::limit_exceeded,
                  fmt::format("the revocation list is full ({} ids): prune expired ids or raise "
                              "the limit",
                              entries_max_));
    }
    entries_.emplace(std::string(jti), exp_s);
  } else {
    it->second = std::max(it->second, exp_s);
  }
  if (path_.empty()) return {};
  return write_file_atomically(path_, to_json_locked(), 0600);
}

bool revocation_list::contains(std::string_view jti) const {
  std::shared_lock lock(mu_);
  return entries_.contains(std::string(jti));
}

std::size_t revocation_list::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

std::size_t revocation_list::prune(std::int64_t now_s, std::int64_t keep_after_exp_s) {
  std::unique_lock lock(mu_);
  return std::erase_if(entries_,
                       [&](const auto& e) { return e.second < now_s - keep_after_exp_s; });
}

result<void> revocation_list::save(const std::filesystem::path& path) const {
  std::shared_lock lock(mu_);
  return write_file_atomically(path, to_json_locked(), 0600);
}

std::string revocation_list::to_json_locked() const {
  // Sorted, so the same list always writes the same bytes.
  std::map<std::string_view, std::int64_t> sorted;
  for (const auto& [jti, exp] : entries_) sorted.emplace(jti, exp);
  nlohmann::json revoked = nlohmann::json::array();
  for (const auto& [jti, exp] : sorted) revoked.push_back({{"jti", jti}, {"exp", exp}});
  return nlohmann::json{{"version", 1}, {"revoked", std::move(revoked)}}.dump() + "\n";
}

}  // namespace backline::auth
