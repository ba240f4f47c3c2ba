#include "core/money.h"

#include <gtest/gtest.h>

#include <random>

// Designated initializers leave the other terms at their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace suanpan::core {
namespace {

constexpr int64_t kDay = 86'400'000;
MicroYuan Yuan(int64_t y) { return MicroYuan(y * kMicroPerYuan); }
MicroYuan Fen(int64_t f) { return MicroYuan(f * kMicroPerFen); }
const ProviderId kP0(0), kP1(1);
const DeviceTypeId kH100(0), kA100(3);

TEST(MoneyTest, RateRunRoundsHalfUpToTheFen) {
  // 2 devices x 90 min at 12.50 yuan/h = 37.50 yuan.
  EXPECT_EQ(RateRun(MicroYuan(12'500'000), WholeDevices(2), 90 * 60'000), Fen(3750));
  // 0.25 device for 1 s at 10 yuan/h = 10 / 3600 / 4 = 0.000694 yuan -> 0.00.
  EXPECT_EQ(RateRun(Yuan(10), MilliDevices(250), 1000), Fen(0));
  // 1 device for 18 s at 1 yuan/h = 0.005 yuan -> 0.01 (half up).
  EXPECT_EQ(RateRun(Yuan(1), WholeDevices(1), 18'000), Fen(1));
}

TEST(MoneyTest, FormatsYuanToTheFenWithSeparators) {
  EXPECT_EQ(FormatYuan(Fen(182000)), "1,820.00");
  EXPECT_EQ(FormatYuan(Fen(31250)), "312.50");
  EXPECT_EQ(FormatYuan(MicroYuan(0)), "0.00");
  EXPECT_EQ(FormatYuan(Yuan(-1234567)), "-1,234,567.00");
  EXPECT_EQ(FormatYuan(MicroYuan(5000)), "0.01");  // half up
}

TEST(MoneyTest, ParsesYuanAndNamesWhatIsWrong) {
  EXPECT_EQ(ParseYuan("1,820.5").value(), Fen(182050));
  EXPECT_EQ(ParseYuan("1820").value(), Yuan(1820));
  EXPECT_EQ(ParseYuan("-3.1", /*allow_negative=*/true).value(), Fen(-310));
  EXPECT_EQ(ParseYuan("1.234").status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ParseYuan("1.234").status().message().find("two decimals"), std::string::npos);
  EXPECT_NE(ParseYuan("-5").status().message().find("negative"), std::string::npos);
  EXPECT_FALSE(ParseYuan("ten").ok());
  EXPECT_FALSE(ParseYuan("").ok());
  EXPECT_FALSE(ParseYuan("99999999999999999999").ok());
}

TEST(MoneyTest, MonthsAreUtcCalendarMonths) {
  const Month dec{2026, 12};
  EXPECT_EQ(dec.StartMs(), 1'796'083'200'000);  // 2026-12-01T00:00:00Z
  EXPECT_EQ(dec.EndMs() - dec.StartMs(), 31 * kDay);
  EXPECT_EQ(MonthOf(dec.StartMs()), dec);
  EXPECT_EQ(MonthOf(dec.StartMs() - 1), (Month{2026, 11}));
  EXPECT_EQ((Month{2028, 2}).EndMs() - (Month{2028, 2}).StartMs(), 29 * kDay);  // leap year
  EXPECT_EQ(dec.ToString(), "2026-12");
  EXPECT_EQ(ParseMonth("2027-01").value(), (Month{2027, 1}));
  EXPECT_FALSE(ParseMonth("2027-13").ok());
  EXPECT_FALSE(ParseMonth("Dec").ok());
}

// The example of the header: A pays min(1,000.00, 150.00) = 150.00; B pays 100.00; balance
// 50.00; credit 0.
TEST(MoneyTest, DrawsEarliestExpiryFirstWithinCaps) {
  std::vector<VoucherTerms> v(2);
  v[0] = {.id = "B", .remaining = Yuan(100), .valid_from_ms = 0, .valid_to_ms = 31 * kDay};
  v[1] = {.id = "A",
          .remaining = Yuan(1000),
          .valid_from_ms = 0,
          .valid_to_ms = 15 * kDay,
          .types = {kH100},
          .cap_permille = 500};
  Draw d = DrawCharge(Yuan(300), kDay, kP0, kH100, v, Yuan(80));
  ASSERT_EQ(d.vouchers.size(), 2u);
  EXPECT_EQ(d.vouchers[0], (std::pair<size_t, MicroYuan>{1, Yuan(150)}));
  EXPECT_EQ(d.vouchers[1], (std::pair<size_t, MicroYuan>{0, Yuan(100)}));
  EXPECT_EQ(d.balance, Yuan(50));
  EXPECT_EQ(d.credit, Yuan(0));
  // On an A100, A does not pay: B 100, balance 80, credit 120.
  d = DrawCharge(Yuan(300), kDay, kP0, kA100, v, Yuan(80));
  ASSERT_EQ(d.vouchers.size(), 1u);
  EXPECT_EQ(d.balance, Yuan(80));
  EXPECT_EQ(d.credit, Yuan(120));
  // After A expired (day 15), only B pays.
  d = DrawCharge(Yuan(300), 15 * kDay, kP0, kH100, v, Yuan(0));
  ASSERT_EQ(d.vouchers.size(), 1u);
  EXPECT_EQ(d.vouchers[0].first, 0u);
  EXPECT_EQ(d.credit, Yuan(200));
}

TEST(MoneyTest, PayableCountsVouchersBalanceCreditBudgetAndCommitted) {
  TenantFunds f;
  EXPECT_FALSE(Payable(f, Yuan(100), 0, kP0, kH100).has_value());  // no limit at all
  f.vouchers.push_back(
      {.id = "A", .remaining = Yuan(1000), .valid_to_ms = kDay, .cap_permille = 500});
  f.balance = Yuan(100);
  f.credit_room = Yuan(50);
  // Of a 1,820.00 charge: A pays 910.00 (50 %), then 100 + 50: 1,060.00.
  EXPECT_EQ(Payable(f, Yuan(1820), 0, kP0, kH100), Yuan(1060));
  f.committed = Yuan(60);
  EXPECT_EQ(Payable(f, Yuan(1820), 0, kP0, kH100), Yuan(1000));
  f.budget_left = Yuan(500);  // the budget bounds what may be spent
  EXPECT_EQ(Payable(f, Yuan(1820), 0, kP0, kH100), Yuan(440));
  f.credit_room.reset();  // no credit limit, but the budget still holds
  EXPECT_EQ(Payable(f, Yuan(1820), 0, kP0, kH100), Yuan(440));
}

// Property: for random vouchers, balances and charges, a draw pays exactly the charge, never
// more than a voucher's rest or cap, never from a voucher that is expired, not yet valid or not
// covering the charge, never more than the balance; and vouchers never go below zero.
TEST(MoneyTest, RandomDrawsNeverOverspend) {
  std::mt19937_64 rng(20261202);
  for (int round = 0; round < 200; ++round) {
    std::vector<VoucherTerms> v;
    const int n = static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      VoucherTerms t;
      t.id = "v" + std::to_string(i);
      t.remaining = Fen(static_cast<int64_t>(rng() % 100'000));
      t.valid_from_ms = static_cast<int64_t>(rng() % 10) * kDay;
      t.valid_to_ms = t.valid_from_ms + static_cast<int64_t>(1 + rng() % 20) * kDay;
      if (rng() % 2) t.types = {kH100};
      if (rng() % 3 == 0) t.providers = {kP1};
      t.cap_permille = rng() % 2 ? 1000 : static_cast<int>(rng() % 1001);
      v.push_back(t);
    }
    MicroYuan balance = Fen(static_cast<int64_t>(rng() % 50'000));
    for (int c = 0; c < 30; ++c) {
      const MicroYuan amount = Fen(static_cast<int64_t>(rng() % 20'000));
      const int64_t at = static_cast<int64_t>(rng() % 30) * kDay;
      const ProviderId p = rng() % 2 ? kP0 : kP1;
      const DeviceTypeId ty = rng() % 2 ? kH100 : kA100;
      const Draw d = DrawCharge(amount, at, p, ty, v, balance);
      ASSERT_EQ(d.total(), amount);
      ASSERT_LE(d.balance, balance);
      ASSERT_GE(d.credit.value(), 0);
      for (const auto& [i, pay] : d.vouchers) {
        ASSERT_TRUE(v[i].ValidAt(at)) << "drawn outside its validity";
        ASSERT_TRUE(v[i].Covers(p, ty));
        ASSERT_LE(pay, v[i].remaining);
        ASSERT_LE(pay.value(), amount.value() * v[i].cap_permille / 1000);
        ASSERT_EQ(pay.value() % kMicroPerFen, 0);
        v[i].remaining -= pay;
        ASSERT_GE(v[i].remaining.value(), 0);
      }
      balance -= d.balance;
    }
  }
}

}  // namespace
}  // namespace suanpan::core
