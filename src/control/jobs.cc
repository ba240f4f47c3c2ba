// Jobs through the API: submit (with idempotency keys), read, list, cancel, events, and an
// admin's hand-set end.

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "control/control_plane.h"

namespace suanpan::control {

using core::JobState;
using Json = nlohmann::json;

// A job larger than its tenant's quota max of every acceptable type could never run: refused at
// submit, like a job no cluster can hold (the scheduler would reject it in its first round).
Status ControlPlane::WithinQuotaMax(const core::JobSpec& spec) const {
  const core::Tenant& tenant = pool_->tenant(spec.tenant);
  const core::Project* project = spec.project ? &tenant.projects[spec.project->value()] : nullptr;
  std::string limits;
  for (core::DeviceTypeId type : spec.worker.types) {
    // The tighter of the tenant's and the project's max binds.
    MilliDevices max = tenant.quota[type.value()].max;
    if (project != nullptr) max = std::min(max, project->quota[type.value()].max);
    if (max >= spec.TotalShare()) return OkStatus();
    if (!limits.empty()) limits += ", ";
    limits += fmt::format("{} {}", core::FormatDevices(max), pool_->catalog().Get(type).name);
  }
  return FieldError(
      spec.workers > 1 ? "workers" : "devices_per_worker",
      fmt::format("the job needs {} devices in all and {} '{}' may hold at most {} (its quota "
                  "max)",
                  core::FormatDevices(spec.TotalShare()), project ? "project" : "tenant",
                  project ? tenant.name + "/" + project->name : tenant.name, limits));
}

StatusOr<SubmitResult> ControlPlane::SubmitJob(const Caller& caller, Json body,
                                               const std::optional<std::string>& key) {
  if (caller.role == Role::kAgent || caller.role == Role::kPartner) {
    return PermissionDeniedError(
        fmt::format("role {} may not submit jobs", CallerRoleName(caller)));
  }
  if (!body.is_object()) return FieldError("body", "must be a JSON object");
  SP_RETURN_IF_ERROR(disk_.Check());
  if (caller.role == Role::kTenant) {
    auto t = body.find("tenant");
    if (t == body.end() || t->is_null()) {
      body["tenant"] = caller.scope;
    } else if (!t->is_string() || t->get<std::string>() != caller.scope) {
      return PermissionDeniedError(
                 fmt::format("tenant: this token may only submit for tenant '{}'", caller.scope))
          .WithField("tenant");
    }
    // A member's token may be for some of its tenant's projects only (tokens.h).
    if (!caller.projects.empty() && !caller.tenant_admin()) {
      std::string list;
      for (const std::string& p : caller.projects) list += (list.empty() ? "" : ", ") + p;
      auto p = body.find("project");
      if (p == body.end() || p->is_null()) {
        if (caller.projects.size() > 1) {
          return FieldError("project",
                            fmt::format("is required: this token submits to projects {}", list));
        }
        body["project"] = caller.projects.front();
      } else if (!p->is_string() || std::find(caller.projects.begin(), caller.projects.end(),
                                              p->get<std::string>()) == caller.projects.end()) {
        return PermissionDeniedError(
                   fmt::format("project: this token may only submit to projects {}", list))
            .WithField("project");
      }
    }
  }
  if (key) {
    if (key->empty() || key->size() > 128) {
      return FieldError("Idempotency-Key", "must be 1-128 characters");
    }
    auto t = body.find("tenant");
    if (t != body.end() && t->is_string()) {
      if (auto seen = jobs_.ByRequest(t->get<std::string>(), *key)) {
        // A retry: the same key with the same job returns the job it created; the same key
        // with another job is a client bug, refused.
        SP_ASSIGN_OR_RETURN(DecodedJob again, DecodeJob(body, *pool_));
        const JobRecord& earlier = *jobs_.Find(*seen);
        if (EncodeJob(again, *pool_) != earlier.spec_json) {
          return AlreadyExistsError(
                     fmt::format("Idempotency-Key: already used for job {} with a different spec",
                                 *seen))
              .WithField("Idempotency-Key");
        }
        return SubmitResult{jobs_.View(earlier), false};
      }
    }
  }
  SP_ASSIGN_OR_RETURN(DecodedJob decoded, DecodeJob(body, *pool_));
  if (pool_->tenant(decoded.spec.tenant).retired) {
    return FailedPreconditionError(fmt::format("tenant: '{}' is retired and takes no new jobs",
                                               pool_->tenant(decoded.spec.tenant).name))
        .WithField("tenant");
  }
  if (decoded.spec.project) {
    const core::Tenant& t = pool_->tenant(decoded.spec.tenant);
    const core::Project& p = t.projects[decoded.spec.project->value()];
    if (p.retired) {
      return FailedPreconditionError(
                 fmt::format("project: '{}/{}' is retired and takes no new jobs", t.name, p.name))
          .WithField("project");
    }
  }
  SP_RETURN_IF_ERROR(WithinQuotaMax(decoded.spec));
  if (decoded.launch.command.empty() && decoded.launch.image.empty()) {
    return FieldError("command",
                      "a job needs the program each worker runs, e.g. [\"python\", \"train.py\"] "
                      "(suanpan submit ... -- python train.py), or an image whose own command "
                      "runs");
  }
  const int64_t now = clock_.NowMs();
  auto record = std::make_unique<JobRecord>();
  const uint64_t id = jobs_.TakeId();
  decoded.spec.id = core::JobId(id);
  decoded.spec.submit_time = Time(now / 1000);
  record->spec_json = EncodeJob(decoded, *pool_);
  record->decoded = std::move(decoded);
  record->state = JobState::kPending;
  record->submit_ms = now;
  record->updated_ms = now;
  record->queued_ms = now;
  record->reason = "queued: waiting for the next scheduling round";
  record->request_id = key;
  record->submitted_by = caller.token_name;
  const std::string tenant = pool_->tenant(record->spec().tenant).name;
  if (key) jobs_.RememberRequest(tenant, *key, id);
  JobRecord& j = jobs_.Add(std::move(record));
  Enqueue(j);
  jobs_.Save(j);
  jobs_.AddEvent(j, "submitted", fmt::format("by token '{}'", caller.token_name));
  return SubmitResult{jobs_.View(j), true};
}

StatusOr<JobView> ControlPlane::GetJob(const Caller& caller, uint64_t id) const {
  const JobRecord* j = Visible(caller, id);
  if (j == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  return ViewFor(caller, *j);
}

// A partner reads where and when a job ran on its hardware, not what it runs: its command,
// environment and image (a tenant's secrets), who submitted it, the scheduler's reason and a
// later run elsewhere stay out.
JobView ControlPlane::ViewFor(const Caller& caller, const JobRecord& j) const {
  JobView v = jobs_.View(j);
  v.cost_micro =
      CostSoFar(j, clock_.NowMs(), caller.role == Role::kPartner ? &caller.scope : nullptr);
  if (caller.role == Role::kPartner) {
    v.spec = nlohmann::json::object();
    v.user.clear();
    v.project.clear();
    v.reason.clear();
    if (v.placement && v.placement->provider != caller.scope) v.placement.reset();
  }
  return v;
}

StatusOr<JobPage> ControlPlane::ListJobs(const Caller& caller, JobFilter filter) const {
  if (caller.role == Role::kAgent) return PermissionDeniedError("agents may not list jobs");
  const bool partner = caller.role == Role::kPartner;
  if (caller.role == Role::kTenant) {
    if (filter.tenant && *filter.tenant != caller.scope) {
      return PermissionDeniedError(
                 fmt::format("tenant: this token may only list jobs of tenant '{}'", caller.scope))
          .WithField("tenant");
    }
    filter.tenant = caller.scope;
  }
  std::optional<core::TenantId> tenant;
  if (filter.tenant) {
    tenant = pool_->FindTenant(*filter.tenant);
    if (!tenant) return FieldError("tenant", fmt::format("unknown tenant '{}'", *filter.tenant));
  }
  JobPage page;
  uint64_t last = 0;
  const auto& all = jobs_.all();
  auto wanted = [&](const JobRecord& j) {
    if (tenant && j.spec().tenant != *tenant) return false;
    if (!filter.states.empty() && !filter.states.count(j.state)) return false;
    if (filter.name && j.spec().name != *filter.name) return false;
    return !partner || Visible(caller, j.id()) != nullptr;
  };
  // One walk over [it, end): oldest first from `after`, or newest first from `before`; true when
  // the page filled before the end (the last job given is the next page's cursor).
  auto walk = [&](auto it, auto end) {
    for (; it != end; ++it) {
      if (!wanted(*it->second)) continue;
      if (page.items.size() == filter.limit) return true;
      page.items.push_back(ViewFor(caller, *it->second));
      last = it->first;
    }
    return false;
  };
  if (filter.newest_first) {
    if (walk(
            std::make_reverse_iterator(filter.before ? all.lower_bound(*filter.before) : all.end()),
            all.rend())) {
      page.next_before = last;
    }
  } else if (walk(all.upper_bound(filter.after), all.end())) {
    page.next_after = last;
  }
  return page;
}

StatusOr<JobView> ControlPlane::CancelJob(const Caller& caller, uint64_t id) {
  if (caller.role == Role::kAgent || caller.role == Role::kPartner) {
    return PermissionDeniedError(
        fmt::format("role {} may not cancel jobs", CallerRoleName(caller)));
  }
  if (Visible(caller, id) == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  JobRecord& j = *jobs_.Find(id);
  if (core::IsTerminal(j.state)) {
    return FailedPreconditionError(
        fmt::format("job {} has already ended ({})", id, core::JobStateName(j.state)));
  }
  if (j.holds_devices) {
    Release(j, clock_.NowMs(), /*requeue=*/false);
  } else if (host_->Queued(j.decoded.spec.id)) {
    host_->Withdraw(j.decoded.spec.id);
  }
  ChangeState(j, JobState::kCancelled, fmt::format("cancelled by token '{}'", caller.token_name));
  jobs_.AddEvent(j, "cancelled", j.reason);
  return jobs_.View(j);
}

StatusOr<std::vector<EventView>> ControlPlane::JobEvents(const Caller& caller, uint64_t id) const {
  const JobRecord* j = Visible(caller, id);
  if (j == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  std::vector<EventView> out;
  out.reserve(j->events.size());
  for (const store::EventRow& e : j->events) out.push_back({e.seq, e.time_ms, e.kind, e.message});
  return out;
}

StatusOr<JobView> ControlPlane::ReportJobStatus(const Caller& caller, uint64_t id,
                                                const std::string& state, std::optional<int> code,
                                                const std::string& message) {
  if (caller.role != Role::kAdmin) {
    return PermissionDeniedError("only an admin sets a job's state (agents report their workers)");
  }
  if (Visible(caller, id) == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  JobRecord& j = *jobs_.Find(id);
  const int64_t now = clock_.NowMs();
  if (state == "running") {
    if (j.state == JobState::kRunning) return jobs_.View(j);  // idempotent
    if (j.state != JobState::kAdmitted) {
      return FailedPreconditionError(
                 fmt::format("state: job {} is {}, not admitted", id, core::JobStateName(j.state)))
          .WithField("state");
    }
    ChangeState(j, JobState::kRunning, "running");
    MarkStarted(j, now);
    jobs_.AddEvent(j, "running", message.empty() ? "started" : message);
  } else if (state == "succeeded" || state == "failed") {
    if (j.state != JobState::kRunning && j.state != JobState::kAdmitted) {
      if (core::IsTerminal(j.state)) return jobs_.View(j);  // a repeated report
      return FailedPreconditionError(
                 fmt::format("state: job {} is {}", id, core::JobStateName(j.state)))
          .WithField("state");
    }
    if (j.state == JobState::kAdmitted) ChangeState(j, JobState::kRunning, "running");
    // Ended by hand without a start: it ran from its bind, as far as anyone told us.
    if (!j.runs.empty()) MarkStarted(j, j.runs.back().start_ms);
    Release(j, now, /*requeue=*/false);
    j.exit_code = code;
    const std::string why = state == "succeeded"
                                ? "finished"
                                : fmt::format("failed with exit code {}{}", code.value_or(-1),
                                              message.empty() ? "" : ": " + message);
    ChangeState(j, state == "succeeded" ? JobState::kSucceeded : JobState::kFailed, why);
    jobs_.AddEvent(j, state == "succeeded" ? "succeeded" : "failed", why);
  } else {
    return FieldError("state",
                      fmt::format("must be running, succeeded or failed, got '{}'", state));
  }
  return jobs_.View(j);
}

}  // namespace suanpan::control
