// fifo: by submit time. priority: by priority class (higher first), then submit time.
// Ties end on the job id. Keys are constant while a job waits.

#include "sched/queue/queues.h"

namespace suanpan::sched {
namespace {

class Fifo final : public QueuePolicy {
 public:
  std::string_view name() const override { return "fifo"; }
  OrderKey Key(const QueuedJob& job, const PolicyConfig&) const override {
    return {job.spec->submit_time.value(), 0, 0};
  }
};

class Priority final : public QueuePolicy {
 public:
  std::string_view name() const override { return "priority"; }
  OrderKey Key(const QueuedJob& job, const PolicyConfig&) const override {
    return {-int64_t{job.spec->priority}, job.spec->submit_time.value(), 0};
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
