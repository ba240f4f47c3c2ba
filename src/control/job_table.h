#pragma once
// The job table: every job the control plane knows, as records, and their writes to the store.
// A record holds what the API shows and the store keeps (state, reason, events, runs); what the
// scheduler knows of a queued or running job lives in the scheduling host (sched::Host), which
// the control plane keeps in step with the table.
//
// Every mutation appends its rows to the batch the control thread commits before it replies
// (control_plane.h), so a reply never describes a state a crash could lose.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "control/job_codec.h"
#include "control/views.h"
#include "core/job.h"
#include "core/pool.h"
#include "sched/host/host.h"
#include "sched/index/cluster_state.h"
#include "store/store.h"

namespace suanpan::control {

struct JobRecord {
  DecodedJob decoded;  // decoded.spec.id is the job id
  nlohmann::json spec_json;
  core::JobState state = core::JobState::kPending;
  int64_t submit_ms = 0;
  int64_t updated_ms = 0;
  int64_t queued_ms = 0;  // when it last entered the queue
  int attempts = 0;
  struct Worker {
    bool running = false;
    bool exited = false;
    std::optional<int> exit_code;
    std::optional<int> signal;
  };
  std::vector<Worker> workers;  // of the current attempt
  std::string reason;
  std::optional<std::string> request_id;
  std::string submitted_by;  // the submitting token's name: the user
  std::optional<int> exit_code;
  std::vector<store::EventRow> events;
  std::vector<store::RunRow> runs;
  std::optional<int64_t> earliest_start_ms;
  bool holds_devices = false;  // admitted or running: its run is open

  uint64_t id() const { return decoded.spec.id.value(); }
  const core::JobSpec& spec() const { return decoded.spec; }
  bool queued() const {
    return state == core::JobState::kPending || state == core::JobState::kPreempted;
  }
};

class JobTable {
 public:
  JobTable(const core::Pool& pool, const Clock& clock, store::WriteBatch& batch)
      : pool_(pool), clock_(clock), batch_(batch) {}

  JobRecord& Add(std::unique_ptr<JobRecord> record);
  JobRecord* Find(uint64_t id);
  const JobRecord* Find(uint64_t id) const;
  const std::map<uint64_t, std::unique_ptr<JobRecord>>& all() const { return jobs_; }
  size_t size() const { return jobs_.size(); }

  uint64_t TakeId() { return next_id_++; }
  void SeeId(uint64_t id) { next_id_ = std::max(next_id_, id + 1); }
  std::optional<uint64_t> ByRequest(const std::string& tenant, const std::string& key) const;
  void RememberRequest(const std::string& tenant, const std::string& key, uint64_t id);

  // Mutations, each written to the batch.
  void AddEvent(JobRecord& job, std::string kind, std::string message);
  void Save(const JobRecord& job);
  void SaveRun(const store::RunRow& run) { batch_.runs.push_back(run); }
  // A legal state transition (SP_CHECK: the callers check legality), with its reason.
  void SetState(JobRecord& job, core::JobState to, std::string reason);

  JobView View(const JobRecord& job) const;

 private:
  const core::Pool& pool_;
  const Clock& clock_;
  store::WriteBatch& batch_;
  std::map<uint64_t, std::unique_ptr<JobRecord>> jobs_;
  std::map<std::pair<std::string, std::string>, uint64_t> by_request_;
  uint64_t next_id_ = 1;
};

// The placement of a run as the store keeps it: [{"node", "devices", "share", "cpu", "memory"}].
std::string PlacementJson(const core::Pool& pool, const sched::Allocation& allocation);
// The allocation a stored run describes, if it still exists in this pool (same cluster, type and
// nodes). O(workers).
std::optional<sched::Allocation> ParsePlacement(const core::Pool& pool,
                                                const sched::ClusterState& state,
                                                const store::RunRow& run);
RunView RunOf(const store::RunRow& run);
// The service a job attained in its finished runs, as the host metered it (whole seconds of its
// clock), so that a restart gives the host back what it had.
sched::JobHistory AttainedService(const JobRecord& job);

}  // namespace suanpan::control
