#pragma once
// The built-in queue policies. Each lives in its own file; registry.cc names them.

#include <vector>

#include "sched/policy.h"

namespace suanpan::sched {

const QueuePolicy& FifoQueue();
const QueuePolicy& PriorityQueue();
const QueuePolicy& FairShareQueue();
const QueuePolicy& LasQueue();
const QueuePolicy& SrtfQueue();

// Weighted dominant shares of the tenants (fair_share), as the order is built: a tenant's share
// of type t is (devices it holds + its decayed past use / (h / ln 2)) / devices of t in the pool;
// its dominant share is the largest over types, divided by its weight. Add() grows a tenant's
// holding by a job's devices (progressive filling). A tenant's share is computed when first
// asked for (O(types)), so a round pays only for the tenants it orders; O(1) per Add.
class DominantShares {
 public:
  DominantShares(const ClusterState& state, const UsageHistory* history,
                 const PolicyConfig& config);
  double Of(core::TenantId tenant) const {
    Ensure(tenant.value());
    return ratio_[tenant.value()] / static_cast<double>(weight_[tenant.value()]);
  }
  void Add(core::TenantId tenant, core::DeviceTypeId type, MilliDevices devices);
  // Inside a tenant with projects: a queue's dominant share of the pool (held now; past use is
  // remembered per tenant only) over its project's weight; 0 for tenants without projects.
  double OfQueue(core::QueueId queue) const;
  void AddQueue(core::QueueId queue, core::DeviceTypeId type, MilliDevices devices);

 private:
  void Ensure(size_t tenant) const;
  void EnsureQueue(size_t queue) const;
  mutable std::vector<double> queue_held_;  // [queue * types + type], devices
  mutable std::vector<double> queue_ratio_;
  mutable std::vector<uint8_t> queue_known_;
  const ClusterState& state_;
  const UsageHistory* history_;
  double horizon_;
  size_t types_;
  const std::vector<int64_t>& totals_;
  mutable std::vector<double> held_;  // [tenant * types + type], devices
  mutable std::vector<double> ratio_;
  mutable std::vector<uint8_t> known_;
  std::vector<int64_t> weight_;
};

}  // namespace suanpan::sched
