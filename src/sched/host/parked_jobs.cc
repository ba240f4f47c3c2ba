#include "sched/host/parked_jobs.h"

#include <algorithm>

namespace suanpan::sched {

ParkedJobs::ParkedJobs(const ClusterState& state) : state_(state) {
  const size_t segments = state.segments().size();
  const size_t tenants = state.pool().QueueCount();  // indexed by queue (core::QueueId)
  verified_.resize(segments);
  for (size_t s = 0; s < segments; ++s) {
    verified_[s] = state.ReleaseVersion(SegmentId(static_cast<uint32_t>(s)));
  }
  buckets_.resize(segments);
  shapes_.resize(segments);
  woken_.resize(segments);
  tenants_on_.resize(segments);
  open_.resize(tenants);
  open_round_.assign(tenants, 0);
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

int64_t ParkedJobs::GuaranteeRoom(core::QueueId queue, core::DeviceTypeId type) const {
  const core::Pool& pool = state_.pool();
  const core::TenantId tenant = pool.TenantOfQueue(queue);
  int64_t room = pool.tenant(tenant).quota[type.value()].guaranteed.value() -
                 state_.TenantUsage(tenant, type).value();
  // A project within its own guarantee may reclaim from its siblings (preemption/gang).
  if (const core::Project* p = pool.ProjectOf(queue)) {
    room = std::max(
        room, p->quota[type.value()].guaranteed.value() - state_.QueueUsage(queue, type).value());
  }
  return room;
}

void ParkedJobs::Park(Entry* e) {
  SP_CHECK(!e->parked);
  e->queued.parked = e;
  const core::JobSpec& spec = *e->queued.spec;
  const uint32_t t = core::QueueOfJob(state_.pool(), spec).value();
  const uint64_t id = spec.id.value();
  e->parked = true;
  by_id_[id] = e;
  first_[t][e->position] = e;
  for (SegmentId s : e->on) {
    const Shape shape = ShapeOn(*e, s);
    buckets_[s.value()][t][shape][e->position] = e;
    ++shapes_[s.value()][shape];
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
  for_quota_[core::QueueOfJob(state_.pool(), *e->queued.spec).value()][e->position] = e;
  ++quota_count_;
}

std::vector<ParkedJobs::Entry*> ParkedJobs::ForQuota(core::TenantId tenant) const {
  std::vector<Entry*> out;
  for (core::QueueId q : state_.pool().QueuesOf(tenant)) {
    for (const auto& [pos, e] : for_quota_[q.value()]) out.push_back(e);
  }
  return out;
}

void ParkedJobs::Unpark(Entry* e) {
  if (!e->parked) return;
  const core::JobSpec& spec = *e->queued.spec;
  const uint32_t t = core::QueueOfJob(state_.pool(), spec).value();
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
    auto of_tenant = buckets_[s.value()].find(t);
    if (of_tenant != buckets_[s.value()].end()) {
      ByShape& shapes = of_tenant->second;
      const Shape shape = ShapeOn(*e, s);
      auto bucket = shapes.find(shape);
      if (bucket != shapes.end() && bucket->second.erase(e->position) > 0) {
        if (bucket->second.empty()) shapes.erase(bucket);
        auto count = shapes_[s.value()].find(shape);
        if (count != shapes_[s.value()].end() && --count->second == 0) {
          shapes_[s.value()].erase(count);
        }
      }
      if (shapes.empty()) buckets_[s.value()].erase(of_tenant);
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
  for (const auto& [queue, jobs] : guarantee_[s.value()]) {
    const int64_t room = GuaranteeRoom(core::QueueId(queue), type);
    for (auto it = jobs.begin(); it != jobs.end() && it->first.first <= room; ++it) {
      out.push_back(it->second);
    }
  }
  return out;
}

std::vector<ParkedJobs::Entry*> ParkedJobs::TenantReleased(core::TenantId tenant,
                                                           core::DeviceTypeId type) const {
  std::vector<Entry*> out;
  const core::Pool& pool = state_.pool();
  if (tenant.value() >= pool.tenants().size()) {
    if (tenant.value() < quota_limited_.size()) {
      for (const auto& [id, e] : quota_limited_[tenant.value()]) out.push_back(e);
    }
    return out;
  }
  for (core::QueueId q : pool.QueuesOf(tenant)) {
    const uint32_t t = q.value();
    for (const auto& [id, e] : quota_limited_[t]) out.push_back(e);
    const int64_t room = GuaranteeRoom(q, type);
    if (room <= 0) continue;
    for (SegmentId s : state_.SegmentsOf(type)) {
      auto g = guarantee_[s.value()].find(t);
      if (g == guarantee_[s.value()].end()) continue;
      for (auto it = g->second.begin(); it != g->second.end() && it->first.first <= room; ++it) {
        out.push_back(it->second);
      }
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
      best = ParkedQueue::Entry{&it->second->queued, it->first,   via,
                                it->second->need,    reservation, behind};
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
  // Each open bucket's first job after `after`, while the bucket has room. A job parked on
  // several released segments is found through the first of them with room.
  for (Open& b : OpenFor(t)) {
    if (b.closed) continue;
    // Positions asked about mostly grow: move forward from the last answer, or look up again.
    if (!after) {
      if (b.from) b.next = b.jobs->begin();
      b.from.reset();
    } else if ((b.from && *after < *b.from) ||
               (b.next != b.jobs->end() && b.next->first <= *after)) {
      b.next = b.jobs->upper_bound(*after);
      b.from = *after;
    } else {
      b.from = *after;  // nothing in (from, after]: `next` still stands
    }
    if (b.next == b.jobs->end() || (best && !(b.next->first < best->position))) continue;
    const uint64_t version = state.SegmentVersion(b.segment);
    if (b.room_version != version) {
      b.room = RoomForShape(b.shape, b.segment, state);
      b.room_version = version;
    }
    if (!b.room) {
      b.closed = true;
      continue;
    }
    best = ParkedQueue::Entry{&b.next->second->queued, b.next->first, b.segment,
                              b.next->second->need, false};
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
  return RoomForShape(ShapeOn(e, s), s, state);
}

bool ParkedJobs::RoomForShape(const Shape& shape, SegmentId s, const ClusterState& state) const {
  if (shape.devices == 0) return shape.size <= state.FreeKey(s);
  const int64_t cap = shape.behind ? CapacityOffReservation(s, shape.devices, state)
                                   : state.SegmentCapacity(s, shape.devices);
  return cap >= shape.size;
}

std::vector<ParkedJobs::Open>& ParkedJobs::OpenFor(uint32_t tenant) const {
  std::vector<Open>& open = open_[tenant];
  if (open_round_[tenant] == round_) return open;
  open_round_[tenant] = round_;
  open.clear();
  for (SegmentId s : released_) AddOpen(tenant, s);
  return open;
}

void ParkedJobs::AddOpen(uint32_t tenant, SegmentId s) const {
  auto of_tenant = buckets_[s.value()].find(tenant);
  if (of_tenant == buckets_[s.value()].end()) return;
  const std::set<Shape>& woken = woken_[s.value()];
  if (woken.empty()) return;
  std::vector<Open>& open = open_[tenant];
  // Both sorted by shape: their intersection in one pass.
  auto w = woken.begin();
  for (const auto& [shape, jobs] : of_tenant->second) {
    while (w != woken.end() && *w < shape) ++w;
    if (w == woken.end()) break;
    if (*w == shape) open.push_back({&jobs, s, shape, jobs.begin(), std::nullopt});
  }
}

bool ParkedJobs::MayFit(const ParkedQueue::Entry& entry, const ClusterState& state) const {
  if (!entry.via) return true;
  if (entry.job->parked == nullptr) return false;
  const Entry& e = *static_cast<const Entry*>(entry.job->parked);
  return e.parked && RoomFor(e, *entry.via, state);
}

void ParkedJobs::BeginRound(const ClusterState& state) {
  ++round_;
  for (SegmentId s : released_) woken_[s.value()].clear();
  released_.clear();
  for (size_t s = 0; s < verified_.size(); ++s) {
    const SegmentId id(static_cast<uint32_t>(s));
    if (state.ReleaseVersion(id) != verified_[s]) Wake(id, state);
  }
}

void ParkedJobs::Wake(SegmentId s, const ClusterState& state) {
  if (std::find(released_.begin(), released_.end(), s) == released_.end()) released_.push_back(s);
  std::set<Shape>& woken = woken_[s.value()];
  for (const auto& [shape, count] : shapes_[s.value()]) {
    if (RoomForShape(shape, s, state)) woken.insert(shape);
  }
}

void ParkedJobs::ReleasedInRound(SegmentId s, const ClusterState& state) {
  // Room came back on `s`: the shapes with room there now join, and the buckets of `s` that were
  // closed may have room again (the tenants' other buckets stay as they are: no room came back
  // there).
  Wake(s, state);
  for (const auto& [t, count] : tenants_on_[s.value()]) {
    if (open_round_[t] != round_) continue;  // built when first asked
    std::erase_if(open_[t], [&](const Open& o) { return o.segment == s; });
    AddOpen(t, s);
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
