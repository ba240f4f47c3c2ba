// Money on the control plane (issue 14), on a fake clock and a real SQLite file: a worked month
// checked line by line by hand, a property test of the ledger, restart idempotency, admission by
// funds, the stop-at-limit policy and who may see what.

#include "control/billing.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "control/control_plane.h"
#include "testing/builders.h"

namespace suanpan::control {
namespace {

using Json = nlohmann::json;
using testing::TestPool;

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
const int64_t kDec1 = core::Month{2026, 12}.StartMs();  // 2026-12-01T00:00:00Z

int64_t Yuan(double y) { return std::llround(y * 100) * core::kMicroPerFen; }

class FakeClock final : public Clock {
 public:
  int64_t NowMs() const override { return now_ms; }
  int64_t now_ms = kDec1;
};

Caller Admin() { return Caller{Role::kAdmin, "", "admin"}; }
Caller TenantA() { return Caller{Role::kTenant, "a", "token-a"}; }
Caller TenantB() { return Caller{Role::kTenant, "b", "token-b"}; }
Caller TenantAdminA() { return Caller{Role::kTenant, "a", "boss-a", Grant::kTenantAdmin}; }

class BillingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("suanpan_billing_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Provider p: 1 node x 8 H100 at 10 yuan/h. Provider q: 1 node x 8 A100 at 4 yuan/h.
  static core::Pool Pool() {
    return TestPool()
        .Cluster("c1", "H100", 1, 8, 32, 8, "p", 10.0)
        .Cluster("c2", "A100", 1, 8, 32, 8, "q", 4.0)
        .Tenant("a")
        .Tenant("b")
        .Build();
  }

  std::unique_ptr<ControlPlane> Open() {
    auto store = store::OpenSqliteStore((dir_ / "s.db").string());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    ControlOptions options;
    options.require_agents = false;
    options.start_timeout_seconds = 0;
    auto plane = ControlPlane::Open(Pool(), std::move(*store), options, clock_, nullptr);
    EXPECT_TRUE(plane.ok()) << plane.status().ToString();
    return std::move(*plane);
  }

  static Json Job(const std::string& name, const std::string& type, double devices,
                  const std::string& priority_class = "low", const std::string& tenant = "a") {
    Json j{{"name", name},
           {"tenant", tenant},
           {"workers", 1},
           {"device_types", {type}},
           {"priority_class", priority_class},
           {"command", {"train"}}};
    if (devices == static_cast<int>(devices)) {
      j["devices_per_worker"] = static_cast<int>(devices);
    } else {
      j["devices_per_worker"] = devices;
    }
    return j;
  }

  template <typename F>
  static auto Ok(ControlPlane& p, F f) {
    auto r = p.Run(f);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r;
  }

  uint64_t Submit(ControlPlane& p, const Json& job) {
    auto r = Ok(p, [&](ControlPlane& cp) { return cp.SubmitJob(Admin(), job, std::nullopt); });
    return r.ok() ? r->job.id : 0;
  }
  static void Turn(ControlPlane& p) {
    p.Run([](ControlPlane& cp) {
      cp.Turn();
      return 0;
    });
  }
  static void Round(ControlPlane& p) {
    p.Run([](ControlPlane& cp) {
      cp.ScheduleNow();
      return 0;
    });
  }
  static void Status(ControlPlane& p, uint64_t id, const std::string& state) {
    (void)Ok(p, [&](ControlPlane& cp) {
      return cp.ReportJobStatus(Admin(), id, state,
                                state == "running" ? std::nullopt : std::optional<int>(0), "");
    });
  }
  static std::string StateOf(ControlPlane& p, uint64_t id) {
    auto r = Ok(p, [&](ControlPlane& cp) { return cp.GetJob(Admin(), id); });
    return std::string(core::JobStateName(r->state));
  }
  static std::string ReasonOf(ControlPlane& p, uint64_t id) {
    auto r = Ok(p, [&](ControlPlane& cp) { return cp.GetJob(Admin(), id); });
    return r->reason;
  }
  // Submits, binds now, starts now; returns the id.
  uint64_t Start(ControlPlane& p, const Json& job) {
    const uint64_t id = Submit(p, job);
    Round(p);
    EXPECT_EQ(StateOf(p, id), "admitted");
    Status(p, id, "running");
    return id;
  }
  void At(int64_t ms) { clock_.now_ms = ms; }

  FakeClock clock_;
  std::filesystem::path dir_;
};

// A month of tenant a, December 2026, every figure by hand.
//   Vouchers: EARLY 250.00, any type, cap 50 %, valid Dec 1-10; H100 1,000.00, H100 only,
//   cap 50 %, valid Dec 1 - Jan 1. Top-up 500.00 on Dec 1. Drawn earliest expiry first.
//   A  8 H100 (low)  Dec 2 00:00-03:00, preempted by B: 8 x 3 h x 10 = 240.00
//        EARLY min(250, 120) = 120; H100 min(1,000, 120, 120 left) = 120; balance 0
//   B  8 H100 (high) Dec 2 03:00-05:00: 8 x 2 h x 10 = 160.00
//        EARLY min(130, 80) = 80; H100 80; balance 0
//   Dec 10: EARLY expires with 50.00 left: void.
//   C  0.5 A100      Dec 12 00:00-10:00: 0.5 x 10 h x 4 = 20.00; no voucher covers it:
//        balance 20
//   Price of H100 at p: 12.00 from Dec 15.
//   D  8 H100        Dec 20 00:00-01:30: 8 x 1.5 h x 12 = 144.00; H100 72; balance 72
//   E  1 H100        Dec 31 23:00 - Jan 1 01:00: December's piece 1 h x 12 = 12.00;
//        H100 6 (valid until Jan 1 00:00, the piece's last ms is before); balance 6
// Invoice lines: p H100 @10: 24 + 16 = 40.000 device-hours, 400.00 (2 runs)
//                p H100 @12: 12 + 1 = 13.000 device-hours, 156.00 (2 runs)
//                q A100 @4: 5.000 device-hours, 20.00 (1 run)
// Subtotal 576.00; vouchers EARLY 200.00, H100 120 + 80 + 72 + 6 = 278.00; balance
// 20 + 72 + 6 = 98.00; credit 0; 478 + 98 = 576. Balance left 500 - 98 = 402.00, less E's
// January piece (1 h x 12 = 12.00, the H100 voucher has expired): 390.00.
TEST_F(BillingTest, AWorkedMonthAddsUpToTheFen) {
  auto p = Open();
  VoucherRequest early{"EARLY", "a", MicroYuan(Yuan(250)), kDec1, kDec1 + 9 * kDay, {},
                       {},      50,  "district programme"};
  VoucherRequest h100{
      "H100", "a", MicroYuan(Yuan(1000)), kDec1, core::Month{2027, 1}.StartMs(), {"H100"},
      {},     50,  "city programme"};
  (void)Ok(*p, [&](ControlPlane& cp) { return cp.GrantVoucher(Admin(), early); });
  (void)Ok(*p, [&](ControlPlane& cp) { return cp.GrantVoucher(Admin(), h100); });
  (void)Ok(*p,
           [&](ControlPlane& cp) { return cp.TopUp(Admin(), "a", MicroYuan(Yuan(500)), "wire"); });

  At(kDec1 + 1 * kDay);
  const uint64_t a = Start(*p, Job("A", "H100", 8, "low"));
  At(kDec1 + 1 * kDay + 3 * kHour);
  const uint64_t b = Submit(*p, Job("B", "H100", 8, "high"));
  Round(*p);  // B preempts A: A's run ends now
  EXPECT_EQ(StateOf(*p, b), "admitted");
  EXPECT_NE(StateOf(*p, a), "running");
  Status(*p, b, "running");
  (void)Ok(*p, [&](ControlPlane& cp) { return cp.CancelJob(Admin(), a); });
  At(kDec1 + 1 * kDay + 5 * kHour);
  Status(*p, b, "succeeded");

  At(kDec1 + 10 * kDay);
  Turn(*p);  // EARLY expires
  At(kDec1 + 11 * kDay);
  const uint64_t c = Start(*p, Job("C", "A100", 0.5));
  At(kDec1 + 11 * kDay + 10 * kHour);
  Status(*p, c, "succeeded");

  ASSERT_TRUE(p->Run([&](ControlPlane& cp) {
                 return cp.SetPrice(Admin(), "p", "H100", MicroYuan(Yuan(12)), kDec1 + 14 * kDay);
               }).ok());
  At(kDec1 + 19 * kDay);
  const uint64_t d = Start(*p, Job("D", "H100", 8));
  At(kDec1 + 19 * kDay + 90 * 60'000);
  Status(*p, d, "succeeded");
  At(kDec1 + 30 * kDay + 23 * kHour);
  const uint64_t e = Start(*p, Job("E", "H100", 1));
  At(kDec1 + 31 * kDay + 1000);
  Turn(*p);  // the month is over: E's December piece is booked
  At(kDec1 + 31 * kDay + 1 * kHour);
  Status(*p, e, "succeeded");

  At(kDec1 + 32 * kDay);
  auto issued = Ok(*p, [&](ControlPlane& cp) { return cp.IssueInvoices(Admin(), "", "2026-12"); });
  ASSERT_TRUE(issued.ok());
  ASSERT_EQ(issued->size(), 1u);  // a only: b used nothing in December
  const Json inv = (*issued)[0];
  EXPECT_EQ(inv["number"], "INV-2026-12-0001");
  EXPECT_EQ(inv["tenant"], "a");
  ASSERT_EQ(inv["lines"].size(), 3u);
  auto line = [&](size_t i) {
    const Json& l = inv["lines"][i];
    return std::make_tuple(l["provider"].get<std::string>(), l["device_type"].get<std::string>(),
                           l["device_hours"].get<std::string>(),
                           l["unit_price_micro"].get<int64_t>(), l["amount_micro"].get<int64_t>(),
                           l["runs"].get<int>());
  };
  EXPECT_EQ(line(0), std::make_tuple("p", "H100", "40.000", Yuan(10), Yuan(400), 2));
  EXPECT_EQ(line(1), std::make_tuple("p", "H100", "13.000", Yuan(12), Yuan(156), 2));
  EXPECT_EQ(line(2), std::make_tuple("q", "A100", "5.000", Yuan(4), Yuan(20), 1));
  EXPECT_EQ(inv["subtotal_micro"], Yuan(576));
  ASSERT_EQ(inv["vouchers"].size(), 2u);
  EXPECT_EQ(inv["vouchers"][0]["voucher"], "EARLY");
  EXPECT_EQ(inv["vouchers"][0]["amount_micro"], Yuan(200));
  EXPECT_EQ(inv["vouchers"][1]["voucher"], "H100");
  EXPECT_EQ(inv["vouchers"][1]["amount_micro"], Yuan(278));
  EXPECT_EQ(inv["balance_used_micro"], Yuan(98));
  EXPECT_EQ(inv["credit_used_micro"], 0);
  EXPECT_EQ(inv["total_due_micro"], 0);

  // EARLY's 50.00 went void at its expiry; E's January piece is January's.
  auto ledger = Ok(*p, [&](ControlPlane& cp) { return cp.Ledger(Admin(), "a", ""); });
  int64_t voided = 0;
  for (const Json& l : *ledger) {
    if (l["kind"] == "expiry" && l["account"] == "voucher:EARLY")
      voided -= l["amount_micro"].get<int64_t>();
  }
  EXPECT_EQ(voided, Yuan(50));
  auto balance = Ok(*p, [&](ControlPlane& cp) { return cp.Balance(Admin(), "a"); });
  EXPECT_EQ((*balance)["balance_micro"], Yuan(390));

  // Partner statements: p earned 556.00 of which vouchers paid 478.00; q 20.00, none.
  auto st = Ok(*p, [&](ControlPlane& cp) { return cp.Statements(Admin(), "2026-12", ""); });
  EXPECT_EQ((*st)[0]["provider"], "p");
  EXPECT_EQ((*st)[0]["gross_micro"], Yuan(556));
  EXPECT_EQ((*st)[0]["voucher_paid_micro"], Yuan(478));
  EXPECT_EQ((*st)[1]["gross_micro"], Yuan(20));
  EXPECT_EQ((*st)[1]["voucher_paid_micro"], 0);

  // Issued once; immutable; the same after a restart, which books nothing new.
  auto again = p->Run([&](ControlPlane& cp) { return cp.IssueInvoices(Admin(), "a", "2026-12"); });
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  auto all = p->Run([&](ControlPlane& cp) { return cp.IssueInvoices(Admin(), "", "2026-12"); });
  EXPECT_EQ(all.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(all.status().message().find("INV-2026-12-0001"), std::string::npos)
      << all.status().message();
  // A month that is not over is refused, even when nobody used anything in it yet.
  auto not_over =
      p->Run([&](ControlPlane& cp) { return cp.IssueInvoices(Admin(), "", "2027-01"); });
  EXPECT_EQ(not_over.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(not_over.status().message().find("is not over"), std::string::npos);
  const size_t lines = ledger->size();
  p.reset();
  p = Open();
  auto reread =
      Ok(*p, [&](ControlPlane& cp) { return cp.InvoiceDocument(Admin(), "INV-2026-12-0001"); });
  EXPECT_EQ(*reread, inv);
  auto ledger2 = Ok(*p, [&](ControlPlane& cp) { return cp.Ledger(Admin(), "a", ""); });
  EXPECT_EQ(ledger2->size(), lines);
  EXPECT_TRUE(p->billing().Verify().ok());

  // A correction is a credit note: 10.00 back to the balance, at most the subtotal.
  auto cn = Ok(*p, [&](ControlPlane& cp) {
    return cp.CreditNote(Admin(), "INV-2026-12-0001", MicroYuan(Yuan(10)), "H100 node flapped");
  });
  EXPECT_EQ((*cn)["number"], "CN-2026-12-0001");
  auto too_much = p->Run([&](ControlPlane& cp) {
    return cp.CreditNote(Admin(), "INV-2026-12-0001", MicroYuan(Yuan(567)), "again");
  });
  EXPECT_EQ(too_much.status().code(), StatusCode::kInvalidArgument);
  balance = Ok(*p, [&](ControlPlane& cp) { return cp.Balance(Admin(), "a"); });
  EXPECT_EQ((*balance)["balance_micro"], Yuan(390 + 10));
}

// Property: random runs, grants, top-ups, price changes and expiries; the ledger balances, no
// voucher goes below zero or is drawn outside its validity, every invoice's total is the sum of
// its lines, and rating the same runs again (a restart) books nothing and gives the same
// invoices.
TEST_F(BillingTest, RandomMonthsKeepTheLedgerBalanced) {
  const core::Pool pool = Pool();
  std::mt19937_64 rng(1402);
  for (int round = 0; round < 20; ++round) {
    Billing billing(pool);
    store::WriteBatch all;
    std::vector<store::RunRow> runs;
    int64_t now = kDec1;
    for (int step = 0; step < 60; ++step) {
      now += static_cast<int64_t>(rng() % (12 * 3600)) * 1000;
      const int what = static_cast<int>(rng() % 6);
      const std::string tenant = rng() % 2 ? "a" : "b";
      if (what == 0) {
        VoucherRequest v;
        v.tenant = tenant;
        v.amount = MicroYuan(Yuan(static_cast<double>(rng() % 500)) + core::kMicroPerFen);
        v.valid_from_ms = now - static_cast<int64_t>(rng() % (3 * 86400)) * 1000;
        v.valid_to_ms = now + static_cast<int64_t>(1 + rng() % (10 * 86400)) * 1000;
        if (rng() % 2) v.device_types = {"H100"};
        if (rng() % 3 == 0) v.providers = {"q"};
        v.cap_percent = rng() % 2 ? 100 : static_cast<int>(1 + rng() % 100);
        ASSERT_TRUE(billing.Grant(v, "admin", now, all).ok());
      } else if (what == 1) {
        ASSERT_TRUE(billing
                        .TopUp(tenant, MicroYuan(Yuan(static_cast<double>(1 + rng() % 300))), "",
                               "admin", now, all)
                        .ok());
      } else if (what == 2) {
        ASSERT_TRUE(billing
                        .SetPrice("p", "H100", MicroYuan(Yuan(static_cast<double>(5 + rng() % 20))),
                                  now + static_cast<int64_t>(rng() % kDay), "admin", now, all)
                        .ok());
      } else {
        store::RunRow r;
        r.job_id = runs.size() + 1 + (tenant == "b" ? 1000 : 0);
        r.attempt = 1;
        const bool h100 = rng() % 2;
        r.provider = h100 ? "p" : "q";
        r.device_type = h100 ? "H100" : "A100";
        r.devices_milli = rng() % 2 ? 8000 : static_cast<int64_t>(1 + rng() % 999);
        r.started_ms = now;
        r.start_ms = now;
        const auto price = billing.PriceAt(*pool.FindProvider(r.provider),
                                           *pool.catalog().Find(r.device_type), now);
        r.price_micro = price->value();
        r.end_ms = now + static_cast<int64_t>(rng() % (3 * kDay));
        billing.ExpireVouchers(now, all);
        billing.RateRun(tenant, r, now, all);
        runs.push_back(r);
      }
    }
    ASSERT_TRUE(billing.Verify().ok()) << billing.Verify().ToString();
    for (const store::LedgerRow& l : all.ledger) {
      if (l.account.starts_with("voucher:") && l.kind == "charge") {
        const Json vs = billing.Vouchers("", now);
        for (const Json& v : vs) {
          if ("voucher:" + v["id"].get<std::string>() != l.account) continue;
          ASSERT_GE(v["remaining_micro"].get<int64_t>(), 0);
          const int64_t from = *ParseTimeMs(v["valid_from"].get<std::string>());
          const int64_t to = *ParseTimeMs(v["valid_to"].get<std::string>());
          ASSERT_TRUE(from <= l.time_ms && l.time_ms < to) << l.ref << " drawn outside validity";
        }
      }
    }
    // Invoices add up; a restart (Load from the rows) re-rates nothing and agrees.
    store::Snapshot snap;
    snap.prices = all.prices;
    snap.vouchers = all.vouchers;
    snap.ledger = all.ledger;
    // Vouchers: the latest row of each id.
    std::map<std::string, store::VoucherRow> latest;
    for (const auto& v : all.vouchers) latest[v.id] = v;
    snap.vouchers.clear();
    for (const auto& [id, v] : latest) snap.vouchers.push_back(v);
    Billing reloaded(pool);
    ASSERT_TRUE(reloaded.Load(snap).ok());
    store::WriteBatch again;
    for (const store::RunRow& r : runs) {
      reloaded.RateRun(r.job_id > 1000 ? "b" : "a", r, now + 40 * kDay, again);
    }
    for (const char* t : {"a", "b"}) {
      for (core::Month m : {core::Month{2026, 12}, core::Month{2027, 1}, core::Month{2027, 2}}) {
        const Json doc = *billing.Draft(t, m);
        int64_t sum = 0;
        for (const Json& l : doc["lines"]) sum += l["amount_micro"].get<int64_t>();
        ASSERT_EQ(sum, doc["subtotal_micro"].get<int64_t>());
        int64_t paid =
            doc["balance_used_micro"].get<int64_t>() + doc["credit_used_micro"].get<int64_t>();
        for (const Json& v : doc["vouchers"]) paid += v["amount_micro"].get<int64_t>();
        ASSERT_EQ(paid, sum);
        Json other = *reloaded.Draft(t, m);
        ASSERT_EQ(other, doc);
      }
    }
    // Every run had ended: all of it was booked, nothing is booked twice.
    EXPECT_TRUE(again.ledger.empty()) << again.ledger.size() << " lines booked twice";
  }
}

TEST_F(BillingTest, AJobThatCannotBePaidWaitsAndRunsAfterATopUp) {
  auto p = Open();
  AccountTerms terms;
  terms.credit_limit = MicroYuan(0);
  (void)Ok(*p, [&](ControlPlane& cp) { return cp.SetAccount(Admin(), "a", terms); });
  (void)Ok(*p,
           [&](ControlPlane& cp) { return cp.TopUp(Admin(), "a", MicroYuan(Yuan(312.5)), ""); });
  // 8 H100 x 10 h x 10 yuan = 800.00 > 312.50.
  Json job = Job("big", "H100", 8);
  job["runtime_estimate"] = 36000;
  const uint64_t id = Submit(*p, job);
  Round(*p);
  EXPECT_EQ(StateOf(*p, id), "pending");
  EXPECT_EQ(ReasonOf(*p, id), "waiting for funds: needs ~800.00 yuan, 312.50 left");
  // A tenant's admin sets a budget: not more than the admin's terms; a member sets nothing.
  AccountTerms tenant_terms;
  tenant_terms.credit_limit = MicroYuan(Yuan(1e6));
  EXPECT_EQ(
      p->Run([&](ControlPlane& cp) { return cp.SetAccount(TenantAdminA(), "a", tenant_terms); })
          .status()
          .code(),
      StatusCode::kPermissionDenied);
  (void)Ok(*p,
           [&](ControlPlane& cp) { return cp.TopUp(Admin(), "a", MicroYuan(Yuan(487.5)), ""); });
  Round(*p);
  EXPECT_EQ(StateOf(*p, id), "admitted");
  // Its monthly budget of 100 holds the next one back even with money on the balance.
  AccountTerms budget;
  budget.monthly_budget = MicroYuan(Yuan(100));
  EXPECT_EQ(p->Run([&](ControlPlane& cp) { return cp.SetAccount(TenantA(), "a", budget); })
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  (void)Ok(*p, [&](ControlPlane& cp) { return cp.SetAccount(TenantAdminA(), "a", budget); });
  Status(*p, id, "running");
  const uint64_t small = Submit(*p, Job("small", "A100", 1));
  Round(*p);
  EXPECT_EQ(StateOf(*p, small), "pending");
  EXPECT_NE(ReasonOf(*p, small).find("waiting for funds"), std::string::npos);
}

TEST_F(BillingTest, StopAtTheLimitEndsRunningJobsWhenFundsRunOut) {
  auto p = Open();
  AccountTerms terms;
  terms.credit_limit = MicroYuan(0);
  terms.on_exhausted = "stop";
  (void)Ok(*p, [&](ControlPlane& cp) { return cp.SetAccount(Admin(), "a", terms); });
  (void)Ok(*p, [&](ControlPlane& cp) { return cp.TopUp(Admin(), "a", MicroYuan(Yuan(80)), ""); });
  const uint64_t id = Start(*p, Job("j", "H100", 8));  // 80 yuan an hour, 1 h estimated
  At(kDec1 + 30 * 60'000);
  Turn(*p);
  EXPECT_EQ(StateOf(*p, id), "running");  // 40.00 used of 80.00
  At(kDec1 + 61 * 60'000);
  Turn(*p);
  EXPECT_EQ(StateOf(*p, id), "pending");  // stopped at the limit, waits for funds
  auto events = Ok(*p, [&](ControlPlane& cp) { return cp.JobEvents(Admin(), id); });
  bool said = false;
  for (const EventView& e : *events)
    said = said || e.message.find("funds exhausted") != std::string::npos;
  EXPECT_TRUE(said);
  auto b = Ok(*p, [&](ControlPlane& cp) { return cp.Balance(Admin(), "a"); });
  EXPECT_EQ((*b)["balance_micro"], 0);
  // 61 min x 8 x 10 / 60 = 81.33: 80.00 from the balance, 1.33 owed.
  EXPECT_EQ((*b)["owed_micro"], Yuan(1.33));
  // With "finish" (the default) the tenant "b" runs on.
  const uint64_t other = Start(*p, Job("k", "A100", 8, "low", "b"));
  At(kDec1 + 10 * kHour);
  Turn(*p);
  EXPECT_EQ(StateOf(*p, other), "running");
}

TEST_F(BillingTest, ATenantSeesOnlyItsOwnMoney) {
  auto p = Open();
  VoucherRequest v{"V", "a", MicroYuan(Yuan(10)), kDec1, kDec1 + kDay, {}, {}, 100, ""};
  (void)Ok(*p, [&](ControlPlane& cp) { return cp.GrantVoucher(Admin(), v); });
  auto theirs = p->Run([&](ControlPlane& cp) { return cp.Balance(TenantB(), "a"); });
  EXPECT_EQ(theirs.status().code(), StatusCode::kPermissionDenied);
  auto list = Ok(*p, [&](ControlPlane& cp) { return cp.Vouchers(TenantB(), ""); });
  EXPECT_TRUE(list->empty());
  EXPECT_EQ(p->Run([&](ControlPlane& cp) { return cp.GrantVoucher(TenantA(), v); }).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(
      p->Run([&](ControlPlane& cp) { return cp.TopUp(TenantA(), "a", MicroYuan(Yuan(1)), ""); })
          .status()
          .code(),
      StatusCode::kPermissionDenied);
  EXPECT_EQ(p->Run([&](ControlPlane& cp) { return cp.Statements(TenantA(), "2026-12", ""); })
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  // Admin actions are audited.
  auto audit = Ok(*p, [&](ControlPlane& cp) { return cp.AuditLog(Admin(), 10); });
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0]["action"], "voucher.grant");
  EXPECT_EQ((*audit)[0]["actor"], "admin");
}

}  // namespace
}  // namespace suanpan::control
