// What agents tell the control plane: heartbeats (leases, lost nodes), worker reports with gang
// and retry rules, and worker logs.
//
// Leases: an agent heartbeats every lease/3; each heartbeat renews its node's lease. When a lease
// lapses, the node is lost: the jobs with workers there end their attempt (requeued, or failed
// with requeue_lost = false) and the host holds the node whole (Host::Cordon), so nothing new
// lands on it until its agent heartbeats again. The agent's worker supervisors stop their
// processes on their own when the agent has not renewed the lease for lease - 1 s (see
// src/agent/supervisor.cc), before the server requeues the work, so a job does not run twice.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "control/control_plane.h"

namespace suanpan::control {

using core::JobState;

StatusOr<protocol::HeartbeatReply> ControlPlane::Heartbeat(const Caller& caller,
                                                           const std::string& node,
                                                           const protocol::Heartbeat& hb) {
  auto id = pool_->FindNode(node);
  if (!id || (caller.role == Role::kAgent && caller.scope != node)) {
    return NotFoundError(fmt::format("node '{}' not found", node));
  }
  if (caller.role == Role::kTenant) return PermissionDeniedError("only agents heartbeat");
  const size_t n = id->value();
  if (Backend* b = BackendOfNode(n); b != nullptr && !b->NeedsAgents()) {
    return FailedPreconditionError(fmt::format(
        "node: node '{}' is served by its provider's engine ({}); an agent may not take it", node,
        b->name()));
  }
  const core::Node& declared = pool_->node(*id);
  const std::string type = pool_->catalog().Get(declared.shape.type).name;
  std::map<std::string, int> by_type;
  for (const protocol::DeviceInfo& d : hb.devices) ++by_type[d.type];
  int matching = 0;
  std::string found;
  for (const auto& [t, count] : by_type) {
    found += fmt::format("{}{} x {}", found.empty() ? "" : ", ", count, t);
    if (t == type) matching = count;
  }
  if (matching != declared.shape.devices || by_type.size() > 1) {
    return FailedPreconditionError(
               fmt::format("devices: node '{}' is declared with {} x {} in the pool, the agent "
                           "found {}",
                           node, declared.shape.devices, type, found.empty() ? "none" : found))
        .WithField("devices");
  }
  const int64_t now = clock_.NowMs();
  switch (leases_.Renew(n, now + options_.lease_seconds * 1000, hb.address)) {
    case NodeLeases::Renewal::kBack:
      NodeBack(*id, "its agent heartbeats again");
      break;
    case NodeLeases::Renewal::kFirst:
      spdlog::info("node={} registered: {} address={}", node, found, leases_.at(n).address);
      if (unattended_.erase(n) > 0) host_->Uncordon(*id);
      dirty_ = true;
      break;
    case NodeLeases::Renewal::kRenewed:
      break;
  }
  return protocol::HeartbeatReply{node, options_.lease_seconds, 0};
}

void ControlPlane::CheckLeases(int64_t now_ms) {
  CheckStarts(now_ms);
  for (size_t n : leases_.Lapsed(now_ms)) {
    NodeLost(core::NodeId(static_cast<uint32_t>(n)),
             fmt::format("no heartbeat for {} s", options_.lease_seconds));
  }
}

void ControlPlane::NodeLost(core::NodeId node, const std::string& why) {
  const std::string& name = pool_->node(node).name;
  leases_.MarkLost(node.value());
  if (host_->Cordoned(node)) return;  // lost already
  const std::vector<core::JobId> jobs = host_->JobsOn(node);
  spdlog::warn("node={} lost: {}; {} job(s) there end their attempt", name, why, jobs.size());
  for (core::JobId id : jobs) {
    if (JobRecord* j = jobs_.Find(id.value())) {
      EndAttempt(*j, options_.requeue_lost, /*lost=*/true,
                 fmt::format("node {} lost ({})", name, why));
    }
  }
  // Hold the whole node (now free) so that nothing lands on it until it is back, across restarts.
  host_->Cordon(node, Now());
  batch_.nodes.push_back({name, /*in_service=*/false, why, clock_.NowMs()});
  for (auto& b : backends_) b->NodeChanged(node.value());
  dirty_ = true;
}

void ControlPlane::NodeBack(core::NodeId node, const std::string& why) {
  leases_.MarkBack(node.value());
  if (!host_->Cordoned(node)) return;
  host_->Uncordon(node);
  batch_.nodes.push_back({pool_->node(node).name, /*in_service=*/true, why, clock_.NowMs()});
  for (auto& b : backends_) b->NodeChanged(node.value());
  dirty_ = true;
  spdlog::info("node={} back in service: {}", pool_->node(node).name, why);
}

void ControlPlane::EndAttempt(JobRecord& j, bool retry, bool lost, const std::string& why,
                              std::optional<int64_t> run_end_ms) {
  const int64_t now = clock_.NowMs();
  const int max_retries = j.decoded.launch.max_retries;
  const bool again = retry && (lost || j.attempts <= max_retries);
  Release(j, now, /*requeue=*/again, /*ended_by_host=*/false, run_end_ms);
  const std::string attempt = fmt::format("attempt {} ended: {}", j.attempts, why);
  if (j.state == JobState::kRunning) ChangeState(j, JobState::kLost, attempt);
  if (again) {
    const std::string reason =
        lost ? fmt::format("requeued: {}", attempt)
             : fmt::format("retrying ({} of max_retries {}): {}", j.attempts, max_retries, attempt);
    ChangeState(j, JobState::kPending, reason);
    jobs_.AddEvent(j, "retry", reason);
  } else {
    ChangeState(j, JobState::kFailed, attempt);
    jobs_.AddEvent(j, "failed", attempt);
  }
}

StatusOr<JobView> ControlPlane::ReportWorker(const Caller& caller, uint64_t id, int rank,
                                             const protocol::WorkerReport& report) {
  if (caller.role == Role::kTenant) return PermissionDeniedError("only agents report workers");
  JobRecord* found = jobs_.Find(id);
  if (found == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  JobRecord& j = *found;
  const int attempt = report.attempt;
  // An agent reports only on the workers it runs: ranks placed on its own node.
  auto node = WorkerNode(j, attempt, rank);
  if (!node || (caller.role == Role::kAgent &&
                pool_->node(core::NodeId(static_cast<uint32_t>(*node))).name != caller.scope)) {
    return NotFoundError(fmt::format("job {} has no worker {} on this node", id, rank));
  }
  if (attempt != j.attempts || !j.holds_devices) {
    return FailedPreconditionError(fmt::format(
        "attempt: attempt {} of job {} is over (the job is {} on attempt {}); stop the worker",
        attempt, id, core::JobStateName(j.state), j.attempts));
  }
  JobRecord::Worker& w = j.workers.at(rank);
  const std::string node_name = pool_->node(core::NodeId(static_cast<uint32_t>(*node))).name;
  if (report.state == protocol::WorkerReport::State::kRunning) {
    if (w.running) return jobs_.View(j);  // a repeated report
    w.running = true;
    jobs_.AddEvent(j, "worker",
                   fmt::format("attempt {} rank {}: started on {}", attempt, rank, node_name));
    const bool all = std::all_of(j.workers.begin(), j.workers.end(),
                                 [](const JobRecord::Worker& x) { return x.running; });
    if (all) MarkStarted(j, clock_.NowMs());
    if (all && j.state == JobState::kAdmitted) {
      ChangeState(j, JobState::kRunning,
                  j.workers.size() == 1
                      ? std::string("running: the worker started")
                      : fmt::format("running: all {} workers started", j.workers.size()));
      jobs_.AddEvent(j, "running", j.reason);
    }
    return jobs_.View(j);
  }
  // exited
  if (w.exited) return jobs_.View(j);
  w.running = true;
  w.exited = true;
  w.exit_code = report.exit_code;
  w.signal = report.signal;
  const bool ok = report.exit_code == 0 && !report.signal && report.reason.empty();
  if (ok) {
    // Kept in the store: after a restart the server still knows this rank is done.
    jobs_.AddEvent(j, "worker", fmt::format("attempt {} rank {}: exited 0", attempt, rank));
    const bool all =
        std::all_of(j.workers.begin(), j.workers.end(),
                    [](const JobRecord::Worker& x) { return x.exited && x.exit_code == 0; });
    if (all) {
      MarkStarted(j, clock_.NowMs());  // ranks that ran and ended between two reports
      Release(j, clock_.NowMs(), /*requeue=*/false);
      if (j.state == JobState::kAdmitted) ChangeState(j, JobState::kRunning, "running");
      j.exit_code = 0;
      ChangeState(j, JobState::kSucceeded,
                  j.workers.size() == 1
                      ? std::string("finished: the worker exited 0")
                      : fmt::format("finished: all {} workers exited 0", j.workers.size()));
      jobs_.AddEvent(j, "succeeded", j.reason);
    }
    return jobs_.View(j);
  }
  std::string what;
  if (report.reason == "runtime_limit") {
    what = fmt::format("rank {} on {} reached the runtime limit of {} s", rank, node_name,
                       j.spec().runtime_limit ? j.spec().runtime_limit->value() : 0);
  } else if (report.signal) {
    what = fmt::format("rank {} on {} was killed by signal {}", rank, node_name, *report.signal);
  } else if (report.reason == "start_failed") {
    what = fmt::format("rank {} on {} could not start", rank, node_name);
  } else if (report.reason == "lost") {
    what = fmt::format("rank {} on {} was lost (its agent restarted without it)", rank, node_name);
  } else {
    what = fmt::format("rank {} on {} exited with code {}", rank, node_name,
                       report.exit_code.value_or(-1));
  }
  if (!report.message.empty()) what += ": " + report.message;
  j.exit_code = report.exit_code;
  // A runtime limit is the job's own bound: not retried.
  jobs_.AddEvent(j, "worker", fmt::format("attempt {} rank {}: ended: {}", attempt, rank, what));
  EndAttempt(j, report.reason != "runtime_limit", report.reason == "lost", what);
  return jobs_.View(j);
}

StatusOr<int64_t> ControlPlane::AppendWorkerLog(const Caller& caller, uint64_t id, int rank,
                                                int attempt, int64_t offset,
                                                std::string_view data) {
  if (caller.role == Role::kTenant) return PermissionDeniedError("only agents ship logs");
  if (!logs_.enabled()) return FailedPreconditionError("logs: this server keeps no logs");
  SP_RETURN_IF_ERROR(disk_.Check());
  const JobRecord* j = jobs_.Find(id);
  if (j == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  auto node = WorkerNode(*j, attempt, rank);
  if (!node || (caller.role == Role::kAgent &&
                pool_->node(core::NodeId(static_cast<uint32_t>(*node))).name != caller.scope)) {
    return NotFoundError(
        fmt::format("job {} has no worker {} in attempt {} on this node", id, rank, attempt));
  }
  return logs_.Append(pool_->tenant(j->spec().tenant).name, id, attempt, rank, offset, data);
}

StatusOr<LogChunk> ControlPlane::ReadWorkerLog(const Caller& caller, uint64_t id, int rank,
                                               std::optional<int> attempt, int64_t offset) const {
  const JobRecord* j = Visible(caller, id);
  if (j == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  LogChunk out;
  out.rank = rank;
  const int a = attempt.value_or(j->attempts);
  if (j->attempts == 0) {
    out.done = core::IsTerminal(j->state);
    return out;
  }
  if (!WorkerNode(*j, a, rank)) {
    return FieldError("worker", fmt::format("job {} has no worker {} in attempt {}", id, rank, a));
  }
  if (offset < 0) return FieldError("offset", "must be >= 0");
  out.attempt = a;
  out.offset = offset;
  out.data = logs_.Read(id, a, rank, offset);
  out.next_offset = offset + static_cast<int64_t>(out.data.size());
  const bool over = a != j->attempts || !j->holds_devices;
  out.done = over && out.data.empty();
  return out;
}

}  // namespace suanpan::control
