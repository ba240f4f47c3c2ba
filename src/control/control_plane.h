#pragma once
// The live control plane: the one owner and writer of state (ARCHITECTURE.md): store + clock +
// auth + backends around a scheduling host (sched::Host), the same host the simulator runs.
//
// Requests reach it as operations (Op) posted to one thread. The thread takes every operation
// that has arrived, runs them one after the other against the in-memory state, commits what they
// wrote to the store in one transaction (group commit: one fsync for the whole batch), and only
// then completes each of them. So a reply always describes durable state, and the store never
// lags what a client was told. With 64 clients submitting at once, a batch holds ~64 submits.
//
// The scheduling loop runs on the same thread, on events: a submit, cancel or finish marks the
// state dirty, and a round runs at most every `schedule_interval_ms` (and every 5 s anyway, and
// when the host says one is due: a running job's 2D-LAS rank changes). A round's decisions are
// committed before they are acted on (before a backend launches anything), and the next round
// only starts after that commit.
//
// Restart: Open() loads the store and rebuilds the job table and the host: jobs that held
// devices take them again at the same nodes and devices (with the service they attained),
// queued jobs queue again, and the fair-share memory is reloaded as stored, so the order after a
// restart is the order without one. A job whose devices are gone or taken (the pool file
// changed) is requeued with an event saying why. Nothing runs twice.
//
// If the store refuses a commit, the in-memory state is ahead of the durable one: the plane
// fails the waiting operations (503) and the process exits (status 75); a restart recovers from
// the store. Continuing would acknowledge state that a crash could lose.
//
// The code is split along its seams: job_table (records and their rows), tokens (auth), leases
// (node liveness), scheduling (rounds, what-ifs, the queue), recovery, worker_reports (gang and
// retry rules), worker_logs, metering (usage and cost), pool_views; backends/ carry decisions out.

#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "backends/agent/protocol.h"
#include "base/clock.h"
#include "base/status.h"
#include "control/backend.h"
#include "control/billing.h"
#include "control/disk_guard.h"
#include "control/job_table.h"
#include "control/leases.h"
#include "control/metrics.h"
#include "control/oidc.h"
#include "control/tokens.h"
#include "control/views.h"
#include "control/worker_logs.h"
#include "core/pool.h"
#include "sched/host/host.h"
#include "store/store.h"

namespace suanpan::control {

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
  // A node whose backend needs agents (Backend::NeedsAgents) takes work only once its agent has
  // heartbeated; a node of a provider no backend serves takes none. false: every declared node
  // is schedulable (a pool run by hand, jobs ended with ReportJobStatus).
  bool require_agents = true;
  // A bound attempt whose workers (or engine job) have not all started after this long is
  // unbound and requeued ("start timeout on NODE"), unbilled. 0: no timeout.
  int start_timeout_seconds = 900;
  // Where the worker logs agents ship are kept (<log_dir>/<job>/<attempt>/<rank>.log).
  std::string log_dir;
  // What all of one tenant's logs may take there (0: no cap); each attempt's output is also
  // capped by its agent (--log-cap-mib).
  int64_t tenant_log_cap_bytes = int64_t{20} << 30;
  // The store's and the logs' file systems keep this much free: below it submits and log
  // output are refused (503, nothing acknowledged), so that the server's own writes (binds,
  // exits, leases) still commit and a full disk cannot stop it. 0: no check.
  int64_t min_free_disk_bytes = int64_t{256} << 20;
  std::vector<std::string> disk_paths;  // directories on the file systems to watch
  // How long an explanation (a what-if round over the whole queue) is reused.
  int64_t explain_cache_ms = 1000;
  // Called after every round with its time and decisions (tests compare them with a simulation).
  std::function<void(Time, const sched::Decisions&)> on_round;
};

struct JobFilter {
  std::optional<std::string> tenant;
  std::set<core::JobState> states;  // empty: all
  std::optional<std::string> name;
  uint64_t after = 0;  // keyset pagination: ids greater than this
  size_t limit = 100;
  bool newest_first = false;       // then ids below `before`, highest first
  std::optional<uint64_t> before;  // newest_first's cursor (none: from the newest)
};

