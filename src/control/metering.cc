// Usage and cost: device time per tenant, user (who submitted), provider and type over a period
// (from when each run's workers or engine job started to its end), rated at the price frozen in
// each run when it started (control_plane.cc, Bind), by the one rating rule (core::RateRun, to the
// fen per run piece, as the invoice rates it). Runs stored before prices were frozen are rated at
// the price in force when they started (the price list, else the pool file), as the invoice is.

#include <fmt/format.h>

#include <cmath>
#include <ctime>

#include "control/control_plane.h"
#include "core/money.h"

namespace suanpan::control {

// The price a run is rated at: the one frozen when it was bound, else (runs stored before
// prices were frozen) the price in force when its work started, as Billing::RateRun books it,
// so usage, a job's cost and the invoice agree.
std::optional<int64_t> ControlPlane::PriceOf(const store::RunRow& r) const {
  if (r.price_micro) return r.price_micro;
  auto provider = pool_->FindProvider(r.provider);
  auto type = pool_->catalog().Find(r.device_type);
  if (!provider || !type || !r.started_ms) return std::nullopt;
  if (std::optional<MicroYuan> price = billing_.PriceAt(*provider, *type, *r.started_ms)) {
    return price->value();
  }
  return std::nullopt;
}

// What a job has cost: every attempt from the start of its work to its end (or now), each at
// its run's price, by the same rating rule as usage and invoices; a partner's, on its provider.
int64_t ControlPlane::CostSoFar(const JobRecord& job, int64_t now_ms,
                                const std::string* provider) const {
  int64_t cost = 0;
  for (const store::RunRow& r : job.runs) {
    if (!r.started_ms || (provider && r.provider != *provider)) continue;
    const int64_t end = r.end_ms.value_or(now_ms);
    if (end <= *r.started_ms) continue;
    if (std::optional<int64_t> price = PriceOf(r)) {
      cost += core::RateRun(MicroYuan(*price), MilliDevices(r.devices_milli), end - *r.started_ms)
                  .value();
    }
  }
  return cost;
}

StatusOr<UsageView> ControlPlane::Usage(const Caller& caller, UsageQuery q) const {
  if (caller.role == Role::kAgent) return PermissionDeniedError("agents may not read usage");
  if (caller.role == Role::kTenant) {
    if (q.tenant && *q.tenant != caller.scope) {
      return PermissionDeniedError(
                 fmt::format("tenant: this token may only read usage of tenant '{}'", caller.scope))
          .WithField("tenant");
    }
    q.tenant = caller.scope;
  }
  // A partner reads what ran on its hardware, by type: not which tenants or users ran it.
  const bool partner = caller.role == Role::kPartner;
  if (partner && q.tenant) {
    return PermissionDeniedError("tenant: a partner token reads usage by provider and type only")
        .WithField("tenant");
  }
  const int64_t now = clock_.NowMs();
  if (!q.to_ms) q.to_ms = now;
  if (!q.from_ms) {
    // A billing period: the current calendar month, UTC.
    const std::time_t secs = static_cast<std::time_t>(now / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    q.from_ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  }
  if (*q.to_ms < *q.from_ms) return FieldError("to", "must not be before from");
  std::optional<core::TenantId> tenant;
  if (q.tenant) {
    tenant = pool_->FindTenant(*q.tenant);
    if (!tenant) return FieldError("tenant", fmt::format("unknown tenant '{}'", *q.tenant));
  }
  struct Sum {
    __int128 milli_ms = 0;
    int64_t cost = 0;
  };
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, Sum> sums;
  for (const auto& [id, job] : jobs_.all()) {
    if (tenant && job->spec().tenant != *tenant) continue;
    for (const store::RunRow& r : job->runs) {
      // Billed from the start of work (not the bind): a run that never started costs nothing.
      if (!r.started_ms) continue;
      if (caller.role == Role::kPartner && r.provider != caller.scope) continue;  // its own
      const int64_t start = std::max(*r.started_ms, *q.from_ms);
      const int64_t end = std::min(r.end_ms.value_or(now), *q.to_ms);
      if (end <= start) continue;
      const core::Tenant& owner = pool_->tenant(job->spec().tenant);
      const std::string project =
          job->spec().project ? owner.projects[job->spec().project->value()].name : "";
      Sum& s = sums[{partner ? "" : owner.name, partner ? "" : project,
                     partner ? "" : job->submitted_by, r.provider, r.device_type}];
      s.milli_ms += static_cast<__int128>(r.devices_milli) * (end - start);
      if (std::optional<int64_t> price = PriceOf(r)) {
        // The one rating rule, to the fen per run piece: a month's usage is its invoice's.
        s.cost +=
            core::RateRun(MicroYuan(*price), MilliDevices(r.devices_milli), end - start).value();
      }
    }
  }
  UsageView out;
  out.from_ms = *q.from_ms;
  out.to_ms = *q.to_ms;
  for (const auto& [key, s] : sums) {
    const auto& [t, project, user, provider, type] = key;
    UsageLine line;
    line.tenant = t;
    line.project = project;
    line.user = user;
    line.provider = provider;
    line.device_type = type;
    // device-hours = milli-device-ms / (1000 * 3,600,000)
    line.device_hours = std::round(static_cast<double>(s.milli_ms) / 3.6e9 * 1000) / 1000;
    line.cost_micro = s.cost;
    out.total_cost_micro += s.cost;
    out.items.push_back(std::move(line));
  }
  return out;
}

}  // namespace suanpan::control
