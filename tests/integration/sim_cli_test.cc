// Drives the real `suanpan sim` on Tiresias' trace: the report files, their determinism, the
// figures in them, and errors for bad input.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

using ::testing::HasSubstr;

const char* kTrace = "../shared/traces/tiresias/60_job.csv";

struct SimRun {
  int exit_code;
  std::string out;
};

SimRun Suanpan(const std::string& args) {
  const std::string cmd = std::string(SUANPAN_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class SimCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kTrace)) GTEST_SKIP() << kTrace << " is not beside the repo";
    dir_ = std::filesystem::temp_directory_path() / ("suanpan-sim-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SimCli, ComparesPoliciesInOneReport) {
  SimRun r = Suanpan(std::string("sim --trace tiresias:") + kTrace +
                     " --cluster 1x4x4 --policy fifo/first_fit,las/best_fit --no-backfill --out " +
                     dir_.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("fifo/first_fit"));
  EXPECT_THAT(r.out, HasSubstr("las/best_fit"));
  for (const char* f :
       {"report.json", "report.md", "jct_cdf.svg", "utilization.svg", "queue.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_ / f)) << f;
  }
  EXPECT_THAT(Slurp(dir_ / "jct_cdf.svg"), HasSubstr("<svg"));
  EXPECT_THAT(Slurp(dir_ / "report.md"), HasSubstr("| fifo/first_fit | 60 / 60 |"));
  nlohmann::json doc = nlohmann::json::parse(Slurp(dir_ / "report.json"));
  ASSERT_EQ(doc["policies"].size(), 2u);
  EXPECT_EQ(doc["policies"][0]["finished"], 60);
  EXPECT_EQ(doc["devices"], 16);
}

// jobs.csv: one row per job and policy whose figures add up to the report's.
TEST_F(SimCli, JobsCsvHasOneRowPerJobThatAgreesWithTheReport) {
  SimRun r = Suanpan(std::string("sim --trace tiresias:") + kTrace +
                     " --cluster 1x4x4 --policy fifo/first_fit,las/best_fit --until 2000 --out " +
                     dir_.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::istringstream csv(Slurp(dir_ / "jobs.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line,
            "policy,job,tenant,submit,first_start,end,devices,type,provider,attempts,"
            "preemptions,failures,queueing,jct");
  nlohmann::json doc = nlohmann::json::parse(Slurp(dir_ / "report.json"));
  std::map<std::string, int> rows, finished, unfinished;
  std::map<std::string, double> jct_sum;
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string v; std::getline(fields, v, ',');) f.push_back(v);
    if (line.back() == ',') f.push_back("");
    ASSERT_EQ(f.size(), 14u) << line;
    ++rows[f[0]];
    if (f[5].empty()) {  // not finished by --until: no end and no JCT
      ++unfinished[f[0]];
      EXPECT_EQ(f[13], "") << line;
      if (f[4].empty()) {  // never started: waited from its arrival until the clock stopped
        EXPECT_EQ(f[7], "") << line;
        EXPECT_EQ(f[9], "0") << line;
        if (std::stol(f[3]) <= 2000) {
          EXPECT_EQ(std::stol(f[12]), 2000 - std::stol(f[3])) << line;
        }
      }
      continue;
    }
    EXPECT_EQ(f[7], "GPU") << line;
    ++finished[f[0]];
    const long submit = std::stol(f[3]), start = std::stol(f[4]), end = std::stol(f[5]);
    EXPECT_LE(submit, start) << line;
    EXPECT_LT(start, end) << line;
    EXPECT_EQ(std::stol(f[13]), end - submit) << line;
    EXPECT_LE(std::stol(f[12]), end - submit) << line;
    EXPECT_GE(std::stoi(f[9]), 1) << line;
    jct_sum[f[0]] += static_cast<double>(end - submit);
  }
  for (const auto& p : doc["policies"]) {
    const std::string name = p["policy"];
    EXPECT_EQ(rows[name], 60) << name;
    EXPECT_EQ(finished[name], p["finished"].get<int>()) << name;
    EXPECT_EQ(unfinished[name], p["unfinished"].get<int>()) << name;
    EXPECT_GT(unfinished[name], 0) << name << ": --until 2000 should leave jobs unfinished";
    EXPECT_NEAR(jct_sum[name] / finished[name], p["jct_seconds"]["mean"].get<double>(), 0.01)
        << name;
  }
}

TEST_F(SimCli, ReproducesTiresiasFifoFromTheCommandLine) {
  SimRun r = Suanpan(std::string("sim --trace tiresias:") + kTrace +
                     " --cluster 1x4x4 --policy fifo/first_fit --blocking --no-backfill "
                     "--no-preemption --out " +
                     dir_.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  nlohmann::json doc = nlohmann::json::parse(Slurp(dir_ / "report.json"));
  const auto& p = doc["policies"][0];
  EXPECT_EQ(p["jct_seconds"]["mean"], 219.18);
  EXPECT_EQ(p["jct_seconds"]["median"], 178.5);
  EXPECT_EQ(p["jct_seconds"]["p95"], 412);
  EXPECT_EQ(p["makespan_seconds"], 3341);
}

// Tiresias' 2D-LAS from the command line, without a pool file: its own three queues by default
// ({3250, 7200}); --las-thresholds sets others (and changes the result); bad limits name the flag.
TEST_F(SimCli, LasThresholdsWithoutAPoolFile) {
  auto run = [&](const std::string& extra) {
    const std::filesystem::path out = dir_ / std::to_string(std::hash<std::string>{}(extra));
    SimRun r = Suanpan(std::string("sim --trace tiresias:") + kTrace +
                       " --cluster 1x4x4 --policy las/best_fit --split device --no-backfill " +
                       extra + " --out " + out.string());
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return nlohmann::json::parse(Slurp(out / "report.json"))["policies"][0];
  };
  const auto tiresias = run("");
  EXPECT_EQ(tiresias["jct_seconds"]["mean"], 190.68);
  EXPECT_EQ(tiresias["makespan_seconds"], 3271);
  EXPECT_EQ(run("--las-thresholds 3250,7200")["jct_seconds"], tiresias["jct_seconds"]);
  EXPECT_NE(run("--las-thresholds 60")["jct_seconds"]["mean"], 190.68);
  SimRun bad = Suanpan(std::string("sim --trace tiresias:") + kTrace +
                       " --cluster 1x4x4 --policy las --las-thresholds 7200,3250 --out " +
                       (dir_ / "bad").string());
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_THAT(bad.out, HasSubstr("--las-thresholds: limits must be positive and increasing, got "
                                 "3250 at position 2"));
}

TEST_F(SimCli, SameInputsGiveAByteIdenticalReport) {
  const std::string args = std::string("sim --trace tiresias:") + kTrace +
                           " --cluster 1x4x4 --policy las/best_fit,fair_share/topology_pack "
                           "--mtbf-hours 2 --seed 7 --out ";
  ASSERT_EQ(Suanpan(args + (dir_ / "a").string()).exit_code, 0);
  ASSERT_EQ(Suanpan(args + (dir_ / "b").string()).exit_code, 0);
  EXPECT_EQ(Slurp(dir_ / "a" / "report.json"), Slurp(dir_ / "b" / "report.json"));
  EXPECT_EQ(Slurp(dir_ / "a" / "jct_cdf.svg"), Slurp(dir_ / "b" / "jct_cdf.svg"));
}

TEST_F(SimCli, UnknownFormatIsOneClearLine) {
  SimRun r = Suanpan(std::string("sim --trace borg:") + kTrace + " --cluster 1x4x4 --out " +
                     dir_.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("unknown trace format 'borg'"));
}

TEST_F(SimCli, BadClusterSpecIsOneClearLine) {
  SimRun r = Suanpan(std::string("sim --trace tiresias:") + kTrace + " --cluster 1x4 --out " +
                     dir_.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("--cluster: '1x4' is neither SxNxG"));
}

TEST_F(SimCli, BadRowsAreSkippedAndCountedOrFatalWithStrict) {
  std::filesystem::create_directories(dir_);
  const auto trace = dir_ / "t.csv";
  std::ofstream(trace) << "job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n"
                          "0,1,0,10,vgg19,100,5\n"
                          "1,zero,5,10,vgg19,100,5\n"
                          "2,2,10,10,vgg19,50,5\n";
  SimRun lenient = Suanpan("sim --trace tiresias:" + trace.string() + " --cluster 1x1x4 --out " +
                           (dir_ / "out").string());
  ASSERT_EQ(lenient.exit_code, 0) << lenient.out;
  EXPECT_THAT(lenient.out, HasSubstr(trace.string() + ":3: num_gpu: must be in 1..100000, got "
                                                      "'zero'"));
  EXPECT_THAT(lenient.out, HasSubstr("skipped 1 bad rows of 3"));
  SimRun strict = Suanpan("sim --strict --trace tiresias:" + trace.string() +
                          " --cluster 1x1x4 --out " + (dir_ / "out").string());
  EXPECT_EQ(strict.exit_code, 2);
  EXPECT_THAT(strict.out, HasSubstr(":3: num_gpu"));
}

}  // namespace

// --money: the replay rates every run at the pool's prices (the trace's pool: 1.00 yuan per
// device-hour) and draws vouchers, then the balance, then credit; a tenant that cannot pay
// leaves jobs waiting for funds.
TEST_F(SimCli, MoneyFileChargesTenantsAndHoldsJobsTheyCannotPay) {
  std::filesystem::create_directories(dir_);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  };
  auto run = [&](const std::string& money, const std::string& out) {
    SimRun r = Suanpan(std::string("sim --trace tiresias:") + kTrace +
                       " --cluster 1x4x4 --policy fifo/first_fit --money " + money + " --out " +
                       (dir_ / out).string());
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return std::make_pair(r.out, nlohmann::json::parse(Slurp(dir_ / out / "report.json")));
  };
  // Unlimited (no credit limit): every job runs (7.35 yuan in all); a voucher pays the first
  // 5.00.
  const auto [out, doc] = run(write("open.toml", R"([[vouchers]]
id = "gov-1"
tenant = "default"
amount = 5
)"),
                              "open");
  EXPECT_THAT(out, HasSubstr("What tenants paid (yuan):"));
  const nlohmann::json& p = doc["policies"][0];
  EXPECT_EQ(p["finished"], 60);
  const nlohmann::json& t = p["tenants"][0];
  const int64_t charged = t["charged_micro"];
  EXPECT_GT(charged, 5'000'000);
  EXPECT_EQ(t["voucher_paid_micro"], 5'000'000);
  EXPECT_EQ(int64_t{t["voucher_paid_micro"]} + int64_t{t["balance_paid_micro"]} +
                int64_t{t["credit_paid_micro"]},
            charged);
  EXPECT_EQ(p["vouchers"][0]["left_micro"], 0);
  // The charges are the costs rounded to the fen per run: within half a fen per run.
  const double cost = t["cost_yuan"];
  EXPECT_NEAR(static_cast<double>(charged) / 1e6, cost, 0.005 * 60 + 0.01);
  EXPECT_THAT(Slurp(dir_ / "open" / "report.md"),
              HasSubstr("| gov-1 | default | 5.00 | 5.00 | 0.00 |"));

  // A credit limit of 0 and 2.00 on the balance: some jobs can never be paid and never run.
  const auto [out2, doc2] = run(write("tight.toml", R"([[accounts]]
tenant = "default"
balance = 2
credit_limit = 0
)"),
                                "tight");
  const nlohmann::json& p2 = doc2["policies"][0];
  EXPECT_LT(p2["finished"], 60);
  EXPECT_GT(p2["finished"], 0);
  EXPECT_EQ(int64_t{p2["finished"]} + int64_t{p2["unfinished"]}, 60);
  // Admission keeps the tenant within what it has: the balance, never credit (the trace's
  // estimates are its run times, so no run overruns what was admitted).
  const nlohmann::json& t2 = p2["tenants"][0];
  EXPECT_LE(t2["balance_paid_micro"], 2'000'000);
  EXPECT_GT(t2["balance_paid_micro"], 1'500'000);
  EXPECT_EQ(t2["credit_paid_micro"], 0);
  EXPECT_EQ(t2["charged_micro"], t2["balance_paid_micro"]);

  // A bad money file is one clear line naming file:line and the field, before any replay.
  SimRun bad = Suanpan(std::string("sim --trace tiresias:") + kTrace + " --cluster 1x4x4 --money " +
                       write("bad.toml", "[[accounts]]\ntenant = \"nobody\"\n") + " --out " +
                       (dir_ / "bad").string());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.out, HasSubstr("bad.toml:2: accounts[0].tenant: unknown tenant 'nobody' (the "
                                 "pool has: default)"));
}
