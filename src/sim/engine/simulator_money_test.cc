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

TEST(SimulatorMoney, EmptyFundsScheduleExactlyAsNoFunds) {
  const core::Pool pool = Pool();
  // Unlimited tenants are not checked: the same starts and ends as without money, and charges
  // that are the costs rounded to the fen.
  std::vector<SimJob> jobs;
  for (uint64_t id = 1; id <= 12; ++id) {
    jobs.push_back(Job(pool, id, id % 2 ? "a" : "b", 1 + static_cast<int>(id % 4),
                       static_cast<int64_t>(id * 97), 600 + static_cast<int64_t>(id * 311)));
  }
  auto plain = Simulate(pool, jobs, SimConfig{});
  SimConfig config;
  config.funds.emplace();
  auto with = Simulate(pool, jobs, config);
  ASSERT_TRUE(plain.ok() && with.ok());
  EXPECT_FALSE(plain->with_funds);
  EXPECT_TRUE(with->with_funds);
  for (size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_TRUE(plain->jobs[i].finished && with->jobs[i].finished) << i;
    EXPECT_EQ(plain->jobs[i].first_start, with->jobs[i].first_start) << i;
    EXPECT_EQ(plain->jobs[i].end, with->jobs[i].end) << i;
    EXPECT_EQ(plain->jobs[i].charged.value(), 0) << i;
    EXPECT_EQ(with->jobs[i].charged, core::RoundToFen(with->jobs[i].cost)) << i;
    EXPECT_EQ(with->jobs[i].credit_paid, with->jobs[i].charged) << i;  // no balance: owed
  }
  EXPECT_EQ(plain->rounds, with->rounds);
}

TEST(SimulatorMoney, AMonthsEndBooksRunningJobsAsTheServerDoes) {
  const core::Pool pool = Pool();
  // Tenant a: 30.00 on the balance, credit limit 0. Job 1 (1 H100 x 2 h = 20.00) runs from
  // Jan 31 23:00 to Feb 1 01:00. At Feb 1 00:00 its January hour is charged (10.00: balance
  // 20.00) and its February hour is committed (10.00): 10.00 is left, so job 2 (1 H100 x 1.5 h =
  // 15.00), submitted at 00:30, waits; after job 1 ends 10.00 is left, and job 2 never runs.
  // (Charged only at its end, job 1 would leave 20.00 at 00:30 and job 2 would start.)
  constexpr int64_t kJan31At23 = 30 * 86'400 + 23 * 3600;
  SimConfig config;
  config.funds.emplace();
  config.funds->accounts.push_back(
      {*pool.FindTenant("a"), MicroYuan(30 * kYuan), MicroYuan(0), {}});
  auto r = Simulate(
      pool, {Job(pool, 1, "a", 1, kJan31At23, 7200), Job(pool, 2, "a", 1, kJan31At23 + 5400, 5400)},
      config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->jobs[0].finished);
  EXPECT_EQ(r->jobs[0].charged.value(), 20 * kYuan);
  EXPECT_EQ(r->jobs[0].balance_paid.value(), 20 * kYuan);
  EXPECT_FALSE(r->jobs[1].first_start.has_value());
  // The replay ends at the last instant anything happened (job 1's end), and job 2 waited
  // until then.
  EXPECT_EQ(r->end, Time(kJan31At23 + 7200));
  EXPECT_EQ(r->jobs[1].queued_seconds, 1800);
}

TEST(SimulatorMoney, AnUnpayableJobEndsTheReplayEvenWithDeviceFailures) {
  const core::Pool pool = Pool();
  // Device failures keep coming for ever; a job that can never be paid must not keep the
  // replay going.
  SimConfig config;
  config.model.device_mtbf = Seconds(86'400);
  config.funds.emplace();
  config.funds->accounts.push_back({*pool.FindTenant("a"), MicroYuan(0), MicroYuan(0), {}});
  auto r = Simulate(pool, {Job(pool, 1, "b", 1, 0, 600), Job(pool, 2, "a", 1, 0, 600)}, config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->jobs[0].finished);
  EXPECT_FALSE(r->jobs[1].first_start.has_value());
  EXPECT_LT(r->end.value(), 86'400 * 30);
}

TEST(SimulatorMoney, FundsForAnUnknownTenantAreRefused) {
  const core::Pool pool = Pool();
  SimConfig config;
  config.funds.emplace();
  config.funds->accounts.push_back({core::TenantId(7), MicroYuan(0), {}, {}});
  EXPECT_EQ(Simulate(pool, {Job(pool, 1, "a", 1, 0, 60)}, config).status().message(),
            "funds.accounts[0]: tenant 7 is not one of the 2 tenants");
}

}  // namespace
}  // namespace suanpan::sim
