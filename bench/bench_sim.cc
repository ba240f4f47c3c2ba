// Simulator benchmarks (figures in docs/benchmarks.md):
//   BM_Philly20k: the first 20,000 Philly jobs by arrival on 512 GPUs (2 switches x 32 nodes x
//     8), fifo and 2D-LAS. Tiresias' simulator needs 115 s for this here.
//   BM_PhillyFull: all 82,247 jobs on the Philly machine list.
//   BM_Synthetic: the seed-scale example pool (52,400 devices) with N synthetic jobs; reports
//     jobs/s and the peak resident memory of the process.
// The Philly benchmarks read ../shared/traces in place and are skipped when it is absent.

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>

#include "bench/workload.h"
#include "config/pool_file.h"
#include "sim/engine/simulator.h"
#include "sim/experiment.h"
#include "sim/metrics/metrics.h"
#include "sim/workload.h"

namespace suanpan::bench {
namespace {

const std::string kPhilly = std::string(SUANPAN_SOURCE_DIR) + "/../shared/traces/philly/";

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

void RunPhilly(benchmark::State& st, const std::string& queue, int64_t limit,
               const std::string& cluster) {
  if (!std::filesystem::exists(kPhilly + "philly_jobs_pollux.csv")) {
    st.SkipWithError("../shared/traces/philly is not beside the repository");
    return;
  }
  // What `suanpan sim --trace philly:... --policy QUEUE/PLACEMENT` runs; reading the trace and
  // building the pool are outside the timed loop (BM_ReadPhilly times the reading).
  sim::ExperimentSpec spec;
  spec.trace = "philly:" + kPhilly + "philly_jobs_pollux.csv";
  spec.read.limit = limit;
  spec.cluster = cluster;  // "": the machine list beside the trace
  spec.workload.split = queue == "las" ? "device" : "node";
  spec.policies = {queue + (queue == "las" ? "/best_fit" : "/first_fit")};
  spec.policy.backfill = false;
  spec.policy.blocking = queue == "fifo";
  spec.policy.preemption = queue == "las";
  auto prepared = sim::PrepareExperiment(spec, {});
  if (!prepared.ok()) {
    st.SkipWithError(prepared.status().ToString().c_str());
    return;
  }
  sim::Summary summary;
  for (auto _ : st) {
    prepared->report.runs.clear();
    Status ran = sim::RunPolicies(spec, *prepared, {});
    if (!ran.ok()) {
      st.SkipWithError(ran.ToString().c_str());
      return;
    }
    summary = prepared->report.runs.front().summary;
  }
  st.counters["jobs"] = static_cast<double>(prepared->jobs.size());
  st.counters["dropped"] = static_cast<double>(prepared->report.dropped);
  st.counters["finished"] = static_cast<double>(summary.finished);
  st.counters["avg_jct_s"] = summary.jct.mean;
  st.counters["rounds"] = static_cast<double>(summary.rounds);
  st.counters["jobs/s"] = benchmark::Counter(static_cast<double>(prepared->jobs.size()),
                                             benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Philly20k(benchmark::State& st, std::string queue) {
  RunPhilly(st, queue, 20'000, "2x32x8");
}
void BM_PhillyFull(benchmark::State& st, std::string queue) { RunPhilly(st, queue, -1, ""); }

void BM_Synthetic(benchmark::State& st, TypeMix mix) {
  auto file = config::ReadPoolFile(std::string(SUANPAN_SOURCE_DIR) + "/examples/pool.toml");
  const core::Pool& pool = file->pool;
  const size_t n = static_cast<size_t>(st.range(0));
  std::vector<core::JobSpec> specs = SyntheticJobs(pool, n, 99, 1, mix);
  std::vector<sim::SimJob> jobs;
  jobs.reserve(n);
  // Arrivals: one every 1.5 s on average (seeded): with the mix's ~31 devices x ~1,860 s per
  // job that is about 75 % of the pool's 52,400 devices.
  std::mt19937_64 rng(3);
  int64_t t = 0;
  for (core::JobSpec& s : specs) {
    t += 1 + static_cast<int64_t>(rng() % 2);
    s.submit_time = Time(t);
    s.runtime_estimate = Seconds(60 + static_cast<int64_t>(rng() % 3600));
    sim::SimJob j;
    j.duration_by_type.assign(pool.catalog().size(), 0);
    for (core::DeviceTypeId type : s.worker.types) {
      j.duration_by_type[type.value()] = s.runtime_estimate->value();
    }
    j.spec = std::move(s);
    jobs.push_back(std::move(j));
  }
  specs.clear();
  specs.shrink_to_fit();
  sim::SimConfig config;
  config.policy = file->policy;
  config.policy.wait_details = 0;
  // For finding where the time goes: NOBF=1 turns off EASY backfill, NOPRE=1 preemption.
  if (std::getenv("NOBF")) config.policy.backfill = false;
  if (std::getenv("NOPRE")) config.policy.preemption = false;
  sim::Summary summary;
  for (auto _ : st) {
    auto result = sim::Simulate(pool, jobs, config);
    if (!result.ok()) {
      st.SkipWithError(result.status().ToString().c_str());
      return;
    }
    summary = sim::Summarize(pool, jobs, *result, "fair_share");
  }
  st.counters["finished"] = static_cast<double>(summary.finished);
  st.counters["utilization_%"] = summary.utilization * 100;
  st.counters["jobs/s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["peak_rss_MiB"] = PeakRssMiB();
}

// Reading the whole Philly job list (82,247 rows): rows per second.
void BM_ReadPhilly(benchmark::State& st) {
  if (!std::filesystem::exists(kPhilly + "philly_jobs_pollux.csv")) {
    st.SkipWithError("../shared/traces/philly is not beside the repository");
    return;
  }
  int64_t rows = 0;
  for (auto _ : st) {
    auto trace = sim::ReadPhilly(kPhilly + "philly_jobs_pollux.csv", sim::ReadOptions{});
    rows = trace->rows;
    benchmark::DoNotOptimize(trace);
  }
  st.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_ReadPhilly)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(BM_Philly20k, fifo, "fifo")->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_Philly20k, las, "las")->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_PhillyFull, fifo, "fifo")->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_PhillyFull, las, "las")->Unit(benchmark::kMillisecond)->Iterations(1);
// by_capacity: job types in proportion to the pool's devices of each type (every type sees the
// same ~75 % offered load). uniform: types drawn uniformly, which overloads the small types, so
// their queues grow without bound (a stress case; rounds grow with the queue).
BENCHMARK_CAPTURE(BM_Synthetic, by_capacity, TypeMix::kByCapacity)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Synthetic, uniform, TypeMix::kUniform)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Cost growth with the pool: 20,000 synthetic jobs (same mix) on one cluster of N 8-GPU nodes
// (32 per leaf switch), arrivals scaled with the pool so that the offered load stays ~75 %
// (mean job ~31 devices x ~1,860 s), fifo/best_fit, no quotas.
void BM_SyntheticDevices(benchmark::State& st) {
  const int devices = static_cast<int>(st.range(0));
  sim::ClusterShape shape;
  shape.switches = devices / 256;
  shape.nodes_per_switch = 32;
  shape.devices_per_node = 8;
  std::vector<std::string> tenants;
  for (int t = 0; t < 10; ++t) tenants.push_back("t" + std::to_string(t));
  auto pool = sim::PoolFromShape(shape, tenants);
  if (!pool.ok()) {
    st.SkipWithError(pool.status().ToString().c_str());
    return;
  }
  const size_t n = 20'000;
  std::vector<core::JobSpec> specs = SyntheticJobs(*pool, n, 99);
  std::vector<sim::SimJob> jobs;
  std::mt19937_64 rng(3);
  const double interval = 76'880.0 / devices;  // seconds between arrivals for ~75 % load
  double t = 0;
  for (core::JobSpec& s : specs) {
    t += interval * (0.5 + static_cast<double>(rng() % 1000) / 1000.0);
    s.submit_time = Time(static_cast<int64_t>(t));
    s.runtime_estimate = Seconds(60 + static_cast<int64_t>(rng() % 3600));
    sim::SimJob j;
    j.duration_by_type.assign(pool->catalog().size(), 0);
    for (core::DeviceTypeId type : s.worker.types) {
      j.duration_by_type[type.value()] = s.runtime_estimate->value();
    }
    j.spec = std::move(s);
    jobs.push_back(std::move(j));
  }
  sim::SimConfig config;
  config.policy.queue = "fifo";
  config.policy.placement = "best_fit";
  config.policy.wait_details = 0;
  sim::Summary summary;
  for (auto _ : st) {
    auto result = sim::Simulate(*pool, jobs, config);
    if (!result.ok()) {
      st.SkipWithError(result.status().ToString().c_str());
      return;
    }
    summary = sim::Summarize(*pool, jobs, *result, "fifo");
  }
  st.counters["devices"] = devices;
  st.counters["finished"] = static_cast<double>(summary.finished);
  st.counters["utilization_%"] = summary.utilization * 100;
  st.counters["peak_rss_MiB"] = PeakRssMiB();
}
BENCHMARK(BM_SyntheticDevices)
    ->Arg(1024)
    ->Arg(4096)
    ->Arg(16384)
    ->Arg(65536)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace suanpan::bench

BENCHMARK_MAIN();
