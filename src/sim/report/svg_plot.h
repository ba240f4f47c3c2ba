#pragma once
// A small SVG 1.1 line-chart writer for simulator reports: queue length and utilization over time
// (drawn as step functions) and JCT CDFs (often on a log10 x axis). Standard library and fmt only.
//
// Layout of an 800 x 450 chart: a title on top, the plot area inside fixed margins, a legend to
// the right of the plot (one Okabe-Ito colour per series; after the 8th series colours repeat
// dashed), tick labels and axis labels below and to the left. Each axis spans the data (or the
// fixed range) widened to the nearest "nice" ticks:
//   NiceTicks(0, 97)     -> 0 20 40 60 80 100 (step 20: step 10 would need 10 > 5 intervals)
//   log_x over 1..10000  -> 1 10 100 1k 10k   (one tick per decade)
// Example:
//   Chart c;
//   c.title = "JCT CDF";
//   c.x_label = "JCT (s)";
//   c.y_label = "fraction of jobs";
//   c.step = true;
//   c.log_x = true;
//   c.series.push_back(CdfSeries("fifo", jcts_fifo));
//   c.series.push_back(CdfSeries("queue/fair_share", jcts_fair));
//   std::string svg = RenderLineChart(c);
//
// Contract: deterministic (the same Chart gives a byte-identical string: coordinates are printed
// with "{:.2f}" by fmt, which ignores the C locale), and no input crashes it. Points whose x or y
// is NaN or infinite (or whose x <= 0 on a log axis) are skipped and the line joins the points on
// either side; a series with one drawable point is drawn as a dot; a chart with no drawable points
// has empty axes over [0, 1] (or [1, 10] on a log axis). x and y of unequal length are cut to the
// shorter. Text (title, labels, series names) is XML-escaped; it is expected to be UTF-8.
// Rendering is O(total points); callers should Downsample long series first (a 1000-point series
// is about 20 KB of SVG).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace suanpan::sim {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

struct Chart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool step = false;  // draw as a step function (queue length / utilization over time)
  // Fixed axis ranges (points outside are clipped); an unset end is taken from the data and
  // widened to a nice tick.
  std::optional<double> y_min, y_max, x_min, x_max;
  bool log_x = false;  // log10 x axis (JCT CDFs spanning decades)
};

// The whole <svg ...>...</svg> document. width and height are in px, at least 200 x 150.
std::string RenderLineChart(const Chart& chart, int width = 800, int height = 450);

// Empirical CDF of `values` (non-finite values dropped): x sorted ascending, y = i/n for
// i = 1..n, so from 1/n to 1. With more than `max_points` (at least 2) points it keeps
// max_points of them evenly spaced in rank, i.e. in y, always including the first and last.
// O(n log n).
Series CdfSeries(std::string name, std::vector<double> values, size_t max_points = 400);

// Downsamples a time series (assumed in x order) to at most `max_points` (at least 2) points.
// Non-finite points are dropped first. The first and last points are kept; the interior points
// are split by index into (max_points - 2) / 2 equal buckets and each bucket keeps its minimum-
// and maximum-y points (first occurrence, in their original order), so spikes survive. A series
// that already fits is returned without its non-finite points. O(n).
Series Downsample(const Series& s, size_t max_points = 1000);

// Exposed for tests and for callers that lay out their own axes.
//
// Ticks k * step for the smallest step of 1, 2 or 5 x 10^e for which the ticks from
// floor(lo / step) to ceil(hi / step) cover [lo, hi] in at most `max_intervals` intervals.
// lo == hi is widened by 10% of |lo| (or by 1 around 0). Empty if lo or hi is not finite or
// hi - lo overflows.
std::vector<double> NiceTicks(double lo, double hi, int max_intervals = 5);

// Compact tick label: "0", "0.25", "97", "1.5k", "20k", "3.2M", "1G", "-40". Up to two
// decimals above 1 (after scaling by k / M / G / T), three significant digits below 1.
std::string FormatTick(double v);

}  // namespace suanpan::sim
