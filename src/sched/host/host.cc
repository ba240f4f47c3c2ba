#include "sched/host/host.h"

#include <algorithm>
#include <bit>
#include <unordered_set>

namespace suanpan::sched {

void ApplyDecisions(ClusterState& state, const Decisions& decisions, Time now) {
  for (const Decision& d : decisions.items) {
    if (d.kind == DecisionKind::kPreempt) {
      state.Finish(d.job);
    } else if (d.kind == DecisionKind::kBind) {
      RunningJob r;
      r.spec = d.spec;
      r.allocation = *d.allocation;
      r.start = now;
      const auto runtime = d.spec->ExpectedRuntime();
      r.expected_end = runtime ? now + *runtime : kNever;
      state.Start(std::move(r));
    }
  }
}

void Host::ActiveJobs::Add(Job& job) {
  const uint32_t q = core::QueueOfJob(*pool_, *job.spec).value();
  by_tenant_[q].emplace(job.parked.position, &job);
  hint_[q].reset();
  ++size_;
}

void Host::ActiveJobs::Remove(Job& job) {
  const uint32_t q = core::QueueOfJob(*pool_, *job.spec).value();
  size_ -= by_tenant_[q].erase(job.parked.position);
  hint_[q].reset();
}

std::vector<core::TenantId> Host::ActiveJobs::Tenants() const {
  std::vector<core::TenantId> out;
  for (size_t t = 0; t < by_tenant_.size(); ++t) {
    if (!by_tenant_[t].empty()) out.push_back(core::TenantId(static_cast<uint32_t>(t)));
  }
  return out;
}

std::optional<std::pair<QueuePosition, const QueuedJob*>> Host::ActiveJobs::Next(
    core::TenantId tenant, const QueuePosition* after) const {
  const auto& m = by_tenant_[tenant.value()];
  auto& hint = hint_[tenant.value()];
  std::map<QueuePosition, Job*>::const_iterator it;
  if (after && hint && *hint != m.end() && (*hint)->first == *after) {
    it = std::next(*hint);  // the usual step: the one after the job last handed out
  } else if (after && hint && *hint != m.end() && *after < (*hint)->first &&
             (*hint == m.begin() || !(*after < std::prev(*hint)->first))) {
    it = *hint;  // asked again for the same one
  } else {
    it = after ? m.upper_bound(*after) : m.begin();
  }
  if (it == m.end()) return std::nullopt;
  hint = it;
  return std::make_pair(it->first, &it->second->parked.queued);
}

Host::Host(const core::Pool& pool, Scheduler scheduler) : Host(pool, std::move(scheduler), {}) {}

Host::Host(const core::Pool& pool, Scheduler scheduler, Options options)
    : pool_(pool),
      scheduler_(std::move(scheduler)),
      options_(options),
      state_(pool),
      memory_(pool.tenants().size(), pool.catalog().size(),
              scheduler_.config().fair_share_half_life),
      parked_(state_),
      active_(pool) {
  // Parking is exact only when nothing reads a waiting job's turn: not under head-of-line
  // blocking (a blocked job holds everything behind it) nor when waiting jobs get estimates.
  const PolicyConfig& c = scheduler_.config();
  if (c.blocking || c.estimate_depth > 0) {
    options_.park_capacity = false;
    options_.park_quota = false;
  }
  size_counts_.assign(static_cast<size_t>(state_.MaxDevicesPerNode()) + 1, 0);
}

Host::Job& Host::Get(JobId job) {
  auto it = jobs_.find(job.value());
  SP_CHECK(it != jobs_.end()) << "job " << job.value() << " is not in the host";
  return it->second;
}

bool Host::Queued(JobId job) const {
  auto it = jobs_.find(job.value());
  return it != jobs_.end() && it->second.place != Job::Place::kRunning;
}

JobHistory Host::HistoryOf(JobId job, Time now) const {
  auto it = jobs_.find(job.value());
  if (it == jobs_.end()) return {};
  JobHistory h = it->second.history;
  if (const RunningJob* r = state_.FindRunning(job)) {
    const int64_t ran = std::max<int64_t>(0, (now - r->start).value());
    h.attained_milli += ran * r->spec->TotalShare().value();
    h.executed += ran;
  }
  return h;
}

void Host::CountSize(const core::JobSpec& spec, int sign) {
  const size_t s = static_cast<size_t>(spec.worker.devices);
  if (s < size_counts_.size()) size_counts_[s] += sign * spec.workers;
}

std::vector<double> Host::SizeWeights() const {
  std::vector<double> w(size_counts_.size(), 0.0);
  int64_t total = 0;
  for (int64_t c : size_counts_) total += c;
  if (total == 0) return {};
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = static_cast<double>(size_counts_[i]) / static_cast<double>(total);
  }
  return w;
}

