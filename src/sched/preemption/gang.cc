#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "sched/preemption/preemption.h"
#include "sched/scheduler.h"

namespace suanpan::sched {

int64_t PreemptionCost(const RunningJob& r, Time now) {
  const core::JobSpec& spec = *r.spec;
  const int64_t ran = std::max<int64_t>(0, (now - r.start).value());
  const int64_t lost =
      spec.checkpoint_interval.value() > 0 ? ran % spec.checkpoint_interval.value() : ran;
  return (lost + spec.restore_cost.value()) * spec.TotalShare().value() / kMilliPerDevice;
}

namespace {

// The worst (largest) preemption rank among a segment's running preemptible jobs, computed once
// a round (ranks of running jobs do not change within it). O(R) the first time.
int64_t MaxRank(const ClusterState& state, const Scheduler& scheduler, SegmentId s,
                std::vector<int64_t>& cache) {
  if (cache.empty()) {
    cache.assign(state.segments().size(), std::numeric_limits<int64_t>::min());
    const QueuePolicy& qp = scheduler.queue_policy();
    for (size_t seg = 0; seg < cache.size(); ++seg) {
      for (const auto& [priority, id] :
           state.PreemptibleIn(SegmentId(static_cast<uint32_t>(seg)))) {
        const RunningJob* r = state.FindRunning(JobId(id));
        if (auto rank = qp.PreemptionRank(*r->spec, r->attained_service, scheduler.config())) {
          cache[seg] = std::max(cache[seg], *rank);
        }
      }
    }
  }
  return cache[s.value()];
}

// Inside a tenant: a job of a project within its project's guarantee may reclaim what a sibling
// queue (another project, or the tenant's own jobs outside projects) holds beyond that queue's
// guarantee; the tenant's own queue is guaranteed what its projects' guarantees leave of the
// tenant's. core::Project.
MilliDevices QueueGuarantee(const core::Pool& pool, core::QueueId queue, DeviceTypeId type) {
  const core::TenantId t = pool.TenantOfQueue(queue);
  if (t.value() >= pool.tenants().size()) return MilliDevices(0);
  const core::Tenant& tenant = pool.tenant(t);
  if (const core::Project* p = pool.ProjectOf(queue)) return p->quota[type.value()].guaranteed;
  int64_t own = tenant.quota[type.value()].guaranteed.value();
  for (const core::Project& p : tenant.projects) {
    if (!p.retired) own -= p.quota[type.value()].guaranteed.value();
  }
  return MilliDevices(std::max<int64_t>(0, own));
}

bool WithinProjectGuarantee(const ClusterState& state, const core::JobSpec& job,
                            DeviceTypeId type) {
  if (!job.project) return false;
  const core::QueueId q = core::QueueOfJob(state.pool(), job);
  return state.QueueUsage(q, type) + job.TotalShare() <= QueueGuarantee(state.pool(), q, type);
}

bool QueueOverGuarantee(const ClusterState& state, const core::JobSpec& job, DeviceTypeId type) {
  const core::QueueId q = core::QueueOfJob(state.pool(), job);
  return state.QueueUsage(q, type) > QueueGuarantee(state.pool(), q, type);
}

class Gang final : public PreemptionPolicy {
 public:
  std::string_view name() const override { return "gang"; }

  bool MayPreempt(const ClusterState& state, const Scheduler& scheduler, const QueuedJob& queued,
                  const std::vector<Candidate>& cands,
                  std::vector<int64_t>& max_rank) const override {
    const core::JobSpec& job = *queued.spec;
    const core::Pool& pool = state.pool();
    const std::optional<int64_t> my_rank =
        scheduler.queue_policy().PreemptionRank(job, queued.attained_service, scheduler.config());
    // The lowest class of each segment's preemptible jobs is the first entry of its index.
    for (const Candidate& c : cands) {
      const auto& victims = state.PreemptibleIn(c.segment);
      if (victims.empty()) continue;
      const DeviceTypeId type = state.segment(c.segment).type;
      if (victims.begin()->first < job.priority ||
          (my_rank && MaxRank(state, scheduler, c.segment, max_rank) > *my_rank) ||
          state.TenantUsage(job.tenant, type) + job.TotalShare() <=
              pool.tenant(job.tenant).quota[type.value()].guaranteed ||
          WithinProjectGuarantee(state, job, type)) {
        return true;
      }
    }
    return false;
  }

