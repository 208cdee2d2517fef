#pragma once
// Helpers shared by the benchmarks: anchors measured in the same run, percentiles, resident
// memory, and the machine-readable FIGURE line of DESIGN.md.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace backline::bench {

// Runs RocksDB's own `db_bench --benchmarks=fillseq` (package rocksdb-tools) with the given
// value size and WAL without sync in a scratch directory; returns ops/s. When db_bench is not
// installed, falls back to a minimal RocksDB put loop (same settings) and says so on stderr.
double fillseq_ops_per_s(std::size_t value_bytes, std::size_t num, const std::string& scratch);

// The q-th percentile (0..1) of `samples` (sorted in place).
double percentile(std::vector<double>& samples, double q);

std::size_t resident_bytes();  // VmRSS of this process

// FIGURE <name> <value> <unit> anchor=<anchor-name>:<anchor-value> ratio=<value/anchor>
void print_figure(const std::string& name, double value, const std::string& unit,
                  const std::string& anchor_name, double anchor_value);

std::string scratch_dir(const std::string& prefix);  // a fresh directory under $TMPDIR or /tmp

// CPU seconds (user + system) of this process (RUSAGE_SELF) or of its waited-for children
// (RUSAGE_CHILDREN). On a shared machine the wall-clock rates swing with the other load; the CPU
// a request costs, and on which thread, swings much less.
double cpu_seconds(int who);

// CPU seconds used so far by this process's live threads, by thread name (/proc/self/task, 10 ms
// ticks). The main thread is "main"; the engine's threads are named "bl-..." (the log writer,
// the HTTP I/O threads, the Kafka relay), CAF's "caf.multiplexer", RocksDB's "rocksdb:...".
std::map<std::string, double> cpu_by_thread();
// Adds what each thread used between two readings of cpu_by_thread() to `into`.
void add_cpu(std::map<std::string, double>& into, const std::map<std::string, double>& before,
             const std::map<std::string, double>& after);
// The sum of the threads whose name starts with `prefix`.
double cpu_of(const std::map<std::string, double>& by_thread, std::string_view prefix);

// One run of `wrk` (Debian package): "<wrk> <args> --latency <url>", its output parsed.
struct wrk_result {
  double requests_per_s = 0;
  double p50_us = 0, p99_us = 0;
  std::uint64_t requests = 0, non_2xx = 0, socket_errors = 0;
  double wrk_cpu_s = 0;  // wrk's own CPU (user + system) in the run
  std::string output;
};
// Nullopt when wrk cannot run or fails (its output is then printed on stderr).
std::optional<wrk_result> run_wrk(const std::string& wrk, const std::string& args,
                                  const std::string& url);

}  // namespace backline::bench
