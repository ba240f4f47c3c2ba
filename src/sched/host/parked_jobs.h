#pragma once
// The scheduling host's parked jobs (host.h, "Parking"): those set aside for capacity, indexed
// for the questions a round and the host's events ask, and those set aside for their tenant's
// quota (offered only when the tenant releases devices during a round):
//   - which parked jobs may fit again: per segment, tenant and shape (devices per worker and
//     workers, or the fraction), in queue order. A segment that released capacity (its release
//     version moved past the one its parked jobs were last checked at) offers, for each tenant,
//     the first job of each shape that has room there now; a shape without room is closed for
//     the rest of the round (room only shrinks between releases). Nothing is collected or
//     sorted per round: a round pays for the tenants and shapes it asks about;
//   - each tenant's first parked job, for the round's reservation;
//   - which parked jobs a newly started job could be a victim for: per segment by priority,
//     and per (segment, tenant) by size for tenants with a guarantee of the segment's type;
//   - which parked jobs a tenant's release may unblock: guarantees, and jobs its quota kept off
//     some of their types.
// Iteration is over ordered containers keyed by positions and ids: deterministic.

#include <algorithm>
#include <map>
#include <optional>
#include <set>
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
    int64_t need = 0;  // milli-devices (Round::NeedWhole x 1000, or the fraction)
    int devices = 0;   // per worker (0: a fraction of one)
    int workers = 1;
    std::vector<SegmentId> on;   // the segments it was admitted to and failed on
    bool quota_limited = false;  // its tenant's quota kept it off some of its candidates
    bool parked = false;
    bool for_quota = false;  // parked because its tenant's quota blocks it (no `on`)
    bool behind = false;     // it fits but for the reserved nodes (of behind_segment)
    SegmentId behind_segment;
  };

  // Indexed by queue (core::QueueId: a tenant's own, or a project's); the ParkedQueue methods'
  // "tenant" is such a queue.
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
  // Before a round: the segments that released capacity since they were last verified.
  // O(segments).
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
                                         bool first_blocked, bool tenant_released, bool behind_open,
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
  // A parked job's shape on a segment: devices per worker (0: a fraction) and workers (or the
  // fraction's milli-devices), and whether it waits behind the reservation there.
  struct Shape {
    int devices = 0;
    int size = 0;
    bool behind = false;
    auto operator<=>(const Shape&) const = default;
  };
  using ByShape = std::map<Shape, ByPosition>;
  static Shape ShapeOn(const Entry& e, SegmentId s) {
    return {e.devices, e.devices > 0 ? e.workers : static_cast<int>(e.need), BehindOn(e, s)};
  }
  bool RoomForShape(const Shape& shape, SegmentId s, const ClusterState& state) const;
  // This round's buckets of `tenant` on the released segments (built on first use).
  // The maps do not change during a round (jobs are parked and unparked after it), so an open
  // bucket keeps an iterator: its first job after the last `after` asked about.
  struct Open {
    const ByPosition* jobs;
    SegmentId segment;
    Shape shape;
    ByPosition::const_iterator next;  // its first job after `from`
    std::optional<QueuePosition> from;
    bool closed = false;        // no room: closed until the next release
    uint64_t room_version = 0;  // the segment version `room` was found at (0: never)
    bool room = false;
  };
  std::vector<Open>& OpenFor(uint32_t tenant) const;
  void AddOpen(uint32_t tenant, SegmentId s) const;
  bool GuaranteeMatters(core::TenantId tenant, SegmentId s) const;
  // Milli-devices of `type` the queue may still take within a guarantee (its tenant's, or its
  // project's inside the tenant).
  int64_t GuaranteeRoom(core::QueueId queue, core::DeviceTypeId type) const;
  // Whether `e` could fit segment `s` now by its size: enough room for a fraction, or enough
  // nodes with `devices` free for its workers (off the reserved nodes when it waits behind the
  // reservation there). A necessary condition only.
  bool RoomFor(const Entry& e, SegmentId s, const ClusterState& state) const;
  int64_t CapacityOffReservation(SegmentId s, int d, const ClusterState& state) const;
  // Whether `e` waits behind the reservation on `s` (where it would fit but for reserved nodes).
  static bool BehindOn(const Entry& e, SegmentId s) { return e.behind && e.behind_segment == s; }

  const ClusterState& state_;
  std::vector<uint64_t> verified_;  // [segment]
  // [segment]: tenant -> shape -> jobs by position (look-ups only, never iterated across tenants).
  std::vector<std::unordered_map<uint32_t, ByShape>> buckets_;
  std::vector<core::NodeId> behind_nodes_;
  std::vector<std::map<uint32_t, size_t>> tenants_on_;  // [segment]: tenant -> jobs
  std::vector<SegmentId> released_;  // this round's segments whose release version moved
  // [segment]: how many parked jobs of each shape wait there; and, for the released segments,
  // the shapes that had room when the segment was found released (at the round's start, or at a
  // release during the round): the only ones offered, as a wake list built then would hold.
  std::vector<std::map<Shape, int64_t>> shapes_;
  std::vector<std::set<Shape>> woken_;
  void Wake(SegmentId s, const ClusterState& state);
  uint64_t round_ = 0;                           // bumped at each round
  mutable std::vector<std::vector<Open>> open_;  // [tenant]
  mutable std::vector<uint64_t> open_round_;     // [tenant]: the round `open_` is for
  std::vector<ByPosition> first_;                // [tenant]
  std::vector<std::map<std::pair<int, uint64_t>, Entry*>> by_priority_;  // [segment]
  // [segment][tenant] (share, id) for tenants with a guarantee of the segment's type.
  std::vector<std::map<uint32_t, std::map<std::pair<int64_t, uint64_t>, Entry*>>> guarantee_;
  std::vector<std::map<uint64_t, Entry*>> quota_limited_;  // [tenant]
  std::vector<ByPosition> for_quota_;                      // [tenant]
  std::vector<ByPosition> behind_;                         // [tenant]
  std::optional<uint64_t> behind_signature_;
  size_t quota_count_ = 0;
  std::unordered_map<uint64_t, Entry*> by_id_;  // look-ups only
};

}  // namespace suanpan::sched
