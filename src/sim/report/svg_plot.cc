#include "sim/report/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <string_view>
#include <utility>

#include "base/text.h"

namespace suanpan::sim {
namespace {

// Okabe & Ito's colour-blind-safe palette, reordered so that the pale yellow comes late.
constexpr std::string_view kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                         "#56B4E9", "#CC79A7", "#F0E442", "#000000"};
constexpr size_t kPaletteSize = std::size(kPalette);

constexpr int kMaxIntervals = 5;     // linear axes: at most 5 intervals, so 6 tick labels
constexpr int kMaxDecadeTicks = 8;   // log axes: over 8 decades, label every 2nd (3rd, ...) one
constexpr double kEpsilon = 1e-9;    // relative slack when comparing tick positions
constexpr int kMaxExponent = 300;    // log axes and Pow10 stay within 1e-300 .. 1e300
constexpr double kCoordLimit = 1e6;  // px; far-off points are clamped rather than printed as inf

// Margins in px, for font-size 12 labels and a 16 px title.
constexpr double kLeft = 70, kTop = 40, kRightPad = 20, kBottom = 55;
constexpr double kCharWidth = 7;  // rough px per character, to size the legend
constexpr double kLegendRow = 18;

// 10^e exactly for 0 <= e <= 22, and correctly rounded 1 / 10^-e below 0.
double Pow10(int e) {
  e = std::clamp(e, -kMaxExponent, kMaxExponent);
  if (e < 0) return 1.0 / Pow10(-e);
  double r = 1;
  for (int i = 0; i < e; ++i) r *= 10;
  return r;
}

int ClampExponent(double e) {
  return static_cast<int>(std::clamp(e, -1.0 * kMaxExponent, 1.0 * kMaxExponent));
}

std::string TrimZeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

bool Drawable(double x, double y, bool log_x) {
  return std::isfinite(x) && std::isfinite(y) && (!log_x || x > 0);
}

struct Extent {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  bool Empty() const { return lo > hi; }
  void Add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
};

// One axis in its own units: the value itself, or log10 of it on a log axis.
struct Axis {
  bool log = false;
  double lo = 0, hi = 1;  // hi > lo always
  std::vector<double> ticks;
  std::vector<std::string> labels;

