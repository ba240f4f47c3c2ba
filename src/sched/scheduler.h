#pragma once
// The scheduling core: one pure, deterministic round.
//
//   Decisions Schedule(state, queue, now, history)
//
// For each queued job, most urgent first (queue/), the steps of round.h: federation (candidate
// segments, cheapest first), admission (quota), placement, preemption, backfill (the blocked
// head's reservation). Outcomes and reasons are in decision.h.
//
// The state is a scratch pad: every tentative change is undone before Schedule returns, so the
// caller applies the Bind and Preempt decisions itself (sched::Host does it for the simulator
// and the control plane). The one thing a round leaves in it is a memo of the blocked head's
// earliest start per segment, reused while the segment's version is unchanged; it never changes
// a decision, only saves work.
// Deterministic: the same state, queue, time and history give the same decisions.
// Cost: O(Q log Q) ordering + per job O(candidate segments x placement) + for the reserved head
// O(R log R + R x placement) over R running jobs.

#include <memory>
#include <vector>

#include "base/status.h"
#include "sched/admission/admission.h"
#include "sched/backfill/backfill.h"
#include "sched/decision.h"
#include "sched/federation/federation.h"
#include "sched/policy.h"
#include "sched/preemption/preemption.h"
#include "sched/queue/cursor.h"
#include "sched/round.h"

namespace suanpan::sched {

class Scheduler {
 public:
  // Resolves the named policies; InvalidArgument names an unknown policy or a bad value.
  static StatusOr<Scheduler> Create(PolicyConfig config);

  const PolicyConfig& config() const { return config_; }
  const QueuePolicy& queue_policy() const { return *queue_; }
  const PlacementPolicy& placement_policy() const { return *placement_; }
  const AdmissionPolicy& admission() const { return *admission_; }
  const FederationPolicy& federation() const { return *federation_; }
  const PreemptionPolicy& preemption() const { return *preemption_; }
  const BackfillPolicy& backfill() const { return *backfill_; }
  // "queue/fair_share placement/topology_pack admission/quota federation/price
  // preemption/gang backfill/easy": what a report names.
  std::string Describe() const;

  // A round over a plain queue. The queued jobs' specs must not change while they stay queued:
  // the earliest starts kept across rounds (ClusterState::EarliestStartMemo) are keyed by the
  // spec's address and id.
  Decisions Schedule(ClusterState& state, const std::vector<QueuedJob>& queue, Time now,
                     const UsageHistory* history = nullptr,
                     const FundsInput* funds = nullptr) const;
  // A round over a cursor (a host's queue with its parked jobs).
  Decisions Schedule(ClusterState& state, QueueCursor& cursor, const RoundInput& input) const;

 private:
  Scheduler() = default;
  PolicyConfig config_;
  const QueuePolicy* queue_ = nullptr;
  const PlacementPolicy* placement_ = nullptr;
  const AdmissionPolicy* admission_ = nullptr;
  const FederationPolicy* federation_ = nullptr;
  const PreemptionPolicy* preemption_ = nullptr;
  const BackfillPolicy* backfill_ = nullptr;
};

// True when no acceptable type can admit the job now because the tenant's use of it plus the job
// would pass the type's quota max (and at least one type could admit it at all, else the job is
// infeasible, not blocked). O(acceptable types). (admission/quota's BlockedUntilRelease.)
bool BlockedByQuota(const ClusterState& state, const core::JobSpec& job);

}  // namespace suanpan::sched
