#pragma once
// What a simulation run is judged by. Percentiles follow the convention of the published
// Tiresias figures: pXX is the value at index floor(XX/100 x n) of the ascending list (clamped to
// the last), the median is the mean of the two middle values.
//   JCT {10, 20, 30, 40}: median 25, p95 = sorted[3] = 40.

#include <cstdint>
#include <string>
#include <vector>

#include "core/pool.h"
#include "sim/engine/simulator.h"

namespace suanpan::sim {

struct Distribution {
  double mean = 0, median = 0;
  int64_t p95 = 0, p99 = 0, max = 0;
};
Distribution Describe(std::vector<int64_t> values);

struct TenantSummary {
  std::string name;
  int64_t jobs = 0, finished = 0;
  int64_t device_seconds = 0;
  MicroYuan cost = MicroYuan(0);
  // With funds (SimResult::with_funds): charged to the fen, and paid by vouchers, from the
  // balance, on credit (charged = the three).
  MicroYuan charged = MicroYuan(0), voucher_paid = MicroYuan(0), balance_paid = MicroYuan(0),
            credit_paid = MicroYuan(0);
  double mean_jct = 0;
  double mean_slowdown = 0;  // JCT / run time alone
};

struct Summary {
  std::string policy;  // "queue/las placement/first_fit"
  int64_t jobs = 0, finished = 0, unfinished = 0;
  Distribution jct, queueing;  // seconds
  int64_t makespan = 0;        // last finish (first arrival is 0)
  double utilization = 0;      // time-weighted mean share of devices allocated, to makespan
  double fragmentation = 0;    // time-weighted mean, see TimePoint
  int64_t preemptions = 0, failures = 0, rounds = 0, events = 0;
  double mean_slowdown = 0, max_slowdown = 0;  // finish-time fairness: JCT / run time alone
  double jain_index = 0;  // Jain's fairness index over tenants' mean slowdown (1 = equal)
  std::vector<TenantSummary> tenants;  // tenants with jobs, by name
  bool with_funds = false;
};

Summary Summarize(const core::Pool& pool, const std::vector<SimJob>& jobs, const SimResult& result,
                  std::string policy);

}  // namespace suanpan::sim
