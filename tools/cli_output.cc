#include "tools/cli_output.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <unistd.h>

namespace backline::cli {
namespace {

// Strings come from outside (transcripts, notes): never throw on invalid UTF-8.
std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A table cell stays on one line and within its column's limit.
std::string table_cell(std::string text, std::size_t width_max) {
  std::ranges::replace(text, '\n', ' ');
  std::ranges::replace(text, '\r', ' ');
  std::ranges::replace(text, '\t', ' ');
  if (width_max == 0 || display_width(text) <= width_max) return text;
  std::size_t points = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && points++ == width_max - 1) break;
  }
  text.resize(i);
  return text + "…";
}

void print_row(std::FILE* out, const std::vector<std::string>& cells,
               const std::vector<std::size_t>& widths) {
  std::string line;
  for (std::size_t c = 0; c < cells.size(); ++c) {
    line += cells[c];
    if (c + 1 == cells.size()) break;
    const std::size_t w = display_width(cells[c]);
    line.append((widths[c] > w ? widths[c] - w : 0) + 2, ' ');
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();  // empty last cells
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), out);
}

}  // namespace

std::optional<format> parse_format(std::string_view name) {
  if (name == "table") return format::table;
  if (name == "json") return format::json;
  if (name == "jsonl") return format::jsonl;
  if (name == "csv") return format::csv;
  return std::nullopt;
}

format default_format() {
  return isatty(STDOUT_FILENO) ? format::table : format::jsonl;
}

std::string csv_quote(std::string_view cell) {
  const bool needs = cell.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!cell.empty() && (cell.front() == ' ' || cell.back() == ' '));
  if (!needs) return std::string(cell);
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string cell_text(const nlohmann::json& value) {
  if (value.is_null()) return {};
  if (value.is_string()) return value.get<std::string>();
  return dump(value);
}

std::size_t display_width(std::string_view s) {
  return static_cast<std::size_t>(std::ranges::count_if(
      s, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

record_writer::record_writer(format f, std::vector<column> columns, std::FILE* out)
    : format_(f), columns_(std::move(columns)), out_(out) {}

record_writer::~record_writer() {
  finish();
}

void record_writer::write(const nlohmann::json& record) {
  ++written_;
  switch (format_) {
    case format::jsonl:
      fmt::print(out_, "{}\n", dump(record));
      return;
    case format::json:
      fmt::print(out_, "{}\n  {}", written_ == 1 ? "[" : ",", dump(record));
      return;
    case format::csv:
    case format::table: {
      std::vector<std::string> cells;
      for (const auto& c : columns_) {
        const nlohmann::json::json_pointer ptr(c.pointer);
        const std::string text = record.contains(ptr) ? cell_text(record.at(ptr)) : std::string{};
        cells.push_back(format_ == format::csv ? csv_quote(text) : table_cell(text, c.width_max));
      }
      if (format_ == format::table) {
        held_.push_back(std::move(cells));
        return;
      }
      if (!header_done_) {
        std::vector<std::string> headers;
        for (const auto& c : columns_) headers.push_back(csv_quote(c.header));
        fmt::print(out_, "{}\n", fmt::join(headers, ","));
        header_done_ = true;
      }
      fmt::print(out_, "{}\n", fmt::join(cells, ","));
      return;
    }
  }
}

void record_writer::write_table_rows() {
  if (!header_done_) {
    widths_.assign(columns_.size(), 0);
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      widths_[c] = std::max(display_width(columns_[c].header), columns_[c].width_min);
      for (const auto& row : held_) widths_[c] = std::max(widths_[c], display_width(row[c]));
    }
    std::vector<std::string> headers;
    for (const auto& c : columns_) headers.push_back(c.header);
    print_row(out_, headers, widths_);
    header_done_ = true;
  }
  for (const auto& row : held_) print_row(out_, row, widths_);
  held_.clear();
}

void record_writer::flush() {
  if (format_ == format::table && !held_.empty()) write_table_rows();
  std::fflush(out_);
}

void record_writer::finish() {
  if (finished_) return;
  finished_ = true;
  if (format_ == format::json) fmt::print(out_, "{}\n", written_ == 0 ? "[]" : "\n]");
  flush();
}

void print_table(const std::vector<std::vector<std::string>>& rows, std::FILE* out) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], display_width(row[c]));
  }
  for (const auto& row : rows) print_row(out, row, widths);
}

std::string human_rate(double per_s) {
  if (per_s >= 1e6) return fmt::format("{:.1f}M/s", per_s / 1e6);
  if (per_s >= 1e3) return fmt::format("{:.1f}k/s", per_s / 1e3);
  return fmt::format("{:.0f}/s", per_s);
}

std::string human_duration(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

progress::progress(std::string label, std::uint64_t total)
    : label_(std::move(label)),
      total_(total),
      enabled_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

progress::~progress() {
  finish();
}

void progress::update(std::uint64_t done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(done, false);
}

void progress::draw(std::uint64_t done, bool final) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  std::string line = fmt::format("\r{} {}", label_, done);
  if (total_ > 0) {
    constexpr int bar_cells = 30;
    const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    const int filled = static_cast<int>(frac * bar_cells);
    const std::string bar = std::string(filled, '#') + std::string(bar_cells - filled, '.');
    line = fmt::format("\r{} [{}] {}/{} {:3.0f}%", label_, bar, done, total_, frac * 100);
    if (!final && rate > 0) {
      line += " ETA " + human_duration(static_cast<double>(total_ - std::min(done, total_)) / rate);
    }
  }
  line += fmt::format(" {}\x1b[K", human_rate(rate));
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void progress::finish() {
  if (!enabled_ || !drawn_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace backline::cli
