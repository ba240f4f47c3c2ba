#pragma once
// Building blocks shared by the placement policies, and the policies themselves.
//
// Vocabulary: a worker needs `d` whole devices (or a fraction of one) plus CPU and memory on one
// node. A "unit" is a set of nodes of one segment that share a network level: an interconnect
// domain, a leaf switch, a block, or the whole segment (cluster x type).

#include <optional>
#include <span>
#include <vector>

#include "sched/policy.h"

namespace suanpan::sched {

const PlacementPolicy& BestFitPlacement();
const PlacementPolicy& TopologyPackPlacement();
const PlacementPolicy& FragAwarePlacement();
const PlacementPolicy& FirstFitPlacement();

namespace placement {

inline bool Excluded(const PlacementContext& context, NodeId node) {
  return context.excluded != nullptr && (*context.excluded)[node.value()] != 0;
}

// Chooses the devices of `node` for one worker and returns the placement; nullopt if the worker
// does not fit. Whole devices are taken from the node's interconnect sub-domain with the fewest
// free devices that still holds them all (so a 4-GPU worker on a node of two 4-GPU domains keeps
// to one), else lowest index first. A fraction goes to the partly used device with the least
// free share that holds it, else to a whole free device. O(devices on node).
std::optional<WorkerPlacement> ChooseDevices(const ClusterState& state, NodeId node,
                                             const core::WorkerShape& shape);

// Takes one worker's placement in `state` (undoable) and appends it to `alloc`.
void TakeWorker(ClusterState& state, core::QueueId queue, Allocation& alloc,
                const WorkerPlacement& worker);

// Best fit over the whole segment through its buckets: the node with the fewest whole free
// devices that holds the worker (lowest id on ties); fractions go first to the partly used
// device with the least free share that holds them.
// O(max devices per node + nodes skipped for CPU, memory or exclusion) + O(log n).
std::optional<NodeId> BestFitNode(const ClusterState& state, SegmentId segment,
                                  const core::WorkerShape& shape, const PlacementContext& context);

// Best fit restricted to `nodes`. O(|nodes|).
std::optional<NodeId> BestFitNodeAmong(const ClusterState& state, std::span<const NodeId> nodes,
                                       const core::WorkerShape& shape,
                                       const PlacementContext& context);

// Places all workers of `job`, each by best fit inside `groups` taken in order (the next group
// is used only when the current one holds no more workers). On failure rolls back and returns
// nullopt. O(workers * sum of group sizes) in the worst case.
std::optional<Allocation> PlaceInGroups(const core::JobSpec& job, SegmentId segment,
                                        ClusterState& state,
                                        const std::vector<std::span<const NodeId>>& groups,
                                        const PlacementContext& context);

// Places all workers of `job` by repeated segment-wide best fit. O(workers * BestFitNode).
std::optional<Allocation> PlaceBestFit(const core::JobSpec& job, SegmentId segment,
                                       ClusterState& state, const PlacementContext& context);

// Topology-aware consolidation: the whole job on the fullest node that holds it; else in the
// smallest interconnect domain, then leaf switch, then block whose capacity holds it; else over
// the blocks and switches of the segment with the most capacity first, so that the job spans as
// few switches as possible. O(units * max devices per node + placement).
std::optional<Allocation> PlaceTopologyPack(const core::JobSpec& job, SegmentId segment,
                                            ClusterState& state, const PlacementContext& context);

}  // namespace placement
}  // namespace suanpan::sched
