#pragma once
// `suanpan sim`: replays a trace through the production scheduler on a simulated clock, for one
// or several policies, and writes a report (report.json, report.md, SVG plots) to a directory.

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace suanpan::cli {

struct SimOptions {
  std::string trace;                  // FORMAT:PATH
  std::string pool;                   // pool file (TOML), or
  std::string cluster;                // SxNxG[:TYPE] or a cluster spec CSV
  std::string money;                  // money file (TOML, config/money_file.h); empty: none
  std::vector<std::string> policies;  // "queue[/placement]"; empty: the pool file's policy
  std::string out = "sim-out";
  int64_t jobs = -1;  // first N by arrival
  uint64_t seed = 1;
  std::optional<int64_t> until;
  bool strict = false;
  std::string split = "node";
  bool blocking = false;
  bool no_backfill = false;
  bool no_preemption = false;
  // 2D-LAS queue limits in device-seconds; empty: the pool file's, or for a Tiresias trace
  // without a pool file Tiresias' own {3250, 7200} (see docs/simulator.md), else the default.
  std::vector<int64_t> las_thresholds;
  int64_t checkpoint_interval = 1;
  int64_t restore_cost = 0;
  std::string reference_type;
  double mtbf_hours = 0;
  int64_t spread_penalty_permille = 0;
  int64_t switch_penalty_permille = 0;
  bool progress = true;
};

int RunSim(const SimOptions& options, std::FILE* out, std::FILE* err);

}  // namespace suanpan::cli
