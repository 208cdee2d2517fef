#include "tools/cli_svg.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

namespace backline::cli {
namespace {

constexpr double width = 880, height = 420;
constexpr double left = 70, right = 170, top = 44, bottom = 96;  // room for axes and legend
constexpr double plot_w = width - left - right, plot_h = height - top - bottom;
constexpr std::size_t line_buckets_min = 25;
constexpr std::array<const char*, 8> palette = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                                "#59a14f", "#edc948", "#b07aa1", "#9c755f"};

// A "nice" step (1, 2 or 5 times a power of ten) giving about `ticks` intervals over `span`.
double nice_step(double span, int ticks) {
  if (span <= 0) return 1;
  const double raw = span / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

struct y_axis {
  double lo = 0, hi = 1, step = 1;
  double y(double v) const { return top + plot_h * (hi - v) / (hi - lo); }
};

y_axis scale(const report_data& r) {
  double lo = 0, hi = 0;
  for (const auto& s : r.series) {
    for (double v : s.values) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (hi == lo) hi = lo + 1;
  y_axis a;
  a.step = nice_step(hi - lo, 5);
  a.lo = std::floor(lo / a.step) * a.step;
  a.hi = std::ceil(hi / a.step) * a.step;
  return a;
}

std::string number(double v) {
  if (std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{:.0f}", v);
  return fmt::format("{:.2f}", v);
}

std::string axes(const report_data& r, const y_axis& a) {
  std::string out;
  for (double v = a.lo; v <= a.hi + a.step / 2; v += a.step) {
    out += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        left, left + plot_w, a.y(v), left - 6, a.y(v) + 4, number(v));
  }
  out +=
      fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#333\"/>\n",
                  left, left + plot_w, a.y(0));
  const double slot = plot_w / static_cast<double>(std::max<std::size_t>(r.buckets.size(), 1));
  // Label at most ~40 buckets, evenly, so long series stay readable.
  const std::size_t every = std::max<std::size_t>(1, (r.buckets.size() + 39) / 40);
  for (std::size_t i = 0; i < r.buckets.size(); i += every) {
    const double x = left + slot * (static_cast<double>(i) + 0.5);
    out += fmt::format(
        "<text x=\"{0:.1f}\" y=\"{1}\" text-anchor=\"end\" transform=\"rotate(-40 {0:.1f} "
        "{1})\">{2}</text>\n",
        x, top + plot_h + 14, xml_escape(r.buckets[i]));
  }
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     left + plot_w / 2, height - 8, xml_escape(r.x_label));
  return out;
}

std::string bars(const report_data& r, const y_axis& a) {
  std::string out;
  const double slot = plot_w / static_cast<double>(std::max<std::size_t>(r.buckets.size(), 1));
  const double bar = slot * 0.8 / static_cast<double>(std::max<std::size_t>(r.series.size(), 1));
  for (std::size_t s = 0; s < r.series.size(); ++s) {
    const auto& values = r.series[s].values;
    for (std::size_t i = 0; i < r.buckets.size() && i < values.size(); ++i) {
      if (!std::isfinite(values[i])) continue;
      const double x =
          left + slot * static_cast<double>(i) + slot * 0.1 + bar * static_cast<double>(s);
      const double y0 = a.y(0), y1 = a.y(values[i]);
      out += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
          "<title>{}: {} {}</title></rect>\n",
          x, std::min(y0, y1), std::max(bar - 1, 1.0), std::fabs(y1 - y0),
          palette[s % palette.size()], xml_escape(r.buckets[i]), number(values[i]),
          xml_escape(r.series[s].name));
    }
  }
  return out;
}

std::string lines(const report_data& r, const y_axis& a) {
  std::string out;
  const double slot = plot_w / static_cast<double>(std::max<std::size_t>(r.buckets.size(), 1));
  for (std::size_t s = 0; s < r.series.size(); ++s) {
    std::string points;
    const auto& values = r.series[s].values;
    for (std::size_t i = 0; i < r.buckets.size() && i < values.size(); ++i) {
      if (!std::isfinite(values[i])) continue;
      points += fmt::format("{:.1f},{:.1f} ", left + slot * (static_cast<double>(i) + 0.5),
                            a.y(values[i]));
    }
    out += fmt::format(
        "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"><title>{}"
        "</title></polyline>\n",
        palette[s % palette.size()], points, xml_escape(r.series[s].name));
  }
  return out;
}

std::string legend(const report_data& r) {
  std::string out;
  for (std::size_t s = 0; s < r.series.size(); ++s) {
    const double y = top + 18.0 * static_cast<double>(s);
    out += fmt::format(
        "<rect x=\"{0}\" y=\"{1:.1f}\" width=\"12\" height=\"12\" fill=\"{2}\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\">{5}</text>\n",
        left + plot_w + 16, y, palette[s % palette.size()], left + plot_w + 34, y + 10,
        xml_escape(r.series[s].name));
  }
  return out;
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_svg(const report_data& r, chart_kind kind) {
  if (kind == chart_kind::automatic) {
    kind = r.buckets.size() >= line_buckets_min ? chart_kind::lines : chart_kind::bars;
  }
  const y_axis a = scale(r);
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"11\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{3}</text>\n",
      width, height, left, xml_escape(r.title));
  out += axes(r, a);
  out += kind == chart_kind::bars ? bars(r, a) : lines(r, a);
  out += legend(r);
  out += "</svg>\n";
  return out;
}

}  // namespace backline::cli
