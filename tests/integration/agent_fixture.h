#pragma once
// The real server with real agents (two nodes of 4 declared H100 on this machine), for the tests
// that run jobs: agent_test.cc (processes, isolation) and container_test.cc (images, devices).

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "server_process.h"

namespace suanpan::testing {

using Json = nlohmann::json;

inline const char* kN0 = "c/n-0000";
inline const char* kN1 = "c/n-0001";

// Processes whose command line is exactly `argv` (NUL-separated in /proc/PID/cmdline).
inline int CountProcesses(const std::vector<std::string>& argv) {
  std::string want;
  for (const auto& a : argv) want += a + '\0';
  int n = 0;
  DIR* d = opendir("/proc");
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    if (ReadProcFile(std::string("/proc/") + e->d_name + "/cmdline") == want) ++n;
  }
  closedir(d);
  return n;
}

inline bool Eventually(const std::function<bool()>& pred, int ms = 10'000) {
  for (int i = 0; i < ms / 20; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

class AgentProcess {
 public:
  AgentProcess(const ServerProcess& server, std::string node, std::string token, std::string dir)
      : server_(server), node_(std::move(node)), token_(std::move(token)), dir_(std::move(dir)) {}
  ~AgentProcess() { Kill(SIGKILL); }
  void Start() {
    const std::string token_file = dir_ + ".token";
    {
      std::ofstream(token_file) << token_ << "\n";
      ::chmod(token_file.c_str(), 0600);
    }
    std::vector<std::string> args = {
        SUANPAN_BINARY, "agent",     "--server",        server_.url(), "--token-file", token_file,
        "--node",       node_,       "--devices",       "H100:4",      "--work-dir",   dir_,
        "--address",    "127.0.0.1", "--grace-seconds", "2",           "--log-level",  "warn"};
    for (const std::string& e : extra_) args.push_back(e);
    pid_ = testing::Spawn(std::move(args), dir_ + ".log");
    ASSERT_GT(pid_, 0);
  }
  void SetExtra(std::vector<std::string> extra) { extra_ = std::move(extra); }
  pid_t pid() const { return pid_; }
  const std::string& token() const { return token_; }
  const std::string& dir() const { return dir_; }
  void Kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  const ServerProcess& server_;
  std::string node_, token_, dir_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
};

class AgentTestBase : public ::testing::Test {
 protected:
  explicit AgentTestBase(const char* pool) : server_("agents", pool) {}
  void StartAll(int lease_seconds) {
    std::vector<std::string> args = {"--lease-seconds", std::to_string(lease_seconds),
                                     "--interval-ms", "10"};
    args.insert(args.end(), extra_server_args_.begin(), extra_server_args_.end());
    ASSERT_TRUE(server_.Start(args)) << server_.Log();
    client::ApiClient admin = server_.Client(server_.admin_token());
    auto token = [&](Json body) {
      auto r = admin.Call("POST", "/v1/tokens", body);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      return r.ok() ? (*r)["token"].get<std::string>() : "";
    };
    tenant_ = token({{"name", "t"}, {"role", "tenant"}, {"tenant", "t"}});
    for (int n = 0; n < 2; ++n) {
      const std::string node = n == 0 ? kN0 : kN1;
      agents_.push_back(std::make_unique<AgentProcess>(
          server_, node,
          token({{"name", "a" + std::to_string(n)}, {"role", "agent"}, {"node", node}}),
          (server_.dir() / ("agent" + std::to_string(n))).string()));
      agents_.back()->SetExtra(extra_agent_args_);
      agents_.back()->Start();
    }
    // Both agents registered (first heartbeat) before any job is submitted.
    for (const char* node : {kN0, kN1}) {
      ASSERT_TRUE(Eventually([&] {
        auto r = admin.Call("GET", std::string("/v1/nodes/") + client::UrlEncode(node));
        return r.ok() && (*r)["agent"] == "alive";
      })) << node;
    }
  }
  client::ApiClient Tenant() const { return server_.Client(tenant_); }

  uint64_t Submit(const Json& job) {
    auto r = Tenant().Call("POST", "/v1/jobs", job);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? (*r)["id"].get<uint64_t>() : 0;
  }
  Json Job(uint64_t id) {
    auto r = Tenant().Call("GET", "/v1/jobs/" + std::to_string(id));
    return r.ok() ? *r : Json();
  }
  bool WaitState(uint64_t id, const std::string& state, int ms = 10'000) {
    return Eventually([&] { return Job(id)["state"] == state; }, ms);
  }
  std::string Logs(uint64_t id, int worker, int attempt = 0) {
    std::string path = "/v1/jobs/" + std::to_string(id) + "/logs?worker=" + std::to_string(worker);
    if (attempt > 0) path += "&attempt=" + std::to_string(attempt);
    auto r = Tenant().Call("GET", path);
    return r.ok() ? (*r)["data"].get<std::string>() : r.status().ToString();
  }

  ServerProcess server_;
  std::vector<std::unique_ptr<AgentProcess>> agents_;
  std::vector<std::string> extra_agent_args_;  // for every agent StartAll starts
  std::vector<std::string> extra_server_args_;
  std::string tenant_;
};

class AgentTest : public AgentTestBase {
 protected:
  AgentTest() : AgentTestBase("tests/testdata/agent-pool.toml") {}
};

inline std::string ReadAll(const std::string& path) { return ReadProcFile(path); }

// Pids whose command line contains `needle`.
inline std::vector<pid_t> PidsWith(const std::string& needle) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string cmd = ReadAll(std::string("/proc/") + e->d_name + "/cmdline");
    for (char& c : cmd) c = c == '\0' ? ' ' : c;
    if (cmd.find(needle) != std::string::npos) out.push_back(std::atoi(e->d_name));
  }
  closedir(d);
  return out;
}

}  // namespace suanpan::testing
