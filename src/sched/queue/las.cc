// las: Tiresias' discretized two-dimensional least-attained-service (NSDI '19).
// A job's attained service is device-seconds (devices x seconds run). Queue k holds the jobs
// whose service passed k of the limits; lower queues run first, FIFO (submit time) inside a queue.
// Priority classes still come first. A job in a lower queue may preempt a running job of the
// same priority class that was demoted to a higher one (PreemptionRank).
//   limits {3250, 7200}: a 4-GPU job that ran 1,000 s has 4,000 device-seconds -> queue 1.
// Order: O(n log n + n * limits).

#include <algorithm>

#include "sched/queue/queues.h"

namespace suanpan::sched {
namespace {

int64_t ServiceQueue(int64_t attained, const std::vector<int64_t>& limits) {
  int64_t k = 0;
  while (k < static_cast<int64_t>(limits.size()) && attained >= limits[k]) ++k;
  return k;
}

class Las final : public QueuePolicy {
 public:
  std::string_view name() const override { return "las"; }
  std::vector<size_t> Order(const std::vector<QueuedJob>& queue,
                            const QueueContext& context) const override {
    const std::vector<int64_t>& limits = context.config.las_thresholds;
    return SortedOrder(queue, [&](const QueuedJob& a, const QueuedJob& b) {
      if (a.spec->priority != b.spec->priority) return a.spec->priority > b.spec->priority;
      const int64_t qa = ServiceQueue(a.attained_service, limits);
      const int64_t qb = ServiceQueue(b.attained_service, limits);
      if (qa != qb) return qa < qb;
      return a.spec->submit_time < b.spec->submit_time;
    });
  }
  std::optional<int64_t> PreemptionRank(const core::JobSpec&, int64_t attained,
                                        const PolicyConfig& config) const override {
    return ServiceQueue(attained, config.las_thresholds);
  }
};

}  // namespace

const QueuePolicy& LasQueue() {
  static const Las policy;
  return policy;
}

}  // namespace suanpan::sched
