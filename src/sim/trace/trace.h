#pragma once
// Trace readers: one per format, each reading files in place (../shared/traces or any path) into
// one common Trace. Every quirk of the public traces (CRLF, no final newline, leading spaces,
// missing headers, unnamed index columns, ragged rows, rows out of time order) is handled here.
// Bad rows are reported as "file:line: reason"; with ReadOptions::strict the first one is fatal,
// otherwise it is skipped and counted.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace suanpan::sim {

// One job as a trace describes it, before it is turned into a core::JobSpec.
struct TraceJob {
  std::string name;         // the trace's own id
  std::string tenant;       // user, VC or group; "" when the trace has none
  int64_t submit_time = 0;  // seconds; readers shift so that the first arrival is 0
  int devices = 1;          // devices the job needs in all (GPUs)
  int workers = 0;          // 0: let the simulator split `devices` over nodes
  // Run time at full allocation, in seconds, on the reference device type ("" = any type).
  int64_t duration = 0;
  // Per-type run times when the trace or its throughput table gives them ("V100" -> 3600).
  std::map<std::string, int64_t> duration_by_type;
  std::string model;  // model / job type name, when given
  size_t line = 0;    // line in the source file, for messages
};

// A cluster shape that comes with a trace (Tiresias cluster specs, Philly machine lists,
// Gavel cluster specs): switches x nodes per switch x devices per node, of one type.
struct ClusterShape {
  int switches = 1;
  int nodes_per_switch = 1;
  int devices_per_node = 1;
  int cpu_per_node = 0;         // cores, 0 if unknown
  int memory_gib_per_node = 0;  // 0 if unknown
  std::string device_type;      // "" if unknown
  // Heterogeneous lists (Philly): nodes per devices-per-node, e.g. {8: 231, 2: 321}.
  std::map<int, int> nodes_by_devices;
};

struct Trace {
  std::vector<TraceJob> jobs;  // sorted by (submit_time, file order)
  std::optional<ClusterShape> cluster;
  int64_t rows = 0;                   // data rows read
  int64_t skipped = 0;                // bad rows skipped (not strict)
  std::vector<std::string> problems;  // the first few "file:line: reason" messages
};

struct ReadOptions {
  bool strict = false;       // first bad row is fatal
  size_t max_problems = 20;  // how many messages to keep
  int64_t limit = -1;        // keep only the first N jobs by arrival; -1: all
};

// Format names for `suanpan sim --trace FORMAT:PATH`: tiresias, philly, gavel, sia, suanpan.
StatusOr<Trace> ReadTrace(std::string_view format, const std::string& path,
                          const ReadOptions& options);

// Each reader. Paths are files (or a directory where the format is one).
StatusOr<Trace> ReadTiresias(const std::string& path, const ReadOptions& options);
StatusOr<ClusterShape> ReadTiresiasClusterSpec(const std::string& path);
StatusOr<Trace> ReadPhilly(const std::string& path, const ReadOptions& options);
StatusOr<ClusterShape> ReadPhillyMachineList(const std::string& path);
StatusOr<Trace> ReadGavel(const std::string& path, const ReadOptions& options);
StatusOr<Trace> ReadSia(const std::string& path, const ReadOptions& options);
StatusOr<Trace> ReadSuanpan(const std::string& path, const ReadOptions& options);

// Shared by the readers: sorts jobs by (submit_time, line), shifts times so the first arrival is
// 0 and applies options.limit.
// (The sort is a stable sort on submit_time alone: readers append jobs in file order, so ties
// stay in line order within a file and in file order across the files of a directory.)
void FinishTrace(Trace& trace, const ReadOptions& options);

}  // namespace suanpan::sim
