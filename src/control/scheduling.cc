// Scheduling rounds on the live state, what-ifs (why does a job wait, when will it start), and
// the queue as a person reads it. The host decides and applies; this file records the decisions
// in the job table (committed before any backend acts on them) and hands binds to the backends.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "control/control_plane.h"

namespace suanpan::control {

using core::JobState;

void ControlPlane::RunRound() {
  const int64_t now = clock_.NowMs();
  last_round_ms_ = now;
  dirty_ = false;
  RefreshFunds(now);
  const auto t0 = std::chrono::steady_clock::now();
  sched::Host::RoundResult round = host_->Round(Time(now / 1000));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (metrics_ && round.ran) metrics_->round_seconds.Observe(secs);
  const sched::Decisions& decisions = round.decisions;

  // Jobs set aside until their tenant releases devices: say so once.
  for (core::JobId id : round.parked_for_quota) {
    JobRecord* j = jobs_.Find(id.value());
    if (j == nullptr) continue;
    const core::JobSpec& spec = j->spec();
    const core::Tenant& tenant = pool_->tenant(spec.tenant);
    const core::Project* project = spec.project ? &tenant.projects[spec.project->value()] : nullptr;
    const core::QueueId queue = core::QueueOfJob(*pool_, spec);
    // Per type, the bound that holds it back: its project's max, else its tenant's.
    std::string held;
    for (core::DeviceTypeId t : spec.worker.types) {
      const core::Quota& q = tenant.quota[t.value()];
      if (q.max < spec.TotalShare()) continue;
      const std::string& type = pool_->catalog().Get(t).name;
      if (project != nullptr) {
        const core::Quota& pq = project->quota[t.value()];
        const MilliDevices in_project = host_->state().QueueUsage(queue, t);
        if (in_project + spec.TotalShare() > pq.max) {
          held += fmt::format("{}project '{}/{}' holds {} of its max {} {}",
                              held.empty() ? "" : ", ", tenant.name, project->name,
                              core::FormatDevices(in_project), core::FormatDevices(pq.max), type);
          continue;
        }
      }
      held +=
          fmt::format("{}tenant '{}' holds {} of its max {} {}", held.empty() ? "" : ", ",
                      tenant.name, core::FormatDevices(host_->state().TenantUsage(spec.tenant, t)),
                      core::FormatDevices(q.max), type);
    }
    j->reason = fmt::format(
        "waiting for quota: {} and the job needs {}; reconsidered when devices are released", held,
        core::FormatDevices(spec.TotalShare()));
    j->earliest_start_ms.reset();
  }
  // Victims first (their runs ended in the host), then binds, rejects and reasons.
  for (const sched::Decision& d : decisions.items) {
    if (d.kind != sched::DecisionKind::kPreempt) continue;
    JobRecord* job = jobs_.Find(d.job.value());
    if (job == nullptr) continue;
    const JobRecord* for_job = jobs_.Find(d.for_job.value());
    Release(*job, now, /*requeue=*/true, /*ended_by_host=*/true);
    // The scheduler's reason starts "preempted for job N: "; said once, with the job's name when
    // it is the same tenant's. Another tenant's job is not named to this one (its id, name and
    // tenant are that tenant's business); the operator finds it in the log and in the
    // preemptor's events.
    std::string_view because = d.reason;
    const std::string prefix = fmt::format("preempted for job {}: ", d.for_job.value());
    if (because.starts_with(prefix)) because.remove_prefix(prefix.size());
    const bool same_tenant = for_job && for_job->spec().tenant == job->spec().tenant;
    const std::string why = same_tenant
                                ? fmt::format("preempted for job {} ({}): {}", d.for_job.value(),
                                              for_job->spec().name, because)
                                : fmt::format("preempted for another tenant's job: {}", because);
    if (!same_tenant) {
      spdlog::info("job={} tenant={} preempted for job={} tenant={}: {}", job->id(),
                   pool_->tenant(job->spec().tenant).name, d.for_job.value(),
                   for_job ? pool_->tenant(for_job->spec().tenant).name : "?", because);
    }
    ChangeState(*job, job->state == JobState::kRunning ? JobState::kPreempted : JobState::kPending,
                why);
    jobs_.AddEvent(*job, "preempted", why);
    if (metrics_) metrics_->decisions_preempt.Increment();
  }
  std::vector<JobRecord*> bound;
  for (const sched::Decision& d : decisions.items) {
    JobRecord* job = jobs_.Find(d.job.value());
    if (job == nullptr) continue;
    switch (d.kind) {
      case sched::DecisionKind::kBind: {
        Bind(*job, *d.allocation, now);
        const store::RunRow& run = job->runs.back();
        const std::string where =
            fmt::format("{} x {} on {}/{}", core::FormatDevices(MilliDevices(run.devices_milli)),
                        run.device_type, run.provider, run.cluster);
        if (job->state == JobState::kPreempted) ChangeState(*job, JobState::kPending, "requeued");
        ChangeState(*job, JobState::kAdmitted, "placed: " + where);
        jobs_.AddEvent(*job, "bound", fmt::format("attempt {}: {}", run.attempt, where));
        bound.push_back(job);
        if (metrics_) metrics_->decisions_bind.Increment();
        break;
      }
      case sched::DecisionKind::kReject:
        // "infeasible: ..." or "infeasible under quota: ...": the host has let it go.
        ChangeState(*job, JobState::kFailed, d.reason);
        jobs_.AddEvent(*job, "rejected", d.reason);
        if (metrics_) metrics_->decisions_reject.Increment();
        break;
      case sched::DecisionKind::kWait:
      case sched::DecisionKind::kReserve:
        job->reason = WithUnattended(d.reason);
        if (d.earliest_start) {
          job->earliest_start_ms = d.earliest_start->value() * 1000;
        } else {
          job->earliest_start_ms.reset();
        }
        break;
      case sched::DecisionKind::kPreempt:
        break;
    }
  }
  // Decisions are durable before a backend acts on them.
  CommitOrDie(nullptr);
  for (JobRecord* job : bound) {
    if (Backend* b = BackendOf(*job)) b->Launch(*job);
  }
  // Binding changed state but not the reason to run again: only new events do.
  dirty_ = false;
  if (metrics_) {
    for (const auto& [id, queued_at] : undecided_) {
      (void)id;
      metrics_->decision_seconds.Observe(static_cast<double>(clock_.NowMs() - queued_at) / 1000.0);
    }
  }
  undecided_.clear();
  if (options_.on_round && round.ran) options_.on_round(Time(now / 1000), decisions);
}

std::string ControlPlane::WithUnattended(const std::string& reason) const {
  if (unattended_.empty() || !reason.starts_with("waiting for capacity")) return reason;
  return fmt::format("{}; {} node(s) take no work until their agent heartbeats (require_agents)",
                     reason, unattended_.size());
}

StatusOr<ExplainView> ControlPlane::ExplainJob(const Caller& caller, uint64_t id) {
  const JobRecord* j = Visible(caller, id);
  if (j == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  ExplainView out;
  out.id = id;
  out.state = j->state;
  out.reason = j->reason;
  if (!j->queued()) return out;
  // What-if: one round with estimates for every job, on the live state (the scheduler undoes
  // every tentative change before it returns). Nothing is applied. Reused for
  // explain_cache_ms: the answer may be that old, and a loop of requests costs one round.
  const int64_t now_ms = clock_.NowMs();
  ExplainCache& cache = explain_cache_;
  if (cache.computed_ms < 0 || now_ms - cache.computed_ms >= options_.explain_cache_ms ||
      now_ms < cache.computed_ms || j->queued_ms > cache.computed_ms) {
    cache.decisions = host_->WhatIf(Now(), 100'000);
    cache.computed_ms = now_ms;
    cache.index.clear();
    int position = 0;
    for (size_t i = 0; i < cache.decisions.items.size(); ++i) {
      const sched::Decision& x = cache.decisions.items[i];
      if (x.kind == sched::DecisionKind::kWait || x.kind == sched::DecisionKind::kReserve ||
          x.kind == sched::DecisionKind::kBind) {
        ++position;
      }
      cache.index.emplace(x.job.value(), std::make_pair(i, position));
    }
    if (metrics_) metrics_->explain_rounds.Increment();
  }
  out.pending = true;
  out.queued_since_ms = j->queued_ms;
  if (auto it = cache.index.find(id); it != cache.index.end()) {
    const sched::Decision& x = cache.decisions.items[it->second.first];
    const int position = it->second.second;
    out.outcome = std::string(sched::OutcomeName(x.outcome));
    out.reason = x.kind == sched::DecisionKind::kBind
                     ? "fits now: it will be placed in the next round"
                     : WithUnattended(x.reason);
    if (x.earliest_start) out.earliest_start_ms = x.earliest_start->value() * 1000;
    out.position = position;
  }
  return out;
}

StatusOr<QueueView> ControlPlane::Queue(const Caller& caller, size_t limit) {
  if (caller.role == Role::kAgent) return PermissionDeniedError("agents may not read the queue");
  const std::vector<sched::QueuedJob> order = host_->Ordered(Now());
  QueueView out;
  out.policy = std::string(host_->scheduler().queue_policy().name());
  out.length = order.size();
  size_t position = 0;
  for (const sched::QueuedJob& q : order) {
    ++position;
    const core::JobSpec& spec = *q.spec;
    const std::string& tenant = pool_->tenant(spec.tenant).name;
    if (caller.role == Role::kTenant && tenant != caller.scope) continue;
    if (out.items.size() >= limit) break;
    const JobRecord* j = jobs_.Find(spec.id.value());
    if (j == nullptr) continue;
    QueueEntryView e;
    e.position = position;
    e.id = spec.id.value();
    e.name = spec.name;
    e.tenant = tenant;
    e.devices = core::FormatDevices(spec.TotalShare());
    e.state = j->state;
    e.reason = j->reason;
    e.earliest_start_ms = j->earliest_start_ms;
    out.items.push_back(std::move(e));
  }
  return out;
}

}  // namespace suanpan::control
