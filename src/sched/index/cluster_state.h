#pragma once
// ClusterState: what is free and what runs where, with the indexes that make a placement cost
// microseconds at 50,000+ devices. It is the scheduler's view and its scratch pad: placement and
// preemption try changes on it and take them back through an undo log (Mark / Rollback), so a
// what-if never needs a copy of the pool (STYLE.md 2).
//
// Segments. A segment is the devices of one type in one cluster: the unit inside which a gang is
// placed (a gang never spans clusters). Each segment keeps
//   - buckets[c]: the nodes with exactly c whole free devices, ordered by node id;
//   - partial: the devices that are partly used by fractional workers, ordered by free share;
//   - free_whole: the sum of c over its nodes.
// Each leaf switch, block and multi-node interconnect domain keeps count[c], the number of its
// nodes with c whole free devices, so its capacity for workers of d devices is
// sum_c count[c] * floor(c / d) in O(max devices per node).
//
// Example: a segment of 3 nodes x 8 H100 with node0 running a 6-GPU job and node1 a 0.5-GPU
// worker: buckets[2] = {node0}, buckets[7] = {node1}, buckets[8] = {node2}, partial =
// {(500, node1, dev0)}, free_whole = 17.

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "base/quantity.h"
#include "core/job.h"
#include "core/pool.h"
#include "sched/index/node_set.h"

namespace suanpan::sched {

using core::BlockId;
using core::ClusterId;
using core::DeviceTypeId;
using core::DomainId;
using core::JobId;
using core::NodeId;
using core::QueueId;
using core::SwitchId;
using core::TenantId;

using SegmentId = Id<struct SegmentTag>;

// One worker's share of one node: whole devices (a bit per device index), or a fraction of one.
struct WorkerPlacement {
  NodeId node;
  uint64_t devices = 0;                                     // bit i set: device i of the node
  MilliDevices per_device = MilliDevices(kMilliPerDevice);  // < 1000 for a fractional worker
  MilliCpu cpu = MilliCpu(0);
  MiB memory = MiB(0);
};

struct Allocation {
  SegmentId segment;
  std::vector<WorkerPlacement> workers;  // worker rank order
};

// A job that holds devices, as the scheduler needs to know it.
struct RunningJob {
  const core::JobSpec* spec = nullptr;
  Allocation allocation;
  Time start = Time(0);
  Time expected_end = kNever;    // start + expected runtime, or kNever when unknown
  int64_t attained_service = 0;  // device-seconds so far (2D-LAS)
};

struct Segment {
  ClusterId cluster;
  DeviceTypeId type;
  core::ProviderId provider;
  int max_devices = 0;  // devices on its largest node
  int64_t total_devices = 0;
  int64_t free_whole = 0;
  std::vector<NodeId> nodes;
  std::vector<SwitchId> switches;
  std::vector<BlockId> blocks;
  std::vector<DomainId> domains;  // multi-node domains only
  std::vector<NodeSet> buckets;   // [c] -> nodes with c whole free devices
  // (free milli, node, device) of partly used devices.
  std::set<std::tuple<int64_t, uint32_t, int>> partial;
};

class ClusterState {
 public:
  explicit ClusterState(const core::Pool& pool);
  ClusterState(const ClusterState&) = delete;
  ClusterState& operator=(const ClusterState&) = delete;

