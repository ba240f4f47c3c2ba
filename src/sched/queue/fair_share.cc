// fair_share: weighted Dominant Resource Fairness over device types (Ghodsi et al., NSDI '11;
// the progressive filling of Mesos' DRF allocator), with memory of past use.
//
// A tenant's share of type t is (devices it holds now + its decayed past use) / devices of t in
// the pool. Past use is decayed device-seconds with half-life h; dividing it by h / ln 2 turns it
// into the average number of devices that would have produced it, so both terms count devices.
// The dominant share is the largest share over types, divided by the tenant's weight.
// Order: priority classes first; inside a class the tenant with the smallest dominant share
// offers its oldest job; a job that is bound adds its devices to its tenant's share (so tenants
// interleave as their shares grow), a job that cannot start adds nothing (DRF counts what is
// allocated, not what is asked); FIFO inside a tenant.
//   Pool 100 H100 + 100 A100. Tenant a (weight 2) holds 40 H100: share 0.4 / 2 = 0.2.
//   Tenant b (weight 1) holds 10 A100: 0.1. b's job goes first; once its 16-A100 job is bound
//   b has 0.26 > 0.2, so a's next job goes second.
// Hierarchical over projects (core::Project): inside a tenant, the same rule picks among its
// queues (each project, and the tenant's jobs outside projects) by the queue's dominant share of
// what it holds now over the project's weight; across tenants nothing changes.
//   Tenant acme holds 24 of 100 H100: 8 in project vision (weight 1), 16 in llm (weight 2).
//   vision's share is 0.08 / 1 = 0.08, llm's 0.16 / 2 = 0.08: a tie, broken by queue id
//   (vision first). Once vision's 8-GPU job is bound it has 0.16 > 0.08 and llm goes next.
//   A tenant without projects has one queue and orders exactly as before.
// The merge itself is sched/queue/cursor.cc; O(n log n + n log Q) for n jobs in Q queues.

#include <algorithm>
#include <cmath>

#include "sched/queue/queues.h"

namespace suanpan::sched {
namespace {

class FairShare final : public QueuePolicy {
 public:
  std::string_view name() const override { return "fair_share"; }
  OrderKey Key(const QueuedJob& job, const PolicyConfig&) const override {
    return {-int64_t{job.spec->priority}, job.spec->submit_time.value(), 0};
  }
  bool MergesByShare() const override { return true; }
  bool UsesUsageHistory() const override { return true; }
};

}  // namespace

DominantShares::DominantShares(const ClusterState& state, const UsageHistory* history,
                               const PolicyConfig& config)
    : state_(state),
      history_(history),
      horizon_(std::max<double>(1.0, static_cast<double>(config.fair_share_half_life.value())) /
               std::log(2.0)),
      types_(state.pool().catalog().size()),
      totals_(state.DevicesByType()) {
  const size_t tenants = state.pool().tenants().size();
  held_.assign(tenants * types_, 0.0);
  ratio_.assign(tenants, 0.0);
  known_.assign(tenants, 0);
  weight_.resize(tenants);
  for (size_t t = 0; t < tenants; ++t) weight_[t] = state.pool().tenants()[t].weight;
  // Shares are computed when first asked for, from the use as the round started: else a share
  // would depend on when a tenant was first asked about (after a victim's devices came back, or
  // after its own job was bound), and so on which jobs the round happened to look at first.
  state.MarkUsage();
}

void DominantShares::Ensure(size_t t) const {
  if (known_[t]) return;
  known_[t] = 1;
  for (size_t d = 0; d < types_; ++d) {
    double& h = held_[t * types_ + d];
    h = static_cast<double>(state_
                                .TenantUsageAtMark(core::TenantId(static_cast<uint32_t>(t)),
                                                   core::DeviceTypeId(static_cast<uint16_t>(d)))
                                .value()) /
        kMilliPerDevice;
    if (history_ != nullptr) h += history_->At(t, d) / horizon_;
    if (totals_[d] > 0) ratio_[t] = std::max(ratio_[t], h / static_cast<double>(totals_[d]));
  }
}

void DominantShares::Add(core::TenantId tenant, core::DeviceTypeId type, MilliDevices devices) {
  const size_t t = tenant.value(), d = type.value();
  if (t >= ratio_.size()) return;  // the system tenant has no share
  Ensure(t);
  double& h = held_[t * types_ + d];
  h += static_cast<double>(devices.value()) / kMilliPerDevice;
  if (totals_[d] > 0) ratio_[t] = std::max(ratio_[t], h / static_cast<double>(totals_[d]));
}

void DominantShares::EnsureQueue(size_t q) const {
  if (queue_known_.empty()) {
    const size_t queues = state_.pool().QueueCount();
    queue_held_.assign(queues * types_, 0.0);
    queue_ratio_.assign(queues, 0.0);
    queue_known_.assign(queues, 0);
  }
  if (queue_known_[q]) return;
  queue_known_[q] = 1;
  for (size_t d = 0; d < types_; ++d) {
    double& h = queue_held_[q * types_ + d];
    h = static_cast<double>(state_
                                .QueueUsageAtMark(core::QueueId(static_cast<uint32_t>(q)),
                                                  core::DeviceTypeId(static_cast<uint16_t>(d)))
                                .value()) /
        kMilliPerDevice;
    if (totals_[d] > 0)
      queue_ratio_[q] = std::max(queue_ratio_[q], h / static_cast<double>(totals_[d]));
  }
}

double DominantShares::OfQueue(core::QueueId queue) const {
  const core::Pool& pool = state_.pool();
  const core::TenantId owner = pool.TenantOfQueue(queue);
  if (owner.value() >= pool.tenants().size() || pool.tenant(owner).projects.empty()) return 0.0;
  EnsureQueue(queue.value());
  const core::Project* p = pool.ProjectOf(queue);
  return queue_ratio_[queue.value()] / static_cast<double>(p != nullptr ? p->weight : 1);
}

void DominantShares::AddQueue(core::QueueId queue, core::DeviceTypeId type, MilliDevices devices) {
  const core::Pool& pool = state_.pool();
  const core::TenantId owner = pool.TenantOfQueue(queue);
  if (owner.value() >= pool.tenants().size() || pool.tenant(owner).projects.empty()) return;
  const size_t q = queue.value(), d = type.value();
  EnsureQueue(q);
  double& h = queue_held_[q * types_ + d];
  h += static_cast<double>(devices.value()) / kMilliPerDevice;
  if (totals_[d] > 0)
    queue_ratio_[q] = std::max(queue_ratio_[q], h / static_cast<double>(totals_[d]));
}

const QueuePolicy& FairShareQueue() {
  static const FairShare policy;
  return policy;
}

}  // namespace suanpan::sched
