#pragma once
// What one scheduling round decides. Every decision carries a reason a tenant can read.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sched/index/cluster_state.h"

namespace suanpan::sched {

// Placement outcomes (STYLE.md 6): Placed now; Wait, with the earliest start when runtimes are
// known; Unschedulable: not now and no start can be promised; Infeasible: never on this pool.
enum class Outcome { kPlaced, kWait, kUnschedulable, kInfeasible };
std::string_view OutcomeName(Outcome outcome);

enum class DecisionKind {
  kBind,     // start `job` on `allocation` now
  kPreempt,  // stop `job` (a victim) to make room for `for_job`
  kReserve,  // `job` is the blocked head: devices are held for it from `earliest_start`
  kWait,     // `job` stays queued (outcome Wait or Unschedulable)
  kReject,   // `job` can never run here (outcome Infeasible)
};
std::string_view DecisionKindName(DecisionKind kind);

struct Decision {
  DecisionKind kind = DecisionKind::kWait;
  Outcome outcome = Outcome::kWait;
  JobId job;
  const core::JobSpec* spec = nullptr;   // kBind: the job (owned by the caller's queue)
  std::optional<Allocation> allocation;  // kBind: where; kReserve: the planned placement
  std::optional<Time> earliest_start;    // kReserve, kWait when known
  JobId for_job;                         // kPreempt: the job the victim makes room for
  std::string reason;
};

struct Decisions {
  std::vector<Decision> items;
  int64_t binds = 0;
  int64_t preemptions = 0;
  int64_t waits = 0;
  int64_t rejects = 0;
  int64_t placement_attempts = 0;
  int64_t considered = 0;  // queued jobs the round looked at
  // Jobs that fit nowhere now and cannot preempt: nothing but a change to one of their segments
  // (capacity released, a new possible victim) or to their tenant's use can let them start, so
  // a host may set them aside until then (sched::Host). Capacity-blocked waits only; a job that
  // would fit but for the reserved nodes is `behind_reservation`: it also waits for the
  // reservation to change.
  struct Parkable {
    JobId job;
    bool behind_reservation = false;
  };
  std::vector<Parkable> parkable;
  // The round's reservation, if it made one: a digest of (job, start, segment, nodes).
  std::optional<uint64_t> reservation_signature;
  SegmentId reservation_segment;
};

}  // namespace suanpan::sched
