#pragma once
// The scheduler's extension points (STYLE.md 9). Each is a small interface with a registry keyed
// "kind/name", compiled in and chosen by PolicyConfig:
//   queue/       the order of the queue             (fifo, priority, fair_share, las, srtf)
//   placement/   devices for a job in one segment   (best_fit, topology_pack, frag_aware,
//   first_fit) admission/   who may start now                  (quota) federation/  which segments
//   (cluster x type), in which order  (price) backfill/    the blocked head's reservation (easy,
//   none) preemption/  victims for a job that does not fit (gang, none)
// The last four live in their own folders (sched/admission, ...); Schedule() runs them in that
// order for each queued job.

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
  std::string queue = "fifo";          // queue/<name>
  std::string placement = "best_fit";  // placement/<name>
  std::string admission = "quota";     // admission/<name>
  std::string federation = "price";    // federation/<name>
  bool preemption = true;              // preemption/gang (false: preemption/none)
  bool backfill = true;                // backfill/easy: one reservation for the blocked head
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

struct Candidate;

// A queued (pending or preempted) job and what the queue policies need to know about it.
struct QueuedJob {
  const core::JobSpec* spec = nullptr;
  int64_t attained_service = 0;   // device-seconds already run (2D-LAS)
  Seconds executed = Seconds(0);  // wall seconds already run (srtf)
  // Kept by a host in its hot copy of the job: the job's candidate segments (a function of the
  // pool and its shape, see federation/), and its parked entry (opaque; null while active).
  const std::vector<Candidate>* candidates = nullptr;
  const void* parked = nullptr;
};

// Decayed device-seconds used per tenant per device type, the memory of fair share, as of the
// round's time. Kept by the scheduling host (sched::UsageMemory); input to the pure scheduler.
// Either a table, or (from a host, without copying) its stored values and the round's factor.
struct UsageHistory {
  std::vector<std::vector<double>> device_seconds;  // [tenant][type]
  const std::vector<double>* stored = nullptr;      // [tenant * types + type]
  size_t types = 0;
  double factor = 1.0;
  double At(size_t tenant, size_t type) const {
    if (stored != nullptr) {
      const size_t i = tenant * types + type;
      return i < stored->size() ? (*stored)[i] * factor : 0.0;
    }
    if (tenant >= device_seconds.size() || type >= device_seconds[tenant].size()) return 0.0;
    return device_seconds[tenant][type];
  }
};

// A job's place in its tenant's queue: smaller first, ties on the job id. Constant while the job
// is queued (it may change between two stays in the queue, as attained service grows).
using OrderKey = std::array<int64_t, 3>;

// Orders the queue. The order is a merge of the tenants' queues, each sorted by Key():
//   - by Key() itself (fifo, priority, las, srtf): the whole queue is sorted by Key();
//   - by dominant share (fair_share, MergesByShare): inside a priority class (Key()[0]), the
//     tenant with the smallest share goes next; its share grows with each job bound in the round
//     (progressive filling, as Mesos' DRF allocator), so tenants interleave.
// A job that is considered and not bound does not move anyone else (its tenant's share does not
// grow), which is what lets a host set aside jobs that cannot fit without changing the order of
// the others (sched::Host). Deterministic: ties end on the job id (and the tenant id).
class QueuePolicy {
 public:
  virtual ~QueuePolicy() = default;
  virtual std::string_view name() const = 0;
  virtual OrderKey Key(const QueuedJob& job, const PolicyConfig& config) const = 0;
  virtual bool MergesByShare() const { return false; }
  // What the policy reads, so that a host computes it only when asked.
  virtual bool UsesUsageHistory() const { return false; }
  virtual bool UsesAttainedService() const { return false; }
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
  // The attained service (device-seconds) at which a job that has `attained` now next changes
  // rank; nullopt: never. A host turns it into the time a round is due (2D-LAS: the next limit).
  virtual std::optional<int64_t> NextRankChange(int64_t attained,
                                                const PolicyConfig& config) const {
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
// Contract the scheduling host relies on (checked by the placement conformance suite): a job
// that does not fit a segment does not fit it with fewer free devices, CPU or memory either.
class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;
  virtual std::string_view name() const = 0;
  virtual std::optional<Allocation> Place(const core::JobSpec& job, SegmentId segment,
                                          ClusterState& state,
                                          const PlacementContext& context) const = 0;
  // Whether Place() reads PlacementContext::size_weights (so a caller computes them).
  virtual bool UsesSizeWeights() const { return false; }
};

// Registries. Names are "fifo", "best_fit", ...; the kind is implied by the function.
const QueuePolicy* FindQueuePolicy(std::string_view name);
const PlacementPolicy* FindPlacementPolicy(std::string_view name);
std::vector<std::string> QueuePolicyNames();
std::vector<std::string> PlacementPolicyNames();

}  // namespace suanpan::sched
