#pragma once
// The live control plane: the one owner and writer of state (ARCHITECTURE.md).
//
// Requests reach it as operations (Op) posted to one thread. The thread takes every operation
// that has arrived, runs them one after the other against the in-memory state, commits what they
// wrote to the store in one transaction (group commit: one fsync for the whole batch), and only
// then replies to each of them. So a reply always describes durable state, and the store never
// lags what a client was told. With 64 clients submitting at once, a batch holds ~64 submits.
//
// The scheduling loop runs on the same thread, on events: a submit, cancel or finish marks the
// state dirty, and a round runs at most every `schedule_interval_ms` (and every 5 s anyway, so
// that time-based changes such as fair-share decay are seen). A round's decisions are committed
// before they are acted on (before an agent can see an assignment), and the next round only
// starts after that commit.
//
// Restart: Open() loads the store, rebuilds the jobs, re-takes the devices of jobs that hold
// them (admitted, running) and requeues the rest; a job whose devices are gone or taken (the
// pool file changed) is requeued with an event saying why. Nothing runs twice.
//
// If the store refuses a commit, the in-memory state is ahead of the durable one: the plane
// replies 503 to the waiting requests and the process exits (status 75); a restart recovers
// from the store. Continuing would acknowledge state that a crash could lose.

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "control/job_codec.h"
#include "control/metrics.h"
#include "core/job.h"
#include "core/pool.h"
#include "sched/host/host.h"
#include "sched/scheduler.h"
#include "store/store.h"

namespace suanpan::control {

enum class Role { kAdmin, kTenant, kAgent };
std::string_view RoleName(Role role);

// Who is calling, from the bearer token.
struct Caller {
  Role role = Role::kAdmin;
  std::string scope;  // tenant name (kTenant), node name (kAgent)
  std::string token_name;
};

struct ControlOptions {
  sched::PolicyConfig policy;
  int schedule_interval_ms = 20;
  // Waiting jobs that get a fresh reason in each round (the rest keep their last one; `job ID`
  // computes a fresh explanation on request).
  int64_t wait_details = 1000;
  // An agent's heartbeat renews its node's lease for this long; when it lapses the node is lost:
  // it takes no new work until its agent heartbeats again, and the jobs that had workers there
  // are requeued (or failed, with requeue_lost = false).
  int lease_seconds = 10;
  bool requeue_lost = true;
  // Where the worker logs agents ship are kept (<log_dir>/<job>/<attempt>/<rank>.log).
  std::string log_dir;
};

struct JobFilter {
  std::optional<std::string> tenant;
  std::set<core::JobState> states;  // empty: all
  std::optional<std::string> name;
  uint64_t after = 0;  // keyset pagination: ids greater than this
  size_t limit = 100;
};

struct UsageQuery {
  std::optional<std::string> tenant;
  std::optional<int64_t> from_ms;  // default: the start of the current month (UTC)
  std::optional<int64_t> to_ms;    // default: now
};

class ControlPlane {
 public:
  using Json = nlohmann::json;
  using Op = std::function<StatusOr<Json>(ControlPlane&)>;
  using Done = std::function<void(StatusOr<Json>)>;

  // Loads the store and rebuilds the state. The pool is the one of the pool file.
  static StatusOr<std::unique_ptr<ControlPlane>> Open(core::Pool pool,
                                                      std::unique_ptr<store::Store> store,
                                                      ControlOptions options, const Clock& clock,
                                                      Metrics* metrics);
  ~ControlPlane();

  // Starts and stops the control thread. Stop() finishes the operations already posted.
  void Start();
  void Stop();

  // Runs `op` on the control thread; `done` is called (on the control thread) once what `op`
  // wrote is durable. Thread-safe.
  void Post(Op op, Done done);
  // Post and wait; for the CLI, tests and start-up.
  StatusOr<Json> Call(Op op);

  // ---- Everything below runs on the control thread only (inside an Op). ----

  // Unauthenticated for an unknown or revoked token.
  StatusOr<Caller> Authenticate(std::string_view token) const;
  // Creates a token; returns the secret once ({"name", "role", "scope", "token"}).
  StatusOr<Json> CreateToken(const Json& body);
  StatusOr<Json> ListTokens() const;
  StatusOr<Json> RevokeToken(const std::string& name);
  // Makes sure an admin token exists; returns its secret if one was created now.
  StatusOr<std::optional<std::string>> EnsureAdminToken(bool replace);

