// The control thread, the commit discipline, and the state changes that keep the job table, the
// scheduling host and the backends in step.

#include "control/control_plane.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>

namespace suanpan::control {
namespace {

using core::JobState;

constexpr int64_t kPeriodicRoundMs = 5000;

}  // namespace

std::string FormatTimeMs(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     static_cast<int>(ms % 1000));
}

StatusOr<int64_t> ParseTimeMs(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError(
        fmt::format("must be unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got '{}'", text));
  };
  if (text.empty()) return bad();
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (text.size() > 12) return bad();
    return std::stoll(std::string(text)) * 1000;
  }
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  const std::string t(text);
  int consumed = 0;
  if (t.size() == 10 && std::sscanf(t.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) == 3 &&
      consumed == 10) {
  } else if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
                         &consumed) == 6) {
    std::string_view rest = text.substr(consumed);
    if (!rest.empty() && rest[0] == '.') {
      size_t i = 1;
      int digits = 0;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
        if (digits < 3) ms = ms * 10 + (rest[i] - '0'), ++digits;
        ++i;
      }
      while (digits < 3) ms *= 10, ++digits;
      rest = rest.substr(i);
    }
    if (rest != "Z") return bad();
  } else {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1970) {
    return bad();
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

ControlPlane::ControlPlane(std::unique_ptr<core::Pool> pool, std::unique_ptr<store::Store> store,
                           ControlOptions options, sched::Scheduler scheduler, const Clock& clock,
                           Metrics* metrics)
    : pool_(std::move(pool)),
      store_(std::move(store)),
      options_(std::move(options)),
      clock_(clock),
      metrics_(metrics),
      host_(std::make_unique<sched::Host>(*pool_, std::move(scheduler))),
      jobs_(*pool_, clock_, batch_),
      leases_(pool_->nodes().size()),
      logs_(options_.log_dir, options_.tenant_log_cap_bytes),
      disk_(options_.disk_paths, options_.min_free_disk_bytes),
      billing_(*pool_) {
  backend_of_provider_.assign(pool_->providers().size(), nullptr);
}

ControlPlane::~ControlPlane() { Stop(); }

StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::Open(core::Pool pool,
                                                           std::unique_ptr<store::Store> store,
                                                           ControlOptions options,
                                                           const Clock& clock, Metrics* metrics) {
  SP_ASSIGN_OR_RETURN(store::Snapshot snapshot, store->Load());
  SP_RETURN_IF_ERROR(ApplyLiveConfig(pool, snapshot.config));
  SP_RETURN_IF_ERROR(ApplyLivePolicy(options.policy, snapshot.config));  // a live change wins
  options.policy.wait_details = options.wait_details;
  options.policy.estimate_depth = 0;
  SP_ASSIGN_OR_RETURN(sched::Scheduler scheduler, sched::Scheduler::Create(options.policy));
  auto plane = std::unique_ptr<ControlPlane>(
      new ControlPlane(std::make_unique<core::Pool>(std::move(pool)), std::move(store),
                       std::move(options), std::move(scheduler), clock, metrics));
  SP_RETURN_IF_ERROR(plane->Recover(std::move(snapshot)));
  return plane;
}

void ControlPlane::AddBackend(std::unique_ptr<Backend> backend,
                              const std::vector<core::ProviderId>& serves) {
  Backend* b = backend.get();
  backends_.push_back(std::move(backend));
  for (core::ProviderId p : serves) backend_of_provider_[p.value()] = b;
  for (const auto& [id, job] : jobs_.all()) {
    if (job->holds_devices && BackendOf(*job) == b) b->Launch(*job);
  }
}

Backend* ControlPlane::BackendOf(const JobRecord& job) {
  if (job.runs.empty()) return nullptr;
  auto provider = pool_->FindProvider(job.runs.back().provider);
  return provider ? backend_of_provider_[provider->value()] : nullptr;
}

// ---------------------------------------------------------------------------------------------
// The control thread.

void ControlPlane::Start() {
  {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return;
    HoldUnattended();  // before the thread: nothing else runs yet
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
  }
  for (auto& b : backends_) b->Start();
}

Backend* ControlPlane::BackendOfNode(size_t node) const {
  const core::ProviderId p =
      pool_->cluster(pool_->node(core::NodeId(static_cast<uint32_t>(node))).cluster).provider;
  return backend_of_provider_[p.value()];
}

void ControlPlane::HoldUnattended() {
  // Nodes an engine serves have no lease (recovery granted one to every node with a job).
  for (size_t n = 0; n < pool_->nodes().size(); ++n) {
    Backend* b = BackendOfNode(n);
    if (b != nullptr && !b->NeedsAgents()) leases_.Clear(n);
  }
  if (!options_.require_agents) return;
  int held = 0;
  for (size_t n = 0; n < pool_->nodes().size(); ++n) {
    const core::NodeId id(static_cast<uint32_t>(n));
    Backend* b = BackendOfNode(n);
    if (b != nullptr && !b->NeedsAgents()) continue;  // its engine keeps its capacity
    if (leases_.at(n).lease_until_ms != 0 || leases_.at(n).lost || host_->Cordoned(id)) continue;
    if (!host_->JobsOn(id).empty()) continue;  // its jobs' lease decides (recovery granted one)
    host_->Cordon(id, Now());
    unattended_.insert(n);
    ++held;
  }
  if (held > 0) {
    spdlog::info("{} node(s) take no work until their agent heartbeats (require_agents)", held);
  }
}

void ControlPlane::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Answer what is still waiting (long-polls, operations posted after the loop ended) while the
  // HTTP side that owns their completions is still alive: a reply never outlives its server.
  for (auto& b : backends_) b->Shutdown();
  std::vector<std::pair<Op, std::function<void(const Status&)>>> left;
  {
    std::lock_guard lock(mu_);
    left.swap(inbox_);
    for (auto& u : urgent_) left.push_back(std::move(u));
    urgent_.clear();
  }
  for (auto& [op, abort] : left) {
    if (abort) abort(UnavailableError("the server is shutting down"));
  }
}

