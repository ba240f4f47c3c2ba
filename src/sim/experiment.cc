#include "sim/experiment.h"

#include <fmt/format.h>

#include <set>

#include "sim/metrics/metrics.h"

namespace suanpan::sim {
namespace {

StatusOr<core::Pool> BuildPool(const ExperimentSpec& spec, const Trace& trace, std::string& name) {
  if (spec.pool) {
    name = spec.pool_name;
    return *spec.pool;
  }
  ClusterShape shape;
  if (!spec.cluster.empty()) {
    auto parsed = ParseClusterSpec(spec.cluster);
    if (!parsed.ok()) return parsed.status();
    shape = *parsed;
    name = spec.cluster;
  } else if (trace.cluster) {
    shape = *trace.cluster;
    name = "the trace's cluster";
  } else {
    return InvalidArgumentError(
        "give --pool POOL.toml or --cluster SxNxG: the trace comes without a cluster");
  }
  std::set<std::string> names;
  for (const TraceJob& j : trace.jobs) {
    if (!j.tenant.empty()) names.insert(j.tenant);
  }
  return PoolFromShape(shape, std::vector<std::string>(names.begin(), names.end()));
}

std::vector<JobLabel> Labels(const core::Pool& pool, const std::vector<SimJob>& jobs) {
  std::vector<JobLabel> labels;
  labels.reserve(jobs.size());
  for (const SimJob& j : jobs) {
    labels.push_back({j.spec.name, pool.tenant(j.spec.tenant).name, j.spec.TotalShare()});
  }
  return labels;
}

}  // namespace

StatusOr<PreparedExperiment> PrepareExperiment(const ExperimentSpec& spec,
                                               const ExperimentHooks& hooks) {
  auto warn = [&](const std::string& w) {
    if (hooks.warning) hooks.warning(w);
  };
  const size_t colon = spec.trace.find(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError(fmt::format(
        "--trace: expected FORMAT:PATH (e.g. tiresias:60_job.csv), got '{}'", spec.trace));
  }
  auto trace = ReadTrace(spec.trace.substr(0, colon), spec.trace.substr(colon + 1), spec.read);
  if (!trace.ok()) return trace.status();
  for (const std::string& p : trace->problems) warn(p);
  if (trace->skipped > 0) {
    warn(fmt::format("skipped {} bad rows of {} (--strict makes them fatal)", trace->skipped,
                     trace->rows));
  }

  ReportInput report;
  auto pool = BuildPool(spec, *trace, report.pool);
  if (!pool.ok()) return pool.status();
  auto workload = JobsFromTrace(*trace, *pool, spec.workload);
  if (!workload.ok()) return workload.status();
  for (const std::string& p : workload->problems) warn(p);
  if (workload->dropped > 0) {
    warn(fmt::format("{} jobs cannot run on this pool and were left out", workload->dropped));
  }
  report.trace = spec.trace;
  report.jobs = static_cast<int64_t>(workload->jobs.size());
  report.dropped = workload->dropped;
  report.devices = pool->Totals().devices;
  report.seed = spec.seed;
  report.labels = Labels(*pool, workload->jobs);
  for (const core::DeviceType& t : pool->catalog().types()) report.type_names.push_back(t.name);
  for (const core::Provider& p : pool->providers()) report.provider_names.push_back(p.name);
  for (const core::Tenant& t : pool->tenants()) report.tenant_names.push_back(t.name);
  std::optional<core::OpeningFunds> funds;
  if (spec.funds) {
    auto f = spec.funds(*pool);
    if (!f.ok()) return f.status().WithPrefix("--money");
    funds = std::move(*f);
  }
  return PreparedExperiment{std::move(*pool), std::move(workload->jobs), std::move(report),
                            std::move(funds)};
}

Status RunPolicies(const ExperimentSpec& spec, PreparedExperiment& prepared,
                   const ExperimentHooks& hooks) {
  std::vector<std::string> policies = spec.policies;
  if (policies.empty()) policies.push_back(spec.policy.queue + "/" + spec.policy.placement);
  for (const std::string& p : policies) {
    SimConfig config;
    config.policy = spec.policy;
    const size_t slash = p.find('/');
    config.policy.queue = p.substr(0, slash);
    if (slash != std::string::npos) config.policy.placement = p.substr(slash + 1);
    if (spec.blocking) config.policy.blocking = true;
    if (spec.no_backfill) config.policy.backfill = false;
    if (spec.no_preemption) config.policy.preemption = false;
    config.policy.wait_details = 0;  // nobody reads the reasons of a replay
    config.seed = spec.seed;
    config.until = spec.until;
    config.model = spec.model;
    config.funds = prepared.funds;
    const std::string label = config.policy.queue + "/" + config.policy.placement;
    Progress progress;
    if (hooks.progress) progress = [&](double f) { hooks.progress(label, f); };
    auto result = Simulate(prepared.pool, prepared.jobs, config, progress);
    if (!result.ok()) return result.status().WithPrefix("--policy " + p);
    PolicyRun run;
    run.summary = Summarize(prepared.pool, prepared.jobs, *result, label);
    for (const JobOutcome& jo : result->jobs) {
      if (jo.finished) run.jct.push_back((jo.end - jo.submit).value());
    }
    run.result = std::move(*result);
    prepared.report.runs.push_back(std::move(run));
  }
  return OkStatus();
}

StatusOr<ReportInput> RunExperiment(const ExperimentSpec& spec, const ExperimentHooks& hooks) {
  auto prepared = PrepareExperiment(spec, hooks);
  if (!prepared.ok()) return prepared.status();
  SP_RETURN_IF_ERROR(RunPolicies(spec, *prepared, hooks));
  return std::move(prepared->report);
}

}  // namespace suanpan::sim
