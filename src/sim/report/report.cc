#include "sim/report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/text.h"
#include "core/money.h"
#include "sim/report/svg_plot.h"

namespace suanpan::sim {
namespace {

using nlohmann::ordered_json;

// Fixed decimals, so that the JSON is byte-identical across runs and platforms.
double Round(double v, int decimals = 4) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

ordered_json DistributionJson(const Distribution& d) {
  return {{"mean", Round(d.mean, 2)},
          {"median", Round(d.median, 2)},
          {"p95", d.p95},
          {"p99", d.p99},
          {"max", d.max}};
}

Status WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return InternalError(fmt::format("{}: cannot write", path.string()));
  return OkStatus();
}

std::string TenantName(const ReportInput& input, core::TenantId id) {
  return id.value() < input.tenant_names.size() ? input.tenant_names[id.value()] : "";
}

// What each tenant was charged and how it paid, per policy (runs with funds only).
std::string MoneyMarkdown(const ReportInput& input) {
  std::string md;
  for (const PolicyRun& run : input.runs) {
    const Summary& s = run.summary;
    if (!s.with_funds) continue;
    if (md.empty()) {
      md = "\n## Money\n\nCharged at the pool's prices, rated per run and month to the fen; paid "
           "by vouchers (earliest expiry first), then the balance, then credit. Yuan.\n";
    }
    md += fmt::format(
        "\n**{}**\n\n| tenant | jobs finished | device-hours | charged | vouchers | balance | "
        "credit |\n|---|---|---|---|---|---|---|\n",
        s.policy);
    for (const TenantSummary& t : s.tenants) {
      md += fmt::format("| {} | {} / {} | {:.2f} | {} | {} | {} | {} |\n", t.name, t.finished,
                        t.jobs, static_cast<double>(t.device_seconds) / 3600,
                        core::FormatYuan(t.charged), core::FormatYuan(t.voucher_paid),
                        core::FormatYuan(t.balance_paid), core::FormatYuan(t.credit_paid));
    }
    if (!run.result.vouchers.empty()) {
      md += "\n| voucher | tenant | granted | drawn | left |\n|---|---|---|---|---|\n";
      for (const VoucherOutcome& v : run.result.vouchers) {
        md += fmt::format("| {} | {} | {} | {} | {} |\n", v.id, TenantName(input, v.tenant),
                          core::FormatYuan(v.granted), core::FormatYuan(v.drawn),
                          core::FormatYuan(v.left));
      }
    }
  }
  return md;
}

}  // namespace

std::string ReportJson(const ReportInput& input) {
  ordered_json doc;
  doc["generated_by"] = "suanpan sim";
  doc["trace"] = input.trace;
  doc["pool"] = input.pool;
  doc["jobs"] = input.jobs;
  doc["dropped"] = input.dropped;
  doc["devices"] = input.devices;
  doc["seed"] = input.seed;
  ordered_json policies = ordered_json::array();
  for (const PolicyRun& run : input.runs) {
    const Summary& s = run.summary;
    ordered_json tenants = ordered_json::array();
    for (const TenantSummary& t : s.tenants) {
      ordered_json e = {{"name", t.name},
                        {"jobs", t.jobs},
                        {"finished", t.finished},
                        {"device_hours", Round(static_cast<double>(t.device_seconds) / 3600, 2)},
                        {"cost_yuan", Round(static_cast<double>(t.cost.value()) / 1e6, 2)},
                        {"mean_jct", Round(t.mean_jct, 2)},
                        {"mean_slowdown", Round(t.mean_slowdown)}};
      if (s.with_funds) {
        e["charged_micro"] = t.charged.value();
        e["voucher_paid_micro"] = t.voucher_paid.value();
        e["balance_paid_micro"] = t.balance_paid.value();
        e["credit_paid_micro"] = t.credit_paid.value();
      }
      tenants.push_back(std::move(e));
    }
    policies.push_back({{"policy", s.policy},
                        {"jobs", s.jobs},
                        {"finished", s.finished},
                        {"unfinished", s.unfinished},
                        {"jct_seconds", DistributionJson(s.jct)},
                        {"queueing_seconds", DistributionJson(s.queueing)},
                        {"makespan_seconds", s.makespan},
                        {"utilization", Round(s.utilization)},
                        {"fragmentation", Round(s.fragmentation)},
                        {"preemptions", s.preemptions},
                        {"failures", s.failures},
                        {"mean_slowdown", Round(s.mean_slowdown)},
                        {"max_slowdown", Round(s.max_slowdown)},
                        {"jain_index", Round(s.jain_index)},
                        {"scheduling_rounds", s.rounds},
                        {"events", s.events},
                        {"tenants", tenants}});
    if (s.with_funds) {
      ordered_json vouchers = ordered_json::array();
      for (const VoucherOutcome& v : run.result.vouchers) {
        vouchers.push_back({{"id", v.id},
                            {"tenant", TenantName(input, v.tenant)},
                            {"granted_micro", v.granted.value()},
                            {"drawn_micro", v.drawn.value()},
                            {"left_micro", v.left.value()}});
      }
      policies.back()["vouchers"] = vouchers;
    }
  }
  doc["policies"] = policies;
  return doc.dump(2) + "\n";
}

