#include "sim/engine/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <queue>
#include <random>
#include <set>

#include "sched/admission/funds.h"
#include "sched/host/host.h"

namespace suanpan::sim {
namespace {

using core::DeviceTypeId;
using core::NodeId;

enum class EventKind : uint8_t { kFinish, kFailure };

struct Event {
  int64_t t;
  uint64_t seq;
  EventKind kind;
  uint32_t job;      // kFinish; kFailure: node
  uint32_t attempt;  // stale events (an earlier attempt) are ignored
  bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

constexpr int64_t kWhole = 1'000'000'000'000;

enum class Phase : uint8_t { kNotArrived, kQueued, kRunning, kDone };

// The runtime model's view of a job: how much of its work is kept, what this attempt needs.
struct JobRun {
  Phase phase = Phase::kNotArrived;
  uint32_t attempt = 0;
  // Share of the job's work still to do, in units of 1/kWhole: exact integers, so that a job
  // preempted after w of its d seconds has exactly d - w left on the same type (whatever the
  // number of preemptions, while d x preemptions < kWhole).
  int64_t left = kWhole;
  Time queued_since = Time(0);
  int64_t restore = 0;    // seconds this attempt spends restoring before it works
  int64_t work_time = 0;  // seconds of work this attempt needs after restoring
  int64_t booked_ms = 0;  // with funds: this run is charged up to here (months that ended)
};

class Engine {
 public:
  Engine(const core::Pool& pool, const std::vector<SimJob>& jobs, const SimConfig& config,
         sched::Scheduler scheduler, const Progress& progress)
      : pool_(pool),
        jobs_(jobs),
        config_(config),
        progress_(progress),
        host_(pool, std::move(scheduler)),
        runs_(jobs.size()),
        rng_(config.seed) {
    result_.jobs.resize(jobs.size());
    order_.resize(jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      order_[i] = static_cast<uint32_t>(i);
      result_.jobs[i].submit = jobs[i].spec.submit_time;
    }
    std::stable_sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
      return jobs[a].spec.submit_time < jobs[b].spec.submit_time;
    });
    if (config.model.device_mtbf.value() > 0) ScheduleFailures();
    external_ = config.events;
    std::stable_sort(external_.begin(), external_.end(),
                     [](const ExternalEvent& a, const ExternalEvent& b) { return a.t < b.t; });
    if (config.funds) {
      result_.with_funds = true;
      SetUpMoney(*config.funds);
    }
  }

  SimResult Run() {
    size_t next_arrival = 0;
    std::optional<Time> stop;  // --until cut the run
    while (true) {
      if (Stuck(next_arrival)) {
        stop = Time(last_activity_);
        break;
      }
      int64_t t = std::numeric_limits<int64_t>::max();
      if (!events_.empty()) t = events_.top().t;
      if (next_arrival < order_.size()) {
        t = std::min(t, jobs_[order_[next_arrival]].spec.submit_time.value());
      }
      if (next_external_ < external_.size()) {
        t = std::min(t, external_[next_external_].t.value());
      }
      const std::optional<Time> due = host_.NextDue();
      if (due) t = std::min(t, due->value());
      const std::optional<int64_t> wake = NextWake();
      if (wake) t = std::min(t, *wake);
      if (t == std::numeric_limits<int64_t>::max()) break;
      if (config_.until && t > config_.until->value()) {
        stop = *config_.until;
        break;
      }
      now_ = Time(t);
      if (!money_.empty() && core::MonthOf(t * 1000) != month_) {
        // A month ended: the pieces of the runs that go on are charged in the month they ran,
        // as the live billing books them (before the month's vouchers expire).
        month_ = core::MonthOf(t * 1000);
        BookOpenRuns(month_.StartMs());
      }
      bool changed = due && *due <= now_;
      // A voucher that starts or a month that starts (a budget renews) may make a waiting job
      // payable.
      const bool woken = wake && *wake == t;
      while (next_wake_ < wakes_.size() && wakes_[next_wake_] <= t) ++next_wake_;
      // Everything due at this instant: finishes and failures first, then arrivals.
      while (!events_.empty() && events_.top().t == t) {
        Event e = events_.top();
        events_.pop();
        ++result_.events;
        changed |= Handle(e);
      }
      while (next_external_ < external_.size() && external_[next_external_].t.value() == t) {
        ++result_.events;
        changed |= HandleExternal(external_[next_external_++]);
      }
      while (next_arrival < order_.size() &&
             jobs_[order_[next_arrival]].spec.submit_time.value() == t) {
        Arrive(order_[next_arrival++]);
        ++result_.events;
        changed = true;
      }
      if (changed) last_activity_ = t;
      if (changed || woken) {
        const int64_t bound = binds_;
        ScheduleRound();
        if (binds_ != bound) last_activity_ = t;
        // A month's start at which nothing could start, with nothing running and nothing else
        // to come: every later month would be the same, the waiting jobs wait for good.
        stalled_ = woken && !changed && binds_ == bound && host_.state().running_count() == 0 &&
                   next_arrival == order_.size() && next_external_ == external_.size() &&
                   next_wake_ == wakes_.size();
      }
      Record();
      if (done_ == jobs_.size()) break;
    }
    result_.end = stuck_ ? *stop : now_;
    // Jobs still waiting waited until the clock stopped.
    for (size_t i = 0; i < runs_.size(); ++i) {
      if (runs_[i].phase == Phase::kQueued) {
        result_.jobs[i].queued_seconds += (stop.value_or(now_) - runs_[i].queued_since).value();
      }
    }
    for (const TenantMoney& m : money_) {
      for (size_t k = 0; k < m.vouchers.size(); ++k) {
        VoucherOutcome& v = result_.vouchers[m.voucher_index[k]];
        v.left = m.vouchers[k].valid_to_ms > stop.value_or(now_).value() * 1000
                     ? m.vouchers[k].remaining
                     : MicroYuan(0);
        v.drawn = v.granted - m.vouchers[k].remaining;
      }
    }
    return std::move(result_);
  }

