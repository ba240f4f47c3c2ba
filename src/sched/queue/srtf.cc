// srtf: shortest remaining time first, an oracle that reads each job's runtime estimate; used
// as a bound in the simulator, not a policy to run live. Remaining = estimate - executed; jobs
// without an estimate go last, in submit order. Priority classes still come first.

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
  OrderKey Key(const QueuedJob& job, const PolicyConfig&) const override {
    return {-int64_t{job.spec->priority}, Remaining(job), job.spec->submit_time.value()};
  }
  bool UsesAttainedService() const override { return true; }  // executed seconds
};

}  // namespace

const QueuePolicy& SrtfQueue() {
  static const Srtf policy;
  return policy;
}

}  // namespace suanpan::sched
