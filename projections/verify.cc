// Replay-and-verify: rebuild from position 0 and compare every model by hash, then by key where
// the hashes differ.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "eventlog/log.h"
#include "projections/projector.h"

namespace backline::projections {
namespace {

constexpr std::size_t differences_max = 5;

std::string printable(std::string_view key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

// Walks `a` and looks each key up in `b`: keys only in `a` and keys whose values differ.
std::error_code walk(const store& a, const store& b, model m, std::uint64_t& only_a,
                     std::uint64_t* different, std::vector<std::string>& firsts) {
  std::error_code lookup_ec;
  auto ec = a.scan(m, {}, {}, [&](std::string_view k, std::string_view v) {
    auto other = b.get(m, k);
    if (!other) {
      lookup_ec = other.error();
      return false;
    }
    const bool missing = !other->has_value();
    const bool differs = !missing && **other != v;
    if (missing) ++only_a;
    if (differs && different) ++*different;
    if ((missing || (differs && different)) && firsts.size() < differences_max) {
      firsts.push_back(printable(k));
    }
    return true;
  });
  return ec ? ec : lookup_ec;
}

std::expected<model_check, std::error_code> check(const store& live, const store& rebuilt,
                                                  model m) {
  model_check c;
  c.which = m;
  auto l = live.digest(m);
  if (!l) return std::unexpected(l.error());
  auto r = rebuilt.digest(m);
  if (!r) return std::unexpected(r.error());
  c.live = *l;
  c.rebuilt = *r;
  if (c.equal()) return c;
  if (auto ec = walk(live, rebuilt, m, c.only_live, &c.different, c.first_differences)) {
    return std::unexpected(ec);
  }
  if (auto ec = walk(rebuilt, live, m, c.only_rebuilt, nullptr, c.first_differences)) {
    return std::unexpected(ec);
  }
  return c;
}

std::expected<verify_report, std::error_code> compare(eventlog::log& log, const store& live,
                                                      const std::string& scratch_dir) {
  verify_report report;
  report.checkpoint = live.checkpoint();
  auto built = rebuild(log, scratch_dir, report.checkpoint);
  if (!built) return std::unexpected(built.error());
  auto rebuilt = store::open({scratch_dir, open_mode::read_write});
  if (!rebuilt) return std::unexpected(rebuilt.error());
  for (std::size_t i = 0; i < model_count; ++i) {
    auto c = check(live, **rebuilt, static_cast<model>(i));
    if (!c) return std::unexpected(c.error());
    report.models.push_back(std::move(*c));
  }
  return report;
}

}  // namespace

bool verify_report::equal() const {
  return std::ranges::all_of(models, [](const model_check& c) { return c.equal(); });
}

std::expected<verify_report, std::error_code> replay_and_verify(eventlog::log& log,
                                                                const store& live,
                                                                const std::string& scratch_dir,
                                                                bool keep_scratch) {
  auto report = compare(log, live, scratch_dir);
  if (!keep_scratch) {
    std::error_code ignored;
    std::filesystem::remove_all(scratch_dir, ignored);
  }
  return report;
}

std::string render(const verify_report& r) {
  std::string out = fmt::format("checkpoint {}\n", r.checkpoint);
  for (const auto& c : r.models) {
    out += fmt::format("{:<20} {} live {:016x} ({} keys) rebuilt {:016x} ({} keys)",
                       model_name(c.which), c.equal() ? "equal    " : "DIFFERENT", c.live.hash,
                       c.live.keys, c.rebuilt.hash, c.rebuilt.keys);
    if (!c.equal()) {
      out += fmt::format(" only_live={} only_rebuilt={} different={} first=[{}]", c.only_live,
                         c.only_rebuilt, c.different, fmt::join(c.first_differences, ", "));
    }
    out += '\n';
  }
  out += r.equal() ? "verdict: every read model equals its rebuild\n"
                   : "verdict: the live store differs from its rebuild\n";
  return out;
}

}  // namespace backline::projections
