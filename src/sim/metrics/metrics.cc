#include "sim/metrics/metrics.h"

#include <algorithm>
#include <map>

namespace suanpan::sim {

Distribution Describe(std::vector<int64_t> v) {
  Distribution d;
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  __int128 sum = 0;
  for (int64_t x : v) sum += x;
  d.mean = static_cast<double>(sum) / static_cast<double>(n);
  d.median = n % 2 ? static_cast<double>(v[n / 2])
                   : (static_cast<double>(v[n / 2 - 1]) + static_cast<double>(v[n / 2])) / 2;
  auto at = [&](int64_t permille) { return v[std::min(n - 1, n * permille / 1000)]; };
  d.p95 = at(950);
  d.p99 = at(990);
  d.max = v.back();
  return d;
}

Summary Summarize(const core::Pool& pool, const std::vector<SimJob>& jobs, const SimResult& result,
                  std::string policy) {
  Summary s;
  s.policy = std::move(policy);
  s.jobs = static_cast<int64_t>(jobs.size());
  s.preemptions = result.preemptions;
  s.failures = result.failures;
  s.rounds = result.rounds;
  s.events = result.events;
  s.with_funds = result.with_funds;
  std::vector<int64_t> jct, queueing;
  std::map<uint32_t, TenantSummary> tenants;
  std::map<uint32_t, std::pair<double, double>> sums;  // tenant -> (jct, slowdown) sums
  for (size_t i = 0; i < jobs.size(); ++i) {
    const JobOutcome& o = result.jobs[i];
    const core::JobSpec& spec = jobs[i].spec;
    TenantSummary& t = tenants[spec.tenant.value()];
    t.name = pool.tenant(spec.tenant).name;
    ++t.jobs;
    t.device_seconds += o.device_seconds;
    t.cost += o.cost;
    t.charged += o.charged;
    t.voucher_paid += o.voucher_paid;
    t.balance_paid += o.balance_paid;
    t.credit_paid += o.credit_paid;
    if (!o.finished) continue;
    ++s.finished;
    ++t.finished;
    const int64_t j = (o.end - o.submit).value();
    jct.push_back(j);
    queueing.push_back(o.queued_seconds);
    s.makespan = std::max(s.makespan, o.end.value());
    int64_t alone = 0;
    for (int64_t d : jobs[i].duration_by_type) {
      if (d > 0) alone = alone == 0 ? d : std::min(alone, d);
    }
    const double slowdown = alone > 0 ? static_cast<double>(j) / static_cast<double>(alone) : 1.0;
    s.mean_slowdown += slowdown;
    s.max_slowdown = std::max(s.max_slowdown, slowdown);
    sums[spec.tenant.value()].first += static_cast<double>(j);
    sums[spec.tenant.value()].second += slowdown;
  }
  s.unfinished = s.jobs - s.finished;
  s.jct = Describe(jct);
  s.queueing = Describe(queueing);
  if (s.finished > 0) s.mean_slowdown /= static_cast<double>(s.finished);

  double x = 0, x2 = 0;
  int64_t n = 0;
  for (auto& [id, t] : tenants) {
    if (t.finished > 0) {
      t.mean_jct = sums[id].first / static_cast<double>(t.finished);
      t.mean_slowdown = sums[id].second / static_cast<double>(t.finished);
      x += t.mean_slowdown;
      x2 += t.mean_slowdown * t.mean_slowdown;
      ++n;
    }
    s.tenants.push_back(t);
  }
  std::sort(s.tenants.begin(), s.tenants.end(),
            [](const TenantSummary& a, const TenantSummary& b) { return a.name < b.name; });
  s.jain_index = n > 0 && x2 > 0 ? x * x / (static_cast<double>(n) * x2) : 1.0;

  // Time-weighted means over [first point, makespan].
  const double capacity = static_cast<double>(pool.Totals().devices) * kMilliPerDevice;
  const int64_t horizon = std::max<int64_t>(s.makespan, 1);
  double util = 0, frag = 0;
  for (size_t k = 0; k < result.timeline.size(); ++k) {
    const TimePoint& p = result.timeline[k];
    const int64_t until = k + 1 < result.timeline.size()
                              ? std::min(result.timeline[k + 1].t.value(), horizon)
                              : horizon;
    const int64_t dt = std::max<int64_t>(0, until - std::min(p.t.value(), horizon));
    util += static_cast<double>(p.allocated_milli) / capacity * static_cast<double>(dt);
    frag += p.fragmentation * static_cast<double>(dt);
  }
  s.utilization = util / static_cast<double>(horizon);
  s.fragmentation = frag / static_cast<double>(horizon);
  return s;
}

}  // namespace suanpan::sim
