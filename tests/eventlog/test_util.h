#pragma once
// Helpers for the event log suites: a temporary directory, envelopes, synchronous appends.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "eventlog/log.h"
#include "schemas/codec.h"

namespace backline::eventlog::testing {

// A fresh directory under GoogleTest's temp dir, removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = ::testing::TempDir() + "backline-eventlog-XXXXXX";
    if (!pattern.starts_with("/")) pattern = "./" + pattern;
    path_ = ::mkdtemp(pattern.data());
    EXPECT_FALSE(path_.empty());
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// An envelope for stream "<kind>/<id>" at `version`, as the call actor would encode it.
inline std::string envelope(std::string_view kind, std::string_view id, std::uint64_t version) {
  schemas::envelope_meta meta;
  meta.event_id = schemas::make_uuid_v7(1'700'000'000'000, version, 42);
  meta.stream_kind = kind;
  meta.stream_id = id;
  meta.stream_version = version;
  meta.occurred_at_us = 1'700'000'000'000'000;
  meta.correlation_id = std::string(id);
  meta.causation_id = "cmd-1";
  meta.tenant = "acme";
  meta.principal = "agent-7";
  return schemas::encode(meta, domain::evt::call_ringing{std::string(id), "agent-7"});
}

// A pending event for stream "call/<id>".
inline pending_event event(std::string_view id, std::uint64_t version) {
  return {.stream = "call/" + std::string(id),
          .stream_version = version,
          .envelope = envelope("call", id, version)};
}

inline append_request request(std::vector<pending_event> events,
                              std::vector<std::pair<std::string, std::string>> aliases = {}) {
  append_request r;
  r.events = std::move(events);
  r.aliases = std::move(aliases);
  return r;
}

using outcome = std::expected<std::uint64_t, std::error_code>;

// Appends and waits for the writer's answer (or the immediate refusal).
inline outcome append_and_wait(log& l, append_request r) {
  auto p = std::make_shared<std::promise<outcome>>();
  auto f = p->get_future();
  r.done = [p](outcome o) { p->set_value(o); };
  if (auto ec = l.append(std::move(r))) return std::unexpected(ec);
  return f.get();
}

inline std::unique_ptr<log> open_log(const std::string& dir,
                                     durability mode = durability::wal_no_sync,
                                     std::size_t queue_requests_max = 65'536) {
  options o;
  o.dir = dir;
  o.durability_mode = mode;
  o.queue_requests_max = queue_requests_max;
  auto l = log::open(o);
  EXPECT_TRUE(l.has_value()) << (l ? "" : l.error().message());
  return l ? std::move(*l) : nullptr;
}

}  // namespace backline::eventlog::testing
