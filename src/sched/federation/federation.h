#pragma once
// federation/: which segments (cluster x device type) a job may be placed in, and in which
// order they are tried. A gang never spans two clusters, so never two providers: choosing the
// segment chooses the provider.
//   federation/price: every segment of the job's types that could ever hold it, cheapest price
//   per device-hour first, then the job's order of types, then the segment id. All candidates
//   start "now", so "earliest start, then price" reduces to price.

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sched/round.h"

namespace suanpan::sched {

class FederationPolicy {
 public:
  virtual ~FederationPolicy() = default;
  virtual std::string_view name() const = 0;
  // The segments that could ever hold `job` (nodes big enough for a worker, devices enough for
  // all of them), in the order to try them. A function of the pool and the job's shape (types,
  // devices per worker, devices in all), so callers cache it per shape (CandidateCache).
  virtual std::vector<Candidate> Candidates(const ClusterState& state,
                                            const core::JobSpec& job) const = 0;
};

const FederationPolicy& PriceFederation();

// Candidates per job shape, for one pool and one federation policy. A host keeps one across
// rounds, so that a waiting job costs a hash look-up, not a sort. O(1) expected per look-up.
class CandidateCache {
 public:
  const std::vector<Candidate>& For(const FederationPolicy& federation, const ClusterState& state,
                                    const core::JobSpec& job);
  void Clear() { entries_.clear(); }

 private:
  struct Entry {
    std::vector<core::DeviceTypeId> types;
    int per_worker;
    int64_t need;
    std::vector<Candidate> candidates;
  };
  // Entries never move once made: callers may keep the reference (a host's hot copy of a job).
  std::unordered_map<uint64_t, std::vector<std::unique_ptr<Entry>>> entries_;  // look-ups only
};

}  // namespace suanpan::sched
