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
  by_shape_.resize(segments);
  by_shape_behind_.resize(segments);
  skip_.resize(tenants);
  tenants_on_.resize(segments);
  wake_.resize(tenants);
  first_.resize(tenants);
  by_priority_.resize(segments);
  guarantee_.resize(segments);
  quota_limited_.resize(tenants);
  for_quota_.resize(tenants);
  behind_.resize(tenants);
}

size_t ParkedJobs::behind_size() const {
  size_t n = 0;
  for (const ByPosition& b : behind_) n += b.size();
  return n;
}

bool ParkedJobs::GuaranteeMatters(core::TenantId tenant, SegmentId s) const {
  const core::Pool& pool = state_.pool();
  if (tenant.value() >= pool.tenants().size()) return false;
  return pool.tenant(tenant).quota[state_.segment(s).type.value()].guaranteed.value() > 0;
}

void ParkedJobs::Park(Entry* e) {
  SP_CHECK(!e->parked);
  e->queued.parked = e;
  const core::JobSpec& spec = *e->queued.spec;
  const uint32_t t = spec.tenant.value();
  const uint64_t id = spec.id.value();
  e->parked = true;
  by_id_[id] = e;
  first_[t][e->position] = e;
  for (SegmentId s : e->on) {
    const std::pair<int, int> shape{e->devices, e->devices > 0 ? e->workers : int(e->need)};
    (BehindOn(*e, s) ? by_shape_behind_ : by_shape_)[s.value()][shape][e->position] = e;
    ++tenants_on_[s.value()][t];
    by_priority_[s.value()][{spec.priority, id}] = e;
    if (GuaranteeMatters(spec.tenant, s)) {
      guarantee_[s.value()][t][{spec.TotalShare().value(), id}] = e;
    }
  }
  if (e->quota_limited) quota_limited_[t][id] = e;
  if (e->behind) behind_[t][e->position] = e;
}

void ParkedJobs::ParkForQuota(Entry* e) {
  SP_CHECK(!e->parked);
  e->queued.parked = e;
  e->parked = true;
  e->for_quota = true;
  for_quota_[e->queued.spec->tenant.value()][e->position] = e;
  ++quota_count_;
}

std::vector<ParkedJobs::Entry*> ParkedJobs::ForQuota(core::TenantId tenant) const {
  std::vector<Entry*> out;
  for (const auto& [pos, e] : for_quota_[tenant.value()]) out.push_back(e);
  return out;
}

void ParkedJobs::Unpark(Entry* e) {
  if (!e->parked) return;
  const core::JobSpec& spec = *e->queued.spec;
  const uint32_t t = spec.tenant.value();
  const uint64_t id = spec.id.value();
  e->parked = false;
  e->queued.parked = nullptr;
  if (e->for_quota) {
    e->for_quota = false;
    for_quota_[t].erase(e->position);
    --quota_count_;
    return;
  }
  by_id_.erase(id);
  first_[t].erase(e->position);
  for (SegmentId s : e->on) {
    auto& index = (BehindOn(*e, s) ? by_shape_behind_ : by_shape_)[s.value()];
    auto bucket = index.find({e->devices, e->devices > 0 ? e->workers : int(e->need)});
    if (bucket != index.end()) {
      bucket->second.erase(e->position);
      if (bucket->second.empty()) index.erase(bucket);
    }
    auto on = tenants_on_[s.value()].find(t);
    if (on != tenants_on_[s.value()].end() && --on->second == 0) tenants_on_[s.value()].erase(on);
    by_priority_[s.value()].erase({spec.priority, id});
    auto g = guarantee_[s.value()].find(t);
    if (g != guarantee_[s.value()].end()) {
      g->second.erase({spec.TotalShare().value(), id});
      if (g->second.empty()) guarantee_[s.value()].erase(g);
    }
  }
  quota_limited_[t].erase(id);
  if (e->behind) behind_[t].erase(e->position);
  e->behind = false;
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
    if (!first_[t].empty() || !for_quota_[t].empty()) {
      out.push_back(core::TenantId(static_cast<uint32_t>(t)));
    }
  }
  return out;
}

std::optional<ParkedQueue::Entry> ParkedJobs::Next(core::TenantId tenant,
                                                   const QueuePosition* after, bool first_blocked,
                                                   bool tenant_released, bool behind_open,
                                                   const ClusterState& state) const {
  std::optional<ParkedQueue::Entry> best;
  auto consider = [&](const ByPosition& jobs, std::optional<SegmentId> via, bool reservation,
                      bool behind = false) {
    auto it = after ? jobs.upper_bound(*after) : jobs.begin();
    if (it == jobs.end()) return;
    if (!best || it->first < best->position) {
      best = ParkedQueue::Entry{&it->second->queued, it->first, via, it->second->need,
                                reservation, behind};
    }
  };
  const uint32_t t = tenant.value();
  if (tenant_released) {
    consider(first_[t], std::nullopt, false);
    consider(for_quota_[t], std::nullopt, false);
  } else {
    if (first_blocked) consider(first_[t], std::nullopt, true);
    if (behind_open) consider(behind_[t], std::nullopt, false, true);
  }
  // The wake list: the first entry after `after` that is still parked and still has room on one
  // of the released segments it waits for. Entries seen without room are skipped for good (until
  // a release rebuilds the list): room only shrinks in between.
  const auto& wake = wake_[t];
  auto& skip = skip_[t];
  auto find = [&](uint32_t i) {
    uint32_t root = i;
    while (root < skip.size() && skip[root] != root) root = skip[root];
    while (i < skip.size() && skip[i] != i) {  // path compression
      const uint32_t next = skip[i];
      skip[i] = root;
      i = next;
    }
    return root;
  };
  uint32_t i = static_cast<uint32_t>(
      after ? std::upper_bound(wake.begin(), wake.end(), *after,
                               [](const QueuePosition& p, const auto& e) { return p < e.first; }) -
                  wake.begin()
            : 0);
  for (i = find(i); i < wake.size(); i = find(i + 1)) {
    if (best && !(wake[i].first < best->position)) break;
    const Entry* e = wake[i].second;
    bool offered = false;
    if (e->parked && !e->for_quota) {
      for (SegmentId s : e->on) {
        if (state.ReleaseVersion(s) != verified_[s.value()] && RoomFor(*e, s, state)) {
          best = ParkedQueue::Entry{&e->queued, wake[i].first, s, e->need, false};
          offered = true;
          break;
        }
      }
    }
    if (offered) break;
    skip[i] = i + 1;
  }
  return best;
}

