#include "sched/scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace suanpan::sched {

StatusOr<Scheduler> Scheduler::Create(PolicyConfig config) {
  SP_RETURN_IF_ERROR(ValidatePolicyConfig(config));
  const QueuePolicy* queue = FindQueuePolicy(config.queue);
  const PlacementPolicy* placement = FindPlacementPolicy(config.placement);
  return Scheduler(std::move(config), queue, placement);
}

namespace {

struct Candidate {
  SegmentId segment;
  int64_t price;  // micro-yuan per device-hour
  size_t preference;
};

struct Reservation {
  JobId job;
  Time start;
  SegmentId segment;
  std::vector<uint8_t> nodes;  // [node] != 0: held for the reservation
};

struct Bound {
  const core::JobSpec* spec;
  Allocation allocation;
  Time expected_end;
};

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

std::string Devices(MilliDevices m) {
  if (m.value() % kMilliPerDevice == 0) return fmt::format("{}", m.value() / kMilliPerDevice);
  return fmt::format("{:.3f}", static_cast<double>(m.value()) / kMilliPerDevice);
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

// Work a victim loses if stopped now, in device-seconds, plus the restore it will need.
int64_t PreemptionCost(const RunningJob& r, Time now) {
  const core::JobSpec& spec = *r.spec;
  const int64_t ran = std::max<int64_t>(0, (now - r.start).value());
  const int64_t lost =
      spec.checkpoint_interval.value() > 0 ? ran % spec.checkpoint_interval.value() : ran;
  return (lost + spec.restore_cost.value()) * spec.TotalShare().value() / kMilliPerDevice;
}

class Round {
 public:
  Round(const Scheduler& scheduler, ClusterState& state, const std::vector<QueuedJob>& queue,
        Time now, const UsageHistory* history)
      : scheduler_(scheduler),
        config_(scheduler.config()),
        state_(state),
        pool_(state.pool()),
        queue_(queue),
        now_(now),
        history_(history) {}

  Decisions Run() {
    const size_t mark = state_.Mark();
    const QueueContext context{state_, history_, config_, now_};
    const std::vector<size_t> order = scheduler_.queue_policy().Order(queue_, context);
    ComputeSizeWeights();
    estimates_left_ = config_.estimate_depth;
    for (size_t index : order) {
      if (blocked_) {
        // Strict order: everything behind the blocked head waits for it.
        if (ExplainNextWait()) {
          Wait(*queue_[index].spec, Outcome::kUnschedulable,
               fmt::format("waiting in order behind job {} (head-of-line blocking)",
                           blocked_->value()));
        }
        continue;
      }
      const size_t before = decisions_.binds;
      ScheduleOne(queue_[index]);
      if (config_.blocking && static_cast<size_t>(decisions_.binds) == before) {
        blocked_ = queue_[index].spec->id;
      }
    }
    EstimateWaiting();
    state_.Rollback(mark);
    return std::move(decisions_);
  }

 private:
  int64_t NeedWhole(const core::JobSpec& job) const {
    return job.worker.fractional() ? 1 : int64_t{job.workers} * job.worker.devices;
  }

  // Segments that could ever hold the job, cheapest first. O(segments of its types log).
  // Every segment of the job's types, cheapest first; cached per list of types (jobs of a queue
  // share a few lists), so a waiting job costs a look-up, not a sort.
  const std::vector<Candidate>& SegmentsByPrice(const core::JobSpec& job) {
    uint64_t key = job.worker.types.size();
    const bool cacheable = job.worker.types.size() <= 3;
    for (size_t i = 0; cacheable && i < job.worker.types.size(); ++i) {
      key |= uint64_t{job.worker.types[i].value()} << (16 * (i + 1));
    }
    if (cacheable) {
      auto it = by_types_.find(key);
      if (it != by_types_.end()) return it->second;
    }
    std::vector<Candidate> out;
    for (size_t pref = 0; pref < job.worker.types.size(); ++pref) {
      const DeviceTypeId type = job.worker.types[pref];
      for (SegmentId s : state_.SegmentsOf(type)) {
        const Segment& seg = state_.segment(s);
        const auto& price = pool_.provider(seg.provider).price_per_device_hour[type.value()];
        out.push_back({s, price ? price->value() : MicroYuan::Max().value(), pref});
      }
    }
    std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
      if (a.price != b.price) return a.price < b.price;
      if (a.preference != b.preference) return a.preference < b.preference;
      return a.segment < b.segment;
    });
    if (!cacheable) {
      uncached_ = std::move(out);
      return uncached_;
    }
    return by_types_[key] = std::move(out);
  }

