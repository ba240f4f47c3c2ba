#include <algorithm>
#include <limits>

#include "sched/backfill/backfill.h"
#include "sched/scheduler.h"

namespace suanpan::sched {
namespace {

constexpr size_t kMemoLimit = 1 << 16;  // entries; cleared beyond (finished jobs' stay)

class Easy final : public BackfillPolicy {
 public:
  std::string_view name() const override { return "easy"; }
  bool Reserves() const override { return true; }
};

class None final : public BackfillPolicy {
 public:
  std::string_view name() const override { return "none"; }
  bool Reserves() const override { return false; }
};

using Memo = ClusterState::EarliestStartMemo;

// Whether a kept answer for the job in a segment is what recomputing it now would give: same
// job and segment contents, and a time that does not change the trials. Trials are made at the
// distinct expected ends, those already past merged into one at `now`; as time goes on, more of
// the early trials merge into one that equals a trial made before (one that failed), so an
// answer stays right while its time is still ahead. Exhausted (no fit even with every job gone)
// holds at any later time.
bool MemoValid(const Round& round, const Memo::Entry& e, const core::JobSpec& job,
               uint64_t version) {
  if (e.spec != &job || e.placement != &round.scheduler().placement_policy() ||
      e.version != version || round.now() < e.computed_at) {
    return false;
  }
  return round.now() == e.computed_at || e.kind == Memo::Kind::kExhausted || e.t > round.now();
}

// One segment's part of EarliestStart: the start (and placement) if one is found before
// `cutoff` (seconds); records in `memo` what was learnt (found, exhausted, or nothing before a
// time).
std::optional<std::pair<Time, Allocation>> SegmentEarliestStart(Round& round,
                                                                const core::JobSpec& job,
                                                                const Candidate& c, int64_t cutoff,
                                                                Memo::Entry& memo) {
  ClusterState& state = round.state();
  const int64_t now = round.now().value();
  std::optional<std::pair<Time, Allocation>> found;
  // Jobs placed in this round end too; merge them with the segment's index.
  std::vector<std::pair<int64_t, const BoundJob*>> bound;
  for (const BoundJob& b : round.bound()) {
    if (b.expected_end != kNever && b.allocation.segment == c.segment) {
      bound.push_back({b.expected_end.value(), &b});
    }
  }
  std::sort(bound.begin(), bound.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->spec->id < b.second->spec->id;
  });
  const auto& ending = state.EndingIn(c.segment);
  auto it = ending.begin();
  size_t ri = 0;
  const size_t mark = state.Mark();
  while (it != ending.end() || ri < bound.size()) {
    const bool from_round =
        it == ending.end() || (ri < bound.size() && bound[ri].first < it->first);
    const int64_t end = std::max(from_round ? bound[ri].first : it->first, now);
    if (end >= cutoff) {  // cannot beat a start found elsewhere
      memo.kind = Memo::Kind::kNotBefore;
      memo.t = Time(end);
      break;
    }
    if (from_round) {
      state.GiveBorrowed(core::QueueOfJob(state.pool(), *bound[ri].second->spec),
                         bound[ri].second->allocation);
      ++ri;
    } else {
      const uint64_t id = it->second;
      ++it;
      // A victim preempted in this round has given its devices back already: nothing to
      // release, but the trial at this end must still happen.
      if (!round.Preempted(JobId(id))) {
        const RunningJob* r = state.FindRunning(JobId(id));
        state.GiveBorrowed(core::QueueOfJob(state.pool(), *r->spec), r->allocation);
      }
    }
    const bool more_at_same_end = (it != ending.end() && std::max(it->first, now) == end) ||
                                  (ri < bound.size() && std::max(bound[ri].first, now) == end);
    if (more_at_same_end || !Round::MayFitNow(job, state.segment(c.segment))) continue;
    if (auto alloc = round.TryPlace(job, c.segment, false)) {
      memo.kind = Memo::Kind::kFound;
      memo.t = Time(end);
      memo.allocation = *alloc;
      found.emplace(Time(end), std::move(*alloc));
      break;
    }
  }
  state.Rollback(mark);
  return found;
}

}  // namespace

const BackfillPolicy& EasyBackfill() {
  static const Easy policy;
  return policy;
}

const BackfillPolicy& NoBackfill() {
  static const None policy;
  return policy;
}

std::optional<std::pair<Time, Allocation>> EarliestStart(Round& round, const core::JobSpec& job,
                                                         const std::vector<Candidate>& cands,
                                                         bool keep) {
  std::optional<std::pair<Time, Allocation>> best;
  ClusterState& state = round.state();
  // A placement that weighs the queue's sizes depends on more than a segment's version.
  const bool memo = !round.scheduler().placement_policy().UsesSizeWeights();
  auto& entries = state.earliest_start_memo().entries;
  if (memo && entries.size() > kMemoLimit) entries.clear();
  for (const Candidate& c : cands) {
    const uint64_t key = (job.id.value() << 20) ^ c.segment.value();
    const uint64_t version = state.SegmentVersion(c.segment);
    if (memo) {
      auto it = entries.find(key);
      if (it != entries.end() && MemoValid(round, it->second, job, version)) {
        const auto& e = it->second;
        if (e.kind == Memo::Kind::kFound && (!best || e.t < best->first)) {
          best.emplace(e.t, e.allocation);
        }
        if (e.kind != Memo::Kind::kNotBefore || (best && best->first <= e.t)) continue;
      }
    }
    Memo::Entry e;
    e.spec = &job;
    e.placement = &round.scheduler().placement_policy();
    e.version = version;
    e.computed_at = round.now();
    e.kind = Memo::Kind::kExhausted;
    const int64_t cutoff = best ? best->first.value() : std::numeric_limits<int64_t>::max();
    if (auto found = SegmentEarliestStart(round, job, c, cutoff, e)) best = std::move(found);
    if (memo && keep) entries[key] = std::move(e);
  }
  return best;
}

}  // namespace suanpan::sched
