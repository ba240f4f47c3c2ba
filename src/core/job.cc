#include "core/job.h"

#include <fmt/format.h>

#include <algorithm>

namespace suanpan::core {

namespace {
constexpr std::string_view kKindNames[] = {"training", "batch", "inference", "interactive"};
constexpr std::string_view kStateNames[] = {"pending",   "admitted", "running",   "preempted",
                                            "succeeded", "failed",   "cancelled", "lost"};
constexpr int64_t kMaxWorkers = 100'000;
constexpr int64_t kMaxSeconds = int64_t{10} * 365 * 24 * 3600;  // ten years
}  // namespace

std::string_view JobKindName(JobKind kind) { return kKindNames[static_cast<int>(kind)]; }

std::optional<JobKind> ParseJobKind(std::string_view name) {
  for (int i = 0; i < 4; ++i) {
    if (kKindNames[i] == name) return static_cast<JobKind>(i);
  }
  return std::nullopt;
}

std::string_view JobStateName(JobState state) { return kStateNames[static_cast<int>(state)]; }

std::optional<JobState> ParseJobState(std::string_view name) {
  for (int i = 0; i < kJobStateCount; ++i) {
    if (kStateNames[i] == name) return static_cast<JobState>(i);
  }
  return std::nullopt;
}

bool IsTerminal(JobState s) {
  return s == JobState::kSucceeded || s == JobState::kFailed || s == JobState::kCancelled;
}

bool IsLegalTransition(JobState from, JobState to) {
  using S = JobState;
  switch (from) {
    case S::kPending:
      return to == S::kAdmitted || to == S::kCancelled || to == S::kFailed;
    case S::kAdmitted:
      return to == S::kRunning || to == S::kPending || to == S::kCancelled || to == S::kFailed;
    case S::kRunning:
      return to == S::kSucceeded || to == S::kFailed || to == S::kCancelled ||
             to == S::kPreempted || to == S::kLost;
    case S::kPreempted:
      return to == S::kPending || to == S::kCancelled || to == S::kFailed;
    case S::kLost:
      return to == S::kPending || to == S::kFailed || to == S::kCancelled;
    case S::kSucceeded:
    case S::kFailed:
    case S::kCancelled:
      return false;
  }
  return false;
}

StatusOr<JobState> Transition(JobState from, JobState to) {
  if (!IsLegalTransition(from, to)) {
    return FailedPreconditionError(fmt::format("job state: {} -> {} is not a legal transition",
                                               JobStateName(from), JobStateName(to)));
  }
  return to;
}

Status ValidateJob(const JobSpec& job, const Pool& pool) {
  if (!job.tenant.valid() || job.tenant.value() >= pool.tenants().size()) {
    return InvalidArgumentError("tenant: unknown tenant");
  }
  if (job.workers < 1 || job.workers > kMaxWorkers) {
    return InvalidArgumentError(
        fmt::format("workers: must be in 1..{}, got {}", kMaxWorkers, job.workers));
  }
  const WorkerShape& w = job.worker;
  if (w.types.empty()) return InvalidArgumentError("device_types: must name at least one type");
  for (DeviceTypeId t : w.types) {
    if (!t.valid() || t.value() >= pool.catalog().size()) {
      return InvalidArgumentError("device_types: unknown device type");
    }
  }
  if (w.devices < 0 || w.devices > 64) {
    return InvalidArgumentError(
        fmt::format("devices_per_worker: must be in 1..64, got {}", w.devices));
  }
  if (w.devices == 0) {
    if (w.fraction.value() <= 0 || w.fraction.value() >= kMilliPerDevice) {
      return InvalidArgumentError(fmt::format(
          "devices_per_worker: zero devices (a fraction must be in 0.001..0.999, got {} milli)",
          w.fraction.value()));
    }
    if (job.workers != 1) {
      return InvalidArgumentError(fmt::format(
          "devices_per_worker: a fraction of a device is only for a single worker, got {} workers",
          job.workers));
    }
  } else if (w.fraction.value() != 0) {
    return InvalidArgumentError("devices_per_worker: whole devices and a fraction at once");
  }
  if (w.cpu.value() < 0) {
    return InvalidArgumentError(fmt::format("cpu_per_worker: must be >= 0, got {}", w.cpu.value()));
  }
  if (w.memory.value() < 0) {
    return InvalidArgumentError(
        fmt::format("memory_gib_per_worker: must be >= 0, got {} MiB", w.memory.value()));
  }
  auto check_seconds = [](std::string_view field, int64_t v, bool positive) -> Status {
    if (v < (positive ? 1 : 0) || v > kMaxSeconds) {
      return InvalidArgumentError(fmt::format("{}: must be in {}..{} seconds, got {}", field,
                                              positive ? 1 : 0, kMaxSeconds, v));
    }
    return OkStatus();
  };
  SP_RETURN_IF_ERROR(check_seconds("checkpoint_interval", job.checkpoint_interval.value(), false));
  SP_RETURN_IF_ERROR(check_seconds("restore_cost", job.restore_cost.value(), false));
  if (job.runtime_limit) {
    SP_RETURN_IF_ERROR(check_seconds("runtime_limit", job.runtime_limit->value(), true));
  }
  if (job.runtime_estimate) {
    SP_RETURN_IF_ERROR(check_seconds("runtime_estimate", job.runtime_estimate->value(), true));
  }
  if (job.submit_time.value() < 0) {
    return InvalidArgumentError(
        fmt::format("submit_time: must be >= 0, got {}", job.submit_time.value()));
  }
  // Feasible somewhere: some acceptable type has a node big enough for one worker and a cluster
  // with enough devices for the whole gang.
  std::string sizes;
  for (DeviceTypeId t : w.types) {
    int per_node = 0;
    for (const NodeShape& s : pool.ShapesOf(t)) {
      if (s.cpu >= w.cpu && s.memory >= w.memory) per_node = std::max(per_node, s.devices);
    }
    const int64_t need = w.devices > 0 ? int64_t{w.devices} * job.workers : 1;
    const int64_t cluster_max = pool.MaxClusterDevices(t);
    if (per_node >= std::max(w.devices, 1) && cluster_max >= need) return OkStatus();
    if (!sizes.empty()) sizes += ", ";
    sizes += fmt::format("{}: {} per node (cpu/memory fitting), {} per cluster",
                         pool.catalog().Get(t).name, per_node, cluster_max);
  }
  return InvalidArgumentError(fmt::format(
      "workers: {} x {} devices is larger than any cluster of an acceptable type can hold ({})",
      job.workers, w.devices > 0 ? w.devices : 1, sizes));
}

}  // namespace suanpan::core