std::string JobsCsv(const ReportInput& input) {
  std::string csv =
      "policy,job,tenant,submit,first_start,end,devices,type,provider,attempts,preemptions,"
      "failures,queueing,jct\n";
  auto name = [](const std::vector<std::string>& names, auto id) -> std::string {
    if (!id || static_cast<size_t>(id->value()) >= names.size()) return "";
    return names[id->value()];
  };
  for (const PolicyRun& run : input.runs) {
    const std::vector<JobOutcome>& jobs = run.result.jobs;
    for (size_t i = 0; i < jobs.size() && i < input.labels.size(); ++i) {
      const JobOutcome& o = jobs[i];
      const JobLabel& l = input.labels[i];
      const int64_t milli = l.devices.value();
      const std::string devices = milli % 1000 == 0
                                      ? fmt::format("{}", milli / 1000)
                                      : fmt::format("{}.{:03}", milli / 1000, milli % 1000);
      csv += fmt::format(
          "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", CsvField(run.summary.policy),
          CsvField(l.name), CsvField(l.tenant), o.submit.value(),
          o.first_start ? fmt::format("{}", o.first_start->value()) : "",
          o.finished ? fmt::format("{}", o.end.value()) : "", devices,
          CsvField(name(input.type_names, o.type)),
          CsvField(name(input.provider_names, o.provider)), o.attempts, o.preemptions, o.failures,
          o.queued_seconds, o.finished ? fmt::format("{}", (o.end - o.submit).value()) : "");
    }
  }
  return csv;
}

Status WriteReport(const ReportInput& input, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InternalError(fmt::format("{}: cannot create: {}", dir, ec.message()));
  const std::filesystem::path out(dir);
  SP_RETURN_IF_ERROR(WriteFile(out / "report.json", ReportJson(input)));
  SP_RETURN_IF_ERROR(WriteFile(out / "jobs.csv", JobsCsv(input)));

  Chart cdf{"JCT distribution",
            "job completion time (s)",
            "share of jobs",
            {},
            false,
            0.0,
            1.0,
            std::nullopt,
            std::nullopt,
            true};
  Chart util{"Devices allocated over time",
             "time (s)",
             "share of devices",
             {},
             true,
             0.0,
             1.0,
             std::nullopt,
             std::nullopt,
             false};
  Chart queue{"Jobs waiting over time",
              "time (s)",
              "jobs queued",
              {},
              true,
              0.0,
              std::nullopt,
              std::nullopt,
              std::nullopt,
              false};
  ordered_json timeline = {{"generated_by", "suanpan sim"},
                           {"devices", input.devices},
                           {"policies", ordered_json::array()}};
  for (const PolicyRun& run : input.runs) {
    std::vector<double> jct(run.jct.begin(), run.jct.end());
    for (double& v : jct) v = std::max(v, 1.0);  // log axis
    cdf.series.push_back(CdfSeries(run.summary.policy, jct));
    Series u{run.summary.policy, {}, {}}, q{run.summary.policy, {}, {}};
    const double capacity = static_cast<double>(std::max<int64_t>(1, input.devices)) * 1000.0;
    for (const TimePoint& p : run.result.timeline) {
      u.x.push_back(static_cast<double>(p.t.value()));
      q.x.push_back(static_cast<double>(p.t.value()));
      u.y.push_back(static_cast<double>(p.allocated_milli) / capacity);
      q.y.push_back(static_cast<double>(p.queued));
    }
    util.series.push_back(Downsample(u));
    queue.series.push_back(Downsample(q));
    const Series& du = util.series.back();
    const Series& dq = queue.series.back();
    timeline["policies"].push_back({{"policy", run.summary.policy},
                                    {"utilization", {{"t", du.x}, {"share", du.y}}},
                                    {"queue", {{"t", dq.x}, {"jobs", dq.y}}}});
  }
  // The plots' series (downsampled as drawn), for the dashboard's report page.
  SP_RETURN_IF_ERROR(WriteFile(out / "timeline.json", timeline.dump(1) + "\n"));
  SP_RETURN_IF_ERROR(WriteFile(out / "jct_cdf.svg", RenderLineChart(cdf)));
  SP_RETURN_IF_ERROR(WriteFile(out / "utilization.svg", RenderLineChart(util)));
  SP_RETURN_IF_ERROR(WriteFile(out / "queue.svg", RenderLineChart(queue)));

  std::string md = fmt::format(
      "# suanpan sim report\n\nTrace `{}` on `{}`: {} jobs replayed ({} dropped), seed {}.\n\n",
      input.trace, input.pool, input.jobs, input.dropped, input.seed);
  md +=
      "| policy | finished | avg JCT (s) | median | p95 | p99 | avg queueing (s) | makespan (s) "
      "| utilization | preemptions | Jain (slowdown) |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const PolicyRun& run : input.runs) {
    const Summary& s = run.summary;
    md += fmt::format(
        "| {} | {} / {} | {:.2f} | {:.1f} | {} | {} | {:.2f} | {} | {:.1f} % | {} | "
        "{:.3f} |\n",
        s.policy, s.finished, s.jobs, s.jct.mean, s.jct.median, s.jct.p95, s.jct.p99,
        s.queueing.mean, s.makespan, s.utilization * 100, s.preemptions, s.jain_index);
  }
  md += MoneyMarkdown(input);
  md += "\n![JCT CDF](jct_cdf.svg)\n\n![Utilization](utilization.svg)\n\n![Queue](queue.svg)\n";
  md +=
      "\nPercentiles: pXX = sorted[floor(XX/100 x n)]; median = mean of the two middle "
      "values. Every figure is in report.json.\n";
  return WriteFile(out / "report.md", md);
}

}  // namespace suanpan::sim
