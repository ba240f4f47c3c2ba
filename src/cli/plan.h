#pragma once
// `suanpan plan`: one scheduling round from the command line. Reads a pool file and a job list,
// queues every job submitted by `now`, runs sched::Scheduler once on an empty pool and prints
// what would run where, what waits and why, and the earliest starts, with the pool's totals.

#include <cstdio>
#include <optional>
#include <string>

namespace suanpan::cli {

struct PlanOptions {
  std::string pool_path;
  std::string jobs_path;
  std::string policy;            // "queue/placement", empty: the pool file's [policy]
  std::string output = "table";  // table | json
  std::optional<int64_t> now;    // default: the latest submit time
  int limit = 40;                // rows of the job table; 0: all
  int estimates = 200;           // waiting jobs that get an earliest-start estimate
  bool color = false;
};

// Returns the process exit code: 0 on success, 2 on bad input (message on stderr).
int RunPlan(const PlanOptions& options, std::FILE* out, std::FILE* err);

}  // namespace suanpan::cli
