#pragma once
// A small metrics registry rendered in the Prometheus text exposition format (0.0.4).
//
// Conventions (DESIGN.md, STYLE.md): names start with `backline_`, use base units (`_seconds`,
// `_bytes`), counters end in `_total`; labels have a small, fixed set of values (route templates,
// status classes, reasons), never an id. A name that breaks these rules is a programmer error
// (abort with a message).
//
// Contract
// - `registry::counter/gauge/histogram` get or create one labelled series; the reference is
//   valid for the registry's life. Look series up once and keep the reference: lookups take a
//   mutex, updates are lock-free atomics and may run on any thread.
// - Asking for an existing name with another type, help text or histogram buckets aborts.
// - `render()` may run concurrently with updates (each value is read atomically, a histogram's
//   buckets may be a few observations apart from its count).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace backline::http::metrics {

using labels = std::vector<std::pair<std::string, std::string>>;

class counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void sub(double v) { value_.fetch_add(-v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class histogram {
 public:
  explicit histogram(std::vector<double> upper_bounds);  // sorted, finite; +Inf is implicit
  void observe(double v);
  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Per-bucket (non-cumulative) counts, the +Inf bucket last.
  std::vector<std::uint64_t> bucket_counts() const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, 100 µs .. 10 s.
std::vector<double> latency_buckets_seconds();

class registry {
 public:
  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  metrics::counter& counter(std::string_view name, std::string_view help, const labels& l = {});
  metrics::gauge& gauge(std::string_view name, std::string_view help, const labels& l = {});
  metrics::histogram& histogram(std::string_view name, std::string_view help, const labels& l = {},
                                std::vector<double> upper_bounds = latency_buckets_seconds());
  // A gauge read when rendering (e.g. a projection's lag). `read` runs on the rendering thread
  // under the registry's mutex: keep it short and non-blocking.
  void gauge_callback(std::string_view name, std::string_view help, const labels& l,
                      std::function<double()> read);
  // A counter kept elsewhere (e.g. the Kafka publisher's error count), read when rendering. Same
  // rules as gauge_callback; `read` must never go down.
  void counter_callback(std::string_view name, std::string_view help, const labels& l,
                        std::function<std::uint64_t()> read);

  std::string render() const;

 private:
  enum class kind { counter, gauge, histogram };
  struct series {
    labels label_set;
    std::unique_ptr<metrics::counter> c;
    std::unique_ptr<metrics::gauge> g;
    std::unique_ptr<metrics::histogram> h;
    std::function<double()> read;
    std::function<std::uint64_t()> read_count;
  };
  struct family {
    kind type = kind::counter;
    std::string help;
    std::vector<double> bounds;
    std::map<std::string, series> by_labels;  // key: rendered label set
  };
  series& find_or_add(kind type, std::string_view name, std::string_view help, const labels& l,
                      const std::vector<double>* bounds);

  mutable std::mutex mutex_;
  std::map<std::string, family, std::less<>> families_;
};

}  // namespace backline::http::metrics
