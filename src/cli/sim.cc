#include "cli/sim.h"

#include <fmt/format.h>
#include <unistd.h>

#include <set>

#include "cli/table.h"
#include "config/pool_file.h"
#include "sim/metrics/metrics.h"
#include "sim/report/report.h"
#include "sim/workload.h"

namespace suanpan::cli {
namespace {

// A progress bar on stderr when it is a terminal: "[#####.....] 52% las/first_fit".
class ProgressBar {
 public:
  ProgressBar(std::FILE* err, bool enabled, std::string label)
      : err_(err), enabled_(enabled && isatty(fileno(err))), label_(std::move(label)) {}
  ~ProgressBar() {
    if (enabled_) fmt::print(err_, "\r\033[K");
  }
  void operator()(double fraction) {
    if (!enabled_) return;
    const int filled = static_cast<int>(fraction * 30);
    fmt::print(err_, "\r[{}{}] {:3.0f}% {}", std::string(filled, '#'),
               std::string(30 - filled, '.'), fraction * 100, label_);
    std::fflush(err_);
  }

 private:
  std::FILE* err_;
  bool enabled_;
  std::string label_;
};

}  // namespace

int RunSim(const SimOptions& o, std::FILE* out, std::FILE* err) {
  auto fail = [&](const Status& s) {
    fmt::print(err, "suanpan sim: {}\n", s.message());
    return 2;
  };
  const size_t colon = o.trace.find(':');
  if (colon == std::string::npos) {
    return fail(InvalidArgumentError(fmt::format(
        "--trace: expected FORMAT:PATH (e.g. tiresias:60_job.csv), got '{}'", o.trace)));
  }
  sim::ReadOptions read;
  read.strict = o.strict;
  read.limit = o.jobs;
  auto trace = sim::ReadTrace(o.trace.substr(0, colon), o.trace.substr(colon + 1), read);
  if (!trace.ok()) return fail(trace.status());
  for (const std::string& p : trace->problems) fmt::print(err, "warning: {}\n", p);
  if (trace->skipped > 0) {
    fmt::print(err, "warning: skipped {} bad rows of {} (--strict makes them fatal)\n",
               trace->skipped, trace->rows);
  }

  // The pool: a pool file, a cluster spec, or the trace's own cluster.
  sched::PolicyConfig base;
  std::optional<core::Pool> pool;
  std::string pool_name;
  if (!o.pool.empty()) {
    auto file = config::ReadPoolFile(o.pool);
    if (!file.ok()) return fail(file.status());
    base = file->policy;
    pool.emplace(std::move(file->pool));
    pool_name = o.pool;
  } else {
    std::optional<sim::ClusterShape> shape;
    if (!o.cluster.empty()) {
      auto parsed = sim::ParseClusterSpec(o.cluster);
      if (!parsed.ok()) return fail(parsed.status());
      shape = *parsed;
      pool_name = o.cluster;
    } else if (trace->cluster) {
      shape = *trace->cluster;
      pool_name = "the trace's cluster";
    } else {
      return fail(
          InvalidArgumentError("give --pool POOL.toml or --cluster SxNxG: the trace "
                               "comes without a cluster"));
    }
    std::set<std::string> names;
    for (const sim::TraceJob& j : trace->jobs) {
      if (!j.tenant.empty()) names.insert(j.tenant);
    }
    auto built = sim::PoolFromShape(*shape, std::vector<std::string>(names.begin(), names.end()));
    if (!built.ok()) return fail(built.status());
    pool.emplace(std::move(*built));
  }

  sim::WorkloadOptions wo;
  wo.split = o.split;
  wo.reference_type = o.reference_type;
  wo.checkpoint_interval = o.checkpoint_interval;
  wo.restore_cost = o.restore_cost;
  auto workload = sim::JobsFromTrace(*trace, *pool, wo);
  if (!workload.ok()) return fail(workload.status());
  for (const std::string& p : workload->problems) fmt::print(err, "warning: {}\n", p);
  if (workload->dropped > 0) {
    fmt::print(err, "warning: {} jobs cannot run on this pool and were left out\n",
               workload->dropped);
  }

  sim::ReportInput report;
  report.trace = o.trace;
  report.pool = pool_name;
  report.jobs = static_cast<int64_t>(workload->jobs.size());
  report.dropped = workload->dropped;
  report.devices = pool->Totals().devices;
  report.seed = o.seed;
  std::vector<std::string> policies = o.policies;
  if (policies.empty()) policies.push_back(base.queue + "/" + base.placement);
  for (const std::string& p : policies) {
    sim::SimConfig config;
    config.policy = base;
    const size_t slash = p.find('/');
    config.policy.queue = p.substr(0, slash);
    if (slash != std::string::npos) config.policy.placement = p.substr(slash + 1);
    if (o.blocking) config.policy.blocking = true;
    if (o.no_backfill) config.policy.backfill = false;
    if (o.no_preemption) config.policy.preemption = false;
    config.policy.wait_details = 0;  // nobody reads the reasons of a replay
    config.seed = o.seed;
    if (o.until) config.until = Time(*o.until);
    config.model.spread_penalty_permille = o.spread_penalty_permille;
    config.model.switch_penalty_permille = o.switch_penalty_permille;
    config.model.device_mtbf = Seconds(static_cast<int64_t>(o.mtbf_hours * 3600));
    const std::string label = config.policy.queue + "/" + config.policy.placement;
    ProgressBar bar(err, o.progress, label);
    auto result = sim::Simulate(*pool, workload->jobs, config, [&](double f) { bar(f); });
    if (!result.ok()) return fail(result.status().WithPrefix("--policy " + p));
    sim::PolicyRun run;
    run.summary = sim::Summarize(*pool, workload->jobs, *result, label);
    for (size_t i = 0; i < workload->jobs.size(); ++i) {
      const sim::JobOutcome& jo = result->jobs[i];
      if (jo.finished) run.jct.push_back((jo.end - jo.submit).value());
    }
    run.result = std::move(*result);
    report.runs.push_back(std::move(run));
  }
  Status written = sim::WriteReport(report, o.out);
  if (!written.ok()) return fail(written);

  fmt::print(out, "Trace {}: {} jobs on {} ({} devices)\n\n", o.trace, Thousands(report.jobs),
             pool_name, Thousands(report.devices));
  Table table({"POLICY", "FINISHED", "AVG JCT", "MEDIAN", "P95", "P99", "AVG QUEUE", "MAKESPAN",
               "UTIL", "PREEMPT"},
              {false, true, true, true, true, true, true, true, true, true});
  for (const sim::PolicyRun& run : report.runs) {
    const sim::Summary& s = run.summary;
    table.Add({s.policy, Thousands(s.finished), fmt::format("{:.2f}", s.jct.mean),
               fmt::format("{:.1f}", s.jct.median), Thousands(s.jct.p95), Thousands(s.jct.p99),
               fmt::format("{:.2f}", s.queueing.mean), Thousands(s.makespan),
               fmt::format("{:.1f}%", s.utilization * 100), Thousands(s.preemptions)});
  }
  fmt::print(out,
             "{}\nReport: {}/report.md (plots: jct_cdf.svg, utilization.svg, queue.svg), "
             "figures: {}/report.json\n",
             table.Render(), o.out, o.out);
  return 0;
}

}  // namespace suanpan::cli
