#pragma once
// sched::Host: the one copy of everything around the scheduler (ARCHITECTURE.md, "The scheduling
// host"). The simulator and the control plane each wrap one; neither names a policy.
//
// It owns the cluster state, the queue (active, parked by quota, parked by capacity), the
// fair-share memory (UsageMemory), the attained service of queued and running jobs, the request
// sizes placement policies weigh, and the one place decisions are applied. Events go in, and
// decisions and "next round due at" times come out:
//
//   Submit(job, t)         a job joins the queue (or rejoins it, with the service it attained)
//   Resume(job, alloc, t)  a job that already holds devices (recovery after a restart)
//   EndRun(job, t, requeue) a running job's run ends: it leaves, or queues again keeping its
//                          attained service (preempted by its backend, lost, retried)
//   Withdraw(job)          a queued job leaves (cancelled)
//   Cordon / Uncordon(node) a node out of service / back (held whole by the system tenant)
//   Round(t)               one scheduling round; its decisions are applied before it returns:
//                          victims' runs end and they queue again, bound jobs start, rejected
//                          jobs leave
//   NextDue()              when a round is due for the policy (a running job's rank changes)
//
// Parking. A job whose tenant's quota blocks it waits outside the rounds until that tenant
// releases devices (admission's BlockedUntilRelease). A job the round found to fit nowhere and
// unable to preempt (Decisions::parkable) waits outside them too, until one of its segments
// releases capacity with room for its size (ClusterState::ReleaseVersion, FreeKey), a possible
// victim starts there, or its tenant releases devices (Kubernetes' unschedulable queue). The
// queue order is a merge in which a job that is not bound moves nobody else (policy.h), and the
// cursor still offers each tenant's first parked job while the round's reservation is open, so
// parking changes no decision, only the work: a parked job costs nothing until it may fit.
// The equivalence is tested against a host that does not park (Options::park_capacity).
//
// Pure and deterministic like the rest of sched/: time comes in as an argument.

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <unordered_map>
#include <vector>

#include "sched/host/parked_jobs.h"
#include "sched/host/usage_memory.h"
#include "sched/scheduler.h"

namespace suanpan::sched {

// What a job ran, as the host saw it: the metering truth of a scheduling decision.
struct RunRecord {
  JobId job;
  core::TenantId tenant;
  SegmentId segment;
  core::DeviceTypeId type;
  core::ProviderId provider;
  MilliDevices share = MilliDevices(0);
  Time start = Time(0);
  Time end = Time(0);
  // The provider's price when the run started (frozen for the run).
  std::optional<MicroYuan> price_per_device_hour;
  Allocation allocation;
};

// Service a job attained in runs that ended, carried across requeues and restarts.
struct JobHistory {
  int64_t attained_milli = 0;  // milli-device-seconds
  int64_t executed = 0;        // seconds
};

class Host {
 public:
  struct Options {
    bool park_capacity = true;
    bool park_quota = true;
  };

  Host(const core::Pool& pool, Scheduler scheduler);
  Host(const core::Pool& pool, Scheduler scheduler, Options options);
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // ---- events ----
  // `spec` must outlive its stay in the host and not change meanwhile.
  void Submit(const core::JobSpec& spec, Time now, JobHistory history = {});
  void Resume(const core::JobSpec& spec, const Allocation& allocation, Time start,
              JobHistory history = {});
  RunRecord EndRun(JobId job, Time now, bool requeue);
  void Withdraw(JobId job);
  // Holds the whole node (its jobs must have ended). Idempotent.
  void Cordon(core::NodeId node, Time now);
  void Uncordon(core::NodeId node);
  bool Cordoned(core::NodeId node) const { return cordons_.count(node.value()) > 0; }
  // Holds `devices` of the node's free devices for work outside suanpan (a delegated partner's
  // own jobs, or its engine reports the node down); 0 releases them. Fewer are held if fewer are
  // free. Returns how many are held now.
  int HoldExternal(core::NodeId node, int devices, Time now);
  int ExternallyHeld(core::NodeId node) const;

  struct RoundResult {
    Decisions decisions;
    std::vector<RunRecord> preempted;  // the victims' runs, ended at the round's time
    bool ran = false;                  // false when nothing was queued that a round could consider
    std::vector<JobId> parked_for_quota;  // set aside this round: their tenant's quota blocks them
  };
  RoundResult Round(Time now);
  // What tenants can pay, for the rounds (and what-ifs) from now on (admission/funds); nullopt:
  // no funds check. The control plane refreshes it before each round; the simulator as it rates.
  void SetFunds(std::optional<FundsInput> funds) { funds_ = std::move(funds); }
  std::optional<Time> NextDue();

