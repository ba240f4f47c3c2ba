// las: Tiresias' discretized two-dimensional least-attained-service (NSDI '19).
// A job's attained service is device-seconds (devices x seconds run). Queue k holds the jobs
// whose service passed k of the limits; lower queues run first, FIFO (submit time) inside a queue.
// Priority classes still come first. A job in a lower queue may preempt a running job of the
// same priority class that was demoted to a higher one (PreemptionRank); a host runs a round
// when a running job crosses its next limit (NextRankChange).
//   limits {3250, 7200}: a 4-GPU job that ran 1,000 s has 4,000 device-seconds -> queue 1.
// Key: O(limits).

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
  OrderKey Key(const QueuedJob& job, const PolicyConfig& config) const override {
    return {-int64_t{job.spec->priority}, ServiceQueue(job.attained_service, config.las_thresholds),
            job.spec->submit_time.value()};
  }
  bool UsesAttainedService() const override { return true; }
  std::optional<int64_t> PreemptionRank(const core::JobSpec&, int64_t attained,
                                        const PolicyConfig& config) const override {
    return ServiceQueue(attained, config.las_thresholds);
  }
  std::optional<int64_t> NextRankChange(int64_t attained,
                                        const PolicyConfig& config) const override {
    for (int64_t limit : config.las_thresholds) {
      if (attained < limit) return limit;
    }
    return std::nullopt;
  }
};

}  // namespace

const QueuePolicy& LasQueue() {
  static const Las policy;
  return policy;
}

}  // namespace suanpan::sched
