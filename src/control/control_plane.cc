#include "control/control_plane.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <future>

namespace suanpan::control {
namespace {

using Json = nlohmann::json;
using core::JobState;

constexpr int64_t kPeriodicRoundMs = 5000;

std::string Hex(const unsigned char* data, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

StatusOr<std::string> NewSecret() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return InternalError("token: no random bytes");
  return "sp_" + Hex(bytes, sizeof(bytes));
}

bool ValidName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

std::string Yuan(__int128 micro) {
  const bool neg = micro < 0;
  if (neg) micro = -micro;
  const int64_t whole = static_cast<int64_t>(micro / 1'000'000);
  const int64_t cents = static_cast<int64_t>((micro % 1'000'000) / 10'000);
  return fmt::format("{}{}.{:02d}", neg ? "-" : "", whole, cents);
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kTenant:
      return "tenant";
    case Role::kAgent:
      return "agent";
  }
  return "unknown";
}

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
      scheduler_(std::move(scheduler)),
      clock_(clock),
      metrics_(metrics),
      cluster_(*pool_) {
  history_.device_seconds.assign(pool_->tenants().size(),
                                 std::vector<double>(pool_->catalog().size(), 0.0));
  for (size_t i = 0; i < pool_->nodes().size(); ++i) node_index_[pool_->nodes()[i].name] = i;
  parked_by_tenant_.resize(pool_->tenants().size());
  nodes_live_.resize(pool_->nodes().size());
  node_jobs_.resize(pool_->nodes().size());
}

ControlPlane::~ControlPlane() { Stop(); }

StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::Open(core::Pool pool,
                                                           std::unique_ptr<store::Store> store,
                                                           ControlOptions options,
                                                           const Clock& clock, Metrics* metrics) {
  options.policy.wait_details = options.wait_details;
  options.policy.estimate_depth = 0;
  SP_ASSIGN_OR_RETURN(sched::Scheduler scheduler, sched::Scheduler::Create(options.policy));
  SP_ASSIGN_OR_RETURN(store::Snapshot snapshot, store->Load());
  auto plane = std::unique_ptr<ControlPlane>(
      new ControlPlane(std::make_unique<core::Pool>(std::move(pool)), std::move(store),
                       std::move(options), std::move(scheduler), clock, metrics));
  SP_RETURN_IF_ERROR(plane->Recover(std::move(snapshot)));
  return plane;
}

Status ControlPlane::Recover(store::Snapshot snapshot) {
  const int64_t now = clock_.NowMs();
  for (store::TokenRow& t : snapshot.tokens) {
    token_hash_by_name_[t.name] = t.hash;
    tokens_by_hash_[t.hash] = std::move(t);
  }
  std::map<uint64_t, Job*> by_id;
  for (store::JobRow& row : snapshot.jobs) {
    auto job = std::make_unique<Job>();
    auto state = core::ParseJobState(row.state);
    job->state = state.value_or(JobState::kFailed);
    job->submit_ms = row.submit_ms;
    job->updated_ms = row.updated_ms;
    job->queued_ms = row.updated_ms;
    job->attempts = row.attempts;
    job->reason = row.reason;
    job->request_id = row.request_id;
    job->exit_code = row.exit_code;
    Json spec = Json::parse(row.spec, nullptr, /*allow_exceptions=*/false);
    auto decoded = DecodeJob(spec, *pool_);
    if (decoded.ok()) {
      job->decoded = std::move(*decoded);
    } else {
      // The pool changed under a stored job (a tenant or type was removed): keep the job
      // visible but end it; its spec stays as stored.
      job->decoded.spec.name = row.name;
      job->decoded.spec.tenant = pool_->FindTenant(row.tenant).value_or(core::TenantId(0));
      if (!core::IsTerminal(job->state)) {
        job->state = JobState::kFailed;
        job->reason = fmt::format("no longer valid on this pool: {}", decoded.status().message());
      }
    }
    job->decoded.spec.id = core::JobId(row.id);
    job->decoded.spec.submit_time = Time(row.submit_ms / 1000);
    job->spec_json = std::move(spec);
    if (row.request_id) by_request_[{row.tenant, *row.request_id}] = row.id;
    next_id_ = std::max(next_id_, row.id + 1);
    by_id[row.id] = job.get();
    jobs_[row.id] = std::move(job);
  }
  for (store::EventRow& e : snapshot.events) {
    auto it = by_id.find(e.job_id);
    if (it != by_id.end()) it->second->events.push_back(std::move(e));
  }
  for (store::RunRow& r : snapshot.runs) {
    auto it = by_id.find(r.job_id);
    if (it == by_id.end()) continue;
    Job& j = *it->second;
    if (r.end_ms) {
      const int64_t secs = (*r.end_ms - r.start_ms) / 1000;
      j.attained_service += r.devices_milli / 1000 * secs;
      j.executed = j.executed + Seconds(secs);
    }
    j.runs.push_back(std::move(r));
  }
  int retaken = 0, requeued = 0;
  for (auto& [id, job] : jobs_) {
    Job& j = *job;
    const bool holds = j.state == JobState::kAdmitted || j.state == JobState::kRunning;
    if (holds) {
      std::optional<sched::Allocation> alloc;
      if (!j.runs.empty() && !j.runs.back().end_ms) alloc = ParsePlacement(j.runs.back());
      if (alloc) {
        sched::RunningJob r;
        r.spec = &j.decoded.spec;
        r.allocation = *alloc;
        r.start = Time(j.runs.back().start_ms / 1000);
        const auto runtime = j.decoded.spec.ExpectedRuntime();
        r.expected_end = runtime ? r.start + *runtime : kNever;
        for (const sched::WorkerPlacement& w : alloc->workers) {
          node_jobs_[w.node.value()].insert(id);
          // An agent ran this job: it gets one lease to come back, else the node is lost. (Leases
          // are not stored: a node whose agent never reported stays as declared.)
          if (j.state == JobState::kRunning) {
            nodes_live_[w.node.value()].lease_until_ms = now + options_.lease_seconds * 1000;
          }
        }
        j.workers.assign(alloc->workers.size(), Job::Worker{});
        for (auto& w : j.workers) w.running = j.state == JobState::kRunning;
        // What the ranks of this attempt reported before the restart (worker events).
        for (const store::EventRow& e : j.events) {
          int attempt = 0, rank = 0;
          char what[16] = {0};
          if (e.kind != "worker" ||
              std::sscanf(e.message.c_str(), "attempt %d rank %d: %15s", &attempt, &rank, what) !=
                  3 ||
              attempt != j.attempts || rank < 0 || rank >= static_cast<int>(j.workers.size())) {
            continue;
          }
          if (std::string_view(what) == "started") j.workers[rank].running = true;
          if (std::string_view(what) == "exited") {
            j.workers[rank].running = true;
            j.workers[rank].exited = true;
            j.workers[rank].exit_code = 0;
          }
        }
        cluster_.Start(std::move(r));
        j.holds_devices = true;
        ++retaken;
        continue;
      }
      // Its devices are gone (pool changed) or taken: the run ends now and the job queues again.
      if (!j.runs.empty() && !j.runs.back().end_ms) {
        j.runs.back().end_ms = now;
        batch_.runs.push_back(j.runs.back());
      }
      j.state = JobState::kPending;
      j.reason = "requeued at restart: its placement is no longer available";
      j.updated_ms = now;
      AddEvent(j, "requeued", j.reason);
      SaveJob(j);
      ++requeued;
    }
    if (j.state == JobState::kPending || j.state == JobState::kPreempted) {
      Enqueue(j);
      undecided_.emplace_back(id, now);
    }
  }
  if (!batch_.empty()) {
    SP_RETURN_IF_ERROR(store_->Commit(batch_));
    batch_ = {};
  }
  spdlog::info("recovered jobs={} queued={} holding_devices={} requeued={} tokens={}", jobs_.size(),
               queued_.size(), retaken, requeued, tokens_by_hash_.size());
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// The control thread.

void ControlPlane::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
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
  std::vector<Waiter> waiters;
  waiters.swap(waiters_);
  for (Waiter& w : waiters) {
    if (w.done) w.done(UnavailableError("the server is shutting down"));
  }
  std::vector<std::pair<Op, Done>> left;
  {
    std::lock_guard lock(mu_);
    left.swap(inbox_);
  }
  for (auto& [op, done] : left) {
    if (done) done(UnavailableError("the server is shutting down"));
  }
}

void ControlPlane::Post(Op op, Done done) {
  {
    std::lock_guard lock(mu_);
    inbox_.emplace_back(std::move(op), std::move(done));
  }
  cv_.notify_one();
}

StatusOr<nlohmann::json> ControlPlane::Call(Op op) {
  std::promise<StatusOr<Json>> promise;
  auto future = promise.get_future();
  if (!thread_.joinable()) {
    // Not started (start-up, tests): run inline with the same commit discipline.
    current_done_ = [&promise](StatusOr<Json> v) { promise.set_value(std::move(v)); };
    StatusOr<Json> r = op(*this);
    std::vector<std::pair<Done, StatusOr<Json>>> replies;
    if (current_done_) replies.emplace_back(std::exchange(current_done_, nullptr), std::move(r));
    CommitOrDie(&replies);
    for (auto& [done, reply] : replies) done(std::move(reply));
    ServeWaiters(clock_.NowMs());
    return future.get();
  }
  Post(std::move(op), [&promise](StatusOr<Json> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void ControlPlane::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    const int64_t now = clock_.NowMs();
    int64_t next =
        dirty_ ? last_round_ms_ + options_.schedule_interval_ms : last_round_ms_ + kPeriodicRoundMs;
    next = std::min(next, now + 1000);  // leases are checked every second
    for (const Waiter& w : waiters_) next = std::min(next, w.deadline_ms);
    if (inbox_.empty() && !stop_ && now < next) {
      cv_.wait_for(lock, std::chrono::milliseconds(next - now),
                   [&] { return stop_ || !inbox_.empty(); });
    }
    if (stop_ && inbox_.empty()) break;
    std::vector<std::pair<Op, Done>> ops;
    ops.swap(inbox_);
    lock.unlock();

    if (!ops.empty()) {
      std::vector<std::pair<Done, StatusOr<Json>>> replies;
      replies.reserve(ops.size());
      for (auto& [op, done] : ops) {
        StatusOr<Json> r = InternalError("operation did not run");
        current_done_ = std::move(done);
        try {
          r = op(*this);
        } catch (const std::exception& e) {
          r = InternalError(fmt::format("internal error: {}", e.what()));
          spdlog::error("op failed with exception: {}", e.what());
        }
        // An operation that took its reply (a long-poll) answers later.
        if (current_done_)
          replies.emplace_back(std::exchange(current_done_, nullptr), std::move(r));
      }
      CommitOrDie(&replies);
      for (auto& [done, reply] : replies) done(std::move(reply));
    }
    const int64_t t = clock_.NowMs();
    CheckLeases(t);
    if (t >= (dirty_ ? last_round_ms_ + options_.schedule_interval_ms
                     : last_round_ms_ + kPeriodicRoundMs)) {
      RunRound();
    }
    CommitOrDie(nullptr);
    ServeWaiters(clock_.NowMs());
    lock.lock();
  }
}

void ControlPlane::CommitOrDie(std::vector<std::pair<Done, StatusOr<Json>>>* replies) {
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
  if (replies) {
    for (auto& [done, reply] : *replies) {
      done(UnavailableError("the store refused the write; the server is restarting"));
    }
  }
  std::fflush(nullptr);
  std::_Exit(75);
}

// ---------------------------------------------------------------------------------------------
// Mutations.

void ControlPlane::AddEvent(Job& job, std::string kind, std::string message) {
  store::EventRow e;
  e.job_id = job.decoded.spec.id.value();
  e.seq = static_cast<int64_t>(job.events.size()) + 1;
  e.time_ms = clock_.NowMs();
  e.kind = std::move(kind);
  e.message = std::move(message);
  batch_.events.push_back(e);
  job.events.push_back(std::move(e));
}

void ControlPlane::SaveJob(const Job& job) {
  store::JobRow r;
  r.id = job.decoded.spec.id.value();
  r.tenant = pool_->tenant(job.decoded.spec.tenant).name;
  r.name = job.decoded.spec.name;
  r.state = std::string(core::JobStateName(job.state));
  r.spec = job.spec_json.dump();
  r.submit_ms = job.submit_ms;
  r.updated_ms = job.updated_ms;
  r.attempts = job.attempts;
  r.reason = job.reason;
  r.request_id = job.request_id;
  r.exit_code = job.exit_code;
  batch_.jobs.push_back(std::move(r));
}

void ControlPlane::SetState(Job& job, JobState to, std::string reason) {
  auto next = core::Transition(job.state, to);
  SP_CHECK(next.ok()) << next.status().ToString();
  const bool was_queued = job.state == JobState::kPending || job.state == JobState::kPreempted;
  job.state = to;
  job.reason = std::move(reason);
  job.updated_ms = clock_.NowMs();
  const uint64_t id = job.decoded.spec.id.value();
  const bool queued = to == JobState::kPending || to == JobState::kPreempted;
  if (queued && !was_queued) {
    Enqueue(job);
    job.queued_ms = job.updated_ms;
    undecided_.emplace_back(id, job.updated_ms);
  } else if (!queued && was_queued) {
    Dequeue(job);
  }
  if (core::IsTerminal(to)) job.earliest_start_ms.reset();
  SaveJob(job);
  dirty_ = true;
}

void ControlPlane::Enqueue(Job& job) {
  const uint64_t id = job.decoded.spec.id.value();
  queued_[id] = &job;
  active_[id] = &job;
  job.parked = false;
}

void ControlPlane::Dequeue(Job& job) {
  const uint64_t id = job.decoded.spec.id.value();
  queued_.erase(id);
  active_.erase(id);
  if (job.parked) parked_by_tenant_[job.decoded.spec.tenant.value()].erase(id);
  job.parked = false;
}

void ControlPlane::Release(Job& job, int64_t now_ms) {
  if (!job.holds_devices) return;
  if (const sched::RunningJob* r = cluster_.FindRunning(job.decoded.spec.id)) {
    for (const sched::WorkerPlacement& w : r->allocation.workers) {
      node_jobs_[w.node.value()].erase(job.decoded.spec.id.value());
      ++nodes_live_[w.node.value()].version;
    }
  }
  cluster_.Finish(job.decoded.spec.id);
  job.holds_devices = false;
  // The tenant's use went down: its parked jobs may fit its quota again.
  std::set<uint64_t>& parked = parked_by_tenant_[job.decoded.spec.tenant.value()];
  for (uint64_t id : parked) {
    Job* p = queued_.at(id);
    p->parked = false;
    active_[id] = p;
  }
  parked.clear();
  if (!job.runs.empty() && !job.runs.back().end_ms) {
    store::RunRow& run = job.runs.back();
    run.end_ms = std::max(now_ms, run.start_ms);
    batch_.runs.push_back(run);
    // Fair-share memory: device-seconds by tenant and type.
    const int64_t secs = (*run.end_ms - run.start_ms) / 1000;
    job.attained_service += run.devices_milli / 1000 * secs;
    job.executed = job.executed + Seconds(secs);
    if (auto type = pool_->catalog().Find(run.device_type)) {
      history_.device_seconds[job.decoded.spec.tenant.value()][type->value()] +=
          static_cast<double>(run.devices_milli) / 1000.0 *
          static_cast<double>(*run.end_ms - run.start_ms) / 1000.0;
    }
  }
  dirty_ = true;
}

void ControlPlane::Bind(Job& job, const sched::Allocation& allocation, int64_t now_ms) {
  const sched::Segment& seg = cluster_.segment(allocation.segment);
  store::RunRow run;
  run.job_id = job.decoded.spec.id.value();
  run.attempt = ++job.attempts;
  run.provider = pool_->provider(seg.provider).name;
  run.cluster = pool_->cluster(seg.cluster).name;
  run.device_type = pool_->catalog().Get(seg.type).name;
  run.devices_milli = job.decoded.spec.TotalShare().value();
  run.placement = PlacementJson(allocation);
  run.start_ms = now_ms;
  batch_.runs.push_back(run);
  job.runs.push_back(std::move(run));
  job.holds_devices = true;
  job.earliest_start_ms.reset();
  job.workers.assign(allocation.workers.size(), Job::Worker{});
  for (const sched::WorkerPlacement& w : allocation.workers) {
    node_jobs_[w.node.value()].insert(job.decoded.spec.id.value());
    ++nodes_live_[w.node.value()].version;
  }
}

// ---------------------------------------------------------------------------------------------
// Scheduling round.

std::vector<sched::QueuedJob> ControlPlane::QueueSnapshot(bool include_parked) const {
  const std::map<uint64_t, Job*>& from = include_parked ? queued_ : active_;
  std::vector<sched::QueuedJob> queue;
  queue.reserve(from.size());
  for (const auto& [id, j] : from) {
    sched::QueuedJob q;
    q.spec = &j->decoded.spec;
    q.attained_service = j->attained_service;
    q.executed = j->executed;
    queue.push_back(q);
  }
  return queue;
}

void ControlPlane::RunRound() {
  const int64_t now = clock_.NowMs();
  if (history_ms_ > 0 && now > history_ms_) {
    (void)0;
  }
  history_ms_ = now;
  last_round_ms_ = now;
  dirty_ = false;
  const auto t0 = std::chrono::steady_clock::now();
  // Set aside the jobs their tenant's quota blocks (reconsidered when the tenant releases).
  // Not under head-of-line blocking: there a blocked job holds everything behind it.
  for (auto it = active_.begin(); !scheduler_.config().blocking && it != active_.end();) {
    Job& j = *it->second;
    if (!sched::BlockedByQuota(cluster_, j.decoded.spec)) {
      ++it;
      continue;
    }
    j.parked = true;
    parked_by_tenant_[j.decoded.spec.tenant.value()].insert(it->first);
    const core::Tenant& tenant = pool_->tenant(j.decoded.spec.tenant);
    std::string held;
    for (core::DeviceTypeId t : j.decoded.spec.worker.types) {
      const core::Quota& q = tenant.quota[t.value()];
      if (q.max < j.decoded.spec.TotalShare()) continue;
      held += fmt::format("{}{} of its max {} {}", held.empty() ? "" : ", ",
                          core::FormatDevices(cluster_.TenantUsage(j.decoded.spec.tenant, t)),
                          core::FormatDevices(q.max), pool_->catalog().Get(t).name);
    }
    j.reason = fmt::format(
        "waiting for quota: tenant '{}' holds {} and the job needs {}; reconsidered when it "
        "releases devices",
        tenant.name, held, core::FormatDevices(j.decoded.spec.TotalShare()));
    j.earliest_start_ms.reset();
    it = active_.erase(it);
  }
  if (active_.empty()) {
    if (metrics_) {
      for (const auto& [id, queued_at] : undecided_) {
        (void)id;
        metrics_->decision_seconds.Observe(static_cast<double>(now - queued_at) / 1000.0);
      }
    }
    undecided_.clear();
    return;
  }
  std::vector<sched::QueuedJob> queue = QueueSnapshot(/*include_parked=*/false);
  sched::Decisions decisions = scheduler_.Schedule(cluster_, queue, Time(now / 1000), &history_);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (metrics_) metrics_->round_seconds.Observe(secs);

  // Persist first (this round's batch), then apply to the in-memory cluster state.
  for (const sched::Decision& d : decisions.items) {
    auto it = jobs_.find(d.job.value());
    if (it == jobs_.end()) continue;
    Job& job = *it->second;
    switch (d.kind) {
      case sched::DecisionKind::kPreempt: {
        auto for_it = jobs_.find(d.for_job.value());
        const std::string for_name =
            for_it == jobs_.end() ? "?" : for_it->second->decoded.spec.name;
        Release(job, now);
        // The scheduler's reason starts "preempted for job N: "; said once, with the job's name.
        std::string_view because = d.reason;
        const std::string prefix = fmt::format("preempted for job {}: ", d.for_job.value());
        if (because.starts_with(prefix)) because.remove_prefix(prefix.size());
        const std::string why =
            fmt::format("preempted for job {} ({}): {}", d.for_job.value(), for_name, because);
        if (job.state == JobState::kRunning) {
          SetState(job, JobState::kPreempted, why);
        } else {
          SetState(job, JobState::kPending, why);
        }
        AddEvent(job, "preempted", why);
        if (metrics_) metrics_->decisions_preempt.Increment();
        break;
      }
      default:
        break;
    }
  }
  for (const sched::Decision& d : decisions.items) {
    auto it = jobs_.find(d.job.value());
    if (it == jobs_.end()) continue;
    Job& job = *it->second;
    switch (d.kind) {
      case sched::DecisionKind::kBind: {
        Bind(job, *d.allocation, now);
        const store::RunRow& run = job.runs.back();
        const std::string where =
            fmt::format("{} x {} on {}/{}", core::FormatDevices(MilliDevices(run.devices_milli)),
                        run.device_type, run.provider, run.cluster);
        if (job.state == JobState::kPreempted) SetState(job, JobState::kPending, "requeued");
        SetState(job, JobState::kAdmitted, "placed: " + where);
        AddEvent(job, "bound", fmt::format("attempt {}: {}", run.attempt, where));
        if (metrics_) metrics_->decisions_bind.Increment();
        break;
      }
      case sched::DecisionKind::kReject:
        SetState(job, JobState::kFailed, d.reason);  // "infeasible: ..." or "infeasible under ..."
        AddEvent(job, "rejected", d.reason);
        if (metrics_) metrics_->decisions_reject.Increment();
        break;
      case sched::DecisionKind::kWait:
      case sched::DecisionKind::kReserve:
        job.reason = d.reason;
        if (d.earliest_start) {
          job.earliest_start_ms = d.earliest_start->value() * 1000;
        } else {
          job.earliest_start_ms.reset();
        }
        break;
      case sched::DecisionKind::kPreempt:
        break;
    }
  }
  // Devices: victims were released above; bound jobs take theirs now.
  for (const sched::Decision& d : decisions.items) {
    if (d.kind != sched::DecisionKind::kBind) continue;
    sched::RunningJob r;
    r.spec = d.spec;
    r.allocation = *d.allocation;
    r.start = Time(now / 1000);
    const auto runtime = d.spec->ExpectedRuntime();
    r.expected_end = runtime ? r.start + *runtime : kNever;
    cluster_.Start(std::move(r));
  }
  // Binding changed state but not the reason to run again: only new events do.
  dirty_ = false;
  if (metrics_) {
    for (const auto& [id, queued_at] : undecided_) {
      (void)id;
      metrics_->decision_seconds.Observe(static_cast<double>(clock_.NowMs() - queued_at) / 1000.0);
    }
  }
  undecided_.clear();
}

// ---------------------------------------------------------------------------------------------
// Tokens and callers.

StatusOr<Caller> ControlPlane::Authenticate(std::string_view token) const {
  if (token.empty())
    return UnauthenticatedError("missing bearer token (Authorization: Bearer ...)");
  auto it = tokens_by_hash_.find(Sha256Hex(token));
  if (it == tokens_by_hash_.end() || it->second.revoked) {
    return UnauthenticatedError("unknown or revoked token");
  }
  Caller c;
  c.token_name = it->second.name;
  c.scope = it->second.scope;
  if (it->second.role == "admin") {
    c.role = Role::kAdmin;
  } else if (it->second.role == "tenant") {
    c.role = Role::kTenant;
  } else {
    c.role = Role::kAgent;
  }
  return c;
}

StatusOr<nlohmann::json> ControlPlane::CreateToken(const Json& body) {
  if (!body.is_object()) return InvalidArgumentError("body: must be a JSON object");
  for (const auto& [k, v] : body.items()) {
    (void)v;
    if (k != "name" && k != "role" && k != "tenant" && k != "node") {
      return InvalidArgumentError(
          fmt::format("{}: unknown field (known: name, role, tenant, node)", k));
    }
    if (!v.is_string()) return InvalidArgumentError(fmt::format("{}: must be a string", k));
  }
  const std::string role = body.value("role", "");
  const std::string name = body.value("name", "");
  if (!ValidName(name)) {
    return InvalidArgumentError(
        fmt::format("name: must be 1-64 letters, digits, '-', '_' or '.', got '{}'", name));
  }
  if (token_hash_by_name_.count(name)) {
    return AlreadyExistsError(fmt::format("name: a token named '{}' exists", name));
  }
  std::string scope;
  if (role == "tenant") {
    scope = body.value("tenant", "");
    if (scope.empty()) return InvalidArgumentError("tenant: a tenant token needs its tenant");
    if (!pool_->FindTenant(scope))
      return InvalidArgumentError(fmt::format("tenant: unknown tenant '{}'", scope));
    if (body.contains("node")) return InvalidArgumentError("node: only for role agent");
  } else if (role == "agent") {
    scope = body.value("node", "");
    if (scope.empty()) return InvalidArgumentError("node: an agent token needs its node");
    if (!node_index_.count(scope))
      return InvalidArgumentError(fmt::format("node: unknown node '{}'", scope));
    if (body.contains("tenant")) return InvalidArgumentError("tenant: only for role tenant");
  } else if (role == "admin") {
    if (body.contains("tenant") || body.contains("node")) {
      return InvalidArgumentError("role: an admin token has no tenant or node");
    }
  } else {
    return InvalidArgumentError(
        fmt::format("role: must be admin, tenant or agent, got '{}'", role));
  }
  SP_ASSIGN_OR_RETURN(std::string secret, NewSecret());
  store::TokenRow row;
  row.name = name;
  row.hash = Sha256Hex(secret);
  row.role = role;
  row.scope = scope;
  row.created_ms = clock_.NowMs();
  batch_.tokens.push_back(row);
  token_hash_by_name_[name] = row.hash;
  tokens_by_hash_[row.hash] = row;
  return Json{{"name", name}, {"role", role}, {"scope", scope}, {"token", secret}};
}

StatusOr<nlohmann::json> ControlPlane::ListTokens() const {
  Json items = Json::array();
  for (const auto& [name, hash] : token_hash_by_name_) {
    const store::TokenRow& t = tokens_by_hash_.at(hash);
    items.push_back({{"name", t.name},
                     {"role", t.role},
                     {"scope", t.scope},
                     {"created", FormatTimeMs(t.created_ms)},
                     {"revoked", t.revoked}});
  }
  return Json{{"items", items}};
}

StatusOr<nlohmann::json> ControlPlane::RevokeToken(const std::string& name) {
  auto it = token_hash_by_name_.find(name);
  if (it == token_hash_by_name_.end())
    return NotFoundError(fmt::format("token '{}' not found", name));
  store::TokenRow& t = tokens_by_hash_.at(it->second);
  if (t.role == "admin" && !t.revoked) {
    size_t admins = 0;
    for (const auto& [hash, other] : tokens_by_hash_)
      admins += other.role == "admin" && !other.revoked;
    if (admins == 1) {
      return FailedPreconditionError(fmt::format(
          "token '{}' is the last admin token: create another admin token first (or restart the "
          "server with --new-admin-token)",
          name));
    }
  }
  t.revoked = true;
  batch_.tokens.push_back(t);
  return Json{{"name", name}, {"revoked", true}};
}

StatusOr<std::optional<std::string>> ControlPlane::EnsureAdminToken(bool replace) {
  bool have = false;
  for (const auto& [hash, t] : tokens_by_hash_) {
    if (t.role == "admin" && !t.revoked) {
      if (replace) {
        store::TokenRow revoked = t;
        revoked.revoked = true;
        batch_.tokens.push_back(revoked);
      } else {
        have = true;
      }
    }
  }
  if (replace) {
    for (auto& [hash, t] : tokens_by_hash_) {
      if (t.role == "admin") t.revoked = true;
    }
  }
  if (have) return std::optional<std::string>();
  std::string name = "admin";
  for (int i = 2; token_hash_by_name_.count(name); ++i) name = fmt::format("admin-{}", i);
  SP_ASSIGN_OR_RETURN(Json created, CreateToken(Json{{"name", name}, {"role", "admin"}}));
  return std::optional<std::string>(created["token"].get<std::string>());
}

nlohmann::json ControlPlane::Whoami(const Caller& caller) const {
  return Json{{"token", caller.token_name},
              {"role", std::string(RoleName(caller.role))},
              {"scope", caller.scope}};
}

// ---------------------------------------------------------------------------------------------
// Jobs.

const ControlPlane::Job* ControlPlane::Visible(const Caller& caller, uint64_t id) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return nullptr;
  const Job& j = *it->second;
  switch (caller.role) {
    case Role::kAdmin:
      return &j;
    case Role::kTenant:
      return pool_->tenant(j.decoded.spec.tenant).name == caller.scope ? &j : nullptr;
    case Role::kAgent: {
      // An agent sees the jobs of its node's latest runs (also once finished: a repeated
      // report must find the job).
      if (j.runs.empty()) return nullptr;
      auto alloc = ParsePlacement(j.runs.back());
      if (!alloc) return nullptr;
      for (const sched::WorkerPlacement& w : alloc->workers) {
        if (pool_->node(w.node).name == caller.scope) return &j;
      }
      return nullptr;
    }
  }
  return nullptr;
}

// A job larger than its tenant's quota max of every acceptable type could never run: refused at
// submit, like a job no cluster can hold (the scheduler would reject it in its first round).
Status ControlPlane::WithinQuotaMax(const core::JobSpec& spec) const {
  const core::Tenant& tenant = pool_->tenant(spec.tenant);
  std::string limits;
  for (core::DeviceTypeId type : spec.worker.types) {
    const core::Quota& q = tenant.quota[type.value()];
    if (q.max >= spec.TotalShare()) return OkStatus();
    if (!limits.empty()) limits += ", ";
    limits += fmt::format("{} {}", core::FormatDevices(q.max), pool_->catalog().Get(type).name);
  }
  return InvalidArgumentError(fmt::format(
      "{}: the job needs {} devices in all and tenant '{}' may hold at most {} (its quota max)",
      spec.workers > 1 ? "workers" : "devices_per_worker", core::FormatDevices(spec.TotalShare()),
      tenant.name, limits));
}

StatusOr<nlohmann::json> ControlPlane::SubmitJob(const Caller& caller, Json body,
                                                 const std::optional<std::string>& key) {
  if (caller.role == Role::kAgent) return PermissionDeniedError("agents may not submit jobs");
  if (!body.is_object()) return InvalidArgumentError("body: must be a JSON object");
  if (caller.role == Role::kTenant) {
    auto t = body.find("tenant");
    if (t == body.end() || t->is_null()) {
      body["tenant"] = caller.scope;
    } else if (!t->is_string() || t->get<std::string>() != caller.scope) {
      return PermissionDeniedError(
          fmt::format("tenant: this token may only submit for tenant '{}'", caller.scope));
    }
  }
  if (key) {
    if (key->empty() || key->size() > 128) {
      return InvalidArgumentError("Idempotency-Key: must be 1-128 characters");
    }
    auto t = body.find("tenant");
    if (t != body.end() && t->is_string()) {
      auto seen = by_request_.find({t->get<std::string>(), *key});
      if (seen != by_request_.end()) {
        // A retry: the same key with the same job returns the job it created; the same key
        // with another job is a client bug, refused.
        SP_ASSIGN_OR_RETURN(DecodedJob again, DecodeJob(body, *pool_));
        const Job& earlier = *jobs_.at(seen->second);
        if (EncodeJob(again, *pool_) != earlier.spec_json) {
          return AlreadyExistsError(fmt::format(
              "Idempotency-Key: already used for job {} with a different spec", seen->second));
        }
        return Json{{"job", View(earlier)}, {"created", false}};
      }
    }
  }
  SP_ASSIGN_OR_RETURN(DecodedJob decoded, DecodeJob(body, *pool_));
  SP_RETURN_IF_ERROR(WithinQuotaMax(decoded.spec));
  if (decoded.launch.command.empty()) {
    return InvalidArgumentError(
        "command: a job needs the program each worker runs, e.g. [\"python\", \"train.py\"] "
        "(suanpan submit ... -- python train.py)");
  }
  const int64_t now = clock_.NowMs();
  auto job = std::make_unique<Job>();
  const uint64_t id = next_id_++;
  decoded.spec.id = core::JobId(id);
  decoded.spec.submit_time = Time(now / 1000);
  job->spec_json = EncodeJob(decoded, *pool_);
  job->decoded = std::move(decoded);
  job->state = JobState::kPending;
  job->submit_ms = now;
  job->updated_ms = now;
  job->queued_ms = now;
  job->reason = "queued: waiting for the next scheduling round";
  job->request_id = key;
  const std::string tenant = pool_->tenant(job->decoded.spec.tenant).name;
  if (key) by_request_[{tenant, *key}] = id;
  Job& j = *job;
  jobs_[id] = std::move(job);
  Enqueue(j);
  undecided_.emplace_back(id, now);
  SaveJob(j);
  AddEvent(j, "submitted", fmt::format("by token '{}'", caller.token_name));
  dirty_ = true;
  return Json{{"job", View(j)}, {"created", true}};
}

StatusOr<nlohmann::json> ControlPlane::GetJob(const Caller& caller, uint64_t id) const {
  const Job* j = Visible(caller, id);
  if (j == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  return View(*j);
}

StatusOr<nlohmann::json> ControlPlane::ListJobs(const Caller& caller, JobFilter filter) const {
  if (caller.role == Role::kAgent) return PermissionDeniedError("agents may not list jobs");
  if (caller.role == Role::kTenant) {
    if (filter.tenant && *filter.tenant != caller.scope) {
      return PermissionDeniedError(
          fmt::format("tenant: this token may only list jobs of tenant '{}'", caller.scope));
    }
    filter.tenant = caller.scope;
  }
  std::optional<core::TenantId> tenant;
  if (filter.tenant) {
    tenant = pool_->FindTenant(*filter.tenant);
    if (!tenant)
      return InvalidArgumentError(fmt::format("tenant: unknown tenant '{}'", *filter.tenant));
  }
  Json items = Json::array();
  uint64_t last = 0;
  bool more = false;
  for (auto it = jobs_.upper_bound(filter.after); it != jobs_.end(); ++it) {
    const Job& j = *it->second;
    if (tenant && j.decoded.spec.tenant != *tenant) continue;
    if (!filter.states.empty() && !filter.states.count(j.state)) continue;
    if (filter.name && j.decoded.spec.name != *filter.name) continue;
    if (items.size() == filter.limit) {
      more = true;
      break;
    }
    items.push_back(View(j));
    last = it->first;
  }
  Json out{{"items", items}};
  out["next_after"] = more ? Json(last) : Json(nullptr);
  return out;
}

StatusOr<nlohmann::json> ControlPlane::CancelJob(const Caller& caller, uint64_t id) {
  if (caller.role == Role::kAgent) return PermissionDeniedError("agents may not cancel jobs");
  const Job* visible = Visible(caller, id);
  if (visible == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  Job& j = *jobs_.at(id);
  if (core::IsTerminal(j.state)) {
    return FailedPreconditionError(
        fmt::format("job {} has already ended ({})", id, core::JobStateName(j.state)));
  }
  Release(j, clock_.NowMs());
  SetState(j, JobState::kCancelled, fmt::format("cancelled by token '{}'", caller.token_name));
  AddEvent(j, "cancelled", j.reason);
  return View(j);
}

StatusOr<nlohmann::json> ControlPlane::JobEvents(const Caller& caller, uint64_t id) const {
  const Job* j = Visible(caller, id);
  if (j == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  Json items = Json::array();
  for (const store::EventRow& e : j->events) {
    items.push_back({{"seq", e.seq},
                     {"time", FormatTimeMs(e.time_ms)},
                     {"kind", e.kind},
                     {"message", e.message}});
  }
  return Json{{"items", items}};
}

StatusOr<nlohmann::json> ControlPlane::ExplainJob(const Caller& caller, uint64_t id) {
  const Job* j = Visible(caller, id);
  if (j == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  Json out{{"id", id}, {"state", std::string(core::JobStateName(j->state))}};
  if (j->state != JobState::kPending && j->state != JobState::kPreempted) {
    out["pending"] = false;
    out["reason"] = j->reason;
    return out;
  }
  // What-if: one round with estimates for every job up to this one, on the live state (the
  // scheduler undoes every tentative change before it returns). Nothing is applied.
  sched::PolicyConfig config = scheduler_.config();
  config.wait_details = -1;
  config.estimate_depth = 100'000;
  auto explain = sched::Scheduler::Create(config);
  if (!explain.ok()) return explain.status();
  std::vector<sched::QueuedJob> queue = QueueSnapshot(/*include_parked=*/true);
  const int64_t now = clock_.NowMs();
  sched::Decisions d = explain->Schedule(cluster_, queue, Time(now / 1000), &history_);
  out["pending"] = true;
  out["queued_since"] = FormatTimeMs(j->queued_ms);
  out["reason"] = j->reason;
  out["earliest_start"] = nullptr;
  int position = 0;
  for (const sched::Decision& x : d.items) {
    if (x.kind == sched::DecisionKind::kWait || x.kind == sched::DecisionKind::kReserve ||
        x.kind == sched::DecisionKind::kBind) {
      ++position;
    }
    if (x.job.value() != id) continue;
    out["outcome"] = std::string(sched::OutcomeName(x.outcome));
    out["reason"] = x.kind == sched::DecisionKind::kBind
                        ? "fits now: it will be placed in the next round"
                        : x.reason;
    if (x.earliest_start) out["earliest_start"] = FormatTimeMs(x.earliest_start->value() * 1000);
    out["position"] = position;
    break;
  }
  return out;
}

StatusOr<nlohmann::json> ControlPlane::ReportJobStatus(const Caller& caller, uint64_t id,
                                                       const Json& body) {
  if (caller.role == Role::kTenant) return PermissionDeniedError("only agents report job status");
  const Job* visible = Visible(caller, id);
  if (visible == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  if (!body.is_object()) return InvalidArgumentError("body: must be a JSON object");
  for (const auto& [k, v] : body.items()) {
    (void)v;
    if (k != "state" && k != "exit_code" && k != "message") {
      return InvalidArgumentError(
          fmt::format("{}: unknown field (known: state, exit_code, message)", k));
    }
  }
  auto st = body.find("state");
  if (st == body.end() || !st->is_string()) return InvalidArgumentError("state: must be a string");
  const std::string state = st->get<std::string>();
  std::optional<int> code;
  if (auto c = body.find("exit_code"); c != body.end() && !c->is_null()) {
    if (!c->is_number_integer()) return InvalidArgumentError("exit_code: must be an integer");
    code = c->get<int>();
  }
  std::string message;
  if (auto m = body.find("message"); m != body.end() && !m->is_null()) {
    if (!m->is_string()) return InvalidArgumentError("message: must be a string");
    message = m->get<std::string>().substr(0, 1024);
  }
  Job& j = *jobs_.at(id);
  const int64_t now = clock_.NowMs();
  if (state == "running") {
    if (j.state == JobState::kRunning) return View(j);  // idempotent
    if (j.state != JobState::kAdmitted) {
      return FailedPreconditionError(
          fmt::format("state: job {} is {}, not admitted", id, core::JobStateName(j.state)));
    }
    SetState(j, JobState::kRunning, "running");
    AddEvent(j, "running", message.empty() ? "started" : message);
  } else if (state == "succeeded" || state == "failed") {
    if (j.state != JobState::kRunning && j.state != JobState::kAdmitted) {
      if (core::IsTerminal(j.state)) return View(j);  // a repeated report
      return FailedPreconditionError(
          fmt::format("state: job {} is {}", id, core::JobStateName(j.state)));
    }
    if (j.state == JobState::kAdmitted) SetState(j, JobState::kRunning, "running");
    Release(j, now);
    j.exit_code = code;
    const std::string why = state == "succeeded"
                                ? "finished"
                                : fmt::format("failed with exit code {}{}", code.value_or(-1),
                                              message.empty() ? "" : ": " + message);
    SetState(j, state == "succeeded" ? JobState::kSucceeded : JobState::kFailed, why);
    AddEvent(j, state == "succeeded" ? "succeeded" : "failed", why);
  } else {
    return InvalidArgumentError(
        fmt::format("state: must be running, succeeded or failed, got '{}'", state));
  }
  return View(j);
}

StatusOr<nlohmann::json> ControlPlane::Queue(const Caller& caller, size_t limit) {
  if (caller.role == Role::kAgent) return PermissionDeniedError("agents may not read the queue");
  std::vector<sched::QueuedJob> queue = QueueSnapshot(/*include_parked=*/true);
  sched::QueueContext context{cluster_, &history_, scheduler_.config(),
                              Time(clock_.NowMs() / 1000)};
  std::vector<size_t> order = sched::QueueOrder(scheduler_.queue_policy(), queue, context);
  Json items = Json::array();
  size_t position = 0;
  for (size_t i : order) {
    ++position;
    const core::JobSpec& spec = *queue[i].spec;
    const std::string tenant = pool_->tenant(spec.tenant).name;
    if (caller.role == Role::kTenant && tenant != caller.scope) continue;
    if (items.size() >= limit) break;
    const Job& j = *jobs_.at(spec.id.value());
    Json e{{"position", position},
           {"id", spec.id.value()},
           {"name", spec.name},
           {"tenant", tenant},
           {"devices", core::FormatDevices(spec.TotalShare())},
           {"state", std::string(core::JobStateName(j.state))},
           {"reason", j.reason}};
    e["earliest_start"] =
        j.earliest_start_ms ? Json(FormatTimeMs(*j.earliest_start_ms)) : Json(nullptr);
    items.push_back(std::move(e));
  }
  return Json{
      {"policy", scheduler_.queue_policy().name()}, {"length", queue.size()}, {"items", items}};
}

StatusOr<nlohmann::json> ControlPlane::Usage(const Caller& caller, UsageQuery q) const {
  if (caller.role == Role::kAgent) return PermissionDeniedError("agents may not read usage");
  if (caller.role == Role::kTenant) {
    if (q.tenant && *q.tenant != caller.scope) {
      return PermissionDeniedError(
          fmt::format("tenant: this token may only read usage of tenant '{}'", caller.scope));
    }
    q.tenant = caller.scope;
  }
  const int64_t now = clock_.NowMs();
  if (!q.to_ms) q.to_ms = now;
  if (!q.from_ms) {
    // A billing period: the current calendar month, UTC.
    const std::time_t secs = static_cast<std::time_t>(now / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    q.from_ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  }
  if (*q.to_ms < *q.from_ms) return InvalidArgumentError("to: must not be before from");
  std::optional<core::TenantId> tenant;
  if (q.tenant) {
    tenant = pool_->FindTenant(*q.tenant);
    if (!tenant) return InvalidArgumentError(fmt::format("tenant: unknown tenant '{}'", *q.tenant));
  }
  // (tenant, provider, type) -> milli-device-milliseconds
  std::map<std::tuple<std::string, std::string, std::string>, __int128> sums;
  for (const auto& [id, job] : jobs_) {
    if (tenant && job->decoded.spec.tenant != *tenant) continue;
    for (const store::RunRow& r : job->runs) {
      const int64_t start = std::max(r.start_ms, *q.from_ms);
      const int64_t end = std::min(r.end_ms.value_or(now), *q.to_ms);
      if (end <= start) continue;
      sums[{pool_->tenant(job->decoded.spec.tenant).name, r.provider, r.device_type}] +=
          static_cast<__int128>(r.devices_milli) * (end - start);
    }
  }
  Json items = Json::array();
  __int128 total_cost = 0;
  for (const auto& [key, milli_ms] : sums) {
    const auto& [t, provider, type] = key;
    // device-hours = milli-device-ms / (1000 * 3,600,000)
    const double hours = static_cast<double>(milli_ms) / 3.6e9;
    __int128 cost = 0;
    std::optional<MicroYuan> price;
    if (auto p = pool_->FindProvider(provider)) {
      if (auto ty = pool_->catalog().Find(type)) {
        price = pool_->provider(*p).price_per_device_hour[ty->value()];
      }
    }
    if (price) cost = static_cast<__int128>(price->value()) * milli_ms / 3'600'000'000LL;
    total_cost += cost;
    items.push_back({{"tenant", t},
                     {"provider", provider},
                     {"device_type", type},
                     {"device_hours", std::round(hours * 1000) / 1000},
                     {"cost_yuan", Yuan(cost)}});
  }
  return Json{{"from", FormatTimeMs(*q.from_ms)},
              {"to", FormatTimeMs(*q.to_ms)},
              {"items", items},
              {"total_cost_yuan", Yuan(total_cost)}};
}

// ---------------------------------------------------------------------------------------------
// Views.

std::string ControlPlane::PlacementJson(const sched::Allocation& allocation) const {
  Json workers = Json::array();
  for (const sched::WorkerPlacement& w : allocation.workers) {
    Json devices = Json::array();
    for (int i = 0; i < 64; ++i) {
      if (w.devices & (uint64_t{1} << i)) devices.push_back(i);
    }
    workers.push_back({{"node", pool_->node(w.node).name},
                       {"devices", devices},
                       {"share", w.per_device.value()},
                       {"cpu", w.cpu.value()},
                       {"memory", w.memory.value()}});
  }
  return workers.dump();
}

std::optional<sched::Allocation> ControlPlane::ParsePlacement(const store::RunRow& run) const {
  Json workers = Json::parse(run.placement, nullptr, false);
  if (!workers.is_array()) return std::nullopt;
  auto cluster = std::find_if(pool_->clusters().begin(), pool_->clusters().end(),
                              [&](const core::Cluster& c) { return c.name == run.cluster; });
  auto type = pool_->catalog().Find(run.device_type);
  if (cluster == pool_->clusters().end() || !type) return std::nullopt;
  auto segment = cluster_.FindSegment(
      core::ClusterId(static_cast<size_t>(cluster - pool_->clusters().begin())), *type);
  if (!segment) return std::nullopt;
  sched::Allocation alloc;
  alloc.segment = *segment;
  for (const Json& w : workers) {
    if (!w.is_object() || !w.contains("node") || !w["node"].is_string()) return std::nullopt;
    auto node = node_index_.find(w["node"].get<std::string>());
    if (node == node_index_.end()) return std::nullopt;
    sched::WorkerPlacement p;
    p.node = core::NodeId(node->second);
    if (cluster_.SegmentOfNode(p.node) != *segment) return std::nullopt;
    for (const Json& d : w.value("devices", Json::array())) {
      if (!d.is_number_integer()) return std::nullopt;
      const int i = d.get<int>();
      if (i < 0 || i >= pool_->node(p.node).shape.devices) return std::nullopt;
      p.devices |= uint64_t{1} << i;
    }
    p.per_device = MilliDevices(w.value("share", int64_t{1000}));
    p.cpu = MilliCpu(w.value("cpu", int64_t{0}));
    p.memory = MiB(w.value("memory", int64_t{0}));
    alloc.workers.push_back(p);
  }
  return alloc;
}

nlohmann::json ControlPlane::PlacementView(const sched::Allocation& allocation) const {
  return Json::parse(PlacementJson(allocation));
}

nlohmann::json ControlPlane::View(const Job& j) const {
  const core::JobSpec& s = j.decoded.spec;
  Json v{{"id", s.id.value()},
         {"name", s.name},
         {"tenant", pool_->tenant(s.tenant).name},
         {"state", std::string(core::JobStateName(j.state))},
         {"reason", j.reason},
         {"submitted", FormatTimeMs(j.submit_ms)},
         {"updated", FormatTimeMs(j.updated_ms)},
         {"attempts", j.attempts},
         {"devices", core::FormatDevices(s.TotalShare())},
         {"spec", j.spec_json}};
  v["exit_code"] = j.exit_code ? Json(*j.exit_code) : Json(nullptr);
  v["earliest_start"] =
      j.earliest_start_ms ? Json(FormatTimeMs(*j.earliest_start_ms)) : Json(nullptr);
  if (!j.runs.empty()) {
    const store::RunRow& r = j.runs.back();
    Json run{{"attempt", r.attempt},
             {"provider", r.provider},
             {"cluster", r.cluster},
             {"device_type", r.device_type},
             {"started", FormatTimeMs(r.start_ms)},
             {"workers", Json::parse(r.placement, nullptr, false)}};
    run["ended"] = r.end_ms ? Json(FormatTimeMs(*r.end_ms)) : Json(nullptr);
    v["placement"] = run;
  } else {
    v["placement"] = nullptr;
  }
  return v;
}

StatusOr<nlohmann::json> ControlPlane::Providers() const {
  Json items = Json::array();
  const core::DeviceCatalog& cat = pool_->catalog();
  for (size_t p = 0; p < pool_->providers().size(); ++p) {
    const core::Provider& prov = pool_->providers()[p];
    std::map<std::string, std::pair<int64_t, int64_t>> devices;  // type -> (total, free)
    Json clusters = Json::array();
    for (core::ClusterId c : prov.clusters) clusters.push_back(pool_->cluster(c).name);
    for (const sched::Segment& seg : cluster_.segments()) {
      if (seg.provider.value() != p) continue;
      auto& d = devices[cat.Get(seg.type).name];
      d.first += seg.total_devices;
      d.second += seg.free_whole;
    }
    Json dev = Json::object();
    for (const auto& [type, tf] : devices) dev[type] = {{"total", tf.first}, {"free", tf.second}};
    Json prices = Json::object();
    for (size_t t = 0; t < prov.price_per_device_hour.size(); ++t) {
      if (prov.price_per_device_hour[t]) {
        prices[cat.Get(core::DeviceTypeId(t)).name] = Yuan(prov.price_per_device_hour[t]->value());
      }
    }
    items.push_back({{"name", prov.name},
                     {"region", prov.region},
                     {"backend", std::string(core::BackendKindName(prov.backend))},
                     {"clusters", clusters},
                     {"devices", dev},
                     {"price_yuan_per_device_hour", prices}});
  }
  return Json{{"items", items}};
}

StatusOr<nlohmann::json> ControlPlane::Clusters() const {
  Json items = Json::array();
  const core::DeviceCatalog& cat = pool_->catalog();
  for (size_t c = 0; c < pool_->clusters().size(); ++c) {
    const core::Cluster& cl = pool_->clusters()[c];
    Json dev = Json::object();
    for (const sched::Segment& seg : cluster_.segments()) {
      if (seg.cluster.value() != c) continue;
      dev[cat.Get(seg.type).name] = {{"total", seg.total_devices}, {"free", seg.free_whole}};
    }
    items.push_back({{"name", cl.name},
                     {"provider", pool_->provider(cl.provider).name},
                     {"nodes", cl.nodes.size()},
                     {"leaf_switches", cl.switches.size()},
                     {"blocks", cl.blocks.size()},
                     {"devices", dev}});
  }
  return Json{{"items", items}};
}

namespace {
nlohmann::json NodeView(const core::Pool& pool, const sched::ClusterState& cluster,
                        const core::Node& n, core::NodeId id) {
  return Json{{"name", n.name},
              {"provider", pool.provider(n.provider).name},
              {"cluster", pool.cluster(n.cluster).name},
              {"group", n.group},
              {"device_type", pool.catalog().Get(n.shape.type).name},
              {"devices", n.shape.devices},
              {"free_devices", cluster.FreeWhole(id)},
              {"domain_size", n.shape.domain_size},
              {"leaf_switch", pool.switches()[n.leaf.value()].name},
              {"block", pool.blocks()[n.block.value()].name},
              {"cpu", n.shape.cpu.value() / 1000},
              {"memory_gib", n.shape.memory.value() / 1024}};
}
}  // namespace

StatusOr<nlohmann::json> ControlPlane::Nodes(const Caller& caller,
                                             const std::map<std::string, std::string>& filter,
                                             size_t offset, size_t limit) const {
  if (caller.role == Role::kAgent)
    return PermissionDeniedError("agents may only read their own node");
  for (const auto& [k, v] : filter) {
    (void)v;
    if (k != "provider" && k != "cluster" && k != "device_type") {
      return InvalidArgumentError(fmt::format("{}: unknown filter", k));
    }
  }
  // A filter naming nothing in the pool is a typo, not an empty answer.
  if (auto it = filter.find("device_type");
      it != filter.end() && !pool_->catalog().Find(it->second)) {
    return InvalidArgumentError(fmt::format("device_type: unknown device type '{}'", it->second));
  }
  if (auto it = filter.find("provider"); it != filter.end() && !pool_->FindProvider(it->second)) {
    return InvalidArgumentError(fmt::format("provider: unknown provider '{}'", it->second));
  }
  if (auto it = filter.find("cluster"); it != filter.end()) {
    bool known = false;
    for (const core::Cluster& c : pool_->clusters()) known |= c.name == it->second;
    if (!known) {
      return InvalidArgumentError(fmt::format("cluster: unknown cluster '{}'", it->second));
    }
  }
  Json items = Json::array();
  size_t matched = 0;
  for (size_t i = 0; i < pool_->nodes().size(); ++i) {
    const core::Node& n = pool_->nodes()[i];
    auto want = [&](const char* k, const std::string& v) {
      auto it = filter.find(k);
      return it == filter.end() || it->second == v;
    };
    if (!want("provider", pool_->provider(n.provider).name) ||
        !want("cluster", pool_->cluster(n.cluster).name) ||
        !want("device_type", pool_->catalog().Get(n.shape.type).name)) {
      continue;
    }
    if (matched++ < offset) continue;
    if (items.size() < limit) {
      Json v = NodeView(*pool_, cluster_, n, core::NodeId(i));
      v["agent"] = nodes_live_[i].lost                 ? "lost"
                   : nodes_live_[i].lease_until_ms > 0 ? "alive"
                                                       : "none";
      items.push_back(std::move(v));
    }
  }
  return Json{{"total", matched}, {"offset", offset}, {"items", items}};
}

StatusOr<nlohmann::json> ControlPlane::Node(const Caller& caller, const std::string& name) const {
  auto it = node_index_.find(name);
  if (it == node_index_.end() || (caller.role == Role::kAgent && caller.scope != name)) {
    return NotFoundError(fmt::format("node '{}' not found", name));
  }
  Json v =
      NodeView(*pool_, cluster_, pool_->node(core::NodeId(it->second)), core::NodeId(it->second));
  const NodeLive& live = nodes_live_[it->second];
  v["agent"] = live.lost ? "lost" : live.lease_until_ms > 0 ? "alive" : "none";
  v["agent_address"] = live.address;
  return v;
}

StatusOr<nlohmann::json> ControlPlane::Tenants(const Caller& caller) const {
  if (caller.role == Role::kAgent) return PermissionDeniedError("agents may not read tenants");
  Json items = Json::array();
  for (const core::Tenant& t : pool_->tenants()) {
    if (caller.role == Role::kTenant && t.name != caller.scope) continue;
    SP_ASSIGN_OR_RETURN(Json v, Tenant(caller, t.name));
    items.push_back(std::move(v));
  }
  return Json{{"items", items}};
}

StatusOr<nlohmann::json> ControlPlane::Tenant(const Caller& caller, const std::string& name) const {
  if (caller.role == Role::kAgent) return PermissionDeniedError("agents may not read tenants");
  auto id = pool_->FindTenant(name);
  if (!id || (caller.role == Role::kTenant && caller.scope != name)) {
    return NotFoundError(fmt::format("tenant '{}' not found", name));
  }
  const core::Tenant& t = pool_->tenant(*id);
  Json quotas = Json::array();
  for (size_t ty = 0; ty < t.quota.size(); ++ty) {
    const core::Quota& q = t.quota[ty];
    const MilliDevices used = cluster_.TenantUsage(*id, core::DeviceTypeId(ty));
    if (q.guaranteed.value() == 0 && q.max == MilliDevices::Max() && used.value() == 0) continue;
    Json e{{"device_type", pool_->catalog().Get(core::DeviceTypeId(ty)).name},
           {"guaranteed", core::FormatDevices(q.guaranteed)},
           {"used", core::FormatDevices(used)}};
    e["max"] = q.max == MilliDevices::Max() ? Json(nullptr) : Json(core::FormatDevices(q.max));
    quotas.push_back(std::move(e));
  }
  int64_t queued = 0, holding = 0;
  for (const auto& [jid, j] : queued_) queued += j->decoded.spec.tenant == *id;
  for (const sched::RunningJob* r : cluster_.Running()) holding += r->spec->tenant == *id;
  return Json{{"name", t.name},   {"weight", t.weight},    {"priority_classes", t.priority_classes},
              {"quotas", quotas}, {"queued_jobs", queued}, {"jobs_holding_devices", holding}};
}

void ControlPlane::RefreshGauges() {
  if (!metrics_) return;
  std::array<int64_t, core::kJobStateCount> by_state{};
  for (const auto& [id, j] : jobs_) ++by_state[static_cast<int>(j->state)];
  for (int s = 0; s < core::kJobStateCount; ++s) {
    metrics_->jobs.Add({{"state", std::string(core::JobStateName(static_cast<JobState>(s)))}})
        .Set(static_cast<double>(by_state[s]));
  }
  std::vector<int64_t> per_tenant(pool_->tenants().size(), 0);
  for (const auto& [id, j] : queued_) ++per_tenant[j->decoded.spec.tenant.value()];
  for (size_t t = 0; t < per_tenant.size(); ++t) {
    metrics_->queue.Add({{"tenant", pool_->tenants()[t].name}})
        .Set(static_cast<double>(per_tenant[t]));
  }
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> devices;
  for (const sched::Segment& seg : cluster_.segments()) {
    auto& d = devices[{pool_->provider(seg.provider).name, pool_->catalog().Get(seg.type).name}];
    d.first += static_cast<double>(seg.total_devices - seg.free_whole);
    d.second += static_cast<double>(seg.free_whole);
  }
  for (const auto& [key, v] : devices) {
    metrics_->devices_allocated.Add({{"provider", key.first}, {"device_type", key.second}})
        .Set(v.first);
    metrics_->devices_free.Add({{"provider", key.first}, {"device_type", key.second}})
        .Set(v.second);
  }
}

}  // namespace suanpan::control