void ControlPlane::Post(Op op, std::function<void(const Status&)> abort, bool urgent) {
  bool inline_run = false;
  {
    std::lock_guard lock(mu_);
    if (thread_.joinable() && !stop_) {
      (urgent ? urgent_ : inbox_).emplace_back(std::move(op), std::move(abort));
    } else {
      inline_run = !thread_.joinable();
    }
  }
  if (!inline_run) {
    if (!thread_.joinable() || stop_) {
      if (abort) abort(UnavailableError("the server is shutting down"));
      return;
    }
    cv_.notify_one();
    return;
  }
  // Not started (start-up, tests): run inline with the same commit discipline.
  std::vector<std::pair<Op, std::function<void(const Status&)>>> ops;
  ops.emplace_back(std::move(op), std::move(abort));
  RunOps(ops);
  for (auto& b : backends_) b->Poll(clock_.NowMs());
}

void ControlPlane::RunOps(std::vector<std::pair<Op, std::function<void(const Status&)>>>& ops) {
  std::vector<Done> dones;
  dones.reserve(ops.size());
  for (auto& [op, abort] : ops) {
    Done done;
    try {
      done = op(*this);
    } catch (const std::exception& e) {
      // A bug, but no caller waits forever for it.
      spdlog::error("operation failed with an exception: {}", e.what());
      if (abort) abort(InternalError(fmt::format("internal error: {}", e.what())));
      done = nullptr;
    }
    if (done) dones.push_back(std::move(done));
  }
  CommitOrDie(&dones);
  for (Done& d : dones) d(OkStatus());
}

