#include "cli/plan.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/table.h"
#include "config/pool_file.h"
#include "sched/host/host.h"
#include "sched/scheduler.h"

namespace suanpan::cli {
namespace {

using nlohmann::json;

size_t TerminalWidth(std::FILE* out) {
  const int fd = fileno(out);
  if (!isatty(fd)) return 0;
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40) return ws.ws_col;
  return 120;
}

std::string ShapeOf(const core::Pool& pool, const core::JobSpec& job) {
  std::string types;
  for (core::DeviceTypeId t : job.worker.types) {
    if (!types.empty()) types += "|";
    types += pool.catalog().Get(t).name;
  }
  if (job.worker.fractional()) {
    return fmt::format("{:g} {}", static_cast<double>(job.worker.fraction.value()) / 1000, types);
  }
  if (job.workers == 1) return fmt::format("{} {}", job.worker.devices, types);
  return fmt::format("{}x{} {}", job.workers, job.worker.devices, types);
}

json AllocationJson(const core::Pool& pool, const sched::ClusterState& state,
                    const sched::Allocation& alloc) {
  const sched::Segment& seg = state.segment(alloc.segment);
  json workers = json::array();
  for (const sched::WorkerPlacement& w : alloc.workers) {
    json devices = json::array();
    for (int d = 0; d < 64; ++d) {
      if (w.devices & (uint64_t{1} << d)) devices.push_back(d);
    }
    workers.push_back({{"node", pool.node(w.node).name},
                       {"switch", pool.switches()[pool.node(w.node).leaf.value()].name},
                       {"devices", devices},
                       {"share_milli", w.per_device.value()}});
  }
  return {{"provider", pool.provider(seg.provider).name},
          {"cluster", pool.cluster(seg.cluster).name},
          {"device_type", pool.catalog().Get(seg.type).name},
          {"workers", workers}};
}

}  // namespace

