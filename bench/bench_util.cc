#include "bench/bench_util.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

namespace backline::bench {
namespace {

double rocksdb_put_loop(std::size_t value_bytes, std::size_t num, const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.compression = rocksdb::kNoCompression;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) return 0;
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value(value_bytes, 'v');
  rocksdb::WriteOptions wo;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < num; ++i) {
    char key[24];
    std::snprintf(key, sizeof key, "%016zu", i);
    db->Put(wo, rocksdb::Slice(key, 16), value);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(num) / s;
}

}  // namespace

double fillseq_ops_per_s(std::size_t value_bytes, std::size_t num, const std::string& scratch) {
  const std::string dir = scratch + "/db_bench";
  std::filesystem::remove_all(dir);
  const std::string command = fmt::format(
      "db_bench --benchmarks=fillseq --num={} --value_size={} --db={} --sync=0 --disable_wal=0 "
      "--compression_type=none --compression_ratio=1 2>/dev/null",
      num, value_bytes, dir);
  double ops = 0;
  if (FILE* p = popen(command.c_str(), "r")) {
    char line[512];
    const std::regex re(R"(fillseq\s*:\s*[0-9.]+ micros/op ([0-9]+) ops/sec)");
    while (std::fgets(line, sizeof line, p) != nullptr) {
      std::cmatch m;
      if (std::regex_search(line, m, re)) ops = std::stod(m[1].str());
    }
    pclose(p);
  }
  if (ops == 0) {
    fmt::print(stderr, "db_bench not found (package rocksdb-tools): using a RocksDB put loop\n");
    ops = rocksdb_put_loop(value_bytes, num, dir);
  }
  std::filesystem::remove_all(dir);
  return ops;
}

double percentile(std::vector<double>& samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1));
  return samples[i];
}

std::size_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

void print_figure(const std::string& name, double value, const std::string& unit,
                  const std::string& anchor_name, double anchor_value) {
  fmt::print("FIGURE {} {:.6g} {} anchor={}:{:.6g} ratio={:.3f}\n", name, value, unit, anchor_name,
             anchor_value, anchor_value > 0 ? value / anchor_value : 0.0);
  std::fflush(stdout);
}

std::string scratch_dir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

namespace {
double to_us(double v, const std::string& unit) {
  if (unit == "us") return v;
  if (unit == "ms") return v * 1e3;
  if (unit == "s") return v * 1e6;
  return v;
}
}  // namespace

std::optional<wrk_result> run_wrk(const std::string& wrk, const std::string& args,
                                  const std::string& url) {
  auto command = fmt::format("{} {} --latency {} 2>&1", wrk, args, url);
  std::fprintf(stderr, "$ %s\n", command.c_str());
  const double children_cpu0 = cpu_seconds(RUSAGE_CHILDREN);
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return std::nullopt;
  wrk_result r;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) r.output += buf;
  if (::pclose(p) != 0) {
    std::fprintf(stderr, "%s", r.output.c_str());
    return std::nullopt;
  }
  r.wrk_cpu_s = cpu_seconds(RUSAGE_CHILDREN) - children_cpu0;
  std::smatch m;
  if (std::regex_search(r.output, m, std::regex(R"(\n\s*([0-9]+) requests in)"))) {
    r.requests = std::stoull(m[1]);
  }
  if (std::regex_search(r.output, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    r.requests_per_s = std::stod(m[1]);
  }
  if (std::regex_search(r.output, m, std::regex(R"(\n\s+50%\s+([0-9.]+)(us|ms|s))"))) {
    r.p50_us = to_us(std::stod(m[1]), m[2]);
  }
  if (std::regex_search(r.output, m, std::regex(R"(\n\s+99%\s+([0-9.]+)(us|ms|s))"))) {
    r.p99_us = to_us(std::stod(m[1]), m[2]);
  }
  if (std::regex_search(r.output, m, std::regex(R"(Non-2xx or 3xx responses:\s+([0-9]+))"))) {
    r.non_2xx = std::stoull(m[1]);
  }
  if (std::regex_search(
          r.output, m,
          std::regex(
              R"(Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+))"))) {
    r.socket_errors = std::stoull(m[1]) + std::stoull(m[2]) + std::stoull(m[3]) + std::stoull(m[4]);
  }
  return r;
}

double cpu_seconds(int who) {
  rusage u{};
  ::getrusage(who, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

std::map<std::string, double> cpu_by_thread() {
  std::map<std::string, double> out;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const auto open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14, 15: utime, stime
      if (i >= 14) ticks += std::stod(field);
    }
    const bool main_thread = task.path().filename() == std::to_string(::getpid());
    out[main_thread ? "main" : line.substr(open + 1, close - open - 1)] += ticks / tick;
  }
  return out;
}

void add_cpu(std::map<std::string, double>& into, const std::map<std::string, double>& before,
             const std::map<std::string, double>& after) {
  for (const auto& [name, s] : after) {
    auto b = before.find(name);
    into[name] += s - (b == before.end() ? 0 : b->second);
  }
}

double cpu_of(const std::map<std::string, double>& by_thread, std::string_view prefix) {
  double sum = 0;
  for (const auto& [name, s] : by_thread) {
    if (name.starts_with(prefix)) sum += s;
  }
  return sum;
}

}  // namespace backline::bench