  // Fraction of the way from lo to hi; callers clamp the pixel it maps to.
  double Frac(double v) const { return ((log ? std::log10(v) : v) - lo) / (hi - lo); }
};

// The axis spans the fixed ends where given (finite, and positive on a log axis), else the data
// widened to the nearest tick; with neither it spans [0, 1] (values 1..10 on a log axis).
Axis MakeAxis(const Extent& data, std::optional<double> fixed_lo, std::optional<double> fixed_hi,
              bool log) {
  auto usable = [log](std::optional<double> f) {
    return f && std::isfinite(*f) && (!log || *f > 0);
  };
  auto to_axis = [log](double v) { return log ? std::log10(v) : v; };
  bool has_lo = usable(fixed_lo), has_hi = usable(fixed_hi);
  Axis axis;
  axis.log = log;
  double lo = has_lo ? to_axis(*fixed_lo) : data.Empty() ? 0 : to_axis(data.lo);
  double hi = has_hi ? to_axis(*fixed_hi) : data.Empty() ? 1 : to_axis(data.hi);
  if (lo > hi) {  // a fixed end on the wrong side of the data (or of the other fixed end)
    std::swap(lo, hi);
    std::swap(has_lo, has_hi);
  }
  std::vector<double> ticks;
  if (log) {
    // One tick per decade, or per `stride` decades when there are more than kMaxDecadeTicks.
    auto e0 = ClampExponent(std::floor(lo + kEpsilon));
    auto e1 = ClampExponent(std::ceil(hi - kEpsilon));
    if (e1 <= e0) e1 = e0 + 1;
    int stride = (e1 - e0 + kMaxDecadeTicks - 1) / kMaxDecadeTicks;
    e1 = e0 + stride * ((e1 - e0 + stride - 1) / stride);
    for (int e = e0; e <= e1; e += stride) ticks.push_back(e);
  } else {
    if (lo == hi) {  // one value: widen the ends that are not fixed
      double pad = lo != 0 ? std::fabs(lo) * 0.1 : 1;
      if (!has_lo) lo -= pad;
      if (!has_hi) hi += pad;
    }
    ticks = NiceTicks(lo, hi, kMaxIntervals);
    if (ticks.empty()) {  // a range too wide for doubles: give up on the data
      lo = 0;
      hi = 1;
      has_lo = has_hi = false;
      ticks = NiceTicks(lo, hi, kMaxIntervals);
    }
  }
  if (!has_lo) lo = ticks.front();
  if (!has_hi) hi = ticks.back();
  if (!(hi > lo)) hi = lo + std::max(1.0, std::fabs(lo) * 0.1);  // both ends fixed to one value
  axis.lo = lo;
  axis.hi = hi;
  double slack = (hi - lo) * kEpsilon;
  for (double t : ticks) {
    if (t < lo - slack || t > hi + slack) continue;
    axis.ticks.push_back(t);
    axis.labels.push_back(FormatTick(log ? Pow10(static_cast<int>(t)) : t));
  }
  return axis;
}

double ClampPx(double px) { return std::isnan(px) ? 0 : std::clamp(px, -kCoordLimit, kCoordLimit); }

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int max_intervals) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (lo > hi) std::swap(lo, hi);
  max_intervals = std::max(max_intervals, 1);
  if (lo == hi) {
    double pad = lo != 0 ? std::fabs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  double range = hi - lo;
  if (!std::isfinite(range) || range <= 0) return {};
  // Start at the power of ten just below range / max_intervals; a few steps up always fit.
  int e = ClampExponent(std::floor(std::log10(range / max_intervals)));
  for (; e <= kMaxExponent; ++e) {
    for (double m : {1.0, 2.0, 5.0}) {
      double step = m * Pow10(e);
      double first = std::floor(lo / step + kEpsilon);
      double last = std::ceil(hi / step - kEpsilon);
      if (last - first > max_intervals) continue;
      // Count with an int: past 2^53, ++k on a double would not move.
      std::vector<double> ticks;
      for (int i = 0; i <= static_cast<int>(last - first); ++i) {
        double k = first + i;
        ticks.push_back(k == 0 ? 0.0 : k * step);
      }
      return ticks;
    }
  }
  return {};
}