void ControlPlane::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    const int64_t now = clock_.NowMs();
    int64_t next =
        dirty_ ? last_round_ms_ + options_.schedule_interval_ms : last_round_ms_ + kPeriodicRoundMs;
    next = std::min(next, now + 1000);  // leases are checked every second
    lock.unlock();
    if (auto due = NextDueMs()) next = std::min(next, *due);
    lock.lock();
    if (inbox_.empty() && urgent_.empty() && !stop_ && now < next) {
      cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, next - now)),
                   [&] { return stop_ || !inbox_.empty() || !urgent_.empty(); });
    }
    if (stop_ && inbox_.empty() && urgent_.empty()) break;
    std::vector<std::pair<Op, std::function<void(const Status&)>>> urgent, ops;
    urgent.swap(urgent_);
    // At most a bounded batch of ordinary operations per turn, and the urgent ones first: a
    // flood of requests waits its turn behind leases and health, not the other way round.
    constexpr size_t kBatch = 256;
    if (inbox_.size() <= kBatch) {
      ops.swap(inbox_);
    } else {
      ops.assign(std::make_move_iterator(inbox_.begin()),
                 std::make_move_iterator(inbox_.begin() + kBatch));
      inbox_.erase(inbox_.begin(), inbox_.begin() + kBatch);
    }
    lock.unlock();

    if (!urgent.empty()) RunOps(urgent);
    if (!ops.empty()) RunOps(ops);  // one commit for the batch (group commit)
    Turn();
    lock.lock();
  }
}

void ControlPlane::Turn() {
  const int64_t t = clock_.NowMs();
  CheckLeases(t);
  BillingTick(t);
  const std::optional<int64_t> due = NextDueMs();
  if (t >= (dirty_ ? last_round_ms_ + options_.schedule_interval_ms
                   : last_round_ms_ + kPeriodicRoundMs) ||
      (due && t >= *due)) {
    RunRound();
  }
  CommitOrDie(nullptr);
  for (auto& b : backends_) b->Poll(clock_.NowMs());
}

std::optional<int64_t> ControlPlane::NextDueMs() {
  auto due = host_->NextDue();
  if (!due) return std::nullopt;
  return due->value() * 1000;
}

void ControlPlane::CommitOrDie(std::vector<Done>* dones) {
  PersistUsageMemory();
  if (batch_.empty()) return;
  const auto t0 = std::chrono::steady_clock::now();
  Status s = store_->Commit(batch_);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (metrics_) {
    metrics_->commit_seconds.Observe(secs);
    metrics_->commit_batch.Observe(static_cast<double>(batch_.size()));
  }
  batch_ = {};
  if (s.ok()) return;
  spdlog::critical("store commit failed, stopping so that a restart recovers from the store: {}",
                   s.ToString());
  if (dones) {
    for (Done& d : *dones)
      d(UnavailableError("the store refused the write; the server is restarting"));
  }
  std::fflush(nullptr);
  std::_Exit(75);
}

void ControlPlane::PersistUsageMemory() {
  for (const sched::UsageMemory::Row& r : host_->usage_memory().TakeChanged()) {
    if (r.tenant >= pool_->tenants().size() || r.type >= pool_->catalog().size()) continue;
    batch_.usage.push_back({pool_->tenants()[r.tenant].name,
                            pool_->catalog().Get(core::DeviceTypeId(r.type)).name, r.period,
                            r.value});
  }
}

// ---------------------------------------------------------------------------------------------
// State changes.

void ControlPlane::Enqueue(JobRecord& job) {
  const sched::JobHistory history = AttainedService(job);
  job.decoded.spec.submit_time = Time(job.submit_ms / 1000);
  host_->Submit(job.decoded.spec, Now(), history);
  undecided_.emplace_back(job.id(), clock_.NowMs());
  dirty_ = true;
}

void ControlPlane::ChangeState(JobRecord& job, JobState to, std::string reason) {
  jobs_.SetState(job, to, std::move(reason));
  dirty_ = true;
}

