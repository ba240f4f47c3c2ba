// Money end to end (issue 14): the real server and CLI. A job its tenant cannot pay for waits
// with the reason and runs after a top-up; the tenant reads its balance, vouchers and invoice,
// and cannot top itself up or read another's; and a kill -9 while runs end and top-ups arrive
// loses no acknowledged top-up and books no charge twice.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "server_process.h"

namespace suanpan {
namespace {

using Json = nlohmann::json;
using testing::Cli;
using testing::CliRun;
constexpr const char* kT1 = "t01-qingyun-ai";

Json JobFor(const std::string& name, int devices, const std::string& tenant = kT1) {
  return Json{{"name", name},
              {"tenant", tenant},
              {"workers", 1},
              {"devices_per_worker", devices},
              {"device_types", {"H100"}},
              {"command", {"train"}}};
}

// Polls until the job is in `state` (10 s at most).
bool WaitFor(client::ApiClient& c, uint64_t id, const std::string& state) {
  for (int i = 0; i < 1000; ++i) {
    auto j = c.Call("GET", "/v1/jobs/" + std::to_string(id));
    if (j.ok() && (*j)["state"] == state) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(MoneyTest, AJobWaitsForFundsAndRunsAfterATopUp) {
  testing::ServerProcess server("money_cli");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  auto made =
      admin.Call("POST", "/v1/tokens", Json{{"name", "t1"}, {"role", "tenant"}, {"tenant", kT1}});
  ASSERT_TRUE(made.ok());
  const std::string t1 = (*made)["token"];
  made = admin.Call("POST", "/v1/tokens",
                    Json{{"name", "t2"}, {"role", "tenant"}, {"tenant", "t02-haiyan-bio"}});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  const std::string t2 = (*made)["token"];
  const std::string url = server.url(), root = server.admin_token();

  CliRun r = Cli(url, root, std::string("balance --tenant ") + kT1 + " --credit-limit 0");
  ASSERT_EQ(r.status, 0) << r.out;
  r = Cli(url, root, std::string("topup --tenant ") + kT1 + " --amount 100 --memo wire-1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("balance 100.00 yuan"), std::string::npos) << r.out;
  // A correction up and back down, each with its reason; a tenant may not adjust, and the
  // balance never goes below zero.
  r = Cli(url, root, std::string("adjust --tenant ") + kT1 + " --amount 5 --memo 'SLA credit'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("balance 105.00 yuan"), std::string::npos) << r.out;
  r = Cli(url, root,
          std::string("adjust --tenant ") + kT1 + " --amount -5 --memo 'SLA credit undone'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("balance 100.00 yuan"), std::string::npos) << r.out;
  r = Cli(url, root, std::string("adjust --tenant ") + kT1 + " --amount -500 --memo 'too much'");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("cannot go below 0"), std::string::npos) << r.out;
  r = Cli(url, t1, std::string("adjust --tenant ") + kT1 + " --amount 50 --memo 'gift to myself'");
  EXPECT_EQ(r.status, 1) << r.out;
  r = Cli(url, root,
          std::string("vouchers grant --tenant ") + kT1 +
              " --amount 1000 --to 2099-01-01 --type H100 --cap 50 --programme pilot");
  ASSERT_EQ(r.status, 0) << r.out;

  // 8 H100 x 10 h x 15.50 = 1,240.00; the voucher pays at most half (620.00), the balance 100.
  r = Cli(url, t1, "submit --name big --devices 8 --type H100 --estimate 10h -- train");
  ASSERT_EQ(r.status, 0) << r.out;
  std::string reason;
  for (int i = 0; i < 500 && reason.empty(); ++i) {
    auto jobs = admin.Call("GET", "/v1/jobs?tenant=" + std::string(kT1));
    ASSERT_TRUE(jobs.ok());
    if (!(*jobs)["items"].empty()) reason = (*jobs)["items"][0].value("reason", "");
    if (reason.find("funds") == std::string::npos) reason.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(reason, "waiting for funds: needs ~1,240.00 yuan, 720.00 left");

  // The tenant sees its own money, not another's, and cannot add to it.
  r = Cli(url, t1, "balance");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("100.00"), std::string::npos) << r.out;
  r = Cli(url, t1, "topup --tenant t01-qingyun-ai --amount 1000000");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("may not"), std::string::npos) << r.out;
  r = Cli(url, t2, std::string("balance --tenant ") + kT1);
  EXPECT_EQ(r.status, 1) << r.out;
  r = Cli(url, t2, "vouchers list -o json");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Json::parse(r.out), Json::array());
  r = Cli(url, t1, "vouchers list");
  EXPECT_NE(r.out.find("pilot"), std::string::npos) << r.out;

  r = Cli(url, root, std::string("topup --tenant ") + kT1 + " --amount 520");
  ASSERT_EQ(r.status, 0) << r.out;
  auto jobs = admin.Call("GET", "/v1/jobs?tenant=" + std::string(kT1));
  const uint64_t id = (*jobs)["items"][0]["id"];
  ASSERT_TRUE(WaitFor(admin, id, "admitted")) << server.Log();
  ASSERT_TRUE(
      admin.Call("POST", "/v1/jobs/" + std::to_string(id) + "/status", Json{{"state", "running"}})
          .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE(admin
                  .Call("POST", "/v1/jobs/" + std::to_string(id) + "/status",
                        Json{{"state", "succeeded"}, {"exit_code", 0}})
                  .ok());

  // The month's draft: one line on pudong-dc H100 at 15.50, half paid by the voucher.
  auto ledger = admin.Call("GET", "/v1/ledger?tenant=" + std::string(kT1));
  ASSERT_TRUE(ledger.ok());
  std::string charge_month;
  int64_t gross = 0, voucher = 0;
  for (const Json& l : *ledger) {
    if (l["kind"] != "charge") continue;
    charge_month = l["month"];
    if (l["account"] == "provider:pudong-dc") gross += l["amount_micro"].get<int64_t>();
    if (l["account"].get<std::string>().starts_with("voucher:")) {
      voucher -= l["amount_micro"].get<int64_t>();
    }
  }
  ASSERT_FALSE(charge_month.empty()) << ledger->dump();
  EXPECT_GT(gross, 0);
  EXPECT_EQ(voucher, gross / 2 / 10'000 * 10'000);  // the cap, rounded down to the fen
  r = Cli(url, t1, "invoices show --month " + charge_month);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("pudong-dc"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("15.50"), std::string::npos) << r.out;
  r = Cli(url, t1, "invoices export --format csv --month " + charge_month);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.rfind("section,provider,device_type,device_hours,unit_price_yuan,amount_yuan", 0),
            0u)
      << r.out;
  // The printable invoice as PDF, through headless Chromium (make deps installs it).
  const std::string pdf = (server.dir() / "invoice.pdf").string();
  r = Cli(url, t1, "invoices export --format pdf --month " + charge_month + " -f " + pdf);
  ASSERT_EQ(r.status, 0) << r.out;
  {
    std::ifstream in(pdf, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.rfind("%PDF-", 0), 0u);
    EXPECT_NE(bytes.find("/Title (Invoice DRAFT)"), std::string::npos);
    EXPECT_NE(bytes.find("/Type /Page"), std::string::npos);
  }
  std::filesystem::remove(pdf);
  // The month is not over: issuing is refused, saying why.
  r = Cli(url, root, "invoices issue --month " + charge_month);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("is not over"), std::string::npos) << r.out;
  r = Cli(url, root, "statements --month " + charge_month);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("pudong-dc"), std::string::npos) << r.out;
  r = Cli(url, t1, "statements --month " + charge_month);
  EXPECT_EQ(r.status, 1) << r.out;
  r = Cli(url, root, "audit");
  EXPECT_NE(r.out.find("voucher.grant"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("account.topup"), std::string::npos) << r.out;
}

// kill -9 while jobs end (charges are booked) and top-ups arrive from four clients: after the
// restart every acknowledged top-up is in the ledger exactly once, every transaction balances,
// no charge is booked twice, and every job that ended has its charge.
TEST(MoneyTest, KillNineDuringMeteringLosesNoChargeAndBooksNoneTwice) {
  testing::ServerProcess server("money_kill");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  std::vector<uint64_t> jobs;
  for (int i = 0; i < 6; ++i) {
    auto r = admin.Call("POST", "/v1/jobs", JobFor("j" + std::to_string(i), 8));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    jobs.push_back((*r)["id"]);
  }
  for (uint64_t id : jobs) {
    ASSERT_TRUE(WaitFor(admin, id, "admitted")) << server.Log();
    ASSERT_TRUE(
        admin.Call("POST", "/v1/jobs/" + std::to_string(id) + "/status", Json{{"state", "running"}})
            .ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<std::string> acked;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      client::ApiClient cl = server.Client(server.admin_token());
      for (int i = 0; !stop; ++i) {
        const std::string memo = "c" + std::to_string(c) + "-" + std::to_string(i);
        auto r = cl.Call("POST", std::string("/v1/accounts/") + kT1 + "/topups",
                         Json{{"amount", "1.01"}, {"memo", memo}});
        if (!r.ok()) break;
        std::lock_guard lock(mu);
        acked.insert(memo);
      }
    });
  }
  std::set<uint64_t> ended;
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto r = admin.Call("POST", "/v1/jobs/" + std::to_string(jobs[i]) + "/status",
                        Json{{"state", "succeeded"}, {"exit_code", 0}});
    if (r.ok()) ended.insert(jobs[i]);
    if (i == 3) {
      server.Kill(SIGKILL);
      break;
    }
  }
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_TRUE(server.Restart()) << server.Log();
  client::ApiClient again = server.Client(server.admin_token());
  auto ledger = again.Call("GET", std::string("/v1/ledger?tenant=") + kT1);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  std::map<int64_t, int64_t> sums;
  std::map<std::string, std::set<int64_t>> txns_of_ref;
  std::multiset<std::string> memos;
  std::set<uint64_t> charged;
  int64_t balance = 0;
  for (const Json& l : *ledger) {
    sums[l["txn"]] += l["amount_micro"].get<int64_t>();
    txns_of_ref[l["ref"]].insert(l["txn"].get<int64_t>());
    if (l["kind"] == "topup" && l["account"].get<std::string>().ends_with(":balance")) {
      memos.insert(l["memo"]);
    }
    if (l["kind"] == "charge") charged.insert(l["job"].get<uint64_t>());
    if (l["account"] == std::string("tenant:") + kT1 + ":balance") {
      balance += l["amount_micro"].get<int64_t>();
    }
  }
  for (const auto& [txn, sum] : sums) EXPECT_EQ(sum, 0) << "txn " << txn;
  for (const auto& [ref, txns] : txns_of_ref) EXPECT_EQ(txns.size(), 1u) << ref << " twice";
  for (const std::string& m : acked) EXPECT_EQ(memos.count(m), 1u) << m << " lost or doubled";
  EXPECT_GE(memos.size(), acked.size());  // some may have committed unacknowledged
  for (uint64_t id : ended) EXPECT_TRUE(charged.count(id)) << "job " << id << " not charged";
  auto b = again.Call("GET", std::string("/v1/accounts/") + kT1);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)["balance_micro"].get<int64_t>(), balance);
  EXPECT_GE(balance, 0);
  EXPECT_FALSE(acked.empty());
}

}  // namespace
}  // namespace suanpan