std::string FormatTick(double v) {
  if (!std::isfinite(v)) return "";
  if (v == 0) return "0";  // also -0
  std::string sign = v < 0 ? "-" : "";
  double a = std::fabs(v);
  if (a < 1) return sign + fmt::format("{:.3g}", a);
  static constexpr std::pair<double, std::string_view> kUnits[] = {
      {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  for (auto [scale, unit] : kUnits) {
    if (a >= scale) return sign + TrimZeros(fmt::format("{:.2f}", a / scale)) + std::string(unit);
  }
  return sign + TrimZeros(fmt::format("{:.2f}", a));
}

std::string RenderLineChart(const Chart& chart, int width, int height) {
  width = std::max(width, 200);
  height = std::max(height, 150);
  size_t longest_name = 0;
  for (const Series& s : chart.series) longest_name = std::max(longest_name, s.name.size());
  double legend_w =
      chart.series.empty() ? 0 : std::min(width / 3.0, 40 + kCharWidth * longest_name);
  const double plot_x = kLeft, plot_y = kTop;
  const double plot_w = width - kLeft - kRightPad - legend_w;
  const double plot_h = height - kTop - kBottom;

  Extent xs, ys;
  for (const Series& s : chart.series) {
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!Drawable(s.x[i], s.y[i], chart.log_x)) continue;
      xs.Add(s.x[i]);
      ys.Add(s.y[i]);
    }
  }
  const Axis xa = MakeAxis(xs, chart.x_min, chart.x_max, chart.log_x);
  const Axis ya = MakeAxis(ys, chart.y_min, chart.y_max, /*log=*/false);
  auto map_x = [&](double v) { return ClampPx(plot_x + xa.Frac(v) * plot_w); };
  auto map_y = [&](double v) { return ClampPx(plot_y + plot_h - ya.Frac(v) * plot_h); };

  std::string out;
  auto it = std::back_inserter(out);
  auto text = [&out](std::string_view s) { AppendXmlEscaped(out, s); };

  fmt::format_to(
      it,
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n",
      width, height);
  out += "<title>";
  text(chart.title);
  out += "</title>\n";
  // The clip id names its rectangle, so two charts inlined in one page never clash.
  std::string clip_id =
      fmt::format("plot-{:.0f}-{:.0f}-{:.0f}-{:.0f}", plot_x, plot_y, plot_w, plot_h);
  fmt::format_to(it,
                 "<defs><clipPath id=\"{}\"><rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" "
                 "height=\"{:.2f}\"/></clipPath></defs>\n",
                 clip_id, plot_x, plot_y, plot_w, plot_h);
  fmt::format_to(it, "<rect width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", width, height);
  fmt::format_to(it,
                 "<text x=\"{:.2f}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" "
                 "font-weight=\"bold\">",
                 width / 2.0);
  text(chart.title);
  out += "</text>\n";

  // Grid lines, then tick labels, then the frame on top of the grid.
  out += "<g stroke=\"#dddddd\" stroke-width=\"1\">\n";
  for (double t : xa.ticks) {
    double px = map_x(xa.log ? Pow10(static_cast<int>(t)) : t);
    fmt::format_to(it, "<line x1=\"{0:.2f}\" y1=\"{1:.2f}\" x2=\"{0:.2f}\" y2=\"{2:.2f}\"/>\n", px,
                   plot_y, plot_y + plot_h);
  }
  for (double t : ya.ticks) {
    fmt::format_to(it, "<line x1=\"{0:.2f}\" y1=\"{1:.2f}\" x2=\"{2:.2f}\" y2=\"{1:.2f}\"/>\n",
                   plot_x, map_y(t), plot_x + plot_w);
  }
  out += "</g>\n<g font-size=\"11\" fill=\"#333333\">\n";
  for (size_t i = 0; i < xa.ticks.size(); ++i) {
    double t = xa.ticks[i];
    fmt::format_to(
        it, "<text class=\"tick-x\" x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"middle\">{}</text>\n",
        map_x(xa.log ? Pow10(static_cast<int>(t)) : t), plot_y + plot_h + 16, xa.labels[i]);
  }
  for (size_t i = 0; i < ya.ticks.size(); ++i) {
    fmt::format_to(
        it, "<text class=\"tick-y\" x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"end\">{}</text>\n",
        plot_x - 6, map_y(ya.ticks[i]) + 4, ya.labels[i]);
  }
  out += "</g>\n";
  fmt::format_to(it,
                 "<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"none\" "
                 "stroke=\"#333333\"/>\n",
                 plot_x, plot_y, plot_w, plot_h);
  fmt::format_to(it, "<text x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"middle\">", plot_x + plot_w / 2,
                 height - 12.0);
  text(chart.x_label);
  out += "</text>\n";
  fmt::format_to(it, "<text transform=\"translate(16 {:.2f}) rotate(-90)\" text-anchor=\"middle\">",
                 plot_y + plot_h / 2);
  text(chart.y_label);
  out += "</text>\n";

  // Series: a path through the drawable points (a dot if there is only one), clipped to the plot.
  fmt::format_to(
      it,
      "<g clip-path=\"url(#{})\" fill=\"none\" stroke-width=\"1.5\" stroke-linejoin=\"round\">\n",
      clip_id);
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    std::string_view colour = kPalette[i % kPaletteSize];
    std::string d;
    size_t points = 0;
    double last_px = 0, last_py = 0;
    for (size_t j = 0; j < std::min(s.x.size(), s.y.size()); ++j) {
      if (!Drawable(s.x[j], s.y[j], chart.log_x)) continue;
      double px = map_x(s.x[j]), py = map_y(s.y[j]);
      if (points == 0) {
        d += fmt::format("M{:.2f} {:.2f}", px, py);
      } else if (chart.step) {  // hold the previous value until this x, then jump
        d += fmt::format(" L{:.2f} {:.2f} L{:.2f} {:.2f}", px, last_py, px, py);
      } else {
        d += fmt::format(" L{:.2f} {:.2f}", px, py);
      }
      last_px = px;
      last_py = py;
      ++points;
    }
    if (points == 1) {
      fmt::format_to(it,
                     "<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"3\" fill=\"{}\" stroke=\"none\"/>\n",
                     last_px, last_py, colour);
    } else if (points > 1) {
      fmt::format_to(it, "<path d=\"{}\" stroke=\"{}\"{}/>\n", d, colour,
                     (i / kPaletteSize) % 2 == 1 ? " stroke-dasharray=\"6 3\"" : "");
    }
  }
  out += "</g>\n";

  // Legend, to the right of the plot: a short line in the series' colour and its name.
  for (size_t i = 0; i < chart.series.size(); ++i) {
    double x0 = plot_x + plot_w + 12, y0 = plot_y + 10 + kLegendRow * i;
    fmt::format_to(it,
                   "<line x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\" stroke=\"{}\" "
                   "stroke-width=\"2\"{}/>\n",
                   x0, y0, x0 + 20, y0, kPalette[i % kPaletteSize],
                   (i / kPaletteSize) % 2 == 1 ? " stroke-dasharray=\"6 3\"" : "");
    fmt::format_to(it, "<text x=\"{:.2f}\" y=\"{:.2f}\">", x0 + 26, y0 + 4);
    text(chart.series[i].name);
    out += "</text>\n";
  }
  out += "</svg>\n";
  return out;
}

