#pragma once
// backfill/: the reservation of the blocked head, and when a job could start.
//   backfill/easy: EASY backfill (Lifka '95; Slurm's sched/backfill): the first job in order that
//   is blocked for capacity gets one reservation at its earliest start (the time enough running
//   jobs will have ended, by their expected runtimes); later jobs start only if they end before
//   it or keep off its nodes (Round::KeepsOff).
//   backfill/none: no reservation; small jobs may overtake the head forever.
// EarliestStart also answers "when will it start" for waiting jobs (estimates, what-ifs).

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "sched/round.h"

namespace suanpan::sched {

class BackfillPolicy {
 public:
  virtual ~BackfillPolicy() = default;
  virtual std::string_view name() const = 0;
  // Whether the blocked head gets a reservation.
  virtual bool Reserves() const = 0;
};

const BackfillPolicy& EasyBackfill();
const BackfillPolicy& NoBackfill();

// The earliest time `job` could start in one of `candidates`, and where, if running jobs (and
// those bound earlier in the round) end when expected: per segment, release its running jobs in
// order of expected end (on the undo log) until the job fits; the earliest segment wins, the
// cheapest on ties. O(k x (release + placement)) for the k releases needed.
//
// A segment's answer depends only on the segment (its version), the job and the round's time,
// so with `keep` it is kept across rounds (ClusterState::EarliestStartMemo): the blocked head is
// usually the same job round after round, and most rounds change none of its segments. A kept
// answer is reused exactly when recomputing it would give the same. Only the reservation's
// answers are kept: estimates for other waiting jobs are made after the round's binds, on
// versions no later round sees, and would only crowd the memo.
std::optional<std::pair<Time, Allocation>> EarliestStart(Round& round, const core::JobSpec& job,
                                                         const std::vector<Candidate>& candidates,
                                                         bool keep);

}  // namespace suanpan::sched