  const core::Pool& pool() const { return pool_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const Segment& segment(SegmentId id) const { return segments_[id.value()]; }
  // The segment of (cluster, type), if the cluster has devices of that type. O(1).
  std::optional<SegmentId> FindSegment(ClusterId cluster, DeviceTypeId type) const;
  // Segments holding `type`, in cluster order. O(1).
  const std::vector<SegmentId>& SegmentsOf(DeviceTypeId type) const {
    return segments_by_type_[type.value()];
  }
  SegmentId SegmentOfNode(NodeId node) const { return node_segment_[node.value()]; }

  int FreeWhole(NodeId node) const { return node_free_whole_[node.value()]; }
  MilliDevices FreeShare(NodeId node, int device) const {
    return MilliDevices(device_free_[device_offset_[node.value()] + device]);
  }
  MilliCpu FreeCpu(NodeId node) const { return node_cpu_[node.value()]; }
  MiB FreeMemory(NodeId node) const { return node_memory_[node.value()]; }
  int MaxDevicesPerNode() const { return stride_ - 1; }
  // Capacity of a leaf switch / block / domain for workers of `d` whole devices: how many such
  // workers fit, ignoring CPU and memory. O(max devices per node).
  int64_t SwitchCapacity(SwitchId s, int d) const { return Capacity(switch_count_, s.value(), d); }
  int64_t BlockCapacity(BlockId b, int d) const { return Capacity(block_count_, b.value(), d); }
  int64_t DomainCapacity(DomainId m, int d) const { return Capacity(domain_count_, m.value(), d); }
  int64_t SwitchFree(SwitchId s) const { return switch_free_[s.value()]; }
  int64_t BlockFree(BlockId b) const { return block_free_[b.value()]; }

  // A tenant id beyond the pool's tenants, for capacity held by the platform itself (a node that
  // is out of service is held whole by it). No quota applies to it and no job of it is queued.
  TenantId SystemTenant() const { return TenantId(pool_.tenants().size()); }

  // Devices in use (milli) by each tenant, per device type. O(1).
  MilliDevices TenantUsage(TenantId tenant, DeviceTypeId type) const {
    return MilliDevices(usage_[tenant.value() * types_ + type.value()]);
  }
  // Tenants' use as it was at the last MarkUsage() (copy-on-write: O(1) per change and look-up),
  // so that a round reads the shares it started with however late it first asks.
  void MarkUsage() const { ++usage_epoch_; }
  MilliDevices TenantUsageAtMark(TenantId tenant, DeviceTypeId type) const {
    const size_t i = tenant.value() * types_ + type.value();
    return MilliDevices(usage_saved_epoch_[i] == usage_epoch_ ? usage_saved_[i] : usage_[i]);
  }
  // Devices in use by one of a tenant's projects (a project's queue). For a tenant's own queue,
  // what it holds outside its projects. O(projects of the tenant).
  MilliDevices QueueUsage(QueueId queue, DeviceTypeId type) const {
    return MilliDevices(QueueMilli(queue, type, usage_));
  }
  MilliDevices QueueUsageAtMark(QueueId queue, DeviceTypeId type) const;
  int64_t AllocatedMilli(DeviceTypeId type) const { return allocated_by_type_[type.value()]; }
  // Devices of each type in the pool (Pool::Totals, kept here to be read in O(1)).
  const std::vector<int64_t>& DevicesByType() const { return devices_by_type_; }

  // Whether a worker of this shape fits on `node` right now. O(devices on node).
  bool Fits(NodeId node, const core::WorkerShape& shape) const;

  // Takes the devices, CPU and memory of `alloc` for `queue` (a tenant, or a tenant's project:
  // its tenant's use grows too). The caller guarantees they are free (SP_CHECK).
  // O(workers * log nodes).
  void Take(QueueId queue, const Allocation& alloc);
  // Gives them back. O(workers * log nodes).
  void Give(QueueId queue, const Allocation& alloc);
  // Give() without copying `alloc` into the undo log: `alloc` must stay where it is until the
  // log is rolled back past this entry (a running job's allocation during one round).
  void GiveBorrowed(QueueId queue, const Allocation& alloc);

  // Running jobs. Start() records the job and takes its allocation; Finish() releases it.
  // Both O(workers * log nodes); Running() iterates in start order for determinism.
  void Start(RunningJob job);
  void Finish(JobId job);
  const RunningJob* FindRunning(JobId job) const;
  RunningJob* FindRunning(JobId job);
  // Preemptible running jobs of a segment by (priority, id), lowest class first; and running
  // jobs with a known end by (expected end, id). Both kept by Start/Finish in O(log n).
  const std::set<std::pair<int, uint64_t>>& PreemptibleIn(SegmentId s) const {
    return preemptible_[s.value()];
  }
  const std::set<std::pair<int64_t, uint64_t>>& EndingIn(SegmentId s) const {
    return ending_[s.value()];
  }
  // Running jobs in the order they started; entries of finished jobs are skipped.
  std::vector<const RunningJob*> Running() const;
  size_t running_count() const { return running_index_.size(); }

  // A segment's version: a new, never reused value after every change to the segment (take,
  // give, start, finish), and the earlier value again when a change is rolled back. Equal
  // versions therefore mean equal contents (free devices, running jobs and their expected ends),
  // which lets the scheduler keep a result computed from one segment until it changes. O(1).
  uint64_t SegmentVersion(SegmentId s) const { return segment_version_[s.value()]; }
  // A segment's release version: a new, never reused value whenever the segment gains capacity
  // (give, finish), kept when it loses some (take, start), and the earlier value again when a
  // change is rolled back. Equal release versions therefore mean that the segment has no more
  // free devices, CPU or memory on any node than when the version was read: a job that did not
  // fit then does not fit now (sched::Host parks such jobs). O(1).
  uint64_t ReleaseVersion(SegmentId s) const { return release_version_[s.value()]; }
  // How many workers of `d` whole devices the segment's nodes could take (ignoring CPU, memory
  // and topology): sum over free counts c >= d of nodes x floor(c / d). A gang of more workers
  // cannot fit. O(max devices per node).
  int64_t SegmentCapacity(SegmentId s, int d) const {
    const Segment& seg = segments_[s.value()];
    int64_t fit = 0;
    for (int c = std::max(d, 1); c <= seg.max_devices; ++c) {
      fit += static_cast<int64_t>(seg.buckets[c].size()) * (c / std::max(d, 1));
    }
    return fit;
  }
  // The largest single-worker request that could fit in the segment, in milli-devices: its whole
  // free devices x 1000, or the freest partly used device. A job of `need` milli-devices with
  // need > FreeKey() cannot fit (need: workers x devices x 1000, or the fraction). O(1).
  int64_t FreeKey(SegmentId s) const {
    const Segment& seg = segments_[s.value()];
    const int64_t partial = seg.partial.empty() ? 0 : std::get<0>(*seg.partial.rbegin());
    return std::max(seg.free_whole * kMilliPerDevice, partial);
  }

  // The scheduler's memo of earliest starts (Scheduler, EASY backfill), kept here because its
  // entries are only meaningful for this state's segment versions. Opaque to ClusterState.
  struct EarliestStartMemo {
    enum class Kind : uint8_t { kFound, kExhausted, kNotBefore };
    struct Entry {
      const core::JobSpec* spec = nullptr;
      const void* placement = nullptr;  // the placement policy that found it
      uint64_t version = 0;
      Time computed_at = Time(0);  // the round's `now`
      Kind kind = Kind::kExhausted;
      Time t = Time(0);  // kFound: the start; kNotBefore: no start before t
      Allocation allocation;
    };
    std::unordered_map<uint64_t, Entry>
        entries;  // (job id << 20 | segment) -> entry; look-ups only
  };
  EarliestStartMemo& earliest_start_memo() { return memo_; }

  // Undo log. Mark() returns a position; Rollback(mark) undoes every Take/Give since it, in
  // reverse order. Start/Finish are not undoable (they are committed changes).
  size_t Mark() const { return undo_.size(); }
  void Rollback(size_t mark);
  // Forget the log (after a committed change, to keep it from growing).
  void ClearUndo() { undo_.clear(); }

 private:
  struct UndoEntry {
    bool take;  // true: undo a Take by giving; false: undo a Give by taking
    QueueId queue;
    Allocation owned;
    const Allocation* borrowed = nullptr;  // when set, used instead of `owned`
    SegmentId segment;
    uint64_t version = 0;  // the segment's version before this change
    uint64_t release = 0;  // its release version before this change
  };
  void Bump(SegmentId s) { segment_version_[s.value()] = ++last_version_; }
  void Released(SegmentId s) { release_version_[s.value()] = ++last_version_; }
  void Committed(SegmentId s, bool released);
  int64_t Capacity(const std::vector<int32_t>& counts, size_t unit, int d) const;
  void SetFreeWhole(NodeId node, int new_free);
  // Sets one device's free share and its partial index; returns the change (-1, 0, +1) in the
  // node's whole free devices, for the caller to apply once per worker.
  int SetDeviceFree(NodeId node, int device, int64_t new_free);
  void Apply(QueueId queue, const Allocation& alloc, int sign);
  int64_t QueueMilli(QueueId queue, DeviceTypeId type, const std::vector<int64_t>& usage) const;

  const core::Pool& pool_;
  size_t types_;
  int stride_;  // max devices per node + 1
  std::vector<Segment> segments_;
  std::vector<std::vector<SegmentId>> segments_by_type_;
  std::vector<SegmentId> node_segment_;
  std::vector<uint32_t> node_position_;  // position of each node in its segment's `nodes`
  std::vector<int> node_free_whole_;
  std::vector<uint32_t> device_offset_;
  std::vector<int64_t> device_free_;  // milli, per device
  std::vector<MilliCpu> node_cpu_;
  std::vector<MiB> node_memory_;
  std::vector<int32_t> switch_count_, block_count_, domain_count_;  // [unit * stride + c]
  std::vector<int64_t> switch_free_, block_free_;
  std::vector<int64_t> usage_;               // [tenant * types + type], milli
  std::vector<int64_t> usage_saved_;         // usage_ at the mark, where changed since
  std::vector<uint64_t> usage_saved_epoch_;  // the mark usage_saved_ belongs to
  mutable uint64_t usage_epoch_ = 1;
  std::vector<int64_t> allocated_by_type_;
  std::vector<int64_t> devices_by_type_;
  std::vector<UndoEntry> undo_;
  std::vector<RunningJob> running_;  // in start order; finished entries have spec == nullptr
  std::unordered_map<uint64_t, size_t> running_index_;  // lookups only, never iterated
  std::vector<int64_t> segment_index_;                  // [cluster * types + type] -> segment or -1
  std::vector<std::set<std::pair<int, uint64_t>>> preemptible_;  // by segment
  std::vector<std::set<std::pair<int64_t, uint64_t>>> ending_;   // by segment
  std::vector<uint64_t> segment_version_;                        // by segment
  std::vector<uint64_t> release_version_;                        // by segment
  uint64_t last_version_ = 0;
  EarliestStartMemo memo_;
};

}  // namespace suanpan::sched