struct UsageQuery {
  std::optional<std::string> tenant;
  std::optional<int64_t> from_ms;  // default: the start of the current month (UTC)
  std::optional<int64_t> to_ms;    // default: now
};

class ControlPlane {
 public:
  // What an operation sends once its writes are durable: called with OK, or with the store's
  // failure (the operation's reply then is an error).
  using Done = std::function<void(const Status& commit)>;
  // An operation runs on the control thread and returns its completion (null: it completes
  // later by itself, a long-poll).
  using Op = std::function<Done(ControlPlane&)>;
  // Loads the store and rebuilds the state. The pool is the one of the pool file.
  static StatusOr<std::unique_ptr<ControlPlane>> Open(core::Pool pool,
                                                      std::unique_ptr<store::Store> store,
                                                      ControlOptions options, const Clock& clock,
                                                      Metrics* metrics);
  ~ControlPlane();

  // Gives the providers in `serves` to `backend` (before Start). The jobs that hold devices there
  // are launched on it again (Launch is idempotent), so it knows what runs after a restart.
  void AddBackend(std::unique_ptr<Backend> backend, const std::vector<core::ProviderId>& serves);

  // Starts and stops the control thread. Stop() finishes the operations already posted.
  void Start();
  void Stop();

  // Runs `op` on the control thread. Thread-safe. If the server stops first, `abort` is called
  // instead (with Unavailable).
  // `urgent` operations (heartbeats, health) run before the others waiting, so that a flood of
  // requests never delays a lease past its end.
  void Post(Op op, std::function<void(const Status&)> abort = nullptr, bool urgent = false);
  // Runs `f` on the control thread (inline before Start) and returns its result once what it
  // wrote is durable; for the CLI, tests and start-up. If the commit fails the process exits.
  template <typename F>
  auto Run(F f) -> std::invoke_result_t<F, ControlPlane&>;

  // ---- Everything below runs on the control thread only (inside an Op). ----

  // A suanpan token, or (with OIDC configured) a JWT from the identity provider (oidc.h).
  StatusOr<Caller> Authenticate(std::string_view token) const {
    if (oidc_ != nullptr && OidcVerifier::LooksLikeJwt(token)) return AuthenticateOidc(token);
    return tokens_.Authenticate(token, clock_.NowMs());
  }
  // The admin manages every token; a tenant admin its own tenant's (tokens.h).
  StatusOr<CreatedToken> CreateToken(const Caller& caller, const TokenRequest& request);
  StatusOr<std::vector<TokenView>> ListTokens(const Caller& caller) const {
    return tokens_.List(caller, clock_.NowMs());
  }
  Status RevokeToken(const Caller& caller, const std::string& name);
  // Makes sure an admin token exists; returns its secret if one was created now.
  StatusOr<std::optional<std::string>> EnsureAdminToken(bool replace);
  WhoamiView Whoami(const Caller& caller) const {
    return {caller.token_name, std::string(CallerRoleName(caller)), caller.scope};
  }

