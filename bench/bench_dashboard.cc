// What the dashboard's pages cost the server at the hub's scale: the real `suanpan server` on
// examples/pool.toml (52,400 devices, 6,550 nodes, 100 tenants, no agents: bound jobs hold their
// devices), N jobs submitted through HTTP (16 clients), then each page's routes read back to
// back by one client, as a polling browser would.
//
//   build/bench/bench_dashboard [--jobs 100000] [--reads 30]
//
// Prints, per route: answer bytes, latency p50 / p99 / max over the reads, and for the overview
// the nodes page's revalidation (If-None-Match with its ETag: an empty 304).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "api/router.h"
#include "client/http_client.h"
#include "tests/integration/server_process.h"

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  int jobs = 100'000, reads = 30;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--jobs")) jobs = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reads")) reads = std::atoi(argv[i + 1]);
  }
  suanpan::testing::ServerProcess server("bench_dashboard",
                                         SUANPAN_SOURCE_DIR "/examples/pool.toml");
  server.Agentless();  // nodes take work without agents: bound jobs hold devices
  if (!server.Start()) {
    std::fprintf(stderr, "server did not start:\n%s\n", server.Log().c_str());
    return 1;
  }
  suanpan::client::ApiClient admin = server.Client(server.admin_token());
  std::vector<std::pair<std::string, std::string>> shapes;
  auto tenants = admin.Call("GET", "/v1/tenants");
  if (!tenants.ok()) return 1;
  for (const Json& t : (*tenants)["items"]) {
    for (const Json& q : t["quotas"]) {
      if (q["max"].is_null() || q["max"].get<std::string>() != "0") {
        shapes.emplace_back(t["name"], q["device_type"]);
        break;
      }
    }
  }
  // Submit: a mix of sizes (1, 2, 4, 8 devices; 2-node gangs), so some bind and most queue.
  const auto t0 = Clock::now();
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < 16; ++c) {
    threads.emplace_back([&] {
      suanpan::client::ApiClient client = server.Client(server.admin_token());
      for (int i; (i = next++) < jobs;) {
        const auto& [tenant, type] = shapes[static_cast<size_t>(i) % shapes.size()];
        const int devices = 1 << (i % 4);
        Json job{
            {"name", "d" + std::to_string(i)},  {"tenant", tenant},
            {"workers", i % 10 == 0 ? 2 : 1},   {"devices_per_worker", i % 10 == 0 ? 8 : devices},
            {"device_types", {type}},           {"runtime_estimate", 3600},
            {"command", {"python", "train.py"}}};
        auto r = client.Send("POST", "/v1/jobs", job);
        if (!r.ok() || r->status != 201) ++failed;
        if (i > 0 && i % 20'000 == 0) std::fprintf(stderr, "  %d jobs submitted\n", i);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the scheduler's rounds settle
  auto ov = admin.Call("GET", "/v1/overview");
  if (!ov.ok()) return 1;
  std::printf(
      "%d jobs submitted in %.1f s (%d refused); overview: %.0f devices, %.0f allocated, "
      "%lld queued, %lld holding devices\n\n",
      jobs, Ms(Clock::now() - t0) / 1000, failed.load(), (*ov)["devices"]["total"].get<double>(),
      (*ov)["devices"]["allocated"].get<double>(),
      static_cast<long long>((*ov)["jobs"]["queued"].get<int64_t>()),
      static_cast<long long>((*ov)["jobs"]["running"].get<int64_t>()));

  std::printf("%-40s %10s %9s %9s %9s\n", "route", "bytes", "p50 ms", "p99 ms", "max ms");
  auto measure = [&](const std::string& path, const std::string& etag = "") {
    std::vector<double> ms;
    size_t bytes = 0;
    int status = 0;
    for (int i = 0; i < reads; ++i) {
      const auto s = Clock::now();
      auto r = etag.empty() ? admin.Send("GET", path)
                            : admin.Send("GET", path, std::nullopt, {{"If-None-Match", etag}});
      ms.push_back(Ms(Clock::now() - s));
      if (r.ok()) bytes = r->raw.size(), status = r->status;
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%-40s %10zu %9.2f %9.2f %9.2f%s\n",
                (path + (etag.empty() ? "" : " (304)")).c_str(), bytes, ms[ms.size() / 2],
                ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], ms.back(),
                status == 200 || status == 304 ? "" : "  (error)");
  };
  for (const char* p :
       {"/v1/overview", "/v1/utilization?hours=24&points=180",
        "/v1/utilization?hours=720&points=720", "/v1/queue?limit=500", "/v1/jobs?limit=100",
        "/v1/nodes?limit=1000", "/v1/tenants", "/v1/providers"}) {
    measure(p);
  }
  // Revalidation of the largest page, the nodes (the overview changes every second while jobs
  // wait: it carries their waits). The tag is the one the router computes over the same bytes.
  auto first = admin.Send("GET", "/v1/nodes?limit=1000");
  if (first.ok()) measure("/v1/nodes?limit=1000", suanpan::api::EntityTag(first->raw));
  server.Kill(SIGTERM);
  return 0;
}
