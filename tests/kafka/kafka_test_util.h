#pragma once
// Helpers for the Kafka suite: reading topics with the real `kcat -C -J` (Debian's kcat, a
// client nobody here wrote), events to fill a log with, and checks shared by the tests.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "eventlog/log.h"
#include "schemas/codec.h"
#include "tests/eventlog/test_util.h"
#include "tests/tools/subprocess.h"

namespace backline::kafka::testing {

// One record as kcat prints it with -J.
struct kcat_record {
  std::string topic;
  std::int64_t partition = -1, offset = -1;
  std::int64_t timestamp_ms = -1;  // kcat's "ts"
  std::optional<std::string> key;
  std::string payload;  // the value's exact bytes
  std::vector<std::pair<std::string, std::string>> headers;

  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  }
};

// kcat -J writes each value as a JSON string: bytes below 0x20, '"' and '\' escaped, every other
// byte (binary FlatBuffers included) as is. So this reader is byte-exact and does not insist on
// UTF-8, unlike a general JSON parser.
class kcat_line_parser {
 public:
  explicit kcat_line_parser(std::string_view line) : s_(line) {}

  std::optional<kcat_record> parse() {
    kcat_record r;
    if (!eat('{')) return std::nullopt;
    while (!eat('}')) {
      auto name = string();
      if (!name || !eat(':')) return std::nullopt;
      if (*name == "topic") {
        auto v = string();
        if (!v) return std::nullopt;
        r.topic = *v;
      } else if (*name == "partition" || *name == "offset" || *name == "ts") {
        auto v = number();
        if (!v) return std::nullopt;
        (*name == "partition" ? r.partition : *name == "offset" ? r.offset : r.timestamp_ms) = *v;
      } else if (*name == "key" || *name == "payload") {
        std::optional<std::string> v;
        if (!null()) {
          v = string();
          if (!v) return std::nullopt;
        }
        if (*name == "key") {
          r.key = v;
        } else {
          r.payload = v.value_or("");
        }
      } else if (*name == "headers") {
        if (!eat('[')) return std::nullopt;
        while (!eat(']')) {
          auto n = string();
          if (!n || !eat(',')) return std::nullopt;
          std::optional<std::string> v;
          if (!null()) v = string();
          r.headers.emplace_back(*n, v.value_or(""));
          eat(',');
        }
      } else if (!skip_scalar()) {
        return std::nullopt;
      }
      eat(',');
    }
    return r;
  }

 private:
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool null() {
    if (s_.substr(i_, 4) == "null") {
      i_ += 4;
      return true;
    }
    return false;
  }
  std::optional<std::int64_t> number() {
    std::size_t start = i_;
    if (eat('-')) {
    }
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    if (i_ == start) return std::nullopt;
    return std::stoll(std::string(s_.substr(start, i_ - start)));
  }
  bool skip_scalar() {
    if (i_ < s_.size() && s_[i_] == '"') return string().has_value();
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}') ++i_;
    return true;
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      const char e = s_[i_++];
      switch (e) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return std::nullopt;
          const unsigned v = std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16);
          i_ += 4;
          if (v > 0xff) return std::nullopt;  // kcat only escapes single bytes
          out.push_back(static_cast<char>(v));
          break;
        }
        default:
          out.push_back(e);  // '"', '\\', '/'
      }
    }
    return std::nullopt;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

// Every record of `topic` from the beginning to the current end, via `kcat -C -J -e`.
inline std::vector<kcat_record> kcat_read(const std::string& bootstrap, const std::string& topic) {
  const std::string cmd =
      std::string(KCAT) + " -C -J -q -e -b " + bootstrap + " -t " + topic + " 2>&1";
  std::vector<kcat_record> out;
  FILE* p = ::popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr) << cmd;
  if (!p) return out;
  std::string line;
  int c;
  auto flush_line = [&] {
    if (line.empty()) return;
    auto r = kcat_line_parser(line).parse();
    EXPECT_TRUE(r.has_value()) << "kcat printed something else than a record: "
                               << line.substr(0, 300);
    if (r) out.push_back(std::move(*r));
    line.clear();
  };
  while ((c = std::fgetc(p)) != EOF) {
    if (c == '\n') {
      flush_line();
    } else {
      line.push_back(static_cast<char>(c));
    }
  }
  flush_line();
  EXPECT_EQ(::pclose(p), 0) << cmd;
  return out;
}