  // Segments that could ever hold the job (big enough nodes, enough devices), cheapest first.
  // Depends only on the pool, so it is cached per (types, devices per worker, devices in all).
  const std::vector<Candidate>& Candidates(const core::JobSpec& job) {
    const int per_worker = std::max(job.worker.devices, 1);
    const int64_t need = NeedWhole(job);
    std::optional<std::tuple<uint64_t, int, int64_t>> key;
    if (job.worker.types.size() <= 3) {
      uint64_t types = job.worker.types.size();
      for (size_t i = 0; i < job.worker.types.size(); ++i) {
        types |= uint64_t{job.worker.types[i].value()} << (16 * (i + 1));
      }
      key.emplace(types, per_worker, need);
      auto it = candidates_.find(*key);
      if (it != candidates_.end()) return it->second;
    }
    std::vector<Candidate> out;
    for (const Candidate& c : SegmentsByPrice(job)) {
      const Segment& seg = state_.segment(c.segment);
      if (seg.max_devices < per_worker || seg.total_devices < need) continue;
      out.push_back(c);
    }
    if (!key) {
      uncached_candidates_ = std::move(out);
      return uncached_candidates_;
    }
    return candidates_[*key] = std::move(out);
  }

  // A placement that failed in a segment fails again for as many or more workers of the same
  // shape until the segment gains capacity (only preemption does, within a round). The memo
  // turns the re-tries of a long queue of similar jobs into O(log) look-ups.
  struct ShapeKey {
    uint32_t segment;
    int devices;
    int64_t fraction, cpu, memory;
    bool excluded;
    auto operator<=>(const ShapeKey&) const = default;
  };
  ShapeKey KeyOf(const core::JobSpec& job, SegmentId s, bool excluded) const {
    return {s.value(),
            job.worker.devices,
            job.worker.fraction.value(),
            job.worker.cpu.value(),
            job.worker.memory.value(),
            excluded};
  }
  bool KnownToFail(const core::JobSpec& job, SegmentId s, bool excluded) const {
    auto it = failed_.find(KeyOf(job, s, excluded));
    return it != failed_.end() && job.workers >= it->second;
  }
  void RememberFailure(const core::JobSpec& job, SegmentId s, bool excluded) {
    auto [it, inserted] = failed_.emplace(KeyOf(job, s, excluded), job.workers);
    if (!inserted) it->second = std::min(it->second, job.workers);
  }
  void ForgetFailures(SegmentId s) {
    std::erase_if(failed_, [&](const auto& e) { return e.first.segment == s.value(); });
  }

  bool MayFitNow(const core::JobSpec& job, const Segment& seg) const {
    if (job.worker.fractional()) return seg.free_whole > 0 || !seg.partial.empty();
    return seg.free_whole >= NeedWhole(job);
  }

  // A time of this round's clock as a person reads it: "now" or "in 1h 40m". (Live, the clock is
  // the wall clock and the API also gives the time itself; in a simulation it is the trace's.)
  std::string When(Time t) const {
    return t <= now_ ? "now" : "in " + HumanSeconds((t - now_).value());
  }

  bool EndsBefore(const core::JobSpec& job, Time t) const {
    const auto runtime = job.ExpectedRuntime();
    return runtime && (now_ + *runtime) <= t;
  }

