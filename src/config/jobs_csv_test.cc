#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "config/pool_file.h"

namespace suanpan::config {
namespace {

using ::testing::HasSubstr;

void Must(const Status& s) { SP_CHECK(s.ok()) << s.ToString(); }

// Cluster "h100": 4 nodes x 8 H100 (32 devices); cluster "4090": 2 nodes x 4 RTX4090. Classes
// "low" (0, preemptible) and "high" (1000, not preemptible). Tenant "a" may use every class,
// tenant "b" only "low".
core::Pool MakePool() {
  core::PoolBuilder b;
  Must(b.AddPriorityClass("low", 0, true));
  Must(b.AddPriorityClass("high", 1000, false));
  StatusOr<core::ProviderId> p = b.AddProvider("p", "cn-test", core::BackendKind::kManaged);
  Must(p.status());
  Must(b.SetPrice(*p, "H100", MicroYuan(10'000'000)));
  Must(b.SetPrice(*p, "RTX4090", MicroYuan(2'000'000)));
  StatusOr<core::ClusterId> h100 = b.AddCluster(*p, "h100", 32, 8);
  Must(h100.status());
  Must(b.AddNodeGroup(*h100, "g", 4, "H100", 8, 0, MilliCpu(128'000), MiB(2048 * 1024)));
  StatusOr<core::ClusterId> rtx = b.AddCluster(*p, "4090", 32, 8);
  Must(rtx.status());
  Must(b.AddNodeGroup(*rtx, "g", 2, "RTX4090", 4, 0, MilliCpu(64'000), MiB(256 * 1024)));
  Must(b.AddTenant("a", 1, {}).status());
  Must(b.AddTenant("b", 1, {"low"}).status());
  StatusOr<core::Pool> pool = std::move(b).Build();
  Must(pool.status());
  return std::move(*pool);
}

constexpr std::string_view kHeader =
    "name,tenant,workers,devices_per_worker,device_types,priority_class,preemptible,"
    "runtime_estimate\n";

class ParseJobsTest : public ::testing::Test {
 protected:
  StatusOr<JobList> Parse(std::string_view text) { return ParseJobs(text, "j.csv", pool_); }
  // The jobs of `rows` under kHeader; fails the test on an error.
  std::vector<core::JobSpec> Jobs(std::string_view rows) {
    StatusOr<JobList> list = Parse(std::string(kHeader) + std::string(rows));
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? list->jobs : std::vector<core::JobSpec>();
  }
  core::DeviceTypeId Type(std::string_view name) const { return *pool_.catalog().Find(name); }

  core::Pool pool_ = MakePool();
};

TEST_F(ParseJobsTest, AQuarterDeviceIs250Milli) {
  std::vector<core::JobSpec> jobs = Jobs("notebook,a,1,0.25,RTX4090,,,\n");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id.value(), 1u);
  EXPECT_EQ(jobs[0].name, "notebook");
  EXPECT_EQ(jobs[0].workers, 1);
  EXPECT_EQ(jobs[0].worker.devices, 0);
  EXPECT_EQ(jobs[0].worker.fraction.value(), 250);
}

TEST_F(ParseJobsTest, AGangOfWholeDevices) {
  std::vector<core::JobSpec> jobs = Jobs("train,a,4,8,H100,,,3600\n");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_TRUE(jobs[0].gang());
  EXPECT_EQ(jobs[0].workers, 4);
  EXPECT_EQ(jobs[0].worker.devices, 8);
  EXPECT_EQ(jobs[0].TotalShare().value(), 32'000);  // 4 x 8 devices in milli-devices
  ASSERT_TRUE(jobs[0].runtime_estimate.has_value());
  EXPECT_EQ(jobs[0].runtime_estimate->value(), 3600);
}

TEST_F(ParseJobsTest, DeviceTypesKeepTheirOrder) {
  std::vector<core::JobSpec> jobs = Jobs("j1,a,1,1,H100|RTX4090,,,\nj2,a,1,1,RTX4090|H100,,,\n");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].worker.types, (std::vector{Type("H100"), Type("RTX4090")}));
  EXPECT_EQ(jobs[1].worker.types, (std::vector{Type("RTX4090"), Type("H100")}));
}

TEST_F(ParseJobsTest, PriorityClassSetsPriorityAndPreemptible) {
  std::vector<core::JobSpec> jobs = Jobs("serve,a,1,8,H100,high,,\nsweep,b,1,1,H100,low,,\n");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].priority, 1000);
  EXPECT_FALSE(jobs[0].preemptible);
  EXPECT_EQ(jobs[1].priority, 0);
  EXPECT_TRUE(jobs[1].preemptible);
}

TEST_F(ParseJobsTest, AcceptsCrlfLineEndings) {
  StatusOr<JobList> list = Parse(
      "name,tenant,workers,devices_per_worker,device_types\r\n"
      "j1,a,1,8,H100\r\n"
      "j2,a,1,1,RTX4090\r\n");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->jobs.size(), 2u);
  EXPECT_EQ(list->jobs[1].worker.types, std::vector{Type("RTX4090")});
}

TEST_F(ParseJobsTest, AcceptsAMissingFinalNewline) {
  StatusOr<JobList> list =
      Parse("name,tenant,workers,devices_per_worker,device_types\nj1,a,1,8,H100");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->jobs.size(), 1u);
  EXPECT_EQ(list->jobs[0].worker.devices, 8);
}

TEST_F(ParseJobsTest, BlankAndCommentLinesStillCount) {
  StatusOr<JobList> list =
      Parse("name,tenant,workers,devices_per_worker,device_types\n\n# a comment\nj1,zz,1,8,H100\n");
  ASSERT_FALSE(list.ok());
  EXPECT_THAT(list.status().message(), HasSubstr("j.csv:4: tenant: unknown tenant 'zz'"));
}

TEST_F(ParseJobsTest, HeaderOnlyIsAnEmptyList) {
  StatusOr<JobList> list = Parse(kHeader);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_TRUE(list->jobs.empty());
}

TEST_F(ParseJobsTest, EmptyFileHasNoHeader) {
  StatusOr<JobList> list = Parse("");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(list.status().message(), "j.csv: empty: no header row");
}

struct BadJobs {
  const char* test_name;
  const char* header;   // nullptr: kHeader
  const char* rows;     // from line 2 on
  const char* message;  // must appear in the status message
};

constexpr BadJobs kBadJobs[] = {
    {"UnknownColumn", "name,tenant,workers,devices_per_worker,device_types,colour\n", "",
     "j.csv:1: header: unknown column 'colour'"},
    {"MissingRequiredColumn", "name,tenant,workers,devices_per_worker\n", "",
     "j.csv:1: header: required column 'device_types' is missing"},
    {"DuplicateColumn", "name,tenant,workers,devices_per_worker,device_types,tenant\n", "",
     "j.csv:1: header: duplicate column 'tenant'"},
    {"WrongFieldCount", nullptr, "j1,a,1,8,H100\n", "j.csv:2: row has 5 fields, the header has 8"},
    {"DuplicateName", nullptr, "j1,a,1,8,H100,,,\nj1,a,1,8,H100,,,\n",
     "j.csv:3: name: duplicate job name 'j1'"},
    {"UnknownTenant", nullptr, "j1,zz,1,8,H100,,,\n", "j.csv:2: tenant: unknown tenant 'zz'"},
    {"UnknownDeviceType", nullptr, "j1,a,1,8,H200,,,\n",
     "j.csv:2: device_types: unknown device type 'H200' (known: H100, H800,"},
    {"ZeroDevices", nullptr, "j1,a,1,0,H100,,,\n",
     "j.csv:2: devices_per_worker: must be > 0, got '0'"},
    {"NegativeDevices", nullptr, "j1,a,1,-1,H100,,,\n",
     "j.csv:2: devices_per_worker: must be > 0, got '-1'"},
    {"OneAndAHalfDevices", nullptr, "j1,a,1,1.5,H100,,,\n",
     "j.csv:2: devices_per_worker: must be a whole number or a fraction below 1, got '1.5'"},
    {"NonNumericDevices", nullptr, "j1,a,1,abc,H100,,,\n",
     "j.csv:2: devices_per_worker: 'abc' is not a decimal number"},
    {"SixtyFiveDevices", nullptr, "j1,a,1,65,H100,,,\n",
     "j.csv:2: devices_per_worker: must be at most 64, got 65"},
    {"TooFineAFraction", nullptr, "j1,a,1,0.0001,RTX4090,,,\n",
     "j.csv:2: devices_per_worker: '0.0001' is not a whole number of units (1/1000 each)"},
    {"ZeroWorkers", nullptr, "j1,a,0,8,H100,,,\n", "j.csv:2: workers: must be in 1..100000, got 0"},
    {"ClassNotAllowedForTenant", nullptr, "j1,b,1,8,H100,high,,\n",
     "j.csv:2: priority_class: tenant 'b' may not use class 'high'"},
    {"UnknownClass", nullptr, "j1,a,1,8,H100,urgent,,\n",
     "j.csv:2: priority_class: unknown priority class 'urgent' (known: low, high)"},
    {"PreemptibleMaybe", nullptr, "j1,a,1,8,H100,,maybe,\n",
     "j.csv:2: preemptible: must be true or false, got 'maybe'"},
    {"ZeroRuntimeEstimate", nullptr, "j1,a,1,8,H100,,,0\n",
     "j.csv:2: runtime_estimate: must be in 1..315360000, got 0"},
    // From core::ValidateJob: 5 x 8 = 40 devices > the 32 H100 of the largest cluster.
    {"GangLargerThanAnyCluster", nullptr, "j1,a,5,8,H100,,,\n",
     "j.csv:2: workers: 5 workers of 8 devices fit no cluster of an acceptable type"},
    {"FractionForAGang", nullptr, "j1,a,2,0.5,RTX4090,,,\n",
     "j.csv:2: devices_per_worker: a fraction of a device is only for a single worker, got 2 "
     "workers"},
};

class BadJobsTest : public ::testing::TestWithParam<BadJobs> {};

TEST_P(BadJobsTest, NamesFileLineAndColumn) {
  const BadJobs& c = GetParam();
  const std::string text = std::string(c.header != nullptr ? c.header : kHeader) + c.rows;
  StatusOr<JobList> list = ParseJobs(text, "j.csv", MakePool());
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(list.status().message(), HasSubstr(c.message));
}

INSTANTIATE_TEST_SUITE_P(ParseJobs, BadJobsTest, ::testing::ValuesIn(kBadJobs),
                         [](const ::testing::TestParamInfo<BadJobs>& info) {
                           return std::string(info.param.test_name);
                         });

int64_t FixedOrDie(std::string_view text, int64_t scale) {
  StatusOr<int64_t> v = ParseFixed(text, scale);
  SP_CHECK(v.ok()) << text << ": " << v.status().ToString();
  return *v;
}

std::string FixedError(std::string_view text, int64_t scale) {
  StatusOr<int64_t> v = ParseFixed(text, scale);
  if (v.ok()) return "parsed as " + std::to_string(*v);
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  return v.status().message();
}

TEST(ParseFixedTest, ReadsDecimalsExactly) {
  EXPECT_EQ(FixedOrDie("0.25", 1000), 250);
  EXPECT_EQ(FixedOrDie("8", 1000), 8000);
  EXPECT_EQ(FixedOrDie("12.5", 1'000'000), 12'500'000);
  EXPECT_EQ(FixedOrDie("-3", 1), -3);
  EXPECT_EQ(FixedOrDie("-0.5", 1000), -500);
  EXPECT_EQ(FixedOrDie("1.0000", 1000), 1000);  // zeros beyond the unit are harmless
  EXPECT_EQ(FixedOrDie("9223372036854775807", 1), std::numeric_limits<int64_t>::max());
}

TEST(ParseFixedTest, RejectsMoreDecimalsThanTheUnit) {
  EXPECT_EQ(FixedError("1.0001", 1000), "'1.0001' is not a whole number of units (1/1000 each)");
}

TEST(ParseFixedTest, RejectsExponentsAndSigns) {
  EXPECT_EQ(FixedError("1e3", 1000), "'1e3' is not a decimal number");
  EXPECT_EQ(FixedError("+1", 1000), "'+1' is not a decimal number");
  EXPECT_EQ(FixedError("-", 1000), "'-' is not a decimal number");
  EXPECT_EQ(FixedError("1.2.3", 1000), "'1.2.3' is not a decimal number");
}

TEST(ParseFixedTest, RejectsTheEmptyString) { EXPECT_EQ(FixedError("", 1000), "empty number"); }

TEST(ParseFixedTest, RejectsOverflow) {
  EXPECT_EQ(FixedError("99999999999999999999", 1), "'99999999999999999999' is too large");
  // Fits in 64 bits, but not once scaled to thousandths.
  EXPECT_EQ(FixedError("9223372036854775807", 1000), "'9223372036854775807' is too large");
}

// Disabled: ParseFixed divides `scale` by a power of ten, which is exact only when `scale` is one.
// The pool file reads memory_gib with scale 1024, so 1.5 GiB gives 1534 MiB instead of 1536.
TEST(ParseFixedTest, BinaryScaleIsExact) {
  EXPECT_EQ(FixedOrDie("1.5", 1024), 1536);
  EXPECT_EQ(FixedOrDie("0.25", 1024), 256);
}

TEST(ReadJobsFileTest, SmallExampleParsesAgainstItsPool) {
  StatusOr<PoolFile> pool = ReadPoolFile("examples/small-pool.toml");
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  StatusOr<JobList> list = ReadJobsFile("examples/small-jobs.csv", pool->pool);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->jobs.size(), 15u);
  EXPECT_EQ(list->jobs[3].name, "j04");
  EXPECT_EQ(list->jobs[3].worker.fraction.value(), 250);  // 0.25 of an RTX4090
}

TEST(ReadJobsFileTest, SeedScaleExampleParsesAgainstItsPool) {
  StatusOr<PoolFile> pool = ReadPoolFile("examples/pool.toml");
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  StatusOr<JobList> list = ReadJobsFile("examples/jobs.csv", pool->pool);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->jobs.size(), 3000u);
}

TEST(ReadJobsFileTest, MissingFileIsNotFoundNamingThePath) {
  StatusOr<JobList> list = ReadJobsFile("examples/no-such-jobs.csv", MakePool());
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(list.status().message(), HasSubstr("examples/no-such-jobs.csv"));
}

}  // namespace
}  // namespace suanpan::config
