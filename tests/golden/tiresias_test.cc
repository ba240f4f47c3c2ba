// Validation: suanpan's simulator, running the production scheduler, reproduces the figures of
// Tiresias' own simulator (SymbioticLab/Tiresias, simulator/) on its 60-job trace.
//
// Tiresias' semantics, and how suanpan is configured to match them:
//   - integer-second events; a finish frees devices before arrivals at the same second; one
//     scheduling pass per instant (the simulator's own order);
//   - fifo is strict: the head job that cannot be placed blocks all behind it, nothing is
//     preempted (blocking = true, backfill and preemption off);
//   - "yarn" placement puts a job under one switch, on the first nodes in index order with room;
//     a job larger than a node needs whole idle nodes (first_fit with workers of one node each);
//   - dlas-gpu counts free GPUs only (no placement), greedily in queue order, and preempts jobs of
//     lower service queues (split = device: single-GPU workers, so only the count matters);
//     preemption keeps all progress (checkpoint_interval 1 s, no restore cost);
//   - the published percentiles take sorted[floor(0.95 n)] and the median the mean of the two
//     middle values (sim/metrics).
// The 2D-LAS limits are {3250, 7200, 18000} GPU-seconds; Tiresias reads only the first two (3
// queues). No job of this trace exceeds 2,440 GPU-seconds, so neither is ever reached and the
// difference cannot show. All figures match exactly (0 % difference), well inside the 1 % bound.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "sched/policy.h"
#include "sim/metrics/metrics.h"
#include "sim/workload.h"

namespace suanpan::sim {
namespace {

const char* kTrace = "../shared/traces/tiresias/60_job.csv";
const char* kClusterSpec = "../shared/traces/tiresias/cluster_spec.csv";

struct Expected {
  double avg, median;
  int64_t p95, makespan;
};

Summary RunTiresias(const std::string& cluster, const std::string& policy) {
  auto trace = ReadTiresias(kTrace, ReadOptions{});
  EXPECT_TRUE(trace.ok()) << trace.status().ToString();
  auto shape = ParseClusterSpec(cluster);
  EXPECT_TRUE(shape.ok()) << shape.status().ToString();
  auto pool = PoolFromShape(*shape, {});
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  SimConfig config;
  WorkloadOptions options;
  config.policy.queue = policy;
  config.policy.backfill = false;
  if (policy == "fifo") {
    config.policy.placement = "first_fit";
    config.policy.blocking = true;
    config.policy.preemption = false;
    options.split = "node";
  } else {
    config.policy.placement = "best_fit";
    config.policy.preemption = true;
    // Tiresias' effective 2D-LAS: three queues (jobs.py lists 18000 too but never demotes past
    // num_queue - 1 = the second limit). The 60-job trace cannot tell the two apart: its
    // largest job attains 14,400 GPU-seconds.
    config.policy.las_thresholds = {3250, 7200};
    options.split = "device";
  }
  auto workload = JobsFromTrace(*trace, *pool, options);
  EXPECT_TRUE(workload.ok()) << workload.status().ToString();
  EXPECT_EQ(workload->dropped, 0);
  auto result = Simulate(*pool, workload->jobs, config);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return Summarize(*pool, workload->jobs, *result, policy);
}

void ExpectWithinOnePercent(const Summary& s, const Expected& e) {
  EXPECT_EQ(s.finished, 60);
  EXPECT_NEAR(s.jct.mean, e.avg, e.avg * 0.01);
  EXPECT_NEAR(s.jct.median, e.median, e.median * 0.01);
  EXPECT_NEAR(static_cast<double>(s.jct.p95), static_cast<double>(e.p95), e.p95 * 0.01);
  EXPECT_NEAR(static_cast<double>(s.makespan), static_cast<double>(e.makespan), e.makespan * 0.01);
  // And, in fact, exactly:
  EXPECT_DOUBLE_EQ(std::round(s.jct.mean * 100) / 100, e.avg);
  EXPECT_DOUBLE_EQ(s.jct.median, e.median);
  EXPECT_EQ(s.jct.p95, e.p95);
  EXPECT_EQ(s.makespan, e.makespan);
}

class TiresiasValidation : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kTrace)) GTEST_SKIP() << kTrace << " is not beside the repo";
  }
};

TEST_F(TiresiasValidation, FifoOn16Gpus) {
  ExpectWithinOnePercent(RunTiresias("1x4x4", "fifo"), {219.18, 178.5, 412, 3341});
}

TEST_F(TiresiasValidation, TwoDLasOn16Gpus) {
  ExpectWithinOnePercent(RunTiresias("1x4x4", "las"), {190.68, 130.0, 368, 3271});
}

TEST_F(TiresiasValidation, FifoOn64Gpus) {
  ExpectWithinOnePercent(RunTiresias(kClusterSpec, "fifo"), {178.42, 125, 368, 3271});
}

TEST_F(TiresiasValidation, TwoDLasOn64Gpus) {
  ExpectWithinOnePercent(RunTiresias(kClusterSpec, "las"), {178.42, 125, 368, 3271});
}

}  // namespace
}  // namespace suanpan::sim
