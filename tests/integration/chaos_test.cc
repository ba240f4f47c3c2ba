// The standing chaos test: the real server and two real agents under a steady load of jobs,
// while a seeded schedule kill -9s the server (it restarts on the same store), kill -9s an agent
// (it restarts on the same work dir), SIGSTOPs an agent past its lease, and fills the disk of
// the store, logs and work dirs (a tmpfs of its own, as root) until the server's reserve is
// gone. Throughout and at the end: no acknowledged job is lost, no device is held by two jobs at
// once, no job runs twice at once, the server outlives a full disk (refusing submits with 503
// until space is freed), and once everything has ended no worker process is left.
//
// SUANPAN_CHAOS_SEED=N picks the schedule (default 1); SUANPAN_CHAOS_SECONDS=S its length
// (default 30).

#include <dirent.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "server_process.h"

namespace suanpan {
namespace {

using Json = nlohmann::json;
using testing::ServerProcess;

// Live worker processes of this test, by job id: argv is {"sleep", "S.ID"} with a 5-digit id.
std::map<uint64_t, int> LiveWorkers(const std::string& tag) {
  std::map<uint64_t, int> out;
  DIR* d = opendir("/proc");
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string cmd = testing::ReadProcFile(std::string("/proc/") + e->d_name + "/cmdline");
    const std::string prefix = std::string("sleep") + '\0';
    if (cmd.rfind(prefix, 0) != 0) continue;
    const std::string arg =
        cmd.substr(prefix.size(), cmd.find('\0', prefix.size()) - prefix.size());
    const size_t dot = arg.find('.');
    if (dot == std::string::npos || arg.size() != dot + 1 + 5 + tag.size()) continue;
    if (arg.substr(dot + 6) != tag) continue;
    out[std::stoull(arg.substr(dot + 1, 5))]++;
  }
  closedir(d);
  return out;
}

class Agent {
 public:
  Agent(std::string node, std::string token, std::string dir)
      : node_(std::move(node)), token_(std::move(token)), dir_(std::move(dir)) {}
  ~Agent() { Kill(); }
  void Start(const std::string& url) {
    const std::string token_file = dir_ + ".token";
    std::ofstream(token_file) << token_ << "\n";
    ::chmod(token_file.c_str(), 0600);
    pid_ = testing::Spawn({SUANPAN_BINARY, "agent", "--server", url, "--token-file", token_file,
                           "--node", node_, "--devices", "H100:4", "--work-dir", dir_, "--address",
                           "127.0.0.1", "--grace-seconds", "1", "--log-level", "info"},
                          dir_ + ".log");
  }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  std::string node_, token_, dir_;
  pid_t pid_ = -1;
};

TEST(ChaosTest, KillsAndStallsLoseNoJobAndDoubleBookNothing) {
  const char* seed_env = std::getenv("SUANPAN_CHAOS_SEED");
  const char* secs_env = std::getenv("SUANPAN_CHAOS_SECONDS");
  const uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : 1;
  const int seconds = secs_env ? std::atoi(secs_env) : 30;
  const std::string tag = std::to_string(1000 + getpid() % 9000);  // this run's processes
  std::mt19937_64 rng(seed);
  const int lease = 2;

  ServerProcess server("chaos", "tests/testdata/agent-pool.toml");
  // The server's directory (store, logs, agents' work dirs) on a small disk of its own.
  const bool small_disk = ::geteuid() == 0 && ::mount("tmpfs", server.dir().c_str(), "tmpfs", 0,
                                                      "size=96m,mode=0755") == 0;
  struct Unmount {
    std::string dir;
    bool on;
    ~Unmount() {
      if (on) ::umount2(dir.c_str(), MNT_DETACH);
    }
  } unmount{server.dir().string(), small_disk};
  const int reserve_mib = 24;
  const std::vector<std::string> server_args = {
      "--lease-seconds",     std::to_string(lease),
      "--interval-ms",       "10",
      "--rate-limit",        "0",
      "--min-free-disk-mib", std::to_string(small_disk ? reserve_mib : 0)};
  ASSERT_TRUE(server.Start(server_args)) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  auto token = [&](const Json& body) {
    auto r = admin.Call("POST", "/v1/tokens", body);
    return r.ok() ? (*r)["token"].get<std::string>() : std::string();
  };
  const std::string tenant = token({{"name", "t"}, {"role", "tenant"}, {"tenant", "t"}});
  std::vector<std::unique_ptr<Agent>> agents;
  for (int n = 0; n < 2; ++n) {
    const std::string node = n == 0 ? "c/n-0000" : "c/n-0001";
    agents.push_back(std::make_unique<Agent>(
        node, token({{"name", "a" + std::to_string(n)}, {"role", "agent"}, {"node", node}}),
        (server.dir() / ("agent" + std::to_string(n))).string()));
    agents.back()->Start(server.url());
  }

  std::mutex mu;
  std::set<uint64_t> acked;  // every job a 201 acknowledged
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::string first_violation;
  auto violation = [&](const std::string& what) {
    std::lock_guard l(mu);
    if (violations++ == 0) first_violation = what;
  };

  // The load: a job every ~150 ms, 1, 2 or 4 devices, 0.5-2.5 s of work, with an idempotency
  // key (a submit that failed because the server was down is retried with the same key).
  std::thread load([&] {
    std::mt19937_64 r(seed * 7919);
    uint64_t n = 0;
    while (!stop) {
      ++n;
      const int devices = std::vector<int>{1, 2, 4}[r() % 4 == 0 ? 2 : r() % 2];
      const std::string key = "k" + std::to_string(n);
      for (int tries = 0; tries < 50 && !stop; ++tries) {
        client::ApiClient c = server.Client(tenant);
        // The job's id is not known before the submit: the process tag encodes the key number.
        auto res = c.Send("POST", "/v1/jobs",
                          Json{{"name", key},
                               {"devices_per_worker", devices},
                               {"max_retries", 20},
                               {"command", {"sleep", fmt::format("{}.{:05d}{}", 0, n, tag)}}},
                          {{"Idempotency-Key", key}});
        if (res.ok() && (res->status == 201 || res->status == 200)) {
          std::lock_guard l(mu);
          acked.insert((*res).body["id"].get<uint64_t>());
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300 + r() % 300));
    }
  });

  // The watch: no device held twice (server view), no job running twice (process view).
  std::thread watch([&] {
    while (!stop) {
      for (const auto& [key, count] : LiveWorkers(tag)) {
        if (count > 1) violation(fmt::format("job with key {} runs {} copies at once", key, count));
      }
      client::ApiClient c = server.Client(server.admin_token());
      auto jobs = c.Send("GET", "/v1/jobs?state=admitted,running&limit=1000");
      if (jobs.ok() && jobs->status == 200) {
        std::map<std::string, uint64_t> held;  // node/device -> job
        for (const Json& j : jobs->body["items"]) {
          for (const Json& w : j["placement"]["workers"]) {
            for (const Json& d : w["devices"]) {
              const std::string where = w["node"].get<std::string>() + "/" + d.dump();
              auto [it, fresh] = held.emplace(where, j["id"].get<uint64_t>());
              if (!fresh) {
                violation(fmt::format("device {} held by jobs {} and {}", where, it->second,
                                      j["id"].get<uint64_t>()));
              }
            }
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  // The chaos.
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int server_kills = 0, agent_kills = 0, stalls = 0, full_disks = 0;
  for (int step = 0; std::chrono::steady_clock::now() < end; ++step) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500 + rng() % 2000));
    // The second step fills the disk (so that every run does), later ones at random.
    int what = static_cast<int>(rng() % (small_disk ? 4 : 3));
    if (small_disk && step == 1) what = 3;
    Agent& a = *agents[rng() % 2];
    if (what == 3) {
      // Fill the disk to half the server's reserve, hold it full, check, free it.
      ++full_disks;
      struct statvfs st {};
      ::statvfs(server.dir().c_str(), &st);
      const int64_t free_bytes = static_cast<int64_t>(st.f_bavail) * st.f_frsize;
      const int64_t fill = free_bytes - (int64_t{reserve_mib} << 20) / 2;
      const std::string filler = (server.dir() / "filler").string();
      {
        std::ofstream out(filler, std::ios::binary);
        const std::string mib(1 << 20, 'f');
        for (int64_t done = 0; done < fill && out; done += mib.size())
          out.write(mib.data(), mib.size());
      }
      const pid_t before = server.pid();
      std::this_thread::sleep_for(std::chrono::milliseconds(3000));
      client::ApiClient c = server.Client(tenant);
      auto probe = c.Send("POST", "/v1/jobs",
                          Json{{"name", "probe"},
                               {"devices_per_worker", 1},
                               {"command", {"sleep", fmt::format("0.{:05d}{}", 99999, tag)}}});
      if (!probe.ok() || probe->status != 503 ||
          probe->raw.find("new jobs and worker output are refused") == std::string::npos) {
        violation("with the disk full a submit got " +
                  (probe.ok() ? std::to_string(probe->status) + " " + probe->raw
                              : probe.status().ToString()));
      }
      if (server.pid() != before || ::kill(before, 0) != 0) {
        violation("the server exited while its disk was full");
      }
      auto health = c.Send("GET", "/healthz");
      if (!health.ok() || health->status != 200)
        violation("the server was unhealthy on a full disk");
      std::filesystem::remove(filler);
    } else if (what == 0) {
      server.Kill(SIGKILL);
      ++server_kills;
      ASSERT_TRUE(server.Restart(server_args)) << server.Log();
    } else if (what == 1) {
      a.Kill();
      ++agent_kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 3000));
      a.Start(server.url());
    } else {
      ::kill(a.pid(), SIGSTOP);  // past its lease: the node is lost, its work fenced
      ++stalls;
      std::this_thread::sleep_for(std::chrono::milliseconds((lease + 1) * 1000));
      ::kill(a.pid(), SIGCONT);
    }
  }
  stop = true;
  load.join();
  watch.join();

  // Everything acknowledged is there and ends (the pool stays up long enough for the backlog).
  client::ApiClient c = server.Client(server.admin_token());
  std::set<uint64_t> pending(acked.begin(), acked.end());
  const auto drain = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!pending.empty() && std::chrono::steady_clock::now() < drain) {
    for (auto it = pending.begin(); it != pending.end();) {
      auto j = c.Call("GET", "/v1/jobs/" + std::to_string(*it));
      if (!j.ok()) {
        if (j.status().code() == StatusCode::kNotFound) {
          violation(fmt::format("acknowledged job {} was lost", *it));
          it = pending.erase(it);
          continue;
        }
        ++it;
        continue;
      }
      const std::string state = (*j)["state"];
      if (state == "succeeded" || state == "failed" || state == "cancelled") {
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    if (!pending.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (!pending.empty()) {
    auto j = c.Send("GET", "/v1/jobs/" + std::to_string(*pending.begin()));
    ADD_FAILURE() << pending.size() << " acknowledged jobs never ended, e.g. "
                  << (j.ok() ? j->raw : j.status().ToString()) << "\n"
                  << server.Log().substr(0, 4000);
    for (int n = 0; n < 2; ++n) {
      std::ifstream in(server.dir() / ("agent" + std::to_string(n) + ".log"));
      std::string log((std::istreambuf_iterator<char>(in)), {});
      std::printf("---- agent %d log (last 3000 bytes)\n%s\n", n,
                  log.substr(log.size() > 3000 ? log.size() - 3000 : 0).c_str());
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto left = LiveWorkers(tag);
  EXPECT_TRUE(left.empty()) << left.size() << " jobs' processes outlived them";
  EXPECT_EQ(violations.load(), 0) << first_violation;
  EXPECT_GT(acked.size(), 20u);
  if (small_disk) {
    EXPECT_GE(full_disks, 1);
  }
  std::printf(
      "chaos seed %llu: %zu jobs acknowledged, %d server kills, %d agent kills, %d stalls, %d full "
      "disks%s\n",
      static_cast<unsigned long long>(seed), acked.size(), server_kills, agent_kills, stalls,
      full_disks, small_disk ? "" : " (not root: no disk of its own to fill)");
  for (auto& a : agents) a->Kill();
}

}  // namespace
}  // namespace suanpan