 private:
  // A tenant's money during a simulation with funds.
  struct TenantMoney {
    std::vector<core::VoucherTerms> vouchers;
    std::vector<size_t> voucher_index;  // into result_.vouchers
    MicroYuan balance = MicroYuan(0);
    MicroYuan owed = MicroYuan(0);
    std::optional<MicroYuan> credit_limit;
    std::optional<MicroYuan> budget;
    core::Month month;               // of `spent`
    MicroYuan spent = MicroYuan(0);  // charged in `month`
  };

  void SetUpMoney(const core::OpeningFunds& funds) {
    money_.resize(pool_.tenants().size());
    for (const core::OpeningFunds::Account& a : funds.accounts) {
      TenantMoney& m = money_[a.tenant.value()];
      m.balance = a.balance;
      m.credit_limit = a.credit_limit;
      m.budget = a.monthly_budget;
      budgets_ = budgets_ || a.monthly_budget.has_value();
    }
    for (const core::OpeningFunds::Voucher& v : funds.vouchers) {
      TenantMoney& m = money_[v.tenant.value()];
      m.vouchers.push_back(v.terms);
      m.voucher_index.push_back(result_.vouchers.size());
      VoucherOutcome out;
      out.tenant = v.tenant;
      out.id = v.terms.id;
      out.granted = v.terms.remaining;
      out.left = v.terms.remaining;
      out.valid_to_ms = v.terms.valid_to_ms;
      result_.vouchers.push_back(out);
      // Its start matters to admission only for a tenant whose funds are limited.
      if (m.credit_limit || m.budget) wakes_.push_back((v.terms.valid_from_ms + 999) / 1000);
    }
    std::sort(wakes_.begin(), wakes_.end());
  }

  // With funds, jobs may wait for money that never comes: once nothing runs and nothing is left
  // to come but device failures (which change nothing then) and month starts that could not
  // help, the replay ends at the last instant anything happened.
  bool Stuck(size_t next_arrival) {
    if (money_.empty() || host_.state().running_count() > 0 || next_arrival < order_.size() ||
        next_external_ < external_.size() || next_wake_ < wakes_.size() || host_.NextDue() ||
        (budgets_ && !stalled_ && host_.queued_count() > 0)) {
      return false;
    }
    stuck_ = true;
    return true;
  }

  std::optional<int64_t> NextWake() const {
    std::optional<int64_t> w;
    if (next_wake_ < wakes_.size()) w = wakes_[next_wake_];
    if (budgets_ && !stalled_ && host_.queued_count() > 0) {
      const int64_t m = core::MonthOf(now_.value() * 1000).Next().StartMs() / 1000;
      w = w ? std::min(*w, m) : m;
    }
    return w;
  }

