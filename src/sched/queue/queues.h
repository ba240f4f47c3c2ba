#pragma once
// The built-in queue policies. Each lives in its own file; registry.cc names them.

#include <algorithm>
#include <vector>

#include "sched/policy.h"

namespace suanpan::sched {

const QueuePolicy& FifoQueue();
const QueuePolicy& PriorityQueue();
const QueuePolicy& FairShareQueue();
const QueuePolicy& LasQueue();
const QueuePolicy& SrtfQueue();

// Shared by the policies: indexes 0..n-1 sorted by `less`, ties broken by job id.
template <typename Less>
std::vector<size_t> SortedOrder(const std::vector<QueuedJob>& queue, Less less) {
  std::vector<size_t> order(queue.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const core::JobSpec& x = *queue[a].spec;
    const core::JobSpec& y = *queue[b].spec;
    if (less(queue[a], queue[b])) return true;
    if (less(queue[b], queue[a])) return false;
    return x.id < y.id;
  });
  return order;
}

}  // namespace suanpan::sched
