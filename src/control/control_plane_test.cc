// The control plane on a fake clock and a real SQLite file, driven without threads: operations
// run inline (before Start) with the same commit discipline as the server.

#include "control/control_plane.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "testing/builders.h"

namespace suanpan::control {
namespace {

using Json = nlohmann::json;
using testing::TestPool;

class FakeClock final : public Clock {
 public:
  int64_t NowMs() const override { return now_ms; }
  int64_t now_ms = 1'800'000'000'000;
};

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("suanpan_control_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Two clusters of 2 x 8 H100; tenant "a" may hold at most 16 H100, "b" has no max.
  static core::Pool Pool(int nodes_in_c2 = 2, double c1_price = 10.0) {
    return TestPool()
        .Cluster("c1", "H100", 2, 8, 32, 8, "p", c1_price)
        .Cluster("c2", "H100", nodes_in_c2, 8, 32, 8, "q", 20.0)
        .Tenant("a")
        .Tenant("b")
        .Quota("a", "H100", 0, 16)
        .Build();
  }

  std::unique_ptr<ControlPlane> Open(core::Pool pool, ControlOptions options = {},
                                     const std::string& file = "s.db") {
    auto store = store::OpenSqliteStore((dir_ / file).string());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto plane =
        ControlPlane::Open(std::move(pool), std::move(*store), std::move(options), clock_, nullptr);
    EXPECT_TRUE(plane.ok()) << plane.status().ToString();
    return std::move(*plane);
  }

  static Caller Admin() { return Caller{Role::kAdmin, "", "admin"}; }

  static Json Job(const std::string& name, const std::string& tenant, int workers,
                  int devices = 8) {
    return Json{{"name", name},
                {"tenant", tenant},
                {"workers", workers},
                {"devices_per_worker", devices},
                {"device_types", {"H100"}},
                {"command", {"python", "train.py"}}};
  }

  static uint64_t Submit(ControlPlane& p, const Json& body) {
    auto r = p.Run([&](ControlPlane& cp) { return cp.SubmitJob(Admin(), body, std::nullopt); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->job.id : 0;
  }

  static JobView Get(ControlPlane& p, uint64_t id) {
    auto r = p.Run([&](ControlPlane& cp) { return cp.GetJob(Admin(), id); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : JobView{};
  }

  static void Round(ControlPlane& p) {
    p.Run([](ControlPlane& cp) {
      cp.ScheduleNow();
      return 0;
    });
  }

  static void Report(ControlPlane& p, uint64_t id, int rank, bool exited, int code = 0) {
    protocol::WorkerReport r;
    r.attempt = Get(p, id).attempts;
    r.state =
        exited ? protocol::WorkerReport::State::kExited : protocol::WorkerReport::State::kRunning;
    if (exited) r.exit_code = code;
    auto res = p.Run([&](ControlPlane& cp) { return cp.ReportWorker(Admin(), id, rank, r); });
    ASSERT_TRUE(res.ok()) << res.status().ToString();
  }

  static std::string State(ControlPlane& p, uint64_t id) {
    return std::string(core::JobStateName(Get(p, id).state));
  }

  FakeClock clock_;
  std::filesystem::path dir_;
};

TEST_F(ControlPlaneTest, ARoundBindsAndPersistsThePlacement) {
  auto p = Open(Pool());
  const uint64_t id = Submit(*p, Job("j", "b", 2));
  EXPECT_EQ(State(*p, id), "pending");
  Round(*p);
  JobView job = Get(*p, id);
  EXPECT_EQ(State(*p, id), "admitted");
  EXPECT_EQ(job.attempts, 1);
  // Cheapest cluster first: c1 (10 yuan/h) before c2 (20 yuan/h).
  ASSERT_TRUE(job.placement.has_value());
  EXPECT_EQ(job.placement->cluster, "c1");
  ASSERT_EQ(job.placement->workers.size(), 2u);
}

TEST_F(ControlPlaneTest, RestartRetakesTheDevicesOfBoundJobs) {
  uint64_t first = 0;
  {
    auto p = Open(Pool());
    first = Submit(*p, Job("first", "b", 2));
    Round(*p);
  }
  auto p = Open(Pool());
  EXPECT_EQ(State(*p, first), "admitted");
  // c1 is still full: the next 2-node job goes to c2, not onto first's nodes.
  const uint64_t second = Submit(*p, Job("second", "b", 2));
  Round(*p);
  EXPECT_EQ(Get(*p, second).placement->cluster, "c2");
}

TEST_F(ControlPlaneTest, AJobWhosePlacementIsGoneAfterRestartIsRequeuedNotLost) {
  uint64_t id = 0;
  {
    auto p = Open(Pool());
    Submit(*p, Job("fill-c1", "b", 2));
    Round(*p);
    id = Submit(*p, Job("on-c2", "b", 2));
    Round(*p);
    ASSERT_EQ(Get(*p, id).placement->cluster, "c2");
  }
  // The pool file changed: c2 has one node now, and on-c2's second node is gone.
  auto p = Open(Pool(/*nodes_in_c2=*/1));
  JobView job = Get(*p, id);
  EXPECT_EQ(State(*p, id), "pending");
  EXPECT_TRUE(job.placement->end_ms.has_value());
  auto events = p->Run([&](ControlPlane& cp) { return cp.JobEvents(Admin(), id); });
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->back().kind, "requeued");
}

TEST_F(ControlPlaneTest, QuotaBlockedJobsAreParkedUntilTheTenantReleases) {
  auto p = Open(Pool());
  const uint64_t held = Submit(*p, Job("held", "a", 2));  // 16 H100: all of a's max
  Round(*p);
  ASSERT_EQ(State(*p, held), "admitted");
  const uint64_t waiting = Submit(*p, Job("waiting", "a", 1));
  Round(*p);
  JobView w = Get(*p, waiting);
  EXPECT_EQ(State(*p, waiting), "pending");
  EXPECT_NE(w.reason.find("waiting for quota"), std::string::npos) << w.reason;
  // Another tenant's release does not help a; a's own release does.
  const uint64_t other = Submit(*p, Job("other", "b", 1));
  Round(*p);
  ASSERT_TRUE(p->Run([&](ControlPlane& cp) { return cp.CancelJob(Admin(), other); }).ok());
  Round(*p);
  EXPECT_EQ(State(*p, waiting), "pending");
  ASSERT_TRUE(p->Run([&](ControlPlane& cp) { return cp.CancelJob(Admin(), held); }).ok());
  Round(*p);
  EXPECT_EQ(State(*p, waiting), "admitted");
}

TEST_F(ControlPlaneTest, UsageRunsFromWhenTheWorkersStartedNotFromTheBind) {
  auto p = Open(Pool());
  const uint64_t id = Submit(*p, Job("j", "b", 1));
  Round(*p);
  ASSERT_EQ(State(*p, id), "admitted");
  clock_.now_ms += 10 * 60 * 1000;  // ten minutes pulling an image: not billed
  Report(*p, id, 0, /*exited=*/false);
  clock_.now_ms += 30 * 60 * 1000;  // half an hour of work on 8 H100 at 10 yuan/h
  Report(*p, id, 0, /*exited=*/true);
  ASSERT_EQ(State(*p, id), "succeeded");
  auto usage = p->Run([&](ControlPlane& cp) { return cp.Usage(Admin(), UsageQuery{}); });
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->items.size(), 1u);
  EXPECT_DOUBLE_EQ(usage->items[0].device_hours, 4.0);
  EXPECT_EQ(usage->total_cost_micro, 40'000'000);
}

TEST_F(ControlPlaneTest, AnAttemptThatNeverStartsIsRequeuedAfterTheStartTimeoutUnbilled) {
  ControlOptions o;
  o.start_timeout_seconds = 60;
  auto p = Open(Pool(), o);
  const uint64_t id = Submit(*p, Job("j", "b", 2));
  Round(*p);
  ASSERT_EQ(State(*p, id), "admitted");
  const std::string node = Get(*p, id).placement->workers[1].node;
  Report(*p, id, 0, /*exited=*/false);  // rank 0 starts, rank 1 never does
  clock_.now_ms += 59 * 1000;
  p->Run([](ControlPlane& cp) {
    cp.Turn();
    return 0;
  });
  EXPECT_EQ(Get(*p, id).attempts, 1);
  clock_.now_ms += 2 * 1000;
  p->Run([](ControlPlane& cp) {
    cp.Turn();
    return 0;
  });
  const JobView v = Get(*p, id);
  EXPECT_EQ(v.attempts, 2) << v.reason;  // requeued and placed again
  auto events = p->Run([&](ControlPlane& cp) { return cp.JobEvents(Admin(), id); });
  ASSERT_TRUE(events.ok());
  bool timed_out = false;
  for (const EventView& e : *events) {
    if (e.kind == "retry" && e.message.find("start timeout on " + node) != std::string::npos) {
      timed_out = true;
    }
  }
  EXPECT_TRUE(timed_out);
  // The attempt that never started costs nothing.
  auto usage = p->Run([&](ControlPlane& cp) { return cp.Usage(Admin(), UsageQuery{}); });
  ASSERT_TRUE(usage.ok());
  EXPECT_TRUE(usage->items.empty());
}

TEST_F(ControlPlaneTest, UsageIsDeviceTimeAtThePriceFrozenWhenTheRunStarted) {
  int64_t start = 0;
  uint64_t first = 0;
  {
    auto p = Open(Pool());
    start = clock_.now_ms;
    first = Submit(*p, Job("j", "b", 1));
    Round(*p);
  }
  // The provider's price went up to 15 yuan/h (the pool file changed) while the job ran: its run
  // keeps the 10 yuan/h it started at; a run that starts now pays 15.
  auto p = Open(Pool(2, /*c1_price=*/15.0));
  clock_.now_ms += 30 * 60 * 1000;  // half an hour on 8 H100 at 10 yuan/h = 40 yuan
  ASSERT_TRUE(p->Run([&](ControlPlane& cp) {
                 return cp.ReportJobStatus(Admin(), first, "succeeded", 0, "");
               }).ok());
  const uint64_t second = Submit(*p, Job("k", "b", 1));
  Round(*p);
  clock_.now_ms += 15 * 60 * 1000;  // a quarter hour on 8 H100 at 15 yuan/h = 30 yuan
  ASSERT_TRUE(p->Run([&](ControlPlane& cp) {
                 return cp.ReportJobStatus(Admin(), second, "succeeded", 0, "");
               }).ok());
  clock_.now_ms += 60 * 60 * 1000;  // finished: no more usage accrues
  auto usage = p->Run([&](ControlPlane& cp) { return cp.Usage(Admin(), UsageQuery{}); });
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->items.size(), 1u);
  EXPECT_DOUBLE_EQ(usage->items[0].device_hours, 6.0);  // 4 + 2
  EXPECT_EQ(usage->items[0].cost_micro, 70'000'000);    // 40 + 30 yuan
  EXPECT_EQ(usage->total_cost_micro, 70'000'000);
  // A window over the second quarter hour of the first run: 2 device-hours, 20 yuan.
  UsageQuery q;
  q.from_ms = start + 15 * 60 * 1000;
  q.to_ms = start + 30 * 60 * 1000;
  auto part = p->Run([&](ControlPlane& cp) { return cp.Usage(Admin(), q); });
  ASSERT_TRUE(part.ok());
  EXPECT_DOUBLE_EQ(part->items[0].device_hours, 2.0);
  EXPECT_EQ(part->items[0].cost_micro, 20'000'000);
}

TEST_F(ControlPlaneTest, AFractionalJobsServiceAndCostAreExact) {
  // A quarter of an H100 for 40 minutes at 10 yuan/h: 0.25 x 2,400 s = 600 device-seconds
  // (not 0, as 250 / 1000 x seconds would give), and 10 x 0.25 x 2/3 = 1.666666 yuan.
  ControlOptions o;
  o.policy.queue = "las";
  auto p = Open(Pool(), o);
  Json body = Job("quarter", "b", 1);
  body["devices_per_worker"] = 0.25;
  const uint64_t id = Submit(*p, body);
  Round(*p);
  Report(*p, id, 0, false);
  clock_.now_ms += 40 * 60 * 1000;
  EXPECT_EQ(p->host().HistoryOf(core::JobId(id), p->Now()).attained_milli, 600'000);
  Report(*p, id, 0, true);
  EXPECT_EQ(State(*p, id), "succeeded");
  auto usage = p->Run([&](ControlPlane& cp) { return cp.Usage(Admin(), UsageQuery{}); });
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->items.size(), 1u);
  EXPECT_EQ(usage->items[0].cost_micro, 1'670'000);  // 1.6666... rated to the fen
  EXPECT_DOUBLE_EQ(usage->items[0].device_hours, 0.167);
}

TEST_F(ControlPlaneTest, TokensAreStoredHashedAndSurviveRestart) {
  std::string secret;
  {
    auto p = Open(Pool());
    auto t = p->Run([](ControlPlane& cp) {
      return cp.CreateToken(Admin(), TokenRequest{"ta", "tenant", "a", "", std::nullopt, ""});
    });
    ASSERT_TRUE(t.ok());
    secret = t->secret;
  }
  // The secret appears nowhere in the store file.
  std::ifstream in(dir_ / "s.db", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  auto p = Open(Pool());
  auto caller = p->Run([&](ControlPlane& cp) { return cp.Authenticate(secret); });
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_EQ(caller->role, Role::kTenant);
  EXPECT_EQ(caller->scope, "a");
}

TEST_F(ControlPlaneTest, AFinishedRankSurvivesARestart) {
  uint64_t id = 0;
  {
    auto p = Open(Pool());
    id = Submit(*p, Job("gang", "b", 2));
    Round(*p);
    Report(*p, id, 0, false);
    Report(*p, id, 1, false);
    EXPECT_EQ(State(*p, id), "running");
    Report(*p, id, 0, true);
  }
  // After a restart the server still knows rank 0 finished: rank 1's exit ends the job.
  auto p = Open(Pool());
  EXPECT_EQ(State(*p, id), "running");
  Report(*p, id, 1, true);
  EXPECT_EQ(State(*p, id), "succeeded");
}

TEST_F(ControlPlaneTest, AgentsMayNotSetAJobsState) {
  auto p = Open(Pool());
  const uint64_t id = Submit(*p, Job("j", "b", 1));
  Round(*p);
  const Caller agent{Role::kAgent, "c1-0000", "node"};
  auto r = p->Run(
      [&](ControlPlane& cp) { return cp.ReportJobStatus(agent, id, "failed", 1, "forged"); });
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(State(*p, id), "admitted");
}

TEST(TimeTest, ParsesAndFormatsRfc3339) {
  EXPECT_EQ(FormatTimeMs(1'800'000'000'123), "2027-01-15T08:00:00.123Z");
  EXPECT_EQ(*ParseTimeMs("2027-01-15T08:00:00.123Z"), 1'800'000'000'123);
  EXPECT_EQ(*ParseTimeMs("2027-01-15"), 1'800'000'000'000 - 8 * 3600 * 1000);
  EXPECT_EQ(*ParseTimeMs("1800000000"), 1'800'000'000'000);
  EXPECT_FALSE(ParseTimeMs("yesterday").ok());
  EXPECT_FALSE(ParseTimeMs("2027-13-01").ok());
  EXPECT_FALSE(ParseTimeMs("2027-01-15T08:00:00").ok());  // no zone: refused, not guessed
}

// Live administration (tenants.cc): a tenant made on the running plane rebuilds the host from
// the live state. The next round decides exactly as after a restart that read the same change
// from the store: same queue order, same bindings, same placements.
TEST_F(ControlPlaneTest, ALiveTenantChangeDecidesAsARestartWould) {
  {
    auto p = Open(Pool());
    Submit(*p, Job("r1", "b", 2));
    Round(*p);
    clock_.now_ms += 3'600'000;  // an hour of b's use in the fair-share memory
    for (int i = 0; i < 3; ++i) {
      Submit(*p, Job("qa" + std::to_string(i), "a", 1 + i % 2));
      Submit(*p, Job("qb" + std::to_string(i), "b", 1));
    }
    Round(*p);
  }
  std::filesystem::copy_file(dir_ / "s.db", dir_ / "r.db");
  const Json change = {{"weight", 3}, {"quota", {{"H100", {{"guaranteed", 8}, {"max", 24}}}}}};
  auto outcome = [&](ControlPlane& p) {
    EXPECT_NE(Submit(p, Job("qc", "c", 1)), 0u);
    Round(p);
    std::vector<std::string> out;
    auto q = p.Run([](ControlPlane& cp) { return cp.Queue(Admin(), 100); });
    EXPECT_TRUE(q.ok());
    for (const QueueEntryView& e : q->items) out.push_back("queued " + e.name);
    for (uint64_t id = 1; id <= 8; ++id) {
      JobView j = Get(p, id);
      std::string where;
      if (j.placement) {
        for (const auto& w : j.placement->workers) where += " " + w.node;
      }
      out.push_back(j.name + " " + std::string(core::JobStateName(j.state)) + where);
    }
    return out;
  };
  // Live: the change on the running plane.
  std::vector<std::string> live;
  {
    auto p = Open(Pool());
    auto r = p->Run([&](ControlPlane& cp) { return cp.PutTenant(Admin(), "c", change, true); });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    live = outcome(*p);
  }
  // Restart: the same change, then a restart that reads it from the store.
  std::vector<std::string> restarted;
  {
    {
      auto p = Open(Pool(), {}, "r.db");
      ASSERT_TRUE(
          p->Run([&](ControlPlane& cp) { return cp.PutTenant(Admin(), "c", change, true); }).ok());
    }
    auto p = Open(Pool(), {}, "r.db");
    auto t = p->Run([](ControlPlane& cp) { return cp.Tenant(Admin(), "c"); });
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->weight, 3);
    restarted = outcome(*p);
  }
  EXPECT_EQ(live, restarted);
  // Something happened: c's new guarantee took qa0's borrowed devices back for qc, and the
  // earlier queue waits still.
  EXPECT_NE(std::find(live.begin(), live.end(), "qc admitted c2/g-0000"), live.end())
      << ::testing::PrintToString(live);
  EXPECT_NE(std::find(live.begin(), live.end(), "qa0 pending c2/g-0000"), live.end())
      << ::testing::PrintToString(live);
}

TEST_F(ControlPlaneTest, ATenantChangeIsCheckedAndNamesTheField) {
  auto p = Open(Pool());
  auto put = [&](const std::string& name, const Json& body, bool create) {
    return p->Run([&](ControlPlane& cp) { return cp.PutTenant(Admin(), name, body, create); });
  };
  auto r = put("c", {{"quota", {{"H100", {{"guaranteed", 40}}}}}}, true);  // the pool has 32
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "quota.H100.guaranteed");
  EXPECT_NE(r.status().message().find("would add up to 40 devices, more than the pool's 32"),
            std::string::npos)
      << r.status().message();
  r = put("a", {{"quota", {{"H100", {{"max", "0.5"}}}}}}, false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["config"]["quota"]["H100"]["max"], "0.500");
  r = put("a", {{"quota", {{"H100", nullptr}}}}, false);  // back to no quota
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["config"]["quota"], Json::object());
  r = put("a", Json::object(), false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["notes"], Json({"nothing changed"}));
  Caller tenant{Role::kTenant, "a", "a-token"};
  auto denied = p->Run([&](ControlPlane& cp) {
    return cp.PutTenant(tenant, "a", {{"weight", 9}}, false);
  });
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  // A quota put back to the default stays so after a restart (the pool file gave a max of 16).
  p.reset();
  p = Open(Pool());
  auto a = p->Run([](ControlPlane& cp) { return cp.Tenant(Admin(), "a"); });
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->quotas.empty()) << a->quotas[0].device_type;
  // A retired tenant's guarantee is the pool's again: its 32 H100 can go to another tenant.
  ASSERT_TRUE(put("a", {{"quota", {{"H100", {{"guaranteed", 32}}}}}}, false).ok());
  EXPECT_FALSE(put("c", {{"quota", {{"H100", {{"guaranteed", 8}}}}}}, true).ok());
  ASSERT_TRUE(put("a", {{"retired", true}}, false).ok());
  EXPECT_TRUE(put("c", {{"quota", {{"H100", {{"guaranteed", 8}}}}}}, true).ok());
}

