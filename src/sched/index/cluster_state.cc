#include "sched/index/cluster_state.h"

#include <algorithm>
#include <bit>

namespace suanpan::sched {

ClusterState::ClusterState(const core::Pool& pool) : pool_(pool), types_(pool.catalog().size()) {
  int max_devices = 1;
  for (const core::Node& n : pool.nodes()) max_devices = std::max(max_devices, n.shape.devices);
  stride_ = max_devices + 1;

  segment_index_.assign(pool.clusters().size() * types_, -1);
  segments_by_type_.resize(types_);
  const size_t node_count = pool.nodes().size();
  node_segment_.resize(node_count);
  node_position_.resize(node_count);
  node_free_whole_.resize(node_count);
  device_offset_.resize(node_count);
  node_cpu_.resize(node_count);
  node_memory_.resize(node_count);
  switch_count_.assign(pool.switches().size() * stride_, 0);
  block_count_.assign(pool.blocks().size() * stride_, 0);
  domain_count_.assign(pool.domains().size() * stride_, 0);
  switch_free_.assign(pool.switches().size(), 0);
  block_free_.assign(pool.blocks().size(), 0);
  usage_.assign(pool.QueueCount() * types_, 0);  // tenants, SystemTenant(), projects
  usage_saved_.assign(usage_.size(), 0);
  usage_saved_epoch_.assign(usage_.size(), 0);
  allocated_by_type_.assign(types_, 0);
  devices_by_type_ = pool.Totals().devices_by_type;

  uint32_t offset = 0;
  for (uint32_t i = 0; i < node_count; ++i) {
    const core::Node& n = pool.nodes()[i];
    const size_t key = n.cluster.value() * types_ + n.shape.type.value();
    if (segment_index_[key] < 0) {
      segment_index_[key] = static_cast<int64_t>(segments_.size());
      Segment s;
      s.cluster = n.cluster;
      s.type = n.shape.type;
      s.provider = n.provider;
      segments_by_type_[n.shape.type.value()].push_back(
          SegmentId(static_cast<uint32_t>(segments_.size())));
      segments_.push_back(std::move(s));
    }
    SegmentId sid(static_cast<uint32_t>(segment_index_[key]));
    Segment& seg = segments_[sid.value()];
    node_segment_[i] = sid;
    node_position_[i] = static_cast<uint32_t>(seg.nodes.size());
    seg.nodes.push_back(NodeId(i));
    seg.max_devices = std::max(seg.max_devices, n.shape.devices);
    seg.total_devices += n.shape.devices;
    seg.free_whole += n.shape.devices;
    if (seg.switches.empty() || seg.switches.back() != n.leaf) seg.switches.push_back(n.leaf);
    if (seg.blocks.empty() || seg.blocks.back() != n.block) seg.blocks.push_back(n.block);
    if (pool.domains()[n.domain.value()].nodes.size() > 1 &&
        (seg.domains.empty() || seg.domains.back() != n.domain)) {
      seg.domains.push_back(n.domain);
    }
    node_free_whole_[i] = n.shape.devices;
    device_offset_[i] = offset;
    offset += n.shape.devices;
    node_cpu_[i] = n.shape.cpu;
    node_memory_[i] = n.shape.memory;
    switch_count_[n.leaf.value() * stride_ + n.shape.devices]++;
    block_count_[n.block.value() * stride_ + n.shape.devices]++;
    domain_count_[n.domain.value() * stride_ + n.shape.devices]++;
    switch_free_[n.leaf.value()] += n.shape.devices;
    block_free_[n.block.value()] += n.shape.devices;
  }
  device_free_.assign(offset, kMilliPerDevice);
  preemptible_.resize(segments_.size());
  ending_.resize(segments_.size());
  segment_version_.assign(segments_.size(), 0);
  release_version_.assign(segments_.size(), 0);
  for (Segment& seg : segments_) {
    seg.buckets.assign(seg.max_devices + 1, NodeSet(&seg.nodes));
    for (NodeId id : seg.nodes) {
      seg.buckets[node_free_whole_[id.value()]].Insert(node_position_[id.value()]);
    }
  }
}

std::optional<SegmentId> ClusterState::FindSegment(ClusterId cluster, DeviceTypeId type) const {
  const int64_t s = segment_index_[cluster.value() * types_ + type.value()];
  if (s < 0) return std::nullopt;
  return SegmentId(static_cast<uint32_t>(s));
}

int64_t ClusterState::Capacity(const std::vector<int32_t>& counts, size_t unit, int d) const {
  int64_t fit = 0;
  const int32_t* c = &counts[unit * stride_];
  for (int free = d; free < stride_; ++free) fit += int64_t{c[free]} * (free / d);
  return fit;
}

bool ClusterState::Fits(NodeId node, const core::WorkerShape& shape) const {
  const uint32_t n = node.value();
  if (node_cpu_[n] < shape.cpu || node_memory_[n] < shape.memory) return false;
  if (!shape.fractional()) return node_free_whole_[n] >= shape.devices;
  const int devices = pool_.nodes()[n].shape.devices;
  for (int d = 0; d < devices; ++d) {
    if (device_free_[device_offset_[n] + d] >= shape.fraction.value()) return true;
  }
  return false;
}

void ClusterState::SetFreeWhole(NodeId node, int new_free) {
  const uint32_t n = node.value();
  const int old_free = node_free_whole_[n];
  if (old_free == new_free) return;
  const core::Node& info = pool_.nodes()[n];
  Segment& seg = segments_[node_segment_[n].value()];
  seg.buckets[old_free].Erase(node_position_[n]);
  seg.buckets[new_free].Insert(node_position_[n]);
  seg.free_whole += new_free - old_free;
  switch_count_[info.leaf.value() * stride_ + old_free]--;
  switch_count_[info.leaf.value() * stride_ + new_free]++;
  block_count_[info.block.value() * stride_ + old_free]--;
  block_count_[info.block.value() * stride_ + new_free]++;
  domain_count_[info.domain.value() * stride_ + old_free]--;
  domain_count_[info.domain.value() * stride_ + new_free]++;
  switch_free_[info.leaf.value()] += new_free - old_free;
  block_free_[info.block.value()] += new_free - old_free;
  node_free_whole_[n] = new_free;
}

int ClusterState::SetDeviceFree(NodeId node, int device, int64_t new_free) {
  const uint32_t n = node.value();
  int64_t& slot = device_free_[device_offset_[n] + device];
  const int64_t old_free = slot;
  if (old_free == new_free) return 0;
  Segment& seg = segments_[node_segment_[n].value()];
  if (old_free > 0 && old_free < kMilliPerDevice) seg.partial.erase({old_free, n, device});
  if (new_free > 0 && new_free < kMilliPerDevice) seg.partial.insert({new_free, n, device});
  slot = new_free;
  return (new_free == kMilliPerDevice) - (old_free == kMilliPerDevice);
}

// The node's whole-free count moves once per worker (not per device): one bucket move and one
// counter update per level, whatever the worker's size.
void ClusterState::Apply(QueueId queue, const Allocation& alloc, int sign) {
  const DeviceTypeId type = segments_[alloc.segment.value()].type;
  int64_t milli = 0;
  for (const WorkerPlacement& w : alloc.workers) {
    const uint32_t n = w.node.value();
    int whole_delta = 0;
    for (uint64_t bits = w.devices; bits != 0; bits &= bits - 1) {
      const int d = std::countr_zero(bits);
      const int64_t cur = device_free_[device_offset_[n] + d];
      const int64_t next = cur - sign * w.per_device.value();
      SP_CHECK(next >= 0 && next <= kMilliPerDevice)
          << "allocation does not match free devices on node " << n << " device " << d;
      whole_delta += SetDeviceFree(w.node, d, next);
      milli += w.per_device.value();
    }
    SetFreeWhole(w.node, node_free_whole_[n] + whole_delta);
    node_cpu_[n] -= w.cpu * sign;
    node_memory_[n] -= w.memory * sign;
    SP_CHECK(node_cpu_[n].value() >= 0 && node_memory_[n].value() >= 0) << "cpu/memory overdrawn";
  }
  auto add = [&](size_t u) {
    if (usage_saved_epoch_[u] != usage_epoch_) {
      usage_saved_[u] = usage_[u];
      usage_saved_epoch_[u] = usage_epoch_;
    }
    usage_[u] += sign * milli;
  };
  const TenantId tenant = pool_.TenantOfQueue(queue);
  add(tenant.value() * types_ + type.value());
  if (queue != tenant) add(queue.value() * types_ + type.value());
  allocated_by_type_[type.value()] += sign * milli;
}

void ClusterState::Take(QueueId queue, const Allocation& alloc) {
  Apply(queue, alloc, +1);
  undo_.push_back(UndoEntry{true, queue, alloc, nullptr, alloc.segment,
                            SegmentVersion(alloc.segment), ReleaseVersion(alloc.segment)});
  Bump(alloc.segment);
}

void ClusterState::Give(QueueId queue, const Allocation& alloc) {
  Apply(queue, alloc, -1);
  undo_.push_back(UndoEntry{false, queue, alloc, nullptr, alloc.segment,
                            SegmentVersion(alloc.segment), ReleaseVersion(alloc.segment)});
  Bump(alloc.segment);
  Released(alloc.segment);
}

void ClusterState::GiveBorrowed(QueueId queue, const Allocation& alloc) {
  Apply(queue, alloc, -1);
  undo_.push_back(UndoEntry{false, queue, Allocation{}, &alloc, alloc.segment,
                            SegmentVersion(alloc.segment), ReleaseVersion(alloc.segment)});
  Bump(alloc.segment);
  Released(alloc.segment);
}

void ClusterState::Rollback(size_t mark) {
  SP_CHECK(mark <= undo_.size());
  while (undo_.size() > mark) {
    UndoEntry e = std::move(undo_.back());
    undo_.pop_back();
    Apply(e.queue, e.borrowed != nullptr ? *e.borrowed : e.owned, e.take ? -1 : +1);
    segment_version_[e.segment.value()] = e.version;
    release_version_[e.segment.value()] = e.release;
  }
}

// A committed change gets a new version. Should tentative changes of the same segment still be
// on the undo log, rolling them back must not bring back a version that described the segment
// without this change: they get new versions to return to (release versions too, when the
// committed change released capacity).
void ClusterState::Committed(SegmentId s, bool released) {
  Bump(s);
  if (released) Released(s);
  for (UndoEntry& e : undo_) {
    if (e.segment != s) continue;
    e.version = ++last_version_;
    if (released) e.release = ++last_version_;
  }
}

void ClusterState::Start(RunningJob job) {
  SP_CHECK(job.spec != nullptr);
  const uint64_t id = job.spec->id.value();
  SP_CHECK(running_index_.count(id) == 0) << "job " << id << " is already running";
  Apply(pool_.QueueOf(job.spec->tenant, job.spec->project), job.allocation, +1);
  const uint32_t seg = job.allocation.segment.value();
  if (job.spec->preemptible) preemptible_[seg].insert({job.spec->priority, id});
  if (job.expected_end != kNever) ending_[seg].insert({job.expected_end.value(), id});
  Committed(job.allocation.segment, /*released=*/false);
  running_index_[id] = running_.size();
  running_.push_back(std::move(job));
}

void ClusterState::Finish(JobId job) {
  auto it = running_index_.find(job.value());
  SP_CHECK(it != running_index_.end()) << "job " << job.value() << " is not running";
  RunningJob& r = running_[it->second];
  Apply(pool_.QueueOf(r.spec->tenant, r.spec->project), r.allocation, -1);
  const uint32_t seg = r.allocation.segment.value();
  preemptible_[seg].erase({r.spec->priority, job.value()});
  ending_[seg].erase({r.expected_end.value(), job.value()});
  Committed(r.allocation.segment, /*released=*/true);
  r.spec = nullptr;
  r.allocation.workers.clear();
  running_index_.erase(it);
  // Compact when more than half of the entries are finished: amortized O(1) per Finish.
  if (running_.size() > 64 && running_index_.size() * 2 < running_.size()) {
    std::vector<RunningJob> kept;
    kept.reserve(running_index_.size());
    for (RunningJob& j : running_) {
      if (j.spec != nullptr) kept.push_back(std::move(j));
    }
    running_ = std::move(kept);
    for (size_t i = 0; i < running_.size(); ++i) running_index_[running_[i].spec->id.value()] = i;
  }
}

const RunningJob* ClusterState::FindRunning(JobId job) const {
  auto it = running_index_.find(job.value());
  return it == running_index_.end() ? nullptr : &running_[it->second];
}

RunningJob* ClusterState::FindRunning(JobId job) {
  auto it = running_index_.find(job.value());
  return it == running_index_.end() ? nullptr : &running_[it->second];
}

std::vector<const RunningJob*> ClusterState::Running() const {
  std::vector<const RunningJob*> out;
  out.reserve(running_index_.size());
  for (const RunningJob& j : running_) {
    if (j.spec != nullptr) out.push_back(&j);
  }
  return out;
}

int64_t ClusterState::QueueMilli(QueueId queue, DeviceTypeId type,
                                 const std::vector<int64_t>& usage) const {
  if (queue.value() > pool_.tenants().size()) return usage[queue.value() * types_ + type.value()];
  int64_t own = usage[queue.value() * types_ + type.value()];
  if (queue.value() == pool_.tenants().size()) return own;  // the system tenant
  const size_t projects = pool_.tenant(queue).projects.size();
  for (size_t p = 0; p < projects; ++p) {
    const QueueId q = pool_.QueueOf(queue, core::ProjectId(static_cast<uint32_t>(p)));
    own -= usage[q.value() * types_ + type.value()];
  }
  return own;
}

MilliDevices ClusterState::QueueUsageAtMark(QueueId queue, DeviceTypeId type) const {
  auto at = [&](QueueId q) {
    const size_t i = q.value() * types_ + type.value();
    return usage_saved_epoch_[i] == usage_epoch_ ? usage_saved_[i] : usage_[i];
  };
  if (queue.value() > pool_.tenants().size()) return MilliDevices(at(queue));
  int64_t own = at(queue);
  if (queue.value() < pool_.tenants().size()) {
    const size_t projects = pool_.tenant(queue).projects.size();
    for (size_t p = 0; p < projects; ++p) {
      own -= at(pool_.QueueOf(queue, core::ProjectId(static_cast<uint32_t>(p))));
    }
  }
  return MilliDevices(own);
}

}  // namespace suanpan::sched