int64_t ParkedJobs::CapacityOffReservation(SegmentId s, int d, const ClusterState& state) const {
  int64_t cap = state.SegmentCapacity(s, d);
  for (core::NodeId n : behind_nodes_) {
    if (state.SegmentOfNode(n) == s) cap -= state.FreeWhole(n) / std::max(d, 1);
  }
  return cap;
}

bool ParkedJobs::RoomFor(const Entry& e, SegmentId s, const ClusterState& state) const {
  if (e.devices == 0) return e.need <= state.FreeKey(s);
  const int64_t cap = BehindOn(e, s) ? CapacityOffReservation(s, e.devices, state)
                                     : state.SegmentCapacity(s, e.devices);
  return cap >= e.workers;
}

bool ParkedJobs::MayFit(const ParkedQueue::Entry& entry, const ClusterState& state) const {
  if (!entry.via) return true;
  if (entry.job->parked == nullptr) return false;
  const Entry& e = *static_cast<const Entry*>(entry.job->parked);
  return e.parked && RoomFor(e, *entry.via, state);
}

void ParkedJobs::List(SegmentId s, const ClusterState& state, std::vector<uint8_t>* touched) {
  auto list = [&](const ByShape& index, bool behind) {
    int d = -1;
    int64_t cap = 0;
    for (const auto& [shape, jobs] : index) {
      const auto [devices, size] = shape;
      if (devices != d) {
        d = devices;
        cap = d == 0 ? state.FreeKey(s)
                     : (behind ? CapacityOffReservation(s, d, state) : state.SegmentCapacity(s, d));
      }
      if (size > cap) continue;  // fractions: size is the share; whole: the workers
      for (const auto& [pos, e] : jobs) {
        if (e->listed == round_) continue;
        e->listed = round_;
        const uint32_t t = e->queued.spec->tenant.value();
        wake_[t].emplace_back(pos, e);
        (*touched)[t] = 1;
      }
    }
  };
  list(by_shape_[s.value()], false);
  list(by_shape_behind_[s.value()], true);
}

void ParkedJobs::BeginRound(const ClusterState& state) {
  ++round_;
  for (auto& w : wake_) w.clear();
  std::vector<uint8_t> touched(wake_.size(), 0);
  for (size_t s = 0; s < verified_.size(); ++s) {
    const SegmentId id(static_cast<uint32_t>(s));
    if (state.ReleaseVersion(id) != verified_[s]) List(id, state, &touched);
  }
  for (size_t t = 0; t < wake_.size(); ++t) {
    if (touched[t]) {
      std::sort(wake_[t].begin(), wake_[t].end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    skip_[t].resize(wake_[t].size());
    for (uint32_t i = 0; i < skip_[t].size(); ++i) skip_[t][i] = i;
  }
}

void ParkedJobs::ReleasedInRound(SegmentId s, const ClusterState& state) {
  std::vector<uint8_t> touched(wake_.size(), 0);
  List(s, state, &touched);
  // Room came back: every tenant's skips are void.
  for (size_t t = 0; t < wake_.size(); ++t) {
    if (touched[t]) {
      std::sort(wake_[t].begin(), wake_[t].end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    skip_[t].resize(wake_[t].size());
    for (uint32_t i = 0; i < skip_[t].size(); ++i) skip_[t][i] = i;
  }
}

bool ParkedJobs::KnownToFail(const QueuedJob& job, SegmentId s, const ClusterState& state) const {
  if (job.parked == nullptr) return false;
  const Entry& e = *static_cast<const Entry*>(job.parked);
  if (!e.parked || e.for_quota) return false;
  if (e.behind && s == e.behind_segment) return false;  // it fits there, but for the reservation
  if (std::find(e.on.begin(), e.on.end(), s) == e.on.end()) return false;
  return state.ReleaseVersion(s) == verified_[s.value()] || !RoomFor(e, s, state);
}

std::vector<core::TenantId> ParkedJobs::TenantsOn(SegmentId s) const {
  std::vector<core::TenantId> out;
  for (const auto& [t, count] : tenants_on_[s.value()]) out.push_back(core::TenantId(t));
  return out;
}

}  // namespace suanpan::sched
