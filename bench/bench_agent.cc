// Jobs really starting: `suanpan dev` (server, store, local agent with 8 declared H100) and its
// worker processes.
//
//   build/bench/bench_agent [--jobs 1000] [--latency-jobs 200]
//
// (a) Submit to process start: one 1-device job every 50 ms (never queued behind others); the
//     latency is from the job's "submitted" event to its "running" event (the agent's report
//     that the worker process was started), both stamped by the server.
// (b) Throughput: 1,000 short jobs (`true`, 1 device) submitted at once, then the time from the
//     first worker start to the last: jobs started per second through 8 devices.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "client/http_client.h"
#include "control/control_plane.h"
#include "tests/integration/server_process.h"

extern char** environ;

namespace {

using Json = nlohmann::json;

int64_t EventMs(const Json& events, const std::string& kind) {
  for (const Json& e : events["items"]) {
    if (e["kind"] == kind) return *suanpan::control::ParseTimeMs(e["time"].get<std::string>());
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 1000, latency_jobs = 200;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--jobs" && i + 1 < argc)
      jobs = std::stoi(argv[++i]);
    else if (a == "--latency-jobs" && i + 1 < argc)
      latency_jobs = std::stoi(argv[++i]);
  }
  const auto dir = std::filesystem::temp_directory_path() / "suanpan_bench_agent";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<std::string> args = {SUANPAN_BINARY, "dev",         "--data-dir",  dir.string(),
                                   "--listen",     "127.0.0.1:0", "--log-level", "error"};
  const pid_t pid = suanpan::testing::Spawn(std::move(args), (dir / "dev.out").string());
  if (pid < 0) return 1;
  std::string port, token;
  for (int i = 0; i < 500 && token.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::getline(std::ifstream(dir / "port"), port);
    std::getline(std::ifstream(dir / "tenant.token"), token);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the agent registers
  suanpan::client::ApiClient api(
      suanpan::client::ClientConfig{"http://127.0.0.1:" + port, token, 30'000});
  auto wait_all = [&](uint64_t first, uint64_t last) {
    for (;;) {
      auto r = api.Call("GET", "/v1/jobs?state=pending,admitted,running&limit=1");
      if (r.ok() && (*r)["items"].empty()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    (void)first;
    (void)last;
  };
  // (a) latency
  std::vector<uint64_t> ids;
  for (int i = 0; i < latency_jobs; ++i) {
    auto r = api.Call("POST", "/v1/jobs",
                      Json{{"name", "lat" + std::to_string(i)},
                           {"devices_per_worker", 1},
                           {"command", {"sleep", "0.2"}}});
    if (r.ok()) ids.push_back((*r)["id"].get<uint64_t>());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  wait_all(ids.front(), ids.back());
  std::vector<double> latency;
  for (uint64_t id : ids) {
    auto e = api.Call("GET", "/v1/jobs/" + std::to_string(id) + "/events");
    if (!e.ok()) continue;
    const int64_t sub = EventMs(*e, "submitted"), run = EventMs(*e, "running");
    if (sub >= 0 && run >= 0) latency.push_back(static_cast<double>(run - sub));
  }
  std::sort(latency.begin(), latency.end());
  auto pct = [&](double p) {
    return latency.empty()
               ? 0.0
               : latency[std::min(latency.size() - 1, static_cast<size_t>(p * latency.size()))];
  };
  std::printf(
      "submit to process started (%zu jobs, 1 every 50 ms): p50 %.0f ms, p99 %.0f ms, max %.0f "
      "ms\n",
      latency.size(), pct(0.5), pct(0.99), latency.empty() ? 0.0 : latency.back());
  std::fflush(stdout);
  // (b) throughput
  std::vector<uint64_t> burst;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < jobs; ++i) {
    auto r = api.Call("POST", "/v1/jobs",
                      Json{{"name", "burst" + std::to_string(i)},
                           {"devices_per_worker", 1},
                           {"command", {"true"}}});
    if (r.ok()) burst.push_back((*r)["id"].get<uint64_t>());
  }
  const double submit_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  wait_all(burst.front(), burst.back());
  int64_t first = INT64_MAX, last = 0;
  int succeeded = 0;
  for (uint64_t id : burst) {
    auto e = api.Call("GET", "/v1/jobs/" + std::to_string(id) + "/events");
    if (!e.ok()) continue;
    const int64_t run = EventMs(*e, "running");
    if (run >= 0) {
      first = std::min(first, run);
      last = std::max(last, run);
    }
    succeeded += EventMs(*e, "succeeded") >= 0;
  }
  std::printf(
      "%d short jobs queued (submitted in %.2f s): %d succeeded; starts spread over %.2f s = "
      "%.0f jobs started/s\n",
      jobs, submit_s, succeeded, static_cast<double>(last - first) / 1000.0,
      static_cast<double>(burst.size()) * 1000.0 / std::max<int64_t>(1, last - first));
  ::kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  std::filesystem::remove_all(dir);
  return 0;
}
