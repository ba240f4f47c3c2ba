// placement/frag_aware: fragmentation-gradient descent in the spirit of Alibaba's FGD (Weng et
// al., ATC '23). The fragmentation of a node is the free device capacity that the queue's
// request sizes cannot use, weighted by how common each size is:
//   F(node) = sum over sizes s of w_s * (c mod s if s <= c, else c) + w_whole * partial/1000
// where c is the node's whole free devices, `partial` the free milli-devices of partly used
// devices (useless to whole-device requests), and w_whole the weight of whole-device sizes.
// A worker goes to the node whose fragmentation grows least; ties go to the fuller node (best fit),
// then the lower id. Nodes with the same c score the same, so the search is over the segment's
// buckets, not its nodes: O(max devices per node ^ 2) per worker.
//   Weights {1: 0.5, 8: 0.5}; a 1-GPU worker. Node with c = 8: F 0 -> 0.5*0 + 0.5*7 = 3.5.
//   Node with c = 3: F 1.5 -> 1.0 (0.5*3 + 0.5*3 = 3 -> 0.5*2 + 0.5*2 = 2; minus 1).
//   The 3-free node wins: taking from the full node would break an 8-GPU slot.
// Gangs (more than one worker) are consolidated by topology_pack: for them the network matters
// more than the leftovers.

#include <cmath>

#include "sched/placement/placement.h"

namespace suanpan::sched {
namespace {

double Fragmentation(int free_whole, const std::vector<double>& weights, int max_devices) {
  double f = 0.0;
  for (int s = 1; s < static_cast<int>(weights.size()) && s <= max_devices; ++s) {
    if (weights[s] == 0.0) continue;
    f += weights[s] * (s <= free_whole ? free_whole % s : free_whole);
  }
  return f;
}

class FragAware final : public PlacementPolicy {
 public:
  std::string_view name() const override { return "frag_aware"; }
  bool UsesSizeWeights() const override { return true; }

  std::optional<Allocation> Place(const core::JobSpec& job, SegmentId segment_id,
                                  ClusterState& state,
                                  const PlacementContext& context) const override {
    if (job.workers > 1) return placement::PlaceTopologyPack(job, segment_id, state, context);
    static const std::vector<double> kDefaultWeights = {0.0, 0.25, 0.25, 0.0, 0.25,
                                                        0.0, 0.0,  0.0,  0.25};
    const std::vector<double>& weights =
        context.size_weights != nullptr ? *context.size_weights : kDefaultWeights;
    double whole_weight = 0.0;
    for (size_t s = 1; s < weights.size(); ++s) whole_weight += weights[s];

    const Segment& segment = state.segment(segment_id);
    const core::WorkerShape& shape = job.worker;
    const int need = std::max(shape.devices, 1);
    std::optional<NodeId> best;
    double best_delta = 0.0;
    int best_free = 0;
    auto consider = [&](NodeId node, double delta, int free) {
      if (!best || delta < best_delta - 1e-12 ||
          (std::abs(delta - best_delta) <= 1e-12 &&
           (free < best_free || (free == best_free && node < *best)))) {
        best = node;
        best_delta = delta;
        best_free = free;
      }
    };
    auto usable = [&](NodeId node) {
      return !placement::Excluded(context, node) && state.FreeCpu(node) >= shape.cpu &&
             state.FreeMemory(node) >= shape.memory;
    };
    if (shape.fractional()) {
      // A partly used device that holds the fraction: its leftover shrinks by the fraction.
      for (auto it = segment.partial.lower_bound({shape.fraction.value(), 0, 0});
           it != segment.partial.end(); ++it) {
        const NodeId node(std::get<1>(*it));
        if (!usable(node)) continue;
        const double delta =
            -whole_weight * static_cast<double>(shape.fraction.value()) / kMilliPerDevice;
        consider(node, delta, -1);  // -1: a partial device beats any whole one on ties
        break;  // the first usable is the tightest; all partial choices score the same
      }
    }
    for (int c = need; c <= segment.max_devices; ++c) {
      for (uint32_t n : segment.buckets[c]) {
        const NodeId node(n);
        if (!usable(node)) continue;
        double delta = Fragmentation(c - need, weights, segment.max_devices) -
                       Fragmentation(c, weights, segment.max_devices);
        if (shape.fractional()) {
          delta += whole_weight * static_cast<double>(kMilliPerDevice - shape.fraction.value()) /
                   kMilliPerDevice;
        }
        consider(node, delta, c);
        break;  // the lowest usable id of the bucket represents it
      }
    }
    if (!best) return std::nullopt;
    Allocation alloc;
    alloc.segment = segment_id;
    placement::TakeWorker(state, core::QueueOfJob(state.pool(), job), alloc,
                          *placement::ChooseDevices(state, *best, shape));
    return alloc;
  }
};

}  // namespace

const PlacementPolicy& FragAwarePlacement() {
  static const FragAware policy;
  return policy;
}

}  // namespace suanpan::sched
