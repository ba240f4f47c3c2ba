#pragma once
// The runtime model: how long a job runs where it is placed. Durations are exact integers.
//
//   run time on type T = the trace's time for T, if it gives one; else the reference time scaled
//                        by peak throughput: duration x tflops(reference) / tflops(T), rounded up;
//   spread penalty     = a gang whose workers use more nodes than the fewest that could hold it
//                        runs `spread_penalty_permille` per extra node slower, and one under more
//                        than one leaf switch `switch_penalty_permille` slower;
//   preemption         = work since the last checkpoint is lost (all of it without checkpoints);
//                        the restart pays the job's restore cost;
//   failures           = optional: each device fails after an exponential time with mean
//                        `device_mtbf` (seeded); the jobs on it are requeued with their work
//                        since the last checkpoint lost.
//   Example: a 4-GPU job of 1,000 s on the reference type, placed on 2 nodes where 1 would do,
//   with a 100 permille penalty per extra node: 1,000 x 1.1 = 1,100 s.

#include <cstdint>
#include <map>
#include <string>

#include "base/quantity.h"

namespace suanpan::sim {

struct RuntimeModel {
  int64_t spread_penalty_permille = 0;  // per node beyond the fewest possible
  int64_t switch_penalty_permille = 0;  // once, when the gang spans leaf switches
  Seconds device_mtbf = Seconds(0);     // 0: no failures
};

// Applies the spread penalty to `duration`. O(1).
inline int64_t WithPenalty(int64_t duration, int64_t extra_nodes, bool spans_switches,
                           const RuntimeModel& model) {
  const int64_t permille = 1000 + model.spread_penalty_permille * extra_nodes +
                           (spans_switches ? model.switch_penalty_permille : 0);
  return (duration * permille + 999) / 1000;
}

}  // namespace suanpan::sim
