#pragma once
// The scheduling host's capacity-parked jobs (host.h, "Parking"), indexed for the questions a
// round and the host's events ask:
//   - which parked jobs of a tenant may fit again: per (tenant, segment) by size, so that a
//     segment that released capacity (its release version moved past the one the parked jobs
//     were last checked at) offers only the jobs no larger than its FreeKey();
//   - each tenant's first parked job, for the round's reservation;
//   - which parked jobs a newly started job could be a victim for: per segment by priority,
//     and per (segment, tenant) by size for tenants with a guarantee of the segment's type;
//   - which parked jobs a tenant's release may unblock: guarantees, and jobs its quota kept off
//     some of their types.
// Iteration is over ordered containers keyed by positions and ids: deterministic.

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
    std::vector<SegmentId> on;  // the segments it was admitted to and failed on
    bool quota_limited = false;  // its tenant's quota kept it off some of its candidates
    bool parked = false;
  };

  explicit ParkedJobs(const ClusterState& state);

  void Park(Entry* entry);
  void Unpark(Entry* entry);
  size_t size() const { return by_id_.size(); }

  // Parked jobs that a job just started on `s` could be a victim for.
  std::vector<Entry*> PossibleVictimStarted(SegmentId s, const core::JobSpec& started) const;
  // Parked jobs that `tenant`'s release of devices of `type` may unblock.
  std::vector<Entry*> TenantReleased(core::TenantId tenant, core::DeviceTypeId type) const;
  std::vector<Entry*> All() const;
  // After a round's decisions are applied: every segment but those that released capacity during
  // the round has had each of its parked jobs either tried or shown too large, at its current
  // release version.
  void Verify(const std::vector<uint8_t>& released_in_round);

  // ParkedQueue.
  std::vector<core::TenantId> Tenants() const override;
  std::optional<ParkedQueue::Entry> Next(core::TenantId tenant, const QueuePosition* after,
                                         bool any, const ClusterState& state) const override;
  bool KnownToFail(const QueuedJob& job, SegmentId s, const ClusterState& state) const override;
  std::vector<core::TenantId> TenantsOn(SegmentId s) const override;

 private:
  using ByPosition = std::map<QueuePosition, Entry*>;
  struct TenantSegment {
    std::map<int64_t, ByPosition> by_need;
    size_t count = 0;
  };
  bool GuaranteeMatters(core::TenantId tenant, SegmentId s) const;

  const ClusterState& state_;
  std::vector<uint64_t> verified_;                                  // [segment]
  std::vector<std::map<uint32_t, TenantSegment>> by_tenant_;        // [tenant][segment]
  std::vector<ByPosition> first_;                                   // [tenant]
  std::vector<std::map<std::pair<int, uint64_t>, Entry*>> by_priority_;  // [segment]
  // [segment][tenant] (share, id) for tenants with a guarantee of the segment's type.
  std::vector<std::map<uint32_t, std::map<std::pair<int64_t, uint64_t>, Entry*>>> guarantee_;
  std::vector<std::map<uint64_t, Entry*>> quota_limited_;  // [tenant]
  std::unordered_map<uint64_t, Entry*> by_id_;             // look-ups only
};

}  // namespace suanpan::sched
