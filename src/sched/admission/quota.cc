#include <fmt/format.h>

#include "sched/admission/admission.h"

namespace suanpan::sched {
namespace {

std::string Devices(MilliDevices m) {
  if (m.value() % kMilliPerDevice == 0) return fmt::format("{}", m.value() / kMilliPerDevice);
  return fmt::format("{:.3f}", static_cast<double>(m.value()) / kMilliPerDevice);
}

class Quota final : public AdmissionPolicy {
 public:
  std::string_view name() const override { return "quota"; }

  Admission Admit(const ClusterState& state, const core::JobSpec& job,
                  const std::vector<Candidate>& candidates) const override {
    const core::Pool& pool = state.pool();
    const core::Tenant& tenant = pool.tenant(job.tenant);
    Admission out;
    bool any_type_possible = false;
    for (const Candidate& c : candidates) {
      const DeviceTypeId type = state.segment(c.segment).type;
      const core::Quota& q = tenant.quota[type.value()];
      if (q.max < job.TotalShare()) {
        if (out.reason.empty()) {
          out.reason =
              fmt::format("tenant '{}' may hold at most {} {} and the job needs {}", tenant.name,
                          Devices(q.max), pool.catalog().Get(type).name, Devices(job.TotalShare()));
        }
        continue;
      }
      const core::Project* project = job.project ? &tenant.projects[job.project->value()] : nullptr;
      if (project != nullptr && project->quota[type.value()].max < job.TotalShare()) {
        if (out.reason.empty()) {
          out.reason =
              fmt::format("project '{}/{}' may hold at most {} {} and the job needs {}",
                          tenant.name, project->name, Devices(project->quota[type.value()].max),
                          pool.catalog().Get(type).name, Devices(job.TotalShare()));
        }
        continue;
      }
      any_type_possible = true;
      if (project != nullptr) {
        const core::Quota& pq = project->quota[type.value()];
        const MilliDevices in_project = state.QueueUsage(core::QueueOfJob(pool, job), type);
        if (in_project + job.TotalShare() > pq.max) {
          out.reason = fmt::format("project '{}/{}' holds {} of its max {} {} and the job needs {}",
                                   tenant.name, project->name, Devices(in_project), Devices(pq.max),
                                   pool.catalog().Get(type).name, Devices(job.TotalShare()));
          continue;
        }
      }
      const MilliDevices used = state.TenantUsage(job.tenant, type);
      if (used + job.TotalShare() > q.max) {
        out.reason = fmt::format("tenant '{}' holds {} of its max {} {} and the job needs {}",
                                 tenant.name, Devices(used), Devices(q.max),
                                 pool.catalog().Get(type).name, Devices(job.TotalShare()));
        continue;
      }
      out.admitted.push_back(c);
    }
    if (!any_type_possible) {
      out.verdict = Admission::Verdict::kNever;
      out.reason = "infeasible under quota: " + out.reason;
    } else if (out.admitted.empty()) {
      out.verdict = Admission::Verdict::kWait;
      out.reason = "waiting for quota: " + out.reason;
    }
    return out;
  }

  bool BlockedUntilRelease(const ClusterState& state, const core::JobSpec& job) const override {
    const core::Tenant& tenant = state.pool().tenant(job.tenant);
    const core::Project* project = job.project ? &tenant.projects[job.project->value()] : nullptr;
    bool possible = false;
    for (DeviceTypeId type : job.worker.types) {
      const core::Quota& q = tenant.quota[type.value()];
      if (q.max < job.TotalShare()) continue;
      if (project != nullptr && project->quota[type.value()].max < job.TotalShare()) continue;
      possible = true;
      if (project != nullptr &&
          state.QueueUsage(core::QueueOfJob(state.pool(), job), type) + job.TotalShare() >
              project->quota[type.value()].max) {
        continue;
      }
      if (state.TenantUsage(job.tenant, type) + job.TotalShare() <= q.max) return false;
    }
    return possible;
  }
};

}  // namespace

const AdmissionPolicy& QuotaAdmission() {
  static const Quota policy;
  return policy;
}

}  // namespace suanpan::sched