TEST_F(ControlPlaneTest, TenantAdminsManageTheirOwnTenantsTokensAndTokensExpire) {
  auto p = Open(Pool());
  auto make = [&](const Caller& by, TokenRequest r) {
    return p->Run([&](ControlPlane& cp) { return cp.CreateToken(by, r); });
  };
  auto who = [&](const std::string& secret) {
    return p->Run([&](ControlPlane& cp) { return cp.Authenticate(secret); });
  };
  auto boss = make(Admin(), {"a-boss", "tenant-admin", "a", "", std::nullopt, ""});
  ASSERT_TRUE(boss.ok()) << boss.status().ToString();
  ASSERT_TRUE(make(Admin(), {"b-dev", "member", "b", "", std::nullopt, ""}).ok());
  auto boss_caller = who(boss->secret);
  ASSERT_TRUE(boss_caller.ok());
  EXPECT_TRUE(boss_caller->tenant_admin());
  EXPECT_EQ(CallerRoleName(*boss_caller), "tenant-admin");
  // Its own tenant's member, expiring in an hour; the tenant is implied.
  TokenRequest dev{"a-dev", "member", "", "", std::nullopt, ""};
  dev.expires_ms = clock_.now_ms + 3'600'000;
  auto made = make(*boss_caller, dev);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->scope, "a");
  // Not another tenant's, not an admin or an agent, and not in the past.
  auto r = make(*boss_caller, {"x1", "member", "b", "", std::nullopt, ""});
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status().field(), "tenant");
  r = make(*boss_caller, {"x2", "admin", "", "", std::nullopt, ""});
  EXPECT_EQ(r.status().field(), "role");
  TokenRequest past{"x3", "viewer", "", "", std::nullopt, ""};
  past.expires_ms = clock_.now_ms - 1;
  EXPECT_EQ(make(*boss_caller, past).status().field(), "expires");
  // A member manages no tokens.
  auto dev_caller = who(made->secret);
  ASSERT_TRUE(dev_caller.ok());
  EXPECT_EQ(make(*dev_caller, {"x4", "member", "", "", std::nullopt, ""}).status().code(),
            StatusCode::kPermissionDenied);
  // The tenant admin sees and revokes its tenant's tokens only.
  auto listed = p->Run([&](ControlPlane& cp) { return cp.ListTokens(*boss_caller); });
  ASSERT_TRUE(listed.ok());
  std::vector<std::string> names;
  for (const TokenView& t : *listed) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a-boss", "a-dev"}));
  auto revoke = [&](const Caller& by, const std::string& name) {
    return p->Run([&](ControlPlane& cp) { return cp.RevokeToken(by, name); });
  };
  EXPECT_EQ(revoke(*boss_caller, "b-dev").code(), StatusCode::kNotFound);
  // An hour later the member's token has expired.
  clock_.now_ms += 3'600'000;
  auto late = who(made->secret);
  EXPECT_EQ(late.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(late.status().message().find("token 'a-dev' expired at"), std::string::npos)
      << late.status().message();
  EXPECT_TRUE(revoke(*boss_caller, "a-dev").ok());

  // An expiring tenant admin mints no token that outlives it (unset: its own expiry).
  TokenRequest brief{"a-brief", "tenant-admin", "a", "", clock_.now_ms + 60'000, ""};
  auto brief_made = make(Admin(), brief);
  ASSERT_TRUE(brief_made.ok());
  auto brief_caller = who(brief_made->secret);
  ASSERT_TRUE(brief_caller.ok());
  TokenRequest longer{"a-long", "member", "", "", clock_.now_ms + 3'600'000, ""};
  EXPECT_EQ(make(*brief_caller, longer).status().field(), "expires");
  ASSERT_TRUE(make(*brief_caller, {"a-inherit", "member", "", "", std::nullopt, ""}).ok());
  auto all = p->Run([&](ControlPlane& cp) { return cp.ListTokens(Admin()); });
  ASSERT_TRUE(all.ok());
  bool seen = false;
  for (const TokenView& t : *all) {
    if (t.name != "a-inherit") continue;
    seen = true;
    EXPECT_EQ(t.expires_ms, clock_.now_ms + 60'000);
  }
  EXPECT_TRUE(seen);
  // An expired admin token is no second admin: the last working one cannot be revoked.
  ASSERT_TRUE(make(Admin(), {"root", "admin", "", "", std::nullopt, ""}).ok());
  ASSERT_TRUE(make(Admin(), {"old-root", "admin", "", "", clock_.now_ms + 1000, ""}).ok());
  clock_.now_ms += 2000;
  EXPECT_EQ(revoke(Admin(), "root").code(), StatusCode::kFailedPrecondition);
  auto made_admin = p->Run([](ControlPlane& cp) { return cp.EnsureAdminToken(false); });
  ASSERT_TRUE(made_admin.ok());
  EXPECT_FALSE(made_admin->has_value());  // root still works
}

// The dashboard's series are exact averages over each step, from the runs and queue intervals.
// Where each tenant stands in fair share: its dominant share over its weight and its place in
// the order (smaller first); a tenant's token reads its own.
TEST_F(ControlPlaneTest, TenantsSayTheirFairSharePosition) {
  auto p = Open(Pool());  // 32 H100
  const uint64_t id = Submit(*p, Job("eight", "b", 1));
  Round(*p);
  ASSERT_EQ(State(*p, id), "admitted");
  auto all = p->Run([&](ControlPlane& cp) { return cp.Tenants(Admin()); });
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "a");
  EXPECT_EQ((*all)[0].fair_share, 0);
  EXPECT_EQ((*all)[0].fair_share_rank, 1);
  EXPECT_EQ((*all)[1].fair_share, 0.25);  // 8 of 32 H100, weight 1, no past use yet
  EXPECT_EQ((*all)[1].fair_share_rank, 2);
  const Caller b{Role::kTenant, "b", "b-member"};
  auto own = p->Run([&](ControlPlane& cp) { return cp.Tenants(b); });
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->size(), 1u);
  EXPECT_EQ((*own)[0].fair_share_rank, 2);
}

