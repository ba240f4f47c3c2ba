// The control plane on a fake clock and a real SQLite file, driven without threads: operations
// run inline (ControlPlane::Call before Start) with the same commit discipline as the server.

#include "control/control_plane.h"

#include <gtest/gtest.h>
#include <unistd.h>

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
  static core::Pool Pool(int nodes_in_c2 = 2) {
    return TestPool()
        .Cluster("c1", "H100", 2, 8)
        .Cluster("c2", "H100", nodes_in_c2, 8, 32, 8, "q", 20.0)
        .Tenant("a")
        .Tenant("b")
        .Quota("a", "H100", 0, 16)
        .Build();
  }

  std::unique_ptr<ControlPlane> Open(core::Pool pool) {
    auto store = store::OpenSqliteStore((dir_ / "s.db").string());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto plane =
        ControlPlane::Open(std::move(pool), std::move(*store), ControlOptions{}, clock_, nullptr);
    EXPECT_TRUE(plane.ok()) << plane.status().ToString();
    return std::move(*plane);
  }

  static Caller Admin() { return Caller{Role::kAdmin, "", "admin"}; }

  static Json Job(const std::string& name, const std::string& tenant, int workers) {
    return Json{{"name", name},
                {"tenant", tenant},
                {"workers", workers},
                {"devices_per_worker", 8},
                {"device_types", {"H100"}},
                {"command", {"python", "train.py"}}};
  }

  static uint64_t Submit(ControlPlane& p, const Json& body) {
    auto r = p.Call([&](ControlPlane& cp) { return cp.SubmitJob(Admin(), body, std::nullopt); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? (*r)["job"]["id"].get<uint64_t>() : 0;
  }

  static Json Get(ControlPlane& p, uint64_t id) {
    auto r = p.Call([&](ControlPlane& cp) { return cp.GetJob(Admin(), id); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Json();
  }

  static void Round(ControlPlane& p) {
    auto r = p.Call([](ControlPlane& cp) -> StatusOr<Json> {
      cp.ScheduleNow();
      return Json::object();
    });
    ASSERT_TRUE(r.ok());
  }

  FakeClock clock_;
  std::filesystem::path dir_;
};

TEST_F(ControlPlaneTest, ARoundBindsAndPersistsThePlacement) {
  auto p = Open(Pool());
  const uint64_t id = Submit(*p, Job("j", "b", 2));
  EXPECT_EQ(Get(*p, id)["state"], "pending");
  Round(*p);
  Json job = Get(*p, id);
  EXPECT_EQ(job["state"], "admitted");
  EXPECT_EQ(job["attempts"], 1);
  // Cheapest cluster first: c1 (10 yuan/h) before c2 (20 yuan/h).
  EXPECT_EQ(job["placement"]["cluster"], "c1");
  ASSERT_EQ(job["placement"]["workers"].size(), 2u);
}

TEST_F(ControlPlaneTest, RestartRetakesTheDevicesOfBoundJobs) {
  uint64_t first = 0;
  {
    auto p = Open(Pool());
    first = Submit(*p, Job("first", "b", 2));
    Round(*p);
  }
  auto p = Open(Pool());
  EXPECT_EQ(Get(*p, first)["state"], "admitted");
  // c1 is still full: the next 2-node job goes to c2, not onto first's nodes.
  const uint64_t second = Submit(*p, Job("second", "b", 2));
  Round(*p);
  EXPECT_EQ(Get(*p, second)["placement"]["cluster"], "c2");
}

TEST_F(ControlPlaneTest, AJobWhosePlacementIsGoneAfterRestartIsRequeuedNotLost) {
  uint64_t id = 0;
  {
    auto p = Open(Pool());
    Submit(*p, Job("fill-c1", "b", 2));
    Round(*p);
    id = Submit(*p, Job("on-c2", "b", 2));
    Round(*p);
    ASSERT_EQ(Get(*p, id)["placement"]["cluster"], "c2");
  }
  // The pool file changed: c2 has one node now, and on-c2's second node is gone.
  auto p = Open(Pool(/*nodes_in_c2=*/1));
  Json job = Get(*p, id);
  EXPECT_EQ(job["state"], "pending");
  EXPECT_FALSE(job["placement"]["ended"].is_null()) << job.dump();
  auto events = p->Call([&](ControlPlane& cp) { return cp.JobEvents(Admin(), id); });
  ASSERT_TRUE(events.ok());
  EXPECT_EQ((*events)["items"].back()["kind"], "requeued");
}

TEST_F(ControlPlaneTest, QuotaBlockedJobsAreParkedUntilTheTenantReleases) {
  auto p = Open(Pool());
  const uint64_t held = Submit(*p, Job("held", "a", 2));  // 16 H100: all of a's max
  Round(*p);
  ASSERT_EQ(Get(*p, held)["state"], "admitted");
  const uint64_t waiting = Submit(*p, Job("waiting", "a", 1));
  Round(*p);
  Json w = Get(*p, waiting);
  EXPECT_EQ(w["state"], "pending");
  EXPECT_NE(w["reason"].get<std::string>().find("quota"), std::string::npos) << w.dump();
  // Another tenant's release does not help a; a's own release does.
  const uint64_t other = Submit(*p, Job("other", "b", 1));
  Round(*p);
  ASSERT_TRUE(p->Call([&](ControlPlane& cp) { return cp.CancelJob(Admin(), other); }).ok());
  Round(*p);
  EXPECT_EQ(Get(*p, waiting)["state"], "pending");
  ASSERT_TRUE(p->Call([&](ControlPlane& cp) { return cp.CancelJob(Admin(), held); }).ok());
  Round(*p);
  EXPECT_EQ(Get(*p, waiting)["state"], "admitted");
}

TEST_F(ControlPlaneTest, UsageIsDeviceTimeAtTheProvidersPrice) {
  auto p = Open(Pool());
  const uint64_t id = Submit(*p, Job("j", "b", 1));
  Round(*p);
  clock_.now_ms += 30 * 60 * 1000;  // half an hour on 8 H100 at 10 yuan/h = 40 yuan
  ASSERT_TRUE(p->Call([&](ControlPlane& cp) {
                 return cp.ReportJobStatus(Admin(), id, Json{{"state", "succeeded"}});
               }).ok());
  clock_.now_ms += 60 * 60 * 1000;  // finished: no more usage accrues
  auto usage = p->Call([&](ControlPlane& cp) { return cp.Usage(Admin(), UsageQuery{}); });
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ((*usage)["items"].size(), 1u);
  EXPECT_DOUBLE_EQ((*usage)["items"][0]["device_hours"].get<double>(), 4.0);
  EXPECT_EQ((*usage)["items"][0]["cost_yuan"], "40.00");
  EXPECT_EQ((*usage)["total_cost_yuan"], "40.00");
  // A window that covers only the second quarter hour counts only it: 2 device-hours, 20 yuan.
  UsageQuery q;
  q.from_ms = 1'800'000'000'000 + 15 * 60 * 1000;
  q.to_ms = 1'800'000'000'000 + 45 * 60 * 1000;
  auto part = p->Call([&](ControlPlane& cp) { return cp.Usage(Admin(), q); });
  ASSERT_TRUE(part.ok());
  EXPECT_DOUBLE_EQ((*part)["items"][0]["device_hours"].get<double>(), 2.0);
  EXPECT_EQ((*part)["items"][0]["cost_yuan"], "20.00");
}

TEST_F(ControlPlaneTest, TokensAreStoredHashedAndSurviveRestart) {
  std::string secret;
  {
    auto p = Open(Pool());
    auto t = p->Call([](ControlPlane& cp) {
      return cp.CreateToken(Json{{"name", "ta"}, {"role", "tenant"}, {"tenant", "a"}});
    });
    ASSERT_TRUE(t.ok());
    secret = (*t)["token"];
  }
  // The secret appears nowhere in the store file.
  std::ifstream in(dir_ / "s.db", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  auto p = Open(Pool());
  auto caller = p->Call([&](ControlPlane& cp) -> StatusOr<Json> {
    SP_ASSIGN_OR_RETURN(Caller c, cp.Authenticate(secret));
    return cp.Whoami(c);
  });
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_EQ((*caller)["role"], "tenant");
  EXPECT_EQ((*caller)["scope"], "a");
}

TEST_F(ControlPlaneTest, AFinishedRankIsNotAssignedAgainAndSurvivesARestart) {
  uint64_t id = 0;
  std::string node0;
  {
    auto p = Open(Pool());
    id = Submit(*p, Job("gang", "b", 2));
    Round(*p);
    node0 = Get(*p, id)["placement"]["workers"][0]["node"];
    auto report = [&](int rank, Json body) {
      body["attempt"] = 1;
      auto r =
          p->Call([&](ControlPlane& cp) { return cp.ReportWorkerStatus(Admin(), id, rank, body); });
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    };
    report(0, {{"state", "running"}});
    report(1, {{"state", "running"}});
    EXPECT_EQ(Get(*p, id)["state"], "running");
    report(0, {{"state", "exited"}, {"exit_code", 0}});
    // Rank 0 is done while rank 1 runs: its node's assignments no longer list it.
    auto a = p->Call([&](ControlPlane& cp) { return cp.NodeAssignments(Admin(), node0); });
    ASSERT_TRUE(a.ok());
    for (const Json& item : (*a)["items"]) EXPECT_NE(item["rank"], 0) << item.dump();
  }
  // After a restart the server still knows rank 0 finished: rank 1's exit ends the job.
  auto p = Open(Pool());
  EXPECT_EQ(Get(*p, id)["state"], "running");
  auto r = p->Call([&](ControlPlane& cp) {
    return cp.ReportWorkerStatus(Admin(), id, 1,
                                 Json{{"attempt", 1}, {"state", "exited"}, {"exit_code", 0}});
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Get(*p, id)["state"], "succeeded");
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

}  // namespace
}  // namespace suanpan::control