void ControlPlane::Bind(JobRecord& job, const sched::Allocation& allocation, int64_t now_ms) {
  const sched::Segment& seg = host_->state().segment(allocation.segment);
  store::RunRow run;
  run.job_id = job.id();
  run.attempt = ++job.attempts;
  run.provider = pool_->provider(seg.provider).name;
  run.cluster = pool_->cluster(seg.cluster).name;
  run.device_type = pool_->catalog().Get(seg.type).name;
  run.devices_milli = job.spec().TotalShare().value();
  run.placement = PlacementJson(*pool_, allocation);
  run.start_ms = now_ms;
  // The price is frozen for the run: a price change applies to runs that start after it.
  if (const auto price = billing_.PriceAt(seg.provider, seg.type, now_ms)) {
    run.price_micro = price->value();
  }
  jobs_.SaveRun(run);
  job.runs.push_back(std::move(run));
  job.holds_devices = true;
  job.earliest_start_ms.reset();
  job.workers.assign(allocation.workers.size(), JobRecord::Worker{});
  WatchStart(job);
}

void ControlPlane::WatchStart(const JobRecord& job, int64_t not_before_ms) {
  if (options_.start_timeout_seconds <= 0 || job.runs.empty() || job.runs.back().started_ms) return;
  const int64_t deadline =
      job.runs.back().start_ms + int64_t{options_.start_timeout_seconds} * 1000;
  start_deadlines_.emplace(std::max(deadline, not_before_ms), job.id(), job.runs.back().attempt);
}

void ControlPlane::MarkStarted(JobRecord& job, int64_t at_ms) {
  if (job.runs.empty() || job.runs.back().started_ms || job.runs.back().end_ms) return;
  store::RunRow& run = job.runs.back();
  run.started_ms = std::clamp(at_ms, run.start_ms, std::max(run.start_ms, clock_.NowMs()));
  jobs_.SaveRun(run);
}

void ControlPlane::CheckStarts(int64_t now_ms) {
  while (!start_deadlines_.empty() && std::get<0>(*start_deadlines_.begin()) <= now_ms) {
    const auto [deadline, id, attempt] = *start_deadlines_.begin();
    start_deadlines_.erase(start_deadlines_.begin());
    JobRecord* j = jobs_.Find(id);
    if (j == nullptr || !j->holds_devices || j->attempts != attempt || j->runs.empty() ||
        j->runs.back().started_ms) {
      continue;
    }
    // Where it waits: the first rank that has not started, or what the engine says.
    std::string where;
    for (size_t r = 0; r < j->workers.size(); ++r) {
      if (j->workers[r].running) continue;
      if (auto node = WorkerNode(*j, attempt, static_cast<int>(r))) {
        where = pool_->node(core::NodeId(static_cast<uint32_t>(*node))).name;
      }
      break;
    }
    if (where.empty()) where = j->runs.back().provider + "/" + j->runs.back().cluster;
    std::string why = fmt::format("start timeout on {}: not started {} s after it was placed",
                                  where, options_.start_timeout_seconds);
    if (Backend* b = BackendOf(*j)) {
      const std::string engine = b->WhyNotStarted(*j);
      if (!engine.empty()) why += " (" + engine + ")";
    }
    spdlog::warn("job={} attempt={} {}", id, attempt, why);
    EndAttempt(*j, /*retry=*/true, /*lost=*/true, why);
  }
}

void ControlPlane::Release(JobRecord& job, int64_t now_ms, bool requeue, bool ended_by_host,
                           std::optional<int64_t> run_end_ms) {
  if (!job.holds_devices) return;
  job.holds_devices = false;
  if (ended_by_host) {
    if (requeue) undecided_.emplace_back(job.id(), now_ms);
  } else if (host_->Running(job.decoded.spec.id)) {
    host_->EndRun(job.decoded.spec.id, Time(now_ms / 1000), requeue);
    if (requeue) undecided_.emplace_back(job.id(), now_ms);
  } else if (requeue) {
    Enqueue(job);
  }
  if (!job.runs.empty() && !job.runs.back().end_ms) {
    store::RunRow& run = job.runs.back();
    run.end_ms = std::max(run_end_ms ? std::min(*run_end_ms, now_ms) : now_ms,
                          run.started_ms.value_or(run.start_ms));
    jobs_.SaveRun(run);
    // Rated in the same batch as the run's end: a kill -9 loses both or neither.
    billing_.RateRun(pool_->tenant(job.spec().tenant).name, run, now_ms, batch_);
    if (Backend* b = BackendOf(job)) b->Stop(job, run.attempt);
  }
  dirty_ = true;
}

