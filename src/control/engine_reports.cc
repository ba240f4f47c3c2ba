// What a delegated provider's engine tells the control plane (backends/slurm): its job for an
// attempt was submitted, started, ended; and how much of each node its own work holds. The same
// gang and retry rules as agents' worker reports (worker_reports.cc), for a job the engine runs
// as one unit.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "control/control_plane.h"

namespace suanpan::control {

using core::JobState;

Status ControlPlane::EngineReport(const EngineEvent& e) {
  JobRecord* found = jobs_.Find(e.job);
  if (found == nullptr) return NotFoundError(fmt::format("job {} not found", e.job));
  JobRecord& j = *found;
  if (e.attempt != j.attempts || !j.holds_devices || j.runs.empty()) {
    return FailedPreconditionError(fmt::format(
        "attempt: attempt {} of job {} is over (the job is {} on attempt {}); cancel it", e.attempt,
        e.job, core::JobStateName(j.state), j.attempts));
  }
  const int64_t now = clock_.NowMs();
  store::RunRow& run = j.runs.back();
  const std::string engine_job = fmt::format("{} job {}", run.provider, e.ref);
  if (!e.ref.empty() && run.engine_ref != e.ref) {
    run.engine_ref = e.ref;
    jobs_.SaveRun(run);
    jobs_.AddEvent(
        j, "submitted",
        fmt::format("attempt {}: submitted to {} as {}", e.attempt, run.provider, engine_job));
  }
  switch (e.kind) {
    case EngineEvent::Kind::kSubmitted:
      return OkStatus();
    case EngineEvent::Kind::kStarted: {
      if (run.started_ms) return OkStatus();
      for (JobRecord::Worker& w : j.workers) w.running = true;
      MarkStarted(j, e.time_ms > 0 ? e.time_ms : now);
      if (j.state == JobState::kAdmitted) {
        ChangeState(j, JobState::kRunning,
                    fmt::format("running: {} started{}", engine_job,
                                e.message.empty() ? "" : " on " + e.message));
        jobs_.AddEvent(j, "running", j.reason);
      }
      return OkStatus();
    }
    case EngineEvent::Kind::kEnded:
      break;
  }
  const std::optional<int64_t> end =
      e.time_ms > 0 ? std::optional<int64_t>(e.time_ms) : std::nullopt;
  const bool ok = e.reason.empty() && e.exit_code == 0 && !e.signal;
  if (ok) {
    if (!run.started_ms) MarkStarted(j, end.value_or(now));
    for (JobRecord::Worker& w : j.workers) w = {true, true, 0, std::nullopt};
    Release(j, now, /*requeue=*/false, /*ended_by_host=*/false, end);
    if (j.state == JobState::kAdmitted) ChangeState(j, JobState::kRunning, "running");
    j.exit_code = 0;
    ChangeState(j, JobState::kSucceeded,
                fmt::format("finished: {} completed (exit 0)", engine_job));
    jobs_.AddEvent(j, "succeeded", j.reason);
    return OkStatus();
  }
  std::string what;
  bool retry = true, lost = false;
  if (e.reason == "rejected") {
    // The engine refuses the request itself (an unknown partition, more than its nodes have):
    // another attempt there would be refused the same way.
    what = fmt::format("{} refused the job: {}", run.provider, e.message);
    retry = false;
  } else if (e.reason == "runtime_limit") {
    what = fmt::format("{} reached the runtime limit of {} s", engine_job,
                       j.spec().runtime_limit ? j.spec().runtime_limit->value() : 0);
    retry = false;
  } else if (e.reason == "node_fail" || e.reason == "preempted" || e.reason == "vanished" ||
             e.reason == "cancelled") {
    lost = true;
    what = e.reason == "node_fail"   ? fmt::format("{} lost a node", engine_job)
           : e.reason == "preempted" ? fmt::format("{} was preempted by its engine", engine_job)
           : e.reason == "cancelled" ? fmt::format("{} was cancelled outside suanpan", engine_job)
                                     : fmt::format("{} is gone from its engine", engine_job);
  } else if (e.signal) {
    what = fmt::format("{} was killed by signal {}", engine_job, *e.signal);
  } else {
    what = fmt::format("{} exited with code {}", engine_job, e.exit_code.value_or(-1));
  }
  if (!e.message.empty() && e.reason != "rejected") what += ": " + e.message;
  j.exit_code = e.exit_code;
  jobs_.AddEvent(j, "engine", fmt::format("attempt {}: ended: {}", e.attempt, what));
  EndAttempt(j, retry, lost, what, end);
  return OkStatus();
}

void ControlPlane::SetEngineHold(core::NodeId node, int held) {
  const int before = host_->ExternallyHeld(node);
  if (before == held) return;
  if (host_->HoldExternal(node, held, Now()) != before) dirty_ = true;
}

}  // namespace suanpan::control
