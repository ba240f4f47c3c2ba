// Open(): rebuilding the job table and the scheduling host from the store.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "control/control_plane.h"

namespace suanpan::control {

using core::JobState;
using Json = nlohmann::json;

Status ControlPlane::Recover(store::Snapshot snapshot) {
  const int64_t now = clock_.NowMs();
  tokens_.Load(std::move(snapshot.tokens));
  SP_RETURN_IF_ERROR(billing_.Load(snapshot).WithPrefix("store"));
  rated_month_ = core::MonthOf(now);
  for (const store::ConfigRow& c : snapshot.config) {
    config_seq_[c.kind == "tenant" ? c.name : c.kind + ":" + c.name] = c.seq;
    next_config_seq_ = std::max(next_config_seq_, c.seq + 1);
  }
  std::map<uint64_t, JobRecord*> by_id;
  for (store::JobRow& row : snapshot.jobs) {
    auto job = std::make_unique<JobRecord>();
    auto state = core::ParseJobState(row.state);
    job->state = state.value_or(JobState::kFailed);
    job->submit_ms = row.submit_ms;
    job->updated_ms = row.updated_ms;
    job->queued_ms = row.updated_ms;
    job->attempts = row.attempts;
    job->reason = row.reason;
    job->request_id = row.request_id;
    job->submitted_by = row.submitted_by;
    job->exit_code = row.exit_code;
    Json spec = Json::parse(row.spec, nullptr, /*allow_exceptions=*/false);
    auto decoded = DecodeJob(spec, *pool_);
    if (decoded.ok()) {
      job->decoded = std::move(*decoded);
    } else {
      // The pool changed under a stored job (a tenant or type was removed): keep the job
      // visible but end it; its spec stays as stored.
      job->decoded.spec.name = row.name;
      job->decoded.spec.tenant = pool_->FindTenant(row.tenant).value_or(core::TenantId(0));
      if (!core::IsTerminal(job->state)) {
        job->state = JobState::kFailed;
        job->reason = fmt::format("no longer valid on this pool: {}", decoded.status().message());
      }
    }
    job->decoded.spec.id = core::JobId(row.id);
    job->decoded.spec.submit_time = Time(row.submit_ms / 1000);
    job->spec_json = std::move(spec);
    if (row.request_id) jobs_.RememberRequest(row.tenant, *row.request_id, row.id);
    logs_.Count(row.tenant, row.id);
    by_id[row.id] = &jobs_.Add(std::move(job));
  }
  for (store::EventRow& e : snapshot.events) {
    auto it = by_id.find(e.job_id);
    if (it != by_id.end()) it->second->events.push_back(std::move(e));
  }
  for (store::RunRow& r : snapshot.runs) {
    auto it = by_id.find(r.job_id);
    if (it != by_id.end()) it->second->runs.push_back(std::move(r));
  }
  // The fair-share memory as it was stored (exact: see sched/host/usage_memory.h).
  std::vector<sched::UsageMemory::Row> memory;
  for (const store::UsageRow& u : snapshot.usage) {
    auto tenant = pool_->FindTenant(u.tenant);
    auto type = pool_->catalog().Find(u.device_type);
    if (!tenant || !type) continue;
    memory.push_back({tenant->value(), type->value(), u.period, u.value});
  }
  host_->usage_memory().Load(memory);

  // Nodes out of service stay out until they are back (their agent heartbeats again, their
  // backend reports them up). First, so that no job is resumed on one.
  int out_of_service = 0;
  for (const store::NodeStateRow& n : snapshot.nodes) {
    auto node = pool_->FindNode(n.node);
    if (!node || n.in_service) continue;
    leases_.MarkLost(node->value());
    host_->Cordon(*node, Time(n.since_ms / 1000));
    ++out_of_service;
  }

  int retaken = 0, requeued = 0;
  for (const auto& [id, record] : jobs_.all()) {
    JobRecord& j = *record;
    const sched::JobHistory history = AttainedService(j);
    const bool holds = j.state == JobState::kAdmitted || j.state == JobState::kRunning;
    if (holds) {
      std::optional<sched::Allocation> alloc;
      if (!j.runs.empty() && !j.runs.back().end_ms) {
        alloc = ParsePlacement(*pool_, host_->state(), j.runs.back());
      }
      // Its devices must be free (two stored runs never share one, unless the pool changed).
      bool free = alloc.has_value();
      std::map<std::pair<uint32_t, int>, int64_t> taking;  // (node, device) -> milli
      for (size_t w = 0; free && w < alloc->workers.size(); ++w) {
        const sched::WorkerPlacement& p = alloc->workers[w];
        for (int d = 0; d < 64; ++d) {
          if (!(p.devices & (uint64_t{1} << d))) continue;
          int64_t& t = taking[{p.node.value(), d}];
          t += p.per_device.value();
          free = free && host_->state().FreeShare(p.node, d).value() >= t;
        }
        free = free && host_->state().FreeCpu(p.node) >= p.cpu &&
               host_->state().FreeMemory(p.node) >= p.memory;
      }
      if (alloc && free) {
        for (const sched::WorkerPlacement& w : alloc->workers) {
          // An agent ran (or was to run) this job: it gets one lease to come back, else the node
          // is lost. (Leases are not stored.) Nodes an engine serves have none.
          if (j.state == JobState::kRunning || options_.require_agents) {
            leases_.Grant(w.node.value(), now + options_.lease_seconds * 1000);
          }
        }
        j.workers.assign(alloc->workers.size(), JobRecord::Worker{});
        for (auto& w : j.workers) w.running = j.state == JobState::kRunning;
        // What the ranks of this attempt reported before the restart (worker events).
        for (const store::EventRow& e : j.events) {
          int attempt = 0, rank = 0;
          char what[16] = {0};
          if (e.kind != "worker" ||
              std::sscanf(e.message.c_str(), "attempt %d rank %d: %15s", &attempt, &rank, what) !=
                  3 ||
              attempt != j.attempts || rank < 0 || rank >= static_cast<int>(j.workers.size())) {
            continue;
          }
          if (std::string_view(what) == "started") j.workers[rank].running = true;
          if (std::string_view(what) == "exited") {
            j.workers[rank].running = true;
            j.workers[rank].exited = true;
            j.workers[rank].exit_code = 0;
          }
        }
        host_->Resume(j.decoded.spec, *alloc, Time(j.runs.back().start_ms / 1000), history);
        j.holds_devices = true;
        // After a restart its agent (or engine) gets time to report what started meanwhile.
        WatchStart(j, now + 2 * int64_t{options_.lease_seconds} * 1000);
        ++retaken;
        continue;
      }
      // Its devices are gone (pool changed) or taken: the run ends now and the job queues again.
      if (!j.runs.empty() && !j.runs.back().end_ms) {
        j.runs.back().end_ms = now;
        jobs_.SaveRun(j.runs.back());
      }
      j.state = JobState::kPending;
      j.reason = "requeued at restart: its placement is no longer available";
      j.updated_ms = now;
      jobs_.AddEvent(j, "requeued", j.reason);
      jobs_.Save(j);
      ++requeued;
    }
    if (j.queued()) Enqueue(j);
  }
  // Every run is rated again: only what is missing is booked (the charges of runs that ended
  // before money existed, or of months that ended while the server was down).
  for (const auto& [id, j] : jobs_.all()) {
    const std::string& tenant = pool_->tenant(j->spec().tenant).name;
    for (const store::RunRow& r : j->runs) billing_.RateRun(tenant, r, now, batch_);
  }
  billing_.ExpireVouchers(now, batch_);
  if (!batch_.empty()) {
    PersistUsageMemory();
    SP_RETURN_IF_ERROR(store_->Commit(batch_));
    batch_ = {};
  }
  spdlog::info(
      "recovered jobs={} queued={} holding_devices={} requeued={} tokens={} "
      "nodes_out_of_service={}",
      jobs_.size(), host_->queued_count(), retaken, requeued, tokens_.size(), out_of_service);
  return OkStatus();
}

}  // namespace suanpan::control
