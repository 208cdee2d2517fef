#pragma once
// Private to tools/: what the projection-backed subcommands (cli_views.h) need from the read
// models. cli_views.cc parses arguments and prints; a backend only fetches. The backend is
// cli_views_projections.cc (projections/ store and projector).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/cli_common.h"
#include "tools/cli_svg.h"

namespace backline::cli {

struct list_query {
  std::string type, agent, queue, parent;               // empty: any
  std::int64_t from_us = INT64_MIN, to_us = INT64_MAX;  // start_time in [from_us, to_us)
  std::size_t limit = 100;
};

struct report_query {
  std::string name, by;  // by: none | day | hour
  std::int64_t from_us = 0, to_us = 0;
};

// A report as rows of cells (strings, integers, doubles); string columns are keys (bucket,
// agent, mode...), numeric ones measures.
struct report_table {
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;
};
// The chart of a report: the x axis joins the key cells of a row, one series per measure.
report_data to_chart(const report_table& t);

// A conversation's tree: customer-facing segments in order, each with its consults and
// supervisor sessions as "children" (projections/queries.h), and its text rendering.
struct chain_view {
  nlohmann::json tree;
  std::string text;
};

// One read model compared by replay --verify.
struct model_line {
  std::string model;
  std::uint64_t live_hash = 0, rebuilt_hash = 0, live_keys = 0, rebuilt_keys = 0;
  bool equal = true;
  std::vector<std::string> first_differences;
};
struct replay_outcome {
  std::uint64_t checkpoint = 0;  // the log position both stores were compared at
  bool verified = false;         // false: the store was only caught up
  std::vector<model_line> models;
  bool equal() const {
    for (const auto& m : models) {
      if (!m.equal) return false;
    }
    return true;
  }
};

class view_backend {
 public:
  virtual ~view_backend() = default;
  // The VoiceCall record; nullopt when the view has no such id.
  virtual result<std::optional<nlohmann::json>> voice_call(const std::string& id) = 0;
  // Records in start_time order, at most q.limit.
  virtual result<std::vector<nlohmann::json>> list(const list_query& q) = 0;
  // The tree of `id`'s conversation; nullopt when unknown.
  virtual result<std::optional<chain_view>> chain(const std::string& id) = 0;
  virtual result<report_table> report(const report_query& q) = 0;
  // `on_progress(done, total)` while it rebuilds (total 0 when unknown).
  virtual result<replay_outcome> replay(
      bool verify, const std::function<void(std::uint64_t, std::uint64_t)>& on_progress) = 0;
  virtual std::uint64_t checkpoint() const = 0;
};

// Opens the read models of `data_dir` read-only (replay: read-write on its own scratch store).
result<std::unique_ptr<view_backend>> open_views(const std::string& data_dir);

}  // namespace backline::cli
