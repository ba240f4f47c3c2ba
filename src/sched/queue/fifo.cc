// fifo: by submit time. priority: by priority class (higher first), then submit time.
// Both O(n log n) in the queue length; ties end on the job id.

#include <algorithm>

#include "sched/queue/queues.h"

namespace suanpan::sched {
namespace {

class Fifo final : public QueuePolicy {
 public:
  std::string_view name() const override { return "fifo"; }
  std::vector<size_t> Order(const std::vector<QueuedJob>& queue,
                            const QueueContext&) const override {
    return SortedOrder(queue, [](const QueuedJob& a, const QueuedJob& b) {
      return a.spec->submit_time < b.spec->submit_time;
    });
  }
};

class Priority final : public QueuePolicy {
 public:
  std::string_view name() const override { return "priority"; }
  std::vector<size_t> Order(const std::vector<QueuedJob>& queue,
                            const QueueContext&) const override {
    return SortedOrder(queue, [](const QueuedJob& a, const QueuedJob& b) {
      if (a.spec->priority != b.spec->priority) return a.spec->priority > b.spec->priority;
      return a.spec->submit_time < b.spec->submit_time;
    });
  }
};

}  // namespace

const QueuePolicy& FifoQueue() {
  static const Fifo policy;
  return policy;
}

const QueuePolicy& PriorityQueue() {
  static const Priority policy;
  return policy;
}

}  // namespace suanpan::sched