  // With an idempotency key seen before for the same tenant, returns that job (created=false).
  StatusOr<SubmitResult> SubmitJob(const Caller& caller, nlohmann::json body,
                                   const std::optional<std::string>& idempotency_key);
  StatusOr<JobView> GetJob(const Caller& caller, uint64_t id) const;
  StatusOr<JobPage> ListJobs(const Caller& caller, JobFilter filter) const;
  StatusOr<JobView> CancelJob(const Caller& caller, uint64_t id);
  StatusOr<std::vector<EventView>> JobEvents(const Caller& caller, uint64_t id) const;
  // Why a job waits and when it is expected to start: a what-if round on the live state.
  StatusOr<ExplainView> ExplainJob(const Caller& caller, uint64_t id);
  // An admin sets a job's end by hand (running, succeeded, failed), e.g. for a job run outside.
  StatusOr<JobView> ReportJobStatus(const Caller& caller, uint64_t id, const std::string& state,
                                    std::optional<int> exit_code, const std::string& message);
  // A worker of the current attempt reports (worker_reports.cc): all workers running: the job
  // runs; all exited 0: it succeeded; one failed: the attempt ends (the others are stopped) and
  // the job is retried while attempts <= max_retries, else failed. A report for an attempt that is
  // over is FailedPrecondition (the agent stops that worker).
  StatusOr<JobView> ReportWorker(const Caller& caller, uint64_t id, int rank,
                                 const protocol::WorkerReport& report);
  // Agents ship worker output; appends at `offset` (bytes already there are skipped, a gap is
  // FailedPrecondition naming the size the server has). Returns the size now kept.
  StatusOr<int64_t> AppendWorkerLog(const Caller& caller, uint64_t id, int rank, int attempt,
                                    int64_t offset, std::string_view data);
  StatusOr<LogChunk> ReadWorkerLog(const Caller& caller, uint64_t id, int rank,
                                   std::optional<int> attempt, int64_t offset) const;
  // An agent's heartbeat. The devices must match the node's declaration (FailedPrecondition names
  // the difference). Renews the lease; a lost node comes back into service.
  StatusOr<protocol::HeartbeatReply> Heartbeat(const Caller& caller, const std::string& node,
                                               const protocol::Heartbeat& heartbeat);
  StatusOr<QueueView> Queue(const Caller& caller, size_t limit);
  StatusOr<UsageView> Usage(const Caller& caller, UsageQuery query) const;

  // ---- Money (money.cc, billing.h) ----
  StatusOr<nlohmann::json> Prices(const Caller& caller) const;
  // effective_ms: now when unset; never in the past (a price applies to runs started after it).
  Status SetPrice(const Caller& caller, const std::string& provider, const std::string& type,
                  MicroYuan price, std::optional<int64_t> effective_ms);
  StatusOr<nlohmann::json> GrantVoucher(const Caller& caller, const VoucherRequest& request);
  Status RevokeVoucher(const Caller& caller, const std::string& id);
  StatusOr<nlohmann::json> Vouchers(const Caller& caller, const std::string& tenant) const;
  StatusOr<nlohmann::json> TopUp(const Caller& caller, const std::string& tenant, MicroYuan amount,
                                 const std::string& memo);
  StatusOr<nlohmann::json> Adjust(const Caller& caller, const std::string& tenant, MicroYuan amount,
                                  const std::string& memo);
  // A tenant sets its monthly budget; the admin everything (AccountTerms).
  StatusOr<nlohmann::json> SetAccount(const Caller& caller, const std::string& tenant,
                                      const AccountTerms& terms);
  StatusOr<nlohmann::json> Balance(const Caller& caller, const std::string& tenant) const;
  StatusOr<nlohmann::json> Ledger(const Caller& caller, const std::string& tenant,
                                  const std::string& month) const;
  StatusOr<nlohmann::json> DraftInvoice(const Caller& caller, const std::string& tenant,
                                        const std::string& month);
  // One tenant's, or (tenant empty) every tenant's not issued yet.
  StatusOr<nlohmann::json> IssueInvoices(const Caller& caller, const std::string& tenant,
                                         const std::string& month);
  StatusOr<nlohmann::json> CreditNote(const Caller& caller, const std::string& number,
                                      MicroYuan amount, const std::string& reason);
  StatusOr<nlohmann::json> Invoices(const Caller& caller, const std::string& tenant) const;
  StatusOr<nlohmann::json> InvoiceDocument(const Caller& caller, const std::string& number) const;
  StatusOr<nlohmann::json> Statements(const Caller& caller, const std::string& month,
                                      const std::string& provider);
  StatusOr<nlohmann::json> AuditLog(const Caller& caller, size_t limit) const;
  const Billing& billing() const { return billing_; }

