#pragma once
// QueueCursor: a round's queued jobs in the queue policy's order (policy.h): a merge of the
// tenants' queues, each sorted by QueuePolicy::Key(), by key or by dominant share.
//
// Plain, over a vector of queued jobs: Scheduler::Schedule(state, queue, ...), what-ifs and
// `suanpan plan`. With a ParkedQueue (the scheduling host's capacity-parked jobs): the parked
// jobs are merged in as well, but only those that may fit again (a segment they wait for was
// released since, and now has room for their size) and, while the round has not yet tried its
// one reservation, each tenant's first parked job (one of them may be the blocked head). Every
// other parked job is known to fail and is left out, at no cost. Because a job that is not bound
// moves nobody else in the order, leaving them out changes no decision (sched::Host).
//
// Cost: O(n log n) to build over n active jobs; per emitted job O(log T) plus the parked
// queue's look-ups.

#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <tuple>
#include <vector>

#include "sched/policy.h"
#include "sched/queue/queues.h"

namespace suanpan::sched {

struct QueuePosition {
  OrderKey key{};
  uint64_t id = 0;
  auto operator<=>(const QueuePosition&) const = default;
};

class ParkedQueue {
 public:
  struct Entry {
    const QueuedJob* job = nullptr;
    QueuePosition position;
    // Why it is offered: room on segment `via` for `need` milli-devices, or (no `via`) the round's
    // open reservation or its tenant's release. A cursor may keep the answer while that holds.
    std::optional<SegmentId> via;
    int64_t need = 0;
    bool for_reservation = false;
    bool behind = false;
  };
  virtual ~ParkedQueue() = default;
  // Tenants that have parked jobs.
  virtual std::vector<core::TenantId> Tenants() const = 0;
  // The first parked job of `tenant` after `after` (none: from the start) that may fit now; with
  // `first_blocked`, also the first one parked for capacity at all (it may be the round's blocked
  // head); with `tenant_released`, any of its jobs, parked for capacity or for quota (its use
  // went down during the round).
  // With `behind_open`, also any job parked behind a reservation (the round has made none yet,
  // or another one than they wait behind).
  virtual std::optional<Entry> Next(core::TenantId tenant, const QueuePosition* after,
                                    bool first_blocked, bool tenant_released, bool behind_open,
                                    const ClusterState& state) const = 0;
  // The reservation the jobs parked behind one wait behind.
  virtual std::optional<uint64_t> BehindSignature() const = 0;
  // Whether an entry offered through `via` still has room there (capacity only shrinks within
  // a round between releases).
  virtual bool MayFit(const Entry& entry, const ClusterState& state) const = 0;
  // Whether `job` (parked) is known not to fit segment `s` as it is now.
  virtual bool KnownToFail(const QueuedJob& job, SegmentId s, const ClusterState& state) const = 0;
  // Tenants with jobs parked on segment `s`.
  virtual std::vector<core::TenantId> TenantsOn(SegmentId s) const = 0;
  // Segment `s` released capacity during the round: its parked jobs that now fit may be offered.
  virtual void ReleasedInRound(SegmentId s, const ClusterState& state) = 0;
};

// The active (not parked) queued jobs, per tenant in key order.
class ActiveQueue {
 public:
  virtual ~ActiveQueue() = default;
  virtual std::vector<core::TenantId> Tenants() const = 0;
  virtual size_t size() const = 0;
  // The first active job of `tenant` after `after` (none: its first).
  virtual std::optional<std::pair<QueuePosition, const QueuedJob*>> Next(
      core::TenantId tenant, const QueuePosition* after) const = 0;
};

struct QueueContext {
  const ClusterState& state;
  const UsageHistory* history;  // may be null
  const PolicyConfig& config;
  Time now;
};

class QueueCursor {
 public:
  // Over a plain queue (sorted here).
  QueueCursor(const QueuePolicy& policy, const QueueContext& context,
              const std::vector<QueuedJob>& active);
  // Over a host's queue: its active jobs and its parked ones.
  QueueCursor(const QueuePolicy& policy, const QueueContext& context, const ActiveQueue& active,
              ParkedQueue* parked);
  ~QueueCursor();

  // The next job in order; nullptr at the end. `reservation_open`: the round has not tried its
  // reservation yet.
  const QueuedJob* Next(bool reservation_open);
  // The job last returned was bound on devices of `type`: its tenant's share grows.
  void Bound(const QueuedJob& job, core::DeviceTypeId type);
  // Devices of segment `s` were released during the round (preemption): parked jobs may fit.
  void Released(SegmentId s);
  // The round's reservation is settled: made (its signature), or none can be promised.
  void ReservationSettled(std::optional<uint64_t> signature);
  // A tenant's devices were released during the round (its job was preempted): its parked jobs
  // may be admitted to more segments, or reclaim their guarantee, now.
  void TenantReleased(core::TenantId tenant);
  bool KnownToFail(const QueuedJob& job, SegmentId s) const {
    return parked_ != nullptr && parked_->KnownToFail(job, s, context_.state);
  }
  // Active jobs not handed out yet (parked ones aside).
  size_t remaining_active() const { return active_->size() - emitted_active_; }
  bool parks() const { return parked_ != nullptr; }
  // The parked jobs this cursor handed to the round (their owner re-parks or wakes them).
  const std::vector<const QueuedJob*>& emitted_parked() const { return emitted_parked_; }

 private:
  // (priority, tenant share, tenant, queue share, then the key's order and the job id).
  using MergeKey = std::tuple<int64_t, double, int64_t, double, int64_t, int64_t, uint64_t>;
  struct Head {
    const QueuedJob* job;
    QueuePosition position;
    bool active;
  };
  struct HeapEntry {
    MergeKey key;
    uint32_t tenant;
    uint64_t stamp;
    bool operator>(const HeapEntry& o) const {
      return key != o.key ? key > o.key : tenant > o.tenant;
    }
  };
  std::optional<Head> HeadOf(uint32_t tenant) const;
  MergeKey MergeOf(uint32_t tenant, const Head& head) const;
  void Push(uint32_t tenant);

  const QueuePolicy& policy_;
  QueueContext context_;
  ParkedQueue* parked_;
  void Init();
  std::optional<DominantShares> shares_;
  std::unique_ptr<ActiveQueue> owned_;  // the plain queue's index
  const ActiveQueue* active_;
  std::vector<std::optional<QueuePosition>> last_;  // [tenant]
  std::vector<uint64_t> stamp_;                     // [tenant]
  std::vector<uint8_t> released_tenant_;            // [tenant]
  // Each tenant's next parked job as last looked up, kept while it is still offered.
  mutable std::vector<std::optional<ParkedQueue::Entry>> parked_head_;  // [tenant]
  mutable std::vector<uint8_t> parked_head_known_;                      // [tenant]
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, std::greater<>> heap_;
  bool reservation_open_ = true;
  bool behind_open_ = true;
  size_t emitted_active_ = 0;
  std::vector<const QueuedJob*> emitted_parked_;
  // The merge key and position of the last job handed out: the merge has passed every slot up
  // to it, so a parked job that may fit only since then (a release in the round) is not offered
  // out of order: a plain queue looked at it when it did not fit.
  std::optional<MergeKey> current_;
  std::optional<QueuePosition> current_position_;
};

// The order of `queue` as indexes, most urgent first, if every job were bound in turn on its
// first acceptable type (what the queue looks like to a person: GET /v1/queue, tests).
std::vector<size_t> QueueOrder(const QueuePolicy& policy, const std::vector<QueuedJob>& queue,
                               const QueueContext& context);

}  // namespace suanpan::sched
