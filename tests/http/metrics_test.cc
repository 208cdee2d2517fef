#include "api/http/metrics.h"

#include <gtest/gtest.h>

namespace backline::http::metrics {
namespace {

TEST(Metrics, RendersThePrometheusTextFormat) {
  registry r;
  r.counter("backline_demo_requests_total", "Requests", {{"route", "/v1/calls/{id}/hold"}}).inc(3);
  r.gauge("backline_demo_connections", "Open \"connections\"\nnow").set(2);
  auto& h = r.histogram("backline_demo_duration_seconds", "Durations", {}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  r.gauge_callback("backline_demo_lag_events", "Lag", {{"model", "voice_call"}},
                   [] { return 7.0; });
  EXPECT_EQ(r.render(),
            "# HELP backline_demo_connections Open \"connections\"\\nnow\n"
            "# TYPE backline_demo_connections gauge\n"
            "backline_demo_connections 2\n"
            "# HELP backline_demo_duration_seconds Durations\n"
            "# TYPE backline_demo_duration_seconds histogram\n"
            "backline_demo_duration_seconds_bucket{le=\"0.1\"} 1\n"
            "backline_demo_duration_seconds_bucket{le=\"1\"} 2\n"
            "backline_demo_duration_seconds_bucket{le=\"+Inf\"} 3\n"
            "backline_demo_duration_seconds_sum 5.55\n"
            "backline_demo_duration_seconds_count 3\n"
            "# HELP backline_demo_lag_events Lag\n"
            "# TYPE backline_demo_lag_events gauge\n"
            "backline_demo_lag_events{model=\"voice_call\"} 7\n"
            "# HELP backline_demo_requests_total Requests\n"
            "# TYPE backline_demo_requests_total counter\n"
            "backline_demo_requests_total{route=\"/v1/calls/{id}/hold\"} 3\n");
}

TEST(Metrics, TheSameSeriesIsTheSameObject) {
  registry r;
  auto& a = r.counter("backline_x_total", "X", {{"code", "2xx"}});
  auto& b = r.counter("backline_x_total", "X", {{"code", "2xx"}});
  auto& c = r.counter("backline_x_total", "X", {{"code", "5xx"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(MetricsDeathTest, NamesFollowTheConventions) {
  EXPECT_DEATH({ registry().counter("http_requests_total", "x"); }, "backline_");
  EXPECT_DEATH({ registry().counter("backline_requests", "x"); }, "_total");
  EXPECT_DEATH({ registry().gauge("backline_open_total", "x"); }, "_total");
  EXPECT_DEATH(
      {
        registry r;
        r.counter("backline_a_total", "x");
        r.counter("backline_a_total", "other help");
      },
      "again");
}

}  // namespace
}  // namespace backline::http::metrics
