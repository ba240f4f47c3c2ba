// Durable submits through HTTP: the real `suanpan server` (examples/pool.toml, a fresh SQLite
// file, synchronous=FULL) on loopback, and C client threads that each submit jobs back to back
// for a fixed time. Every 201 is a job committed to the store before the reply.
//
//   build/bench/bench_server [--clients 16,32,64] [--seconds 10]
//
// Prints, per client count: submits/s, latency p50/p99/max, errors, the mean group-commit batch
// (rows per commit), and the submit-to-decision latency of the scheduler, from the server's
// own histogram (interpolated between bucket bounds, as Prometheus' histogram_quantile does).

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/http_client.h"
#include "tests/integration/server_process.h"

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Buckets of one histogram from the Prometheus text: (upper bound, cumulative count).
std::vector<std::pair<double, double>> Buckets(const std::string& text, const std::string& name) {
  std::vector<std::pair<double, double>> out;
  std::istringstream in(text);
  std::string line;
  const std::string prefix = name + "_bucket{le=\"";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const size_t q = line.find('"', prefix.size());
    const std::string le = line.substr(prefix.size(), q - prefix.size());
    const double bound = le == "+Inf" ? 1e300 : std::stod(le);
    out.emplace_back(bound, std::stod(line.substr(line.rfind(' ') + 1)));
  }
  return out;
}

double Quantile(const std::vector<std::pair<double, double>>& b, double q) {
  if (b.empty() || b.back().second == 0) return 0;
  const double rank = q * b.back().second;
  double lo = 0, lo_count = 0;
  for (const auto& [bound, count] : b) {
    if (count >= rank) {
      if (bound > 1e299) return lo;
      return lo + (bound - lo) * (rank - lo_count) / std::max(1.0, count - lo_count);
    }
    lo = bound;
    lo_count = count;
  }
  return lo;
}

double Metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> client_counts = {16, 32, 64};
  int seconds = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--clients" && i + 1 < argc) {
      client_counts.clear();
      std::stringstream ss(argv[++i]);
      std::string c;
      while (std::getline(ss, c, ',')) client_counts.push_back(std::stoi(c));
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::stoi(argv[++i]);
    } else if (a.rfind("--benchmark", 0) == 0) {
      // `make bench` passes Google Benchmark flags to every bench_*: not ours.
    } else {
      std::fprintf(stderr, "usage: bench_server [--clients 16,32,64] [--seconds 10]\n");
      return 2;
    }
  }
  std::printf("durable submits through HTTP, examples/pool.toml, %d s per run\n", seconds);
  std::printf("%8s %10s %8s %8s %8s %7s %11s %11s %11s %11s %11s\n", "clients", "submits/s",
              "p50 ms", "p99 ms", "max ms", "errors", "rows/commit", "commit p99", "round p99",
              "decide p50", "decide p99");
  for (int clients : client_counts) {
    suanpan::testing::ServerProcess server("bench" + std::to_string(clients),
                                           SUANPAN_SOURCE_DIR "/examples/pool.toml");
    if (!server.Start()) {
      std::fprintf(stderr, "server did not start:\n%s\n", server.Log().c_str());
      return 1;
    }
    suanpan::client::ApiClient admin = server.Client(server.admin_token());
    // One feasible (tenant, type) per tenant: the first type its quota allows.
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
    std::atomic<bool> stop{false};
    std::vector<std::vector<double>> latencies(clients);
    std::vector<int64_t> errors(clients, 0);
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        suanpan::client::ApiClient client = server.Client(server.admin_token());
        for (int i = 0; !stop; ++i) {
          const auto& [tenant, type] = shapes[(c + i) % shapes.size()];
          Json job{{"name", "b" + std::to_string(c) + "-" + std::to_string(i)},
                   {"tenant", tenant},
                   {"devices_per_worker", 1},
                   {"device_types", {type}},
                   {"runtime_estimate", 3600},
                   {"command", {"python", "train.py"}}};
          const auto t0 = Clock::now();
          auto r = client.Send("POST", "/v1/jobs", job);
          const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          if (r.ok() && r->status == 201) {
            latencies[c].push_back(ms);
          } else {
            ++errors[c];
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    stop = true;
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    int64_t errs = 0;
    for (int c = 0; c < clients; ++c) {
      all.insert(all.end(), latencies[c].begin(), latencies[c].end());
      errs += errors[c];
    }
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) {
      return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
    };
    auto metrics = admin.Send("GET", "/metrics");
    std::string text = metrics.ok() ? metrics->raw : "";
    const double rows = Metric(text, "suanpan_store_commit_rows_sum");
    const double commits = Metric(text, "suanpan_store_commit_rows_count");
    auto decide = Buckets(text, "suanpan_schedule_decision_latency_seconds");
    auto commit = Buckets(text, "suanpan_store_commit_seconds");
    auto round = Buckets(text, "suanpan_schedule_round_seconds");
    std::printf("%8d %10.0f %8.2f %8.2f %8.2f %7lld %11.1f %9.1fms %9.1fms %9.1fms %9.1fms\n",
                clients, static_cast<double>(all.size()) / elapsed, pct(0.50), pct(0.99),
                all.empty() ? 0.0 : all.back(), static_cast<long long>(errs),
                commits > 0 ? rows / commits : 0.0, Quantile(commit, 0.99) * 1000,
                Quantile(round, 0.99) * 1000, Quantile(decide, 0.5) * 1000,
                Quantile(decide, 0.99) * 1000);
    std::fflush(stdout);
    server.Kill(SIGTERM);
  }
  return 0;
}