  // Device time, cost and (with funds) the charges of a run that ended.
  void Meter(uint32_t i, const sched::RunRecord& run) {
    JobOutcome& out = result_.jobs[i];
    const int64_t ran = (run.end - run.start).value();
    out.device_seconds += ran * run.share.value() / kMilliPerDevice;
    if (!run.price_per_device_hour) return;
    out.cost += CostOf(*run.price_per_device_hour, run.share, Seconds(ran));
    if (money_.empty()) return;
    // What months that ended while it ran have not booked already.
    Charge(i, run.tenant, *run.price_per_device_hour, run.share, run.provider, run.type,
           std::max(run.start.value() * 1000, runs_[i].booked_ms), run.end.value() * 1000);
    runs_[i].booked_ms = 0;
  }

  // A month ended at `month_start_ms`: the runs that go on are charged up to it.
  void BookOpenRuns(int64_t month_start_ms) {
    for (const sched::RunningJob* r : host_.state().Running()) {
      const uint32_t i = Index(r->spec->id);
      const sched::Segment& seg = host_.state().segment(r->allocation.segment);
      const auto& price = pool_.provider(seg.provider).price_per_device_hour[seg.type.value()];
      const int64_t from = std::max(r->start.value() * 1000, runs_[i].booked_ms);
      if (!price || month_start_ms <= from) continue;
      Charge(i, r->spec->tenant, *price, r->spec->TotalShare(), seg.provider, seg.type, from,
             month_start_ms);
      runs_[i].booked_ms = month_start_ms;
    }
  }

  // Charges [from_ms, to_ms) of a run of job i: one charge per calendar month, rated by the one
  // rule and drawn by the one draw rule, as the live billing books it.
  void Charge(uint32_t i, core::TenantId tenant, MicroYuan price, MilliDevices share,
              core::ProviderId provider, core::DeviceTypeId type, int64_t from_ms, int64_t to_ms) {
    JobOutcome& out = result_.jobs[i];
    TenantMoney& m = money_[tenant.value()];
    const core::Month current = core::MonthOf(now_.value() * 1000);
    if (m.month != current) {
      m.month = current;
      m.spent = MicroYuan(0);
    }
    for (core::Month mo = core::MonthOf(from_ms); mo.StartMs() < to_ms; mo = mo.Next()) {
      const int64_t from = std::max(from_ms, mo.StartMs()), to = std::min(to_ms, mo.EndMs());
      if (to <= from) continue;
      const MicroYuan amount = core::RateRun(price, share, to - from);
      const core::Draw d = core::DrawCharge(amount, to - 1, provider, type, m.vouchers, m.balance);
      for (const auto& [k, pay] : d.vouchers) {
        m.vouchers[k].remaining -= pay;
        out.voucher_paid += pay;
      }
      m.balance -= d.balance;
      m.owed += d.credit;
      out.balance_paid += d.balance;
      out.credit_paid += d.credit;
      out.charged += amount;
      if (mo == current) m.spent += amount;
    }
  }

  // What each tenant can pay now (admission/funds), as the control plane's RefreshFunds.
  void RefreshFunds() {
    const int64_t now_ms = now_.value() * 1000;
    const core::Month month = core::MonthOf(now_ms);
    sched::FundsInput in;
    in.now_ms = now_ms;
    in.tenants.resize(money_.size());
    bool any = false;
    for (size_t t = 0; t < money_.size(); ++t) {
      const TenantMoney& m = money_[t];
      core::TenantFunds& f = in.tenants[t];
      for (const core::VoucherTerms& v : m.vouchers) {
        if (v.remaining.value() > 0) f.vouchers.push_back(v);
      }
      f.balance = m.balance;
      if (m.credit_limit) f.credit_room = *m.credit_limit - m.owed;
      if (m.budget) f.budget_left = *m.budget - (m.month == month ? m.spent : MicroYuan(0));
      any = any || !f.unlimited();
    }
    if (!any) {
      host_.SetFunds(std::nullopt);
      return;
    }
    for (const sched::RunningJob* r : host_.state().Running()) {
      core::TenantFunds& f = in.tenants[r->spec->tenant.value()];
      if (f.unlimited()) continue;
      const sched::Segment& seg = host_.state().segment(r->allocation.segment);
      const auto& price = pool_.provider(seg.provider).price_per_device_hour[seg.type.value()];
      if (!price) continue;
      f.committed += sched::CommittedCost(*price, r->spec->TotalShare(), r->spec->ExpectedRuntime(),
                                          r->start.value() * 1000, now_ms);
    }
    host_.SetFunds(std::move(in));
  }