  // {"job": view, "created": bool}. With an idempotency key that was seen before for the same
  // tenant, returns that job and created=false.
  StatusOr<Json> SubmitJob(const Caller& caller, Json body,
                           const std::optional<std::string>& idempotency_key);
  StatusOr<Json> GetJob(const Caller& caller, uint64_t id) const;
  StatusOr<Json> ListJobs(const Caller& caller, JobFilter filter) const;
  StatusOr<Json> CancelJob(const Caller& caller, uint64_t id);
  StatusOr<Json> JobEvents(const Caller& caller, uint64_t id) const;
  // Why a job waits and when it is expected to start: a what-if round on a scratch state.
  StatusOr<Json> ExplainJob(const Caller& caller, uint64_t id);
  // An agent (or admin) reports a job's progress: running, succeeded, failed.
  StatusOr<Json> ReportJobStatus(const Caller& caller, uint64_t id, const Json& body);
  // An agent reports one worker of the current attempt: {"attempt", "state": "running" |
  // "exited", "exit_code", "signal", "reason": "runtime_limit" | "start_failed" | "lost",
  // "message"}. All workers running: the job runs. All exited 0: it succeeded. One failed: the
  // attempt ends (the other workers are stopped: their assignments vanish) and the job is retried
  // while attempts <= max_retries, else failed. A report for an attempt that is over is
  // FailedPrecondition (the agent stops that worker).
  StatusOr<Json> ReportWorkerStatus(const Caller& caller, uint64_t id, int rank, const Json& body);
  // Agents ship worker output; appends at `offset` (bytes already there are skipped, a gap is
  // FailedPrecondition naming the size the server has). Returns {"size"}.
  StatusOr<Json> AppendWorkerLog(const Caller& caller, uint64_t id, int rank, int attempt,
                                 int64_t offset, std::string_view data);
  // Reads a worker's output from `offset` (at most 1 MiB): {"attempt", "rank", "offset",
  // "next_offset", "data", "done"}; done: the attempt is over and everything shipped was read.
  StatusOr<Json> ReadWorkerLog(const Caller& caller, uint64_t id, int rank,
                               std::optional<int> attempt, int64_t offset) const;
  // An agent's heartbeat: {"devices": [{"type", "memory_mib"}...], "address", "cpu_cores",
  // "memory_mib"}. The devices must match the node's declaration (FailedPrecondition names the
  // difference). Renews the lease; a lost node comes back into service.
  StatusOr<Json> Heartbeat(const Caller& caller, const std::string& node, const Json& body);
  // Long-poll for a node's assignments: replies at once when they are newer than `since`, else
  // when they change or `wait_ms` has passed. Takes the current operation's reply (TakeDone).
  void WaitAssignments(const Caller& caller, const std::string& node, uint64_t since,
                       int64_t wait_ms);
  StatusOr<Json> Queue(const Caller& caller, size_t limit);
  StatusOr<Json> Usage(const Caller& caller, UsageQuery query) const;

  StatusOr<Json> Providers() const;
  StatusOr<Json> Clusters() const;
  StatusOr<Json> Nodes(const Caller& caller, const std::map<std::string, std::string>& filter,
                       size_t offset, size_t limit) const;
  StatusOr<Json> Node(const Caller& caller, const std::string& name) const;
  StatusOr<Json> NodeAssignments(const Caller& caller, const std::string& name) const;
  StatusOr<Json> Tenants(const Caller& caller) const;
  StatusOr<Json> Tenant(const Caller& caller, const std::string& name) const;
  Json Whoami(const Caller& caller) const;
  // Runs a scheduling round now (tests, and the first round after start-up).
  void ScheduleNow() { RunRound(); }
  // Takes the reply of the operation being run: the operation answers later through it.
  Done TakeDone() { return std::exchange(current_done_, nullptr); }
  // Sets the state gauges (jobs by state, queue per tenant, devices per type and provider).
  void RefreshGauges();

  const core::Pool& pool() const { return *pool_; }
  size_t job_count() const { return jobs_.size(); }
  const ControlOptions& options() const { return options_; }

 private:
  Status WithinQuotaMax(const core::JobSpec& spec) const;
  struct Job {
    DecodedJob decoded;  // decoded.spec.id is the job id
    Json spec_json;
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
    std::optional<int> exit_code;
    std::vector<store::EventRow> events;
    std::vector<store::RunRow> runs;
    std::optional<int64_t> earliest_start_ms;
    bool holds_devices = false;    // admitted or running: in cluster_
    bool parked = false;           // queued, but blocked by its tenant's quota (see RunRound)
    int64_t attained_service = 0;  // device-seconds of finished runs (2D-LAS)
    Seconds executed = Seconds(0);
  };

