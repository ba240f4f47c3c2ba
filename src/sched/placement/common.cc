#include <algorithm>
#include <bit>

#include "sched/placement/placement.h"

namespace suanpan::sched::placement {

std::optional<WorkerPlacement> ChooseDevices(const ClusterState& state, NodeId node,
                                             const core::WorkerShape& shape) {
  if (!state.Fits(node, shape)) return std::nullopt;
  const core::NodeShape& hw = state.pool().node(node).shape;
  WorkerPlacement w;
  w.node = node;
  w.cpu = shape.cpu;
  w.memory = shape.memory;
  if (shape.fractional()) {
    int best = -1;
    int64_t best_free = kMilliPerDevice + 1;
    for (int d = 0; d < hw.devices; ++d) {
      const int64_t free = state.FreeShare(node, d).value();
      if (free >= shape.fraction.value() && free < best_free) {
        best = d;
        best_free = free;
      }
    }
    SP_CHECK(best >= 0);
    w.devices = uint64_t{1} << best;
    w.per_device = shape.fraction;
    return w;
  }
  const int need = shape.devices;
  const int domain = std::min(hw.domain_size, hw.devices);
  // Sub-domains inside the node: [k*domain, (k+1)*domain). Prefer the one with the fewest free
  // devices that holds all `need`; only when none does, take free devices lowest index first.
  if (need <= domain) {
    int best_domain = -1, best_free = hw.devices + 1;
    for (int start = 0; start < hw.devices; start += domain) {
      int free = 0;
      for (int d = start; d < start + domain; ++d) {
        free += state.FreeShare(node, d).value() == kMilliPerDevice;
      }
      if (free >= need && free < best_free) {
        best_domain = start;
        best_free = free;
      }
    }
    if (best_domain >= 0) {
      int taken = 0;
      for (int d = best_domain; d < best_domain + domain && taken < need; ++d) {
        if (state.FreeShare(node, d).value() == kMilliPerDevice) {
          w.devices |= uint64_t{1} << d;
          ++taken;
        }
      }
      return w;
    }
  }
  int taken = 0;
  for (int d = 0; d < hw.devices && taken < need; ++d) {
    if (state.FreeShare(node, d).value() == kMilliPerDevice) {
      w.devices |= uint64_t{1} << d;
      ++taken;
    }
  }
  SP_CHECK(taken == need);
  return w;
}

void TakeWorker(ClusterState& state, core::QueueId queue, Allocation& alloc,
                const WorkerPlacement& worker) {
  Allocation one;
  one.segment = alloc.segment;
  one.workers.push_back(worker);
  state.Take(queue, one);
  alloc.workers.push_back(worker);
}

std::optional<NodeId> BestFitNode(const ClusterState& state, SegmentId segment_id,
                                  const core::WorkerShape& shape, const PlacementContext& context) {
  const Segment& segment = state.segment(segment_id);
  if (shape.fractional()) {
    for (auto it = segment.partial.lower_bound({shape.fraction.value(), 0, 0});
         it != segment.partial.end(); ++it) {
      const NodeId node(std::get<1>(*it));
      if (!Excluded(context, node) && state.FreeCpu(node) >= shape.cpu &&
          state.FreeMemory(node) >= shape.memory) {
        return node;
      }
    }
  }
  const int need = std::max(shape.devices, 1);
  for (int c = need; c <= segment.max_devices; ++c) {
    for (uint32_t n : segment.buckets[c]) {
      const NodeId node(n);
      if (!Excluded(context, node) && state.FreeCpu(node) >= shape.cpu &&
          state.FreeMemory(node) >= shape.memory) {
        return node;
      }
    }
  }
  return std::nullopt;
}

std::optional<NodeId> BestFitNodeAmong(const ClusterState& state, std::span<const NodeId> nodes,
                                       const core::WorkerShape& shape,
                                       const PlacementContext& context) {
  std::optional<NodeId> best;
  int best_free = 1 << 30;
  for (NodeId node : nodes) {
    if (Excluded(context, node) || !state.Fits(node, shape)) continue;
    const int free = state.FreeWhole(node);
    if (free < best_free) {
      best = node;
      best_free = free;
    }
  }
  return best;
}

std::optional<Allocation> PlaceInGroups(const core::JobSpec& job, SegmentId segment,
                                        ClusterState& state,
                                        const std::vector<std::span<const NodeId>>& groups,
                                        const PlacementContext& context) {
  const size_t mark = state.Mark();
  Allocation alloc;
  alloc.segment = segment;
  alloc.workers.reserve(job.workers);
  size_t group = 0;
  for (int w = 0; w < job.workers; ++w) {
    std::optional<NodeId> node;
    while (group < groups.size() &&
           !(node = BestFitNodeAmong(state, groups[group], job.worker, context))) {
      ++group;
    }
    if (!node) {
      state.Rollback(mark);
      return std::nullopt;
    }
    TakeWorker(state, core::QueueOfJob(state.pool(), job), alloc,
               *ChooseDevices(state, *node, job.worker));
  }
  return alloc;
}

std::optional<Allocation> PlaceBestFit(const core::JobSpec& job, SegmentId segment,
                                       ClusterState& state, const PlacementContext& context) {
  const size_t mark = state.Mark();
  Allocation alloc;
  alloc.segment = segment;
  alloc.workers.reserve(job.workers);
  for (int w = 0; w < job.workers; ++w) {
    std::optional<NodeId> node = BestFitNode(state, segment, job.worker, context);
    if (!node) {
      state.Rollback(mark);
      return std::nullopt;
    }
    TakeWorker(state, core::QueueOfJob(state.pool(), job), alloc,
               *ChooseDevices(state, *node, job.worker));
  }
  return alloc;
}

namespace {

// Units of one level, as (capacity for the job's workers, id, nodes).
struct Unit {
  int64_t capacity;
  uint32_t id;
  std::span<const NodeId> nodes;
};

}  // namespace

std::optional<Allocation> PlaceTopologyPack(const core::JobSpec& job, SegmentId segment_id,
                                            ClusterState& state, const PlacementContext& context) {
  const Segment& segment = state.segment(segment_id);
  const core::Pool& pool = state.pool();
  const int d = job.worker.devices;
  if (job.worker.fractional() || job.workers == 1) {
    return PlaceBestFit(job, segment_id, state, context);
  }
  const int64_t workers = job.workers;
  const int64_t total = workers * d;

  // Level 0: all workers on one node (the fullest one that holds them).
  if (total <= segment.max_devices) {
    core::WorkerShape all = job.worker;
    all.devices = static_cast<int>(total);
    all.cpu = job.worker.cpu * workers;
    all.memory = job.worker.memory * workers;
    if (std::optional<NodeId> node = BestFitNode(state, segment_id, all, context)) {
      std::vector<std::span<const NodeId>> one = {std::span<const NodeId>(&*node, 1)};
      if (auto alloc = PlaceInGroups(job, segment_id, state, one, context)) return alloc;
    }
  }

  // Levels 1-3: the smallest unit whose capacity holds the job, trying candidates in order of
  // (capacity, id) until one really takes it (CPU, memory or exclusions may refuse).
  auto try_level = [&](std::vector<Unit> units) -> std::optional<Allocation> {
    std::sort(units.begin(), units.end(), [](const Unit& a, const Unit& b) {
      return a.capacity != b.capacity ? a.capacity < b.capacity : a.id < b.id;
    });
    for (const Unit& u : units) {
      if (u.capacity < workers) continue;
      std::vector<std::span<const NodeId>> groups = {u.nodes};
      if (auto alloc = PlaceInGroups(job, segment_id, state, groups, context)) return alloc;
    }
    return std::nullopt;
  };
  if (!segment.domains.empty()) {
    std::vector<Unit> units;
    for (DomainId m : segment.domains) {
      units.push_back({state.DomainCapacity(m, d), m.value(), pool.domains()[m.value()].nodes});
    }
    if (auto alloc = try_level(std::move(units))) return alloc;
  }
  {
    std::vector<Unit> units;
    for (SwitchId s : segment.switches) {
      units.push_back({state.SwitchCapacity(s, d), s.value(), pool.switches()[s.value()].nodes});
    }
    if (auto alloc = try_level(std::move(units))) return alloc;
  }

  // Level 3 and 4: span switches, fewest first. Within a block (if one holds the job) or else
  // over the whole segment, take switches in order of capacity, largest first.
  auto switches_by_capacity = [&](std::span<const SwitchId> switches) {
    std::vector<Unit> units;
    for (SwitchId s : switches) {
      const int64_t cap = state.SwitchCapacity(s, d);
      if (cap > 0) units.push_back({cap, s.value(), pool.switches()[s.value()].nodes});
    }
    std::sort(units.begin(), units.end(), [](const Unit& a, const Unit& b) {
      return a.capacity != b.capacity ? a.capacity > b.capacity : a.id < b.id;
    });
    return units;
  };
  std::vector<std::pair<int64_t, BlockId>> blocks;
  for (BlockId b : segment.blocks) blocks.push_back({state.BlockCapacity(b, d), b});
  std::sort(blocks.begin(), blocks.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second < b.second;
  });
  for (const auto& [cap, block] : blocks) {
    if (cap < workers) continue;
    std::vector<std::span<const NodeId>> groups;
    for (const Unit& u : switches_by_capacity(pool.blocks()[block.value()].switches)) {
      groups.push_back(u.nodes);
    }
    if (auto alloc = PlaceInGroups(job, segment_id, state, groups, context)) return alloc;
  }
  std::vector<std::span<const NodeId>> groups;
  for (const Unit& u : switches_by_capacity(segment.switches)) groups.push_back(u.nodes);
  return PlaceInGroups(job, segment_id, state, groups, context);
}

}  // namespace suanpan::sched::placement
