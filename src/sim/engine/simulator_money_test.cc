// The simulator with money (SimConfig::funds): runs are rated and drawn by the live rules
// (core::RateRun, core::DrawCharge), and a job whose estimate cannot be paid waits for funds
// (sched/admission/funds) until a voucher starts or a month's budget renews.

#include <gtest/gtest.h>

#include "sim/engine/simulator.h"
#include "testing/builders.h"

namespace suanpan::sim {
namespace {

using core::OpeningFunds;
using testing::MakeJob;
using testing::TestPool;

constexpr int64_t kYuan = 1'000'000;

// One node of 8 H100 at 10.00 yuan per device-hour; tenants a and b.
core::Pool Pool() {
  return TestPool().Cluster("c", "H100", 1, 8, 32, 8, "p", 10.0).Tenant("a").Tenant("b").Build();
}

SimJob Job(const core::Pool& pool, uint64_t id, const std::string& tenant, int devices,
           int64_t submit, int64_t seconds) {
  SimJob j;
  j.spec = MakeJob(id)
               .Tenant(pool, tenant)
               .Devices(devices)
               .Types(pool, {"H100"})
               .Submit(submit)
               .Runtime(seconds);
  j.duration_by_type.assign(pool.catalog().size(), seconds);
  return j;
}

OpeningFunds::Voucher Voucher(const core::Pool& pool, const std::string& id, int64_t yuan,
                              int64_t from_s, int64_t to_s, int cap_permille = 1000) {
  OpeningFunds::Voucher v;
  v.tenant = *pool.FindTenant("a");
  v.terms.id = id;
  v.terms.remaining = MicroYuan(yuan * kYuan);
  v.terms.valid_from_ms = from_s * 1000;
  v.terms.valid_to_ms = to_s * 1000;
  v.terms.cap_permille = cap_permille;
  return v;
}

TEST(SimulatorMoney, ARunIsChargedAndPaidByVoucherThenBalanceThenCredit) {
  const core::Pool pool = Pool();
  // 2 H100 x 1 h x 10.00 = 20.00. The voucher pays at most half (10.00), the balance 5.00, the
  // rest (5.00) is owed: no credit limit, so nothing waits.
  SimConfig config;
  config.funds.emplace();
  config.funds->accounts.push_back({*pool.FindTenant("a"), MicroYuan(5 * kYuan), {}, {}});
  config.funds->vouchers.push_back(Voucher(pool, "half", 100, 0, 86'400, 500));
  auto r = Simulate(pool, {Job(pool, 1, "a", 2, 0, 3600)}, config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const JobOutcome& o = r->jobs[0];
  ASSERT_TRUE(o.finished);
  EXPECT_EQ(o.charged.value(), 20 * kYuan);
  EXPECT_EQ(o.voucher_paid.value(), 10 * kYuan);
  EXPECT_EQ(o.balance_paid.value(), 5 * kYuan);
  EXPECT_EQ(o.credit_paid.value(), 5 * kYuan);
  EXPECT_EQ(o.cost.value(), 20 * kYuan);  // the unrounded cost agrees here
  ASSERT_TRUE(r->with_funds);
  ASSERT_EQ(r->vouchers.size(), 1u);
  EXPECT_EQ(r->vouchers[0].drawn.value(), 10 * kYuan);
  EXPECT_EQ(r->vouchers[0].left.value(), 90 * kYuan);
}

TEST(SimulatorMoney, AJobWaitsForFundsUntilAVoucherStarts) {
  const core::Pool pool = Pool();
  // Tenant a: no balance, credit limit 0: it can pay only with the voucher, which starts at
  // 2 h. Its job (estimate 2 x 1 h x 10.00 = 20.00) waits until then; b's job runs at once.
  SimConfig config;
  config.funds.emplace();
  config.funds->accounts.push_back({*pool.FindTenant("a"), MicroYuan(0), MicroYuan(0), {}});
  config.funds->vouchers.push_back(Voucher(pool, "later", 30, 7200, 86'400));
  auto r = Simulate(pool, {Job(pool, 1, "a", 2, 0, 3600), Job(pool, 2, "b", 2, 0, 600)}, config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->jobs[0].finished);
  EXPECT_EQ(*r->jobs[0].first_start, Time(7200));
  EXPECT_EQ(r->jobs[0].voucher_paid.value(), 20 * kYuan);
  EXPECT_EQ(r->jobs[0].credit_paid.value(), 0);
  EXPECT_EQ(r->vouchers[0].left.value(), 10 * kYuan);
  EXPECT_EQ(*r->jobs[1].first_start, Time(0));
  EXPECT_EQ(r->jobs[1].charged.value(), 3'330'000);  // 2 x 600 s x 10.00/h = 3.333..., to the fen
}

TEST(SimulatorMoney, AMonthlyBudgetHoldsJobsToTheNextMonthAndAnUnpayableJobNeverRuns) {
  const core::Pool pool = Pool();
  // Tenant b: budget 15.00 a month (no credit limit). Job 1 (1 H100 x 1 h = 10.00) runs at
  // once; job 2 (the same) would bring the month to 20.00: it waits until the next month starts
  // (1970-02-01 = 31 days of the trace's clock). Job 3 (2 x 1 h = 20.00) exceeds any month's
  // budget: it never runs, and the simulation still ends.
  SimConfig config;
  config.funds.emplace();
  config.funds->accounts.push_back(
      {*pool.FindTenant("b"), MicroYuan(0), {}, MicroYuan(15 * kYuan)});
  auto r = Simulate(
      pool,
      {Job(pool, 1, "b", 1, 0, 3600), Job(pool, 2, "b", 1, 0, 3600), Job(pool, 3, "b", 2, 0, 3600)},
      config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->jobs[0].first_start, Time(0));
  ASSERT_TRUE(r->jobs[1].finished);
  EXPECT_EQ(*r->jobs[1].first_start, Time(31 * 86'400));
  EXPECT_FALSE(r->jobs[2].finished);
  EXPECT_FALSE(r->jobs[2].first_start.has_value());
  EXPECT_EQ(r->jobs[0].charged.value() + r->jobs[1].charged.value(), 20 * kYuan);
  EXPECT_EQ(r->jobs[1].credit_paid.value(), 10 * kYuan);  // no balance: on credit
}

TEST(SimulatorMoney, WithoutFundsNothingIsChargedAndNothingWaits) {
  const core::Pool pool = Pool();
  auto r = Simulate(pool, {Job(pool, 1, "a", 8, 0, 3600)}, SimConfig{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->with_funds);
  EXPECT_EQ(r->jobs[0].charged.value(), 0);
  EXPECT_EQ(r->jobs[0].cost.value(), 80 * kYuan);
}

}  // namespace
}  // namespace suanpan::sim