Series CdfSeries(std::string name, std::vector<double> values, size_t max_points) {
  std::erase_if(values, [](double v) { return !std::isfinite(v); });
  std::sort(values.begin(), values.end());
  Series cdf;
  cdf.name = std::move(name);
  const size_t n = values.size();
  max_points = std::max<size_t>(max_points, 2);
  // Ranks 0, ..., n-1 sampled evenly: rank j * (n-1) / (max_points-1) for j = 0..max_points-1.
  // With n > max_points the ranks are distinct and the last is n-1.
  const size_t kept = std::min(n, max_points);
  for (size_t j = 0; j < kept; ++j) {
    size_t rank = n <= max_points ? j : j * (n - 1) / (max_points - 1);
    cdf.x.push_back(values[rank]);
    cdf.y.push_back(static_cast<double>(rank + 1) / static_cast<double>(n));
  }
  return cdf;
}

Series Downsample(const Series& s, size_t max_points) {
  Series in;
  in.name = s.name;
  for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
    if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
    in.x.push_back(s.x[i]);
    in.y.push_back(s.y[i]);
  }
  max_points = std::max<size_t>(max_points, 2);
  const size_t n = in.x.size();
  if (n <= max_points) return in;
  Series out;
  out.name = s.name;
  auto keep = [&](size_t i) {
    out.x.push_back(in.x[i]);
    out.y.push_back(in.y[i]);
  };
  keep(0);
  // Interior points 1..n-2 in `buckets` index ranges [1 + b*m/buckets, 1 + (b+1)*m/buckets).
  const size_t m = n - 2, buckets = (max_points - 2) / 2;
  for (size_t b = 0; b < buckets; ++b) {
    size_t begin = 1 + b * m / buckets, end = 1 + (b + 1) * m / buckets;
    if (begin == end) continue;
    size_t lo = begin, hi = begin;
    for (size_t i = begin + 1; i < end; ++i) {
      if (in.y[i] < in.y[lo]) lo = i;
      if (in.y[i] > in.y[hi]) hi = i;
    }
    keep(std::min(lo, hi));
    if (lo != hi) keep(std::max(lo, hi));
  }
  keep(n - 1);
  return out;
}

}  // namespace suanpan::sim
