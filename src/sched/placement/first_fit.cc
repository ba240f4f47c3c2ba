// placement/first_fit: the placement of Apache YARN's capacity scheduler as Tiresias models it
// ("yarn"): the job goes under the first leaf switch (in index order) that can hold all of it,
// and each worker on the lowest-numbered node of that switch with room for it. No packing, no
// look-ahead: it is here as a baseline and to replay published results exactly. A gang that a
// switch could hold once it empties waits for one, as YARN's does (it is never spread because no
// switch has room right now); only a gang that no switch of its segment could ever hold (YARN
// would hold it back forever) is spread first-fit over the switches in index order.
//   Switch of 4 nodes x 4 GPUs, node 0 has 1 free, node 1 has 4: a 2 x 4 gang needs two whole
//   nodes, takes node 1 and node 2; a 2-GPU worker takes node 1 (node 0 has too little).
// O(switches x max devices per node + workers x nodes per switch).

#include "sched/placement/placement.h"

namespace suanpan::sched {
namespace {

class FirstFit final : public PlacementPolicy {
 public:
  std::string_view name() const override { return "first_fit"; }
  std::optional<Allocation> Place(const core::JobSpec& job, SegmentId segment_id,
                                  ClusterState& state,
                                  const PlacementContext& context) const override {
    const Segment& segment = state.segment(segment_id);
    const core::Pool& pool = state.pool();
    const int d = std::max(job.worker.devices, 1);
    auto first_fit = [&](const std::vector<SwitchId>& switches) -> std::optional<Allocation> {
      const size_t mark = state.Mark();
      Allocation alloc;
      alloc.segment = segment_id;
      for (int w = 0; w < job.workers; ++w) {
        bool placed = false;
        for (SwitchId s : switches) {
          for (NodeId node : pool.switches()[s.value()].nodes) {
            if (placement::Excluded(context, node) || !state.Fits(node, job.worker)) continue;
            placement::TakeWorker(state, core::QueueOfJob(state.pool(), job), alloc,
                                  *placement::ChooseDevices(state, node, job.worker));
            placed = true;
            break;
          }
          if (placed) break;
        }
        if (!placed) {
          state.Rollback(mark);
          return std::nullopt;
        }
      }
      return alloc;
    };
    bool some_switch_could = false;
    for (SwitchId s : segment.switches) {
      if (!job.worker.fractional()) {
        int64_t whole = 0;  // workers of d devices the switch holds when empty
        for (NodeId node : pool.switches()[s.value()].nodes) {
          whole += pool.node(node).shape.devices / d;
        }
        some_switch_could = some_switch_could || whole >= job.workers;
        if (state.SwitchCapacity(s, d) < job.workers) continue;
      }
      if (auto alloc = first_fit({s})) return alloc;
    }
    if (some_switch_could) return std::nullopt;  // it waits for a switch, as YARN's would
    return first_fit(segment.switches);
  }
};

}  // namespace

const PlacementPolicy& FirstFitPlacement() {
  static const FirstFit policy;
  return policy;
}

}  // namespace suanpan::sched