// A call or agent event with a unique event id (stream index and version in its random bits).
inline std::string test_envelope(std::string_view kind, std::uint32_t stream,
                                 std::uint64_t version) {
  schemas::envelope_meta meta;
  meta.event_id = schemas::make_uuid_v7(1'700'000'000'000 + static_cast<std::int64_t>(version),
                                        stream, version);
  meta.stream_kind = kind;
  meta.stream_id = std::string(kind) + "-" + std::to_string(stream);
  meta.stream_version = version;
  meta.occurred_at_us = 1'700'000'000'000'000 + static_cast<std::int64_t>(version);
  meta.correlation_id = meta.stream_id;
  meta.causation_id = "cmd-" + std::to_string(version);
  meta.tenant = "acme";
  meta.principal = "tester";
  if (kind == "agent") {
    return schemas::encode(meta, domain::agent_event_body{domain::agent_evt::presence_changed{
                                     domain::presence::available, ""}});
  }
  return schemas::encode(meta, domain::evt::call_ringing{meta.stream_id, "agent-7"});
}

// Appends `count` events over `streams` streams (every 10th an agent stream), in requests of
// `per_request`. `versions` carries the streams' versions between calls.
inline void append_events(eventlog::log& log, std::size_t count, std::uint32_t streams,
                          std::vector<std::uint64_t>& versions, std::size_t per_request = 50) {
  versions.resize(streams, 0);
  std::size_t done = 0;
  std::uint32_t s = 0;
  while (done < count) {
    eventlog::append_request r;
    for (std::size_t i = 0; i < per_request && done < count; ++i, ++done) {
      s = (s * 7 + 3) % streams;
      const std::string kind = s % 10 == 0 ? "agent" : "call";
      const auto v = ++versions[s];
      r.events.push_back(
          {kind + "/" + kind + "-" + std::to_string(s), v, test_envelope(kind, s, v)});
    }
    auto outcome = eventlog::testing::append_and_wait(log, std::move(r));
    ASSERT_TRUE(outcome.has_value()) << outcome.error().message();
  }
}

// What was read from Kafka, checked against the log: every event present, payloads equal to
// the log's bytes, each key's events in order. Returns the number of duplicate copies.
struct delivery_report {
  std::size_t records = 0, unique = 0, duplicates = 0, missing = 0;
  std::set<std::uint64_t> duplicated_positions;
};

inline delivery_report check_against_log(eventlog::log& log,
                                         const std::vector<kcat_record>& records) {
  delivery_report rep;
  rep.records = records.size();
  auto all = log.read_from(1, SIZE_MAX);
  EXPECT_TRUE(all.has_value());
  if (!all) return rep;
  std::map<std::string, const eventlog::record*> by_id;
  for (const auto& r : *all) {
    auto d = schemas::decode(r.envelope);
    EXPECT_TRUE(d.has_value());
    if (d) by_id[schemas::to_string(d->meta.event_id)] = &r;
  }
  // Consumer-side dedupe: keep the first copy of each ce_id, per partition in offset order.
  std::map<std::pair<std::string, std::int64_t>, std::vector<const kcat_record*>> partitions;
  for (const auto& k : records) partitions[{k.topic, k.partition}].push_back(&k);
  std::set<std::string> seen;
  std::map<std::string, std::uint64_t> last_version;  // per stream, after dedupe
  for (auto& [tp, list] : partitions) {
    std::sort(list.begin(), list.end(),
              [](const kcat_record* a, const kcat_record* b) { return a->offset < b->offset; });
    for (const kcat_record* k : list) {
      const std::string id = k->header("ce_id");
      auto it = by_id.find(id);
      EXPECT_NE(it, by_id.end()) << "a record whose ce_id is not in the log: " << id;
      if (it == by_id.end()) continue;
      EXPECT_EQ(k->payload, it->second->envelope)
          << "payload differs from the log at position " << it->second->position;
      if (!seen.insert(id).second) {
        ++rep.duplicates;
        rep.duplicated_positions.insert(it->second->position);
        continue;
      }
      const std::string& stream = it->second->stream;
      EXPECT_EQ(k->key.value_or(""), stream.substr(stream.find('/') + 1));
      auto& last = last_version[stream];
      EXPECT_EQ(it->second->stream_version, last + 1)
          << stream << " out of order in " << tp.first << "[" << tp.second << "]";
      last = it->second->stream_version;
    }
  }
  rep.unique = seen.size();
  rep.missing = by_id.size() - seen.size();
  return rep;
}

inline std::string this_test_name() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

// backlined run from the source tree (it loads deploy/ from there) with `args`, on an ephemeral
// API port; `scratch` names the files that catch its output.
inline backline::testing::run_result run_backlined(const std::string& args,
                                                   const std::string& scratch) {
  return backline::testing::run(BACKLINED, args + " --listen 127.0.0.1:0", scratch);
}

}  // namespace backline::kafka::testing
