#pragma once
// The scheduling host's parked jobs (host.h, "Parking"): those set aside for capacity, indexed
// for the questions a round and the host's events ask, and those set aside for their tenant's
// quota (offered only when the tenant releases devices during a round):
//   - which parked jobs may fit again: per segment by size, so that a segment that released
//     capacity (its release version moved past the one its parked jobs were last checked at)
//     offers only the jobs no larger than its FreeKey(); collected once per round into each
//     tenant's wake list, in queue order (BeginRound);
//   - each tenant's first parked job, for the round's reservation;
//   - which parked jobs a newly started job could be a victim for: per segment by priority,
//     and per (segment, tenant) by size for tenants with a guarantee of the segment's type;
//   - which parked jobs a tenant's release may unblock: guarantees, and jobs its quota kept off
//     some of their types.
// Iteration is over ordered containers keyed by positions and ids: deterministic.

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sched/queue/cursor.h"

namespace suanpan::sched {

class ParkedJobs final : public ParkedQueue {
 public:
  // A queued job's hot copy: what a round needs without chasing its spec, and where it is parked.
  struct Entry {
    QueuedJob queued;
    QueuePosition position;
    int64_t need = 0;           // milli-devices (Round::NeedWhole x 1000, or the fraction)
    int devices = 0;            // per worker (0: a fraction of one)
    int workers = 1;
    std::vector<SegmentId> on;  // the segments it was admitted to and failed on
    bool quota_limited = false;  // its tenant's quota kept it off some of its candidates
    bool parked = false;
    bool for_quota = false;  // parked because its tenant's quota blocks it (no `on`)
    uint64_t listed = 0;     // the round whose wake list holds it
    bool behind = false;     // it fits but for the reserved nodes (of behind_segment)
    SegmentId behind_segment;
  };

  explicit ParkedJobs(const ClusterState& state);

  void Park(Entry* entry);
  void ParkForQuota(Entry* entry);
  void Unpark(Entry* entry);
  size_t size() const { return by_id_.size(); }  // parked for capacity
  size_t quota_size() const { return quota_count_; }
  // The jobs `tenant` has parked for quota.
  std::vector<Entry*> ForQuota(core::TenantId tenant) const;
  uint64_t verified(SegmentId s) const { return verified_[s.value()]; }

  // Parked jobs that a job just started on `s` could be a victim for.
  std::vector<Entry*> PossibleVictimStarted(SegmentId s, const core::JobSpec& started) const;
  // Parked jobs that `tenant`'s release of devices of `type` may unblock.
  std::vector<Entry*> TenantReleased(core::TenantId tenant, core::DeviceTypeId type) const;
  std::vector<Entry*> All() const;
  // Before a round: the wake lists of the jobs that may fit. O(jobs listed x log).
  void BeginRound(const ClusterState& state);
  // During a round, `s` released capacity (preemption): its jobs that fit its room join the lists.
  void ReleasedInRound(SegmentId s, const ClusterState& state) override;
  // After a round's decisions are applied: every segment but those that released capacity during
  // the round has had each of its parked jobs either tried or shown too large, at its current
  // release version.
  void Verify(const std::vector<uint8_t>& released_in_round);

  // ParkedQueue.
  std::vector<core::TenantId> Tenants() const override;
  std::optional<ParkedQueue::Entry> Next(core::TenantId tenant, const QueuePosition* after,
                                         bool first_blocked, bool tenant_released,
                                         bool behind_open,
                                         const ClusterState& state) const override;
  std::optional<uint64_t> BehindSignature() const override { return behind_signature_; }
  bool MayFit(const ParkedQueue::Entry& entry, const ClusterState& state) const override;
  // The reservation the jobs parked behind one wait behind: its digest and reserved nodes.
  void SetBehind(std::optional<uint64_t> signature, const std::vector<core::NodeId>& nodes) {
    behind_signature_ = signature;
    behind_nodes_ = nodes;  // a node holds several workers of a gang: once each
    std::sort(behind_nodes_.begin(), behind_nodes_.end());
    behind_nodes_.erase(std::unique(behind_nodes_.begin(), behind_nodes_.end()),
                        behind_nodes_.end());
  }
  size_t behind_size() const;
  bool KnownToFail(const QueuedJob& job, SegmentId s, const ClusterState& state) const override;
  std::vector<core::TenantId> TenantsOn(SegmentId s) const override;

 private:
  using ByPosition = std::map<QueuePosition, Entry*>;
  bool GuaranteeMatters(core::TenantId tenant, SegmentId s) const;
  void List(SegmentId s, const ClusterState& state, std::vector<uint8_t>* touched);
  // Whether `e` could fit segment `s` now by its size: enough room for a fraction, or enough
  // nodes with `devices` free for its workers (off the reserved nodes when it waits behind the
  // reservation there). A necessary condition only.
  bool RoomFor(const Entry& e, SegmentId s, const ClusterState& state) const;
  int64_t CapacityOffReservation(SegmentId s, int d, const ClusterState& state) const;
  // Whether `e` waits behind the reservation on `s` (where it would fit but for reserved nodes).
  static bool BehindOn(const Entry& e, SegmentId s) { return e.behind && e.behind_segment == s; }

  const ClusterState& state_;
  std::vector<uint64_t> verified_;                           // [segment]
  // [segment]: (devices per worker, workers) -> jobs; fractions under (0, fraction).
  using ByShape = std::map<std::pair<int, int>, ByPosition>;
  std::vector<ByShape> by_shape_;
  std::vector<ByShape> by_shape_behind_;  // [segment]: those behind its reservation
  // [tenant]: skip pointers over the wake list (an entry seen without room keeps none until a
  // release), so that a look-up does not walk the same stale entries again.
  mutable std::vector<std::vector<uint32_t>> skip_;
  std::vector<core::NodeId> behind_nodes_;
  std::vector<std::map<uint32_t, size_t>> tenants_on_;       // [segment]: tenant -> jobs
  // [tenant]: this round's jobs that may fit, by position (entries may have gone stale since).
  std::vector<std::vector<std::pair<QueuePosition, Entry*>>> wake_;
  uint64_t round_ = 0;
  std::vector<ByPosition> first_;                                   // [tenant]
  std::vector<std::map<std::pair<int, uint64_t>, Entry*>> by_priority_;  // [segment]
  // [segment][tenant] (share, id) for tenants with a guarantee of the segment's type.
  std::vector<std::map<uint32_t, std::map<std::pair<int64_t, uint64_t>, Entry*>>> guarantee_;
  std::vector<std::map<uint64_t, Entry*>> quota_limited_;  // [tenant]
  std::vector<ByPosition> for_quota_;                      // [tenant]
  std::vector<ByPosition> behind_;                         // [tenant]
  std::optional<uint64_t> behind_signature_;
  size_t quota_count_ = 0;
  std::unordered_map<uint64_t, Entry*> by_id_;             // look-ups only
};

}  // namespace suanpan::sched
