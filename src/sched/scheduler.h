#pragma once
// The scheduling core: one pure, deterministic round.
//
//   Decisions Schedule(state, queue, now, history)
//
// For each queued job, most urgent first (queue policy):
//   1. Feasibility: some acceptable type has a cluster big enough and a quota max that holds the
//      job; otherwise Reject (Infeasible) with the reason.
//   2. Admission: the tenant's use of the type plus the job must stay within its quota max.
//      Use beyond `guaranteed` is borrowing: allowed while capacity is idle, taken back by
//      preemption when an owner needs its guarantee.
//   3. Federation: candidate segments (cluster x type) are tried cheapest first (price per
//      device-hour of the provider, then the job's order of types, then id); all start now, so
//      "earliest start, then price" reduces to price. A gang never spans two clusters.
//   4. Placement (placement policy) in the segment; with an active reservation, a job that would
//      still run at the reserved start may not use the reserved nodes (backfill).
//   5. Preemption, when placement fails: victims are whole jobs (a gang goes whole or not at
//      all), preemptible, of a lower priority class, or of the same class in a worse service
//      queue (2D-LAS), or borrowing beyond their tenant's guarantee while this job is within its
//      own. Victims are ordered over-quota first, then lower priority, then cheapest (devices x
//      work lost since the last checkpoint, plus restore cost), then newest; the shortest prefix
//      that makes room is taken and then trimmed of victims that were not needed.
//   6. Backfill: the first job that still does not fit gets a reservation at its earliest start
//      (the time enough running jobs will have ended, by their expected runtimes); later jobs
//      start only if they end before it or keep off its nodes.
//
// The state is a scratch pad: every tentative change is undone before Schedule returns, so the
// caller applies the Bind and Preempt decisions itself (ClusterState::Start / Finish). The one
// thing a round leaves in it is a memo of the blocked head's earliest start per segment, reused
// while the segment's version is unchanged; it never changes a decision, only saves work.
// Deterministic: the same state, queue, time and history give the same decisions.
// Cost: O(Q log Q) ordering + per job O(candidate segments x placement) + for the reserved head
// O(R log R + R x placement) over R running jobs.

#include <memory>
#include <vector>

#include "base/status.h"
#include "sched/decision.h"
#include "sched/policy.h"

namespace suanpan::sched {

class Scheduler {
 public:
  // Resolves the named policies; InvalidArgument names an unknown policy or a bad value.
  static StatusOr<Scheduler> Create(PolicyConfig config);

  const PolicyConfig& config() const { return config_; }
  const QueuePolicy& queue_policy() const { return *queue_; }
  const PlacementPolicy& placement_policy() const { return *placement_; }

  // The queued jobs' specs must not change while they stay queued: the earliest starts kept
  // across rounds (ClusterState::EarliestStartMemo) are keyed by the spec's address and id.
  Decisions Schedule(ClusterState& state, const std::vector<QueuedJob>& queue, Time now,
                     const UsageHistory* history = nullptr) const;

 private:
  Scheduler(PolicyConfig config, const QueuePolicy* queue, const PlacementPolicy* placement)
      : config_(std::move(config)), queue_(queue), placement_(placement) {}
  PolicyConfig config_;
  const QueuePolicy* queue_;
  const PlacementPolicy* placement_;
};

// True when no acceptable type can admit the job now because the tenant's use of it plus the job
// would pass the type's quota max (and at least one type could admit it at all, else the job is
// infeasible, not blocked). Only a release of the tenant's devices (or a quota change) can change
// the answer, so a caller may set such a job aside until then instead of handing it to every
// round. O(acceptable types).
bool BlockedByQuota(const ClusterState& state, const core::JobSpec& job);

// Applies a round's decisions to `state`: finishes preempted victims and starts bound jobs at
// `now`. O(decisions x workers x log nodes).
void ApplyDecisions(ClusterState& state, const Decisions& decisions, Time now);

}  // namespace suanpan::sched