void Host::RefreshQueued(Job& job) {
  ParkedJobs::Entry& e = job.parked;
  e.queued.spec = job.spec;
  e.queued.attained_service = job.history.attained_milli / kMilliPerDevice;
  e.queued.executed = Seconds(job.history.executed);
  e.position = QueuePosition{scheduler_.queue_policy().Key(e.queued, scheduler_.config()),
                             job.spec->id.value()};
  e.need = job.spec->worker.fractional() ? job.spec->worker.fraction.value()
                                         : Round::NeedWhole(*job.spec) * kMilliPerDevice;
  e.devices = job.spec->worker.devices;
  e.workers = job.spec->workers;
  e.queued.candidates = &candidates_.For(scheduler_.federation(), state_, *job.spec);
}

void Host::Wake(ParkedJobs::Entry* e) {
  if (!e->parked) return;  // listed twice (by priority and by guarantee)
  parked_.Unpark(e);
  Activate(Get(e->queued.spec->id));
}

void Host::Activate(Job& job) {
  job.place = Job::Place::kActive;
  active_.Add(job);
}

void Host::Enqueue(Job& job) {
  RefreshQueued(job);
  ++queued_;
  CountSize(*job.spec, +1);
  Activate(job);
}

void Host::RemoveFromQueue(Job& job) {
  switch (job.place) {
    case Job::Place::kActive:
      active_.Remove(job);
      break;
    case Job::Place::kQuotaParked:
      parked_.Unpark(&job.parked);
      break;
    case Job::Place::kCapacityParked:
      parked_.Unpark(&job.parked);
      break;
    case Job::Place::kRunning:
      SP_CHECK(false) << "job " << job.spec->id.value() << " is running, not queued";
  }
  --queued_;
  CountSize(*job.spec, -1);
}

void Host::Submit(const core::JobSpec& spec, Time now, JobHistory history) {
  (void)now;
  auto [it, inserted] = jobs_.try_emplace(spec.id.value());
  SP_CHECK(inserted) << "job " << spec.id.value() << " is already in the host";
  Job& job = it->second;
  job.spec = &spec;
  job.history = history;
  Enqueue(job);
}

void Host::Start(Job& job, const Allocation& alloc, Time now) {
  RunningJob r;
  r.spec = job.spec;
  r.allocation = alloc;
  r.start = now;
  const auto runtime = job.spec->ExpectedRuntime();
  r.expected_end = runtime ? now + *runtime : kNever;
  r.attained_service = job.history.attained_milli / kMilliPerDevice;
  state_.Start(std::move(r));
  job.place = Job::Place::kRunning;
  ++job.run_gen;
  ArmRankTimer(job, now);
  // A new possible victim: parked jobs that could preempt it must be looked at again.
  if (job.spec->preemptible && options_.park_capacity) {
    for (ParkedJobs::Entry* e : parked_.PossibleVictimStarted(alloc.segment, *job.spec)) Wake(e);
  }
}