  ControlPlane(std::unique_ptr<core::Pool> pool, std::unique_ptr<store::Store> store,
               ControlOptions options, sched::Scheduler scheduler, const Clock& clock,
               Metrics* metrics);
  Status Recover(store::Snapshot snapshot);
  void Loop();
  void ServeWaiters(int64_t now_ms);
  void CheckLeases(int64_t now_ms);
  void NodeLost(size_t node, int64_t now_ms);
  Json AssignmentsView(size_t node) const;
  // Ends the current attempt after a worker failed or its node was lost: retry or fail.
  // `lost`: the node went away (not the job's fault): requeued regardless of max_retries.
  void EndAttempt(Job& job, bool retry, bool lost, const std::string& why);
  std::optional<size_t> WorkerNode(const Job& job, int attempt, int rank) const;
  void CommitOrDie(std::vector<std::pair<Done, StatusOr<Json>>>* replies);
  void RunRound();

  // Mutations (each appends to batch_).
  void AddEvent(Job& job, std::string kind, std::string message);
  void SaveJob(const Job& job);
  void SetState(Job& job, core::JobState to, std::string reason);
  void Release(Job& job, int64_t now_ms);  // gives the devices back, closes the run
  void Bind(Job& job, const sched::Allocation& allocation, int64_t now_ms);

  const Job* Visible(const Caller& caller, uint64_t id) const;
  Json View(const Job& job) const;
  Json PlacementView(const sched::Allocation& allocation) const;
  std::string PlacementJson(const sched::Allocation& allocation) const;
  std::optional<sched::Allocation> ParsePlacement(const store::RunRow& run) const;
  // The jobs a round considers: all queued ones, or only those not parked.
  std::vector<sched::QueuedJob> QueueSnapshot(bool include_parked) const;
  void Enqueue(Job& job);
  void Dequeue(Job& job);

  std::unique_ptr<core::Pool> pool_;
  std::unique_ptr<store::Store> store_;
  ControlOptions options_;
  sched::Scheduler scheduler_;
  const Clock& clock_;
  Metrics* metrics_;
  sched::ClusterState cluster_;
  sched::UsageHistory history_;
  int64_t history_ms_ = 0;

  std::map<uint64_t, std::unique_ptr<Job>> jobs_;
  // Pending and preempted jobs, by id. `active_` is the part handed to rounds: a job whose
  // tenant is at its quota max for every type it accepts is parked (sched::BlockedByQuota) until
  // that tenant releases devices, so that a backlog of over-quota work costs the rounds nothing.
  std::map<uint64_t, Job*> queued_;
  std::map<uint64_t, Job*> active_;
  std::vector<std::set<uint64_t>> parked_by_tenant_;
  std::map<std::pair<std::string, std::string>, uint64_t> by_request_;
  std::map<std::string, uint64_t, std::less<>> node_index_;  // node name -> node id
  struct NodeLive {
    uint64_t version = 1;        // bumped whenever the node's assignments change
    int64_t lease_until_ms = 0;  // 0: no agent has registered since start-up
    bool lost = false;           // its lease lapsed: held whole by the system tenant
    std::string address;         // reported by its agent (MASTER_ADDR of gangs ranked 0 here)
  };
  std::vector<NodeLive> nodes_live_;
  std::vector<std::set<uint64_t>> node_jobs_;                 // jobs holding devices on each node
  std::map<size_t, std::unique_ptr<core::JobSpec>> cordons_;  // lost node -> its holder
  struct Waiter {
    size_t node;
    uint64_t since;
    int64_t deadline_ms;
    Done done;
  };
  std::vector<Waiter> waiters_;
  Done current_done_;  // the reply of the operation being run (TakeDone)
  std::map<std::string, store::TokenRow, std::less<>> tokens_by_hash_;
  std::map<std::string, std::string, std::less<>> token_hash_by_name_;
  uint64_t next_id_ = 1;
  std::vector<std::pair<uint64_t, int64_t>> undecided_;  // (job, queued at) since the last round

  store::WriteBatch batch_;
  bool dirty_ = true;
  int64_t last_round_ms_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<Op, Done>> inbox_;
  bool stop_ = false;
  std::thread thread_;
};

// RFC 3339 UTC with milliseconds: 2026-11-26T06:30:00.123Z.
std::string FormatTimeMs(int64_t ms);
// Accepts unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.fff]Z; InvalidArgument otherwise.
StatusOr<int64_t> ParseTimeMs(std::string_view text);

}  // namespace suanpan::control
