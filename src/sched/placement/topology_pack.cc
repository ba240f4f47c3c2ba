// placement/topology_pack: a gang goes into the smallest unit that holds it: one node, one
// NVLink/HCCS domain, one leaf switch, one block; only when no block can, it spans blocks, taking
// the switches with the most room first. Single workers are placed by best fit.
//   Segment of 2 switches x 4 nodes x 8 GPUs; switch 0 has 3 free nodes, switch 1 has 4.
//   A 3 x 8 gang goes to switch 0 (capacity 3 is the smallest that holds 3 workers), which
//   keeps switch 1 whole for a 4 x 8 gang.
// Cost: O(switches + blocks) capacity reads of O(max devices per node) each, then placement.

#include "sched/placement/placement.h"

namespace suanpan::sched {
namespace {

class TopologyPack final : public PlacementPolicy {
 public:
  std::string_view name() const override { return "topology_pack"; }
  std::optional<Allocation> Place(const core::JobSpec& job, SegmentId segment, ClusterState& state,
                                  const PlacementContext& context) const override {
    return placement::PlaceTopologyPack(job, segment, state, context);
  }
};

}  // namespace

const PlacementPolicy& TopologyPackPlacement() {
  static const TopologyPack policy;
  return policy;
}

}  // namespace suanpan::sched
