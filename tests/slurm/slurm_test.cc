// Delegated providers end to end: the real `suanpan server` hands jobs to a real Slurm 22.05
// (slurmctld, two slurmd with two fake H100 each, slurmrestd with JWT), started once for the
// suite by tests/testdata/slurm/slurm-cluster.sh and stopped after it, leaving no process.

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "integration/server_process.h"

namespace suanpan {
namespace {

using Json = nlohmann::json;
using testing::ServerProcess;

std::string Sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

const std::string kScript =
    std::string(SUANPAN_SOURCE_DIR) + "/tests/testdata/slurm/slurm-cluster.sh";

class SlurmTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("suanpan_slurm_" + std::to_string(getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    const std::string out = Sh(kScript + " start " + dir_->string() + "/cluster 2>&1");
    std::ifstream env(*dir_ / "cluster" / "env");
    for (std::string line; std::getline(env, line);) {
      const size_t eq = line.find('=');
      if (eq != std::string::npos) (*env_)[line.substr(0, eq)] = line.substr(eq + 1);
    }
    if (env_->count("SLURM_CONF") == 0) {
      start_error_ = new std::string(out);
      return;
    }
    ::setenv("SLURM_CONF", (*env_)["SLURM_CONF"].c_str(), 1);
    std::ofstream(*dir_ / "token") << (*env_)["SLURM_JWT_TOKEN"] << "\n";
    // Job output lands here; the jobs run as root on this machine.
    std::filesystem::create_directories(*dir_ / "out");
  }
  static void TearDownTestSuite() {
    Sh(kScript + " stop " + dir_->string() + "/cluster >/dev/null 2>&1");
    std::filesystem::remove_all(*dir_);
  }

 protected:
  void SetUp() override {
    ASSERT_EQ(start_error_, nullptr) << "the test Slurm did not start:\n" << *start_error_;
    // A clean queue: what an earlier test left is cancelled.
    Sh("scancel --full --quiet -u root 2>/dev/null; sleep 0.2");
    // Jobs of earlier tests (another server's job 1) stay listed for MinJobAge: not ours.
    for (const auto& [comment, list] : SlurmJobs()) {
      for (const auto& [id, state] : list) first_id_ = std::max(first_id_, id + 1);
    }
  }

  // A pool whose one provider is the test Slurm (mode rest or cli).
  std::string Pool(const std::string& name, const std::string& mode,
                   const std::string& extra = "") {
    const std::filesystem::path file = *dir_ / (name + ".toml");
    std::ofstream f(file);
    f << R"([[priority_classes]]
name = "low"
value = 0
preemptible = true
[[priority_classes]]
name = "high"
value = 1000
preemptible = false

[policy]
queue = "priority"
placement = "topology_pack"
preemption = true
backfill = true

[[providers]]
name = "partner-slurm"
region = "cn-tianjin"
backend = "delegated"
[providers.prices]
H100 = 10.0
[providers.slurm]
mode = ")"
      << mode << R"("
url = ")"
      << (*env_)["SLURMRESTD_URL"] << R"("
user = "root"
token_file = ")"
      << (*dir_ / "token").string() << R"("
partition = "gpu"
output_dir = ")"
      << (*dir_ / "out" / name).string() << R"("
poll_seconds = 1
timeout_seconds = 10
)" << extra
      << R"(
[[providers.clusters]]
name = "tj-slurm"
[[providers.clusters.node_groups]]
name = "h100"
count = 2
device_type = "H100"
devices_per_node = 2
cpu_cores = 4
memory_gib = 4

[[tenants]]
name = "t1"
priority_classes = ["low", "high"]
)";
    return file.string();
  }

  static Json Job(const std::string& name, int workers, int devices, const std::string& command,
                  const std::string& priority = "low") {
    return Json{{"name", name},
                {"tenant", "t1"},
                {"workers", workers},
                {"devices_per_worker", devices},
                {"device_types", {"H100"}},
                {"priority_class", priority},
                {"command", {"bash", "-c", command}}};
  }

