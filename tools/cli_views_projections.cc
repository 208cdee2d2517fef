// The view backend on projections/: the store opened read-only (a secondary of
// `<data>/projections`), its queries and reports, and the projector for replay.
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "eventlog/log.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "projections/reports.h"
#include "projections/store.h"
#include "schemas/codec.h"
#include "tools/cli_views.h"
#include "tools/cli_views_backend.h"

namespace backline::cli {
namespace {

namespace pj = backline::projections;
using nlohmann::json;

cli_error store_error(std::error_code ec, const std::string& what) {
  const bool corrupt = ec == pj::errc::corrupt;
  return {
      corrupt ? exit_check_failed : exit_not_found,
      fmt::format("{}: {}{}", what, ec.message(), corrupt ? "; run backline replay --verify" : "")};
}

json to_json(const pj::cell& c) {
  return std::visit([](const auto& v) { return json(v); }, c);
}

class projections_backend final : public view_backend {
 public:
  explicit projections_backend(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  result<std::optional<json>> voice_call(const std::string& id) override {
    auto st = live();
    if (!st) return std::unexpected(st.error());
    auto r = pj::get_call(**st, id);
    if (!r) return std::unexpected(store_error(r.error(), "cannot read the VoiceCall view"));
    return std::move(*r);
  }

  result<std::vector<json>> list(const list_query& q) override {
    pj::list_filter f;
    if (!q.type.empty()) f.type = pj::parse_call_type(q.type);
    f.agent = q.agent;
    f.queue = q.queue;
    f.parent = q.parent;
    f.from_us = q.from_us;
    f.to_us = q.to_us;
    f.limit = q.limit;
    auto st = live();
    if (!st) return std::unexpected(st.error());
    auto r = pj::list_calls(**st, f);
    if (!r) return std::unexpected(store_error(r.error(), "cannot list the VoiceCall view"));
    return std::move(*r);
  }

  result<std::optional<chain_view>> chain(const std::string& id) override {
    auto st = live();
    if (!st) return std::unexpected(st.error());
    auto r = pj::chain(**st, id);
    if (!r) return std::unexpected(store_error(r.error(), "cannot read the chain"));
    if (!*r) return std::optional<chain_view>{};
    std::string text = pj::render_chain(**r);
    return chain_view{std::move(**r), std::move(text)};
  }

  result<report_table> report(const report_query& q) override;
  result<replay_outcome> replay(
      bool verify, const std::function<void(std::uint64_t, std::uint64_t)>& on_progress) override;
  std::uint64_t checkpoint() const override { return live_ ? live_->checkpoint() : 0; }

 private:
  // The live store, opened read-only on first use (replay may create it first).
  result<pj::store*> live() {
    if (live_) return live_.get();
    auto st = pj::store::open({pj::default_store_dir(data_dir_), pj::open_mode::read_only});
    if (!st && st.error() == pj::errc::not_found) {
      return fail(exit_not_found,
                  fmt::format("no read models under {}: run backline replay --data {} to build "
                              "them from the log",
                              pj::default_store_dir(data_dir_), data_dir_));
    }
    if (!st) return std::unexpected(store_error(st.error(), "cannot open the read models"));
    live_ = std::move(*st);
    return live_.get();
  }
  result<replay_outcome> verify(eventlog::log& log);

  std::string data_dir_;
  std::unique_ptr<pj::store> live_;
};

result<report_table> projections_backend::report(const report_query& q) {
  const auto by = pj::parse_group_by(q.by.empty() ? "none" : q.by);
  if (!by) return fail(exit_usage, fmt::format("--by: '{}' is not none, day or hour", q.by));
  const auto& names = pj::report_names();
  if (std::ranges::find(names, q.name) == names.end()) {
    return fail(exit_usage,
                fmt::format("unknown report '{}'; reports: {}", q.name, fmt::join(names, ", ")));
  }
  auto st = live();
  if (!st) return std::unexpected(st.error());
  auto t = pj::report(**st, q.name, {q.from_us, q.to_us, *by});
  if (!t) return std::unexpected(store_error(t.error(), "cannot compute the report"));
  report_table out{fmt::format("{} from {} to {}", q.name, schemas::format_rfc3339_us(q.from_us),
                               schemas::format_rfc3339_us(q.to_us)),
                   t->columns,
                   {}};
  for (const auto& row : t->rows) {
    std::vector<json> cells;
    for (const auto& c : row) cells.push_back(to_json(c));
    out.rows.push_back(std::move(cells));
  }
  return out;
}

result<replay_outcome> projections_backend::verify(eventlog::log& log) {
  auto st = live();
  if (!st) return std::unexpected(st.error());
  // The scratch store sits beside the live one (same disk), named after this process.
  const std::string scratch = data_dir_ + "/replay-verify-" + std::to_string(::getpid());
  auto r = pj::replay_and_verify(log, **st, scratch);
  if (!r) return std::unexpected(store_error(r.error(), "replay --verify failed"));
  replay_outcome out{r->checkpoint, true, {}};
  for (const auto& m : r->models) {
    out.models.push_back({std::string(pj::model_name(m.which)), m.live.hash, m.rebuilt.hash,
                          m.live.keys, m.rebuilt.keys, m.equal(), m.first_differences});
  }
  return out;
}

result<replay_outcome> projections_backend::replay(
    bool verify_only, const std::function<void(std::uint64_t, std::uint64_t)>& on_progress) {
  auto log = open_log(data_dir_);
  if (!log) return std::unexpected(log.error());
  if (verify_only) return verify(**log);
  auto st = pj::store::open({pj::default_store_dir(data_dir_), pj::open_mode::read_write});
  if (!st && st.error() == pj::errc::busy) {
    return fail(exit_not_found,
                "the running engine keeps the read models up to date (it holds "
                "them): stop backlined first, or run backline replay --verify");
  }
  if (!st) return std::unexpected(store_error(st.error(), "cannot open the read models"));
  const std::uint64_t total = refresh_committed(**log);
  pj::projector_options opts;
  opts.on_flush = [&](std::uint64_t checkpoint) { on_progress(checkpoint, total); };
  pj::projector p(**log, **st, opts);
  auto caught_up = p.catch_up();
  if (!caught_up) return std::unexpected(store_error(caught_up.error(), "replay failed"));
  return replay_outcome{*caught_up, false, {}};
}

}  // namespace

bool views_available() {
  return true;
}

std::vector<std::string> report_names() {
  const auto& names = pj::report_names();
  return {names.begin(), names.end()};
}

result<std::unique_ptr<view_backend>> open_views(const std::string& data_dir) {
  if (auto ok = require_log_dir(data_dir); !ok) return std::unexpected(ok.error());
  return std::make_unique<projections_backend>(data_dir);
}

}  // namespace backline::cli
