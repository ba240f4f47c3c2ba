#include "sim/engine/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <queue>
#include <random>
#include <set>

#include "sched/scheduler.h"

namespace suanpan::sim {
namespace {

using core::DeviceTypeId;
using core::NodeId;

enum class EventKind : uint8_t { kFinish, kServiceCheck, kFailure };

struct Event {
  int64_t t;
  uint64_t seq;
  EventKind kind;
  uint32_t job;      // kFinish, kServiceCheck; kFailure: node
  uint32_t attempt;  // stale events (an earlier attempt) are ignored
  bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

enum class Phase : uint8_t { kNotArrived, kQueued, kRunning, kDone };

struct JobRun {
  Phase phase = Phase::kNotArrived;
  uint32_t attempt = 0;
  double progress = 0.0;   // fraction of the job's work kept (checkpointed)
  Time started = Time(0);  // this attempt
  Time queued_since = Time(0);
  int64_t restore = 0;    // seconds this attempt spends restoring before it works
  int64_t work_time = 0;  // seconds of work this attempt needs after restoring
  int64_t attained = 0;   // device-seconds before this attempt (2D-LAS)
  int64_t executed = 0;   // wall seconds run before this attempt (srtf)
  int64_t share_milli = 0;
  DeviceTypeId type;
  MicroYuan price = MicroYuan(0);
};

class Engine {
 public:
  Engine(const core::Pool& pool, const std::vector<SimJob>& jobs, const SimConfig& config,
         const sched::Scheduler& scheduler, const Progress& progress)
      : pool_(pool),
        jobs_(jobs),
        config_(config),
        scheduler_(scheduler),
        progress_(progress),
        state_(pool),
        runs_(jobs.size()),
        rng_(config.seed) {
    result_.jobs.resize(jobs.size());
    order_.resize(jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) order_[i] = static_cast<uint32_t>(i);
    std::stable_sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
      return jobs[a].spec.submit_time < jobs[b].spec.submit_time;
    });
    is_las_ = scheduler.queue_policy().name() == "las";
    // Jobs their tenant's quota blocks are set aside until that tenant releases devices, as the
    // control plane does (sched::BlockedByQuota). Not under head-of-line blocking, where a blocked
    // job must stay at the head and hold everything behind it.
    park_ = !config.policy.blocking;
    parked_.resize(pool.tenants().size());
    if (config.model.device_mtbf.value() > 0) ScheduleFailures();
  }

  SimResult Run() {
    size_t next_arrival = 0;
    while (true) {
      int64_t t = std::numeric_limits<int64_t>::max();
      if (!events_.empty()) t = events_.top().t;
      if (next_arrival < order_.size()) {
        t = std::min(t, jobs_[order_[next_arrival]].spec.submit_time.value());
      }
      if (t == std::numeric_limits<int64_t>::max()) break;
      if (config_.until && t > config_.until->value()) break;
      now_ = Time(t);
      bool changed = false;
      // Everything due at this instant: finishes and checks first, then arrivals.
      while (!events_.empty() && events_.top().t == t) {
        Event e = events_.top();
        events_.pop();
        ++result_.events;
        changed |= Handle(e);
      }
      while (next_arrival < order_.size() &&
             jobs_[order_[next_arrival]].spec.submit_time.value() == t) {
        Arrive(order_[next_arrival++]);
        ++result_.events;
        changed = true;
      }
      if (changed) ScheduleRound();
      Record();
      if (done_ == jobs_.size()) break;
    }
    result_.end = now_;
    return std::move(result_);
  }

 private:
  bool Handle(const Event& e) {
    switch (e.kind) {
      case EventKind::kFinish: {
        JobRun& r = runs_[e.job];
        if (r.phase != Phase::kRunning || r.attempt != e.attempt) return false;
        Stop(e.job, /*finished=*/true);
        return true;
      }
      case EventKind::kServiceCheck: {
        const JobRun& r = runs_[e.job];
        return r.phase == Phase::kRunning && r.attempt == e.attempt;
      }
      case EventKind::kFailure:
        return FailNode(NodeId(e.job));
    }
    return false;
  }

  void Arrive(uint32_t i) {
    JobRun& r = runs_[i];
    r.phase = Phase::kQueued;
    r.queued_since = now_;
    result_.jobs[i].submit = jobs_[i].spec.submit_time;
    queue_.push_back(i);
  }