  // ---- views ----
  const core::Pool& pool() const { return pool_; }
  const Scheduler& scheduler() const { return scheduler_; }
  const ClusterState& state() const { return state_; }
  bool Queued(JobId job) const;
  bool Running(JobId job) const { return state_.FindRunning(job) != nullptr; }
  // Attained service of a job (finished runs, plus the current one up to `now`).
  JobHistory HistoryOf(JobId job, Time now) const;
  size_t queued_count() const { return queued_; }
  size_t parked_count() const { return parked_.size() + parked_.quota_size(); }
  // Every queued job (active and parked) in id order, for what-ifs and the queue view.
  std::vector<QueuedJob> QueueSnapshot() const;
  // A what-if round over the whole queue (nothing parked, nothing applied), with earliest-start
  // estimates for `estimate_depth` waiting jobs: why a job waits and when it would start.
  Decisions WhatIf(Time now, int estimate_depth);
  // The order of the whole queue as a person reads it (QueueOrder) at `now`.
  std::vector<QueuedJob> Ordered(Time now);
  UsageHistory HistoryAt(Time now);
  // The decayed past use at `now` without moving the memory (a read: O(1), no copy).
  UsageHistory HistoryView(Time now) const { return memory_.View(now); }
  UsageMemory& usage_memory() { return memory_; }
  // For a capacity-parked job: the segments it waits for (empty otherwise).
  std::vector<SegmentId> ParkedOn(JobId job) const;
  uint64_t VerifiedAt(SegmentId s) const { return parked_.verified(s); }
  // Jobs with a worker on `node`.
  std::vector<JobId> JobsOn(core::NodeId node) const;

 private:
  struct Job {
    const core::JobSpec* spec = nullptr;
    enum class Place : uint8_t { kActive, kQuotaParked, kCapacityParked, kRunning };
    Place place = Place::kActive;
    JobHistory history;
    ParkedJobs::Entry parked;  // queued: hot copy, position, need, where parked
    uint64_t run_gen = 0;      // bumped at every start (stale rank timers are ignored)
  };
  Job& Get(JobId job);
  void Enqueue(Job& job);
  void RemoveFromQueue(Job& job);
  void Activate(Job& job);
  void Wake(ParkedJobs::Entry* entry);
  void Start(Job& job, const Allocation& alloc, Time now);
  RunRecord Stop(Job& job, Time now);
  // A tenant's use of `type` went down: parked jobs it may unblock come back.
  void TenantReleased(core::TenantId tenant, core::DeviceTypeId type);
  void Park(Job& job, bool behind, SegmentId behind_segment);
  void ArmRankTimer(Job& job, Time now);
  void RefreshQueued(Job& job);
  std::vector<double> SizeWeights() const;
  void CountSize(const core::JobSpec& spec, int sign);
  // Starts a system-tenant holder of `devices` (a mask) and the CPU and memory on the node.
  std::unique_ptr<core::JobSpec> Hold(core::NodeId node, uint64_t devices, MilliCpu cpu, MiB memory,
                                      JobId id, std::string name, Time now);

  const core::Pool& pool_;
  Scheduler scheduler_;
  Options options_;
  ClusterState state_;
  CandidateCache candidates_;
  UsageMemory memory_;
  ParkedJobs parked_;
  std::unordered_map<uint64_t, Job> jobs_;  // look-ups only, never iterated for decisions
  // The active jobs, per tenant in queue-key order: rounds read them in place, no copy or sort.
  class ActiveJobs final : public ActiveQueue {
   public:
    // Indexed by queue (core::QueueId): a tenant's own jobs, or one of its projects'.
    explicit ActiveJobs(const core::Pool& pool)
        : pool_(&pool), by_tenant_(pool.QueueCount()), hint_(pool.QueueCount()) {}
    void Add(Job& job);
    void Remove(Job& job);
    std::vector<core::TenantId> Tenants() const override;
    size_t size() const override { return size_; }
    std::optional<std::pair<QueuePosition, const QueuedJob*>> Next(
        core::TenantId tenant, const QueuePosition* after) const override;
    template <typename F>
    void ForEach(F f) const {
      for (const auto& m : by_tenant_) {
        for (const auto& [pos, job] : m) f(*job);
      }
    }
    bool empty() const { return size_ == 0; }

   private:
    const core::Pool* pool_;
    std::vector<std::map<QueuePosition, Job*>> by_tenant_;
    // [tenant]: the entry last returned, as a round walks each tenant's jobs in order (reset by
    // any change).
    mutable std::vector<std::optional<std::map<QueuePosition, Job*>::const_iterator>> hint_;
    size_t size_ = 0;
  };
  ActiveJobs active_;
  size_t queued_ = 0;
  std::vector<int64_t> size_counts_;  // workers queued, by devices per worker
  std::map<uint32_t, std::unique_ptr<core::JobSpec>> cordons_;  // node -> its holder
  // node -> (its holder, holding worker.devices; the devices asked for)
  std::map<uint32_t, std::pair<std::unique_ptr<core::JobSpec>, int>> external_;
  struct RankTimer {
    int64_t due;
    uint64_t job;
    uint64_t gen;
    bool operator>(const RankTimer& o) const { return due != o.due ? due > o.due : job > o.job; }
  };
  std::priority_queue<RankTimer, std::vector<RankTimer>, std::greater<>> rank_timers_;
  std::optional<FundsInput> funds_;
};

// Applies a round's decisions to a bare `state` (no host): finishes preempted victims and starts
// bound jobs at `now`. For one-shot callers (`suanpan plan`, benchmarks of the pure core).
void ApplyDecisions(ClusterState& state, const Decisions& decisions, Time now);

}  // namespace suanpan::sched
