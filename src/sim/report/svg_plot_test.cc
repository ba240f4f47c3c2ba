#include "sim/report/svg_plot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace suanpan::sim {
namespace {

using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

Series MakeSeries(std::string name, std::vector<double> x, std::vector<double> y) {
  Series s;
  s.name = std::move(name);
  s.x = std::move(x);
  s.y = std::move(y);
  return s;
}

// Every match of the first group of `pattern` in `svg`, in order.
std::vector<std::string> Captures(const std::string& svg, const std::string& pattern) {
  std::vector<std::string> out;
  std::regex re(pattern);
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

std::vector<std::string> XTickLabels(const std::string& svg) {
  return Captures(svg, "<text class=\"tick-x\"[^>]*>([^<]*)</text>");
}

std::vector<std::string> PathData(const std::string& svg) {
  return Captures(svg, "<path d=\"([^\"]*)\"");
}

TEST(RenderLineChartTest, IsStandaloneSvgWithTitleAndSeriesNames) {
  Chart chart;
  chart.title = "Queue length";
  chart.series.push_back(MakeSeries("queue/fifo", {0, 1, 2}, {3, 1, 4}));
  chart.series.push_back(MakeSeries("queue/fair_share", {0, 1, 2}, {2, 2, 1}));

  std::string svg = RenderLineChart(chart);

  EXPECT_THAT(svg, StartsWith("<svg"));
  EXPECT_THAT(svg, HasSubstr("xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(svg, HasSubstr(">Queue length</text>"));
  EXPECT_THAT(svg, HasSubstr(">queue/fifo</text>"));
  EXPECT_THAT(svg, HasSubstr(">queue/fair_share</text>"));
}

TEST(RenderLineChartTest, EscapesXmlSpecialCharactersInTitle) {
  Chart chart;
  chart.title = "<a&b>";

  std::string svg = RenderLineChart(chart);

  EXPECT_THAT(svg, HasSubstr("&lt;a&amp;b&gt;"));
  EXPECT_THAT(svg, Not(HasSubstr("<a&b>")));
}

TEST(RenderLineChartTest, SameChartGivesByteIdenticalOutput) {
  Chart chart;
  chart.title = "Utilization";
  chart.step = true;
  chart.series.push_back(MakeSeries("u", {0, 0.5, 1.25, 7}, {0.1, 0.75, 1.0 / 3, 0.9}));
  Chart copy = chart;

  EXPECT_EQ(RenderLineChart(chart), RenderLineChart(chart));
  EXPECT_EQ(RenderLineChart(chart), RenderLineChart(copy));
}

TEST(RenderLineChartTest, StepChartHoldsEachValueUntilTheNextX) {
  Chart chart;
  chart.step = true;
  chart.x_min = 0;
  chart.x_max = 1;
  chart.y_min = 0;
  chart.y_max = 1;
  chart.series.push_back(MakeSeries("s", {0, 1}, {0, 1}));

  std::string svg = RenderLineChart(chart, 800, 450);

  // legend 40 + 7 * 1 char = 47 px; plot x 70..733 (800 - 70 - 20 - 47 = 663 wide),
  // y 40..395 (450 - 40 - 55 = 355 tall). (0,0) -> (70, 395), (1,1) -> (733, 40).
  EXPECT_THAT(PathData(svg), ElementsAre("M70.00 395.00 L733.00 395.00 L733.00 40.00"));
}

TEST(RenderLineChartTest, LogXAxisLabelsEachDecadeCompactly) {
  Chart chart;
  chart.log_x = true;
  chart.series.push_back(MakeSeries("jct", {1, 10, 100, 1000, 10000}, {0.2, 0.4, 0.6, 0.8, 1}));

  std::string svg = RenderLineChart(chart);

  EXPECT_THAT(XTickLabels(svg), ElementsAre("1", "10", "100", "1k", "10k"));
}

TEST(RenderLineChartTest, EmptyChartDrawsAxesOverZeroToOne) {
  Chart chart;
  chart.title = "nothing yet";
  chart.series.push_back(MakeSeries("empty", {}, {}));

  std::string svg = RenderLineChart(chart);

  EXPECT_THAT(svg, StartsWith("<svg"));
  EXPECT_THAT(svg, HasSubstr("</svg>"));
  EXPECT_THAT(svg, Not(HasSubstr("<path")));
  EXPECT_THAT(svg, Not(HasSubstr("<circle")));
  // NiceTicks(0, 1): step 0.1 would need 10 > 5 intervals, step 0.2 needs 5.
  EXPECT_THAT(XTickLabels(svg), ElementsAre("0", "0.2", "0.4", "0.6", "0.8", "1"));
}

TEST(RenderLineChartTest, SkipsNanAndJoinsTheFinitePoints) {
  Chart chart;
  chart.series.push_back(
      MakeSeries("s", {0, 1, 2, 3}, {1, std::nan(""), 3, std::numeric_limits<double>::infinity()}));

  std::string svg = RenderLineChart(chart);

  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_THAT(svg, Not(HasSubstr("inf")));
  std::vector<std::string> paths = PathData(svg);
  ASSERT_EQ(paths.size(), 1u);
  // Only (0, 1) and (2, 3) are drawn: one move and one line.
  EXPECT_EQ(std::count(paths[0].begin(), paths[0].end(), 'M'), 1);
  EXPECT_EQ(std::count(paths[0].begin(), paths[0].end(), 'L'), 1);
}

TEST(RenderLineChartTest, SinglePointIsDrawnAsADot) {
  Chart chart;
  chart.series.push_back(MakeSeries("one", {5}, {5}));

  std::string svg = RenderLineChart(chart);

  EXPECT_THAT(svg, HasSubstr("<circle"));
  EXPECT_THAT(svg, Not(HasSubstr("<path")));
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
}

TEST(CdfSeriesTest, SortsValuesAndGivesRankOverN) {
  Series cdf = CdfSeries("jct", {3, 1, 2});

  EXPECT_EQ(cdf.name, "jct");
  EXPECT_THAT(cdf.x, ElementsAre(1, 2, 3));
  EXPECT_THAT(cdf.y, ElementsAre(DoubleEq(1.0 / 3), DoubleEq(2.0 / 3), DoubleEq(1.0)));
}

TEST(CdfSeriesTest, DownsamplingKeepsEndPointsAndAtMostMaxPoints) {
  std::vector<double> values;
  for (int i = 999; i >= 0; --i) values.push_back(i);

  Series cdf = CdfSeries("jct", values, /*max_points=*/10);

  // Ranks j * 999 / 9 = 111 j for j = 0..9; y = (rank + 1) / 1000.
  EXPECT_THAT(cdf.x, ElementsAre(0, 111, 222, 333, 444, 555, 666, 777, 888, 999));
  EXPECT_THAT(cdf.y.front(), DoubleEq(0.001));
  EXPECT_THAT(cdf.y.back(), DoubleEq(1.0));
}

TEST(DownsampleTest, KeepsEndPointsAndSpikes) {
  Series s;
  for (int i = 0; i < 10000; ++i) {
    s.x.push_back(i);
    s.y.push_back(i == 4321 ? 100 : 1);
  }

  Series d = Downsample(s, /*max_points=*/100);

  EXPECT_LE(d.x.size(), 100u);
  EXPECT_EQ(d.x.front(), 0);
  EXPECT_EQ(d.x.back(), 9999);
  EXPECT_NE(std::find(d.x.begin(), d.x.end(), 4321), d.x.end());
  EXPECT_TRUE(std::is_sorted(d.x.begin(), d.x.end()));
}

// NiceTicks' rule: the smallest 1/2/5 x 10^k step covering the range in at most 5 intervals.
TEST(NiceTicksTest, ZeroTo97UsesStepTwenty) {
  // 97 / 5 = 19.4: step 10 would need 10 intervals, step 20 needs ceil(97 / 20) = 5.
  EXPECT_THAT(NiceTicks(0, 97), ElementsAre(0, 20, 40, 60, 80, 100));
}

TEST(FormatTickTest, UsesCompactUnits) {
  EXPECT_EQ(FormatTick(0), "0");
  EXPECT_EQ(FormatTick(0.25), "0.25");
  EXPECT_EQ(FormatTick(97), "97");
  EXPECT_EQ(FormatTick(1500), "1.5k");
  EXPECT_EQ(FormatTick(20000), "20k");
  EXPECT_EQ(FormatTick(3.2e6), "3.2M");
  EXPECT_EQ(FormatTick(-40), "-40");
}

}  // namespace
}  // namespace suanpan::sim