  static uint32_t Index(core::JobId id) { return static_cast<uint32_t>(id.value() - 1); }

  bool Handle(const Event& e) {
    switch (e.kind) {
      case EventKind::kFinish: {
        JobRun& r = runs_[e.job];
        if (r.phase != Phase::kRunning || r.attempt != e.attempt) return false;
        Stopped(e.job, host_.EndRun(jobs_[e.job].spec.id, now_, /*requeue=*/false),
                /*finished=*/true);
        return true;
      }
      case EventKind::kFailure:
        return FailNode(NodeId(e.job));
    }
    return false;
  }

  bool HandleExternal(const ExternalEvent& e) {
    switch (e.kind) {
      case ExternalEvent::Kind::kCancel:
        return Cancel(Index(e.job));
      case ExternalEvent::Kind::kNodeDown: {
        if (host_.Cordoned(e.node)) return false;
        for (core::JobId id : host_.JobsOn(e.node)) {
          Stopped(Index(id), host_.EndRun(id, now_, /*requeue=*/true), /*finished=*/false,
                  /*failed=*/true);
        }
        host_.Cordon(e.node, now_);
        return true;
      }
      case ExternalEvent::Kind::kNodeUp:
        if (!host_.Cordoned(e.node)) return false;
        host_.Uncordon(e.node);
        return true;
    }
    return false;
  }

  bool Cancel(uint32_t i) {
    if (i >= runs_.size()) return false;
    JobRun& r = runs_[i];
    JobOutcome& out = result_.jobs[i];
    const core::JobId id = jobs_[i].spec.id;
    switch (r.phase) {
      case Phase::kDone:
        return false;
      case Phase::kNotArrived:
        break;
      case Phase::kQueued:
        host_.Withdraw(id);
        out.queued_seconds += (now_ - r.queued_since).value();
        break;
      case Phase::kRunning: {
        Meter(i, host_.EndRun(id, now_, /*requeue=*/false));
        ++r.attempt;  // its finish event is stale now
        break;
      }
    }
    const bool arrived = r.phase != Phase::kNotArrived;
    r.phase = Phase::kDone;
    out.cancelled = true;
    ++done_;
    ReportProgress();
    return arrived;
  }

  void Arrive(uint32_t i) {
    JobRun& r = runs_[i];
    if (r.phase == Phase::kDone) return;  // cancelled before it arrived
    r.phase = Phase::kQueued;
    r.queued_since = now_;
    host_.Submit(jobs_[i].spec, now_);
  }

  // The consequences of a run that ended (the host has ended it): finished, or stopped
  // (preempted, failed) keeping the work up to its last checkpoint.
  void Stopped(uint32_t i, const sched::RunRecord& run, bool finished, bool failed = false) {
    JobRun& r = runs_[i];
    const core::JobSpec& spec = jobs_[i].spec;
    const int64_t ran = (run.end - run.start).value();
    JobOutcome& out = result_.jobs[i];
    Meter(i, run);
    ++r.attempt;
    if (finished) {
      r.phase = Phase::kDone;
      r.left = 0;
      out.finished = true;
      out.end = now_;
      ++done_;
      ReportProgress();
      return;
    }
    // Work done in this attempt, in seconds of work, kept up to the last checkpoint.
    int64_t worked = std::max<int64_t>(0, ran - r.restore);
    const int64_t c = spec.checkpoint_interval.value();
    worked = c > 0 ? worked / c * c : 0;
    if (r.work_time > 0) {
      // left x (work_time - worked) / work_time, rounded down.
      r.left = static_cast<int64_t>(static_cast<__int128>(r.left) *
                                    std::max<int64_t>(0, r.work_time - worked) / r.work_time);
    }
    r.phase = Phase::kQueued;
    r.queued_since = now_;
    if (failed) {
      ++out.failures;
      ++result_.failures;
    } else {
      ++out.preemptions;
      ++result_.preemptions;
    }
  }

