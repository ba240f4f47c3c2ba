#pragma once
// One simulator experiment as a library call: read a trace, build the pool, turn the trace into
// jobs, replay them under each policy and summarize. `suanpan sim` and bench_sim both call it,
// so what the benchmark times is what the command runs.
//
//   ExperimentSpec spec;
//   spec.trace = "tiresias:../shared/traces/tiresias/60_job.csv";
//   spec.cluster = "1x4x4";
//   spec.policies = {"fifo/first_fit", "las/best_fit"};
//   auto report = sim::RunExperiment(spec, {});   // -> ReportInput, for WriteReport
//
// Warnings (skipped rows, dropped jobs) go to hooks.warning as they are found; progress to
// hooks.progress per policy. Errors name the option: "--trace: ...", "--policy las/x: ...".

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/pool.h"
#include "sched/policy.h"
#include "sim/engine/simulator.h"
#include "sim/model/runtime_model.h"
#include "sim/report/report.h"
#include "sim/trace/trace.h"
#include "sim/workload.h"

namespace suanpan::sim {

struct ExperimentSpec {
  std::string trace;  // FORMAT:PATH
  ReadOptions read;
  // The pool: `pool` when given (a pool file, read by the caller), else `cluster` (SxNxG[:TYPE]
  // or a cluster spec CSV), else the cluster that comes with the trace.
  std::optional<core::Pool> pool;
  std::string pool_name;       // how the report names a given pool
  sched::PolicyConfig policy;  // the base policy (a pool file's); policies below override
  std::string cluster;
  WorkloadOptions workload;
  // "queue[/placement]" each; empty: the base policy alone.
  std::vector<std::string> policies;
  // Overrides applied to every policy.
  bool blocking = false;
  bool no_backfill = false;
  bool no_preemption = false;
  uint64_t seed = 1;
  std::optional<Time> until;
  RuntimeModel model;
  // Money (a --money file): where tenants' money starts, resolved against the pool once it is
  // built (the reader names file:line on an unknown tenant, type or provider). Unset: no money.
  std::function<StatusOr<core::OpeningFunds>(const core::Pool&)> funds;
};

struct ExperimentHooks {
  std::function<void(const std::string&)> warning;
  // Label ("las/best_fit") and the fraction of its jobs finished.
  std::function<void(const std::string&, double)> progress;
};

// The experiment read and built, before any policy ran.
struct PreparedExperiment {
  core::Pool pool;
  std::vector<SimJob> jobs;
  ReportInput report;  // everything but the runs
  std::optional<core::OpeningFunds> funds;
};

// Reads the trace, builds the pool and the jobs.
StatusOr<PreparedExperiment> PrepareExperiment(const ExperimentSpec& spec,
                                               const ExperimentHooks& hooks);
// Replays the prepared jobs under each of spec.policies; appends to report.runs.
Status RunPolicies(const ExperimentSpec& spec, PreparedExperiment& prepared,
                   const ExperimentHooks& hooks);
// Both: everything WriteReport needs, including the per-job rows of jobs.csv.
StatusOr<ReportInput> RunExperiment(const ExperimentSpec& spec, const ExperimentHooks& hooks);

}  // namespace suanpan::sim
