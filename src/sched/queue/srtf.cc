// srtf: shortest remaining time first, an oracle that reads each job's runtime estimate; used
// as a bound in the simulator, not a policy to run live. Remaining = estimate - executed; jobs
// without an estimate go last, in submit order. Priority classes still come first.
// O(n log n).

#include <algorithm>

#include "sched/queue/queues.h"

namespace suanpan::sched {
namespace {

int64_t Remaining(const QueuedJob& j) {
  const auto runtime = j.spec->ExpectedRuntime();
  if (!runtime) return kNever.value();
  return std::max<int64_t>(0, runtime->value() - j.executed.value());
}

class Srtf final : public QueuePolicy {
 public:
  std::string_view name() const override { return "srtf"; }
  std::vector<size_t> Order(const std::vector<QueuedJob>& queue,
                            const QueueContext&) const override {
    return SortedOrder(queue, [](const QueuedJob& a, const QueuedJob& b) {
      if (a.spec->priority != b.spec->priority) return a.spec->priority > b.spec->priority;
      const int64_t ra = Remaining(a), rb = Remaining(b);
      if (ra != rb) return ra < rb;
      return a.spec->submit_time < b.spec->submit_time;
    });
  }
};

}  // namespace

const QueuePolicy& SrtfQueue() {
  static const Srtf policy;
  return policy;
}

}  // namespace suanpan::sched
