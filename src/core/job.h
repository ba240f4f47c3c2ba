#pragma once
// Jobs: what a tenant asks for, and the state machine a job walks through.
//
// A job is `workers` identical workers. With workers > 1 it is a gang: all workers start
// together or none does. Each worker runs on one node and needs either `devices` whole devices,
// or (single-worker jobs only) a fraction of one device in milli-devices (250 = a quarter).
//   64-GPU training gang: workers = 8, devices = 8 -> 64,000 milli-devices in all.
//
// States and legal transitions (everything else is rejected by Transition()):
//   pending   -> admitted | cancelled | failed
//   admitted  -> running | pending (quota taken back before it ran) | cancelled | failed
//   running   -> succeeded | failed | cancelled | preempted | lost
//   preempted -> pending (requeued) | cancelled | failed
//   lost      -> pending (retried) | failed (out of retries) | cancelled
//   succeeded, failed, cancelled: terminal.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/id.h"
#include "base/quantity.h"
#include "base/status.h"
#include "core/device_type.h"
#include "core/pool.h"

namespace suanpan::core {

using JobId = Id<struct JobTag, uint64_t>;

enum class JobKind { kTraining, kBatch, kInference, kInteractive };
std::string_view JobKindName(JobKind kind);
std::optional<JobKind> ParseJobKind(std::string_view name);

struct WorkerShape {
  std::vector<DeviceTypeId> types;          // acceptable types, in the tenant's order of preference
  int devices = 0;                          // whole devices per worker; 0 when fractional
  MilliDevices fraction = MilliDevices(0);  // 1..999 for a fractional single-device worker
  MilliCpu cpu = MilliCpu(0);
  MiB memory = MiB(0);

  bool fractional() const { return devices == 0; }
  // Devices one worker takes, in milli-devices: 8 devices -> 8000; a quarter -> 250.
  MilliDevices share() const { return devices > 0 ? WholeDevices(devices) : fraction; }
};

struct JobSpec {
  JobId id;
  std::string name;
  TenantId tenant;
  std::optional<ProjectId> project = std::nullopt;  // none: the tenant's own queue
  JobKind kind = JobKind::kBatch;
  int workers = 1;
  WorkerShape worker;
  int priority = 0;
  bool preemptible = true;
  Time submit_time = Time(0);
  Seconds checkpoint_interval = Seconds(0);  // 0: never checkpoints; preemption loses all work
  Seconds restore_cost = Seconds(0);         // time to reload a checkpoint after a restart
  std::optional<Seconds> runtime_limit;
  std::optional<Seconds> runtime_estimate;
  std::vector<std::string> datasets;

  bool gang() const { return workers > 1; }
  MilliDevices TotalShare() const { return worker.share() * workers; }
  // The scheduler's best guess of the run time: the estimate, else the limit, else unknown.
  std::optional<Seconds> ExpectedRuntime() const {
    return runtime_estimate ? runtime_estimate : runtime_limit;
  }
};

// The queue the job waits in and its devices count on (its project's, else its tenant's).
inline QueueId QueueOfJob(const Pool& pool, const JobSpec& job) {
  return pool.QueueOf(job.tenant, job.project);
}

// Checks a spec against the pool: known tenant, known and acceptable types, positive and bounded
// sizes, a fraction only for one single-device worker, a gang that fits the largest cluster of
// at least one acceptable type. Messages name the field and the value.
Status ValidateJob(const JobSpec& job, const Pool& pool);

enum class JobState {
  kPending,
  kAdmitted,
  kRunning,
  kPreempted,
  kSucceeded,
  kFailed,
  kCancelled,
  kLost,
};
inline constexpr int kJobStateCount = 8;
std::string_view JobStateName(JobState state);
std::optional<JobState> ParseJobState(std::string_view name);
bool IsTerminal(JobState state);
bool IsLegalTransition(JobState from, JobState to);
// Returns `to` if the move is legal, else FailedPrecondition "job state: running -> admitted
// is not a legal transition".
StatusOr<JobState> Transition(JobState from, JobState to);

}  // namespace suanpan::core
