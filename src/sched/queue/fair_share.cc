// fair_share: weighted Dominant Resource Fairness over device types (Ghodsi et al., NSDI '11;
// the progressive filling of Mesos' DRF sorter), with memory of past use.
//
// A tenant's share of type t is (devices it holds now + its decayed past use) / devices of t in
// the pool. Past use is decayed device-seconds with half-life h; dividing it by h / ln 2 turns it
// into the average number of devices that would have produced it, so both terms count devices.
// The dominant share is the largest share over types, divided by the tenant's weight.
// Order: priority classes first; inside a class, repeatedly take the tenant with the smallest
// dominant share, emit its oldest job and add that job's devices to its share (so tenants
// interleave as their shares grow); FIFO inside a tenant.
//   Pool 100 H100 + 100 A100. Tenant a (weight 2) holds 40 H100: share 0.4 / 2 = 0.2.
//   Tenant b (weight 1) holds 10 A100: 0.1. b's job goes first; after its 16-A100 job b has
//   0.26 > 0.2, so a's next job goes second.
// O(n log n + n log T) for n queued jobs of T tenants.

#include <algorithm>
#include <cmath>
#include <queue>

#include "sched/queue/queues.h"

namespace suanpan::sched {
namespace {

class FairShare final : public QueuePolicy {
 public:
  std::string_view name() const override { return "fair_share"; }

  std::vector<size_t> Order(const std::vector<QueuedJob>& queue,
                            const QueueContext& context) const override {
    const core::Pool& pool = context.state.pool();
    const size_t types = pool.catalog().size();
    const size_t tenants = pool.tenants().size();
    const core::PoolTotals totals = pool.Totals();

    // held[tenant * types + type] in devices; ratio[tenant]: its largest held / pool devices over
    // types (the dominant share before the weight). Held only grows while the order is built, so
    // the largest ratio is kept up to date in O(1) per emitted job.
    std::vector<double> held(tenants * types, 0.0);
    const double horizon =
        std::max<double>(1.0, context.config.fair_share_half_life.value()) / std::log(2.0);
    for (size_t t = 0; t < tenants; ++t) {
      for (size_t d = 0; d < types; ++d) {
        double& h = held[t * types + d];
        h = static_cast<double>(context.state
                                    .TenantUsage(core::TenantId(static_cast<uint32_t>(t)),
                                                 DeviceTypeId(static_cast<uint16_t>(d)))
                                    .value()) /
            kMilliPerDevice;
        if (context.history != nullptr && t < context.history->device_seconds.size() &&
            d < context.history->device_seconds[t].size()) {
          h += context.history->device_seconds[t][d] / horizon;
        }
      }
    }
    std::vector<double> ratio(tenants, 0.0);
    for (size_t t = 0; t < tenants; ++t) {
      for (size_t d = 0; d < types; ++d) {
        if (totals.devices_by_type[d] > 0) {
          ratio[t] = std::max(ratio[t],
                              held[t * types + d] / static_cast<double>(totals.devices_by_type[d]));
        }
      }
    }
    auto dominant = [&](size_t t) {
      return ratio[t] / static_cast<double>(pool.tenants()[t].weight);
    };

    // Group by priority class (descending), then by tenant (FIFO inside).
    std::vector<size_t> fifo = SortedOrder(queue, [](const QueuedJob& a, const QueuedJob& b) {
      if (a.spec->priority != b.spec->priority) return a.spec->priority > b.spec->priority;
      return a.spec->submit_time < b.spec->submit_time;
    });
    std::vector<size_t> order;
    order.reserve(queue.size());
    std::vector<std::vector<size_t>> by_tenant(tenants);
    std::vector<size_t> next(tenants, 0);
    size_t begin = 0;
    while (begin < fifo.size()) {
      const int priority = queue[fifo[begin]].spec->priority;
      size_t end = begin;
      while (end < fifo.size() && queue[fifo[end]].spec->priority == priority) {
        by_tenant[queue[fifo[end]].spec->tenant.value()].push_back(fifo[end]);
        ++end;
      }
      using Entry = std::pair<double, uint32_t>;  // (dominant share, tenant): min-heap
      std::vector<Entry> entries;
      for (uint32_t tenant = 0; tenant < tenants; ++tenant) {
        if (!by_tenant[tenant].empty()) entries.push_back({dominant(tenant), tenant});
      }
      std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap(std::greater<>(),
                                                                          std::move(entries));
      while (!heap.empty()) {
        const uint32_t tenant = heap.top().second;
        heap.pop();
        std::vector<size_t>& jobs = by_tenant[tenant];
        const size_t index = jobs[next[tenant]++];
        order.push_back(index);
        const core::JobSpec& spec = *queue[index].spec;
        const size_t type = spec.worker.types.front().value();
        double& h = held[tenant * types + type];
        h += static_cast<double>(spec.TotalShare().value()) / kMilliPerDevice;
        if (totals.devices_by_type[type] > 0) {
          ratio[tenant] =
              std::max(ratio[tenant], h / static_cast<double>(totals.devices_by_type[type]));
        }
        if (next[tenant] < jobs.size()) {
          heap.push({dominant(tenant), tenant});
        } else {
          jobs.clear();
          next[tenant] = 0;
        }
      }
      begin = end;
    }
    return order;
  }
};

}  // namespace

void DecayUsage(UsageHistory& history, Seconds elapsed, Seconds half_life) {
  if (elapsed.value() <= 0 || half_life.value() <= 0) return;
  const double factor =
      std::exp2(-static_cast<double>(elapsed.value()) / static_cast<double>(half_life.value()));
  for (auto& tenant : history.device_seconds) {
    for (double& v : tenant) v *= factor;
  }
}

const QueuePolicy& FairShareQueue() {
  static const FairShare policy;
  return policy;
}

}  // namespace suanpan::sched