  // ---- Live administration (tenants.cc) ----
  // The admin makes a tenant (create; body: weight, priority_classes, quota) or changes one (the
  // fields given; "retired": true retires it, false brings it back). Committed with its audit
  // record (before -> after) and applied to the scheduler at once. Returns {"tenant", "config":
  // the tenant as stored, "notes": what the change does to running and queued work}.
  StatusOr<nlohmann::json> PutTenant(const Caller& caller, const std::string& name,
                                     const nlohmann::json& body, bool create);
  // People sign in through this identity provider too (null: tokens only). Set before Start.
  void SetOidc(std::shared_ptr<OidcVerifier> oidc) { oidc_ = std::move(oidc); }
  const OidcVerifier* oidc() const { return oidc_.get(); }
  StatusOr<Caller> AuthenticateOidc(std::string_view token) const;

  // The scheduling policy in force (people read it) and the admin's live change of it (queue,
  // placement, preemption, backfill, blocking, fair-share half-life, 2D-LAS limits): checked,
  // committed with its audit record, applied by rebuilding the host (running jobs keep their
  // devices and attained service). Stored, it overrides the pool file and flags at start.
  StatusOr<nlohmann::json> Policy(const Caller& caller) const;
  StatusOr<nlohmann::json> PutPolicy(const Caller& caller, const nlohmann::json& body);

  // The live configuration as a pool file (config::WritePool), admin only.
  StatusOr<std::string> ExportPool(const Caller& caller) const;
  // A pool file against the live configuration: per tenant (and its projects) what would be made
  // or changed, field by field, with what it does to running and queued work; the differences
  // that take a restart (providers, clusters, node groups, classes, policy; nodes the file lacks
  // and the jobs on them). Without `dry_run` the tenant changes are then applied live, each as
  // PutTenant applies one. Returns {"dry_run", "tenants": [...], "restart": [...], "applied"}.
  StatusOr<nlohmann::json> ApplyPool(const Caller& caller, const std::string& text,
                                     const std::string& name, bool dry_run);
  // The admin, or the tenant's own tenant admin, makes a project of the tenant (create; body:
  // weight, quota) or changes one (weight, quota, "retired"). Checked against the tenant (the
  // projects' guarantees within the tenant's), committed and applied as PutTenant. Returns
  // {"tenant", "project", "config": the project as stored, "notes"}.
  StatusOr<nlohmann::json> PutProject(const Caller& caller, const std::string& tenant,
                                      const std::string& project, const nlohmann::json& body,
                                      bool create);

  std::vector<ProviderView> Providers() const;
  // The dashboard's (control/dashboard.cc): the hub at a glance; devices held and jobs waiting
  // over the last `hours` in `points` steps.
  StatusOr<OverviewView> Overview(const Caller& caller) const;
  // `tenant`: only its jobs (an admin's filter; a tenant's own are all it sees anyway).
  StatusOr<UtilizationView> Utilization(const Caller& caller, int64_t hours, size_t points,
                                        const std::string& tenant = "") const;
  std::vector<ClusterView> Clusters() const;
  StatusOr<NodePage> Nodes(const Caller& caller, const std::map<std::string, std::string>& filter,
                           size_t offset, size_t limit) const;
  StatusOr<NodeView> Node(const Caller& caller, const std::string& name) const;
  StatusOr<std::vector<TenantView>> Tenants(const Caller& caller) const;
  StatusOr<TenantView> Tenant(const Caller& caller, const std::string& name) const;

  // A node is out of service: its agent's lease lapsed, or its backend reports it down. The jobs
  // with workers there end their attempt (requeued keeping the service they attained, unless
  // requeue_lost is false) and the host holds the node whole until NodeBack. Idempotent.
  void NodeLost(core::NodeId node, const std::string& why);
  // The node is back in service (its agent heartbeats again, its backend reports it up).
  void NodeBack(core::NodeId node, const std::string& why);

