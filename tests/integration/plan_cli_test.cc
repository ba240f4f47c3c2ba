// Drives the real `suanpan` binary: `suanpan plan` on the example pool, JSON output, bad input.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

using ::testing::HasSubstr;

struct CliRun {
  int exit_code;
  std::string out;  // stdout and stderr together
};

CliRun Suanpan(const std::string& args) {
  const std::string cmd = std::string(SUANPAN_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string TempFile(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("suanpan-test-" + std::to_string(getpid()) + "-" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(PlanCli, PrintsThePoolTotalsAndThePlan) {
  CliRun r = Suanpan("plan --pool examples/pool.toml --jobs examples/jobs.csv");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("9 providers, 13 clusters, 6,550 nodes, 52,400 accelerators, "
                               "29.74 EFLOPS"));
  EXPECT_THAT(r.out, HasSubstr("Ascend910B"));
  EXPECT_THAT(r.out, HasSubstr("3,000 queued jobs"));
  EXPECT_THAT(r.out, HasSubstr("reserve"));
  EXPECT_THAT(r.out, HasSubstr("waiting for capacity"));
}

TEST(PlanCli, JsonAccountsForEveryJob) {
  CliRun r = Suanpan("plan --pool examples/pool.toml --jobs examples/jobs.csv -o json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0);
  nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["pool"]["devices"], 52400);
  EXPECT_EQ(doc["decisions"].size(), 3000u);
  const int placed = doc["summary"]["placed"];
  const int waiting = doc["summary"]["waiting"];
  const int rejected = doc["summary"]["rejected"];
  EXPECT_EQ(placed + waiting + rejected, 3000);
  // Every placement holds exactly the devices its job asked for, on real nodes.
  int64_t allocated_milli = 0;
  for (const auto& d : doc["decisions"]) {
    if (d["decision"] != "bind") continue;
    for (const auto& w : d["placement"]["workers"]) {
      allocated_milli += static_cast<int64_t>(w["devices"].size()) * w["share_milli"].get<int>();
    }
  }
  int64_t reported = 0;
  for (const auto& item : doc["pool"]["by_type"].items()) {
    reported += item.value()["allocated_milli"].get<int64_t>();
  }
  EXPECT_EQ(allocated_milli, reported);
  EXPECT_GT(placed, 0);
}

TEST(PlanCli, PolicyFlagOverridesThePoolFile) {
  CliRun r = Suanpan(
      "plan --pool examples/small-pool.toml --jobs examples/small-jobs.csv "
      "--policy fifo/frag_aware");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("Policy queue/fifo placement/frag_aware"));
}

TEST(PlanCli, UnknownPolicyIsOneClearLine) {
  CliRun r = Suanpan(
      "plan --pool examples/small-pool.toml --jobs examples/small-jobs.csv "
      "--policy lottery/best_fit");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("unknown policy 'lottery'"));
}

TEST(PlanCli, BadPoolFileNamesFileLineAndField) {
  const std::string pool = TempFile("bad.toml", R"([[providers]]
name = "p"
region = "r"
prices = { H100 = 10 }
[[providers.clusters]]
name = "c"
[[providers.clusters.node_groups]]
name = "g"
count = 0
device_type = "H100"
devices_per_node = 8
cpu_cores = 64
memory_gib = 512
)");
  CliRun r = Suanpan("plan --pool " + pool + " --jobs examples/small-jobs.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr(pool + ":9: providers[0].clusters[0].node_groups[0].count: must "
                                      "be in 1..100000, got 0"));
}

TEST(PlanCli, BadJobRowNamesLineAndColumn) {
  const std::string jobs = TempFile("bad.csv",
                                    "name,tenant,workers,devices_per_worker,device_types\n"
                                    "a,t01-qingyun-ai,1,1,H100\n"
                                    "b,t01-qingyun-ai,1,1,H200\n");
  CliRun r = Suanpan("plan --pool examples/small-pool.toml --jobs " + jobs);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr(jobs + ":3: device_types: unknown device type 'H200'"));
}

TEST(PlanCli, MissingFileIsAnErrorNotACrash) {
  CliRun r = Suanpan("plan --pool /nonexistent/pool.toml --jobs examples/jobs.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("/nonexistent/pool.toml: cannot open"));
}

}  // namespace