void Host::Resume(const core::JobSpec& spec, const Allocation& allocation, Time start,
                  JobHistory history) {
  auto [it, inserted] = jobs_.try_emplace(spec.id.value());
  SP_CHECK(inserted) << "job " << spec.id.value() << " is already in the host";
  Job& job = it->second;
  job.spec = &spec;
  job.history = history;
  Start(job, allocation, start);
}

RunRecord Host::Stop(Job& job, Time now) {
  const RunningJob* r = state_.FindRunning(job.spec->id);
  SP_CHECK(r != nullptr) << "job " << job.spec->id.value() << " is not running";
  RunRecord rec;
  rec.job = job.spec->id;
  rec.tenant = job.spec->tenant;
  rec.segment = r->allocation.segment;
  const Segment& seg = state_.segment(rec.segment);
  rec.type = seg.type;
  rec.provider = seg.provider;
  rec.share = job.spec->TotalShare();
  rec.start = r->start;
  rec.end = std::max(now, r->start);
  rec.price_per_device_hour = pool_.provider(seg.provider).price_per_device_hour[seg.type.value()];
  rec.allocation = r->allocation;
  const int64_t ran = (rec.end - rec.start).value();
  job.history.attained_milli += ran * rec.share.value();
  job.history.executed += ran;
  memory_.Add(rec.tenant, rec.type,
              static_cast<double>(ran) * static_cast<double>(rec.share.value()) / kMilliPerDevice,
              rec.end);
  state_.Finish(rec.job);
  ++job.run_gen;
  return rec;
}

void Host::TenantReleased(core::TenantId tenant, core::DeviceTypeId type) {
  if (tenant.value() < pool_.tenants().size()) {
    for (ParkedJobs::Entry* e : parked_.ForQuota(tenant)) Wake(e);  // all its queues'
  }
  if (!options_.park_capacity) return;
  for (ParkedJobs::Entry* e : parked_.TenantReleased(tenant, type)) Wake(e);
}

RunRecord Host::EndRun(JobId id, Time now, bool requeue) {
  Job& job = Get(id);
  RunRecord rec = Stop(job, now);
  TenantReleased(rec.tenant, rec.type);
  if (requeue) {
    Enqueue(job);
  } else {
    jobs_.erase(id.value());
  }
  return rec;
}

void Host::Withdraw(JobId id) {
  Job& job = Get(id);
  RemoveFromQueue(job);
  jobs_.erase(id.value());
}

void Host::Cordon(core::NodeId node, Time now) {
  if (cordons_.count(node.value())) return;
  HoldExternal(node, 0, now);  // the cordon holds the whole node
  const core::Node& n = pool_.node(node);
  const uint64_t all = n.shape.devices >= 64 ? ~uint64_t{0} : (uint64_t{1} << n.shape.devices) - 1;
  cordons_[node.value()] =
      Hold(node, all, state_.FreeCpu(node), state_.FreeMemory(node),
           JobId((uint64_t{1} << 62) + node.value()), "out of service: " + n.name, now);
}

std::unique_ptr<core::JobSpec> Host::Hold(core::NodeId node, uint64_t devices, MilliCpu cpu,
                                          MiB memory, JobId id, std::string name, Time now) {
  const core::Node& n = pool_.node(node);
  auto spec = std::make_unique<core::JobSpec>();
  spec->id = id;
  spec->name = std::move(name);
  spec->tenant = state_.SystemTenant();
  spec->preemptible = false;
  spec->worker.devices = std::popcount(devices);
  spec->worker.types = {n.shape.type};
  RunningJob hold;
  hold.spec = spec.get();
  hold.allocation.segment = state_.SegmentOfNode(node);
  WorkerPlacement w;
  w.node = node;
  w.devices = devices;
  w.cpu = cpu;
  w.memory = memory;
  hold.allocation.workers.push_back(w);
  hold.start = now;
  state_.Start(std::move(hold));
  return spec;
}

