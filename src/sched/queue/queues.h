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
// Callers usually keep their queue in arrival order and append requeued jobs at the end, so the
// input is mostly sorted already: the longest sorted prefix is kept as it is, only the rest is
// sorted and the two are merged. O(n + k log k) for k entries after the sorted prefix; O(n log n)
// at worst.
template <typename Less>
std::vector<size_t> SortedOrder(const std::vector<QueuedJob>& queue, Less less) {
  auto before = [&](size_t a, size_t b) {
    if (less(queue[a], queue[b])) return true;
    if (less(queue[b], queue[a])) return false;
    return queue[a].spec->id < queue[b].spec->id;
  };
  std::vector<size_t> order(queue.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  size_t prefix = 1;
  while (prefix < order.size() && !before(order[prefix], order[prefix - 1])) ++prefix;
  if (prefix >= order.size()) return order;
  std::sort(order.begin() + static_cast<std::ptrdiff_t>(prefix), order.end(), before);
  std::inplace_merge(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(prefix),
                     order.end(), before);
  return order;
}

}  // namespace suanpan::sched
