#pragma once
// Synthetic job mixes for the benchmarks, drawn from a seeded generator (deterministic).
// Shapes: 1, 2, 4, 8 devices, fractions (0.25, 0.5), and gangs of 16-512 devices (8-device
// workers), in the proportions of examples/jobs.csv; types are those of the pool's 8-device
// accelerators (uniformly, or in proportion to the pool's devices of each type, so that every
// type sees the same offered load), tenants round-robin.

#include <random>
#include <vector>

#include "core/job.h"
#include "core/pool.h"

namespace suanpan::bench {

enum class TypeMix { kUniform, kByCapacity };

inline std::vector<core::JobSpec> SyntheticJobs(const core::Pool& pool, size_t count, uint64_t seed,
                                                uint64_t first_id = 1,
                                                TypeMix mix = TypeMix::kUniform) {
  std::mt19937_64 rng(seed);
  const core::PoolTotals totals = pool.Totals();
  std::vector<core::DeviceTypeId> types;
  std::vector<double> weights;
  for (size_t t = 0; t < pool.catalog().size(); ++t) {
    const core::DeviceTypeId id(static_cast<uint16_t>(t));
    if (pool.MaxClusterDevices(id) < 512) continue;
    types.push_back(id);
    weights.push_back(mix == TypeMix::kUniform ? 1.0
                                               : static_cast<double>(totals.devices_by_type[t]));
  }
  std::discrete_distribution<size_t> pick_type(weights.begin(), weights.end());
  std::vector<core::JobSpec> jobs;
  jobs.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    core::JobSpec j;
    j.id = core::JobId(first_id + i);
    j.name = "b" + std::to_string(first_id + i);
    j.tenant = core::TenantId(static_cast<uint32_t>(i % pool.tenants().size()));
    j.submit_time = Time(static_cast<int64_t>(i));
    j.runtime_estimate = Seconds(600 + static_cast<int64_t>(rng() % 86400));
    j.worker.types = {types[mix == TypeMix::kUniform ? rng() % types.size() : pick_type(rng)]};
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