int Host::HoldExternal(core::NodeId node, int devices, Time now) {
  auto it = external_.find(node.value());
  if (it != external_.end()) {
    const int held = it->second.first->worker.devices;
    if (it->second.second == devices && held == devices) return held;
    state_.Finish(it->second.first->id);
    external_.erase(it);
  }
  if (devices <= 0 || cordons_.count(node.value())) return 0;
  const core::Node& n = pool_.node(node);
  uint64_t mask = 0;
  int held = 0;
  for (int d = 0; d < n.shape.devices && d < 64 && held < devices; ++d) {
    if (state_.FreeShare(node, d).value() >= 1000) {
      mask |= uint64_t{1} << d;
      ++held;
    }
  }
  if (held == 0) return 0;  // asked again at the next call
  external_[node.value()] = {
      Hold(node, mask, MilliCpu(0), MiB(0), JobId((uint64_t{1} << 61) + node.value()),
           "held by its engine: " + n.name, now),
      devices};
  return held;
}

int Host::ExternallyHeld(core::NodeId node) const {
  auto it = external_.find(node.value());
  return it == external_.end() ? 0 : it->second.first->worker.devices;
}

void Host::Uncordon(core::NodeId node) {
  auto it = cordons_.find(node.value());
  if (it == cordons_.end()) return;
  state_.Finish(it->second->id);
  cordons_.erase(it);
}

std::vector<SegmentId> Host::ParkedOn(JobId job) const {
  auto it = jobs_.find(job.value());
  if (it == jobs_.end() || it->second.place != Job::Place::kCapacityParked) return {};
  return it->second.parked.on;
}

std::vector<JobId> Host::JobsOn(core::NodeId node) const {
  std::vector<JobId> out;
  for (const RunningJob* r : state_.Running()) {
    if (r->spec->tenant == state_.SystemTenant()) continue;
    for (const WorkerPlacement& w : r->allocation.workers) {
      if (w.node == node) {
        out.push_back(r->spec->id);
        break;
      }
    }
  }
  return out;
}

void Host::ArmRankTimer(Job& job, Time now) {
  const QueuePolicy& qp = scheduler_.queue_policy();
  const int64_t share = job.spec->TotalShare().value();
  if (share <= 0) return;
  const RunningJob* r = state_.FindRunning(job.spec->id);
  if (r == nullptr) return;
  const int64_t ran = std::max<int64_t>(0, (now - r->start).value());
  const int64_t attained_milli = job.history.attained_milli + ran * share;
  auto next = qp.NextRankChange(attained_milli / kMilliPerDevice, scheduler_.config());
  if (!next) return;
  // First whole second at which the attained service reaches the limit.
  const int64_t missing = *next * kMilliPerDevice - attained_milli;
  const int64_t dt = std::max<int64_t>(1, (missing + share - 1) / share);
  rank_timers_.push({r->start.value() + ran + dt, job.spec->id.value(), job.run_gen});
}

std::optional<Time> Host::NextDue() {
  while (!rank_timers_.empty()) {
    const RankTimer& t = rank_timers_.top();
    auto it = jobs_.find(t.job);
    if (it == jobs_.end() || it->second.run_gen != t.gen ||
        it->second.place != Job::Place::kRunning) {
      rank_timers_.pop();
      continue;
    }
    return Time(t.due);
  }
  return std::nullopt;
}

void Host::Park(Job& job, bool behind, SegmentId behind_segment) {
  ParkedJobs::Entry& e = job.parked;
  const std::vector<Candidate>& all = *e.queued.candidates;
  Admission a = scheduler_.admission().Admit(state_, *job.spec, all);
  // Left to the quota pass; or jobs bound later in the round are victims it could take now.
  std::vector<int64_t> max_rank;
  if (a.verdict != Admission::Verdict::kAdmitted ||
      scheduler_.preemption().MayPreempt(state_, scheduler_, e.queued, a.admitted, max_rank)) {
    if (job.place == Job::Place::kCapacityParked) Wake(&e);
    return;
  }
  std::vector<SegmentId> on;
  on.reserve(a.admitted.size());
  for (const Candidate& c : a.admitted) on.push_back(c.segment);
  const bool quota_limited = a.admitted.size() != all.size();
  if (job.place == Job::Place::kCapacityParked) {
    // Parked again as it was: the indexes stay (the usual case for a job looked at again).
    if (e.on == on && e.quota_limited == quota_limited && e.behind == behind &&
        (!behind || e.behind_segment == behind_segment)) {
      return;
    }
    parked_.Unpark(&e);
  } else {
    active_.Remove(job);
  }
  e.on = std::move(on);
  e.quota_limited = quota_limited;
  e.behind = behind;
  e.behind_segment = behind_segment;
  job.place = Job::Place::kCapacityParked;
  parked_.Park(&e);
}

