#pragma once
// One scheduling round: the queue in policy order, and for each job the steps of policy.h:
//   1. federation: the segments that could ever hold the job, in the order to try them;
//   2. admission: those the job may use now (quota); none at all is Infeasible; then those its
//      tenant can pay for (funds), when the host passes funds;
//   3. placement in each admitted segment; with a reservation, a job that would still run at
//      the reserved start keeps off the reserved nodes (backfill);
//   4. preemption, when placement fails;
//   5. backfill: the first job that still does not fit gets the round's reservation.
// The Round is the state those steps share (reservation, jobs bound so far, victims, memos); the
// steps are small classes in admission/, federation/, preemption/ and backfill/ that read and
// extend it. Every tentative change is on the state's undo log and undone when the round ends.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "core/money.h"
#include "sched/decision.h"
#include "sched/policy.h"
#include "sched/queue/cursor.h"

namespace suanpan::sched {

class Scheduler;
class CandidateCache;

// A segment a job may be placed in, with what federation ordered it by.
struct Candidate {
  SegmentId segment;
  int64_t price = 0;      // micro-yuan per device-hour
  size_t preference = 0;  // position of its type in the job's list
};

struct Reservation {
  JobId job;
  Time start;
  SegmentId segment;
  std::vector<uint8_t> nodes;  // [node] != 0: held for the reservation
};

// A job bound earlier in this round (it ends too, for the reservation's earliest start).
struct BoundJob {
  const core::JobSpec* spec;
  Allocation allocation;
  Time expected_end;
};

// What tenants can pay, for admission/funds. Tenants whose funds are unlimited are not checked.
struct FundsInput {
  std::vector<core::TenantFunds> tenants;  // by tenant id (all of them)
  int64_t now_ms = 0;                      // vouchers valid at this time pay
  std::vector<int64_t> segment_price;      // by segment (-1 or missing: the candidate's price)
};

struct RoundInput {
  Time now = Time(0);
  const UsageHistory* history = nullptr;
  // Request-size popularity for placements that read it (frag_aware); null: from the queue.
  const std::vector<double>* size_weights = nullptr;
  // Candidate segments per job shape, kept across rounds by a host; null: one for this round.
  CandidateCache* candidates = nullptr;
  // Null: no funds check (admission/funds).
  const FundsInput* funds = nullptr;
};

class Round {
 public:
  Round(const Scheduler& scheduler, ClusterState& state, QueueCursor& cursor,
        const RoundInput& input, const std::vector<QueuedJob>* plain_queue);
  ~Round();
  Decisions Run();

  // ---- for the steps ----
  const Scheduler& scheduler() const { return scheduler_; }
  const PolicyConfig& config() const { return config_; }
  ClusterState& state() { return state_; }
  const ClusterState& state() const { return state_; }
  const core::Pool& pool() const { return pool_; }
  Time now() const { return now_; }
  const std::optional<Reservation>& reservation() const { return reservation_; }
  const std::vector<BoundJob>& bound() const { return bound_; }
  bool Preempted(JobId job) const { return preempted_.count(job.value()) > 0; }
  Decisions& decisions() { return decisions_; }

  // Tries the placement policy in one segment (counted in Decisions::placement_attempts).
  std::optional<Allocation> TryPlace(const core::JobSpec& job, SegmentId segment, bool excluded);
  // Cheap necessary condition: enough whole free devices (or any room for a fraction).
  static bool MayFitNow(const core::JobSpec& job, const Segment& seg);
  static int64_t NeedWhole(const core::JobSpec& job) {
    return job.worker.fractional() ? 1 : int64_t{job.workers} * job.worker.devices;
  }
  bool EndsBefore(const core::JobSpec& job, Time t) const {
    const auto runtime = job.ExpectedRuntime();
    return runtime && (now_ + *runtime) <= t;
  }
  // Whether `job` placed now must keep off the reserved nodes.
  bool KeepsOff(const core::JobSpec& job) const {
    return reservation_ && !EndsBefore(job, reservation_->start);
  }
  // Binds `job` in this round (the allocation is taken already).
  void Bind(const QueuedJob& queued, Allocation alloc, std::string reason);
  // Records a victim and gives its devices back (undoable).
  void Preempt(const RunningJob& victim, JobId for_job, std::string reason);
  // "cluster c1 (p, region), H100 on 2 nodes under 1 switch, 10.00 yuan/h"
  std::string Where(const Allocation& alloc) const;
  // "now" or "in 1h 40m".
  std::string When(Time t) const;
  const PlacementContext& Context(bool excluded);
  // Scratch kept for one round by a step (preemption/: the worst rank per segment).
  std::vector<int64_t>& max_rank_cache() { return max_rank_; }

 private:
  void ScheduleOne(const QueuedJob& queued);
  void Wait(const core::JobSpec& job, Outcome outcome, std::string reason,
            std::optional<Time> start = std::nullopt);
  bool ExplainNextWait();
  void EstimateWaiting();
  void ComputeSizeWeights();
  const std::string& CapacityReason(const core::JobSpec& job, const std::vector<Candidate>& cands);

  // A placement that failed in a segment fails again for as many or more workers of the same
  // shape until the segment gains capacity (only preemption does, within a round).
  struct ShapeKey {
    uint32_t segment;
    int devices;
    int64_t fraction, cpu, memory;
    bool excluded;
    auto operator<=>(const ShapeKey&) const = default;
  };
  static ShapeKey KeyOf(const core::JobSpec& job, SegmentId s, bool excluded) {
    return {s.value(),
            job.worker.devices,
            job.worker.fraction.value(),
            job.worker.cpu.value(),
            job.worker.memory.value(),
            excluded};
  }
  bool KnownToFail(const core::JobSpec& job, SegmentId s, bool excluded) const;
  void RememberFailure(const core::JobSpec& job, SegmentId s, bool excluded);
  void ForgetFailures(SegmentId s);

  const Scheduler& scheduler_;
  const PolicyConfig& config_;
  ClusterState& state_;
  const core::Pool& pool_;
  QueueCursor& cursor_;
  const std::vector<QueuedJob>* plain_queue_;
  const Time now_;
  CandidateCache* candidates_;
  std::unique_ptr<CandidateCache> own_candidates_;
  const std::vector<double>* given_weights_;
  Decisions decisions_;
  std::optional<Reservation> reservation_;
  bool reservation_attempted_ = false;
  std::vector<BoundJob> bound_;
  std::unordered_set<uint64_t> preempted_;  // look-ups only
  std::vector<double> size_weights_;
  PlacementContext context_;
  int estimates_left_ = 0;
  struct Estimate {
    size_t decision;
    const core::JobSpec* job;
    std::vector<Candidate> candidates;
  };
  std::vector<Estimate> estimates_;
  std::map<ShapeKey, int> failed_;  // ShapeKey -> fewest workers that failed
  std::map<std::vector<int64_t>, std::string> capacity_reasons_;
  int64_t waits_explained_ = 0;
  std::optional<JobId> blocked_;  // head-of-line blocking: the job everything waits behind
  std::vector<int64_t> max_rank_;
  const FundsInput* funds_;
  std::map<uint32_t, MicroYuan> spent_;  // tenant -> estimates of the jobs bound this round
};

}  // namespace suanpan::sched
