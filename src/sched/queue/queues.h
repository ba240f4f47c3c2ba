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
// holding by a job's devices (progressive filling). O(tenants x types) to build, O(1) per Add.
class DominantShares {
 public:
  DominantShares(const ClusterState& state, const UsageHistory* history,
                 const PolicyConfig& config);
  double Of(core::TenantId tenant) const {
    return ratio_[tenant.value()] / static_cast<double>(weight_[tenant.value()]);
  }
  void Add(core::TenantId tenant, core::DeviceTypeId type, MilliDevices devices);

 private:
  size_t types_;
  std::vector<double> held_;  // [tenant * types + type], devices
  std::vector<double> ratio_;
  std::vector<int64_t> weight_;
  std::vector<int64_t> totals_;
};

}  // namespace suanpan::sched
