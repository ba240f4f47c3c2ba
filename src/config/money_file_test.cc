// The simulator's money file: what it reads, and errors that name file:line and the field.

#include "config/money_file.h"

#include <gtest/gtest.h>

#include "testing/builders.h"

namespace suanpan::config {
namespace {

core::Pool Pool() {
  return testing::TestPool().Cluster("c", "A100", 1, 8).Tenant("lab-a").Tenant("lab-b").Build();
}

TEST(MoneyFile, ReadsAccountsAndVouchers) {
  auto f = ParseMoneyFile(R"(
[[accounts]]
tenant = "lab-a"
balance = "1,820.50"
credit_limit = 0
monthly_budget = 2000

[[vouchers]]
tenant = "lab-a"
amount = 1000.5
from_hour = 1.5
to_hour = 720
device_types = ["A100"]
providers = ["p"]
cap_percent = 50
)",
                          "money.toml");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const core::Pool pool = Pool();
  auto funds = f->Resolve(pool);
  ASSERT_TRUE(funds.ok()) << funds.status().ToString();
  ASSERT_EQ(funds->accounts.size(), 1u);
  EXPECT_EQ(funds->accounts[0].tenant, *pool.FindTenant("lab-a"));
  EXPECT_EQ(funds->accounts[0].balance.value(), 1'820'500'000);
  EXPECT_EQ(funds->accounts[0].credit_limit->value(), 0);
  EXPECT_EQ(funds->accounts[0].monthly_budget->value(), 2'000'000'000);
  ASSERT_EQ(funds->vouchers.size(), 1u);
  const core::VoucherTerms& v = funds->vouchers[0].terms;
  EXPECT_EQ(v.id, "voucher-1");
  EXPECT_EQ(v.remaining.value(), 1'000'500'000);
  EXPECT_EQ(v.valid_from_ms, 5'400'000);  // 1.5 h
  EXPECT_EQ(v.valid_to_ms, 720LL * 3'600'000);
  EXPECT_EQ(v.cap_permille, 500);
  ASSERT_EQ(v.types.size(), 1u);
  EXPECT_EQ(v.types[0], *pool.catalog().Find("A100"));
  ASSERT_EQ(v.providers.size(), 1u);
  EXPECT_EQ(v.providers[0], *pool.FindProvider("p"));
}

TEST(MoneyFile, ErrorsNameTheLineTheFieldAndTheValue) {
  const core::Pool pool = Pool();
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"[[accounts]]\ntenant = \"lab-a\"\nbalance = \"12.345\"\n",
       "money.toml:3: accounts[0].balance: '12.345' is not an amount in yuan: at most two decimals "
       "(fen)"},
      {"[[accounts]]\ntenant = \"lab-a\"\nbalnce = 5\n",
       "money.toml:3: accounts[0].balnce: unknown field"},
      {"[[vouchers]]\ntenant = \"lab-a\"\namount = 5\ncap_percent = 150\n",
       "money.toml:4: vouchers[0].cap_percent: must be in 1..100, got 150"},
      {"[[vouchers]]\ntenant = \"lab-a\"\n",
       "money.toml:1: vouchers[0].amount: required field is missing"},
      {"[[vouchers]]\ntenant = \"lab-a\"\namount = 5\nfrom_hour = 10\nto_hour = 5\n",
       "money.toml:5: vouchers[0].to_hour: must be after from_hour"},
      {"[[accounts]]\ntenant = \"lab-a\"\n[[accounts]]\ntenant = \"lab-a\"\n",
       "money.toml:4: accounts[1].tenant: tenant 'lab-a' already has an account (line 2)"},
      {"[[accounts]]\ntenant = \"lab-a\"\nbalance = -5\n",
       "money.toml:3: accounts[0].balance: '-5' is not an amount in yuan: it must not be negative"},
      {"[[accounts]\n", "money.toml:1: TOML syntax: "},
  };
  for (const Case& c : cases) {
    auto f = ParseMoneyFile(c.text, "money.toml");
    ASSERT_FALSE(f.ok()) << c.text;
    EXPECT_EQ(f.status().message().rfind(c.message, 0), 0u)
        << c.text << "\n got: " << f.status().message();
  }
  // Names are checked against the pool.
  auto f = ParseMoneyFile(
      "[[vouchers]]\ntenant = \"lab-a\"\namount = 5\ndevice_types = [\"A100\",\n \"H200\"]\n",
      "money.toml");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->Resolve(pool).status().message(),
            "money.toml:5: vouchers[0].device_types[1]: unknown device type 'H200' (the pool "
            "has: H100, H800, H20, A100, A800, L40S, RTX4090, Ascend910B, MLU370)");
  f = ParseMoneyFile("[[accounts]]\ntenant = \"lab-c\"\n", "money.toml");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->Resolve(pool).status().message(),
            "money.toml:2: accounts[0].tenant: unknown tenant 'lab-c' (the pool has: lab-a, "
            "lab-b)");
}

}  // namespace
}  // namespace suanpan::config
