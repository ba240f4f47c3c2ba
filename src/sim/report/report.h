#pragma once
// The simulator's report: a directory with
//   report.json      every figure of every policy (byte-identical for the same trace, seed and
//                    config: no timestamps, no wall-clock times, fixed number formatting);
//   report.md        the comparison table and the plots, for people;
//   jct_cdf.svg      JCT CDF, one line per policy;
//   utilization.svg  share of devices allocated over time, per policy;
//   queue.svg        jobs waiting over time, per policy;
//   jobs.csv         one row per job and policy, to compare job by job with other simulators:
//                    policy,job,tenant,submit,first_start,end,devices,type,provider,attempts,
//                    preemptions,failures,queueing,jct (seconds; first_start, end, type,
//                    provider and jct are empty for a job that never started or never ended).

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

// What jobs.csv says of a job besides its outcome.
struct JobLabel {
  std::string name;                        // the trace's id
  std::string tenant;                      // tenant name
  MilliDevices devices = MilliDevices(0);  // in all (0.5 for half a device)
};

struct ReportInput {
  std::string trace;    // "tiresias:../shared/traces/tiresias/60_job.csv"
  std::string pool;     // pool file or cluster spec
  int64_t jobs = 0;     // jobs replayed
  int64_t dropped = 0;  // trace jobs that could not run on the pool
  int64_t devices = 0;  // devices in the pool
  uint64_t seed = 0;
  std::vector<PolicyRun> runs;
  // For jobs.csv: by job position, and the pool's type and provider names by id.
  std::vector<JobLabel> labels;
  std::vector<std::string> type_names, provider_names, tenant_names;
};

// Writes the files; creates `dir` if needed. Internal / NotFound name the path on failure.
Status WriteReport(const ReportInput& input, const std::string& dir);
// The JSON document alone (what report.json holds).
std::string ReportJson(const ReportInput& input);
// jobs.csv alone.
std::string JobsCsv(const ReportInput& input);

}  // namespace suanpan::sim
