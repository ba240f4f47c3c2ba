#pragma once
// The scheduler's extension points (STYLE.md 9): queue policies order the queue, placement
// policies find devices for a job in one segment. Each is a small interface with a registry
// keyed "kind/name" ("queue/fair_share", "placement/topology_pack"), compiled in and chosen by
// PolicyConfig. Admission (quotas), preemption, backfill and federation (provider choice) are
// steps of Schedule() configured here.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/job.h"
#include "sched/index/cluster_state.h"

namespace suanpan::sched {

struct PolicyConfig {
  std::string queue = "fifo";  // fifo | priority | fair_share | las | srtf
  std::string placement =
      "best_fit";  // best_fit | topology_pack | frag_aware | first_fit | first_fit
  bool preemption = true;
  bool backfill = true;  // EASY backfill: one reservation for the blocked head
  // Head-of-line blocking: the first job that cannot start ends the round, so nothing overtakes
  // it (strict FIFO, as YARN-CS and Tiresias' fifo). Overrides backfill.
  bool blocking = false;
  Seconds fair_share_half_life = Seconds(7 * 24 * 3600);
  // 2D-LAS queue limits in device-seconds of attained service; a job that passes limit i moves
  // to queue i + 1. Tiresias' defaults for its 60-job trace.
  std::vector<int64_t> las_thresholds = {3250, 7200, 18000};
  // How many waiting jobs (after the reserved head) get an earliest-start estimate in a round.
  // Each costs releases of running jobs until the job fits; the live loop keeps it at 0 and
  // answers "when will it start" on request; `suanpan plan` asks for more.
  int estimate_depth = 0;
  // How many waiting jobs get a kWait decision with a reason in a round; the rest are only
  // counted (Decisions::waits). -1: all. A live loop with a long backlog does not need to
  // re-explain ten thousand waiting jobs on every event.
  int64_t wait_details = -1;
};

// Validates names and values; InvalidArgument names the field.
Status ValidatePolicyConfig(const PolicyConfig& config);

// A queued (pending or preempted) job and what the queue policies need to know about it.
struct QueuedJob {
  const core::JobSpec* spec = nullptr;
  int64_t attained_service = 0;   // device-seconds already run (2D-LAS, srtf)
  Seconds executed = Seconds(0);  // wall seconds already run (srtf)
};

// Decayed device-seconds used per tenant per device type, the memory of fair share. The caller
// (simulator, control plane) keeps it with DecayUsage(); it is input to the pure scheduler.
struct UsageHistory {
  std::vector<std::vector<double>> device_seconds;  // [tenant][type]
};
// Halves usage every `half_life`: u * 2^(-elapsed / half_life). O(tenants * types).
void DecayUsage(UsageHistory& history, Seconds elapsed, Seconds half_life);

struct QueueContext {
  const ClusterState& state;
  const UsageHistory* history;  // may be null
  const PolicyConfig& config;
  Time now;
};

// Orders the queue. Implementations are deterministic: ties end on the job id.
class QueuePolicy {
 public:
  virtual ~QueuePolicy() = default;
  virtual std::string_view name() const = 0;
  // Returns indexes into `queue`, most urgent first.
  virtual std::vector<size_t> Order(const std::vector<QueuedJob>& queue,
                                    const QueueContext& context) const = 0;
  // A rank that preemption may compare (lower is more urgent), beyond priority classes: 2D-LAS
  // returns the job's service queue, so that a job in a higher queue preempts one that was
  // demoted. nullopt: the policy does not preempt by rank.
  virtual std::optional<int64_t> PreemptionRank(const core::JobSpec& job, int64_t attained,
                                                const PolicyConfig& config) const {
    (void)job;
    (void)attained;
    (void)config;
    return std::nullopt;
  }
};

struct PlacementContext {
  // Nodes a job may not use (held for a backfill reservation); null: none.
  const std::vector<uint8_t>* excluded = nullptr;
  // Popularity of request sizes in the queue, for fragmentation scores: [0] fractional,
  // [k] k whole devices (k <= 64). Sums to 1 when set.
  const std::vector<double>* size_weights = nullptr;
};

// Finds devices for all workers of `job` inside one segment. On success the allocation has
// been taken in `state` (through its undo log) and is returned; on failure `state` is unchanged.
class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;
  virtual std::string_view name() const = 0;
  virtual std::optional<Allocation> Place(const core::JobSpec& job, SegmentId segment,
                                          ClusterState& state,
                                          const PlacementContext& context) const = 0;
};

// Registries. Names are "fifo", "best_fit", ...; the kind is implied by the function.
const QueuePolicy* FindQueuePolicy(std::string_view name);
const PlacementPolicy* FindPlacementPolicy(std::string_view name);
std::vector<std::string> QueuePolicyNames();
std::vector<std::string> PlacementPolicyNames();

}  // namespace suanpan::sched