  // ---- What an engine backend reports (on the control thread; backends/slurm). ----
  struct EngineEvent {
    enum class Kind { kSubmitted, kStarted, kEnded };
    Kind kind = Kind::kSubmitted;
    uint64_t job = 0;
    int attempt = 0;
    std::string ref;      // the engine's job id
    int64_t time_ms = 0;  // the engine's start or end time (0: now)
    std::optional<int> exit_code;
    std::optional<int> signal;
    // How it ended: "" (exit_code/signal say), "runtime_limit", "cancelled" (outside suanpan),
    // "node_fail", "preempted" (by the engine), "rejected" (refused at submit), "vanished"
    // (the engine has no record of it).
    std::string reason;
    std::string message;  // the engine's words
  };
  // Applies what the engine says of an attempt. FailedPrecondition when the attempt is over for
  // the control plane (the backend cancels the engine's job).
  Status EngineReport(const EngineEvent& event);
  // `held` of the node's devices are not suanpan's to give: the partner's own work holds them, or
  // the engine reports the node down. Held devices are taken from the node's free ones.
  void SetEngineHold(core::NodeId node, int held);

  // Runs a scheduling round now (tests, and the first round after start-up).
  void ScheduleNow() { RunRound(); }
  // One turn of the control loop without its thread, for a caller that owns the clock (tests
  // that compare the plane with a simulation): leases are checked, a round runs if one is due
  // (state changed since the last, the periodic round, or the host's NextDue), what was written
  // is committed, and the backends poll.
  void Turn();
  // When the next round is due for the policy (a rank change), if any.
  std::optional<int64_t> NextDueMs();
  // Sets the state gauges (jobs by state, queue per tenant, devices per type and provider).
  void RefreshGauges();

  const core::Pool& pool() const { return *pool_; }
  size_t job_count() const { return jobs_.size(); }
  const ControlOptions& options() const { return options_; }
  const JobTable& jobs() const { return jobs_; }
  const NodeLeases& leases() const { return leases_; }
  const sched::Host& host() const { return *host_; }
  int64_t NowMs() const { return clock_.NowMs(); }
  Time Now() const { return Time(clock_.NowMs() / 1000); }

 private:
  ControlPlane(std::unique_ptr<core::Pool> pool, std::unique_ptr<store::Store> store,
               ControlOptions options, sched::Scheduler scheduler, const Clock& clock,
               Metrics* metrics);
  Status Recover(store::Snapshot snapshot);
  void Loop();
  void RunOps(std::vector<std::pair<Op, std::function<void(const Status&)>>>& ops);
  void CommitOrDie(std::vector<Done>* dones);
  void CheckLeases(int64_t now_ms);
  // Queued and device-holding jobs per queue (QueueId), in one pass over the jobs.
  using QueueJobCounts = std::vector<std::pair<int64_t, int64_t>>;
  QueueJobCounts CountQueueJobs() const;
  // Each tenant's dominant share over its weight as fair_share orders tenants now (held devices
  // plus decayed past use), by tenant id.
  std::vector<double> FairShares() const;
  StatusOr<TenantView> TenantWith(const Caller& caller, const std::string& name,
                                  const QueueJobCounts& counts,
                                  const std::vector<double>& shares) const;
  // Nodes no agent or engine serves are held (require_agents); at Start.
  void HoldUnattended();
  // A capacity wait's reason, saying so when nodes wait for their agents.
  std::string WithUnattended(const std::string& reason) const;
  // Attempts bound longer than start_timeout_seconds without starting end and requeue.
  void CheckStarts(int64_t now_ms);
  void WatchStart(const JobRecord& job, int64_t not_before_ms = 0);
  // The attempt's workers (or engine job) started at `at_ms`: billing starts there.
  void MarkStarted(JobRecord& job, int64_t at_ms);
  void RunRound();
  void PersistUsageMemory();
  // Live administration (tenants.cc): the host again on the changed pool, from the live state.
  void RebuildHost();
  // Prices in force now, per provider and type (the price list over the pool file's).
  std::function<std::optional<MicroYuan>(core::ProviderId, core::DeviceTypeId,
                                         std::optional<MicroYuan>)>
  LivePrices() const;
  // Checks `after` against the pool, stores it with its audit record (`action`), rebuilds the
  // host; `notes` says what the change does. Nothing changes on an error.
  Status CommitTenant(const Caller& caller, const core::Tenant* before, const core::Tenant& after,
                      const std::string& action, const nlohmann::json& audit_extra);
  void QuotaCutNotes(const std::vector<core::Quota>& before, const std::vector<core::Quota>& after,
                     const std::function<MilliDevices(core::DeviceTypeId)>& used_of,
                     bool guarantees, std::vector<std::string>& notes) const;
  std::vector<std::string> ProjectChangeNotes(core::TenantId tenant,
                                              std::optional<core::ProjectId> id,
                                              const core::Project* before,
                                              const core::Project& after) const;
  std::vector<std::string> TenantChangeNotes(const core::Tenant* before,
                                             const core::Tenant& after) const;
  // Money (money.cc).
  StatusOr<std::string> MoneyScope(const Caller& caller, const std::string& tenant,
                                   bool all_allowed) const;
  MicroYuan AccruedOf(const std::string& tenant, int64_t now_ms) const;
  // Books the complete months of the runs that go on.
  void RateOpenRuns(int64_t now_ms);
  // Hands the host what tenants can pay, for the next rounds.
  void RefreshFunds(int64_t now_ms);
  // Once a second: voucher expiry, month rollover, the stop-at-limit policy.
  void BillingTick(int64_t now_ms);

