#pragma once
// A report as a small self-contained SVG chart (`backline report --svg FILE`): grouped bars, or
// lines when there are many buckets. No library: the SVG is written by hand.
//
// Contract: pure (returns the document; the caller writes the file). Values may be any finite
// numbers; negative values are drawn from zero downwards. Labels are XML-escaped.

#include <string>
#include <vector>

namespace backline::cli {

// A report in the shape every chart takes: buckets on the x axis (hours, days, agents, queues),
// one series per measure.
struct report_series {
  std::string name;            // e.g. "calls", "avg_handle_s"
  std::vector<double> values;  // one per bucket
};
struct report_data {
  std::string title;    // e.g. "handle time by agent, 2024-05-01 .. 2024-05-02"
  std::string x_label;  // e.g. "agent"
  std::vector<std::string> buckets;
  std::vector<report_series> series;
};

enum class chart_kind { bars, lines, automatic };  // automatic: lines above 24 buckets

std::string render_svg(const report_data& report, chart_kind kind = chart_kind::automatic);

std::string xml_escape(std::string_view text);

}  // namespace backline::cli