int RunPlan(const PlanOptions& options, std::FILE* out, std::FILE* err) {
  auto pool_file = config::ReadPoolFile(options.pool_path);
  if (!pool_file.ok()) {
    fmt::print(err, "suanpan plan: {}\n", pool_file.status().message());
    return 2;
  }
  const core::Pool& pool = pool_file->pool;
  sched::PolicyConfig policy = pool_file->policy;
  if (!options.policy.empty()) {
    const size_t slash = options.policy.find('/');
    policy.queue = options.policy.substr(0, slash);
    if (slash != std::string::npos) policy.placement = options.policy.substr(slash + 1);
  }
  policy.estimate_depth = std::max(policy.estimate_depth, options.estimates);
  auto scheduler = sched::Scheduler::Create(policy);
  if (!scheduler.ok()) {
    fmt::print(err, "suanpan plan: --policy: {}\n", scheduler.status().message());
    return 2;
  }
  auto jobs = config::ReadJobsFile(options.jobs_path, pool);
  if (!jobs.ok()) {
    fmt::print(err, "suanpan plan: {}\n", jobs.status().message());
    return 2;
  }

  Time now(0);
  for (const core::JobSpec& j : jobs->jobs) now = std::max(now, j.submit_time);
  if (options.now) now = Time(*options.now);
  std::vector<sched::QueuedJob> queue;
  for (const core::JobSpec& j : jobs->jobs) {
    if (j.submit_time <= now) queue.push_back(sched::QueuedJob{&j, 0, Seconds(0)});
  }

  sched::ClusterState state(pool);
  const auto t0 = std::chrono::steady_clock::now();
  sched::Decisions decisions = scheduler->Schedule(state, queue, now);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  sched::ApplyDecisions(state, decisions, now);

  std::map<uint64_t, const core::JobSpec*> by_id;
  for (const core::JobSpec& j : jobs->jobs) by_id[j.id.value()] = &j;
  const core::PoolTotals totals = pool.Totals();

  if (options.output == "json") {
    json doc;
    json by_type = json::object();
    for (size_t t = 0; t < totals.devices_by_type.size(); ++t) {
      if (totals.devices_by_type[t] == 0) continue;
      by_type[pool.catalog().types()[t].name] = {
          {"devices", totals.devices_by_type[t]},
          {"allocated_milli", state.AllocatedMilli(core::DeviceTypeId(static_cast<uint16_t>(t)))}};
    }
    doc["pool"] = {{"providers", pool.providers().size()},
                   {"clusters", pool.clusters().size()},
                   {"nodes", totals.nodes},
                   {"devices", totals.devices},
                   {"fp16_pflops", totals.Pflops()},
                   {"by_type", by_type}};
    doc["policy"] = {{"queue", policy.queue},
                     {"placement", policy.placement},
                     {"preemption", policy.preemption},
                     {"backfill", policy.backfill}};
    doc["now"] = now.value();
    doc["summary"] = {{"queued", queue.size()},
                      {"placed", decisions.binds},
                      {"waiting", decisions.waits},
                      {"rejected", decisions.rejects},
                      {"preempted", decisions.preemptions}};
    json items = json::array();
    for (const sched::Decision& d : decisions.items) {
      const core::JobSpec& j = *by_id.at(d.job.value());
      json item = {{"job", j.name},
                   {"id", j.id.value()},
                   {"tenant", pool.tenant(j.tenant).name},
                   {"decision", sched::DecisionKindName(d.kind)},
                   {"outcome", sched::OutcomeName(d.outcome)},
                   {"reason", d.reason}};
      if (d.earliest_start) item["earliest_start"] = d.earliest_start->value();
      if (d.allocation) item["placement"] = AllocationJson(pool, state, *d.allocation);
      items.push_back(std::move(item));
    }
    doc["decisions"] = std::move(items);
    fmt::print(out, "{}\n", doc.dump(2));
    return 0;
  }
  if (options.output != "table") {
    fmt::print(err, "suanpan plan: -o: must be table or json, got '{}'\n", options.output);
    return 2;
  }

  const size_t width = TerminalWidth(out);
  const std::string flops = totals.Eflops() >= 1.0 ? fmt::format("{:.2f} EFLOPS", totals.Eflops())
                                                   : fmt::format("{:.1f} PFLOPS", totals.Pflops());
  fmt::print(out,
             "Pool {}: {} providers, {} clusters, {} nodes, {} accelerators, {} (peak dense "
             "FP16/BF16)\n\n",
             options.pool_path, pool.providers().size(), pool.clusters().size(),
             Thousands(totals.nodes), Thousands(totals.devices), flops);
  Table types({"TYPE", "VENDOR", "DEVICES", "PFLOPS", "ALLOCATED", "USE"},
              {false, false, true, true, true, true});
  for (size_t t = 0; t < totals.devices_by_type.size(); ++t) {
    const int64_t n = totals.devices_by_type[t];
    if (n == 0) continue;
    const core::DeviceType& type = pool.catalog().types()[t];
    const int64_t alloc = state.AllocatedMilli(core::DeviceTypeId(static_cast<uint16_t>(t)));
    types.Add({type.name, type.vendor, Thousands(n),
               fmt::format("{:.1f}", static_cast<double>(n * type.fp16_gflops) / 1e6),
               fmt::format("{:.2f}", static_cast<double>(alloc) / kMilliPerDevice),
               fmt::format("{:.0f}%", 100.0 * static_cast<double>(alloc) / (n * 1000.0))});
  }
  fmt::print(out, "{}\n", types.Render());

  Table providers({"PROVIDER", "REGION", "BACKEND", "CLUSTERS", "DEVICES"},
                  {false, false, false, true, true});
  for (const core::Provider& p : pool.providers()) {
    int64_t devices = 0;
    for (core::ClusterId c : p.clusters) {
      for (core::NodeId n : pool.cluster(c).nodes) devices += pool.node(n).shape.devices;
    }
    providers.Add({p.name, p.region, std::string(core::BackendKindName(p.backend)),
                   std::to_string(p.clusters.size()), Thousands(devices)});
  }
  fmt::print(out, "{}\n", providers.Render());

  fmt::print(out,
             "Policy queue/{} placement/{}, preemption {}, backfill {}. One round at t={} over "
             "{} queued jobs in {:.1f} ms:\n  {} placed, {} waiting, {} rejected, {} "
             "preempted\n\n",
             policy.queue, policy.placement, policy.preemption ? "on" : "off",
             policy.backfill ? "on" : "off", now.value(), Thousands(queue.size()), ms,
             Thousands(decisions.binds), Thousands(decisions.waits), Thousands(decisions.rejects),
             Thousands(decisions.preemptions));

  Table table({"JOB", "TENANT", "SHAPE", "DECISION", "START", "WHERE / WHY"});
  // Waiting and rejected jobs first: they are what a reader wants explained.
  std::vector<const sched::Decision*> rows;
  for (const auto& d : decisions.items) {
    if (d.kind != sched::DecisionKind::kBind) rows.push_back(&d);
  }
  for (const auto& d : decisions.items) {
    if (d.kind == sched::DecisionKind::kBind) rows.push_back(&d);
  }
  const size_t shown =
      options.limit > 0 ? std::min<size_t>(options.limit, rows.size()) : rows.size();
  for (size_t i = 0; i < shown; ++i) {
    const sched::Decision& d = *rows[i];
    const core::JobSpec& j = *by_id.at(d.job.value());
    std::string start = d.kind == sched::DecisionKind::kBind ? "now"
                        : d.earliest_start ? fmt::format("t={}", d.earliest_start->value())
                                           : "-";
    table.Add({j.name, pool.tenant(j.tenant).name, ShapeOf(pool, j),
               std::string(sched::DecisionKindName(d.kind)), start, d.reason});
  }
  fmt::print(out, "{}", table.Render(width));
  if (shown < rows.size()) {
    fmt::print(out, "... {} more (--limit 0 shows all; -o json for everything)\n",
               Thousands(rows.size() - shown));
  }
  return 0;
}

}  // namespace suanpan::cli
