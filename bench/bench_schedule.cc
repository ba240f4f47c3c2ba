// Scheduling core benchmarks on the seed-scale example pool (examples/pool.toml: 9 providers,
// 52,400 accelerators, 6,550 nodes, 100 tenants).
//   BM_PlaceFromEmpty: one round over N queued jobs of mixed shapes on an empty pool; reports
//     decisions/s and placements/s.
//   BM_DecisionAfterSubmit / BM_DecisionAfterFinish: the pool at ~70 % utilization with a
//     backlog of waiting gangs; one round after a submit (or after a finish) and its application;
//     reports p50 and p99 latency.
//   Run: make bench   (or build/bench/bench_schedule --benchmark_filter=...)

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <random>

#include "bench/workload.h"
#include "config/pool_file.h"
#include "sched/host/host.h"
#include "sched/scheduler.h"

namespace suanpan::bench {
namespace {

const config::PoolFile& ExamplePool() {
  static const config::PoolFile* pool = [] {
    auto p = config::ReadPoolFile(std::string(SUANPAN_SOURCE_DIR) + "/examples/pool.toml");
    if (!p.ok()) {
      fprintf(stderr, "%s\n", p.status().ToString().c_str());
      std::abort();
    }
    return new config::PoolFile(std::move(*p));
  }();
  return *pool;
}

sched::Scheduler MakeScheduler(const std::string& queue, const std::string& placement,
                               int64_t wait_details = -1) {
  sched::PolicyConfig config = ExamplePool().policy;
  config.queue = queue;
  config.placement = placement;
  config.wait_details = wait_details;
  return std::move(*sched::Scheduler::Create(config));
}

void BM_PlaceFromEmpty(benchmark::State& st, std::string queue, std::string placement) {
  const core::Pool& pool = ExamplePool().pool;
  const size_t n = static_cast<size_t>(st.range(0));
  std::vector<core::JobSpec> jobs = SyntheticJobs(pool, n, 42);
  std::vector<sched::QueuedJob> q;
  for (const auto& j : jobs) q.push_back({&j, 0, Seconds(0)});
  sched::Scheduler scheduler = MakeScheduler(queue, placement);
  int64_t binds = 0, decisions = 0;
  for (auto _ : st) {
    sched::ClusterState state(pool);
    sched::Decisions d = scheduler.Schedule(state, q, Time(static_cast<int64_t>(n)));
    binds = d.binds;
    decisions = static_cast<int64_t>(d.items.size());
    benchmark::DoNotOptimize(d);
  }
  st.counters["decisions/s"] = benchmark::Counter(static_cast<double>(decisions),
                                                  benchmark::Counter::kIsIterationInvariantRate);
  st.counters["placements/s"] =
      benchmark::Counter(static_cast<double>(binds), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["placed"] = static_cast<double>(binds);
}

// A steady churn: 100,000 jobs arrive in batches of 500; after each round the oldest running
// jobs finish until the pool is below 60 % busy. Counts every placement, finish and round. Driven
// through sched::Host, as the simulator and the control plane run the scheduler (its parking
// keeps jobs that cannot fit out of the rounds); `plain` drives a host that parks nothing.
void BM_PlaceChurn(benchmark::State& st, std::string queue, std::string placement, bool park) {
  const core::Pool& pool = ExamplePool().pool;
  const size_t n = static_cast<size_t>(st.range(0));
  std::vector<core::JobSpec> jobs = SyntheticJobs(pool, n, 43);
  const int64_t capacity = pool.Totals().devices * kMilliPerDevice;
  int64_t binds = 0, considered = 0;
  for (auto _ : st) {
    // As a live loop runs: reasons for the first 100 waiting jobs, counts for the rest.
    sched::Host host(pool, MakeScheduler(queue, placement, 100),
                     sched::Host::Options{.park_capacity = park, .park_quota = park});
    std::deque<core::JobId> started;
    binds = considered = 0;
    for (size_t next = 0; next < n || host.queued_count() > 0;) {
      const Time now(static_cast<int64_t>(next));
      for (size_t k = 0; k < 500 && next < n; ++k) host.Submit(jobs[next++], now);
      sched::Host::RoundResult r = host.Round(now);
      considered += r.decisions.considered;
      for (const auto& x : r.decisions.items) {
        if (x.kind == sched::DecisionKind::kBind) {
          started.push_back(x.job);
          ++binds;
        }
      }
      int64_t busy = 0;
      for (size_t t = 0; t < pool.catalog().size(); ++t) {
        busy += host.state().AllocatedMilli(core::DeviceTypeId(static_cast<uint16_t>(t)));
      }
      while (!started.empty() &&
             (busy * 100 > capacity * 60 || (next >= n && host.queued_count() > 0))) {
        if (host.Running(started.front())) {
          busy -= host.state().FindRunning(started.front())->spec->TotalShare().value();
          host.EndRun(started.front(), now, /*requeue=*/false);
        }
        started.pop_front();
        if (next >= n && busy * 100 <= capacity * 60) break;
      }
      if (started.empty() && next >= n && r.decisions.binds == 0) break;  // the rest never fit
    }
  }
  st.counters["placements/s"] =
      benchmark::Counter(static_cast<double>(binds), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["placed"] = static_cast<double>(binds);
  st.counters["considered"] = static_cast<double>(considered);
}

// The pool at ~70 % utilization with a backlog of 200 gangs that do not fit now (256 x 8
// devices); single rounds are measured. Backlog jobs that do start are finished again outside
// the timed part, so that the state stays at the same load.
class Warm {
 public:
  explicit Warm(const std::string& queue, const std::string& placement)
      : pool_(ExamplePool().pool), state_(pool_), scheduler_(MakeScheduler(queue, placement)) {
    jobs_ = SyntheticJobs(pool_, 60'000, 7);
    const int64_t target = pool_.Totals().devices * kMilliPerDevice * 70 / 100;
    size_t next = 0;
    while (Allocated() < target && next < jobs_.size()) {
      std::vector<sched::QueuedJob> one = {{&jobs_[next++], 0, Seconds(0)}};
      sched::ApplyDecisions(state_, scheduler_.Schedule(state_, one, Time(0)), Time(0));
    }
    backlog_ = SyntheticJobs(pool_, 4000, 9, 1'000'000);
    std::erase_if(backlog_, [](const core::JobSpec& j) { return j.workers < 16; });
    backlog_.resize(std::min<size_t>(backlog_.size(), 200));
    for (auto& j : backlog_) j.workers = 256;
    fresh_ = SyntheticJobs(pool_, 100'000, 11, 2'000'000);
    std::erase_if(fresh_, [](const core::JobSpec& j) { return j.workers > 1; });
  }

  int64_t Allocated() const {
    int64_t a = 0;
    for (size_t t = 0; t < pool_.catalog().size(); ++t) {
      a += state_.AllocatedMilli(core::DeviceTypeId(static_cast<uint16_t>(t)));
    }
    return a;
  }

  std::vector<sched::QueuedJob> QueueWith(const core::JobSpec* extra) {
    std::vector<sched::QueuedJob> q;
    for (const auto& j : backlog_) q.push_back({&j, 0, Seconds(0)});
    if (extra) q.push_back({extra, 0, Seconds(0)});
    return q;
  }

  // Ends what this round started (the fresh job and any backlog gang).
  void Undo(const sched::Decisions& d) {
    for (const auto& x : d.items) {
      if (x.kind == sched::DecisionKind::kBind) state_.Finish(x.job);
    }
  }

  const core::Pool& pool_;
  sched::ClusterState state_;
  sched::Scheduler scheduler_;
  std::vector<core::JobSpec> jobs_, backlog_, fresh_;
};

void Percentiles(benchmark::State& st, std::vector<double>& us) {
  std::sort(us.begin(), us.end());
  if (us.empty()) return;
  st.counters["p50_us"] = us[us.size() / 2];
  st.counters["p99_us"] = us[us.size() * 99 / 100];
  st.counters["max_us"] = us.back();
}

void BM_DecisionAfterSubmit(benchmark::State& st, std::string queue, std::string placement) {
  Warm warm(queue, placement);
  std::vector<double> us;
  size_t next = 0;
  for (auto _ : st) {
    const core::JobSpec* job = &warm.fresh_[next++ % warm.fresh_.size()];
    auto q = warm.QueueWith(job);
    const auto t0 = std::chrono::steady_clock::now();
    sched::Decisions d = warm.scheduler_.Schedule(warm.state_, q, Time(0));
    sched::ApplyDecisions(warm.state_, d, Time(0));
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    st.PauseTiming();
    warm.Undo(d);
    st.ResumeTiming();
  }
  Percentiles(st, us);
  st.counters["utilization_%"] = 100.0 * static_cast<double>(warm.Allocated()) /
                                 static_cast<double>(warm.pool_.Totals().devices * kMilliPerDevice);
}

void BM_DecisionAfterFinish(benchmark::State& st, std::string queue, std::string placement) {
  Warm warm(queue, placement);
  std::vector<double> us;
  std::mt19937_64 rng(5);
  size_t next = 0;
  for (auto _ : st) {
    // A random running job finishes; a fresh job waits with the backlog; one round. Outside
    // the timing, the finished job is started again where it was.
    st.PauseTiming();
    std::vector<const sched::RunningJob*> running = warm.state_.Running();
    const sched::RunningJob victim = *running[rng() % running.size()];
    const core::JobSpec* job = &warm.fresh_[next++ % warm.fresh_.size()];
    auto q = warm.QueueWith(job);
    st.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    warm.state_.Finish(victim.spec->id);
    sched::Decisions d = warm.scheduler_.Schedule(warm.state_, q, Time(0));
    sched::ApplyDecisions(warm.state_, d, Time(0));
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    st.PauseTiming();
    warm.Undo(d);
    warm.state_.Start(victim);
    st.ResumeTiming();
  }
  Percentiles(st, us);
}

BENCHMARK_CAPTURE(BM_PlaceFromEmpty, fifo_best_fit, "fifo", "best_fit")
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_PlaceFromEmpty, fair_share_topology_pack, "fair_share", "topology_pack")
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_PlaceFromEmpty, fifo_frag_aware, "fifo", "frag_aware")
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_PlaceChurn, fair_share_topology_pack, "fair_share", "topology_pack", true)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_PlaceChurn, fifo_best_fit, "fifo", "best_fit", true)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_PlaceChurn, fifo_best_fit_plain, "fifo", "best_fit", false)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_DecisionAfterSubmit, fair_share_topology_pack, "fair_share", "topology_pack")
    ->Iterations(2000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DecisionAfterFinish, fair_share_topology_pack, "fair_share", "topology_pack")
    ->Iterations(2000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DecisionAfterSubmit, fifo_best_fit, "fifo", "best_fit")
    ->Iterations(2000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace suanpan::bench

BENCHMARK_MAIN();
