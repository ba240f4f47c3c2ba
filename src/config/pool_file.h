#pragma once
// Reading a pool description (TOML) and a job list (CSV). The pool file holds providers,
// clusters, node groups, topology, tenants, priority classes and the scheduling policy; see
// docs/pool-format.md. Every error names file:line, the field and the bad value:
//   pool.toml:41: providers[2].clusters[0].node_groups[1].device_type: unknown device type 'H200'
// Parsing never crashes and never throws across this interface.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/job.h"
#include "core/pool.h"
#include "sched/policy.h"

namespace suanpan::config {

struct PoolFile {
  core::Pool pool;
  sched::PolicyConfig policy;
};

// The pool and policy as a pool file that ParsePool reads back to the same pool (`suanpan pool
// export`). `header` becomes comment lines at the top; `price`, when given, says the price in
// force per provider and type (the live price list) instead of the pool's own.
using PriceLookup = std::function<std::optional<MicroYuan>(core::ProviderId, core::DeviceTypeId,
                                                           std::optional<MicroYuan> in_pool)>;
std::string WritePool(const core::Pool& pool, const sched::PolicyConfig& policy,
                      const std::string& header = "", const PriceLookup& price = nullptr);

// `name` is used in messages ("pool.toml:12: ...").
StatusOr<PoolFile> ParsePool(std::string_view text, std::string_view name);
StatusOr<PoolFile> ReadPoolFile(const std::string& path);

struct JobList {
  std::vector<core::JobSpec> jobs;  // ids 1..n in file order
};

// Jobs CSV: a header row naming the columns (any order), then one job per row. Required:
// name, tenant, workers, devices_per_worker, device_types. Optional: kind, priority_class,
// preemptible, submit_time, runtime_estimate, runtime_limit, cpu_per_worker,
// memory_gib_per_worker, checkpoint_interval, restore_cost, datasets. Lists use '|'.
// CRLF line endings, a missing final newline and blank lines are accepted. Each job is checked
// against the pool (core::ValidateJob).
StatusOr<JobList> ParseJobs(std::string_view text, std::string_view name, const core::Pool& pool);
StatusOr<JobList> ReadJobsFile(const std::string& path, const core::Pool& pool);

// Reads a whole file; NotFound / Internal name the path and the OS error.
StatusOr<std::string> ReadFile(const std::string& path);

// Parses a decimal such as "0.25", "8", "12.5" into an integer count of 1/scale units, exactly
// (no floating point): ParseFixed("0.25", 1000) = 250. Rejects signs other than a leading '-',
// exponents, more decimals than the scale holds, and overflow.
StatusOr<int64_t> ParseFixed(std::string_view text, int64_t scale);

}  // namespace suanpan::config
