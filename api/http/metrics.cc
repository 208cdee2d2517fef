#include "api/http/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace backline::http::metrics {

namespace {

[[noreturn]] void fail(std::string_view what, std::string_view name) {
  std::fprintf(stderr, "backline::http::metrics: %.*s: '%.*s'\n", int(what.size()), what.data(),
               int(name.size()), name.data());
  std::abort();
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void escape_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
}

std::string render_labels(const labels& l, std::string_view extra_name = {},
                          std::string_view extra_value = {}) {
  if (l.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : l) {
    if (!first) out.push_back(',');
    first = false;
    out += k;
    out += "=\"";
    escape_label_value(out, v);
    out.push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out.push_back(',');
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

void escape_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
}

}  // namespace

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void histogram::observe(double v) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);  // le: v <= bound
  buckets_[std::size_t(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> histogram::bucket_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return out;
}

std::vector<double> latency_buckets_seconds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

registry::series& registry::find_or_add(kind type, std::string_view name, std::string_view help,
                                        const labels& l, const std::vector<double>* bounds) {
  if (!name.starts_with("backline_") || !valid_name(name)) {
    fail("a metric name is backline_[a-z0-9_]*", name);
  }
  if ((type == kind::counter) != name.ends_with("_total")) {
    fail("counters, and only counters, end in _total", name);
  }
  for (const auto& [k, v] : l) {
    if (!valid_name(k) || k.starts_with("__") || k == "le") fail("a bad label name", k);
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    family f;
    f.type = type;
    f.help = help;
    if (bounds) f.bounds = *bounds;
    it = families_.emplace(std::string(name), std::move(f)).first;
  } else if (it->second.type != type || it->second.help != help ||
             (bounds && it->second.bounds != *bounds)) {
    fail("a metric is registered again with another type, help or buckets", name);
  }
  auto key = render_labels(l);
  auto s = it->second.by_labels.find(key);
  if (s == it->second.by_labels.end()) {
    series fresh;
    fresh.label_set = l;
    s = it->second.by_labels.emplace(key, std::move(fresh)).first;
  }
  return s->second;
}

metrics::counter& registry::counter(std::string_view name, std::string_view help, const labels& l) {
  std::lock_guard lock(mutex_);
  auto& s = find_or_add(kind::counter, name, help, l, nullptr);
  if (s.read_count) fail("a counter is either incremented or read through a callback", name);
  if (!s.c) s.c = std::make_unique<metrics::counter>();
  return *s.c;
}

metrics::gauge& registry::gauge(std::string_view name, std::string_view help, const labels& l) {
  std::lock_guard lock(mutex_);
  auto& s = find_or_add(kind::gauge, name, help, l, nullptr);
  if (s.read) fail("a gauge is either set or read through a callback", name);
  if (!s.g) s.g = std::make_unique<metrics::gauge>();
  return *s.g;
}

metrics::histogram& registry::histogram(std::string_view name, std::string_view help,
                                        const labels& l, std::vector<double> upper_bounds) {
  if (!std::is_sorted(upper_bounds.begin(), upper_bounds.end())) {
    fail("histogram buckets are sorted", name);
  }
  std::lock_guard lock(mutex_);
  auto& s = find_or_add(kind::histogram, name, help, l, &upper_bounds);
  if (!s.h) s.h = std::make_unique<metrics::histogram>(std::move(upper_bounds));
  return *s.h;
}

void registry::gauge_callback(std::string_view name, std::string_view help, const labels& l,
                              std::function<double()> read) {
  std::lock_guard lock(mutex_);
  auto& s = find_or_add(kind::gauge, name, help, l, nullptr);
  if (s.g) fail("a gauge is either set or read through a callback", name);
  s.read = std::move(read);
}

void registry::counter_callback(std::string_view name, std::string_view help, const labels& l,
                                std::function<std::uint64_t()> read) {
  std::lock_guard lock(mutex_);
  auto& s = find_or_add(kind::counter, name, help, l, nullptr);
  if (s.c) fail("a counter is either incremented or read through a callback", name);
  s.read_count = std::move(read);
}

std::string registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  out.reserve(4096);
  for (const auto& [name, f] : families_) {
    out += "# HELP ";
    out += name;
    out.push_back(' ');
    escape_help(out, f.help);
    out += "\n# TYPE ";
    out += name;
    out += f.type == kind::counter ? " counter\n"
           : f.type == kind::gauge ? " gauge\n"
                                   : " histogram\n";
    for (const auto& [key, s] : f.by_labels) {
      if (f.type == kind::counter) {
        out += fmt::format("{}{} {}\n", name, key, s.read_count ? s.read_count() : s.c->value());
      } else if (f.type == kind::gauge) {
        out += fmt::format("{}{} {}\n", name, key, number(s.read ? s.read() : s.g->value()));
      } else {
        auto counts = s.h->bucket_counts();
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          auto le = i < f.bounds.size() ? number(f.bounds[i]) : std::string("+Inf");
          out += fmt::format("{}_bucket{} {}\n", name, render_labels(s.label_set, "le", le),
                             cumulative);
        }
        out += fmt::format("{}_sum{} {}\n", name, key, number(s.h->sum()));
        out += fmt::format("{}_count{} {}\n", name, key, cumulative);
      }
    }
  }
  return out;
}

}  // namespace backline::http::metrics
