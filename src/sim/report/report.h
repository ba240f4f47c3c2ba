#pragma once
// The simulator's report: a directory with
//   report.json      every figure of every policy (byte-identical for the same trace, seed and
//                    config: no timestamps, no wall-clock times, fixed number formatting);
//   report.md        the comparison table and the plots, for people;
//   jct_cdf.svg      JCT CDF, one line per policy;
//   utilization.svg  share of devices allocated over time, per policy;
//   queue.svg        jobs waiting over time, per policy.

#include <string>
#include <vector>

#include "sim/engine/simulator.h"
#include "sim/metrics/metrics.h"

namespace suanpan::sim {

struct PolicyRun {
  Summary summary;
  SimResult result;
  std::vector<int64_t> jct;  // finished jobs' JCTs, seconds
};

struct ReportInput {
  std::string trace;    // "tiresias:../shared/traces/tiresias/60_job.csv"
  std::string pool;     // pool file or cluster spec
  int64_t jobs = 0;     // jobs replayed
  int64_t dropped = 0;  // trace jobs that could not run on the pool
  int64_t devices = 0;  // devices in the pool
  uint64_t seed = 0;
  std::vector<PolicyRun> runs;
};

// Writes the files; creates `dir` if needed. Internal / NotFound name the path on failure.
Status WriteReport(const ReportInput& input, const std::string& dir);
// The JSON document alone (what report.json holds).
std::string ReportJson(const ReportInput& input);

}  // namespace suanpan::sim