  // State changes that keep the job table, the host and the backends in step.
  // The job enters the queue (pending/preempted): the host queues it with its attained service.
  void Enqueue(JobRecord& job);
  // The job holds devices from `allocation` (its run starts now).
  void Bind(JobRecord& job, const sched::Allocation& allocation, int64_t now_ms);
  // The job's run ends now: run row closed, backends told. Unless the host ended it already (a
  // round's victim), its devices go back to the host; `requeue`: it queues again there, keeping
  // the service it attained.
  // `run_end_ms`: when the run ended if not now (an engine's end time).
  void Release(JobRecord& job, int64_t now_ms, bool requeue, bool ended_by_host = false,
               std::optional<int64_t> run_end_ms = std::nullopt);
  void ChangeState(JobRecord& job, core::JobState to, std::string reason);
  // Ends the current attempt after a worker failed or its node was lost: retry or fail.
  // `lost`: the node went away (not the job's fault): requeued regardless of max_retries.
  void EndAttempt(JobRecord& job, bool retry, bool lost, const std::string& why,
                  std::optional<int64_t> run_end_ms = std::nullopt);
  Backend* BackendOfNode(size_t node) const;
  Status WithinQuotaMax(const core::JobSpec& spec) const;
  const JobRecord* Visible(const Caller& caller, uint64_t id) const;
  JobView ViewFor(const Caller& caller, const JobRecord& job) const;
  std::optional<int64_t> PriceOf(const store::RunRow& run) const;
  int64_t CostSoFar(const JobRecord& job, int64_t now_ms,
                    const std::string* provider = nullptr) const;
  // The node a rank of an attempt ran on, from the run's placement.
  std::optional<size_t> WorkerNode(const JobRecord& job, int attempt, int rank) const;
  Backend* BackendOf(const JobRecord& job);

  std::unique_ptr<core::Pool> pool_;
  std::unique_ptr<store::Store> store_;
  ControlOptions options_;
  const Clock& clock_;
  Metrics* metrics_;
  std::shared_ptr<OidcVerifier> oidc_;
  std::unique_ptr<sched::Host> host_;  // rebuilt when tenants change (RebuildHost)
  store::WriteBatch batch_;
  JobTable jobs_;
  Tokens tokens_;
  NodeLeases leases_;
  WorkerLogs logs_;
  DiskGuard disk_;
  Billing billing_;
  int64_t last_billing_tick_ms_ = 0;
  core::Month rated_month_;
  std::vector<std::unique_ptr<Backend>> backends_;
  std::vector<Backend*> backend_of_provider_;            // by provider id; null: none (yet)
  std::vector<std::pair<uint64_t, int64_t>> undecided_;  // (job, queued at) since the last round
  std::set<size_t> unattended_;  // nodes held because no agent has heartbeated yet
  // (deadline, job, attempt) of bound attempts not started yet; stale entries are skipped.
  std::set<std::tuple<int64_t, uint64_t, int>> start_deadlines_;