// Newest first, paged by `before`: every job once, highest id first, filters as oldest first.
TEST_F(ControlPlaneTest, JobsPageNewestFirst) {
  auto p = Open(Pool());
  std::vector<uint64_t> b_jobs;
  for (int i = 0; i < 7; ++i) {
    const uint64_t id = Submit(*p, Job("j" + std::to_string(i), i % 3 == 0 ? "a" : "b", 1, 1));
    if (i % 3 != 0) b_jobs.push_back(id);
  }
  std::vector<uint64_t> seen;
  std::optional<uint64_t> before;
  for (int pages = 0; pages < 10; ++pages) {
    JobFilter f;
    f.tenant = "b";
    f.newest_first = true;
    f.before = before;
    f.limit = 2;
    auto page = p->Run([&](ControlPlane& cp) { return cp.ListJobs(Admin(), f); });
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->items.size(), 2u);
    for (const JobView& j : page->items) seen.push_back(j.id);
    EXPECT_FALSE(page->next_after.has_value());
    if (!page->next_before) break;
    before = page->next_before;
  }
  std::reverse(b_jobs.begin(), b_jobs.end());
  EXPECT_EQ(seen, b_jobs);
}

// A job's cost so far is every attempt from the start of its work, at the price frozen when it
// was bound, and stops when the work ends.
TEST_F(ControlPlaneTest, AJobsCostSoFarCountsEveryAttemptAtItsFrozenPrice) {
  auto p = Open(Pool());
  const uint64_t id = Submit(*p, Job("j", "b", 1));
  Round(*p);
  EXPECT_EQ(Get(*p, id).cost_micro, 0);  // bound, not started: nothing yet
  Report(*p, id, 0, /*exited=*/false);
  clock_.now_ms += 30 * 60 * 1000;
  // 8 H100 x 0.5 h x 10 yuan/h on c1
  EXPECT_EQ(Get(*p, id).cost_micro, 40'000'000);
  // Lost and rerun: the second attempt adds to the first.
  const std::string node = Get(*p, id).placement->workers[0].node;
  p->Run([&](ControlPlane& cp) {
    cp.NodeLost(*cp.pool().FindNode(node), "test");
    return 0;
  });
  Round(*p);
  ASSERT_EQ(Get(*p, id).attempts, 2);
  Report(*p, id, 0, /*exited=*/false);
  clock_.now_ms += 15 * 60 * 1000;
  // + 8 x 0.25 h at 10 (c1) or 20 (c2) yuan/h, wherever the second attempt went
  const std::string cluster = Get(*p, id).placement->cluster;
  EXPECT_EQ(Get(*p, id).cost_micro, cluster == "c1" ? 60'000'000 : 80'000'000) << cluster;
  Report(*p, id, 0, /*exited=*/true);
  const int64_t done = Get(*p, id).cost_micro;
  clock_.now_ms += 60 * 60 * 1000;
  EXPECT_EQ(Get(*p, id).cost_micro, done);
}