Host::RoundResult Host::Round(Time now) {
  memory_.Advance(now);
  const QueuePolicy& qp = scheduler_.queue_policy();
  const PolicyConfig& config = scheduler_.config();
  RoundResult result;

  // Set aside the jobs their tenant's quota blocks (back when the tenant releases devices).
  if (options_.park_quota) {
    std::vector<Job*> blocked;
    active_.ForEach([&](Job& j) {
      if (scheduler_.admission().BlockedUntilRelease(state_, *j.spec)) blocked.push_back(&j);
    });
    for (Job* j : blocked) {
      active_.Remove(*j);
      j->place = Job::Place::kQuotaParked;
      parked_.ParkForQuota(&j->parked);
      result.parked_for_quota.push_back(j->spec->id);
    }
  }
  // Rank timers that are due: the job's rank changes now; arm the next one.
  while (!rank_timers_.empty() && rank_timers_.top().due <= now.value()) {
    const RankTimer t = rank_timers_.top();
    rank_timers_.pop();
    auto it = jobs_.find(t.job);
    if (it != jobs_.end() && it->second.run_gen == t.gen &&
        it->second.place == Job::Place::kRunning) {
      ArmRankTimer(it->second, now);
    }
  }
  if (active_.empty() && parked_.size() == 0) return result;
  result.ran = true;

  if (qp.UsesAttainedService()) {
    for (const RunningJob* r : state_.Running()) {
      auto it = jobs_.find(r->spec->id.value());
      if (it == jobs_.end()) continue;
      const int64_t ran = std::max<int64_t>(0, (now - r->start).value());
      const_cast<ClusterState&>(state_).FindRunning(r->spec->id)->attained_service =
          (it->second.history.attained_milli + ran * r->spec->TotalShare().value()) /
          kMilliPerDevice;
    }
  }
  UsageHistory history;
  if (qp.UsesUsageHistory()) history = memory_.View(now);
  std::vector<double> weights;
  if (scheduler_.placement_policy().UsesSizeWeights()) weights = SizeWeights();

  if (options_.park_capacity) parked_.BeginRound(state_);
  QueueCursor cursor(qp,
                     QueueContext{state_, qp.UsesUsageHistory() ? &history : nullptr, config, now},
                     active_, options_.park_capacity ? &parked_ : nullptr);
  RoundInput input;
  input.now = now;
  input.history = qp.UsesUsageHistory() ? &history : nullptr;
  input.size_weights = &weights;
  input.candidates = &candidates_;
  input.funds = funds_ ? &*funds_ : nullptr;
  result.decisions = scheduler_.Schedule(state_, cursor, input);
  const Decisions& d = result.decisions;

  // Apply: victims first (they free devices), then binds, then rejects; then park.
  std::vector<uint8_t> released(state_.segments().size(), 0);
  std::vector<std::pair<core::TenantId, core::DeviceTypeId>> releases;
  for (const Decision& x : d.items) {
    if (x.kind != DecisionKind::kPreempt) continue;
    Job& job = Get(x.job);
    RunRecord rec = Stop(job, now);
    released[rec.segment.value()] = 1;
    releases.emplace_back(rec.tenant, rec.type);
    Enqueue(job);
    result.preempted.push_back(std::move(rec));
  }
  for (const Decision& x : d.items) {
    if (x.kind == DecisionKind::kBind) {
      Job& job = Get(x.job);
      RemoveFromQueue(job);
      Start(job, *x.allocation, now);
    } else if (x.kind == DecisionKind::kReject) {
      Withdraw(x.job);
    }
  }
  if (options_.park_capacity) {
    // A parked job the round looked at and could not park again (it waits for quota, behind
    // the reservation, or may preempt now) is not known to fail any more: it becomes active.
    std::unordered_set<uint64_t> parkable;
    for (const Decisions::Parkable& p : d.parkable) parkable.insert(p.job.value());
    for (const QueuedJob* q : cursor.emitted_parked()) {
      auto it = jobs_.find(q->spec->id.value());
      if (it == jobs_.end()) continue;
      const Job::Place place = it->second.place;
      if (place != Job::Place::kCapacityParked && place != Job::Place::kQuotaParked) continue;
      if (place == Job::Place::kCapacityParked && parkable.count(q->spec->id.value())) continue;
      Wake(&it->second.parked);
    }
    std::vector<uint8_t> tenant_released(pool_.tenants().size() + 1, 0);
    for (const auto& [tenant, type] : releases) tenant_released[tenant.value()] = 1;
    for (const Decisions::Parkable& p : d.parkable) {
      auto it = jobs_.find(p.job.value());
      if (it == jobs_.end()) continue;
      Job& job = it->second;
      // A tenant whose devices were released in the round may be admitted to more segments
      // than the job was tried on: it stays active.
      if (tenant_released[job.spec->tenant.value()]) {
        if (job.place == Job::Place::kCapacityParked) Wake(&job.parked);
        continue;
      }
      if (job.place != Job::Place::kActive && job.place != Job::Place::kCapacityParked) continue;
      Park(job, p.behind_reservation, d.reservation_segment);
    }
    std::vector<core::NodeId> reserved;
    for (const Decision& x : d.items) {
      if (x.kind != DecisionKind::kReserve || !x.allocation) continue;
      for (const WorkerPlacement& w : x.allocation->workers) reserved.push_back(w.node);
    }
    parked_.SetBehind(d.reservation_signature, reserved);
    parked_.Verify(released);
  }
  for (const auto& [tenant, type] : releases) TenantReleased(tenant, type);
  return result;
}