  static Json WaitFor(client::ApiClient& c, uint64_t id, const std::set<std::string>& states,
                      int seconds = 60) {
    Json job;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end) {
      auto r = c.Call("GET", "/v1/jobs/" + std::to_string(id));
      if (r.ok()) {
        job = *r;
        if (states.count(job["state"].get<std::string>())) return job;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "job " << id << " did not reach the state asked for: " << job.dump();
    return job;
  }

  // The Slurm jobs carrying a suanpan comment: comment -> [(id, state)].
  static std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> SlurmJobs() {
    std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> out;
    Json doc = Json::parse(Sh("timeout 20 squeue --json --all 2>/dev/null"), nullptr, false);
    if (doc.is_discarded()) return out;
    for (const Json& j : doc["jobs"]) {
      std::string c = j.value("comment", "");
      const uint64_t id = j["job_id"].get<uint64_t>();
      if (c.rfind("suanpan job=", 0) == 0 && id >= first_id_) {
        c = c.substr(0, c.find(" bound="));  // "suanpan job=ID attempt=A"
        out[c].emplace_back(id, j["job_state"].get<std::string>());
      }
    }
    return out;
  }

  // Submits and returns the job's id (0, with a failure, if refused).
  static uint64_t Submit(client::ApiClient& c, const Json& job) {
    auto r = c.Call("POST", "/v1/jobs", job);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? (*r)["id"].get<uint64_t>() : 0;
  }

  static std::string Events(client::ApiClient& c, uint64_t id) {
    auto e = c.Call("GET", "/v1/jobs/" + std::to_string(id) + "/events");
    return e.ok() ? e->dump() : e.status().ToString();
  }

  static inline std::filesystem::path* dir_ = nullptr;
  static inline std::map<std::string, std::string>* env_ = new std::map<std::string, std::string>;
  static inline std::string* start_error_ = nullptr;
  static inline uint64_t first_id_ = 0;
};

TEST_F(SlurmTest, AGangRunsInSlurmWithItsGresAndRanksAndEndsWithSlurmsTimes) {
  ServerProcess server("slurm_gang", Pool("gang", "rest"));
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  const uint64_t id = Submit(admin, Job("gang", 2, 2,
                                        "echo rank=$RANK of $WORLD_SIZE node=$SLURMD_NODENAME "
                                        "cuda=$CUDA_VISIBLE_DEVICES master=$MASTER_ADDR; sleep 2"));
  ASSERT_NE(id, 0u);
  Json job = WaitFor(admin, id, {"succeeded", "failed"});
  ASSERT_EQ(job["state"], "succeeded") << Events(admin, id) << server.Log();
  // One Slurm job, with the suanpan id in its comment.
  auto slurm = SlurmJobs();
  ASSERT_EQ(slurm["suanpan job=" + std::to_string(id) + " attempt=1"].size(), 1u);
  EXPECT_EQ(slurm["suanpan job=" + std::to_string(id) + " attempt=1"][0].second, "COMPLETED");
  // Each rank's output through the API, with Slurm's GPUs and the rank variables.
  std::set<std::string> nodes;
  for (int rank = 0; rank < 2; ++rank) {
    auto log = admin.Call(
        "GET", "/v1/jobs/" + std::to_string(id) + "/logs?worker=" + std::to_string(rank));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    const std::string text = (*log)["data"];
    EXPECT_NE(text.find("rank=" + std::to_string(rank) + " of 2"), std::string::npos) << text;
    EXPECT_NE(text.find("cuda=0,1"), std::string::npos) << text;
    EXPECT_NE(text.find("master=sp-n1"), std::string::npos) << text;
    const size_t at = text.find("node=");
    if (at != std::string::npos) nodes.insert(text.substr(at + 5, text.find(' ', at) - at - 5));
  }
  EXPECT_EQ(nodes, (std::set<std::string>{"sp-n1", "sp-n2"}));
  // Usage from Slurm's start to its end: about 2 s on 4 devices, not the time it waited.
  auto usage = admin.Call("GET", "/v1/usage");
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ((*usage)["items"].size(), 1u) << usage->dump();
  EXPECT_GT((*usage)["items"][0]["device_hours"].get<double>(), 0.0);
  EXPECT_LT((*usage)["items"][0]["device_hours"].get<double>(), 4 * 30 / 3600.0);
  // The provider shows its engine up, with its capacity.
  auto providers = admin.Call("GET", "/v1/providers");
  ASSERT_TRUE(providers.ok());
  const Json& engine = (*providers)["items"][0]["engine"];
  EXPECT_EQ(engine["state"], "up") << providers->dump();
  EXPECT_EQ(engine["mode"], "rest");
  EXPECT_EQ(engine["devices"]["H100"]["total"], 4);
}

TEST_F(SlurmTest, TheCliTransportRunsAJobToo) {
  ServerProcess server("slurm_cli", Pool("cli", "cli"));
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  const uint64_t id = Submit(admin, Job("one", 1, 1, "echo hello from $SLURMD_NODENAME"));
  ASSERT_NE(id, 0u);
  Json job = WaitFor(admin, id, {"succeeded", "failed"});
  EXPECT_EQ(job["state"], "succeeded") << Events(admin, id) << server.Log();
  auto bad = admin.Call("POST", "/v1/jobs", Job("three", 1, 1, "exit 3"));
  ASSERT_TRUE(bad.ok());
  job = WaitFor(admin, (*bad)["id"], {"succeeded", "failed"});
  EXPECT_EQ(job["state"], "failed");
  EXPECT_EQ(job["exit_code"], 3) << job.dump();
}

TEST_F(SlurmTest, ThePartnersOwnJobsShrinkWhatSuanpanSendsAndBigJobsWaitInSuanpan) {
  ServerProcess server("slurm_partner", Pool("partner", "rest"));
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  // The partner's own job takes both GPUs of one node.
  const std::string own =
      Sh("sbatch --parsable -p gpu -N1 --gres=gpu:h100:2 -o /dev/null --wrap 'sleep 120'");
  ASSERT_FALSE(own.empty());
  std::string own_state;
  for (int i = 0; i < 300 && own_state != "RUNNING\n"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    own_state = Sh("timeout 10 squeue -h -o %T -j " + own);
  }
  ASSERT_EQ(own_state, "RUNNING\n");
  std::this_thread::sleep_for(std::chrono::seconds(3));  // a poll sees it
  const uint64_t id = Submit(admin, Job("big", 2, 2, "true"));
  ASSERT_NE(id, 0u);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto job = admin.Call("GET", "/v1/jobs/" + std::to_string(id));
  ASSERT_TRUE(job.ok());
  EXPECT_EQ((*job)["state"], "pending") << job->dump();  // waits in suanpan...
  EXPECT_TRUE(SlurmJobs().empty());                      // ...not in Slurm
  auto providers = admin.Call("GET", "/v1/providers");
  ASSERT_TRUE(providers.ok());
  EXPECT_EQ((*providers)["items"][0]["engine"]["devices"]["H100"]["free"], 2) << providers->dump();
  // The partner's job ends: the gang goes.
  Sh("scancel " + own);
  Json done = WaitFor(admin, id, {"succeeded", "failed"});
  EXPECT_EQ(done["state"], "succeeded") << Events(admin, id);
}

TEST_F(SlurmTest, CancelAndPreemptionInSuanpanCancelInSlurm) {
  ServerProcess server("slurm_cancel", Pool("cancel", "rest"));
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  const uint64_t a_id = Submit(admin, Job("long", 1, 2, "sleep 300"));
  ASSERT_NE(a_id, 0u);
  WaitFor(admin, a_id, {"running"});
  ASSERT_TRUE(admin.Call("POST", "/v1/jobs/" + std::to_string(a_id) + "/cancel").ok());
  const std::string a_comment = "suanpan job=" + std::to_string(a_id) + " attempt=1";
  std::string state;
  for (int i = 0; i < 100 && state != "CANCELLED"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto jobs = SlurmJobs();
    if (jobs.count(a_comment)) state = jobs[a_comment][0].second;
  }
  EXPECT_EQ(state, "CANCELLED");

  // A low gang fills the provider; a high job preempts it: its Slurm job is cancelled, the
  // high one runs, the low one queues again in suanpan.
  const uint64_t low_id = Submit(admin, Job("low", 2, 2, "sleep 300"));
  ASSERT_NE(low_id, 0u);
  WaitFor(admin, low_id, {"running"});
  auto high = admin.Call("POST", "/v1/jobs", Job("high", 1, 2, "sleep 1", "high"));
  ASSERT_TRUE(high.ok());
  Json h = WaitFor(admin, (*high)["id"], {"succeeded", "failed"});
  EXPECT_EQ(h["state"], "succeeded") << Events(admin, (*high)["id"]);
  auto jobs = SlurmJobs();
  const std::string low_comment = "suanpan job=" + std::to_string(low_id) + " attempt=1";
  ASSERT_EQ(jobs[low_comment].size(), 1u);
  EXPECT_EQ(jobs[low_comment][0].second, "CANCELLED");
  EXPECT_NE(Events(admin, low_id).find("preempted"), std::string::npos) << Events(admin, low_id);
}

TEST_F(SlurmTest, AJobSlurmRefusesComesBackWithSlurmsReason) {
  // The partner's GRES is gpu:h100; a provider configured with another name is refused.
  ServerProcess server("slurm_refuse",
                       Pool("refuse", "rest", "[providers.slurm.gres]\nH100 = \"gpu:a100\"\n"));
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  auto sub = admin.Call("POST", "/v1/jobs", Job("wrong", 1, 1, "true"));
  ASSERT_TRUE(sub.ok());
  Json job = WaitFor(admin, (*sub)["id"], {"failed", "succeeded"});
  EXPECT_EQ(job["state"], "failed");
  EXPECT_NE(job["reason"].get<std::string>().find("refused the job"), std::string::npos)
      << job.dump();
  EXPECT_NE(job["reason"].get<std::string>().find("not available"), std::string::npos)
      << job.dump();
}

TEST_F(SlurmTest, SlurmctldDownOrTheServerKilledMidRunLosesAndDuplicatesNothing) {
  ServerProcess server("slurm_faults", Pool("faults", "rest"));
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  // slurmctld killed -9 may lose what it had not saved yet (its jobs of the last seconds are then
  // gone, or fail in their first step): such an attempt is requeued or retried, never doubled.
  Json retried = Job("a", 1, 2, "sleep 12");
  retried["max_retries"] = 2;
  const uint64_t a_id = Submit(admin, retried);
  ASSERT_NE(a_id, 0u);
  WaitFor(admin, a_id, {"running"});

  // slurmctld goes down: the provider is degraded; nothing is concluded about the job. (Stopped,
  // not killed -9: a slurmctld killed -9 loses the jobs it had not saved yet, which suanpan then
  // requeues as vanished; that path is not in this test.)
  Sh(kScript + " kill-ctld " + dir_->string() + "/cluster TERM >/dev/null 2>&1");
  std::string state;
  for (int i = 0; i < 100 && state != "degraded"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto p = admin.Call("GET", "/v1/providers");
    if (p.ok()) state = (*p)["items"][0]["engine"]["state"];
  }
  EXPECT_EQ(state, "degraded");
  auto during = admin.Call("GET", "/v1/jobs/" + std::to_string(a_id));
  ASSERT_TRUE(during.ok());
  EXPECT_EQ((*during)["state"], "running");
  // A job submitted meanwhile waits in suanpan.
  Json later = Job("b", 1, 2, "sleep 1");
  later["max_retries"] = 2;
  const uint64_t b_id = Submit(admin, later);
  ASSERT_NE(b_id, 0u);
  ASSERT_EQ(Sh(kScript + " start-ctld " + dir_->string() + "/cluster >/dev/null 2>&1; echo $?"),
            "0\n");

  // The server is killed -9 while both are there, and restarted.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  server.Kill(SIGKILL);
  ASSERT_TRUE(server.Restart()) << server.Log();
  client::ApiClient again = server.Client(server.admin_token());
  Json ja = WaitFor(again, a_id, {"succeeded", "failed"}, 90);
  Json jb = WaitFor(again, b_id, {"succeeded", "failed"}, 90);
  EXPECT_EQ(ja["state"], "succeeded") << Events(again, a_id) << server.Log();
  EXPECT_EQ(jb["state"], "succeeded") << Events(again, b_id) << server.Log();
  // Each attempt is one Slurm job: none submitted twice.
  for (const auto& [comment, list] : SlurmJobs()) {
    EXPECT_EQ(list.size(), 1u) << comment;
  }
  EXPECT_LE(ja["attempts"].get<int>(), 2) << Events(again, a_id);
}

}  // namespace
}  // namespace suanpan