  bool dirty_ = true;
  int64_t last_round_ms_ = 0;
  // live_config: the seq of each object made or changed live (by name), the next one's.
  std::map<std::string, int64_t> config_seq_;
  int64_t next_config_seq_ = 1;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<Op, std::function<void(const Status&)>>> inbox_;
  std::vector<std::pair<Op, std::function<void(const Status&)>>> urgent_;
  bool stop_ = false;
  // The last what-if round (explain), reused for a second: one tenant asking in a loop costs
  // one what-if per second, not one per request.
  struct ExplainCache {
    int64_t computed_ms = -1;
    sched::Decisions decisions;
    std::unordered_map<uint64_t, std::pair<size_t, int>> index;  // job -> (decision, position)
  };
  ExplainCache explain_cache_;
  std::thread thread_;
};

// Live administration (tenants.cc). A tenant as live_config stores it and the audit shows it:
// {"name", "weight", "priority_classes", "quota": {TYPE: {"guaranteed": "8", "max": "16"|null}},
// "retired", "projects": [{"name", "weight", "quota", "retired"}] (only when it has any)}.
nlohmann::json TenantConfigJson(const core::Pool& pool, const core::Tenant& tenant);
nlohmann::json ProjectConfigJson(const core::Pool& pool, const core::Project& project);
// `tenant` with the fields of an API body applied (weight, priority_classes, quota by type
// (null: back to the default), retired, projects: the whole list, each project given keeping
// what it does not say); field errors name the field ("quota.A100.max",
// "projects.vision.weight").
StatusOr<core::Tenant> ApplyTenantBody(const core::Pool& pool, core::Tenant tenant,
                                       const nlohmann::json& body);
// `project` with an API body's weight, quota and retired applied; fields under `prefix`.
StatusOr<core::Project> ApplyProjectBody(const core::Pool& pool, core::Project project,
                                         const nlohmann::json& body, const std::string& prefix);
// The policy as the API shows it and live_config stores it; a body's fields applied to `policy`
// (errors name the field: "queue: unknown policy 'lottery' (known: ...)").
nlohmann::json PolicyJson(const sched::PolicyConfig& policy);
StatusOr<sched::PolicyConfig> ApplyPolicyBody(sched::PolicyConfig policy,
                                              const nlohmann::json& body);
Status ApplyLivePolicy(sched::PolicyConfig& policy, const std::vector<store::ConfigRow>& rows);
// Applies the stored live objects over the pool file's (at start-up, before the host is built).
Status ApplyLiveConfig(core::Pool& pool, const std::vector<store::ConfigRow>& rows);

// RFC 3339 UTC with milliseconds: 2026-11-26T06:30:00.123Z.
std::string FormatTimeMs(int64_t ms);
// Accepts unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.fff]Z; InvalidArgument otherwise.
StatusOr<int64_t> ParseTimeMs(std::string_view text);

// ---- implementation of Run ----
template <typename F>
auto ControlPlane::Run(F f) -> std::invoke_result_t<F, ControlPlane&> {
  using R = std::invoke_result_t<F, ControlPlane&>;
  std::optional<R> result;
  std::exception_ptr thrown;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  auto finish = [&](const Status&) {
    std::lock_guard lock(m);
    done = true;
    cv.notify_all();
  };
  Post(
      [&](ControlPlane& p) -> Done {
        try {
          result.emplace(f(p));
        } catch (...) {
          thrown = std::current_exception();
        }
        return finish;
      },
      finish);
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return done; });
  if (thrown) std::rethrow_exception(thrown);
  SP_CHECK(result.has_value()) << "ControlPlane::Run after Stop";
  return std::move(*result);
}

}  // namespace suanpan::control
