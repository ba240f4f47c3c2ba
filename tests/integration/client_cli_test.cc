// The CLI as a client: the real `suanpan` binary against the real server, the way a tenant uses
// it (submit from flags and from a job file, jobs, job, cancel, usage) and the way it fails (one
// line on stderr, a non-zero status).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "server_process.h"

namespace suanpan {
namespace {

using Json = nlohmann::json;

using testing::Cli;
using testing::CliRun;

class ClientCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Agentless();
    ASSERT_TRUE(server_.Start()) << server_.Log();
    client::ApiClient admin = server_.Client(server_.admin_token());
    auto t = admin.Call("POST", "/v1/tokens",
                        Json{{"name", "t1"}, {"role", "tenant"}, {"tenant", "t01-qingyun-ai"}});
    ASSERT_TRUE(t.ok());
    tenant_token_ = (*t)["token"];
  }
  CliRun Tenant(const std::string& args) { return Cli(server_.url(), tenant_token_, args); }

  testing::ServerProcess server_{"client_cli"};
  std::string tenant_token_;
};

TEST_F(ClientCliTest, ATenantsWholePath) {
  CliRun submit = Tenant(
      "submit -J pretrain -N 2 -G 8 --type H100 --estimate 3600 -e STAGE=1 -- "
      "torchrun train.py --lr 3e-4");
  ASSERT_EQ(submit.status, 0) << submit.out;
  EXPECT_EQ(submit.out, "submitted job 1 (pretrain) for tenant t01-qingyun-ai: pending\n");

  // A job file (TOML), and flags override its fields.
  const std::string file = (server_.dir() / "sft.toml").string();
  std::ofstream(file) << "name = \"sft\"\nworkers = 8\ndevices_per_worker = 8\n"
                         "device_types = [\"H100\"]\ncommand = [\"python\", \"sft.py\"]\n";
  CliRun from_file = Tenant("submit " + file + " -o json");
  ASSERT_EQ(from_file.status, 0) << from_file.out;
  Json job = Json::parse(from_file.out);
  EXPECT_EQ(job["name"], "sft");
  EXPECT_EQ(job["spec"]["command"], Json({"python", "sft.py"}));

  // Wait for the first round, then the listing shows one placed and one waiting on quota.
  Json jobs;
  for (int i = 0; i < 200; ++i) {
    jobs = Json::parse(Tenant("jobs -o json").out);
    if (jobs["items"][0]["state"] == "admitted") break;
    usleep(10'000);
  }
  ASSERT_EQ(jobs["items"].size(), 2u) << jobs.dump();
  EXPECT_EQ(jobs["items"][0]["state"], "admitted");
  EXPECT_EQ(jobs["items"][0]["spec"]["env"]["STAGE"], "1");
  EXPECT_EQ(jobs["items"][0]["spec"]["command"], Json({"torchrun", "train.py", "--lr", "3e-4"}));
  EXPECT_EQ(jobs["items"][1]["state"], "pending");

  CliRun table = Tenant("jobs");
  EXPECT_EQ(table.status, 0);
  EXPECT_EQ(table.out.rfind("ID  NAME", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("pretrain"), std::string::npos);

  CliRun why = Tenant("job 2");
  EXPECT_EQ(why.status, 0) << why.out;
  EXPECT_NE(why.out.find("why pending: waiting for quota"), std::string::npos) << why.out;
  EXPECT_NE(why.out.find("submitted  by token 't1'"), std::string::npos) << why.out;

  CliRun cancel = Tenant("cancel 1");
  EXPECT_EQ(cancel.status, 0) << cancel.out;
  EXPECT_EQ(cancel.out, "cancelled job 1 (pretrain)\n");
  CliRun usage = Tenant("usage -o json");
  ASSERT_EQ(usage.status, 0) << usage.out;
  Json u = Json::parse(usage.out);
  // Job 1 was placed but never started (no agent ran it): billing starts with the work.
  EXPECT_TRUE(u["items"].empty()) << usage.out;
}

// The platform's own history, as a trace the simulator replays (what an operator does before
// switching policies). No agent runs here: a job holds its devices from bind until cancelled.
TEST_F(ClientCliTest, HistoryIsATraceTheSimulatorReplays) {
  ASSERT_EQ(Tenant("submit -J held -N 2 -G 8 --type H100 -- true").status, 0);
  bool admitted = false;
  for (int i = 0; i < 100 && !admitted; ++i) {
    admitted = Tenant("jobs -o json").out.find("\"admitted\"") != std::string::npos;
    if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(admitted);
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  ASSERT_EQ(Tenant("cancel 1").status, 0);
  ASSERT_EQ(Tenant("submit -J running -G 1 --type H100 -- true").status, 0);  // not ended: left out

  CliRun history = Tenant("history --from 2000-01-01");
  ASSERT_EQ(history.status, 0) << history.out;
  std::istringstream lines(history.out);
  std::string line, trace, summary;
  while (std::getline(lines, line)) (line.starts_with("{") ? trace : summary) += line + "\n";
  EXPECT_EQ(summary, "1 jobs written; left out: 0 that never ran, 0 fractional\n");
  const Json row = Json::parse(trace);
  EXPECT_EQ(row["name"], "1");
  EXPECT_EQ(row["model"], "held");
  EXPECT_EQ(row["tenant"], "t01-qingyun-ai");
  EXPECT_EQ(row["devices"], 16);
  EXPECT_EQ(row["workers"], 2);
  EXPECT_EQ(row["device_type"], "H100");
  EXPECT_GE(row["duration"].get<int>(), 2);  // held from bind to cancel, at least 1.6 s
  EXPECT_EQ(Tenant("history --from 2999-01-01").out,
            "0 jobs written; left out: 0 that never ran, 0 fractional\n");
  CliRun bad = Tenant("history --from yesterday");
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(bad.out.rfind("error: --from: ", 0), 0u) << bad.out;

  // suanpan sim replays it on the same pool.
  const auto file = server_.dir() / "history.jsonl";
  std::ofstream(file) << trace;
  const auto report = server_.dir() / "replay";
  const std::string sim = std::string(SUANPAN_BINARY) + " sim --trace suanpan:" + file.string() +
                          " --pool examples/small-pool.toml --policy fifo --out " +
                          report.string() + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(sim.c_str()), 0) << sim;
  std::ifstream in(report / "report.json");
  const Json r = Json::parse(std::string((std::istreambuf_iterator<char>(in)), {}));
  EXPECT_EQ(r["policies"][0]["finished"], 1) << r.dump();
}

TEST_F(ClientCliTest, ErrorsAreOneLineAndANonZeroStatus) {
  // Whole output and exit status: 2 for bad input, 1 for the rest. Numbers are passed on as
  // given, so the server names a bad one (they were dropped before); durations may carry units.
  struct Case {
    std::string args;
    int status;
    std::string out;
    bool admin = false;
  };
  const std::vector<Case> cases = {
      {"submit -J x -N 0 -G 8 --type H100", 2, "error: workers: must be in 1..100000, got 0\n"},
      {"job 99", 1, "error: job 99 not found\n"},
      {"token list", 1,
       "error: role member may not manage tokens (an admin or a tenant admin may)\n"},
      {"submit -J x -G 8 --type H100 -t -5 -- true", 2,
       "error: runtime_limit: must be in 1..315360000, got -5\n"},
      {"submit -J x -G 8 --type H100 --max-retries -1 -- true", 2,
       "error: max_retries: must be in 0..100, got -1\n"},
      {"submit -J x -G 8 --type H100 -t 1x -- true", 2,
       "error: --time: must be seconds or a duration such as 90s, 30m, 2h, 1d or 1h30m, got "
       "'1x'\n"},
      {"submit -J x -G 8 --type H100 -t 1h1h -- true", 2,
       "error: --time: must be seconds or a duration such as 90s, 30m, 2h, 1d or 1h30m, got "
       "'1h1h'\n"},
      // A job over its tenant's quota max of every type it accepts could never run: refused.
      {"submit -J big --tenant t02-haiyan-bio -N 7 -G 8 --type H100 -- true", 2,
       "error: workers: the job needs 56 devices in all and tenant 't02-haiyan-bio' may hold at "
       "most 48 H100 (its quota max)\n",
       true},
  };
  for (const Case& c : cases) {
    CliRun r = c.admin ? Cli(server_.url(), server_.admin_token(), c.args) : Tenant(c.args);
    EXPECT_EQ(r.status, c.status) << c.args;
    EXPECT_EQ(r.out, c.out) << c.args;
  }
  CliRun no_token = Cli(server_.url(), "", "jobs");
  EXPECT_EQ(no_token.status, 1);
  EXPECT_NE(no_token.out.find("no token: set --token or SUANPAN_TOKEN"), std::string::npos)
      << no_token.out;
  CliRun down = Cli("http://127.0.0.1:1", tenant_token_, "jobs");
  EXPECT_EQ(down.status, 1);
  EXPECT_NE(down.out.find("cannot reach the suanpan server at http://127.0.0.1:1"),
            std::string::npos)
      << down.out;
  CliRun unlimited = Tenant("submit -J free -G 1 --type H100 -t 0 -o json -- true");
  ASSERT_EQ(unlimited.status, 0) << unlimited.out;
  EXPECT_TRUE(Json::parse(unlimited.out)["spec"]["runtime_limit"].is_null()) << unlimited.out;
  CliRun hours = Tenant(
      "submit -J timed -G 8 --type H100 -t 1h30m --estimate 45m --cpu 16 --memory-gib 64 "
      "--preemptible false -o json -- true");
  ASSERT_EQ(hours.status, 0) << hours.out;
  const Json timed = Json::parse(hours.out)["spec"];
  EXPECT_EQ(timed["runtime_limit"], 5400);
  EXPECT_EQ(timed["runtime_estimate"], 2700);
  EXPECT_EQ(timed["cpu_per_worker"], 16);
  EXPECT_EQ(timed["memory_gib_per_worker"], 64);
  EXPECT_EQ(timed["preemptible"], false);
  // --limit N shows the first N (oldest first) and says so; --limit 0 shows all.
  ASSERT_EQ(Tenant("submit -J second -G 1 --type H100 -- true").status, 0);
  CliRun one = Tenant("jobs --all --limit 1");
  ASSERT_EQ(one.status, 0) << one.out;
  EXPECT_NE(one.out.find("(first 1 shown, oldest first; --limit N shows more, 0 all)"),
            std::string::npos)
      << one.out;
  CliRun all = Tenant("jobs --all --limit 0 -o json");
  ASSERT_EQ(all.status, 0) << all.out;
  EXPECT_EQ(Json::parse(all.out)["items"].size(), 3u) << all.out;
  // A malformed JSON job file: file:line:column and what is wrong.
  const std::string bad_json = (server_.dir() / "bad.json").string();
  std::ofstream(bad_json) << "{\"name\": \"x\",\n  \"workers\": oops}\n";
  CliRun syntax = Tenant("submit " + bad_json);
  EXPECT_EQ(syntax.status, 2);
  EXPECT_EQ(syntax.out.rfind("error: " + bad_json + ":2:14: syntax error while parsing value", 0),
            0u)
      << syntax.out;
  // A value the server refuses is shown at its line in a TOML job file, unless a flag set it.
  const std::string bad_toml = (server_.dir() / "bad.toml").string();
  std::ofstream(bad_toml) << "name = \"x\"\ndevices_per_worker = 1\n"
                             "device_types = [\"B200\"]\ncommand = [\"true\"]\n";
  CliRun field = Tenant("submit " + bad_toml);
  EXPECT_EQ(field.status, 2);
  EXPECT_EQ(
      field.out.rfind("error: " + bad_toml + ":3: device_types: unknown device type 'B200'", 0), 0u)
      << field.out;
  CliRun flag = Tenant("submit " + bad_toml + " --type B300");
  EXPECT_EQ(flag.out.rfind("error: device_types: unknown device type 'B300'", 0), 0u) << flag.out;
  // Usage errors of the command line itself also exit 2.
  CliRun usage_error = Tenant("jobs --no-such-flag");
  EXPECT_EQ(usage_error.status, 2) << usage_error.out;
  CliRun no_file = Tenant("submit /nonexistent/job.toml");
  EXPECT_EQ(no_file.status, 2);
  EXPECT_EQ(no_file.out.rfind("error: /nonexistent/job.toml: cannot read", 0), 0u) << no_file.out;
}

}  // namespace
}  // namespace suanpan