  void Started(uint32_t i, const sched::Allocation& alloc) {
    JobRun& r = runs_[i];
    const core::JobSpec& spec = jobs_[i].spec;
    const sched::Segment& seg = host_.state().segment(alloc.segment);
    // Remaining work on this type, with the spread penalty of this placement.
    const int64_t full = jobs_[i].duration_by_type[seg.type.value()];
    std::set<uint32_t> nodes, switches;
    for (const auto& w : alloc.workers) {
      nodes.insert(w.node.value());
      switches.insert(pool_.node(w.node).leaf.value());
    }
    const int per_node = pool_.node(alloc.workers.front().node).shape.devices;
    const int64_t fewest =
        spec.worker.fractional()
            ? 1
            : (int64_t{spec.workers} * spec.worker.devices + per_node - 1) / per_node;
    const int64_t extra = std::max<int64_t>(0, static_cast<int64_t>(nodes.size()) - fewest);
    const int64_t whole = WithPenalty(full, extra, switches.size() > 1, config_.model);
    // left x whole / kWhole, rounded up.
    r.work_time =
        static_cast<int64_t>((static_cast<__int128>(r.left) * whole + kWhole - 1) / kWhole);
    r.restore = r.attempt > 0 ? spec.restore_cost.value() : 0;
    r.phase = Phase::kRunning;
    JobOutcome& out = result_.jobs[i];
    if (!out.first_start) out.first_start = now_;
    out.queued_seconds += (now_ - r.queued_since).value();
    ++out.attempts;
    out.type = seg.type;
    out.provider = seg.provider;
    Push(now_.value() + r.restore + r.work_time, EventKind::kFinish, i, r.attempt);
  }

  void ScheduleRound() {
    if (!money_.empty()) RefreshFunds();
    sched::Host::RoundResult round = host_.Round(now_);
    if (!round.ran) return;
    ++result_.rounds;
    if (config_.on_round) config_.on_round(now_, round.decisions);
    // The host has applied them: victims' runs ended (in `preempted`), binds started.
    for (const sched::RunRecord& run : round.preempted) {
      Stopped(Index(run.job), run, /*finished=*/false);
    }
    for (const sched::Decision& x : round.decisions.items) {
      if (x.kind == sched::DecisionKind::kBind) {
        ++binds_;
        Started(Index(x.job), *x.allocation);
      } else if (x.kind == sched::DecisionKind::kReject) {
        runs_[Index(x.job)].phase = Phase::kDone;
        ++done_;
      }
    }
  }

  void Record() {
    const sched::ClusterState& state = host_.state();
    TimePoint p;
    p.t = now_;
    for (size_t t = 0; t < pool_.catalog().size(); ++t) {
      p.allocated_milli += state.AllocatedMilli(DeviceTypeId(static_cast<uint16_t>(t)));
    }
    p.queued = static_cast<int64_t>(host_.queued_count());
    p.running = static_cast<int64_t>(state.running_count());
    int64_t free = 0, on_partial = 0;
    for (const sched::Segment& s : state.segments()) {
      free += s.free_whole;
      on_partial +=
          s.free_whole - static_cast<int64_t>(s.buckets[s.max_devices].size()) * s.max_devices;
    }
    p.fragmentation = free > 0 ? static_cast<double>(on_partial) / static_cast<double>(free) : 0;
    if (!result_.timeline.empty() && result_.timeline.back().t == p.t) {
      result_.timeline.back() = p;
    } else {
      result_.timeline.push_back(p);
    }
  }

  void ScheduleFailures() {
    // One failure clock per node: exponential with mean MTBF / devices (any device failing).
    std::exponential_distribution<double> draw(1.0);
    for (uint32_t n = 0; n < pool_.nodes().size(); ++n) {
      const double mean =
          static_cast<double>(config_.model.device_mtbf.value()) / pool_.nodes()[n].shape.devices;
      const int64_t t = static_cast<int64_t>(std::ceil(draw(rng_) * mean));
      Push(t, EventKind::kFailure, n, 0);
    }
  }

  // A device of the node fails: every job on the node stops (gangs whole) and is requeued; the
  // node is back at once (a spare), and its next failure is drawn.
  bool FailNode(NodeId node) {
    const std::vector<core::JobId> victims = host_.JobsOn(node);
    for (core::JobId id : victims) {
      Stopped(Index(id), host_.EndRun(id, now_, /*requeue=*/true), /*finished=*/false,
              /*failed=*/true);
    }
    std::exponential_distribution<double> draw(1.0);
    const double mean =
        static_cast<double>(config_.model.device_mtbf.value()) / pool_.node(node).shape.devices;
    Push(now_.value() + std::max<int64_t>(1, static_cast<int64_t>(std::ceil(draw(rng_) * mean))),
         EventKind::kFailure, node.value(), 0);
    return !victims.empty();
  }

