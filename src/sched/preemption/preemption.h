#pragma once
// preemption/: making room for a job that does not fit by stopping running ones.
//   preemption/gang: victims are whole jobs (a gang goes whole or not at all), preemptible, of a
//   lower priority class, or of the same class in a worse service queue (2D-LAS rank), or
//   borrowing beyond their tenant's guarantee while this job is within its own. Victims are
//   ordered over-quota first, then lower priority, then cheapest (devices x work lost since the
//   last checkpoint, plus restore cost), then newest; the shortest prefix that makes room is
//   taken and then trimmed of victims that were not needed; the segment needing the fewest (then
//   cheapest) victims wins.
//   preemption/none: never.

#include <string_view>
#include <vector>

#include "sched/round.h"

namespace suanpan::sched {

class PreemptionPolicy {
 public:
  virtual ~PreemptionPolicy() = default;
  virtual std::string_view name() const = 0;
  // Whether any running job in the candidate segments could be a victim for `queued` at all.
  // O(candidates). A job for which this is false and that fits nowhere stays blocked until a
  // segment changes (a host relies on it to set the job aside).
  // `max_rank` caches the worst rank per segment for one state (empty: not computed yet).
  virtual bool MayPreempt(const ClusterState& state, const Scheduler& scheduler,
                          const QueuedJob& queued, const std::vector<Candidate>& candidates,
                          std::vector<int64_t>& max_rank) const = 0;
  // Preempts victims (Round::Preempt) and binds the job (Round::Bind) when some set of victims
  // makes room; returns false with nothing changed otherwise.
  virtual bool TryPreempt(Round& round, const QueuedJob& queued,
                          const std::vector<Candidate>& candidates) const = 0;
};

const PreemptionPolicy& GangPreemption();
const PreemptionPolicy& NoPreemption();

// Work a victim loses if stopped now, in device-seconds, plus the restore it will need.
int64_t PreemptionCost(const RunningJob& r, Time now);

}  // namespace suanpan::sched