const JobRecord* ControlPlane::Visible(const Caller& caller, uint64_t id) const {
  const JobRecord* j = jobs_.Find(id);
  if (j == nullptr) return nullptr;
  switch (caller.role) {
    case Role::kAdmin:
      return j;
    case Role::kTenant:
      return pool_->tenant(j->spec().tenant).name == caller.scope ? j : nullptr;
    case Role::kAgent: {
      // An agent sees the jobs of its node's latest runs (also once finished: a repeated
      // report must find the job).
      if (j->runs.empty()) return nullptr;
      for (const WorkerPlacementView& w : RunOf(j->runs.back()).workers) {
        if (w.node == caller.scope) return j;
      }
      return nullptr;
    }
    case Role::kPartner:
      // A partner sees the jobs that ran (or run) on its hardware.
      for (const store::RunRow& r : j->runs) {
        if (r.provider == caller.scope) return j;
      }
      return nullptr;
  }
  return nullptr;
}

std::optional<size_t> ControlPlane::WorkerNode(const JobRecord& job, int attempt, int rank) const {
  if (attempt < 1 || attempt > static_cast<int>(job.runs.size())) return std::nullopt;
  const RunView run = RunOf(job.runs[attempt - 1]);
  if (rank < 0 || rank >= static_cast<int>(run.workers.size())) return std::nullopt;
  auto node = pool_->FindNode(run.workers[rank].node);
  if (!node) return std::nullopt;
  return node->value();
}

// ---------------------------------------------------------------------------------------------
// Tokens.

StatusOr<CreatedToken> ControlPlane::CreateToken(const Caller& caller,
                                                 const TokenRequest& request) {
  if (!request.projects.empty()) {
    const std::string tenant =
        request.tenant.empty() && caller.role == Role::kTenant ? caller.scope : request.tenant;
    if (auto tid = pool_->FindTenant(tenant)) {
      for (size_t i = 0; i < request.projects.size(); ++i) {
        const std::string& p = request.projects[i];
        if (!pool_->FindProject(*tid, p)) {
          return FieldError(fmt::format("projects[{}]", i),
                            fmt::format("tenant '{}' has no project '{}'", tenant, p));
        }
      }
    }
  }
  SP_ASSIGN_OR_RETURN(
      CreatedToken made,
      tokens_.Create(caller, request, clock_.NowMs(), pool_->FindTenant(request.tenant).has_value(),
                     pool_->FindNode(request.node).has_value(),
                     pool_->FindProvider(request.provider).has_value(), batch_));
  billing_.Audit(caller.token_name, "token.create",
                 {{"token", made.name},
                  {"role", made.role},
                  {"scope", made.scope},
                  {"projects", request.projects},
                  {"expires", request.expires_ms ? nlohmann::json(FormatTimeMs(*request.expires_ms))
                                                 : nlohmann::json(nullptr)}},
                 clock_.NowMs(), batch_);
  return made;
}

Status ControlPlane::RevokeToken(const Caller& caller, const std::string& name) {
  SP_RETURN_IF_ERROR(tokens_.Revoke(caller, name, clock_.NowMs(), batch_));
  billing_.Audit(caller.token_name, "token.revoke", {{"token", name}}, clock_.NowMs(), batch_);
  return OkStatus();
}

StatusOr<std::optional<std::string>> ControlPlane::EnsureAdminToken(bool replace) {
  return tokens_.EnsureAdmin(replace, clock_.NowMs(), batch_);
}

}  // namespace suanpan::control
