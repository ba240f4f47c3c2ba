// The pool as the API shows it: providers, clusters, nodes, tenants and their quotas, and the
// state gauges of /metrics.

#include <fmt/format.h>

#include <bit>
#include <cmath>

#include "control/control_plane.h"
#include "sched/queue/queues.h"

namespace suanpan::control {

std::vector<ProviderView> ControlPlane::Providers() const {
  std::vector<ProviderView> out;
  const core::DeviceCatalog& cat = pool_->catalog();
  const sched::ClusterState& state = host_->state();
  for (size_t p = 0; p < pool_->providers().size(); ++p) {
    const core::Provider& prov = pool_->providers()[p];
    ProviderView v;
    v.name = prov.name;
    v.region = prov.region;
    v.backend = std::string(core::BackendKindName(prov.backend));
    for (core::ClusterId c : prov.clusters) v.clusters.push_back(pool_->cluster(c).name);
    if (const Backend* b = backend_of_provider_[p]) v.engine = b->Engine();
    for (const sched::Segment& seg : state.segments()) {
      if (seg.provider.value() != p) continue;
      DeviceCount& d = v.devices[cat.Get(seg.type).name];
      d.total += seg.total_devices;
      d.free += seg.free_whole;
    }
    for (size_t t = 0; t < prov.price_per_device_hour.size(); ++t) {
      if (prov.price_per_device_hour[t]) {
        v.price_micro_per_hour[cat.Get(core::DeviceTypeId(t)).name] =
            prov.price_per_device_hour[t]->value();
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<ClusterView> ControlPlane::Clusters() const {
  std::vector<ClusterView> out;
  const core::DeviceCatalog& cat = pool_->catalog();
  for (size_t c = 0; c < pool_->clusters().size(); ++c) {
    const core::Cluster& cl = pool_->clusters()[c];
    ClusterView v;
    v.name = cl.name;
    v.provider = pool_->provider(cl.provider).name;
    v.nodes = cl.nodes.size();
    v.leaf_switches = cl.switches.size();
    v.blocks = cl.blocks.size();
    for (const sched::Segment& seg : host_->state().segments()) {
      if (seg.cluster.value() != c) continue;
      v.devices[cat.Get(seg.type).name] = {seg.total_devices, seg.free_whole};
    }
    out.push_back(std::move(v));
  }
  return out;
}

namespace {
NodeView ViewOf(const core::Pool& pool, const sched::Host& host, const NodeLeases& leases,
                core::NodeId id) {
  const sched::ClusterState& state = host.state();
  const core::Node& n = pool.node(id);
  NodeView v;
  v.name = n.name;
  v.provider = pool.provider(n.provider).name;
  v.cluster = pool.cluster(n.cluster).name;
  v.group = n.group;
  v.device_type = pool.catalog().Get(n.shape.type).name;
  v.devices = n.shape.devices;
  v.free_devices = state.FreeWhole(id);
  v.domain_size = n.shape.domain_size;
  v.leaf_switch = pool.switches()[n.leaf.value()].name;
  v.block = pool.blocks()[n.block.value()].name;
  v.cpu_cores = n.shape.cpu.value() / 1000;
  v.memory_gib = n.shape.memory.value() / 1024;
  v.agent = leases.AgentState(id.value());
  for (int d = 0; d < n.shape.devices; ++d) v.free_share.push_back(state.FreeShare(id, d).value());
  v.cordoned = host.Cordoned(id);
  v.external = host.ExternallyHeld(id);
  return v;
}
}  // namespace

StatusOr<NodePage> ControlPlane::Nodes(const Caller& caller,
                                       const std::map<std::string, std::string>& filter,
                                       size_t offset, size_t limit) const {
  if (caller.role == Role::kAgent) {
    return PermissionDeniedError("agents may only read their own node");
  }
  std::map<std::string, std::string> own;
  if (caller.role == Role::kPartner) {  // a partner's own provider's nodes only
    if (auto it = filter.find("provider"); it != filter.end() && it->second != caller.scope) {
      return PermissionDeniedError(
                 fmt::format("provider: this token may only read provider '{}'", caller.scope))
          .WithField("provider");
    }
    own = filter;
    own["provider"] = caller.scope;
  }
  const std::map<std::string, std::string>& wanted = caller.role == Role::kPartner ? own : filter;
  for (const auto& [k, v] : wanted) {
    (void)v;
    if (k != "provider" && k != "cluster" && k != "device_type") {
      return FieldError(k, "unknown filter");
    }
  }
  // A filter naming nothing in the pool is a typo, not an empty answer.
  if (auto it = wanted.find("device_type");
      it != wanted.end() && !pool_->catalog().Find(it->second)) {
    return FieldError("device_type", fmt::format("unknown device type '{}'", it->second));
  }
  if (auto it = wanted.find("provider"); it != wanted.end() && !pool_->FindProvider(it->second)) {
    return FieldError("provider", fmt::format("unknown provider '{}'", it->second));
  }
  if (auto it = wanted.find("cluster"); it != wanted.end() && !pool_->FindCluster(it->second)) {
    return FieldError("cluster", fmt::format("unknown cluster '{}'", it->second));
  }
  NodePage page;
  page.offset = offset;
  for (size_t i = 0; i < pool_->nodes().size(); ++i) {
    const core::Node& n = pool_->nodes()[i];
    auto want = [&](const char* k, const std::string& v) {
      auto it = wanted.find(k);
      return it == wanted.end() || it->second == v;
    };
    if (!want("provider", pool_->provider(n.provider).name) ||
        !want("cluster", pool_->cluster(n.cluster).name) ||
        !want("device_type", pool_->catalog().Get(n.shape.type).name)) {
      continue;
    }
    if (page.total++ < offset) continue;
    if (page.items.size() < limit) {
      page.items.push_back(ViewOf(*pool_, *host_, leases_, core::NodeId(static_cast<uint32_t>(i))));
    }
  }
  return page;
}

StatusOr<NodeView> ControlPlane::Node(const Caller& caller, const std::string& name) const {
  auto id = pool_->FindNode(name);
  if (!id || (caller.role == Role::kAgent && caller.scope != name) ||
      (caller.role == Role::kPartner &&
       pool_->provider(pool_->node(*id).provider).name != caller.scope)) {
    return NotFoundError(fmt::format("node '{}' not found", name));
  }
  NodeView v = ViewOf(*pool_, *host_, leases_, *id);
  // Where its agent listens is the operator's (and the partner's) business, not a tenant's.
  if (caller.role != Role::kTenant) v.agent_address = leases_.at(id->value()).address;
  v.detail = true;
  // The jobs on it: a tenant's own by id, other tenants' as a count; a partner's node's all.
  for (const sched::RunningJob* r : host_->state().Running()) {
    if (r->spec->tenant == host_->state().SystemTenant()) continue;
    int64_t milli = 0;
    for (const sched::WorkerPlacement& w : r->allocation.workers) {
      if (w.node == *id) milli += std::popcount(w.devices) * w.per_device.value();
    }
    if (milli == 0) continue;
    if (caller.role == Role::kTenant && pool_->tenant(r->spec->tenant).name != caller.scope) {
      ++v.other_jobs;
      continue;
    }
    v.jobs.emplace_back(r->spec->id.value(), core::FormatDevices(MilliDevices(milli)));
  }
  return v;
}

StatusOr<std::vector<TenantView>> ControlPlane::Tenants(const Caller& caller) const {
  if (caller.role == Role::kAgent || caller.role == Role::kPartner) {
    return PermissionDeniedError(
        fmt::format("role {} may not read tenants", CallerRoleName(caller)));
  }
  std::vector<TenantView> out;
  const QueueJobCounts counts = CountQueueJobs();  // one pass over the jobs for all tenants
  const std::vector<double> shares = FairShares();
  for (const core::Tenant& t : pool_->tenants()) {
    if (caller.role == Role::kTenant && t.name != caller.scope) continue;
    SP_ASSIGN_OR_RETURN(TenantView v, TenantWith(caller, t.name, counts, shares));
    out.push_back(std::move(v));
  }
  return out;
}

ControlPlane::QueueJobCounts ControlPlane::CountQueueJobs() const {
  QueueJobCounts counts(pool_->QueueCount());
  for (const auto& [jid, j] : jobs_.all()) {
    auto& [queued, holding] = counts[QueueOfJob(*pool_, j->spec()).value()];
    queued += j->queued();
    holding += j->holds_devices;
  }
  return counts;
}

StatusOr<TenantView> ControlPlane::Tenant(const Caller& caller, const std::string& name) const {
  return TenantWith(caller, name, CountQueueJobs(), FairShares());
}

std::vector<double> ControlPlane::FairShares() const {
  const sched::UsageHistory history = host_->HistoryView(Now());
  const sched::DominantShares shares(host_->state(), &history, options_.policy);
  std::vector<double> out;
  for (size_t t = 0; t < pool_->tenants().size(); ++t) {
    out.push_back(shares.Of(core::TenantId(static_cast<uint32_t>(t))));
  }
  return out;
}

StatusOr<TenantView> ControlPlane::TenantWith(const Caller& caller, const std::string& name,
                                              const QueueJobCounts& counts,
                                              const std::vector<double>& shares) const {
  if (caller.role == Role::kAgent || caller.role == Role::kPartner) {
    return PermissionDeniedError(
        fmt::format("role {} may not read tenants", CallerRoleName(caller)));
  }
  auto id = pool_->FindTenant(name);
  if (!id || (caller.role == Role::kTenant && caller.scope != name)) {
    return NotFoundError(fmt::format("tenant '{}' not found", name));
  }
  const core::Tenant& t = pool_->tenant(*id);
  TenantView v;
  v.name = t.name;
  v.weight = t.weight;
  v.priority_classes = t.priority_classes;
  v.retired = t.retired;
  // The rank among the tenants that are not retired (ties by id, as the merge breaks them).
  v.fair_share = std::round(shares[id->value()] * 1e6) / 1e6;
  v.fair_share_rank = 1;
  for (size_t o = 0; o < shares.size(); ++o) {
    if (o == id->value() || pool_->tenants()[o].retired) continue;
    v.fair_share_rank +=
        shares[o] < shares[id->value()] || (shares[o] == shares[id->value()] && o < id->value());
  }
  auto quotas = [&](const std::vector<core::Quota>& qs, core::QueueId queue, bool whole) {
    std::vector<QuotaView> out;
    for (size_t ty = 0; ty < qs.size(); ++ty) {
      const core::Quota& q = qs[ty];
      const core::DeviceTypeId type(static_cast<uint16_t>(ty));
      const MilliDevices used =
          whole ? host_->state().TenantUsage(*id, type) : host_->state().QueueUsage(queue, type);
      if (q.guaranteed.value() == 0 && q.max == MilliDevices::Max() && used.value() == 0) continue;
      QuotaView e;
      e.device_type = pool_->catalog().Get(type).name;
      e.guaranteed = core::FormatDevices(q.guaranteed);
      e.used = core::FormatDevices(used);
      if (q.max != MilliDevices::Max()) e.max = core::FormatDevices(q.max);
      out.push_back(std::move(e));
    }
    return out;
  };
  v.quotas = quotas(t.quota, *id, true);
  for (size_t p = 0; p < t.projects.size(); ++p) {
    const core::Project& project = t.projects[p];
    ProjectView pv;
    pv.name = project.name;
    pv.weight = project.weight;
    pv.retired = project.retired;
    pv.quotas = quotas(project.quota,
                       pool_->QueueOf(*id, core::ProjectId(static_cast<uint32_t>(p))), false);
    v.projects.push_back(std::move(pv));
  }
  // The tenant's own queue and its projects' queues.
  auto add = [&](core::QueueId q, int64_t& queued, int64_t& holding) {
    queued += counts[q.value()].first;
    holding += counts[q.value()].second;
  };
  add(pool_->QueueOf(*id, std::nullopt), v.queued_jobs, v.jobs_holding_devices);
  for (size_t p = 0; p < v.projects.size(); ++p) {
    ProjectView& pv = v.projects[p];
    const core::QueueId q = pool_->QueueOf(*id, core::ProjectId(static_cast<uint32_t>(p)));
    add(q, pv.queued_jobs, pv.jobs_holding_devices);
    add(q, v.queued_jobs, v.jobs_holding_devices);
  }
  return v;
}

void ControlPlane::RefreshGauges() {
  if (!metrics_) return;
  std::array<int64_t, core::kJobStateCount> by_state{};
  std::vector<int64_t> per_tenant(pool_->tenants().size(), 0);
  for (const auto& [id, j] : jobs_.all()) {
    ++by_state[static_cast<int>(j->state)];
    if (j->queued()) ++per_tenant[j->spec().tenant.value()];
  }
  for (int s = 0; s < core::kJobStateCount; ++s) {
    metrics_->jobs.Add({{"state", std::string(core::JobStateName(static_cast<core::JobState>(s)))}})
        .Set(static_cast<double>(by_state[s]));
  }
  for (size_t t = 0; t < per_tenant.size(); ++t) {
    metrics_->queue.Add({{"tenant", pool_->tenants()[t].name}})
        .Set(static_cast<double>(per_tenant[t]));
  }
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> devices;
  for (const sched::Segment& seg : host_->state().segments()) {
    auto& d = devices[{pool_->provider(seg.provider).name, pool_->catalog().Get(seg.type).name}];
    d.first += static_cast<double>(seg.total_devices - seg.free_whole);
    d.second += static_cast<double>(seg.free_whole);
  }
  for (const auto& [key, v] : devices) {
    metrics_->devices_allocated.Add({{"provider", key.first}, {"device_type", key.second}})
        .Set(v.first);
    metrics_->devices_free.Add({{"provider", key.first}, {"device_type", key.second}})
        .Set(v.second);
  }
}

}  // namespace suanpan::control
