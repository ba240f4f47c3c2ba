#pragma once
// The job fields that every job reader checks the same way: the jobs CSV (jobs_csv.cc) and the
// API's JSON body (control/job_codec.cc). Messages start with the field name ("priority_class:
// tenant 'b' may not use class 'high'"); readers add their own file:line.

#include <optional>
#include <string_view>

#include "base/status.h"
#include "core/job.h"
#include "core/pool.h"

namespace suanpan::config {

// "8" -> 8 whole devices per worker; "0.25" -> a quarter of one device (250 milli). Exact decimal
// parsing (ParseFixed); whole numbers up to 64, fractions below 1.
Status SetDevicesPerWorker(std::string_view text, core::WorkerShape& worker);

// Applies a priority class (empty: none) and an explicit preemptible flag to `job`, whose tenant
// is set. The class must exist and be allowed to the tenant; a job may volunteer to be
// preemptible but may not shield itself when its class is preemptible (any tenant could opt out).
Status SetPriority(const core::Pool& pool, std::string_view priority_class,
                   std::optional<bool> preemptible, core::JobSpec& job);

}  // namespace suanpan::config
