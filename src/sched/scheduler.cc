#include "sched/scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "sched/admission/funds.h"

namespace suanpan::sched {
namespace {

std::string TypeList(const core::Pool& pool, const core::JobSpec& job) {
  std::string out;
  for (DeviceTypeId t : job.worker.types) {
    if (!out.empty()) out += "|";
    out += pool.catalog().Get(t).name;
  }
  return out;
}

std::string Shape(const core::JobSpec& job) {
  if (job.worker.fractional()) {
    return fmt::format("{:.3g} of a device",
                       static_cast<double>(job.worker.fraction.value()) / kMilliPerDevice);
  }
  if (job.workers == 1) return fmt::format("{} devices", job.worker.devices);
  return fmt::format("{} workers x {} devices", job.workers, job.worker.devices);
}

// A wait in the units a person reads: 45s, 12m 5s, 3h 20m, 2d 4h.
std::string HumanSeconds(int64_t s) {
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return s % 60 ? fmt::format("{}m {}s", s / 60, s % 60) : fmt::format("{}m", s / 60);
  if (s < 86400) {
    return s % 3600 / 60 ? fmt::format("{}h {}m", s / 3600, s % 3600 / 60)
                         : fmt::format("{}h", s / 3600);
  }
  return s % 86400 / 3600 ? fmt::format("{}d {}h", s / 86400, s % 86400 / 3600)
                          : fmt::format("{}d", s / 86400);
}

}  // namespace

StatusOr<Scheduler> Scheduler::Create(PolicyConfig config) {
  SP_RETURN_IF_ERROR(ValidatePolicyConfig(config));
  Scheduler s;
  s.queue_ = FindQueuePolicy(config.queue);
  s.placement_ = FindPlacementPolicy(config.placement);
  s.admission_ = &QuotaAdmission();
  s.federation_ = &PriceFederation();
  s.preemption_ = config.preemption ? &GangPreemption() : &NoPreemption();
  s.backfill_ = config.backfill && !config.blocking ? &EasyBackfill() : &NoBackfill();
  s.config_ = std::move(config);
  return s;
}

std::string Scheduler::Describe() const {
  return fmt::format("queue/{} placement/{} admission/{} federation/{} preemption/{} backfill/{}",
                     queue_->name(), placement_->name(), admission_->name(), federation_->name(),
                     preemption_->name(), backfill_->name());
}

Decisions Scheduler::Schedule(ClusterState& state, const std::vector<QueuedJob>& queue, Time now,
                              const UsageHistory* history, const FundsInput* funds) const {
  QueueCursor cursor(*queue_, QueueContext{state, history, config_, now}, queue);
  RoundInput input;
  input.now = now;
  input.history = history;
  input.funds = funds;
  return Round(*this, state, cursor, input, &queue).Run();
}

Decisions Scheduler::Schedule(ClusterState& state, QueueCursor& cursor,
                              const RoundInput& input) const {
  return Round(*this, state, cursor, input, nullptr).Run();
}

bool BlockedByQuota(const ClusterState& state, const core::JobSpec& job) {
  return QuotaAdmission().BlockedUntilRelease(state, job);
}

// ---------------------------------------------------------------------------------------------

Round::Round(const Scheduler& scheduler, ClusterState& state, QueueCursor& cursor,
             const RoundInput& input, const std::vector<QueuedJob>* plain_queue)
    : scheduler_(scheduler),
      config_(scheduler.config()),
      state_(state),
      pool_(state.pool()),
      cursor_(cursor),
      plain_queue_(plain_queue),
      now_(input.now),
      candidates_(input.candidates),
      given_weights_(input.size_weights),
      funds_(input.funds) {
  if (candidates_ == nullptr) {
    own_candidates_ = std::make_unique<CandidateCache>();
    candidates_ = own_candidates_.get();
  }
}

Round::~Round() = default;

Decisions Round::Run() {
  const size_t mark = state_.Mark();
  ComputeSizeWeights();
  estimates_left_ = config_.estimate_depth;
  const bool reserves = scheduler_.backfill().Reserves();
  while (const QueuedJob* q = cursor_.Next(reserves && !reservation_attempted_)) {
    if (blocked_) {
      // Strict order: everything behind the blocked head waits for it; once no wait is to be
      // explained any more, the rest is only counted.
      if (config_.wait_details >= 0 && waits_explained_ >= config_.wait_details &&
          !cursor_.parks()) {
        decisions_.waits += 1 + static_cast<int64_t>(cursor_.remaining_active());
        break;
      }
      if (ExplainNextWait()) {
        Wait(*q->spec, Outcome::kUnschedulable,
             fmt::format("waiting in order behind job {} (head-of-line blocking)",
                         blocked_->value()));
      }
      continue;
    }
    const int64_t before = decisions_.binds;
    ScheduleOne(*q);
    if (config_.blocking && decisions_.binds == before) blocked_ = q->spec->id;
  }
  EstimateWaiting();
  state_.Rollback(mark);
  return std::move(decisions_);
}

void Round::ComputeSizeWeights() {
  if (!scheduler_.placement_policy().UsesSizeWeights()) return;
  if (given_weights_ != nullptr) {
    if (!given_weights_->empty()) context_.size_weights = given_weights_;
    return;
  }
  if (plain_queue_ == nullptr) return;
  size_weights_.assign(static_cast<size_t>(state_.MaxDevicesPerNode()) + 1, 0.0);
  double total = 0;
  for (const QueuedJob& q : *plain_queue_) {
    const size_t s = static_cast<size_t>(q.spec->worker.devices);
    if (s < size_weights_.size()) {
      size_weights_[s] += q.spec->workers;
      total += q.spec->workers;
    }
  }
  if (total == 0) {
    size_weights_.clear();
    return;
  }
  for (double& w : size_weights_) w /= total;
  context_.size_weights = &size_weights_;
}

bool Round::MayFitNow(const core::JobSpec& job, const Segment& seg) {
  if (job.worker.fractional()) return seg.free_whole > 0 || !seg.partial.empty();
  return seg.free_whole >= NeedWhole(job);
}

bool Round::KnownToFail(const core::JobSpec& job, SegmentId s, bool excluded) const {
  auto it = failed_.find(KeyOf(job, s, excluded));
  return it != failed_.end() && job.workers >= it->second;
}

void Round::RememberFailure(const core::JobSpec& job, SegmentId s, bool excluded) {
  auto [it, inserted] = failed_.emplace(KeyOf(job, s, excluded), job.workers);
  if (!inserted) it->second = std::min(it->second, job.workers);
}

void Round::ForgetFailures(SegmentId s) {
  std::erase_if(failed_, [&](const auto& e) { return e.first.segment == s.value(); });
}

std::string Round::When(Time t) const {
  return t <= now_ ? "now" : "in " + HumanSeconds((t - now_).value());
}

const PlacementContext& Round::Context(bool excluded) {
  context_.excluded = excluded && reservation_ ? &reservation_->nodes : nullptr;
  return context_;
}

std::optional<Allocation> Round::TryPlace(const core::JobSpec& job, SegmentId segment,
                                          bool excluded) {
  ++decisions_.placement_attempts;
  return scheduler_.placement_policy().Place(job, segment, state_, Context(excluded));
}

std::string Round::Where(const Allocation& alloc) const {
  const Segment& seg = state_.segment(alloc.segment);
  std::vector<uint32_t> nodes, switches;
  for (const WorkerPlacement& w : alloc.workers) {
    nodes.push_back(w.node.value());
    switches.push_back(pool_.node(w.node).leaf.value());
  }
  std::sort(nodes.begin(), nodes.end());
  std::sort(switches.begin(), switches.end());
  const size_t node_count = std::unique(nodes.begin(), nodes.end()) - nodes.begin();
  const size_t switch_count = std::unique(switches.begin(), switches.end()) - switches.begin();
  const core::Provider& provider = pool_.provider(seg.provider);
  const auto& price = provider.price_per_device_hour[seg.type.value()];
  return fmt::format("cluster {} ({}, {}), {} on {} node{} under {} switch{}, {:.2f} yuan/h",
                     pool_.cluster(seg.cluster).name, provider.name, provider.region,
                     pool_.catalog().Get(seg.type).name, node_count, node_count == 1 ? "" : "s",
                     switch_count, switch_count == 1 ? "" : "es",
                     price ? static_cast<double>(price->value()) / 1e6 : 0.0);
}

void Round::Bind(const QueuedJob& queued, Allocation alloc, std::string reason) {
  const core::JobSpec& job = *queued.spec;
  const auto runtime = job.ExpectedRuntime();
  bound_.push_back({&job, alloc, runtime ? now_ + *runtime : kNever});
  if (funds_ != nullptr) {
    int64_t price = -1;
    if (alloc.segment.value() < funds_->segment_price.size()) {
      price = funds_->segment_price[alloc.segment.value()];
    }
    if (price < 0) {
      const Segment& seg = state_.segment(alloc.segment);
      if (const auto& p = pool_.provider(seg.provider).price_per_device_hour[seg.type.value()]) {
        price = p->value();
      }
    }
    if (price > 0) spent_[job.tenant.value()] += EstimatedCost(job, price);
  }
  cursor_.Bound(queued, state_.segment(alloc.segment).type);
  Decision d;
  d.kind = DecisionKind::kBind;
  d.outcome = Outcome::kPlaced;
  d.job = job.id;
  d.spec = &job;
  d.allocation = std::move(alloc);
  d.reason = std::move(reason);
  decisions_.items.push_back(std::move(d));
  ++decisions_.binds;
}

void Round::Preempt(const RunningJob& victim, JobId for_job, std::string reason) {
  Decision d;
  d.kind = DecisionKind::kPreempt;
  d.outcome = Outcome::kWait;
  d.job = victim.spec->id;
  d.for_job = for_job;
  d.reason = std::move(reason);
  decisions_.items.push_back(std::move(d));
  ++decisions_.preemptions;
  preempted_.insert(victim.spec->id.value());
  state_.GiveBorrowed(core::QueueOfJob(state_.pool(), *victim.spec), victim.allocation);
  ForgetFailures(victim.allocation.segment);
  cursor_.Released(victim.allocation.segment);
  cursor_.TenantReleased(victim.spec->tenant);
}

bool Round::ExplainNextWait() {
  if (config_.wait_details >= 0 && waits_explained_ >= config_.wait_details) {
    ++decisions_.waits;
    return false;
  }
  ++waits_explained_;
  return true;
}

void Round::Wait(const core::JobSpec& job, Outcome outcome, std::string reason,
                 std::optional<Time> start) {
  Decision d;
  d.kind = outcome == Outcome::kInfeasible ? DecisionKind::kReject : DecisionKind::kWait;
  d.outcome = outcome;
  d.job = job.id;
  d.earliest_start = start;
  d.reason = std::move(reason);
  decisions_.items.push_back(std::move(d));
  if (outcome == Outcome::kInfeasible) {
    ++decisions_.rejects;
  } else {
    ++decisions_.waits;
  }
}

void Round::ScheduleOne(const QueuedJob& queued) {
  const core::JobSpec& job = *queued.spec;
  ++decisions_.considered;
  const std::vector<Candidate>& all = queued.candidates != nullptr
                                          ? *queued.candidates
                                          : candidates_->For(scheduler_.federation(), state_, job);
  if (all.empty()) {
    Wait(job, Outcome::kInfeasible,
         fmt::format("infeasible: no cluster of {} holds {}", TypeList(pool_, job), Shape(job)));
    return;
  }
  Admission admission = scheduler_.admission().Admit(state_, job, all);
  if (admission.verdict == Admission::Verdict::kNever) {
    Wait(job, Outcome::kInfeasible, std::move(admission.reason));
    return;
  }
  if (admission.verdict == Admission::Verdict::kWait) {
    if (ExplainNextWait()) Wait(job, Outcome::kUnschedulable, std::move(admission.reason));
    return;
  }
  if (funds_ != nullptr && job.tenant.value() < funds_->tenants.size() &&
      !funds_->tenants[job.tenant.value()].unlimited()) {
    auto it = spent_.find(job.tenant.value());
    FundsVerdict f = CheckFunds(state_, job, admission.admitted, *funds_,
                                it == spent_.end() ? MicroYuan(0) : it->second);
    if (f.affordable.empty()) {
      if (ExplainNextWait()) Wait(job, Outcome::kUnschedulable, std::move(f.reason));
      return;
    }
    admission.admitted = std::move(f.affordable);
  }
  const std::vector<Candidate>& admitted = admission.admitted;

  // Placement, in federation's order.
  bool blocked_by_reservation = false;
  bool maybe_reservation = false;  // failed with the reserved nodes kept off; unknown without
  for (const Candidate& c : admitted) {
    if (!MayFitNow(job, state_.segment(c.segment))) continue;
    if (cursor_.KnownToFail(queued, c.segment)) {
      // A parked job on a segment that has not gained capacity since: it fails there with or
      // without the reserved nodes (a placement does not appear as capacity shrinks).
      RememberFailure(job, c.segment, false);
      RememberFailure(job, c.segment, true);
      continue;
    }
    const bool keep_off = KeepsOff(job);
    if (KnownToFail(job, c.segment, keep_off)) {
      if (keep_off && !KnownToFail(job, c.segment, false)) maybe_reservation = true;
      continue;
    }
    if (auto alloc = TryPlace(job, c.segment, keep_off)) {
      const bool backfilled = reservation_ && !keep_off && c.segment == reservation_->segment;
      std::string where = Where(*alloc);
      Bind(queued, std::move(*alloc),
           (backfilled ? "backfilled (ends before the reservation): " : "placed: ") + where);
      return;
    }
    RememberFailure(job, c.segment, keep_off);
    if (keep_off && !KnownToFail(job, c.segment, false)) {
      const size_t mark = state_.Mark();
      if (TryPlace(job, c.segment, false)) {
        blocked_by_reservation = true;
      } else {
        RememberFailure(job, c.segment, false);
      }
      state_.Rollback(mark);
    }
  }
  if (scheduler_.preemption().TryPreempt(*this, queued, admitted)) return;

  // Nothing but a change to its segments can let this job start: it fits none of them as they
  // are (nor with fewer free devices), and no running job there could become its victim without
  // a start there, a release of its tenant's devices or a rank that grows with time. One that
  // fits but for the reserved nodes waits for the reservation to change too.
  const bool ranked =
      scheduler_.queue_policy().PreemptionRank(job, queued.attained_service, config_).has_value();
  if (!config_.blocking && (!config_.preemption || !ranked) &&
      !scheduler_.preemption().MayPreempt(state_, scheduler_, queued, admitted, max_rank_)) {
    decisions_.parkable.push_back({job.id, blocked_by_reservation || maybe_reservation});
  }
  if (blocked_by_reservation) {
    if (!ExplainNextWait()) return;
    Wait(job, Outcome::kWait,
         fmt::format("waiting behind the reservation of job {}, which starts {}: starting now "
                     "would delay it",
                     reservation_->job.value(), When(reservation_->start)),
         reservation_->start);
    return;
  }
  // Backfill: the first job that is blocked for capacity gets the round's one reservation.
  const bool try_reserve =
      scheduler_.backfill().Reserves() && !config_.blocking && !reservation_attempted_;
  if (!try_reserve && estimates_left_ == 0 && !ExplainNextWait()) return;
  const std::string& capacity = CapacityReason(job, admitted);
  if (try_reserve) {
    reservation_attempted_ = true;
    if (auto start = EarliestStart(*this, job, admitted, /*keep=*/true)) {
      Reservation r;
      r.job = job.id;
      r.start = start->first;
      r.segment = start->second.segment;
      r.nodes.assign(pool_.nodes().size(), 0);
      for (const WorkerPlacement& w : start->second.workers) r.nodes[w.node.value()] = 1;
      Decision d;
      d.kind = DecisionKind::kReserve;
      d.outcome = Outcome::kWait;
      d.job = job.id;
      d.earliest_start = start->first;
      d.reason = fmt::format("{}; reserved: starts {} in {}", capacity, When(start->first),
                             Where(start->second));
      d.allocation = std::move(start->second);
      decisions_.items.push_back(std::move(d));
      ++decisions_.waits;
      uint64_t sig =
          job.id.value() * 0x9e3779b97f4a7c15ULL ^ static_cast<uint64_t>(r.start.value());
      sig = sig * 1000003 ^ r.segment.value();
      for (size_t n = 0; n < r.nodes.size(); ++n) {
        if (r.nodes[n]) sig = sig * 1000003 ^ n;
      }
      decisions_.reservation_signature = sig;
      decisions_.reservation_segment = r.segment;
      reservation_ = std::move(r);
      cursor_.ReservationSettled(sig);
      return;
    }
    cursor_.ReservationSettled(std::nullopt);
    Wait(job, Outcome::kUnschedulable,
         capacity + "; no start can be promised (running jobs have no runtime estimate)");
    return;
  }
  // The estimate is made after the pass, when every job placed this round is known.
  if (estimates_left_ > 0) {
    --estimates_left_;
    estimates_.push_back({decisions_.items.size(), &job, admitted});
  }
  Wait(job, Outcome::kUnschedulable, capacity);
}

void Round::EstimateWaiting() {
  for (Estimate& e : estimates_) {
    if (auto s = EarliestStart(*this, *e.job, e.candidates, /*keep=*/false)) {
      Decision& d = decisions_.items[e.decision];
      d.earliest_start = s->first;
      d.outcome = Outcome::kWait;
    }
  }
}

// Cached per (shape, types) within the round: formatting a reason for each of thousands of
// waiting jobs would cost more than deciding about them.
const std::string& Round::CapacityReason(const core::JobSpec& job,
                                         const std::vector<Candidate>& cands) {
  std::vector<int64_t> key = {job.workers, job.worker.devices, job.worker.fraction.value()};
  for (DeviceTypeId t : job.worker.types) key.push_back(t.value());
  auto it = capacity_reasons_.find(key);
  if (it != capacity_reasons_.end()) return it->second;
  int64_t best_free = -1;
  SegmentId best;
  for (const Candidate& c : cands) {
    const Segment& seg = state_.segment(c.segment);
    if (seg.free_whole > best_free) {
      best_free = seg.free_whole;
      best = c.segment;
    }
  }
  const Segment& seg = state_.segment(best);
  return capacity_reasons_[key] = fmt::format(
             "waiting for capacity: needs {} of {} in one cluster; most free is {} {} in {}",
             Shape(job), TypeList(pool_, job), best_free, pool_.catalog().Get(seg.type).name,
             pool_.cluster(seg.cluster).name);
}

}  // namespace suanpan::sched
