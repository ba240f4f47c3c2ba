#include "sched/host/parked_jobs.h"

#include <algorithm>

namespace suanpan::sched {

ParkedJobs::ParkedJobs(const ClusterState& state) : state_(state) {
  const size_t segments = state.segments().size();
  const size_t tenants = state.pool().tenants().size() + 1;
  verified_.resize(segments);
  for (size_t s = 0; s < segments; ++s) {
    verified_[s] = state.ReleaseVersion(SegmentId(static_cast<uint32_t>(s)));
  }
  by_tenant_.resize(tenants);
  first_.resize(tenants);
  by_priority_.resize(segments);
  guarantee_.resize(segments);
  quota_limited_.resize(tenants);
}

bool ParkedJobs::GuaranteeMatters(core::TenantId tenant, SegmentId s) const {
  const core::Pool& pool = state_.pool();
  if (tenant.value() >= pool.tenants().size()) return false;
  return pool.tenant(tenant).quota[state_.segment(s).type.value()].guaranteed.value() > 0;
}

void ParkedJobs::Park(Entry* e) {
  SP_CHECK(!e->parked);
  const core::JobSpec& spec = *e->queued.spec;
  const uint32_t t = spec.tenant.value();
  const uint64_t id = spec.id.value();
  e->parked = true;
  by_id_[id] = e;
  first_[t][e->position] = e;
  for (SegmentId s : e->on) {
    TenantSegment& ts = by_tenant_[t][s.value()];
    ts.by_need[e->need][e->position] = e;
    ++ts.count;
    by_priority_[s.value()][{spec.priority, id}] = e;
    if (GuaranteeMatters(spec.tenant, s)) {
      guarantee_[s.value()][t][{spec.TotalShare().value(), id}] = e;
    }
  }
  if (e->quota_limited) quota_limited_[t][id] = e;
}

void ParkedJobs::Unpark(Entry* e) {
  if (!e->parked) return;
  const core::JobSpec& spec = *e->queued.spec;
  const uint32_t t = spec.tenant.value();
  const uint64_t id = spec.id.value();
  e->parked = false;
  by_id_.erase(id);
  first_[t].erase(e->position);
  for (SegmentId s : e->on) {
    auto it = by_tenant_[t].find(s.value());
    if (it != by_tenant_[t].end()) {
      auto bucket = it->second.by_need.find(e->need);
      if (bucket != it->second.by_need.end()) {
        bucket->second.erase(e->position);
        if (bucket->second.empty()) it->second.by_need.erase(bucket);
      }
      if (--it->second.count == 0) by_tenant_[t].erase(it);
    }
    by_priority_[s.value()].erase({spec.priority, id});
    auto g = guarantee_[s.value()].find(t);
    if (g != guarantee_[s.value()].end()) {
      g->second.erase({spec.TotalShare().value(), id});
      if (g->second.empty()) guarantee_[s.value()].erase(g);
    }
  }
  quota_limited_[t].erase(id);
}

std::vector<ParkedJobs::Entry*> ParkedJobs::PossibleVictimStarted(
    SegmentId s, const core::JobSpec& started) const {
  std::vector<Entry*> out;
  const auto& by_priority = by_priority_[s.value()];
  for (auto it = by_priority.upper_bound({started.priority, UINT64_MAX}); it != by_priority.end();
       ++it) {
    out.push_back(it->second);
  }
  // Tenants within their guarantee may reclaim from any preemptible job.
  const core::DeviceTypeId type = state_.segment(s).type;
  for (const auto& [tenant, jobs] : guarantee_[s.value()]) {
    const core::TenantId id(tenant);
    const int64_t room = state_.pool().tenant(id).quota[type.value()].guaranteed.value() -
                         state_.TenantUsage(id, type).value();
    for (auto it = jobs.begin(); it != jobs.end() && it->first.first <= room; ++it) {
      out.push_back(it->second);
    }
  }
  return out;
}

std::vector<ParkedJobs::Entry*> ParkedJobs::TenantReleased(core::TenantId tenant,
                                                           core::DeviceTypeId type) const {
  std::vector<Entry*> out;
  const uint32_t t = tenant.value();
  if (t >= quota_limited_.size()) return out;
  for (const auto& [id, e] : quota_limited_[t]) out.push_back(e);
  const core::Pool& pool = state_.pool();
  if (t >= pool.tenants().size()) return out;
  const int64_t room = pool.tenant(tenant).quota[type.value()].guaranteed.value() -
                       state_.TenantUsage(tenant, type).value();
  if (room <= 0) return out;
  for (SegmentId s : state_.SegmentsOf(type)) {
    auto g = guarantee_[s.value()].find(t);
    if (g == guarantee_[s.value()].end()) continue;
    for (auto it = g->second.begin(); it != g->second.end() && it->first.first <= room; ++it) {
      out.push_back(it->second);
    }
  }
  return out;
}

std::vector<ParkedJobs::Entry*> ParkedJobs::All() const {
  std::vector<Entry*> out;
  for (const ByPosition& f : first_) {
    for (const auto& [pos, e] : f) out.push_back(e);
  }
  return out;
}

void ParkedJobs::Verify(const std::vector<uint8_t>& released_in_round) {
  for (size_t s = 0; s < verified_.size(); ++s) {
    if (s < released_in_round.size() && released_in_round[s]) continue;
    verified_[s] = state_.ReleaseVersion(SegmentId(static_cast<uint32_t>(s)));
  }
}

std::vector<core::TenantId> ParkedJobs::Tenants() const {
  std::vector<core::TenantId> out;
  for (size_t t = 0; t < first_.size(); ++t) {
    if (!first_[t].empty()) out.push_back(core::TenantId(static_cast<uint32_t>(t)));
  }
  return out;
}

std::optional<ParkedQueue::Entry> ParkedJobs::Next(core::TenantId tenant,
                                                   const QueuePosition* after, bool any,
                                                   const ClusterState& state) const {
  std::optional<ParkedQueue::Entry> best;
  auto consider = [&](const ByPosition& jobs) {
    auto it = after ? jobs.upper_bound(*after) : jobs.begin();
    if (it == jobs.end()) return;
    if (!best || it->first < best->position) best = ParkedQueue::Entry{&it->second->queued, it->first};
  };
  const uint32_t t = tenant.value();
  if (any) consider(first_[t]);
  for (const auto& [segment, ts] : by_tenant_[t]) {
    const SegmentId s(segment);
    if (state.ReleaseVersion(s) == verified_[segment]) continue;  // no capacity came back
    const int64_t free = state.FreeKey(s);
    for (const auto& [need, jobs] : ts.by_need) {
      if (need > free) break;
      consider(jobs);
    }
  }
  return best;
}

bool ParkedJobs::KnownToFail(const QueuedJob& job, SegmentId s, const ClusterState& state) const {
  auto it = by_id_.find(job.spec->id.value());
  if (it == by_id_.end()) return false;
  const Entry& e = *it->second;
  if (std::find(e.on.begin(), e.on.end(), s) == e.on.end()) return false;
  return state.ReleaseVersion(s) == verified_[s.value()] || e.need > state.FreeKey(s);
}

std::vector<core::TenantId> ParkedJobs::TenantsOn(SegmentId s) const {
  std::vector<core::TenantId> out;
  for (size_t t = 0; t < by_tenant_.size(); ++t) {
    if (by_tenant_[t].count(s.value())) out.push_back(core::TenantId(static_cast<uint32_t>(t)));
  }
  return out;
}

}  // namespace suanpan::sched
