#include "cli/sim.h"

#include <fmt/format.h>
#include <unistd.h>

#include <optional>

#include "cli/table.h"
#include "config/money_file.h"
#include "config/pool_file.h"
#include "core/money.h"
#include "sim/experiment.h"

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
  sim::ExperimentSpec spec;
  spec.trace = o.trace;
  spec.read.strict = o.strict;
  spec.read.limit = o.jobs;
  if (!o.pool.empty()) {
    auto file = config::ReadPoolFile(o.pool);
    if (!file.ok()) return fail(file.status());
    spec.policy = file->policy;
    spec.pool.emplace(std::move(file->pool));
    spec.pool_name = o.pool;
  }
  if (!o.las_thresholds.empty()) {
    for (size_t i = 0; i < o.las_thresholds.size(); ++i) {
      if (o.las_thresholds[i] <= 0 || (i > 0 && o.las_thresholds[i] <= o.las_thresholds[i - 1])) {
        return fail(FieldError("--las-thresholds",
                               fmt::format("limits must be positive and increasing, got {} at "
                                           "position {}",
                                           o.las_thresholds[i], i + 1)));
      }
    }
    spec.policy.las_thresholds = o.las_thresholds;
  } else if (o.pool.empty() && o.trace.rfind("tiresias:", 0) == 0) {
    // Tiresias' jobs.py has num_queue = 3 and limits [3250, 7200, 18000] but demotes only while
    // q < num_queue - 1: the 18000 limit is never used, its 2D-LAS has three queues.
    spec.policy.las_thresholds = {3250, 7200};
  }
  if (!o.money.empty()) {
    auto money = config::ReadMoneyFile(o.money);
    if (!money.ok()) return fail(money.status().WithPrefix("--money"));
    spec.funds = [m = std::move(*money)](const core::Pool& pool) { return m.Resolve(pool); };
  }
  spec.cluster = o.cluster;
  spec.workload.split = o.split;
  spec.workload.reference_type = o.reference_type;
  spec.workload.checkpoint_interval = o.checkpoint_interval;
  spec.workload.restore_cost = o.restore_cost;
  spec.policies = o.policies;
  spec.blocking = o.blocking;
  spec.no_backfill = o.no_backfill;
  spec.no_preemption = o.no_preemption;
  spec.seed = o.seed;
  if (o.until) spec.until = Time(*o.until);
  spec.model.spread_penalty_permille = o.spread_penalty_permille;
  spec.model.switch_penalty_permille = o.switch_penalty_permille;
  spec.model.device_mtbf = Seconds(static_cast<int64_t>(o.mtbf_hours * 3600));

  std::optional<ProgressBar> bar;
  std::string bar_label;
  sim::ExperimentHooks hooks;
  hooks.warning = [&](const std::string& w) { fmt::print(err, "warning: {}\n", w); };
  hooks.progress = [&](const std::string& label, double f) {
    if (label != bar_label) {
      bar.reset();
      bar.emplace(err, o.progress, label);
      bar_label = label;
    }
    (*bar)(f);
  };
  auto experiment = sim::RunExperiment(spec, hooks);
  bar.reset();
  if (!experiment.ok()) return fail(experiment.status());
  const sim::ReportInput& report = *experiment;
  const std::string& pool_name = report.pool;
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
  std::string money;
  Table paid({"POLICY", "TENANT", "FINISHED", "CHARGED", "VOUCHERS", "BALANCE", "CREDIT"},
             {false, false, true, true, true, true, true});
  for (const sim::PolicyRun& run : report.runs) {
    const sim::Summary& s = run.summary;
    if (!s.with_funds) continue;
    for (const sim::TenantSummary& t : s.tenants) {
      paid.Add({s.policy, t.name, fmt::format("{} / {}", Thousands(t.finished), Thousands(t.jobs)),
                core::FormatYuan(t.charged), core::FormatYuan(t.voucher_paid),
                core::FormatYuan(t.balance_paid), core::FormatYuan(t.credit_paid)});
    }
    money = "\nWhat tenants paid (yuan):\n" + paid.Render();
  }
  fmt::print(out,
             "{}{}\nReport: {}/report.md (plots: jct_cdf.svg, utilization.svg, queue.svg), "
             "figures: {}/report.json, per job: {}/jobs.csv\n",
             table.Render(), money, o.out, o.out, o.out);
  return 0;
}

}  // namespace suanpan::cli
