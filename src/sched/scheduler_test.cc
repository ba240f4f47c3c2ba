// Schedule(): admission, federation, preemption, backfill, outcomes. One behaviour per test.

#include "sched/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "sched/host/host.h"
#include "sched/queue/cursor.h"
#include "testing/builders.h"

namespace suanpan::sched {
namespace {

using suanpan::testing::Harness;
using suanpan::testing::MakeJob;
using suanpan::testing::TestPool;
using ::testing::HasSubstr;

PolicyConfig Config(std::string queue = "fifo", std::string placement = "best_fit") {
  PolicyConfig c;
  c.queue = std::move(queue);
  c.placement = std::move(placement);
  return c;
}

TEST(SchedulerTest, UnknownPolicyIsAnError) {
  PolicyConfig c = Config("lottery");
  auto s = Scheduler::Create(c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("policy.queue: unknown policy 'lottery'"));
  EXPECT_THAT(s.status().message(), HasSubstr("fair_share"));
}

TEST(SchedulerTest, PlacesWhatFitsAndLeavesTheStateAsItFoundIt) {
  Harness h(TestPool().Cluster("c", "H100", 2, 8).Tenant("a").Build(), Config());
  h.Add(MakeJob(1).Gang(2, 8).Runtime(100));
  std::vector<QueuedJob> queue;
  // Schedule alone (without ApplyDecisions) must leave every device free.
  core::JobSpec spec = MakeJob(1).Gang(2, 8).Runtime(100);
  queue.push_back(QueuedJob{&spec, 0, Seconds(0)});
  auto scheduler = Scheduler::Create(Config());
  Decisions d = scheduler->Schedule(h.state(), queue, Time(0));
  EXPECT_EQ(d.binds, 1);
  EXPECT_EQ(h.state().segment(SegmentId(0)).free_whole, 16);
}

TEST(SchedulerTest, GangLargerThanAnyClusterIsRejected) {
  // Two clusters of 16 H100 each: a 24-GPU gang never fits one cluster.
  Harness h(TestPool().Cluster("c1", "H100", 2, 8).Cluster("c2", "H100", 2, 8).Tenant("a").Build(),
            Config());
  h.Add(MakeJob(1).Gang(3, 8));
  Decisions d = h.Round();
  ASSERT_EQ(d.items.size(), 1u);
  EXPECT_EQ(d.items[0].kind, DecisionKind::kReject);
  EXPECT_EQ(d.items[0].outcome, Outcome::kInfeasible);
  EXPECT_THAT(d.items[0].reason, HasSubstr("no cluster of H100 holds 3 workers x 8 devices"));
}

TEST(SchedulerTest, QuotaMaxHoldsAJobBack) {
  Harness h(TestPool().Cluster("c", "H100", 4, 8).Tenant("a").Quota("a", "H100", 0, 16).Build(),
            Config());
  h.Add(MakeJob(1).Tenant(h.pool(), "a").Gang(1, 8));
  h.Add(MakeJob(2).Tenant(h.pool(), "a").Gang(1, 8));
  h.Add(MakeJob(3).Tenant(h.pool(), "a").Gang(1, 8));
  Decisions d = h.Round();
  // 8 + 8 = 16 = max; the third waits although 16 devices are idle.
  EXPECT_EQ(d.binds, 2);
  const Decision* third = h.Find(d, 3);
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(third->kind, DecisionKind::kWait);
  EXPECT_EQ(third->outcome, Outcome::kUnschedulable);
  EXPECT_THAT(third->reason, HasSubstr("holds 16 of its max 16 H100 and the job needs 8"));
}

TEST(SchedulerTest, JobAboveItsQuotaMaxIsInfeasible) {
  Harness h(TestPool().Cluster("c", "H100", 4, 8).Tenant("a").Quota("a", "H100", 0, 8).Build(),
            Config());
  h.Add(MakeJob(1).Tenant(h.pool(), "a").Gang(2, 8));
  Decisions d = h.Round();
  EXPECT_EQ(d.items[0].kind, DecisionKind::kReject);
  EXPECT_THAT(d.items[0].reason, HasSubstr("may hold at most 8 H100 and the job needs 16"));
}

TEST(SchedulerTest, CheapestProviderWins) {
  // Same type at two providers: 12 and 9 yuan per device-hour -> the 9-yuan cluster.
  Harness h(TestPool()
                .Cluster("dear", "A100", 1, 8, 32, 8, "p-dear", 12.0)
                .Cluster("cheap", "A100", 1, 8, 32, 8, "p-cheap", 9.0)
                .Tenant("a")
                .Build(),
            Config());
  h.Add(MakeJob(1).Types(h.pool(), {"A100"}).Devices(4));
  Decisions d = h.Round();
  ASSERT_EQ(d.binds, 1);
  EXPECT_EQ(h.state().segment(d.items[0].allocation->segment).cluster.value(), 1u);
  EXPECT_THAT(d.items[0].reason, HasSubstr("cluster cheap (p-cheap"));
}

TEST(SchedulerTest, FallsBackToTheNextAcceptableType) {
  // H100 is full; the job accepts A100 as a second choice.
  Harness h(TestPool().Cluster("h", "H100", 1, 8).Cluster("a", "A100", 1, 8).Tenant("t").Build(),
            Config());
  h.Add(MakeJob(1).Types(h.pool(), {"H100"}).Devices(8));
  h.Add(MakeJob(2).Types(h.pool(), {"H100", "A100"}).Devices(8).Submit(1));
  Decisions d = h.Round(1);
  EXPECT_EQ(d.binds, 2);
  EXPECT_EQ(h.state().segment(h.Find(d, 2)->allocation->segment).type.value(), 3u);  // A100
}

TEST(SchedulerTest, HigherPriorityPreemptsAWholeGang) {
  // A 2 x 8 low-priority gang holds the cluster; a high-priority 8-GPU job evicts the gang
  // whole (both workers), not one of its nodes.
  Harness h(TestPool().Cluster("c", "H100", 2, 8).Tenant("a").Build(), Config("priority"));
  h.Add(MakeJob(1).Gang(2, 8).Priority(0).Runtime(1000));
  ASSERT_EQ(h.Round(0).binds, 1);
  h.Add(MakeJob(2).Devices(8).Priority(1000, false).Submit(10));
  Decisions d = h.Round(10);
  ASSERT_EQ(d.preemptions, 1);
  EXPECT_EQ(d.items[0].kind, DecisionKind::kPreempt);
  EXPECT_EQ(d.items[0].job.value(), 1u);
  EXPECT_EQ(d.items[0].for_job.value(), 2u);
  EXPECT_THAT(d.items[0].reason, HasSubstr("priority 0 < 1000"));
  EXPECT_EQ(h.Find(d, 2)->kind, DecisionKind::kBind);
  EXPECT_EQ(h.state().FindRunning(core::JobId(1)), nullptr);
}

TEST(SchedulerTest, NonPreemptibleJobsAreNeverVictims) {
  Harness h(TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Build(), Config("priority"));
  h.Add(MakeJob(1).Devices(8).Priority(0, /*preemptible=*/false));
  h.Round(0);
  h.Add(MakeJob(2).Devices(8).Priority(1000).Submit(1));
  Decisions d = h.Round(1);
  EXPECT_EQ(d.preemptions, 0);
  EXPECT_EQ(h.Find(d, 2)->kind, DecisionKind::kWait);
}

TEST(SchedulerTest, PreemptsTheCheapestVictim) {
  // Two 8-GPU victims started at t=0, now t=1000. Job 1 checkpoints every 900 s: it loses
  // 100 s x 8 = 800 device-seconds. Job 2 never checkpoints: it loses 1000 x 8 = 8000.
  // The 8-GPU newcomer evicts job 1.
  Harness h(TestPool().Cluster("c", "H100", 2, 8).Tenant("a").Build(), Config("priority"));
  h.Add(MakeJob(1).Devices(8).Checkpoint(900, 0));
  h.Add(MakeJob(2).Devices(8));
  ASSERT_EQ(h.Round(0).binds, 2);
  h.Add(MakeJob(3).Devices(8).Priority(1000).Submit(1000));
  Decisions d = h.Round(1000);
  ASSERT_EQ(d.preemptions, 1);
  EXPECT_EQ(d.items[0].job.value(), 1u);
}

TEST(SchedulerTest, PreemptsNoMoreThanNeeded) {
  // Four 2-GPU victims on one node; a 4-GPU job needs two of them, not four.
  Harness h(TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Build(), Config("priority"));
  for (int i = 1; i <= 4; ++i) h.Add(MakeJob(i).Devices(2));
  ASSERT_EQ(h.Round(0).binds, 4);
  h.Add(MakeJob(5).Devices(4).Priority(1000).Submit(1));
  Decisions d = h.Round(1);
  EXPECT_EQ(d.preemptions, 2);
  EXPECT_EQ(h.Find(d, 5)->kind, DecisionKind::kBind);
}

TEST(SchedulerTest, OwnerReclaimsBorrowedGuarantee) {
  // Tenant a is guaranteed 8 H100 but idle; b (guaranteed 0) borrowed all 16. When a asks for
  // its 8, a borrower at the same priority is preempted.
  Harness h(TestPool()
                .Cluster("c", "H100", 2, 8)
                .Tenant("a")
                .Tenant("b")
                .Quota("a", "H100", 8, 16)
                .Quota("b", "H100", 0, 16)
                .Build(),
            Config());
  h.Add(MakeJob(1).Tenant(h.pool(), "b").Devices(8));
  h.Add(MakeJob(2).Tenant(h.pool(), "b").Devices(8));
  ASSERT_EQ(h.Round(0).binds, 2);
  h.Add(MakeJob(3).Tenant(h.pool(), "a").Devices(8).Submit(5));
  Decisions d = h.Round(5);
  ASSERT_EQ(d.preemptions, 1);
  EXPECT_THAT(d.items[0].reason, HasSubstr("borrows beyond its guaranteed H100"));
  EXPECT_EQ(h.Find(d, 3)->kind, DecisionKind::kBind);
}

TEST(SchedulerTest, NoReclaimBeyondTheGuarantee) {
  // Same as above, but a asks for 16 (more than its guarantee of 8): no preemption.
  Harness h(TestPool()
                .Cluster("c", "H100", 2, 8)
                .Tenant("a")
                .Tenant("b")
                .Quota("a", "H100", 8, 16)
                .Quota("b", "H100", 0, 16)
                .Build(),
            Config());
  h.Add(MakeJob(1).Tenant(h.pool(), "b").Gang(2, 8));
  ASSERT_EQ(h.Round(0).binds, 1);
  h.Add(MakeJob(2).Tenant(h.pool(), "a").Gang(2, 8).Submit(5));
  EXPECT_EQ(h.Round(5).preemptions, 0);
}

// Projects (core::Project) nest in their tenant's quota. Worked example: tenant acme may hold 32
// H100 (guaranteed 16); its project vision at most 12. vision's first 8 start; its second 8
// would make 16 > 12 and waits although acme holds only 8 of 32 and 24 H100 are idle; a 16-GPU
// job of vision can never run (16 > 12). llm (no max of its own) takes the idle 16 up to acme's.
TEST(SchedulerTest, AProjectMaxHoldsItsJobBackInsideItsTenant) {
  Harness h(TestPool()
                .Cluster("c", "H100", 4, 8)
                .Tenant("acme")
                .Quota("acme", "H100", 16, 32)
                .Project("acme", "vision", 1, "H100", 8, 12)
                .Project("acme", "llm", 1, "H100", 8, -1)
                .Build(),
            Config());
  const core::Pool& pool = h.pool();
  h.Add(MakeJob(1).Tenant(pool, "acme").Project(pool, "vision").Devices(8));
  h.Add(MakeJob(2).Tenant(pool, "acme").Project(pool, "vision").Devices(8));
  h.Add(MakeJob(3).Tenant(pool, "acme").Project(pool, "vision").Gang(2, 8));
  h.Add(MakeJob(4).Tenant(pool, "acme").Project(pool, "llm").Gang(2, 8));
  Decisions d = h.Round();
  EXPECT_EQ(h.Find(d, 1)->kind, DecisionKind::kBind);
  EXPECT_EQ(h.Find(d, 2)->kind, DecisionKind::kWait);
  EXPECT_THAT(h.Find(d, 2)->reason,
              HasSubstr("project 'acme/vision' holds 8 of its max 12 H100 and the job needs 8"));
  EXPECT_EQ(h.Find(d, 3)->kind, DecisionKind::kReject);
  EXPECT_THAT(h.Find(d, 3)->reason,
              HasSubstr("project 'acme/vision' may hold at most 12 H100 and the job needs 16"));
  EXPECT_EQ(h.Find(d, 4)->kind, DecisionKind::kBind);
  EXPECT_EQ(h.state().TenantUsage(pool.FindTenant("acme").value(), core::DeviceTypeId(0)),
            MilliDevices(24000));
}

// Borrowing inside the tenant comes back first. 32 H100; acme guaranteed 16 = vision 8 + llm 8;
// other guaranteed 0. llm runs 16 (8 of them vision's unused guarantee, so acme is within its
// 16), other runs 16 borrowed from the pool. vision asks for its 8: acme as a whole is not
// within its guarantee (16 + 8 > 16), so it reclaims nothing from other; vision is (0 + 8 <= 8),
// so it reclaims from llm, which holds 16 > its 8: llm's newest job is the victim, not other's.
TEST(SchedulerTest, AProjectReclaimsFromASiblingBeforeItsTenantReclaimsFromOthers) {
  Harness h(TestPool()
                .Cluster("c", "H100", 4, 8)
                .Tenant("acme")
                .Tenant("other")
                .Quota("acme", "H100", 16, 32)
                .Quota("other", "H100", 0, 32)
                .Project("acme", "vision", 1, "H100", 8, -1)
                .Project("acme", "llm", 1, "H100", 8, -1)
                .Build(),
            Config());
  const core::Pool& pool = h.pool();
  h.Add(MakeJob(1).Tenant(pool, "acme").Project(pool, "llm").Devices(8));
  h.Add(MakeJob(2).Tenant(pool, "acme").Project(pool, "llm").Devices(8).Submit(1));
  h.Add(MakeJob(3).Tenant(pool, "other").Devices(8).Submit(2));
  h.Add(MakeJob(4).Tenant(pool, "other").Devices(8).Submit(3));
  ASSERT_EQ(h.Round(5).binds, 4);
  h.Add(MakeJob(5).Tenant(pool, "acme").Project(pool, "vision").Devices(8).Submit(10));
  Decisions d = h.Round(10);
  ASSERT_EQ(d.preemptions, 1);
  const Decision* victim = nullptr;
  for (const Decision& x : d.items) {
    if (x.kind == DecisionKind::kPreempt) victim = &x;
  }
  ASSERT_NE(victim, nullptr);
  EXPECT_TRUE(victim->job == core::JobId(1) || victim->job == core::JobId(2))
      << "victim " << victim->job.value();
  EXPECT_THAT(victim->reason, HasSubstr("'llm' borrows beyond its guaranteed H100 inside tenant "
                                        "'acme' and project 'vision' claims its guarantee"));
  EXPECT_EQ(h.Find(d, 5)->kind, DecisionKind::kBind);
}

// A project beyond its own guarantee reclaims nothing from its siblings (vision asks for 16,
// its guarantee is 8), and a tenant's jobs outside projects are guaranteed what the projects
// leave of the tenant's guarantee (16 - 8 - 8 = 0): they never reclaim from llm.
TEST(SchedulerTest, NoReclaimInsideATenantBeyondTheProjectGuarantee) {
  Harness h(TestPool()
                .Cluster("c", "H100", 4, 8)
                .Tenant("acme")
                .Quota("acme", "H100", 16, 32)
                .Project("acme", "vision", 1, "H100", 8, -1)
                .Project("acme", "llm", 1, "H100", 8, -1)
                .Build(),
            Config());
  const core::Pool& pool = h.pool();
  h.Add(MakeJob(1).Tenant(pool, "acme").Project(pool, "llm").Gang(4, 8));
  ASSERT_EQ(h.Round(0).binds, 1);
  h.Add(MakeJob(2).Tenant(pool, "acme").Project(pool, "vision").Gang(2, 8).Submit(5));
  h.Add(MakeJob(3).Tenant(pool, "acme").Devices(8).Submit(6));
  EXPECT_EQ(h.Round(10).preemptions, 0);
}

// Fair share is hierarchical. 100 H100 (25 nodes x 4); tenants acme and beta (weight 1 each)
// hold nothing. Inside acme: vision (weight 1) and llm (weight 3). Every job takes 4 GPUs
// (a share of 0.04). Queued: vision 1, vision 2, llm 3, llm 4, beta 5, llm 6.
//   1st: acme 0 = beta 0, tie by tenant id: acme; inside, vision 0 = llm 0 / 3, tie by queue:
//        vision (job 1). acme 0.04, vision 0.04.
//   2nd: beta 0 < acme 0.04: beta (job 5). beta 0.04, and beta has no more jobs.
//   3rd: acme; vision 0.04 / 1 > llm 0 / 3: llm (job 3). llm 0.04 / 3 = 0.013.
//   4th: vision 0.04 > llm 0.013: llm (job 4). llm 0.08 / 3 = 0.027.
//   5th: vision 0.04 > llm 0.027: llm (job 6). llm 0.12 / 3 = 0.04.
//   6th: vision 0.04 = llm 0.04, tie by queue: vision (job 2).
// With llm's weight 1 the order would be 1, 5, 3, 2, 4, 6.
TEST(SchedulerTest, FairShareIsHierarchicalOverProjects) {
  for (int64_t llm_weight : {3, 1}) {
    const core::Pool pool = TestPool()
                                .Cluster("c", "H100", 25, 4)
                                .Tenant("acme")
                                .Tenant("beta")
                                .Project("acme", "vision", 1)
                                .Project("acme", "llm", llm_weight)
                                .Build();
    auto job = [&](uint64_t id, const char* tenant, const char* project) {
      MakeJob j(id);
      j.Tenant(pool, tenant).Gang(1, 4).Submit(static_cast<int64_t>(id));
      if (project != nullptr) j.Project(pool, project);
      return j.spec();
    };
    const std::vector<core::JobSpec> specs = {job(1, "acme", "vision"), job(2, "acme", "vision"),
                                              job(3, "acme", "llm"),    job(4, "acme", "llm"),
                                              job(5, "beta", nullptr),  job(6, "acme", "llm")};
    std::vector<QueuedJob> queue;
    for (const core::JobSpec& s : specs) queue.push_back(QueuedJob{&s, 0, Seconds(0)});
    ClusterState state(pool);
    PolicyConfig config = Config("fair_share");
    QueueContext context{state, nullptr, config, Time(10)};
    std::vector<uint64_t> ids;
    for (size_t i : QueueOrder(FairShareQueue(), queue, context))
      ids.push_back(specs[i].id.value());
    if (llm_weight == 3) {
      EXPECT_EQ(ids, (std::vector<uint64_t>{1, 5, 3, 4, 6, 2}));
    } else {
      EXPECT_EQ(ids, (std::vector<uint64_t>{1, 5, 3, 2, 4, 6}));
    }
  }
}

TEST(SchedulerTest, BackfillReservesForTheBlockedHead) {
  // 3 nodes x 8 GPUs; job 1 (8 GPUs) runs until t=100. Head job 2 wants all 24 and is reserved
  // at t=100. Job 3 (8 GPUs, 50 s) ends before t=100: it backfills. Job 4 (8 GPUs, 500 s) could
  // start on the last free node but would delay the head: it waits.
  PolicyConfig config = Config();
  config.preemption = false;
  Harness h(TestPool().Cluster("c", "H100", 3, 8).Tenant("a").Build(), config);
  h.Add(MakeJob(1).Devices(8).Runtime(100));
  ASSERT_EQ(h.Round(0).binds, 1);
  h.Add(MakeJob(2).Gang(3, 8).Runtime(100).Submit(1));
  h.Add(MakeJob(3).Devices(8).Runtime(50).Submit(2));
  h.Add(MakeJob(4).Devices(8).Runtime(500).Submit(3));
  Decisions d = h.Round(3);
  const Decision* head = h.Find(d, 2);
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->kind, DecisionKind::kReserve);
  EXPECT_EQ(head->earliest_start, Time(100));
  EXPECT_EQ(h.Find(d, 3)->kind, DecisionKind::kBind);
  EXPECT_THAT(h.Find(d, 3)->reason, HasSubstr("backfilled"));
  const Decision* late = h.Find(d, 4);
  EXPECT_EQ(late->kind, DecisionKind::kWait);
  EXPECT_THAT(late->reason,
              HasSubstr("waiting behind the reservation of job 2, which starts in 1m 37s"));
  EXPECT_THAT(head->reason, HasSubstr("reserved: starts in 1m 37s in cluster c"));
}

TEST(SchedulerTest, WithoutBackfillASmallJobOvertakesTheHead) {
  PolicyConfig config = Config();
  config.preemption = false;
  config.backfill = false;
  config.estimate_depth = 16;
  Harness h(TestPool().Cluster("c", "H100", 2, 8).Tenant("a").Build(), config);
  h.Add(MakeJob(1).Devices(8).Runtime(100));
  h.Round(0);
  h.Add(MakeJob(2).Gang(2, 8).Runtime(100).Submit(1));
  h.Add(MakeJob(4).Devices(8).Runtime(500).Submit(3));
  Decisions d = h.Round(3);
  EXPECT_EQ(h.Find(d, 4)->kind, DecisionKind::kBind);
  EXPECT_EQ(h.Find(d, 2)->kind, DecisionKind::kWait);
  // Still told when it could start: job 1 ends at t=100 and job 4 at 3 + 500 = 503; both nodes
  // are free at 503.
  EXPECT_EQ(h.Find(d, 2)->earliest_start, Time(503));
}

TEST(SchedulerTest, BlockingKeepsStrictOrder) {
  // 8 GPUs, 4 busy. Head job 2 wants 8 and cannot start; job 3 (2 GPUs) would fit but must
  // not overtake it.
  PolicyConfig config = Config();
  config.blocking = true;
  config.preemption = false;
  Harness h(TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Build(), config);
  h.Add(MakeJob(1).Devices(4));
  h.Round(0);
  h.Add(MakeJob(2).Devices(8).Submit(1));
  h.Add(MakeJob(3).Devices(2).Submit(2));
  Decisions d = h.Round(2);
  EXPECT_EQ(d.binds, 0);
  EXPECT_THAT(h.Find(d, 3)->reason, HasSubstr("behind job 2 (head-of-line blocking)"));
}

TEST(SchedulerTest, UnknownRuntimesGiveNoPromise) {
  Harness h(TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Build(), Config());
  h.Add(MakeJob(1).Devices(8));  // no estimate, no limit
  h.Round(0);
  h.Add(MakeJob(2).Devices(8).Submit(1));
  Decisions d = h.Round(1);
  EXPECT_EQ(h.Find(d, 2)->outcome, Outcome::kUnschedulable);
  EXPECT_FALSE(h.Find(d, 2)->earliest_start.has_value());
}

TEST(SchedulerTest, LasPreemptsADemotedJob) {
  // 2D-LAS limits {100}: a running job with 8 GPUs x 20 s = 160 device-seconds sits in queue 1;
  // a new job (queue 0) of the same priority preempts it.
  PolicyConfig config = Config("las");
  config.las_thresholds = {100};
  auto pool = TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Build();
  ClusterState state(pool);
  auto scheduler = Scheduler::Create(config);
  core::JobSpec old_job = MakeJob(1).Devices(8);
  core::JobSpec new_job = MakeJob(2).Devices(8).Submit(20);
  std::vector<QueuedJob> first = {{&old_job, 0, Seconds(0)}};
  ApplyDecisions(state, scheduler->Schedule(state, first, Time(0)), Time(0));
  ASSERT_NE(state.FindRunning(core::JobId(1)), nullptr);
  // The caller keeps attained service on the running job.
  const_cast<RunningJob*>(state.FindRunning(core::JobId(1)))->attained_service = 160;
  std::vector<QueuedJob> second = {{&new_job, 0, Seconds(0)}};
  Decisions d = scheduler->Schedule(state, second, Time(20));
  EXPECT_EQ(d.preemptions, 1);
  EXPECT_THAT(d.items[0].reason, HasSubstr("2D-LAS"));
}

TEST(SchedulerTest, SameInputsSameDecisions) {
  auto make = [] {
    return std::make_unique<Harness>(TestPool()
                                         .Cluster("c", "H100", 8, 8, 4)
                                         .Cluster("d", "A100", 4, 8)
                                         .Tenant("a")
                                         .Tenant("b")
                                         .Build(),
                                     Config("fair_share", "topology_pack"));
  };
  auto h1 = make(), h2 = make();
  for (Harness* h : {h1.get(), h2.get()}) {
    for (int i = 1; i <= 40; ++i) {
      h->Add(MakeJob(i)
                 .Tenant(h->pool(), i % 2 ? "a" : "b")
                 .Types(h->pool(), {"H100", "A100"})
                 .Gang(1 + i % 3, 1 << (i % 4))
                 .Runtime(100 + i)
                 .Submit(i % 7));
    }
  }
  Decisions a = h1->Round(10), b = h2->Round(10);
  ASSERT_EQ(a.items.size(), b.items.size());
  for (size_t i = 0; i < a.items.size(); ++i) {
    EXPECT_EQ(a.items[i].job, b.items[i].job);
    EXPECT_EQ(a.items[i].kind, b.items[i].kind);
    EXPECT_EQ(a.items[i].reason, b.items[i].reason);
  }
}

// The earliest-start memo (ClusterState::EarliestStartMemo) changes speed, never decisions. A
// state kept across rounds (memo warm) and a state rebuilt for every round from the same running
// jobs (memo empty) must decide the same, round after round, while jobs arrive, are preempted and
// finish early, on time or late (late: their expected end is past, which moves reservations).
// Rounds come at irregular times, so expected ends fall between them; after each round a what-if
// with estimates for every waiting job (the control plane's why-pending) runs on the same state
// with its own Scheduler, as the server does, and must agree as well.
void ExpectSameDecisions(const Decisions& a, const Decisions& b, int64_t now) {
  ASSERT_EQ(a.items.size(), b.items.size()) << "t=" << now;
  for (size_t i = 0; i < a.items.size(); ++i) {
    const Decision& x = a.items[i];
    const Decision& y = b.items[i];
    ASSERT_EQ(x.job, y.job) << "t=" << now;
    ASSERT_EQ(x.kind, y.kind) << "t=" << now << " job " << x.job.value();
    ASSERT_EQ(x.reason, y.reason) << "t=" << now;
    ASSERT_EQ(x.earliest_start, y.earliest_start) << "t=" << now << " job " << x.job.value();
    ASSERT_EQ(x.allocation.has_value(), y.allocation.has_value());
    if (!x.allocation) continue;
    ASSERT_EQ(x.allocation->segment, y.allocation->segment);
    ASSERT_EQ(x.allocation->workers.size(), y.allocation->workers.size());
    for (size_t w = 0; w < x.allocation->workers.size(); ++w) {
      EXPECT_EQ(x.allocation->workers[w].node, y.allocation->workers[w].node);
      EXPECT_EQ(x.allocation->workers[w].devices, y.allocation->workers[w].devices);
      EXPECT_EQ(x.allocation->workers[w].per_device, y.allocation->workers[w].per_device);
    }
  }
}

TEST(SchedulerTest, KeptEarliestStartsDecideAsFreshOnes) {
  const std::vector<std::pair<std::string, std::string>> policies = {
      {"fair_share", "topology_pack"}, {"las", "best_fit"}, {"priority", "first_fit"}};
  for (const auto& [queue_policy, placement] : policies) {
    SCOPED_TRACE(queue_policy + "/" + placement);
    const core::Pool pool = TestPool()
                                .Cluster("c", "H100", 12, 8, 4)
                                .Cluster("d", "H100", 6, 8, 2, 8, "q", 12.0)
                                .Cluster("f", "H100", 8, 4, 4, 8, "r", 12.0, /*domain=*/16)
                                .Cluster("e", "A100", 6, 8)
                                .Tenant("a")
                                .Tenant("b")
                                .Tenant("c")
                                .Build();
    PolicyConfig config = Config(queue_policy, placement);
    config.preemption = true;
    config.backfill = true;
    config.estimate_depth = 3;
    auto scheduler = Scheduler::Create(config);
    ASSERT_TRUE(scheduler.ok());
    config.estimate_depth = 1000;
    auto explain = Scheduler::Create(config);
    ASSERT_TRUE(explain.ok());

    std::mt19937_64 rng(11);
    std::vector<core::JobSpec> jobs;
    std::vector<int64_t> actual;  // seconds each job really runs
    for (uint64_t i = 1; i <= 300; ++i) {
      const int r = static_cast<int>(rng() % 12);
      const int workers = r < 5 ? 1 : r < 8 ? 2 : 1 + static_cast<int>(rng() % 8);
      const int devices = workers > 1 ? (rng() % 2 ? 8 : 4) : 1 << (rng() % 4);
      const char* tenant = i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c";
      const std::vector<std::string> types = r == 9   ? std::vector<std::string>{"A100"}
                                             : r == 8 ? std::vector<std::string>{"H100", "A100"}
                                                      : std::vector<std::string>{"H100"};
      const int64_t runtime = 100 + static_cast<int64_t>(rng() % 900);
      MakeJob job = MakeJob(i)
                        .Tenant(pool, tenant)
                        .Types(pool, types)
                        .Gang(workers, devices)
                        .Priority(rng() % 5 == 0 ? 100 : 0)
                        .Submit(static_cast<int64_t>(i) * 12);
      if (r >= 10) job.Gang(1, 1).Fraction(r == 10 ? 250 : 500);
      if (rng() % 20 != 0) job.Runtime(runtime);  // a few without an estimate
      jobs.push_back(job);
      // Half end when expected, a quarter early, a quarter late.
      const int64_t spread = static_cast<int64_t>(rng() % 4);
      actual.push_back(spread < 2 ? runtime : spread == 2 ? runtime / 2 : runtime + 300);
    }
    struct Run {
      size_t job;
      Time end;  // when it really ends
    };
    std::vector<Run> running;
    std::vector<size_t> queued;
    size_t next = 0, done = 0;
    int64_t kept_attempts = 0, fresh_attempts = 0, rounds = 0;
    ClusterState kept(pool);
    auto rebuilt = [&] {
      auto fresh = std::make_unique<ClusterState>(pool);
      for (const RunningJob* r : kept.Running()) fresh->Start(*r);
      return fresh;
    };
    for (int64_t now = 0; done < jobs.size() && now < 400'000;
         now += 3 + static_cast<int64_t>(rng() % 15)) {
      std::erase_if(running, [&](const Run& r) {
        if (r.end.value() > now) return false;
        kept.Finish(jobs[r.job].id);
        ++done;
        return true;
      });
      while (next < jobs.size() && jobs[next].submit_time.value() <= now) queued.push_back(next++);
      if (queued.empty()) continue;
      std::vector<QueuedJob> queue;
      for (size_t j : queued) queue.push_back(QueuedJob{&jobs[j], 0, Seconds(0)});
      const Decisions a = scheduler->Schedule(kept, queue, Time(now));
      const Decisions b = scheduler->Schedule(*rebuilt(), queue, Time(now));
      ++rounds;
      kept_attempts += a.placement_attempts;
      fresh_attempts += b.placement_attempts;
      ExpectSameDecisions(a, b, now);
      if (HasFatalFailure()) return;
      ApplyDecisions(kept, a, Time(now));
      for (const Decision& d : a.items) {
        const size_t j = d.job.value() - 1;
        if (d.kind == DecisionKind::kPreempt) {
          std::erase_if(running, [&](const Run& r) { return r.job == j; });
          queued.push_back(j);
        } else if (d.kind == DecisionKind::kBind) {
          const int64_t runs = jobs[j].runtime_estimate ? actual[j] : 50;
          running.push_back({j, Time(now + runs)});
          std::erase(queued, j);
        } else if (d.kind == DecisionKind::kReject) {
          std::erase(queued, j);
          ++done;
        }
      }
      if (rounds % 5 == 0 && !queued.empty()) {  // a why-pending between rounds
        std::vector<QueuedJob> waiting;
        for (size_t j : queued) waiting.push_back(QueuedJob{&jobs[j], 0, Seconds(0)});
        ExpectSameDecisions(explain->Schedule(kept, waiting, Time(now)),
                            explain->Schedule(*rebuilt(), waiting, Time(now)), now);
        if (HasFatalFailure()) return;
      }
    }
    EXPECT_EQ(done, jobs.size());
    EXPECT_GT(rounds, 300);
    // The memo saved work, or this test would not exercise it.
    EXPECT_LT(kept_attempts, fresh_attempts * 95 / 100)
        << "kept " << kept_attempts << " fresh " << fresh_attempts;
  }
}

}  // namespace
}  // namespace suanpan::sched