  void ComputeSizeWeights() {
    if (scheduler_.placement_policy().name() != "frag_aware") return;
    size_weights_.assign(static_cast<size_t>(state_.MaxDevicesPerNode()) + 1, 0.0);
    double total = 0;
    for (const QueuedJob& q : queue_) {
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
  }

  PlacementContext Context(bool excluded) const {
    PlacementContext c;
    c.excluded = excluded && reservation_ ? &reservation_->nodes : nullptr;
    c.size_weights = size_weights_.empty() ? nullptr : &size_weights_;
    return c;
  }

  std::optional<Allocation> TryPlace(const core::JobSpec& job, const Candidate& c, bool excluded) {
    ++decisions_.placement_attempts;
    return scheduler_.placement_policy().Place(job, c.segment, state_, Context(excluded));
  }

  std::string Where(const Allocation& alloc) const {
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

  void Bind(const core::JobSpec& job, Allocation alloc, std::string reason) {
    const auto runtime = job.ExpectedRuntime();
    bound_.push_back({&job, alloc, runtime ? now_ + *runtime : kNever});
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

  // Whether the next waiting job gets a decision of its own (PolicyConfig::wait_details).
  bool ExplainNextWait() {
    if (config_.wait_details >= 0 && waits_explained_ >= config_.wait_details) {
      ++decisions_.waits;
      return false;
    }
    ++waits_explained_;
    return true;
  }

  void Wait(const core::JobSpec& job, Outcome outcome, std::string reason,
            std::optional<Time> start = std::nullopt) {
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

  void ScheduleOne(const QueuedJob& queued) {
    const core::JobSpec& job = *queued.spec;
    const std::vector<Candidate>& all = Candidates(job);
    if (all.empty()) {
      Wait(job, Outcome::kInfeasible,
           fmt::format("infeasible: no cluster of {} holds {}", TypeList(pool_, job), Shape(job)));
      return;
    }
    // Admission by quota, per type.
    const core::Tenant& tenant = pool_.tenant(job.tenant);
    std::vector<Candidate> admitted;
    std::string quota_reason;
    bool any_type_possible = false;
    for (const Candidate& c : all) {
      const DeviceTypeId type = state_.segment(c.segment).type;
      const core::Quota& q = tenant.quota[type.value()];
      if (q.max < job.TotalShare()) {
        if (quota_reason.empty()) {
          quota_reason = fmt::format("tenant '{}' may hold at most {} {} and the job needs {}",
                                     tenant.name, Devices(q.max), pool_.catalog().Get(type).name,
                                     Devices(job.TotalShare()));
        }
        continue;
      }
      any_type_possible = true;
      const MilliDevices used = state_.TenantUsage(job.tenant, type);
      if (used + job.TotalShare() > q.max) {
        quota_reason = fmt::format("tenant '{}' holds {} of its max {} {} and the job needs {}",
                                   tenant.name, Devices(used), Devices(q.max),
                                   pool_.catalog().Get(type).name, Devices(job.TotalShare()));
        continue;
      }
      admitted.push_back(c);
    }
    if (!any_type_possible) {
      Wait(job, Outcome::kInfeasible, "infeasible under quota: " + quota_reason);
      return;
    }
    if (admitted.empty()) {
      if (ExplainNextWait())
        Wait(job, Outcome::kUnschedulable, "waiting for quota: " + quota_reason);
      return;
    }

    // Placement, cheapest segment first.
    bool blocked_by_reservation = false;
    for (const Candidate& c : admitted) {
      if (!MayFitNow(job, state_.segment(c.segment))) continue;
      const bool keep_off = reservation_ && !EndsBefore(job, reservation_->start);
      if (KnownToFail(job, c.segment, keep_off)) continue;
      if (auto alloc = TryPlace(job, c, keep_off)) {
        const bool backfilled = reservation_ && !keep_off && c.segment == reservation_->segment;
        std::string where = Where(*alloc);
        Bind(job, std::move(*alloc),
             (backfilled ? "backfilled (ends before the reservation): " : "placed: ") + where);
        return;
      }
      RememberFailure(job, c.segment, keep_off);
      if (keep_off && !KnownToFail(job, c.segment, false)) {
        const size_t mark = state_.Mark();
        if (TryPlace(job, c, false)) {
          blocked_by_reservation = true;
        } else {
          RememberFailure(job, c.segment, false);
        }
        state_.Rollback(mark);
      }
    }
    if (config_.preemption && TryPreempt(queued, admitted)) return;

    if (blocked_by_reservation) {
      if (!ExplainNextWait()) return;
      Wait(job, Outcome::kWait,
           fmt::format("waiting behind the reservation of job {}, which starts {}: starting now "
                       "would delay it",
                       reservation_->job.value(), When(reservation_->start)),
           reservation_->start);
      return;
    }
    // EASY backfill: the first job that is blocked for capacity gets the round's one
    // reservation attempt.
    const bool try_reserve = config_.backfill && !config_.blocking && !reservation_attempted_;
    if (!try_reserve && estimates_left_ == 0 && !ExplainNextWait()) return;
    const std::string& capacity = CapacityReason(job, admitted);
    if (try_reserve) {
      reservation_attempted_ = true;
      if (auto start = EarliestStart(job, admitted, /*keep=*/true)) {
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
        reservation_ = std::move(r);
        return;
      }
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

  // Earliest starts of the waiting jobs queued for one, in queue order.
  void EstimateWaiting() {
    for (Estimate& e : estimates_) {
      if (auto s = EarliestStart(*e.job, e.candidates, /*keep=*/false)) {
        Decision& d = decisions_.items[e.decision];
        d.earliest_start = s->first;
        d.outcome = Outcome::kWait;
      }
    }
  }

  // Cached per (shape, types) within the round: formatting a reason for each of thousands of
  // waiting jobs would cost more than deciding about them.
  const std::string& CapacityReason(const core::JobSpec& job, const std::vector<Candidate>& cands) {
    std::vector<int64_t> key = {job.workers, job.worker.devices, job.worker.fraction.value()};
    for (DeviceTypeId t : job.worker.types) key.push_back(t.value());
    auto it = capacity_reasons_.find(key);
    if (it != capacity_reasons_.end()) return it->second;
    return capacity_reasons_[key] = FormatCapacityReason(job, cands);
  }

  std::string FormatCapacityReason(const core::JobSpec& job,
                                   const std::vector<Candidate>& cands) const {
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
    return fmt::format(
        "waiting for capacity: needs {} of {} in one cluster; most free is {} {} "
        "in {}",
        Shape(job), TypeList(pool_, job), best_free, pool_.catalog().Get(seg.type).name,
        pool_.cluster(seg.cluster).name);
  }

  // The earliest time the job could start, and where, if running jobs end when expected:
  // per candidate segment (a job lives in one), release its running jobs in order of expected
  // end (on the undo log) until the job fits; the earliest segment wins, the cheapest on ties.
  // O(k x (release + placement)) for the k releases needed, from the segment's end index.
  //
  // A segment's answer depends only on the segment (its version), the job and the round's time,
  // so it is kept across rounds (ClusterState::EarliestStartMemo): the blocked head is usually
  // the same job round after round, and most rounds change none of its segments. A kept answer
  // is reused exactly when recomputing it would give the same (see MemoValid). Only the
  // reservation's answers are kept (`keep`): the estimates for other waiting jobs (a what-if
  // asks for one per queued job) are made after the round's binds, on versions no later round
  // sees, and would only crowd the memo.
  std::optional<std::pair<Time, Allocation>> EarliestStart(const core::JobSpec& job,
                                                           const std::vector<Candidate>& cands,
                                                           bool keep) {
    std::optional<std::pair<Time, Allocation>> best;
    // frag_aware weighs placements by the queue's sizes, which a segment version does not cover.
    const bool memo = size_weights_.empty();
    auto& entries = state_.earliest_start_memo().entries;
    if (memo && entries.size() > kMemoLimit) entries.clear();
    for (const Candidate& c : cands) {
      using Kind = ClusterState::EarliestStartMemo::Kind;
      const uint64_t key = (job.id.value() << 20) ^ c.segment.value();
      const uint64_t version = state_.SegmentVersion(c.segment);
      if (memo) {
        auto it = entries.find(key);
        if (it != entries.end() && MemoValid(it->second, job, version)) {
          const auto& e = it->second;
          if (e.kind == Kind::kFound && (!best || e.t < best->first))
            best.emplace(e.t, e.allocation);
          if (e.kind != Kind::kNotBefore || (best && best->first <= e.t)) continue;
        }
      }
      ClusterState::EarliestStartMemo::Entry e;
      e.spec = &job;
      e.placement = &scheduler_.placement_policy();
      e.version = version;
      e.computed_at = now_;
      e.kind = Kind::kExhausted;
      const int64_t cutoff = best ? best->first.value() : std::numeric_limits<int64_t>::max();
      if (auto found = SegmentEarliestStart(job, c, cutoff, e)) best = std::move(found);
      if (memo && keep) entries[key] = std::move(e);
    }
    return best;
  }

  // Whether a kept answer for the job in a segment is what recomputing it now would give: same
  // job and segment contents, and a time that does not change the trials. Trials are made at the
  // distinct expected ends, those already past merged into one at `now`; as time goes on, more
  // of the early trials merge into one that equals a trial made before (one that failed), so an
  // answer stays right while its time is still ahead. Exhausted (no fit even with every job
  // gone) holds at any later time.
  bool MemoValid(const ClusterState::EarliestStartMemo::Entry& e, const core::JobSpec& job,
                 uint64_t version) const {
    using Kind = ClusterState::EarliestStartMemo::Kind;
    if (e.spec != &job || e.placement != &scheduler_.placement_policy() || e.version != version ||
        now_ < e.computed_at) {
      return false;
    }
    return now_ == e.computed_at || e.kind == Kind::kExhausted || e.t > now_;
  }

  // One segment's part of EarliestStart: the start (and placement) if one is found before
  // `cutoff` (seconds); records in `memo` what was learnt (found, exhausted, or nothing before a
  // time).
  std::optional<std::pair<Time, Allocation>> SegmentEarliestStart(
      const core::JobSpec& job, const Candidate& c, int64_t cutoff,
      ClusterState::EarliestStartMemo::Entry& memo) {
    using Kind = ClusterState::EarliestStartMemo::Kind;
    std::optional<std::pair<Time, Allocation>> found;
    // Jobs placed in this round end too; merge them with the segment's index.
    std::vector<std::pair<int64_t, const Bound*>> round;
    for (const Bound& b : bound_) {
      if (b.expected_end != kNever && b.allocation.segment == c.segment) {
        round.push_back({b.expected_end.value(), &b});
      }
    }
    std::sort(round.begin(), round.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second->spec->id < b.second->spec->id;
    });
    const auto& ending = state_.EndingIn(c.segment);
    auto it = ending.begin();
    size_t ri = 0;
    const size_t mark = state_.Mark();
    while (it != ending.end() || ri < round.size()) {
      const bool from_round =
          it == ending.end() || (ri < round.size() && round[ri].first < it->first);
      const int64_t end = std::max(from_round ? round[ri].first : it->first, now_.value());
      if (end >= cutoff) {  // cannot beat a start found elsewhere
        memo.kind = Kind::kNotBefore;
        memo.t = Time(end);
        break;
      }
      if (from_round) {
        state_.GiveBorrowed(round[ri].second->spec->tenant, round[ri].second->allocation);
        ++ri;
      } else {
        const uint64_t id = it->second;
        ++it;
        // A victim preempted in this round has given its devices back already: nothing to
        // release, but the trial at this end must still happen.
        if (!preempted_.count(id)) {
          const RunningJob* r = state_.FindRunning(JobId(id));
          state_.GiveBorrowed(r->spec->tenant, r->allocation);
        }
      }
      const bool more_at_same_end =
          (it != ending.end() && std::max(it->first, now_.value()) == end) ||
          (ri < round.size() && std::max(round[ri].first, now_.value()) == end);
      if (more_at_same_end || !MayFitNow(job, state_.segment(c.segment))) continue;
      if (auto alloc = TryPlace(job, c, false)) {
        memo.kind = Kind::kFound;
        memo.t = Time(end);
        memo.allocation = *alloc;
        found.emplace(Time(end), std::move(*alloc));
        break;
      }
    }
    state_.Rollback(mark);
    return found;
  }

  // The worst (largest) preemption rank among a segment's running preemptible jobs, computed
  // once a round (ranks of running jobs do not change within it). O(R) the first time.
  int64_t MaxRank(SegmentId s) {
    if (max_rank_.empty()) {
      max_rank_.assign(state_.segments().size(), std::numeric_limits<int64_t>::min());
      const QueuePolicy& qp = scheduler_.queue_policy();
      for (size_t seg = 0; seg < max_rank_.size(); ++seg) {
        for (const auto& [priority, id] :
             state_.PreemptibleIn(SegmentId(static_cast<uint32_t>(seg)))) {
          const RunningJob* r = state_.FindRunning(JobId(id));
          if (auto rank = qp.PreemptionRank(*r->spec, r->attained_service, config_)) {
            max_rank_[seg] = std::max(max_rank_[seg], *rank);
          }
        }
      }
    }
    return max_rank_[s.value()];
  }

  bool TryPreempt(const QueuedJob& queued, const std::vector<Candidate>& cands) {
    const core::JobSpec& job = *queued.spec;
    const QueuePolicy& qp = scheduler_.queue_policy();
    const std::optional<int64_t> my_rank = qp.PreemptionRank(job, queued.attained_service, config_);
    // O(candidates): is there any possible victim at all? The lowest class of each segment's
    // preemptible jobs is the first entry of its index.
    bool any = false;
    for (const Candidate& c : cands) {
      const auto& victims = state_.PreemptibleIn(c.segment);
      if (victims.empty()) continue;
      const DeviceTypeId type = state_.segment(c.segment).type;
      if (victims.begin()->first < job.priority || (my_rank && MaxRank(c.segment) > *my_rank) ||
          state_.TenantUsage(job.tenant, type) + job.TotalShare() <=
              pool_.tenant(job.tenant).quota[type.value()].guaranteed) {
        any = true;
        break;
      }
    }
    if (!any) return false;
    std::unordered_map<uint32_t, std::vector<const RunningJob*>> victims_by_segment;
    auto within_guarantee = [&](DeviceTypeId type) {
      return state_.TenantUsage(job.tenant, type) + job.TotalShare() <=
             pool_.tenant(job.tenant).quota[type.value()].guaranteed;
    };
    auto over_guarantee = [&](const RunningJob& r, DeviceTypeId type) {
      return state_.TenantUsage(r.spec->tenant, type) >
             pool_.tenant(r.spec->tenant).quota[type.value()].guaranteed;
    };
    for (const Candidate& c : cands) {
      const DeviceTypeId type = state_.segment(c.segment).type;
      const bool may_reclaim = within_guarantee(type);
      // Lists are sorted by priority: unless a reclaim or a rank can make a victim of an equal
      // or higher class, the scan stops at the first job of the newcomer's class.
      for (const auto& [priority, id] : state_.PreemptibleIn(c.segment)) {
        const RunningJob* r = state_.FindRunning(JobId(id));
        const core::JobSpec& v = *r->spec;
        if (!may_reclaim &&
            (v.priority > job.priority || (!my_rank && v.priority == job.priority))) {
          break;
        }
        if (preempted_.count(v.id.value())) continue;
        bool may = v.priority < job.priority;
        if (!may && may_reclaim && v.tenant != job.tenant && over_guarantee(*r, type)) may = true;
        if (!may && my_rank && v.priority == job.priority) {
          const auto their = qp.PreemptionRank(v, r->attained_service, config_);
          may = their && *their > *my_rank;
        }
        if (may) victims_by_segment[c.segment.value()].push_back(r);
      }
    }
    if (victims_by_segment.empty()) return false;

    struct Option {
      const Candidate* candidate;
      std::vector<const RunningJob*> victims;
      int64_t cost;
    };
    std::optional<Option> best;
    for (const Candidate& c : cands) {
      auto it = victims_by_segment.find(c.segment.value());
      if (it == victims_by_segment.end()) continue;
      std::vector<const RunningJob*>& victims = it->second;
      const DeviceTypeId type = state_.segment(c.segment).type;
      std::vector<std::tuple<int, int, int64_t, int64_t, uint64_t, const RunningJob*>> keyed;
      for (const RunningJob* r : victims) {
        keyed.emplace_back(over_guarantee(*r, type) ? 0 : 1, r->spec->priority,
                           PreemptionCost(*r, now_), -r->start.value(), r->spec->id.value(), r);
      }
      std::sort(keyed.begin(), keyed.end());
      const size_t mark = state_.Mark();
      std::vector<const RunningJob*> chosen;
      bool fits = false;
      for (const auto& k : keyed) {
        const RunningJob* r = std::get<5>(k);
        state_.GiveBorrowed(r->spec->tenant, r->allocation);
        chosen.push_back(r);
        if (!MayFitNow(job, state_.segment(c.segment))) continue;
        const size_t inner = state_.Mark();
        fits = TryPlace(job, c, reservation_ && !EndsBefore(job, reservation_->start)).has_value();
        state_.Rollback(inner);
        if (fits) break;
      }
      state_.Rollback(mark);
      if (!fits) continue;
      // Trim: give back any victim the job does not need, most costly first.
      if (chosen.size() <= 32) {
        for (size_t i = chosen.size(); i-- > 0;) {
          std::vector<const RunningJob*> without = chosen;
          without.erase(without.begin() + static_cast<std::ptrdiff_t>(i));
          for (const RunningJob* r : without) state_.GiveBorrowed(r->spec->tenant, r->allocation);
          const bool still =
              MayFitNow(job, state_.segment(c.segment)) &&
              TryPlace(job, c, reservation_ && !EndsBefore(job, reservation_->start)).has_value();
          state_.Rollback(mark);
          if (still) chosen = std::move(without);
        }
      }
      int64_t cost = 0;
      for (const RunningJob* r : chosen) cost += PreemptionCost(*r, now_);
      if (!best || chosen.size() < best->victims.size() ||
          (chosen.size() == best->victims.size() && cost < best->cost)) {
        best = Option{&c, std::move(chosen), cost};
      }
    }
    if (!best) return false;

    const DeviceTypeId type = state_.segment(best->candidate->segment).type;
    for (const RunningJob* r : best->victims) {
      const core::JobSpec& v = *r->spec;
      std::string why;
      if (v.priority < job.priority) {
        why = fmt::format("priority {} < {}", v.priority, job.priority);
      } else if (v.tenant != job.tenant && over_guarantee(*r, type)) {
        why = fmt::format(
            "tenant '{}' borrows beyond its guaranteed {} and tenant '{}' claims its "
            "guarantee",
            pool_.tenant(v.tenant).name, pool_.catalog().Get(type).name,
            pool_.tenant(job.tenant).name);
      } else {
        why = "it has attained more service (2D-LAS queue)";
      }
      Decision d;
      d.kind = DecisionKind::kPreempt;
      d.outcome = Outcome::kWait;
      d.job = v.id;
      d.for_job = job.id;
      d.reason = fmt::format("preempted for job {}: {}", job.id.value(), why);
      decisions_.items.push_back(std::move(d));
      ++decisions_.preemptions;
      preempted_.insert(v.id.value());
      state_.GiveBorrowed(v.tenant, r->allocation);
      ForgetFailures(r->allocation.segment);
    }
    auto alloc =
        TryPlace(job, *best->candidate, reservation_ && !EndsBefore(job, reservation_->start));
    SP_CHECK(alloc.has_value()) << "placement after preemption must repeat";
    std::string where = Where(*alloc);
    Bind(job, std::move(*alloc),
         fmt::format("placed after preempting {} job{}: {}", best->victims.size(),
                     best->victims.size() == 1 ? "" : "s", where));
    return true;
  }

  static constexpr size_t kMemoLimit = 1 << 16;  // entries; cleared beyond (finished jobs' stay)

  const Scheduler& scheduler_;
  const PolicyConfig& config_;
  ClusterState& state_;
  const core::Pool& pool_;
  const std::vector<QueuedJob>& queue_;
  const Time now_;
  const UsageHistory* history_;
  Decisions decisions_;
  std::optional<Reservation> reservation_;
  std::vector<Bound> bound_;
  std::unordered_set<uint64_t> preempted_;  // lookups only
  std::vector<double> size_weights_;
  int estimates_left_ = 0;
  struct Estimate {
    size_t decision;
    const core::JobSpec* job;
    std::vector<Candidate> candidates;
  };
  std::vector<Estimate> estimates_;
  std::map<ShapeKey, int> failed_;  // ShapeKey -> fewest workers that failed
  std::map<std::vector<int64_t>, std::string> capacity_reasons_;
  std::unordered_map<uint64_t, std::vector<Candidate>> by_types_;  // look-ups only
  std::vector<Candidate> uncached_;
  std::map<std::tuple<uint64_t, int, int64_t>, std::vector<Candidate>> candidates_;
  std::vector<Candidate> uncached_candidates_;
  int64_t waits_explained_ = 0;
  bool reservation_attempted_ = false;
  std::optional<JobId> blocked_;
  std::vector<int64_t> max_rank_;  // by segment, see MaxRank()  // head-of-line blocking: the job
                                   // everything waits behind
};

}  // namespace

Decisions Scheduler::Schedule(ClusterState& state, const std::vector<QueuedJob>& queue, Time now,
                              const UsageHistory* history) const {
  return Round(*this, state, queue, now, history).Run();
}

bool BlockedByQuota(const ClusterState& state, const core::JobSpec& job) {
  const core::Tenant& tenant = state.pool().tenant(job.tenant);
  bool possible = false;
  for (DeviceTypeId type : job.worker.types) {
    const core::Quota& q = tenant.quota[type.value()];
    if (q.max < job.TotalShare()) continue;
    possible = true;
    if (state.TenantUsage(job.tenant, type) + job.TotalShare() <= q.max) return false;
  }
  return possible;
}

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

}  // namespace suanpan::sched
