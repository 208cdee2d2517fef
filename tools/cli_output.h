#pragma once
// How `backline` prints records: `-o table|json|jsonl|csv`, and a progress bar for long work.
//
// Contract
// - A `record_writer` prints records of one shape. Each record is a JSON object; json and jsonl
//   print it whole, table and csv print the writer's columns (picked from the object by JSON
//   pointer, objects and arrays rendered as compact JSON). json is one array, closed by
//   `finish()`; jsonl one object per line; csv one header line then RFC 4180 rows; table
//   aligned columns with a header.
// - Output is streamed: json, jsonl and csv write each record at once. A table is held until
//   `flush()` (to size its columns) and later flushes keep the first widths, so `--follow` can
//   print batch by batch under one header.
// - Single-threaded: a writer belongs to the thread that prints.
// - `progress` draws on stderr only when stderr is a terminal, at most ~10 times a second.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace backline::cli {

enum class format { table, json, jsonl, csv };

// "table", "json", "jsonl", "csv"; nullopt otherwise.
std::optional<format> parse_format(std::string_view name);
// The default: a table for a person at a terminal, jsonl for a pipe or a file.
format default_format();
inline constexpr const char* format_names = "table|json|jsonl|csv";

struct column {
  std::string header;
  std::string pointer;        // JSON pointer into the record, e.g. "/data/agent_id"
  std::size_t width_max = 0;  // table only: longer cells are cut with "…"; 0 = no limit
  // Table only: the column is at least this wide, so rows printed after the first flush
  // (`--follow`) stay aligned with the header.
  std::size_t width_min = 0;
};

// RFC 4180: quoted when it holds a comma, a quote, CR or LF, or starts or ends with a space;
// quotes doubled.
std::string csv_quote(std::string_view cell);
// The text of a cell: strings as they are, null as empty, anything else as compact JSON.
std::string cell_text(const nlohmann::json& value);
// Display width in terminal columns, counting UTF-8 code points (no East Asian wide glyphs here).
std::size_t display_width(std::string_view s);

class record_writer {
 public:
  record_writer(format f, std::vector<column> columns, std::FILE* out = stdout);
  record_writer(const record_writer&) = delete;
  record_writer& operator=(const record_writer&) = delete;
  ~record_writer();  // finish()

  void write(const nlohmann::json& record);
  void flush();   // table: prints the held rows; others: fflush
  void finish();  // closes the json array, flushes; idempotent
  std::size_t written() const { return written_; }

 private:
  void write_table_rows();

  format format_;
  std::vector<column> columns_;
  std::FILE* out_;
  std::vector<std::vector<std::string>> held_;  // table rows not printed yet
  std::vector<std::size_t> widths_;             // table: fixed by the first flush
  bool header_done_ = false, finished_ = false;
  std::size_t written_ = 0;
};

// Prints a small table (rows of cells, first row the header) with aligned columns.
void print_table(const std::vector<std::vector<std::string>>& rows, std::FILE* out = stdout);

class progress {
 public:
  // `total` 0: unknown (no ETA, no bar). `label` e.g. "replaying".
  progress(std::string label, std::uint64_t total);
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;
  ~progress();  // finish()

  void update(std::uint64_t done);
  void finish();  // clears the line
  bool enabled() const { return enabled_; }

 private:
  void draw(std::uint64_t done, bool final);

  std::string label_;
  std::uint64_t total_;
  bool enabled_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1.2k/s", "3.4M/s"; "2m05s", "1h02m" (for the progress line).
std::string human_rate(double per_s);
std::string human_duration(double seconds);

}  // namespace backline::cli