  void Push(int64_t t, EventKind kind, uint32_t job, uint32_t attempt) {
    events_.push(Event{t, seq_++, kind, job, attempt});
  }

  void ReportProgress() {
    if (!progress_) return;
    const size_t step = std::max<size_t>(1, jobs_.size() / 100);
    if (done_ % step == 0 || done_ == jobs_.size()) {
      progress_(static_cast<double>(done_) / static_cast<double>(jobs_.size()));
    }
  }

  const core::Pool& pool_;
  const std::vector<SimJob>& jobs_;
  const SimConfig& config_;
  const Progress& progress_;
  sched::Host host_;
  std::vector<JobRun> runs_;
  std::vector<uint32_t> order_;          // jobs by arrival
  std::vector<ExternalEvent> external_;  // by time
  size_t next_external_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t seq_ = 0;
  Time now_ = Time(0);
  size_t done_ = 0;
  std::mt19937_64 rng_;
  SimResult result_;
  // Money (config.funds): by tenant id; empty without funds.
  std::vector<TenantMoney> money_;
  bool budgets_ = false;        // some tenant has a monthly budget: months wake the scheduler
  std::vector<int64_t> wakes_;  // vouchers' starts, seconds, sorted
  size_t next_wake_ = 0;
  bool stalled_ = false;
  bool stuck_ = false;         // the replay ended because nothing could change any more
  int64_t last_activity_ = 0;  // the last instant with an event or a start
  core::Month month_;          // of the clock, for booking runs at month ends
  int64_t binds_ = 0;
};

}  // namespace

StatusOr<SimResult> Simulate(const core::Pool& pool, const std::vector<SimJob>& jobs,
                             const SimConfig& config, const Progress& progress) {
  SP_ASSIGN_OR_RETURN(sched::Scheduler scheduler, sched::Scheduler::Create(config.policy));
  for (size_t i = 0; i < jobs.size(); ++i) {
    const SimJob& j = jobs[i];
    if (j.spec.id.value() != i + 1) {
      return InvalidArgumentError(
          fmt::format("job {}: id must be its position + 1, got {}", i, j.spec.id.value()));
    }
    if (j.duration_by_type.size() != pool.catalog().size()) {
      return InvalidArgumentError(
          fmt::format("job {}: duration_by_type has {} entries, the pool "
                      "has {} device types",
                      j.spec.name, j.duration_by_type.size(), pool.catalog().size()));
    }
    Status valid = core::ValidateJob(j.spec, pool);
    if (!valid.ok()) return valid.WithPrefix(fmt::format("job {}", j.spec.name));
  }
  for (size_t i = 0; i < config.events.size(); ++i) {
    const ExternalEvent& e = config.events[i];
    if (e.kind == ExternalEvent::Kind::kCancel &&
        (e.job.value() == 0 || e.job.value() > jobs.size())) {
      return InvalidArgumentError(fmt::format("events[{}]: job {} is not one of the {} jobs", i,
                                              e.job.value(), jobs.size()));
    }
    if (e.kind != ExternalEvent::Kind::kCancel && e.node.value() >= pool.nodes().size()) {
      return InvalidArgumentError(fmt::format("events[{}]: node {} is not one of the {} nodes", i,
                                              e.node.value(), pool.nodes().size()));
    }
  }
  if (config.funds) {
    const size_t n = pool.tenants().size();
    for (size_t i = 0; i < config.funds->accounts.size(); ++i) {
      if (config.funds->accounts[i].tenant.value() >= n) {
        return InvalidArgumentError(
            fmt::format("funds.accounts[{}]: tenant {} is not one of the {} tenants", i,
                        config.funds->accounts[i].tenant.value(), n));
      }
    }
    for (size_t i = 0; i < config.funds->vouchers.size(); ++i) {
      if (config.funds->vouchers[i].tenant.value() >= n) {
        return InvalidArgumentError(
            fmt::format("funds.vouchers[{}]: tenant {} is not one of the {} tenants", i,
                        config.funds->vouchers[i].tenant.value(), n));
      }
    }
  }
  return Engine(pool, jobs, config, std::move(scheduler), progress).Run();
}

}  // namespace suanpan::sim
