// Golden replays: a small slice of every trace format (tests/testdata/traces) through the real
// `suanpan sim` binary, with report.json compared byte for byte against tests/golden/expected/.
// The simulator's output is deterministic (STYLE.md 3), so any difference is a change of
// behaviour: of a reader, the runtime model, the scheduler or the metrics. When a change is
// intended, regenerate with SUANPAN_UPDATE_GOLDEN=1 and explain the difference in the commit.
//
// One case is also checked by hand below, so that the expected files are not merely "what the
// code printed once".

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace suanpan {
namespace {

struct Case {
  std::string name;
  std::string args;
};

std::string Read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string Replay(const Case& c, const std::filesystem::path& out) {
  const std::string cmd = std::string(SUANPAN_BINARY) + " sim " + c.args + " --out " +
                          out.string() + " > " + (out.string() + ".log") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << cmd << "\n" << Read(out.string() + ".log");
  return Read(out / "report.json");
}

class GoldenReplay : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenReplay, ReportMatchesTheGoldenFile) {
  const Case& c = GetParam();
  const auto out = std::filesystem::temp_directory_path() /
                   ("suanpan_golden_" + std::to_string(getpid()) + "_" + c.name);
  std::filesystem::remove_all(out);
  const std::string report = Replay(c, out);
  ASSERT_FALSE(report.empty());
  const std::filesystem::path expected =
      std::filesystem::path("tests/golden/expected") / (c.name + ".report.json");
  if (std::getenv("SUANPAN_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(expected, std::ios::binary) << report;
  }
  EXPECT_EQ(report, Read(expected)) << "report.json of " << c.name << " differs from " << expected
                                    << "; if intended, rerun with SUANPAN_UPDATE_GOLDEN=1";
  std::filesystem::remove_all(out);
  std::filesystem::remove(out.string() + ".log");
}

const std::string kSlices = "tests/testdata/traces/";

INSTANTIATE_TEST_SUITE_P(
    Traces, GoldenReplay,
    ::testing::Values(
        Case{"suanpan_csv", "--trace suanpan:" + kSlices +
                                "suanpan/jobs.csv --cluster 1x2x8:H100 "
                                "--policy fifo,las,srtf"},
        Case{"suanpan_jsonl", "--trace suanpan:" + kSlices +
                                  "suanpan/jobs.jsonl --cluster 1x2x8:H100 "
                                  "--policy fifo,fair_share"},
        Case{"philly", "--trace philly:" + kSlices +
                           "philly/philly_jobs_pollux.csv --cluster 2x4x8 "
                           "--policy fifo,las --split node"},
        Case{"gavel_physical",
             "--trace gavel:" + kSlices +
                 "gavel/physical_cluster/artifact_evaluation.trace --cluster 1x2x8:V100 "
                 "--policy fifo,srtf"},
        Case{"gavel_msr", "--trace gavel:" + kSlices +
                              "gavel/msr/seed=0/23dbec.trace --cluster 1x2x8:V100 "
                              "--policy fifo,las"},
        Case{"sia", "--trace sia:" + kSlices +
                        "sia/workloads/saturn/workload-9.csv --cluster 1x2x8 "
                        "--policy fifo,las"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// The suanpan CSV slice by hand, fifo on 2 nodes x 8 H100 (16 devices):
//   t=40   bert-1 (2 x 8, 7,200 s; 7200.4 in the file rounds to whole seconds) and notebook
//          (1 device, 600 s) arrive; fifo takes bert-1 first (earlier row at the same time):
//          it holds all 16 devices until 7,240. notebook waits.
//   t=100  resnet-7 (8 devices, 3,600 s) arrives and waits.
//   t=7240 bert-1 ends; notebook (submitted 40) and resnet-7 (100) start: they fit together.
//          notebook ends at 7,840, resnet-7 at 10,840.
//   JCT: bert-1 7,200, notebook 7,800, resnet-7 10,740 -> mean 25,740 / 3 = 8,580, median 7,800;
//   makespan 10,840 - 40 = 10,800; queueing: 0, 7,200 and 7,140 -> mean 4,780.
TEST(GoldenByHand, SuanpanCsvFifo) {
  const std::filesystem::path expected = "tests/golden/expected/suanpan_csv.report.json";
  const nlohmann::json r = nlohmann::json::parse(Read(expected));
  const nlohmann::json& fifo = r["policies"][0];
  ASSERT_EQ(fifo["policy"], "fifo/best_fit");
  EXPECT_EQ(fifo["finished"], 3);
  EXPECT_DOUBLE_EQ(fifo["jct_seconds"]["mean"].get<double>(), 8580.0);
  EXPECT_DOUBLE_EQ(fifo["jct_seconds"]["median"].get<double>(), 7800.0);
  EXPECT_EQ(fifo["jct_seconds"]["max"], 10740);
  EXPECT_EQ(fifo["makespan_seconds"], 10800);
  EXPECT_DOUBLE_EQ(fifo["queueing_seconds"]["mean"].get<double>(), 4780.0);
}

}  // namespace
}  // namespace suanpan
