#include <algorithm>
#include <functional>

#include "sched/federation/federation.h"

namespace suanpan::sched {
namespace {

class PriceFirst final : public FederationPolicy {
 public:
  std::string_view name() const override { return "price"; }
  // O(segments of the job's types x log).
  std::vector<Candidate> Candidates(const ClusterState& state,
                                    const core::JobSpec& job) const override {
    const core::Pool& pool = state.pool();
    const int per_worker = std::max(job.worker.devices, 1);
    const int64_t need = Round::NeedWhole(job);
    std::vector<Candidate> out;
    for (size_t pref = 0; pref < job.worker.types.size(); ++pref) {
      const core::DeviceTypeId type = job.worker.types[pref];
      for (SegmentId s : state.SegmentsOf(type)) {
        const Segment& seg = state.segment(s);
        if (seg.max_devices < per_worker || seg.total_devices < need) continue;
        const auto& price = pool.provider(seg.provider).price_per_device_hour[type.value()];
        out.push_back({s, price ? price->value() : MicroYuan::Max().value(), pref});
      }
    }
    std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
      if (a.price != b.price) return a.price < b.price;
      if (a.preference != b.preference) return a.preference < b.preference;
      return a.segment < b.segment;
    });
    return out;
  }
};

}  // namespace

const FederationPolicy& PriceFederation() {
  static const PriceFirst policy;
  return policy;
}

const std::vector<Candidate>& CandidateCache::For(const FederationPolicy& federation,
                                                  const ClusterState& state,
                                                  const core::JobSpec& job) {
  const int per_worker = std::max(job.worker.devices, 1);
  const int64_t need = Round::NeedWhole(job);
  uint64_t h =
      std::hash<int64_t>()(need) * 0x9e3779b97f4a7c15ULL ^ static_cast<uint64_t>(per_worker);
  for (core::DeviceTypeId t : job.worker.types) h = h * 1000003 ^ t.value();
  std::vector<std::unique_ptr<Entry>>& bucket = entries_[h];
  for (const auto& e : bucket) {
    if (e->per_worker == per_worker && e->need == need && e->types == job.worker.types) {
      return e->candidates;
    }
  }
  bucket.push_back(std::make_unique<Entry>(
      Entry{job.worker.types, per_worker, need, federation.Candidates(state, job)}));
  return bucket.back()->candidates;
}

}  // namespace suanpan::sched
