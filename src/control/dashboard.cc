// What the dashboard shows that no other route answers: the hub at a glance (devices by state per
// provider, region and type; the queue by tenant; alerts) and devices held and jobs waiting over
// time, derived exactly from the jobs' runs and queue intervals. The same caller checks as every
// route: a tenant sees the pool's capacity and its own work only, a partner its own provider.

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "control/control_plane.h"

namespace suanpan::control {

namespace {

constexpr int64_t kMilli = 1000;

std::string DevicesText(int64_t milli) { return core::FormatDevices(MilliDevices(milli)); }

}  // namespace

StatusOr<OverviewView> ControlPlane::Overview(const Caller& caller) const {
  if (caller.role == Role::kAgent) {
    return PermissionDeniedError("agents may not read the overview");
  }
  const bool partner = caller.role == Role::kPartner;
  const bool tenant = caller.role == Role::kTenant;
  const core::DeviceCatalog& cat = pool_->catalog();
  const sched::ClusterState& state = host_->state();
  const sched::Host& host = *host_;
  const int64_t now = clock_.NowMs();

  // Devices suanpan's jobs hold, per node (the system tenant's holds are cordons, not jobs).
  std::vector<int64_t> job_milli(pool_->nodes().size(), 0);
  for (const sched::RunningJob* r : state.Running()) {
    if (r->spec->tenant == state.SystemTenant()) continue;
    for (const sched::WorkerPlacement& w : r->allocation.workers) {
      job_milli[w.node.value()] += std::popcount(w.devices) * w.per_device.value();
    }
  }

  OverviewView v;
  v.time_ms = now;
  std::vector<ProviderOverview> providers(pool_->providers().size());
  for (size_t p = 0; p < providers.size(); ++p) {
    const core::Provider& prov = pool_->providers()[p];
    providers[p].name = prov.name;
    providers[p].region = prov.region;
    providers[p].backend = std::string(core::BackendKindName(prov.backend));
  }
  for (size_t i = 0; i < pool_->nodes().size(); ++i) {
    const core::Node& n = pool_->nodes()[i];
    const core::NodeId id(static_cast<uint32_t>(i));
    ProviderOverview& po = providers[n.provider.value()];
    const core::DeviceType& type = cat.Get(n.shape.type);
    DeviceStates d;
    d.total = n.shape.devices * kMilli;
    d.allocated = std::min(d.total, job_milli[i]);
    d.external = std::min<int64_t>(d.total - d.allocated, host.ExternallyHeld(id) * kMilli);
    const bool lost = std::string_view(leases_.AgentState(i)) == "lost";
    const bool down = lost || host.Cordoned(id);
    if (!down) {
      for (int dev = 0; dev < n.shape.devices; ++dev) d.free += state.FreeShare(id, dev).value();
      d.free = std::min(d.free, d.total - d.allocated - d.external);
    }
    d.down = d.total - d.allocated - d.external - d.free;
    d.fp16_gflops = n.shape.devices * type.fp16_gflops;
    d.fp16_gflops_allocated = d.allocated * type.fp16_gflops / kMilli;
    ++po.nodes;
    if (down) ++po.nodes_down;
    po.devices.Add(d);
    po.by_type[type.name].Add(d);
    if (partner && po.name != caller.scope) continue;
    if (lost && (!tenant || job_milli[i] > 0)) {
      v.alerts.push_back({"critical", "node_lost",
                          fmt::format("node {} lost its agent{}", n.name,
                                      job_milli[i] > 0 ? fmt::format(" with {} device(s) of work",
                                                                     DevicesText(job_milli[i]))
                                                       : std::string()),
                          n.name});
    }
  }
  for (size_t p = 0; p < providers.size(); ++p) {
    ProviderOverview& po = providers[p];
    if (partner && po.name != caller.scope) continue;
    po.state = po.nodes_down == 0 ? "up" : po.nodes_down == po.nodes ? "down" : "degraded";
    if (po.nodes_down > 0) {
      po.message = fmt::format(
          "{} of {} nodes down (agent lost or not yet heard from, or "
          "cordoned)",
          po.nodes_down, po.nodes);
    }
    if (const Backend* b = backend_of_provider_[p]) {
      if (auto engine = b->Engine(); engine && engine->state != "up") {
        po.state = engine->state == "starting" ? po.state : "degraded";
        po.message = fmt::format("{} engine {}: {}", engine->kind, engine->state, engine->message);
        if (engine->state == "degraded") {
          v.alerts.push_back({"critical", "engine", po.message, po.name});
        }
      }
    }
    v.devices.Add(po.devices);
    v.by_region[po.region].Add(po.devices);
    for (const auto& [type, d] : po.by_type) v.by_type[type].Add(d);
    v.providers.push_back(std::move(po));
  }

  // The queue by tenant (a tenant: its own line; a partner: none).
  std::map<std::string, TenantQueueView> queues;
  std::map<std::string, int64_t> wait_sum;
  for (const auto& [id, job] : jobs_.all()) {
    const std::string& t = pool_->tenant(job->spec().tenant).name;
    if (partner || (tenant && t != caller.scope)) continue;
    if (!job->queued() && !job->holds_devices) continue;
    TenantQueueView& q = queues[t];
    q.tenant = t;
    if (job->holds_devices) {
      ++q.running;
      ++v.running;
      continue;
    }
    ++q.queued;
    ++v.queued;
    const int64_t wait = std::max<int64_t>(0, now - job->queued_ms);
    q.oldest_wait_ms = std::max(q.oldest_wait_ms, wait);
    wait_sum[t] += wait;
    if (job->reason.starts_with("waiting for funds")) ++q.waiting_for_funds;
  }
  for (auto& [t, q] : queues) {
    if (q.queued > 0) q.mean_wait_ms = wait_sum[t] / q.queued;
    if (q.waiting_for_funds > 0) {
      v.alerts.push_back(
          {"warning", "out_of_funds",
           fmt::format("tenant {}: {} job(s) waiting for funds", t, q.waiting_for_funds), t});
    }
    v.tenants.push_back(q);
  }
  std::stable_sort(v.alerts.begin(), v.alerts.end(), [](const AlertView& a, const AlertView& b) {
    return a.severity == "critical" && b.severity != "critical";
  });
  return v;
}

StatusOr<UtilizationView> ControlPlane::Utilization(const Caller& caller, int64_t hours,
                                                    size_t points,
                                                    const std::string& only_tenant) const {
  if (caller.role == Role::kAgent) {
    return PermissionDeniedError("agents may not read utilization");
  }
  const bool partner = caller.role == Role::kPartner;
  if (!only_tenant.empty()) {
    if (partner) return FieldError("tenant", "a partner's utilization is its provider's");
    if (!pool_->FindTenant(only_tenant) ||
        (caller.role == Role::kTenant && only_tenant != caller.scope)) {
      return FieldError("tenant", fmt::format("unknown tenant '{}'", only_tenant));
    }
  }
  const std::string& scope = caller.role == Role::kTenant ? caller.scope : only_tenant;
  const bool tenant = !scope.empty();
  UtilizationView v;
  v.to_ms = clock_.NowMs();
  v.step_ms = std::max<int64_t>(1, hours * 3'600'000 / static_cast<int64_t>(points));
  v.from_ms = v.to_ms - v.step_ms * static_cast<int64_t>(points);
  for (size_t i = 0; i < points; ++i) v.t_ms.push_back(v.from_ms + v.step_ms * i);
  for (const core::Node& n : pool_->nodes()) {
    if (partner && pool_->provider(n.provider).name != caller.scope) continue;
    v.devices_milli += n.shape.devices * kMilli;
  }
  // Integrates value over [start, end) into the steps: partial first and last steps, and a
  // difference array for the whole ones between, so a run costs O(1) however long it is.
  auto integrate = [&](std::vector<double>& acc, std::vector<double>& diff, int64_t start,
                       int64_t end, double value) {
    start = std::max(start, v.from_ms);
    end = std::min(end, v.to_ms);
    if (end <= start) return;
    const int64_t a = (start - v.from_ms) / v.step_ms, b = (end - v.from_ms - 1) / v.step_ms;
    const double step = static_cast<double>(v.step_ms);
    if (a == b) {
      acc[a] += value * static_cast<double>(end - start) / step;
      return;
    }
    acc[a] += value * static_cast<double>(v.from_ms + (a + 1) * v.step_ms - start) / step;
    acc[b] += value * static_cast<double>(end - (v.from_ms + b * v.step_ms)) / step;
    if (b > a + 1) {
      diff[a + 1] += value;
      diff[b] -= value;
    }
  };
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> held;
  std::vector<double> queued(points, 0), queued_diff(points + 1, 0);
  // Cost as billing rates it: from the start of work, at the run's price (yuan per hour here,
  // times the step's hours at the end).
  std::vector<double> cost(points, 0), cost_diff(points + 1, 0);
  for (const auto& [id, job] : jobs_.all()) {
    if (tenant && pool_->tenant(job->spec().tenant).name != scope) continue;
    int64_t waiting_since = job->submit_ms;
    for (const store::RunRow& r : job->runs) {
      if (!partner || r.provider == caller.scope) {
        auto& [acc, diff] = held[r.device_type];
        if (acc.empty()) acc.assign(points, 0), diff.assign(points + 1, 0);
        integrate(acc, diff, r.start_ms, r.end_ms.value_or(v.to_ms),
                  static_cast<double>(r.devices_milli) / kMilli);
        if (r.started_ms) {
          if (std::optional<int64_t> price = PriceOf(r)) {
            integrate(
                cost, cost_diff, *r.started_ms, r.end_ms.value_or(v.to_ms),
                static_cast<double>(r.devices_milli) / kMilli * static_cast<double>(*price) / 1e6);
          }
        }
      }
      if (!partner) integrate(queued, queued_diff, waiting_since, r.start_ms, 1);
      waiting_since = r.end_ms.value_or(v.to_ms);
    }
    if (!partner && job->queued()) {
      integrate(queued, queued_diff, waiting_since, v.to_ms, 1);
    } else if (!partner && job->runs.empty() && !job->holds_devices) {
      integrate(queued, queued_diff, waiting_since, job->updated_ms, 1);  // cancelled in the queue
    }
  }
  auto finish = [&](std::vector<double>& acc, std::vector<double>& diff) {
    double run = 0;
    for (size_t i = 0; i < points; ++i) {
      run += diff[i];
      acc[i] = std::round((acc[i] + run) * 1000) / 1000;
    }
  };
  for (auto& [type, series] : held) {
    finish(series.first, series.second);
    v.allocated[type] = std::move(series.first);
  }
  finish(queued, queued_diff);
  v.queued = std::move(queued);
  const double step_hours = static_cast<double>(v.step_ms) / 3.6e6;
  double run = 0;
  for (size_t i = 0; i < points; ++i) {
    run += cost_diff[i];
    cost[i] = std::round((cost[i] + run) * step_hours * 100) / 100;
  }
  v.cost_yuan = std::move(cost);
  return v;
}

}  // namespace suanpan::control