// Tried as an attacker would: a tenant whose job is preempted reads its events and reason, and
// must learn nothing of the job it made room for when that job is another tenant's (not its
// name, id or tenant). (A job preempted for its own tenant's job is told which: agent_test.)
TEST_F(ControlPlaneTest, APreemptedJobIsNotToldOfAnotherTenantsJob) {
  auto p = Open(TestPool()
                    .Cluster("c1", "H100", 2, 8, 32, 8, "p", 10.0)
                    .Tenant("acme")
                    .Tenant("lab")
                    .Quota("acme", "H100", 16, 16)
                    .Build());
  const uint64_t borrowed = Submit(*p, Job("lab-borrowed", "lab", 2));
  Round(*p);
  ASSERT_EQ(State(*p, borrowed), "admitted");
  const uint64_t urgent = Submit(*p, Job("acme-urgent-secret", "acme", 2));
  Round(*p);
  ASSERT_EQ(State(*p, urgent), "admitted");
  ASSERT_NE(State(*p, borrowed), "admitted");
  const Caller lab{Role::kTenant, "lab", "lab-token"};
  auto events = p->Run([&](ControlPlane& cp) { return cp.JobEvents(lab, borrowed); });
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  auto job = p->Run([&](ControlPlane& cp) { return cp.GetJob(lab, borrowed); });
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  std::string seen = job->reason;
  bool preempted = false;
  for (const EventView& e : *events) {
    seen += "\n" + e.message;
    preempted |= e.kind == "preempted";
  }
  EXPECT_TRUE(preempted) << seen;
  EXPECT_EQ(seen.find("acme"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("job " + std::to_string(urgent)), std::string::npos) << seen;
  EXPECT_NE(seen.find("another tenant"), std::string::npos) << seen;
}

TEST_F(ControlPlaneTest, UtilizationAndOverviewAreExactAndScopedToTheCaller) {
  // 32 H100 in 4 nodes; tenant a may hold at most 8.
  auto p = Open(TestPool()
                    .Cluster("c1", "H100", 2, 8, 32, 8, "p", 10.0)
                    .Cluster("c2", "H100", 2, 8, 32, 8, "q", 20.0)
                    .Tenant("a")
                    .Tenant("b")
                    .Quota("a", "H100", 0, 8)
                    .Build());
  const int64_t t0 = clock_.now_ms;
  const uint64_t a = Submit(*p, Job("eight", "b", 1));        // 8 H100, bound at t0
  const uint64_t first = Submit(*p, Job("a-first", "a", 1));  // 8 H100: all of a's max
  const uint64_t w = Submit(*p, Job("over-max", "a", 1));     // waits for a's quota
  Round(*p);
  ASSERT_EQ(State(*p, a), "admitted");
  ASSERT_EQ(State(*p, first), "admitted");
  ASSERT_EQ(State(*p, w), "pending");
  clock_.now_ms += 15 * 60 * 1000;
  Report(*p, a, 0, /*exited=*/false);
  auto mid = p->Run([&](ControlPlane& cp) { return cp.Overview(Admin()); });
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(mid->devices.total, 32'000);
  EXPECT_EQ(mid->devices.allocated, 16'000);
  EXPECT_EQ(mid->devices.free, 16'000);
  EXPECT_EQ(mid->devices.down, 0);
  EXPECT_EQ(mid->running, 2);
  EXPECT_EQ(mid->queued, 1);
  ASSERT_EQ(mid->providers.size(), 2u);
  EXPECT_EQ(mid->providers[0].devices.allocated + mid->providers[1].devices.allocated, 16'000);
  clock_.now_ms += 15 * 60 * 1000;  // t0 + 30 min: it ends
  Report(*p, a, 0, /*exited=*/true);
  ASSERT_EQ(State(*p, a), "succeeded");
  clock_.now_ms += 30 * 60 * 1000;  // t0 + 60 min

  // Two steps of 30 minutes from t0: b's 8 devices held through the first, a's 8 through both;
  // a's second job waits through both (1 job); the others never waited (bound at once).
  auto u = p->Run([&](ControlPlane& cp) { return cp.Utilization(Admin(), 1, 2); });
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->from_ms, t0);
  EXPECT_EQ(u->step_ms, 30 * 60 * 1000);
  EXPECT_EQ(u->devices_milli, 32'000);
  ASSERT_EQ(u->allocated.count("H100"), 1u);
  EXPECT_EQ(u->allocated.at("H100"), (std::vector<double>{16, 8}));
  EXPECT_EQ(u->queued, (std::vector<double>{1, 1}));
  // Cost from the start of work (b's, t0 + 15 to t0 + 30 on c1 at 10 yuan/h: 8 x 0.25 h x 10);
  // a's job was placed but never reported running, so it costs nothing.
  EXPECT_EQ(u->cost_yuan, (std::vector<double>{20, 0}));
  // Four steps of 15 minutes: the same, finer; a run covering a step partly counts its share.
  auto fine = p->Run([&](ControlPlane& cp) { return cp.Utilization(Admin(), 1, 4); });
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->allocated.at("H100"), (std::vector<double>{16, 16, 8, 8}));
  // 7.5 min on, steps from t0 + 7.5: the second, [22.5, 37.5), is half in b's run (to 30):
  // 8 + 8 * 7.5 / 15 = 12.
  clock_.now_ms += 7 * 60 * 1000 + 30 * 1000;
  auto half = p->Run([&](ControlPlane& cp) { return cp.Utilization(Admin(), 1, 4); });
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(half->allocated.at("H100"), (std::vector<double>{16, 12, 8, 8}));

  auto end = p->Run([&](ControlPlane& cp) { return cp.Overview(Admin()); });
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end->devices.allocated, 8'000);
  ASSERT_EQ(end->tenants.size(), 1u);  // b has nothing queued or running
  EXPECT_EQ(end->tenants[0].tenant, "a");
  EXPECT_EQ(end->tenants[0].queued, 1);
  EXPECT_EQ(end->tenants[0].running, 1);
  EXPECT_EQ(end->tenants[0].oldest_wait_ms, 67 * 60 * 1000 + 30 * 1000);

  // Tenant b sees the pool's capacity, its own line and its own jobs only: not a's waiting job.
  const Caller b{Role::kTenant, "b", "b-member"};
  auto bov = p->Run([&](ControlPlane& cp) { return cp.Overview(b); });
  ASSERT_TRUE(bov.ok());
  EXPECT_EQ(bov->devices.total, 32'000);
  EXPECT_EQ(bov->queued, 0);
  EXPECT_TRUE(bov->tenants.empty());
  auto bu = p->Run([&](ControlPlane& cp) { return cp.Utilization(b, 1, 2); });
  ASSERT_TRUE(bu.ok());
  EXPECT_EQ(bu->queued, (std::vector<double>{0, 0}));
  // b's run only, on steps from t0 + 7.5 min: held 7.5..30 of [7.5, 37.5): 8 * 22.5 / 30 = 6.
  EXPECT_EQ(bu->allocated.at("H100"), (std::vector<double>{6, 0}));
  EXPECT_EQ(bu->cost_yuan, (std::vector<double>{20, 0}));
  // An admin's filter gives the same; a tenant may not name another.
  auto ab = p->Run([&](ControlPlane& cp) { return cp.Utilization(Admin(), 1, 2, "b"); });
  ASSERT_TRUE(ab.ok());
  EXPECT_EQ(ab->allocated, bu->allocated);
  EXPECT_EQ(ab->queued, bu->queued);
  auto peek = p->Run([&](ControlPlane& cp) { return cp.Utilization(b, 1, 2, "a"); });
  EXPECT_EQ(peek.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(peek.status().field(), "tenant");
  const Caller agent{Role::kAgent, "c1/n0", "agent"};
  EXPECT_EQ(p->Run([&](ControlPlane& cp) { return cp.Overview(agent); }).status().code(),
            StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace suanpan::control
