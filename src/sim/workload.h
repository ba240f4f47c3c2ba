#pragma once
// Turning a trace into what the simulator runs: a pool (from a trace's cluster shape, or a pool
// file) and SimJobs (core::JobSpec + run time per device type).

#include <string>
#include <vector>

#include "core/pool.h"
#include "sim/engine/simulator.h"
#include "sim/trace/trace.h"

namespace suanpan::sim {

// The device type a trace's cluster is built of when the trace does not name one: a generic
// "GPU" whose run times are the trace's own.
inline constexpr const char* kTraceDeviceType = "GPU";

// "SxNxG" (switches x nodes per switch x devices per node, e.g. 1x4x4), optionally ":TYPE"; or
// the path of a Tiresias cluster spec CSV.
StatusOr<ClusterShape> ParseClusterSpec(const std::string& spec);

// A one-provider pool of the shape: one cluster, leaf switches of `nodes_per_switch`, one tenant
// per name in `tenants` (or "default").
StatusOr<core::Pool> PoolFromShape(const ClusterShape& shape,
                                   const std::vector<std::string>& tenants);

struct WorkloadOptions {
  // How a job of D devices becomes workers: "node" (workers of gcd(D, largest node) devices,
  // each on one node; a gang when D spans nodes) or "device" (D single-device workers: only the
  // number of free devices counts, as Tiresias' "count" placement and its 2D-LAS).
  std::string split = "node";
  // Type whose run times the trace gives, when the pool has several and the trace has no
  // per-type times: other types scale by peak FP16 throughput. "" = the pool's first type.
  std::string reference_type;
  int64_t checkpoint_interval = 1;  // seconds; 1: preemption keeps all work (Tiresias)
  int64_t restore_cost = 0;         // seconds added to each restart
};

// Builds the SimJobs: tenants by name (a name the pool lacks is mapped to one of its tenants by
// a stable hash), acceptable types = the pool's types with a run time, ids = position + 1.
// Jobs too large for any cluster are reported in `problems` and dropped (counted).
struct Workload {
  std::vector<SimJob> jobs;
  std::vector<std::string> problems;
  int64_t dropped = 0;
};
StatusOr<Workload> JobsFromTrace(const Trace& trace, const core::Pool& pool,
                                 const WorkloadOptions& options);

}  // namespace suanpan::sim
