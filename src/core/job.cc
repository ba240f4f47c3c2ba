#include "core/job.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

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
    return FieldError("tenant", fmt::format("unknown tenant id {}", job.tenant.value()));
  }
  if (job.project && job.project->value() >= pool.tenant(job.tenant).projects.size()) {
    return FieldError("project", fmt::format("unknown project id {} of tenant '{}'",
                                             job.project->value(), pool.tenant(job.tenant).name));
  }
  if (job.workers < 1 || job.workers > kMaxWorkers) {
    return FieldError("workers", fmt::format("must be in 1..{}, got {}", kMaxWorkers, job.workers));
  }
  const WorkerShape& w = job.worker;
  if (w.types.empty()) return FieldError("device_types", "must name at least one type");
  for (DeviceTypeId t : w.types) {
    if (!t.valid() || t.value() >= pool.catalog().size()) {
      return FieldError("device_types", fmt::format("unknown device type id {}", t.value()));
    }
  }
  if (w.devices < 0 || w.devices > 64) {
    return FieldError("devices_per_worker", fmt::format("must be in 1..64, got {}", w.devices));
  }
  if (w.devices == 0) {
    if (w.fraction.value() <= 0 || w.fraction.value() >= kMilliPerDevice) {
      return FieldError(
          "devices_per_worker",
          fmt::format("zero devices (a fraction must be in 0.001..0.999, got {} milli)",
                      w.fraction.value()));
    }
    if (job.workers != 1) {
      return FieldError(
          "devices_per_worker",
          fmt::format("a fraction of a device is only for a single worker, got {} workers",
                      job.workers));
    }
  } else if (w.fraction.value() != 0) {
    return FieldError("devices_per_worker", "whole devices and a fraction at once");
  }
  if (w.cpu.value() < 0) {
    return FieldError("cpu_per_worker", fmt::format("must be >= 0, got {}", w.cpu.value()));
  }
  if (w.memory.value() < 0) {
    return FieldError("memory_gib_per_worker",
                      fmt::format("must be >= 0, got {} MiB", w.memory.value()));
  }
  auto check_seconds = [](std::string_view field, int64_t v, bool positive) -> Status {
    if (v < (positive ? 1 : 0) || v > kMaxSeconds) {
      return FieldError(field, fmt::format("must be in {}..{} seconds, got {}", positive ? 1 : 0,
                                           kMaxSeconds, v));
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
    return FieldError("submit_time", fmt::format("must be >= 0, got {}", job.submit_time.value()));
  }
  // Feasible somewhere: some cluster of an acceptable type has nodes that together hold every
  // worker (devices, CPU and memory of each node counted), on an empty pool.
  std::string sizes;
  const int per_worker = std::max(w.devices, 1);
  for (DeviceTypeId t : w.types) {
    std::map<uint32_t, int64_t> fit;  // cluster -> workers that fit
    for (const Pool::ShapeCount& s : pool.ShapesOf(t)) {
      int64_t on_node = s.shape.devices / per_worker;
      if (w.cpu.value() > 0) on_node = std::min(on_node, s.shape.cpu.value() / w.cpu.value());
      if (w.memory.value() > 0) {
        on_node = std::min(on_node, s.shape.memory.value() / w.memory.value());
      }
      fit[s.cluster.value()] += on_node * s.count;
    }
    int64_t best = 0;
    for (const auto& [cluster, n] : fit) best = std::max(best, n);
    if (best >= job.workers) return OkStatus();
    if (!sizes.empty()) sizes += "; ";
    sizes += fmt::format("{}: at most {}", pool.catalog().Get(t).name, best);
  }
  return FieldError(
      "workers",
      fmt::format(
          "{} worker{} of {} device{}{}{} fit{} no cluster of an acceptable type, even empty "
          "({} such workers per cluster)",
          job.workers, job.workers == 1 ? "" : "s",
          w.devices > 0 ? std::to_string(w.devices) : "a fraction of a",
          w.devices == 1 || w.devices == 0 ? "" : "s",
          w.cpu.value() > 0 ? fmt::format(", {} CPU", static_cast<double>(w.cpu.value()) / 1000)
                            : "",
          w.memory.value() > 0 ? fmt::format(", {} GiB", w.memory.value() / 1024) : "",
          job.workers == 1 ? "s" : "", sizes));
}

}  // namespace suanpan::core
