#include "config/job_fields.h"

#include <fmt/format.h>

#include <algorithm>

#include "config/pool_file.h"

namespace suanpan::config {

Status SetDevicesPerWorker(std::string_view text, core::WorkerShape& worker) {
  auto share = ParseFixed(text, kMilliPerDevice);
  if (!share.ok()) {
    return FieldError("devices_per_worker", fmt::format("{}", share.status().message()));
  }
  if (*share <= 0) {
    return FieldError("devices_per_worker", fmt::format("must be > 0, got '{}'", text));
  }
  if (*share % kMilliPerDevice == 0) {
    if (*share / kMilliPerDevice > 64) {
      return FieldError("devices_per_worker",
                        fmt::format("must be at most 64, got {}", *share / kMilliPerDevice));
    }
    worker.devices = static_cast<int>(*share / kMilliPerDevice);
    worker.fraction = MilliDevices(0);
  } else if (*share < kMilliPerDevice) {
    worker.devices = 0;
    worker.fraction = MilliDevices(*share);
  } else {
    return FieldError("devices_per_worker",
                      fmt::format("must be a whole number or a fraction below 1, got '{}'", text));
  }
  return OkStatus();
}

Status SetPriority(const core::Pool& pool, std::string_view priority_class,
                   std::optional<bool> preemptible, core::JobSpec& job) {
  const core::Tenant& tenant = pool.tenant(job.tenant);
  if (!priority_class.empty()) {
    const core::PriorityClass* pc = pool.FindPriorityClass(priority_class);
    if (pc == nullptr) {
      std::string known;
      for (const core::PriorityClass& c : pool.priority_classes()) {
        known += (known.empty() ? "" : ", ") + c.name;
      }
      return FieldError("priority_class",
                        fmt::format("unknown priority class '{}' (known: {})", priority_class,
                                    known.empty() ? "none" : known));
    }
    if (!tenant.priority_classes.empty() &&
        std::find(tenant.priority_classes.begin(), tenant.priority_classes.end(), priority_class) ==
            tenant.priority_classes.end()) {
      return FieldError("priority_class", fmt::format("tenant '{}' may not use class '{}'",
                                                      tenant.name, priority_class));
    }
    job.priority = pc->value;
    job.preemptible = pc->preemptible;
  }
  if (preemptible.has_value()) {
    if (!*preemptible && job.preemptible && !priority_class.empty()) {
      return FieldError(
          "preemptible",
          fmt::format("false is not allowed: class '{}' is preemptible", priority_class));
    }
    job.preemptible = *preemptible;
  }
  return OkStatus();
}

}  // namespace suanpan::config