  // Ends the running attempt of job i: finished, or stopped (preempted, failed) keeping the
  // work up to its last checkpoint.
  void Stop(uint32_t i, bool finished, bool failed = false) {
    JobRun& r = runs_[i];
    const core::JobSpec& spec = jobs_[i].spec;
    const int64_t ran = (now_ - r.started).value();
    JobOutcome& out = result_.jobs[i];
    out.device_seconds += ran * r.share_milli / kMilliPerDevice;
    out.cost += CostOf(r.price, MilliDevices(r.share_milli), Seconds(ran));
    state_.Finish(spec.id);
    Unpark(spec.tenant);
    r.attained += ran * r.share_milli / kMilliPerDevice;
    r.executed += ran;
    ++r.attempt;
    if (finished) {
      r.phase = Phase::kDone;
      r.progress = 1.0;
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
      r.progress += (1.0 - r.progress) *
                    std::min(1.0, static_cast<double>(worked) / static_cast<double>(r.work_time));
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
    queue_.push_back(i);
  }

  void Start(uint32_t i, const sched::Allocation& alloc) {
    JobRun& r = runs_[i];
    const core::JobSpec& spec = jobs_[i].spec;
    const sched::Segment& seg = state_.segment(alloc.segment);
    r.type = seg.type;
    const auto& price = pool_.provider(seg.provider).price_per_device_hour[seg.type.value()];
    r.price = price ? *price : MicroYuan(0);
    r.share_milli = spec.TotalShare().value();
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
    r.work_time = static_cast<int64_t>(std::ceil((1.0 - r.progress) * static_cast<double>(whole)));
    r.restore = r.attempt > 0 ? spec.restore_cost.value() : 0;
    r.started = now_;
    r.phase = Phase::kRunning;
    JobOutcome& out = result_.jobs[i];
    if (!out.first_start) out.first_start = now_;
    out.queued_seconds += (now_ - r.queued_since).value();

    sched::RunningJob running;
    running.spec = &spec;
    running.allocation = alloc;
    running.start = now_;
    running.expected_end = now_ + Seconds(r.restore + r.work_time);
    running.attained_service = r.attained;
    state_.Start(std::move(running));
    Push(now_.value() + r.restore + r.work_time, EventKind::kFinish, i, r.attempt);
    if (is_las_) ScheduleServiceCheck(i);
  }

  // 2D-LAS: wake up when the running job's attained service crosses its next queue limit.
  void ScheduleServiceCheck(uint32_t i) {
    const JobRun& r = runs_[i];
    const int64_t devices = std::max<int64_t>(1, r.share_milli / kMilliPerDevice);
    for (int64_t limit : config_.policy.las_thresholds) {
      if (r.attained < limit) {
        const int64_t dt = (limit - r.attained + devices - 1) / devices;
        Push(now_.value() + dt, EventKind::kServiceCheck, i, r.attempt);
        return;
      }
    }
  }

  void Unpark(core::TenantId tenant) {
    std::vector<uint32_t>& p = parked_[tenant.value()];
    if (p.empty()) return;
    queue_.insert(queue_.end(), p.begin(), p.end());
    parked_count_ -= p.size();
    p.clear();
  }

  void ScheduleRound() {
    if (park_) {
      std::erase_if(queue_, [&](uint32_t i) {
        if (!sched::BlockedByQuota(state_, jobs_[i].spec)) return false;
        parked_[jobs_[i].spec.tenant.value()].push_back(i);
        ++parked_count_;
        return true;
      });
    }
    if (queue_.empty()) return;
    if (is_las_) {
      // Attained service of running jobs as of now, for preemption by service queue.
      for (const sched::RunningJob* rj : state_.Running()) {
        const uint32_t i = static_cast<uint32_t>(rj->spec->id.value() - 1);
        const JobRun& r = runs_[i];
        state_.FindRunning(rj->spec->id)->attained_service =
            r.attained + (now_ - r.started).value() * r.share_milli / kMilliPerDevice;
      }
    }
    std::vector<sched::QueuedJob> queue;
    queue.reserve(queue_.size());
    for (uint32_t i : queue_) {
      queue.push_back({&jobs_[i].spec, runs_[i].attained, Seconds(runs_[i].executed)});
    }
    sched::Decisions d = scheduler_.Schedule(state_, queue, now_);
    ++result_.rounds;
    // Preemptions first (they free devices), then starts, in decision order.
    bool started = false;
    for (const sched::Decision& x : d.items) {
      if (x.kind == sched::DecisionKind::kPreempt) {
        Stop(static_cast<uint32_t>(x.job.value() - 1), /*finished=*/false);
      } else if (x.kind == sched::DecisionKind::kBind) {
        Start(static_cast<uint32_t>(x.job.value() - 1), *x.allocation);
        started = true;
      } else if (x.kind == sched::DecisionKind::kReject) {
        const uint32_t i = static_cast<uint32_t>(x.job.value() - 1);
        runs_[i].phase = Phase::kDone;
        ++done_;
      }
    }
    if (started || d.rejects > 0) {
      std::erase_if(queue_, [&](uint32_t i) { return runs_[i].phase != Phase::kQueued; });
    }
  }

  void Record() {
    TimePoint p;
    p.t = now_;
    for (size_t t = 0; t < pool_.catalog().size(); ++t) {
      p.allocated_milli += state_.AllocatedMilli(DeviceTypeId(static_cast<uint16_t>(t)));
    }
    p.queued = static_cast<int64_t>(queue_.size() + parked_count_);
    p.running = static_cast<int64_t>(state_.running_count());
    int64_t free = 0, on_partial = 0;
    for (const sched::Segment& s : state_.segments()) {
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
    std::vector<uint32_t> victims;
    for (const sched::RunningJob* rj : state_.Running()) {
      for (const auto& w : rj->allocation.workers) {
        if (w.node == node) {
          victims.push_back(static_cast<uint32_t>(rj->spec->id.value() - 1));
          break;
        }
      }
    }
    for (uint32_t i : victims) Stop(i, /*finished=*/false, /*failed=*/true);
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
  const sched::Scheduler& scheduler_;
  const Progress& progress_;
  sched::ClusterState state_;
  std::vector<JobRun> runs_;
  std::vector<uint32_t> order_;  // jobs by arrival
  std::vector<uint32_t> queue_;  // queued jobs, in the order they joined
  bool park_ = true;
  std::vector<std::vector<uint32_t>> parked_;  // by tenant: queued, blocked by the quota
  size_t parked_count_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t seq_ = 0;
  Time now_ = Time(0);
  size_t done_ = 0;
  bool is_las_ = false;
  std::mt19937_64 rng_;
  SimResult result_;
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
  return Engine(pool, jobs, config, scheduler, progress).Run();
}

}  // namespace suanpan::sim
