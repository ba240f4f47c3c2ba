#pragma once
// backends/slurm: a delegated provider whose partner runs Slurm. suanpan picks the provider (and,
// through the CLI, the nodes: --nodelist); Slurm queues, places, starts and ends the job, and
// what it says is what suanpan records (start and end from Slurm, exit codes decoded). REST API
// v0.0.38 has no node list (and ignores #SBATCH lines), so over slurmrestd Slurm places inside
// the provider; what the partner's own work holds is counted from the nodes Slurm says each of
// suanpan's jobs runs on, so the provider's free capacity per device type stays exact.
//
// One thread per provider talks to the engine, so a slow or dead slurmctld never holds up the
// control thread: Launch and Stop only queue work for it; each poll (every poll_seconds, sooner
// after a Launch or Stop) lists the engine's jobs and nodes, submits what is due, cancels what
// ended for suanpan, and posts one operation to the control plane with what it learned (engine
// reports, capacity held by the partner's own work or by nodes that are down, new output).
//
// Never twice: every job carries "suanpan job=ID attempt=A bound=MS" in its comment. An attempt is
// submitted only when a listing taken after the last submit shows no job with its comment, so a
// submit whose answer was lost (timeout, slurmctld restart) or a server killed -9 between submit
// and commit is found again, not repeated. After a restart every open attempt is launched again
// and matched the same way.
//
// Faults: when a listing fails the engine is "degraded": nothing is submitted, nothing is
// concluded about jobs (a job missing from a failed listing is not gone), and polls back off up
// to a minute. A job that disappears from two good listings in a row without having ended is
// reported vanished (suanpan requeues it).

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backends/slurm/slurm_client.h"
#include "control/backend.h"
#include "control/control_plane.h"

namespace suanpan::backends::slurm {

class SlurmBackend final : public control::Backend {
 public:
  SlurmBackend(control::ControlPlane& plane, core::ProviderId provider,
               std::unique_ptr<Client> client);
  ~SlurmBackend() override;

  std::string_view name() const override { return "slurm"; }
  bool NeedsAgents() const override { return false; }
  void Start() override;
  void Launch(const control::JobRecord& job) override;
  void Stop(const control::JobRecord& job, int attempt) override;
  void Poll(int64_t now_ms) override { (void)now_ms; }
  void Shutdown() override;
  std::string WhyNotStarted(const control::JobRecord& job) const override;
  std::optional<control::EngineView> Engine() const override;

  // The comment that names an attempt in the engine. The bind time (stored with the run) tells
  // apart two installations' job 7, or one whose store was started over.
  static std::string Comment(uint64_t job, int attempt, int64_t bound_ms);

 private:
  struct Attempt {
    uint64_t job = 0;
    int attempt = 0;
    std::string tenant;
    int ranks = 1;
    SubmitRequest request;
    std::string refusal;     // why it cannot be submitted at all (set at Launch)
    uint64_t slurm_id = 0;   // once known
    bool submitted = false;  // a submit was sent (answer or not)
    bool started_reported = false;
    bool ended = false;                // reported ended, or stopped by suanpan
    bool cancel = false;               // suanpan ended it: cancel in the engine
    int missing = 0;                   // good listings in a row without it
    std::string state, reason;         // as the engine last said
    std::vector<int64_t> log_offsets;  // per rank: bytes of output shipped
  };
  using Key = std::pair<uint64_t, int>;

  void Run();
  void PollOnce();
  SubmitRequest Request(const control::JobRecord& job, std::string* refusal) const;

  control::ControlPlane& plane_;
  core::ProviderId provider_;
  core::EngineConfig config_;
  std::string provider_name_;
  std::unique_ptr<Client> client_;
  std::vector<uint32_t> pool_nodes_;       // the provider's pool nodes, in pool order
  std::vector<std::string> engine_names_;  // their engine names ("" until mapped)

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool wake_ = false;
  std::map<Key, Attempt> attempts_;
  control::EngineView view_;
  std::thread thread_;
};

// Creates a backend for every delegated provider with an engine in the pool file.
std::vector<std::pair<std::unique_ptr<control::Backend>, core::ProviderId>> MakeSlurmBackends(
    control::ControlPlane& plane);

}  // namespace suanpan::backends::slurm
