#pragma once
// Synthetic job mixes for the benchmarks, drawn from a seeded generator (deterministic).
// Shapes: 1, 2, 4, 8 devices, fractions (0.25, 0.5), and gangs of 16-512 devices (8-device
// workers), in the proportions of examples/jobs.csv; types are those of the pool's 8-device
// accelerators, tenants round-robin.

#include <random>
#include <vector>

#include "core/job.h"
#include "core/pool.h"

namespace suanpan::bench {

inline std::vector<core::JobSpec> SyntheticJobs(const core::Pool& pool, size_t count, uint64_t seed,
                                                uint64_t first_id = 1) {
  std::mt19937_64 rng(seed);
  std::vector<core::DeviceTypeId> types;
  for (size_t t = 0; t < pool.catalog().size(); ++t) {
    const core::DeviceTypeId id(static_cast<uint16_t>(t));
    if (pool.MaxClusterDevices(id) >= 512) types.push_back(id);
  }
  std::vector<core::JobSpec> jobs;
  jobs.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    core::JobSpec j;
    j.id = core::JobId(first_id + i);
    j.name = "b" + std::to_string(first_id + i);
    j.tenant = core::TenantId(static_cast<uint32_t>(i % pool.tenants().size()));
    j.submit_time = Time(static_cast<int64_t>(i));
    j.runtime_estimate = Seconds(600 + static_cast<int64_t>(rng() % 86400));
    j.worker.types = {types[rng() % types.size()]};
    const int r = static_cast<int>(rng() % 100);
    if (r < 9) {
      j.worker.devices = 0;
      j.worker.fraction = MilliDevices(r % 2 ? 250 : 500);
    } else if (r < 35) {
      j.worker.devices = 1;
    } else if (r < 45) {
      j.worker.devices = 2;
    } else if (r < 55) {
      j.worker.devices = 4;
    } else if (r < 75) {
      j.worker.devices = 8;
    } else {
      static const int kGangs[] = {2, 2, 2, 4, 4, 8, 8, 16, 32, 64};
      j.worker.devices = 8;
      j.workers = kGangs[rng() % 10];
    }
    jobs.push_back(std::move(j));
  }
  return jobs;
}

}  // namespace suanpan::bench
