// placement/best_fit: each worker on the node with the fewest free devices that holds it, lowest
// node id on ties. Packs small jobs tightly and leaves whole nodes free for big ones, but does not
// look at the network: a gang's workers may land under different switches.
// O(workers * (max devices per node + log n)) through the segment's buckets.

#include "sched/placement/placement.h"

namespace suanpan::sched {
namespace {

class BestFit final : public PlacementPolicy {
 public:
  std::string_view name() const override { return "best_fit"; }
  std::optional<Allocation> Place(const core::JobSpec& job, SegmentId segment, ClusterState& state,
                                  const PlacementContext& context) const override {
    return placement::PlaceBestFit(job, segment, state, context);
  }
};

}  // namespace

const PlacementPolicy& BestFitPlacement() {
  static const BestFit policy;
  return policy;
}

}  // namespace suanpan::sched