  bool TryPreempt(Round& round, const QueuedJob& queued,
                  const std::vector<Candidate>& cands) const override {
    if (!MayPreempt(round.state(), round.scheduler(), queued, cands, round.max_rank_cache())) {
      return false;
    }
    const core::JobSpec& job = *queued.spec;
    ClusterState& state = round.state();
    const core::Pool& pool = round.pool();
    const QueuePolicy& qp = round.scheduler().queue_policy();
    const std::optional<int64_t> my_rank =
        qp.PreemptionRank(job, queued.attained_service, round.config());
    auto within_guarantee = [&](DeviceTypeId type) {
      return state.TenantUsage(job.tenant, type) + job.TotalShare() <=
             pool.tenant(job.tenant).quota[type.value()].guaranteed;
    };
    auto over_guarantee = [&](const RunningJob& r, DeviceTypeId type) {
      return state.TenantUsage(r.spec->tenant, type) >
             pool.tenant(r.spec->tenant).quota[type.value()].guaranteed;
    };
    // A sibling queue of the job's tenant borrowing beyond its guarantee, while the job's
    // project is within its own.
    auto sibling_over = [&](const RunningJob& r, DeviceTypeId type) {
      return r.spec->tenant == job.tenant &&
             core::QueueOfJob(pool, *r.spec) != core::QueueOfJob(pool, job) &&
             QueueOverGuarantee(state, *r.spec, type);
    };
    std::unordered_map<uint32_t, std::vector<const RunningJob*>> victims_by_segment;
    for (const Candidate& c : cands) {
      const DeviceTypeId type = state.segment(c.segment).type;
      const bool may_reclaim_in_tenant = WithinProjectGuarantee(state, job, type);
      const bool may_reclaim = within_guarantee(type) || may_reclaim_in_tenant;
      // Lists are sorted by priority: unless a reclaim or a rank can make a victim of an equal
      // or higher class, the scan stops at the first job of the newcomer's class.
      for (const auto& [priority, id] : state.PreemptibleIn(c.segment)) {
        const RunningJob* r = state.FindRunning(JobId(id));
        const core::JobSpec& v = *r->spec;
        if (!may_reclaim &&
            (v.priority > job.priority || (!my_rank && v.priority == job.priority))) {
          break;
        }
        if (round.Preempted(v.id)) continue;
        bool may = v.priority < job.priority;
        if (!may && within_guarantee(type) && v.tenant != job.tenant && over_guarantee(*r, type)) {
          may = true;
        }
        if (!may && may_reclaim_in_tenant && sibling_over(*r, type)) may = true;
        if (!may && my_rank && v.priority == job.priority) {
          const auto their = qp.PreemptionRank(v, r->attained_service, round.config());
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
    const bool keep_off = round.KeepsOff(job);
    for (const Candidate& c : cands) {
      auto it = victims_by_segment.find(c.segment.value());
      if (it == victims_by_segment.end()) continue;
      std::vector<const RunningJob*>& victims = it->second;
      const DeviceTypeId type = state.segment(c.segment).type;
      std::vector<std::tuple<int, int, int64_t, int64_t, uint64_t, const RunningJob*>> keyed;
      for (const RunningJob* r : victims) {
        keyed.emplace_back(over_guarantee(*r, type) || sibling_over(*r, type) ? 0 : 1,
                           r->spec->priority, PreemptionCost(*r, round.now()), -r->start.value(),
                           r->spec->id.value(), r);
      }
      std::sort(keyed.begin(), keyed.end());
      const size_t mark = state.Mark();
      std::vector<const RunningJob*> chosen;
      bool fits = false;
      for (const auto& k : keyed) {
        const RunningJob* r = std::get<5>(k);
        state.GiveBorrowed(core::QueueOfJob(state.pool(), *r->spec), r->allocation);
        chosen.push_back(r);
        if (!Round::MayFitNow(job, state.segment(c.segment))) continue;
        const size_t inner = state.Mark();
        fits = round.TryPlace(job, c.segment, keep_off).has_value();
        state.Rollback(inner);
        if (fits) break;
      }
      state.Rollback(mark);
      if (!fits) continue;
      // Trim: give back any victim the job does not need, most costly first.
      if (chosen.size() <= 32) {
        for (size_t i = chosen.size(); i-- > 0;) {
          std::vector<const RunningJob*> without = chosen;
          without.erase(without.begin() + static_cast<std::ptrdiff_t>(i));
          for (const RunningJob* r : without)
            state.GiveBorrowed(core::QueueOfJob(state.pool(), *r->spec), r->allocation);
          const bool still = Round::MayFitNow(job, state.segment(c.segment)) &&
                             round.TryPlace(job, c.segment, keep_off).has_value();
          state.Rollback(mark);
          if (still) chosen = std::move(without);
        }
      }
      int64_t cost = 0;
      for (const RunningJob* r : chosen) cost += PreemptionCost(*r, round.now());
      if (!best || chosen.size() < best->victims.size() ||
          (chosen.size() == best->victims.size() && cost < best->cost)) {
        best = Option{&c, std::move(chosen), cost};
      }
    }
    if (!best) return false;

    const DeviceTypeId type = state.segment(best->candidate->segment).type;
    for (const RunningJob* r : best->victims) {
      const core::JobSpec& v = *r->spec;
      std::string why;
      if (v.priority < job.priority) {
        why = fmt::format("priority {} < {}", v.priority, job.priority);
      } else if (v.tenant == job.tenant && sibling_over(*r, type)) {
        why = fmt::format(
            "'{}' borrows beyond its guaranteed {} inside tenant '{}' and project '{}' claims "
            "its guarantee",
            v.project ? pool.tenant(v.tenant).projects[v.project->value()].name
                      : "the tenant's own jobs",
            pool.catalog().Get(type).name, pool.tenant(job.tenant).name,
            pool.tenant(job.tenant).projects[job.project->value()].name);
      } else if (v.tenant != job.tenant && over_guarantee(*r, type)) {
        // Said to the victim's tenant: the claimant's tenant is not named (the control plane
        // logs who it was for the operator).
        why = fmt::format(
            "tenant '{}' borrows beyond its guaranteed {} and another tenant claims its "
            "guarantee",
            pool.tenant(v.tenant).name, pool.catalog().Get(type).name);
      } else {
        why = "it has attained more service (2D-LAS queue)";
      }
      round.Preempt(*r, job.id, fmt::format("preempted for job {}: {}", job.id.value(), why));
    }
    auto alloc = round.TryPlace(job, best->candidate->segment, keep_off);
    SP_CHECK(alloc.has_value()) << "placement after preemption must repeat";
    std::string where = round.Where(*alloc);
    round.Bind(queued, std::move(*alloc),
               fmt::format("placed after preempting {} job{}: {}", best->victims.size(),
                           best->victims.size() == 1 ? "" : "s", where));
    return true;
  }
};

class None final : public PreemptionPolicy {
 public:
  std::string_view name() const override { return "none"; }
  bool MayPreempt(const ClusterState&, const Scheduler&, const QueuedJob&,
                  const std::vector<Candidate>&, std::vector<int64_t>&) const override {
    return false;
  }
  bool TryPreempt(Round&, const QueuedJob&, const std::vector<Candidate>&) const override {
    return false;
  }
};

}  // namespace

const PreemptionPolicy& GangPreemption() {
  static const Gang policy;
  return policy;
}

const PreemptionPolicy& NoPreemption() {
  static const None policy;
  return policy;
}

}  // namespace suanpan::sched
