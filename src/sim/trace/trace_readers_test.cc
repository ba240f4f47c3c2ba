// Trace readers against slices of the real public traces (tests/testdata/traces/, see its
// README.md for sources and licenses) with exact expected values, and against small broken files
// written to a per-test temporary folder. Run from the repository root.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "sim/trace/csv.h"
#include "sim/trace/trace.h"

namespace suanpan::sim {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Durations = std::map<std::string, int64_t>;

constexpr char kData[] = "tests/testdata/traces";
const std::string kPhilly = std::string(kData) + "/philly/philly_jobs_pollux.csv";

// The job read from `line` of its (single) file.
const TraceJob* JobAt(const Trace& trace, size_t line) {
  for (const TraceJob& job : trace.jobs) {
    if (job.line == line) return &job;
  }
  return nullptr;
}
const TraceJob* JobNamed(const Trace& trace, std::string_view name) {
  for (const TraceJob& job : trace.jobs) {
    if (job.name == name) return &job;
  }
  return nullptr;
}

std::vector<size_t> Lines(const Trace& trace) {
  std::vector<size_t> lines;
  for (const TraceJob& job : trace.jobs) lines.push_back(job.line);
  return lines;
}

// A folder of its own per test (ctest runs tests as parallel processes), removed afterwards.
class TempFolder {
 public:
  TempFolder() {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::path(::testing::TempDir()) /
            (std::string("suanpan_trace_") + info->test_suite_name() + "_" + info->name());
    std::error_code ec;
    fs::remove_all(path_, ec);
    fs::create_directories(path_, ec);
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  // Writes `text` to <folder>/<name> (creating sub-folders) and returns the path.
  std::string Write(const std::string& name, std::string_view text) const {
    const fs::path file = path_ / name;
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    std::ofstream out(file, std::ios::binary);
    out << text;
    return file.string();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// ---------------------------------------------------------------------------------------------
// csv.h

TEST(LineSplitterTest, HandlesCrlfBlankLinesAndNoFinalNewline) {
  LineSplitter lines("a,b\r\n\r\nc\nd");
  std::vector<std::string_view> got;
  std::vector<size_t> numbers;
  while (std::optional<std::string_view> line = lines.Next()) {
    got.push_back(*line);
    numbers.push_back(lines.line_number());
  }
  EXPECT_THAT(got, ElementsAre("a,b", "", "c", "d"));
  EXPECT_THAT(numbers, ElementsAre(1u, 2u, 3u, 4u));
}

TEST(FieldSplitterTest, TrimsSpacesAndKeepsEmptyTrailingCells) {
  FieldSplitter fields(',');
  EXPECT_THAT(fields.Split("m0,2, 12GB"), ElementsAre("m0", "2", "12GB"));
  EXPECT_THAT(fields.Split(" a ,b,,"), ElementsAre("a", "b", "", ""));
  EXPECT_THAT(fields.Split(""), ElementsAre(""));
}

TEST(FieldSplitterTest, TabSeparatorKeepsInnerSpaces) {
  FieldSplitter fields('\t');
  EXPECT_THAT(fields.Split("ResNet-50 (batch size 64)\tpython3 train.py\t1"),
              ElementsAre("ResNet-50 (batch size 64)", "python3 train.py", "1"));
}

TEST(NumberTest, IntegersAreWholeDecimalsOnly) {
  EXPECT_EQ(ParseInt("8"), 8);
  EXPECT_EQ(ParseInt("-3"), -3);
  EXPECT_EQ(ParseInt("8.0"), std::nullopt);
  EXPECT_EQ(ParseInt("+8"), std::nullopt);
  EXPECT_EQ(ParseInt(""), std::nullopt);
  EXPECT_EQ(ParseInt("99999999999999999999"), std::nullopt);  // overflow
}

TEST(NumberTest, SecondsRoundToNearestHalvesAwayFromZero) {
  EXPECT_EQ(ParseSeconds("860662.0"), 860662);
  EXPECT_EQ(ParseSeconds("163.661794"), 164);
  EXPECT_EQ(ParseSeconds("40.5"), 41);
  EXPECT_EQ(ParseSeconds("-0.5"), -1);
  EXPECT_EQ(ParseSeconds("0.49"), 0);
  EXPECT_EQ(ParseSeconds("nan"), std::nullopt);
  EXPECT_EQ(ParseSeconds("inf"), std::nullopt);
  EXPECT_EQ(ParseSeconds("1e15"), std::nullopt);  // 30 million years: a unit mistake
  EXPECT_EQ(ParseSeconds("12s"), std::nullopt);
}

TEST(ReadTextFileTest, MissingFileIsNotFoundWithPathAndReason) {
  StatusOr<std::string> text = ReadTextFile("tests/testdata/traces/no_such_file.csv");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(text.status().message(), HasSubstr("no_such_file.csv: cannot open: No such file"));
}

// ---------------------------------------------------------------------------------------------
// trace.cc

TEST(FinishTraceTest, SortsStablyShiftsToZeroAndLimits) {
  Trace trace;
  const std::pair<size_t, int64_t> kRows[] = {{1, 50}, {2, 20}, {3, 20}, {4, 90}};
  for (const auto& [line, t] : kRows) {
    TraceJob job;
    job.line = line;
    job.submit_time = t;
    trace.jobs.push_back(job);
  }
  ReadOptions options;
  options.limit = 3;
  FinishTrace(trace, options);
  EXPECT_THAT(Lines(trace), ElementsAre(2u, 3u, 1u));
  EXPECT_EQ(trace.jobs[0].submit_time, 0);
  EXPECT_EQ(trace.jobs[1].submit_time, 0);
  EXPECT_EQ(trace.jobs[2].submit_time, 30);  // 50 - 20
}

TEST(ReadTraceTest, UnknownFormatListsTheKnownOnes) {
  StatusOr<Trace> trace = ReadTrace("alibaba", kPhilly, ReadOptions());
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(),
              HasSubstr("unknown trace format 'alibaba' (known: tiresias, philly, gavel, sia, "
                        "suanpan)"));
}

TEST(ReadTraceTest, DispatchesByName) {
  StatusOr<Trace> trace = ReadTrace("philly", kPhilly, ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->jobs.size(), 28u);
}

// ---------------------------------------------------------------------------------------------
// Philly

TEST(PhillyTest, ReadsSliceOutOfOrderIntoArrivalOrder) {
  // 28 rows: lines 2-25 of the real file plus its lines 4633, 23198, 31568 and 62255 (as lines
  // 26-29). The earliest arrival, 2017-09-04 10:30:41 (line 28), becomes 0.
  StatusOr<Trace> trace = ReadPhilly(kPhilly, ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->rows, 28);
  EXPECT_EQ(trace->skipped, 0);
  ASSERT_EQ(trace->jobs.size(), 28u);
  // cluster_machine_list.csv beside it is the trace's own cluster (its slice: 5 x 2 + 4 x 8).
  ASSERT_TRUE(trace->cluster.has_value());
  EXPECT_EQ(trace->cluster->nodes_by_devices, (std::map<int, int>{{2, 5}, {8, 4}}));

  const TraceJob& first = trace->jobs.front();
  EXPECT_EQ(first.line, 28u);
  EXPECT_EQ(first.name, "philly-28");
  EXPECT_EQ(first.tenant, "7f04ca");
  EXPECT_EQ(first.submit_time, 0);
  EXPECT_EQ(first.devices, 8);
  EXPECT_EQ(first.duration, 2'240'194);
  EXPECT_TRUE(first.duration_by_type.empty());

  // 2017-09-29 07:58:32 - 2017-09-04 10:30:41 = 24 d 21:27:51 = 2,150,871 s.
  const TraceJob* line4 = JobAt(*trace, 4);
  ASSERT_NE(line4, nullptr);
  EXPECT_EQ(line4->submit_time, 2'150'871);
  EXPECT_EQ(line4->duration, 860'662);
  EXPECT_EQ(line4->tenant, "6c71a0");
  EXPECT_EQ(trace->jobs[1].line, 4u);  // second arrival

  // 2017-12-12 21:38:32: 99 d 11:07:51 later = 8,593,671 s; 128 GPUs for 7,673 s.
  const TraceJob* line27 = JobAt(*trace, 27);
  ASSERT_NE(line27, nullptr);
  EXPECT_EQ(line27->submit_time, 8'593'671);
  EXPECT_EQ(line27->devices, 128);
  EXPECT_EQ(line27->duration, 7'673);
  EXPECT_EQ(line27->tenant, "ee9e8c");

  // The last arrival is the trace's last timestamp, 2017-12-22 08:02:11.
  EXPECT_EQ(trace->jobs.back().line, 29u);
  EXPECT_EQ(trace->jobs.back().submit_time, 9'408'690);

  // Line 2, 2017-10-09 07:01:55, 66.0 s on 1 GPU.
  const TraceJob* line2 = JobAt(*trace, 2);
  ASSERT_NE(line2, nullptr);
  EXPECT_EQ(line2->submit_time, 3'011'474);
  EXPECT_EQ(line2->duration, 66);
  EXPECT_EQ(line2->devices, 1);
}

TEST(PhillyTest, LimitKeepsTheFirstArrivals) {
  ReadOptions options;
  options.limit = 2;
  StatusOr<Trace> trace = ReadPhilly(kPhilly, options);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_THAT(Lines(*trace), ElementsAre(28u, 4u));
  EXPECT_EQ(trace->rows, 28);
}

constexpr std::string_view kBadPhilly =
    "timestamp,duration,num_gpus,gpu_time,cluster\n"
    "2017-10-09 07:01:55,66.0,1,66.0,11cb48\n"   // 2: good
    "2017-10-09 07:01:56,abc,1,66.0,11cb48\n"    // 3: duration
    "2017-13-09 07:01:55,66.0,1,66.0,11cb48\n"   // 4: month 13
    "2017-10-09 07:02:00,66.0,0,0.0,11cb48\n"    // 5: 0 GPUs
    "2017-10-09 07:02:00,66.0,1,66.0\n"          // 6: 4 fields
    "1507532600,66.0,1,66.0,11cb48\n"            // 7: seconds after wall-clock rows
    "2017-10-09 07:03:00,120.0,2,240.0,6214e9";  // 8: good, no final newline

TEST(PhillyTest, BadRowsAreSkippedCountedAndReported) {
  TempFolder folder;
  const std::string path = folder.Write("philly.csv", kBadPhilly);
  StatusOr<Trace> trace = ReadPhilly(path, ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->rows, 7);
  EXPECT_EQ(trace->skipped, 5);
  EXPECT_THAT(Lines(*trace), ElementsAre(2u, 8u));
  EXPECT_EQ(trace->jobs[1].submit_time, 65);  // 07:03:00 - 07:01:55
  ASSERT_EQ(trace->problems.size(), 5u);
  EXPECT_THAT(trace->problems[0], HasSubstr(path + ":3: duration: "));
  EXPECT_THAT(trace->problems[0], HasSubstr("'abc'"));
  EXPECT_THAT(trace->problems[1], HasSubstr(path + ":4: timestamp: "));
  EXPECT_THAT(trace->problems[2], HasSubstr(path + ":5: num_gpus: "));
  EXPECT_THAT(trace->problems[3], HasSubstr(path + ":6: row has 4 fields, the header has 5"));
  EXPECT_THAT(trace->problems[4], HasSubstr(path + ":7: timestamp: "));
}

TEST(PhillyTest, ProblemMessagesAreCappedButAllCounted) {
  TempFolder folder;
  const std::string path = folder.Write("philly.csv", kBadPhilly);
  ReadOptions options;
  options.max_problems = 2;
  StatusOr<Trace> trace = ReadPhilly(path, options);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->skipped, 5);
  EXPECT_EQ(trace->problems.size(), 2u);
}

TEST(PhillyTest, StrictMakesTheFirstBadRowFatal) {
  TempFolder folder;
  const std::string path = folder.Write("philly.csv", kBadPhilly);
  ReadOptions options;
  options.strict = true;
  StatusOr<Trace> trace = ReadPhilly(path, options);
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr(path + ":3: duration: "));
}

TEST(PhillyTest, NumericTimestampsAreOffsets) {
  TempFolder folder;
  const std::string path = folder.Write(
      "philly.csv", "cluster,num_gpus,duration,timestamp\r\nvc1,4,10.0,100.4\r\nvc2,1,5,40\r\n");
  StatusOr<Trace> trace = ReadPhilly(path, ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->jobs.size(), 2u);
  EXPECT_EQ(trace->jobs[0].tenant, "vc2");
  EXPECT_EQ(trace->jobs[1].submit_time, 60);  // round(100.4) - 40
  EXPECT_EQ(trace->jobs[1].devices, 4);
  EXPECT_FALSE(trace->cluster.has_value());  // no machine list beside it
}

TEST(PhillyTest, MissingColumnIsFatal) {
  TempFolder folder;
  const std::string path = folder.Write("philly.csv", "timestamp,duration,cluster\n");
  StatusOr<Trace> trace = ReadPhilly(path, ReadOptions());
  ASSERT_FALSE(trace.ok());
  EXPECT_THAT(trace.status().message(),
              HasSubstr(path + ":1: header: required column 'num_gpus' is missing"));
}

TEST(PhillyMachineListTest, OriginalListWithLeadingSpaces) {
  // m0, m1, m100, m102, m105 with 2 GPUs; m94, m95, m96, m98 with 8.
  StatusOr<ClusterShape> shape =
      ReadPhillyMachineList(std::string(kData) + "/philly/cluster_machine_list.csv");
  ASSERT_TRUE(shape.ok()) << shape.status().ToString();
  EXPECT_EQ(shape->nodes_by_devices, (std::map<int, int>{{2, 5}, {8, 4}}));
  EXPECT_EQ(shape->devices_per_node, 8);
  EXPECT_EQ(shape->switches, 1);  // 9 nodes, 32 per switch
  EXPECT_EQ(shape->nodes_per_switch, 9);
  EXPECT_EQ(shape->device_type, "");
}

TEST(PhillyMachineListTest, RevisedListWithIndexColumnDropsMachinesWithoutGpus) {
  // 4 x 8, 2 x 0 (m107, m18), 1 x 3 (m427), 1 x 2 (m355), 3 x 4.
  StatusOr<ClusterShape> shape =
      ReadPhillyMachineList(std::string(kData) + "/philly/philly_machine_list_revised.csv");
  ASSERT_TRUE(shape.ok()) << shape.status().ToString();
  EXPECT_EQ(shape->nodes_by_devices, (std::map<int, int>{{2, 1}, {3, 1}, {4, 3}, {8, 4}}));
  EXPECT_EQ(shape->devices_per_node, 8);
}

TEST(PhillyMachineListTest, BadGpuCountIsFatal) {
  TempFolder folder;
  const std::string path =
      folder.Write("machines.csv", "machineId, number of GPUs\nm0, 8\nm1, eight\n");
  StatusOr<ClusterShape> shape = ReadPhillyMachineList(path);
  ASSERT_FALSE(shape.ok());
  EXPECT_THAT(shape.status().message(), HasSubstr(path + ":3: number of GPUs: "));
}

// The whole derived job list, when the shared trace folder is next to the repository.
TEST(PhillyFullTest, ReadsAll82247Jobs) {
  const std::string path = "../shared/traces/philly/philly_jobs_pollux.csv";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is not present";
  StatusOr<Trace> trace = ReadPhilly(path, ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->jobs.size(), 82'247u);
  EXPECT_EQ(trace->skipped, 0);
  // 2017-09-04 10:30:41 .. 2017-12-22 08:02:11.
  EXPECT_EQ(trace->jobs.back().submit_time, 9'408'690);
  int64_t gpu_seconds = 0;
  int64_t gpus = 0;
  for (const TraceJob& job : trace->jobs) {
    gpu_seconds += job.duration * job.devices;
    gpus += job.devices;
  }
  EXPECT_EQ(gpu_seconds, 3'521'082'502);  // README: 978,078 GPU-hours
  EXPECT_EQ(gpus, 107'235);
  ASSERT_TRUE(trace->cluster.has_value());
  EXPECT_EQ(trace->cluster->nodes_by_devices, (std::map<int, int>{{2, 321}, {8, 231}}));
}

TEST(PhillyFullTest, ReadsBothMachineLists) {
  const std::string original = "../shared/traces/philly/cluster_machine_list.csv";
  const std::string revised = "../shared/traces/philly/philly_machine_list_revised.csv";
  if (!fs::exists(original) || !fs::exists(revised)) GTEST_SKIP() << "shared traces not present";
  StatusOr<ClusterShape> a = ReadPhillyMachineList(original);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->nodes_by_devices, (std::map<int, int>{{2, 321}, {8, 231}}));
  EXPECT_EQ(a->switches, 18);  // ceil(552 / 32)
  StatusOr<ClusterShape> b = ReadPhillyMachineList(revised);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->nodes_by_devices, (std::map<int, int>{{2, 3}, {3, 1}, {4, 271}, {8, 264}}));
  EXPECT_EQ(b->switches, 17);  // ceil(539 / 32): 13 machines without GPUs left out
}

// ---------------------------------------------------------------------------------------------
// Gavel

TEST(GavelTest, ReadsPerVcFolderWithThroughputsTwoLevelsUp) {
  // msr/seed=0/{23dbec,795a4c,925e2b}.trace: 9 + 3 + 4 jobs; simulation_throughputs.json is in
  // gavel/, two folders up.
  StatusOr<Trace> trace = ReadGavel(std::string(kData) + "/gavel/msr/seed=0", ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->rows, 16);
  EXPECT_EQ(trace->skipped, 0);
  ASSERT_EQ(trace->jobs.size(), 16u);
  // Every file starts at 0; ties keep file (name) order.
  EXPECT_EQ(trace->jobs[0].name, "23dbec-1");
  EXPECT_EQ(trace->jobs[1].name, "795a4c-1");
  EXPECT_EQ(trace->jobs[2].name, "925e2b-1");
  EXPECT_EQ(trace->jobs[3].name, "23dbec-2");
  EXPECT_EQ(trace->jobs[3].submit_time, 11);

  // Transformer (batch size 128) on 1 GPU, 79,561 steps: measured at scale 1 on all types.
  const TraceJob* transformer = JobNamed(*trace, "795a4c-1");
  ASSERT_NE(transformer, nullptr);
  EXPECT_EQ(transformer->tenant, "795a4c");
  EXPECT_EQ(transformer->model, "Transformer (batch size 128)");
  EXPECT_EQ(transformer->devices, 1);
  EXPECT_EQ(transformer->duration_by_type,
            (Durations{{"V100", 14'609}, {"P100", 25'886}, {"K80", 81'054}}));
  EXPECT_EQ(transformer->duration, 14'609);

  // Recommendation (batch size 8192) on 8 GPUs, 1,033 steps, arriving at 9,357 s: measured at
  // scale 1 only, so 8 x the 1-GPU rate: V100 1033 / (8 x 2.8415) = 45.4 -> 45 s.
  const TraceJob* recommendation = JobNamed(*trace, "925e2b-2");
  ASSERT_NE(recommendation, nullptr);
  EXPECT_EQ(recommendation->submit_time, 9'357);
  EXPECT_EQ(recommendation->devices, 8);
  EXPECT_EQ(recommendation->duration_by_type, (Durations{{"V100", 45}, {"P100", 23}, {"K80", 48}}));
  EXPECT_EQ(recommendation->duration, 45);

  // ResNet-50 (batch size 128) on 8 GPUs: K80 throughput 0 (does not fit), so no K80 entry.
  const TraceJob* resnet = JobNamed(*trace, "23dbec-5");
  ASSERT_NE(resnet, nullptr);
  EXPECT_EQ(resnet->submit_time, 188'006);
  EXPECT_EQ(resnet->duration_by_type, (Durations{{"V100", 3'293}, {"P100", 3'412}}));

  // CycleGAN on 8 GPUs (measured at 1 only): V100 1,581 s.
  const TraceJob* cyclegan = JobNamed(*trace, "23dbec-9");
  ASSERT_NE(cyclegan, nullptr);
  EXPECT_EQ(cyclegan->duration_by_type,
            (Durations{{"V100", 1'581}, {"P100", 2'913}, {"K80", 13'866}}));
}

TEST(GavelTest, ReadsOneCurrentFormatFile) {
  // physical_cluster/artifact_evaluation.trace: 15 jobs, 10 fields, all arriving at 0.
  StatusOr<Trace> trace = ReadGavel(
      std::string(kData) + "/gavel/physical_cluster/artifact_evaluation.trace", ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->jobs.size(), 15u);
  EXPECT_EQ(trace->jobs[1].line, 2u);
  const TraceJob& job = trace->jobs[1];  // Transformer (batch size 16), 11,005 steps on 2 GPUs
  EXPECT_EQ(job.name, "artifact_evaluation-2");
  EXPECT_EQ(job.tenant, "artifact_evaluation");
  EXPECT_EQ(job.submit_time, 0);
  EXPECT_EQ(job.devices, 2);
  EXPECT_EQ(job.duration_by_type, (Durations{{"V100", 778}, {"P100", 769}, {"K80", 1'562}}));
  EXPECT_EQ(job.duration, 778);
  EXPECT_EQ(trace->jobs[14].model, "A3C");
  EXPECT_EQ(trace->jobs[14].duration, 1'234);
}

TEST(GavelTest, ReadsOneLegacyFile) {
  StatusOr<Trace> trace =
      ReadGavel(std::string(kData) + "/gavel/msr/seed=0/925e2b.trace", ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->jobs.size(), 4u);
  const TraceJob* job = JobAt(*trace, 3);  // Transformer (batch size 256), 8 GPUs, 695,566 steps
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->submit_time, 11'109);
  EXPECT_EQ(job->duration, 71'582);
}

// A toy table: 'Toy' measured at scale 1 and 4 on V100, at 1 on K80, not at all on P100.
constexpr std::string_view kToyThroughputs = R"json({
  "v100": {"('Toy', 1)": {"null": 2.0, "('Toy', 1)": [1.0, 1.0]}, "('Toy', 4)": {"null": 6.0}},
  "k80": {"('Toy', 1)": {"null": 0.5}},
  "v100_unconsolidated": {"('Toy', 1)": {"null": 99.0}}
})json";

TEST(GavelTest, UnmeasuredScalesExtrapolateLinearlyFromTheLargestSmallerOne) {
  TempFolder folder;
  folder.Write("gavel/simulation_throughputs.json", kToyThroughputs);
  const std::string path = folder.Write(
      "gavel/msr/seed=0/vc.trace",
      "Toy\tcmd\t-n\t1\t100\t0.000000\t1\n"    // V100 100 / 2 = 50 s; K80 100 / 0.5 = 200 s
      "Toy\tcmd\t-n\t1\t100\t5.400000\t2\n"    // V100 2 x 2 = 4/s -> 25 s; K80 2 x 0.5 -> 100 s
      "Toy\tcmd\t-n\t1\t100\t7.000000\t8\n");  // V100 6 x 8/4 = 12/s -> 8 s; K80 4/s -> 25 s
  StatusOr<Trace> trace = ReadGavel(path, ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->jobs.size(), 3u);
  EXPECT_EQ(trace->jobs[0].duration_by_type, (Durations{{"V100", 50}, {"K80", 200}}));
  EXPECT_EQ(trace->jobs[1].submit_time, 5);
  EXPECT_EQ(trace->jobs[1].duration_by_type, (Durations{{"V100", 25}, {"K80", 100}}));
  EXPECT_EQ(trace->jobs[2].duration_by_type, (Durations{{"V100", 8}, {"K80", 25}}));
  EXPECT_EQ(trace->jobs[2].tenant, "vc");
}

TEST(GavelTest, BadRowsAreSkippedCountedAndReported) {
  TempFolder folder;
  folder.Write("simulation_throughputs.json", kToyThroughputs);
  const std::string path = folder.Write("vc.trace",
                                        "Toy\tcmd\t-n\t1\t100\t0\t1\n"       // 1: good
                                        "Nope\tcmd\t-n\t1\t100\t1\t1\n"      // 2: unknown type
                                        "Toy\tcmd\t-n\t1\tmany\t2\t1\n"      // 3: steps
                                        "Toy\tcmd\t-n\t1\t100\t3\n"          // 4: 6 fields
                                        "\n"                                 // 5: blank
                                        "Toy\tcmd\t-n\t1\t100\t-4\t1\n"      // 6: arrival
                                        "Toy\tcmd\t-n\t1\t100\t10\t0\n"      // 7: scale
                                        "Toy\tcmd\t-n\t1\t300\t12.5\t1\n");  // 8: good
  StatusOr<Trace> trace = ReadGavel(path, ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->rows, 7);
  EXPECT_EQ(trace->skipped, 5);
  EXPECT_THAT(Lines(*trace), ElementsAre(1u, 8u));
  EXPECT_EQ(trace->jobs[1].submit_time, 13);  // 12.5 rounds half away from zero
  EXPECT_EQ(trace->jobs[1].duration, 150);
  ASSERT_EQ(trace->problems.size(), 5u);
  EXPECT_THAT(trace->problems[0], HasSubstr(path + ":2: job_type: 'Nope'"));
  EXPECT_THAT(trace->problems[1], HasSubstr(path + ":3: total_steps: "));
  EXPECT_THAT(trace->problems[2], HasSubstr(path + ":4: row has 6 tab-separated fields"));
  EXPECT_THAT(trace->problems[3], HasSubstr(path + ":6: arrival_time: "));
  EXPECT_THAT(trace->problems[4], HasSubstr(path + ":7: scale_factor: "));

  ReadOptions strict;
  strict.strict = true;
  StatusOr<Trace> fatal = ReadGavel(path, strict);
  ASSERT_FALSE(fatal.ok());
  EXPECT_EQ(fatal.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(fatal.status().message(), HasSubstr(path + ":2: job_type: 'Nope'"));
}

TEST(GavelTest, UnknownLayoutIsFatal) {
  TempFolder folder;
  folder.Write("simulation_throughputs.json", kToyThroughputs);
  const std::string path = folder.Write("vc.trace", "Toy\t100\t1\n");
  StatusOr<Trace> trace = ReadGavel(path, ReadOptions());
  ASSERT_FALSE(trace.ok());
  EXPECT_THAT(trace.status().message(),
              HasSubstr(path + ":1: expected 7 (legacy) or 10 tab-separated fields, got 3"));
}

TEST(GavelTest, MissingThroughputsAreNotFound) {
  TempFolder folder;
  const std::string path = folder.Write("a/b/c/d/vc.trace", "Toy\tcmd\t-n\t1\t100\t0\t1\n");
  StatusOr<Trace> trace = ReadGavel(path, ReadOptions());
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(trace.status().message(), HasSubstr("simulation_throughputs.json"));
}

// ---------------------------------------------------------------------------------------------
// Sia

const std::string kSaturn9 = std::string(kData) + "/sia/workloads/saturn/workload-9.csv";

TEST(SiaTest, ReadsSaturnSliceWithRunTimesFromTheProfiles) {
  // The first 12 jobs of saturn/workload-9.csv; the first arrives at 528 s.
  StatusOr<Trace> trace = ReadSia(kSaturn9, ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->rows, 12);
  EXPECT_EQ(trace->skipped, 0);
  ASSERT_EQ(trace->jobs.size(), 12u);

  // cifar10 on 6 GPUs at batch 2048: local batch 342, no accumulation, 100 epochs. No RTX 6000
  // entry: only one 4-GPU quad node was profiled.
  const TraceJob& first = trace->jobs[0];
  EXPECT_EQ(first.name, "cifar10-0");
  EXPECT_EQ(first.tenant, "");
  EXPECT_EQ(first.submit_time, 0);
  EXPECT_EQ(first.devices, 6);
  EXPECT_EQ(first.model, "cifar10");
  EXPECT_EQ(first.duration_by_type,
            (Durations{{"RTX2080Ti", 805}, {"T4", 1'615}, {"V100", 719}, {"A100", 334}}));
  EXPECT_EQ(first.duration, 805);  // the RTX 2080Ti reference

  // cifar10 on 4 GPUs fits one node of every type, RTX 6000 included.
  const TraceJob* four = JobNamed(*trace, "cifar10-4");
  ASSERT_NE(four, nullptr);
  EXPECT_EQ(four->submit_time, 537);  // 1065 - 528
  EXPECT_EQ(
      four->duration_by_type,
      (Durations{
          {"RTX2080Ti", 1'070}, {"T4", 2'374}, {"V100", 839}, {"A100", 419}, {"RTX6000", 981}}));

  // bert on 8 GPUs at batch 384: local 48; T4 (2 nodes "44") and RTX 2080Ti profile local
  // batches up to 12, so 3 accumulation steps; 2 epochs.
  const TraceJob* bert = JobNamed(*trace, "bert-9");
  ASSERT_NE(bert, nullptr);
  EXPECT_EQ(bert->submit_time, 981);
  EXPECT_EQ(bert->model, "bert");
  EXPECT_EQ(bert->duration_by_type,
            (Durations{{"RTX2080Ti", 1'225}, {"T4", 2'952}, {"V100", 995}, {"A100", 196}}));

  const TraceJob* big_batch = JobNamed(*trace, "cifar10-8");  // 8 GPUs at batch 4096
  ASSERT_NE(big_batch, nullptr);
  EXPECT_EQ(big_batch->duration_by_type,
            (Durations{{"RTX2080Ti", 698}, {"T4", 1'733}, {"V100", 598}, {"A100", 271}}));
}

// A workload in a temporary folder that sees the test profiles through a link.
std::string SiaWorkload(const TempFolder& folder, std::string_view text) {
  std::error_code ec;
  fs::create_directory_symlink(fs::absolute(std::string(kData) + "/sia/throughput_profiles"),
                               folder.path() / "throughput_profiles", ec);
  return folder.Write("workloads/w.csv", text);
}

TEST(SiaTest, BadRowsAreSkippedCountedAndReported) {
  TempFolder folder;
  const std::string path = SiaWorkload(folder,
                                       "name,time,application,num_replicas,batch_size\n"
                                       "a,1.4,cifar10,4,2048\n"  // 2: good
                                       "b,2,gpt_pmp,8,384\n"     // 3: not supported
                                       "c,3,cifar10,0,2048\n"    // 4: 0 GPUs
                                       "d,abc,cifar10,4,2048\n"  // 5: time
                                       "e,6,cifar10,2,2048\n"    // 6: no 2-GPU profile here
                                       "f,7,resnet,4,256\n"      // 7: unknown application
                                       "g,8,cifar10,4\n");       // 8: 4 fields
  StatusOr<Trace> trace = ReadSia(path, ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->rows, 7);
  EXPECT_EQ(trace->skipped, 6);
  ASSERT_EQ(trace->jobs.size(), 1u);
  EXPECT_EQ(trace->jobs[0].name, "a");
  EXPECT_EQ(trace->jobs[0].duration, 1'070);
  ASSERT_EQ(trace->problems.size(), 6u);
  EXPECT_THAT(trace->problems[0], HasSubstr(path + ":3: application: 'gpt_pmp': "));
  EXPECT_THAT(trace->problems[1], HasSubstr(path + ":4: num_replicas: "));
  EXPECT_THAT(trace->problems[2], HasSubstr(path + ":5: time: "));
  EXPECT_THAT(trace->problems[3], HasSubstr(path + ":6: num_replicas: 2 GPUs at batch_size 2048"));
  EXPECT_THAT(trace->problems[4], HasSubstr(path + ":7: application: 'resnet': unknown"));
  EXPECT_THAT(trace->problems[5], HasSubstr(path + ":8: row has 4 fields, the header has 5"));

  ReadOptions strict;
  strict.strict = true;
  StatusOr<Trace> fatal = ReadSia(path, strict);
  ASSERT_FALSE(fatal.ok());
  EXPECT_THAT(fatal.status().message(), HasSubstr(path + ":3: application: 'gpt_pmp'"));
}

TEST(SiaTest, FolderIsRejected) {
  StatusOr<Trace> trace = ReadSia(std::string(kData) + "/sia/workloads/saturn", ReadOptions());
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr("is a directory"));
}

TEST(SiaTest, MissingProfilesAreNotFound) {
  TempFolder folder;
  const std::string path = folder.Write("a/b/c/d/e/w.csv",
                                        "name,time,application,num_replicas,batch_size\n"
                                        "a,1,cifar10,4,2048\n");
  StatusOr<Trace> trace = ReadSia(path, ReadOptions());
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(trace.status().message(), HasSubstr("throughput_profiles"));
}

// ---------------------------------------------------------------------------------------------
// suanpan

TEST(SuanpanFormatTest, ReadsCsvInAnyColumnOrder) {
  // CRLF, a blank line, spaces around a name, empty trailing cells, no final newline.
  StatusOr<Trace> trace = ReadSuanpan(std::string(kData) + "/suanpan/jobs.csv", ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->rows, 3);
  ASSERT_EQ(trace->jobs.size(), 3u);
  EXPECT_THAT(Lines(*trace), ElementsAre(3u, 5u, 2u));  // 40, 40, 100

  const TraceJob& bert = trace->jobs[0];
  EXPECT_EQ(bert.name, "bert-1");
  EXPECT_EQ(bert.tenant, "nlp");
  EXPECT_EQ(bert.submit_time, 0);
  EXPECT_EQ(bert.devices, 16);
  EXPECT_EQ(bert.workers, 2);
  EXPECT_EQ(bert.duration, 7'200);  // 7200.4 rounded
  EXPECT_TRUE(bert.duration_by_type.empty());
  EXPECT_EQ(bert.model, "bert");

  const TraceJob& notebook = trace->jobs[1];
  EXPECT_EQ(notebook.name, "notebook");
  EXPECT_EQ(notebook.tenant, "");
  EXPECT_EQ(notebook.workers, 0);
  EXPECT_EQ(notebook.model, "");

  const TraceJob& resnet = trace->jobs[2];
  EXPECT_EQ(resnet.submit_time, 60);
  EXPECT_EQ(resnet.workers, 1);
  EXPECT_EQ(resnet.duration_by_type, (Durations{{"H100", 3'600}}));
}

TEST(SuanpanFormatTest, ReadsJsonl) {
  StatusOr<Trace> trace = ReadSuanpan(std::string(kData) + "/suanpan/jobs.jsonl", ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->jobs.size(), 3u);
  EXPECT_THAT(Lines(*trace), ElementsAre(2u, 4u, 1u));
  EXPECT_EQ(trace->jobs[0].name, "bert-1");
  EXPECT_EQ(trace->jobs[0].duration, 7'200);
  EXPECT_EQ(trace->jobs[1].name, "notebook");
  EXPECT_EQ(trace->jobs[1].submit_time, 1);  // 40.5 -> 41, minus 40
  EXPECT_EQ(trace->jobs[1].workers, 0);      // null: absent
  EXPECT_EQ(trace->jobs[2].name, "resnet-7");
  EXPECT_EQ(trace->jobs[2].submit_time, 60);
  EXPECT_EQ(trace->jobs[2].duration_by_type, (Durations{{"H100", 3'600}}));
  EXPECT_EQ(trace->jobs[2].model, "resnet50");
}

TEST(SuanpanFormatTest, BadCsvRowsAreSkippedCountedAndReported) {
  TempFolder folder;
  const std::string path = folder.Write("jobs.csv",
                                        "name,tenant,submit_time,devices,duration,workers\n"
                                        "a,t,0,8,10,2\n"     // 2: good
                                        "b,t,0,8,10,3\n"     // 3: 3 workers for 8 devices
                                        "a,t,5,1,10,\n"      // 4: duplicate name
                                        ",t,5,1,10,\n"       // 5: empty name
                                        "c,t,-1,1,10,\n"     // 6: negative time
                                        "d,t,1,1,0.2,\n"     // 7: duration rounds to 0
                                        "e,t,1,1,10\n"       // 8: 5 fields
                                        "f,t,1,two,10,\n");  // 9: devices
  StatusOr<Trace> trace = ReadSuanpan(path, ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->rows, 8);
  EXPECT_EQ(trace->skipped, 7);
  ASSERT_EQ(trace->problems.size(), 7u);
  EXPECT_THAT(trace->problems[0], HasSubstr(path + ":3: workers: 3 workers do not split 8"));
  EXPECT_THAT(trace->problems[1], HasSubstr(path + ":4: name: duplicate 'a' (first on line 2)"));
  EXPECT_THAT(trace->problems[2], HasSubstr(path + ":5: name: must not be empty"));
  EXPECT_THAT(trace->problems[3], HasSubstr(path + ":6: submit_time: "));
  EXPECT_THAT(trace->problems[4], HasSubstr(path + ":7: duration: "));
  EXPECT_THAT(trace->problems[5], HasSubstr(path + ":8: row has 5 fields, the header has 6"));
  EXPECT_THAT(trace->problems[6], HasSubstr(path + ":9: devices: "));

  ReadOptions strict;
  strict.strict = true;
  StatusOr<Trace> fatal = ReadSuanpan(path, strict);
  ASSERT_FALSE(fatal.ok());
  EXPECT_EQ(fatal.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(fatal.status().message(), HasSubstr(path + ":3: workers: "));
}

TEST(SuanpanFormatTest, BadJsonlRowsAreSkippedCountedAndReported) {
  TempFolder folder;
  const std::string path = folder.Write(
      "jobs.jsonl",
      "{\"name\": \"a\", \"tenant\": \"t\", \"submit_time\": 0, \"devices\": 8, \"duration\": 5}\n"
      "{\"name\": \"b\", \"tenant\": \"t\", \"submit_time\": 0, \"devices\": 8.0, "
      "\"duration\": 5}\n"
      "{\"name\": \"c\", \"tenant\": \"t\", \"submit_time\": 0, \"devices\": 8, \"duration\": 5, "
      "\"gpus\": 8}\n"
      "{\"name\": \"d\", \"submit_time\": 0, \"devices\": 8, \"duration\": 5}\n"
      "[1, 2]\n"
      "{\"name\": \"e\", \"tenant\": 7, \"submit_time\": 0, \"devices\": 8, \"duration\": 5}\n");
  StatusOr<Trace> trace = ReadSuanpan(path, ReadOptions());
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->rows, 6);
  EXPECT_EQ(trace->skipped, 5);
  ASSERT_EQ(trace->problems.size(), 5u);
  EXPECT_THAT(trace->problems[0], HasSubstr(path + ":2: devices: must be a whole number"));
  EXPECT_THAT(trace->problems[1], HasSubstr(path + ":3: gpus: unknown key"));
  EXPECT_THAT(trace->problems[2], HasSubstr(path + ":4: tenant: required"));
  EXPECT_THAT(trace->problems[3], HasSubstr(path + ":5: not a JSON object"));
  EXPECT_THAT(trace->problems[4], HasSubstr(path + ":6: tenant: must be a string"));
}

TEST(SuanpanFormatTest, UnknownColumnIsFatalEvenWhenNotStrict) {
  TempFolder folder;
  const std::string path =
      folder.Write("jobs.csv", "name,tenant,submit_time,devices,duration,gpus\na,t,0,1,1,1\n");
  StatusOr<Trace> trace = ReadSuanpan(path, ReadOptions());
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr(path + ":1: header: unknown column 'gpus'"));
}

TEST(SuanpanFormatTest, OtherExtensionsAreRejected) {
  StatusOr<Trace> trace = ReadSuanpan("jobs.tsv", ReadOptions());
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr(".csv or a .jsonl"));
}

}  // namespace
}  // namespace suanpan::sim
