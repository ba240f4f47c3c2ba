#include "sched/admission/funds.h"

#include <fmt/format.h>

#include <algorithm>

namespace suanpan::sched {

MicroYuan EstimatedCost(const core::JobSpec& job, int64_t price_per_device_hour) {
  const int64_t secs = job.ExpectedRuntime() ? job.ExpectedRuntime()->value() : 3600;
  return core::RateRun(MicroYuan(price_per_device_hour), job.TotalShare(), secs * 1000);
}

MicroYuan CommittedCost(MicroYuan price, MilliDevices share, std::optional<Seconds> expected,
                        int64_t started_ms, int64_t now_ms) {
  const int64_t end = std::max(now_ms, started_ms + (expected ? expected->value() : 3600) * 1000);
  const int64_t from = std::max(started_ms, core::MonthOf(now_ms).StartMs());
  return end > from ? core::RateRun(price, share, end - from) : MicroYuan(0);
}

int64_t FundsPrice(const FundsInput& funds, const Candidate& c) {
  if (c.segment.value() < funds.segment_price.size() &&
      funds.segment_price[c.segment.value()] >= 0) {
    return funds.segment_price[c.segment.value()];
  }
  return c.price;
}

FundsVerdict CheckFunds(const ClusterState& state, const core::JobSpec& job,
                        const std::vector<Candidate>& candidates, const FundsInput& funds,
                        MicroYuan spent_in_round) {
  FundsVerdict out;
  const core::TenantFunds& f = funds.tenants[job.tenant.value()];
  std::optional<std::pair<MicroYuan, MicroYuan>> cheapest;  // (needs, left) of the cheapest
  for (const Candidate& c : candidates) {
    const Segment& seg = state.segment(c.segment);
    const MicroYuan needs = EstimatedCost(job, FundsPrice(funds, c));
    const std::optional<MicroYuan> payable =
        core::Payable(f, needs, funds.now_ms, seg.provider, seg.type);
    if (!payable) {
      out.affordable.push_back(c);
      continue;
    }
    const MicroYuan left = *payable - spent_in_round;
    if (needs <= left) {
      out.affordable.push_back(c);
    } else if (!cheapest || needs < cheapest->first) {
      cheapest.emplace(needs, left);
    }
  }
  if (out.affordable.empty() && cheapest) {
    out.reason =
        fmt::format("waiting for funds: needs ~{} yuan, {} left", core::FormatYuan(cheapest->first),
                    core::FormatYuan(std::max(cheapest->second, MicroYuan(0))));
  }
  return out;
}

}  // namespace suanpan::sched