std::vector<QueuedJob> Host::QueueSnapshot() const {
  std::vector<std::pair<uint64_t, QueuedJob>> all;
  for (const auto& [id, job] : jobs_) {
    if (job.place != Job::Place::kRunning) all.emplace_back(id, job.parked.queued);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<QueuedJob> out;
  out.reserve(all.size());
  for (auto& [id, q] : all) out.push_back(q);
  return out;
}

UsageHistory Host::HistoryAt(Time now) {
  memory_.Advance(now);
  return memory_.At(now);
}

Decisions Host::WhatIf(Time now, int estimate_depth) {
  PolicyConfig config = scheduler_.config();
  config.wait_details = -1;
  config.estimate_depth = estimate_depth;
  auto what_if = Scheduler::Create(config);
  SP_CHECK(what_if.ok()) << what_if.status().ToString();
  std::vector<QueuedJob> queue = QueueSnapshot();
  UsageHistory history = HistoryAt(now);
  return what_if->Schedule(state_, queue, now, &history, funds_ ? &*funds_ : nullptr);
}

std::vector<QueuedJob> Host::Ordered(Time now) {
  std::vector<QueuedJob> queue = QueueSnapshot();
  UsageHistory history = HistoryAt(now);
  std::vector<size_t> order = QueueOrder(scheduler_.queue_policy(), queue,
                                         QueueContext{state_, &history, scheduler_.config(), now});
  std::vector<QueuedJob> out;
  out.reserve(order.size());
  for (size_t i : order) out.push_back(queue[i]);
  return out;
}

}  // namespace suanpan::sched
