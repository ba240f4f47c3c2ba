#pragma once
// admission/funds: a job waits while its tenant cannot pay for it (issue 14: budget caps at
// admission). It runs after the quota step in every round, in the live server and in the
// simulator alike, for tenants whose funds are limited (a credit limit, a monthly budget or a
// hard limit; core::TenantFunds).
//
// The estimate of a job on a candidate segment is its devices x its expected runtime (the
// estimate, else the runtime limit, else one hour) x the segment's price, rated by the one rule
// (core::RateRun). What the tenant can pay is core::Payable: the vouchers that cover the
// segment's provider and type (within their caps), the balance and the credit room, at most the
// budget left, less what its running jobs are estimated to still cost and what jobs bound
// earlier in the round are estimated to cost.
//   tenant: balance 312.50, no vouchers, credit limit 0; job: 8 H100 x 10 h estimate at
//   22.75 yuan/h = 1,820.00 -> waits: "waiting for funds: needs ~1,820.00 yuan, 312.50 left".
// A job no segment's estimate is payable on waits (Unschedulable: a top-up, a voucher or a job's
// end changes it); none is ever rejected for money.

#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "sched/round.h"

namespace suanpan::sched {

// The one estimate: share x (expected runtime, else 1 h) x price, rated to the fen.
MicroYuan EstimatedCost(const core::JobSpec& job, int64_t price_per_device_hour);

struct FundsVerdict {
  std::vector<Candidate> affordable;  // in the order given
  std::string reason;                 // when none is
};

// What a running job is estimated to cost this month and is not booked yet: its share at its
// frozen price from max(start, the month's start) to its expected end (start + expected runtime,
// else 1 h; at least now), rated by the one rule. The live server and the simulator take it off
// what a tenant can pay (core::TenantFunds::committed).
MicroYuan CommittedCost(MicroYuan price, MilliDevices share, std::optional<Seconds> expected,
                        int64_t started_ms, int64_t now_ms);

// O(candidates x vouchers).
FundsVerdict CheckFunds(const ClusterState& state, const core::JobSpec& job,
                        const std::vector<Candidate>& candidates, const FundsInput& funds,
                        MicroYuan spent_in_round);

// The price of a segment for funds: the live price when given, else the candidate's.
int64_t FundsPrice(const FundsInput& funds, const Candidate& c);

}  // namespace suanpan::sched
