// The registries of compiled-in policies. Adding a policy: one file under queue/ or placement/,
// one line here.

#include <fmt/format.h>

#include "sched/decision.h"
#include "sched/placement/placement.h"
#include "sched/policy.h"
#include "sched/queue/queues.h"

namespace suanpan::sched {
namespace {

const std::vector<const QueuePolicy*>& QueuePolicies() {
  static const std::vector<const QueuePolicy*> policies = {
      &FifoQueue(), &PriorityQueue(), &FairShareQueue(), &LasQueue(), &SrtfQueue()};
  return policies;
}

const std::vector<const PlacementPolicy*>& PlacementPolicies() {
  static const std::vector<const PlacementPolicy*> policies = {
      &BestFitPlacement(), &TopologyPackPlacement(), &FragAwarePlacement(), &FirstFitPlacement()};
  return policies;
}

template <typename T>
std::string JoinNames(const std::vector<const T*>& policies) {
  std::string out;
  for (const T* p : policies) {
    if (!out.empty()) out += ", ";
    out += p->name();
  }
  return out;
}

}  // namespace

const QueuePolicy* FindQueuePolicy(std::string_view name) {
  for (const QueuePolicy* p : QueuePolicies()) {
    if (p->name() == name) return p;
  }
  return nullptr;
}

const PlacementPolicy* FindPlacementPolicy(std::string_view name) {
  for (const PlacementPolicy* p : PlacementPolicies()) {
    if (p->name() == name) return p;
  }
  return nullptr;
}

std::vector<std::string> QueuePolicyNames() {
  std::vector<std::string> out;
  for (const QueuePolicy* p : QueuePolicies()) out.emplace_back(p->name());
  return out;
}

std::vector<std::string> PlacementPolicyNames() {
  std::vector<std::string> out;
  for (const PlacementPolicy* p : PlacementPolicies()) out.emplace_back(p->name());
  return out;
}

Status ValidatePolicyConfig(const PolicyConfig& config) {
  if (FindQueuePolicy(config.queue) == nullptr) {
    return InvalidArgumentError(fmt::format("policy.queue: unknown policy '{}' (known: {})",
                                            config.queue, JoinNames(QueuePolicies())));
  }
  if (FindPlacementPolicy(config.placement) == nullptr) {
    return InvalidArgumentError(fmt::format("policy.placement: unknown policy '{}' (known: {})",
                                            config.placement, JoinNames(PlacementPolicies())));
  }
  if (config.admission != "quota") {
    return InvalidArgumentError(
        fmt::format("policy.admission: unknown policy '{}' (known: quota)", config.admission));
  }
  if (config.federation != "price") {
    return InvalidArgumentError(
        fmt::format("policy.federation: unknown policy '{}' (known: price)", config.federation));
  }
  if (config.fair_share_half_life.value() <= 0) {
    return InvalidArgumentError(
        fmt::format("policy.fair_share_half_life_hours: must be > 0, got {} s",
                    config.fair_share_half_life.value()));
  }
  for (size_t i = 0; i < config.las_thresholds.size(); ++i) {
    if (config.las_thresholds[i] <= 0 ||
        (i > 0 && config.las_thresholds[i] <= config.las_thresholds[i - 1])) {
      return InvalidArgumentError(fmt::format(
          "policy.las_thresholds_device_seconds[{}]: must be positive and increasing, got {}", i,
          config.las_thresholds[i]));
    }
  }
  if (config.estimate_depth < 0 || config.estimate_depth > 100'000) {
    return InvalidArgumentError(
        fmt::format("policy.estimate_depth: must be in 0..100000, got {}", config.estimate_depth));
  }
  return OkStatus();
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPlaced:
      return "placed";
    case Outcome::kWait:
      return "wait";
    case Outcome::kUnschedulable:
      return "unschedulable";
    case Outcome::kInfeasible:
      return "infeasible";
  }
  return "?";
}

std::string_view DecisionKindName(DecisionKind kind) {
  switch (kind) {
    case DecisionKind::kBind:
      return "bind";
    case DecisionKind::kPreempt:
      return "preempt";
    case DecisionKind::kReserve:
      return "reserve";
    case DecisionKind::kWait:
      return "wait";
    case DecisionKind::kReject:
      return "reject";
  }
  return "?";
}

}  // namespace suanpan::sched
