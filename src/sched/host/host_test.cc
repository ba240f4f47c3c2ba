// sched::Host: parking changes no decision; restart-safe memory; rank timers; what-ifs.

#include "sched/host/host.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <random>

#include "testing/builders.h"

namespace suanpan::sched {
namespace {

using suanpan::testing::MakeJob;
using suanpan::testing::TestPool;
using ::testing::HasSubstr;

// Two H100 clusters at different prices and an A100 cluster; three tenants, two with quotas
// (guarantees make reclaim possible), one without.
core::Pool MixedPool() {
  return TestPool()
      .Cluster("c1", "H100", 4, 8, 2, 2, "p1", 10.0)
      .Cluster("c2", "H100", 3, 8, 2, 2, "p2", 12.0)
      .Cluster("c3", "A100", 4, 4, 2, 2, "p3", 6.0)
      .Tenant("a", 2)
      .Tenant("b", 1)
      .Tenant("c", 1)
      .Quota("a", "H100", 8, 24)
      .Quota("b", "A100", 4, 16)
      .Quota("b", "H100", 0, 16)
      .Build();
}

Scheduler Make(const std::string& queue, const std::string& placement, bool preemption = true,
               bool backfill = true) {
  PolicyConfig c;
  c.queue = queue;
  c.placement = placement;
  c.preemption = preemption;
  c.backfill = backfill;
  c.fair_share_half_life = Seconds(3600);
  c.las_thresholds = {800, 4000};
  auto s = Scheduler::Create(c);
  SP_CHECK(s.ok()) << s.status().ToString();
  return std::move(*s);
}

// A decision as the equivalence compares it: every field of binds, preemptions, reservations
// and rejections (waits of parked jobs are not re-explained, by design).
std::string Describe(const Decision& d) {
  std::string out =
      fmt::format("{} job {} for {} at {} |{}|", DecisionKindName(d.kind), d.job.value(),
                  d.for_job.value(), d.earliest_start ? d.earliest_start->value() : -1, d.reason);
  if (d.allocation) {
    out += fmt::format(" seg {}", d.allocation->segment.value());
    for (const auto& w : d.allocation->workers) {
      out += fmt::format(" n{}:{:x}:{}", w.node.value(), w.devices, w.per_device.value());
    }
  }
  return out;
}

std::vector<std::string> Outcomes(const Decisions& d) {
  std::vector<std::string> out;
  for (const Decision& x : d.items) {
    if (x.kind != DecisionKind::kWait) out.push_back(Describe(x));
  }
  return out;
}

// Drives two hosts (one parks jobs blocked by capacity or quota, one parks nothing) through the
// same random events and returns the placement attempts of each; fails at the first round whose
// decisions differ.
std::pair<int64_t, int64_t> DriveBoth(const core::Pool& pool, const std::string& queue,
                                      const std::string& placement, bool preemption, bool backfill,
                                      uint64_t seed, int steps) {
  Host parking(pool, Make(queue, placement, preemption, backfill));
  Host plain(pool, Make(queue, placement, preemption, backfill),
             Host::Options{.park_capacity = false, .park_quota = false});
  std::mt19937_64 rng(seed);
  std::deque<core::JobSpec> specs;  // stable addresses
  std::vector<core::JobId> queued, running;
  std::vector<core::NodeId> cordoned;
  int64_t now = 0;
  uint64_t next_id = 1;
  int64_t attempts_parking = 0, attempts_plain = 0;  // jobs considered
  size_t max_parked = 0;
  auto both_end = [&](core::JobId id, bool requeue) {
    parking.EndRun(id, Time(now), requeue);
    plain.EndRun(id, Time(now), requeue);
  };
  for (int step = 0; step < steps; ++step) {
    now += 1 + static_cast<int64_t>(rng() % 200);
    // Arrivals.
    const int arrivals = static_cast<int>(rng() % 6);
    for (int k = 0; k < arrivals; ++k) {
      MakeJob job(next_id++);
      const char* tenants[] = {"a", "b", "c"};
      job.Tenant(pool, tenants[rng() % 3]).Submit(now);
      const auto& projects = pool.tenant(job.spec().tenant).projects;
      if (!projects.empty()) {
        const size_t pick = rng() % (projects.size() + 1);  // 0: the tenant's own queue
        if (pick > 0) job.Project(pool, projects[pick - 1].name);
      }
      const int shape = static_cast<int>(rng() % 10);
      if (shape == 0) {
        job.Fraction(rng() % 2 ? 250 : 500);
      } else if (shape < 6) {
        const int sizes[] = {1, 2, 4, 8};
        job.Devices(sizes[rng() % 4]);
      } else if (shape < 8) {
        job.Gang(2, rng() % 2 ? 4 : 8);
      } else if (shape == 8) {
        job.Gang(3, 8);
      } else {
        job.Gang(5, 8);  // larger than any cluster of A100, fits H100 only in c1 + queueing
      }
      const int types = static_cast<int>(rng() % 3);
      if (types == 0) job.Types(pool, {"H100"});
      if (types == 1) job.Types(pool, {"A100"});
      if (types == 2) job.Types(pool, {"H100", "A100"});
      if (rng() % 10 == 0) {
        job.Priority(5, rng() % 2 == 0);
      } else {
        job.Priority(0, rng() % 8 != 0);
      }
      if (rng() % 10 < 7) job.Runtime(100 + static_cast<int64_t>(rng() % 2000));
      if (rng() % 3 == 0) job.Checkpoint(300, 20);
      specs.push_back(job);
      if (!core::ValidateJob(specs.back(), pool).ok()) {
        specs.pop_back();
        continue;
      }
      parking.Submit(specs.back(), Time(now));
      plain.Submit(specs.back(), Time(now));
    }
    // Finishes, losses, cancels, nodes out of service and back.
    // Ids first: ending a run changes the running list under the loop.
    std::vector<core::JobId> live;
    for (const RunningJob* r : plain.state().Running()) {
      if (r->spec->tenant != plain.state().SystemTenant()) live.push_back(r->spec->id);
    }
    for (core::JobId id : live) {
      const int roll = static_cast<int>(rng() % 100);
      if (roll < 15) {
        both_end(id, /*requeue=*/false);
      } else if (roll < 17) {
        both_end(id, /*requeue=*/true);
      }
    }
    for (const QueuedJob& q : plain.QueueSnapshot()) {
      if (rng() % 100 < 3) {
        parking.Withdraw(q.spec->id);
        plain.Withdraw(q.spec->id);
      }
    }
    if (rng() % 100 < 4) {
      const core::NodeId node(static_cast<uint32_t>(rng() % pool.nodes().size()));
      if (!plain.Cordoned(node)) {
        for (core::JobId id : plain.JobsOn(node)) both_end(id, /*requeue=*/true);
        parking.Cordon(node, Time(now));
        plain.Cordon(node, Time(now));
        cordoned.push_back(node);
      }
    }
    if (!cordoned.empty() && rng() % 100 < 8) {
      parking.Uncordon(cordoned.front());
      plain.Uncordon(cordoned.front());
      cordoned.erase(cordoned.begin());
    }
    // Rounds.
    std::string before;
    for (size_t k = 0; k < specs.size(); ++k) {
      auto on = parking.ParkedOn(specs[k].id);
      if (on.empty()) continue;
      before += fmt::format(" job{}:", specs[k].id.value());
      for (SegmentId s : on) {
        before +=
            fmt::format("s{}(rv {} ver {} free {})", s.value(), parking.state().ReleaseVersion(s),
                        parking.VerifiedAt(s), parking.state().FreeKey(s));
      }
    }
    Host::RoundResult a = parking.Round(Time(now));
    Host::RoundResult b = plain.Round(Time(now));
    attempts_parking += a.decisions.considered;
    attempts_plain += b.decisions.considered;
    max_parked = std::max(max_parked, parking.parked_count());
    EXPECT_EQ(Outcomes(a.decisions), Outcomes(b.decisions))
        << queue << "/" << placement << " seed " << seed << " step " << step << " t=" << now
        << "\nparked before:" << before;
    if (Outcomes(a.decisions) != Outcomes(b.decisions)) break;
    EXPECT_EQ(parking.queued_count(), plain.queued_count());
  }
  EXPECT_GT(max_parked, 0u) << "the workload never parked a job: the test would prove nothing";
  return {attempts_parking, attempts_plain};
}

// SUANPAN_EQUIVALENCE_SEEDS=N runs N seeds per policy (default 2) for a longer soak.
TEST(HostTest, ParkingChangesNoDecision) {
  const core::Pool pool = MixedPool();
  const char* env = std::getenv("SUANPAN_EQUIVALENCE_SEEDS");
  const uint64_t seeds = env ? std::max(1, std::atoi(env)) : 2;
  int64_t parking = 0, plain = 0;
  for (const char* queue : {"fifo", "priority", "fair_share", "las", "srtf"}) {
    for (const char* placement : {"best_fit", "topology_pack", "frag_aware", "first_fit"}) {
      for (uint64_t seed = 1; seed <= seeds; ++seed) {
        auto [a, b] = DriveBoth(pool, queue, placement, true, true, seed, 250);
        parking += a;
        plain += b;
      }
    }
  }
  // And without preemption or backfill (parked jobs are then never the blocked head).
  for (const char* queue : {"fifo", "fair_share"}) {
    auto [a, b] = DriveBoth(pool, queue, "best_fit", false, false, 3, 250);
    parking += a;
    plain += b;
  }
  // Parking is only worth it if rounds look at fewer jobs.
  EXPECT_LT(parking, plain * 9 / 10) << parking << " vs " << plain;
}

// The same with projects nested in tenants (core::Project): a's two projects split its H100
// guarantee of 8 (6 + 2) and cap one of them at 12; b's project has an A100 guarantee of 4 and
// no H100 beyond 8. Parking by queue must still change no decision.
TEST(HostTest, ParkingChangesNoDecisionWithProjects) {
  const core::Pool pool = TestPool()
                              .Cluster("c1", "H100", 4, 8, 2, 2, "p1", 10.0)
                              .Cluster("c2", "H100", 3, 8, 2, 2, "p2", 12.0)
                              .Cluster("c3", "A100", 4, 4, 2, 2, "p3", 6.0)
                              .Tenant("a", 2)
                              .Tenant("b", 1)
                              .Tenant("c", 1)
                              .Quota("a", "H100", 8, 24)
                              .Quota("b", "A100", 4, 16)
                              .Quota("b", "H100", 0, 16)
                              .Project("a", "x", 1, "H100", 6, 12)
                              .Project("a", "y", 2, "H100", 2, -1)
                              .Project("b", "z", 1, "A100", 4, 8)
                              .Build();
  for (const char* queue : {"fifo", "fair_share", "las"}) {
    for (const char* placement : {"best_fit", "topology_pack"}) {
      DriveBoth(pool, queue, placement, true, true, 11, 250);
    }
  }
}

// Conformance: a tenant whose every job is in one project without a quota of its own schedules
// exactly as the flat tenant (same binds, preemptions, reservations, reasons, devices), round
// after round, under every queue policy.
TEST(HostTest, OneUnboundedProjectPerTenantSchedulesAsFlat) {
  const core::Pool flat = MixedPool();
  const core::Pool nested = TestPool()
                                .Cluster("c1", "H100", 4, 8, 2, 2, "p1", 10.0)
                                .Cluster("c2", "H100", 3, 8, 2, 2, "p2", 12.0)
                                .Cluster("c3", "A100", 4, 4, 2, 2, "p3", 6.0)
                                .Tenant("a", 2)
                                .Tenant("b", 1)
                                .Tenant("c", 1)
                                .Quota("a", "H100", 8, 24)
                                .Quota("b", "A100", 4, 16)
                                .Quota("b", "H100", 0, 16)
                                .Project("a", "all")
                                .Project("b", "all")
                                .Project("c", "all")
                                .Build();
  for (const char* queue : {"fifo", "priority", "fair_share", "las", "srtf"}) {
    Host a(flat, Make(queue, "topology_pack"));
    Host b(nested, Make(queue, "topology_pack"));
    std::mt19937_64 rng(7);
    std::deque<core::JobSpec> flat_specs, nested_specs;
    int64_t now = 0;
    uint64_t next_id = 1;
    size_t binds = 0;
    for (int step = 0; step < 200; ++step) {
      now += 1 + static_cast<int64_t>(rng() % 200);
      const int arrivals = static_cast<int>(rng() % 5);
      for (int k = 0; k < arrivals; ++k) {
        const char* tenants[] = {"a", "b", "c"};
        const int sizes[] = {1, 2, 4, 8};
        MakeJob job(next_id++);
        job.Tenant(flat, tenants[rng() % 3]).Submit(now).Runtime(100 + rng() % 1500);
        if (rng() % 4 == 0) {
          job.Gang(2, 8);
        } else {
          job.Devices(sizes[rng() % 4]);
        }
        job.Types(flat, rng() % 2 ? std::vector<std::string>{"H100"}
                                  : std::vector<std::string>{"A100", "H100"});
        if (rng() % 8 == 0) job.Priority(5);
        flat_specs.push_back(job);
        if (!core::ValidateJob(flat_specs.back(), flat).ok()) {
          flat_specs.pop_back();
          continue;
        }
        nested_specs.push_back(flat_specs.back());
        nested_specs.back().project = core::ProjectId(0);
        a.Submit(flat_specs.back(), Time(now));
        b.Submit(nested_specs.back(), Time(now));
      }
      std::vector<core::JobId> live;
      for (const RunningJob* r : a.state().Running()) live.push_back(r->spec->id);
      for (core::JobId id : live) {
        if (rng() % 100 < 20) {
          a.EndRun(id, Time(now), false);
          b.EndRun(id, Time(now), false);
        }
      }
      Host::RoundResult x = a.Round(Time(now));
      Host::RoundResult y = b.Round(Time(now));
      binds += static_cast<size_t>(x.decisions.binds);
      ASSERT_EQ(Outcomes(x.decisions), Outcomes(y.decisions)) << queue << " step " << step;
      for (core::TenantId t : {core::TenantId(0), core::TenantId(1)}) {
        for (core::DeviceTypeId type : {core::DeviceTypeId(0), core::DeviceTypeId(1)}) {
          ASSERT_EQ(a.state().TenantUsage(t, type), b.state().TenantUsage(t, type));
          // Everything the nested tenant holds is its project's.
          ASSERT_EQ(b.state().QueueUsage(nested.QueueOf(t, core::ProjectId(0)), type),
                    b.state().TenantUsage(t, type));
        }
      }
    }
    EXPECT_GT(binds, 100u) << queue;
  }
}

TEST(HostTest, AParkedJobStartsWhenItsSegmentReleasesCapacity) {
  const core::Pool pool = TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Build();
  Host host(pool, Make("fifo", "best_fit", /*preemption=*/false));
  core::JobSpec big = MakeJob(1).Tenant(pool, "a").Devices(8).Runtime(100);
  core::JobSpec next = MakeJob(2).Tenant(pool, "a").Devices(8).Runtime(100).Submit(1);
  core::JobSpec small = MakeJob(3).Tenant(pool, "a").Devices(1).Runtime(50).Submit(2);
  host.Submit(big, Time(0));
  EXPECT_EQ(host.Round(Time(0)).decisions.binds, 1);
  host.Submit(next, Time(1));
  host.Submit(small, Time(2));
  Host::RoundResult r = host.Round(Time(2));
  EXPECT_EQ(r.decisions.binds, 0);
  // `next` holds the reservation (and is parked, still offered as the tenant's first parked
  // job); `small` is parked behind it.
  EXPECT_EQ(host.parked_count(), 2u);
  host.EndRun(big.id, Time(100), /*requeue=*/false);
  r = host.Round(Time(100));
  ASSERT_EQ(r.decisions.binds, 1);
  EXPECT_EQ(r.decisions.items[0].job, next.id);
}

TEST(HostTest, RankTimersAreDueAtEveryLimit) {
  // 2D-LAS limits {800, 4000} device-seconds: a 4-GPU job crosses them at 200 s and 1000 s.
  const core::Pool pool = TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Build();
  Host host(pool, Make("las", "best_fit"));
  core::JobSpec job = MakeJob(1).Tenant(pool, "a").Devices(4);
  host.Submit(job, Time(0));
  host.Round(Time(0));
  ASSERT_TRUE(host.NextDue().has_value());
  EXPECT_EQ(host.NextDue()->value(), 200);
  host.Round(Time(200));
  ASSERT_TRUE(host.NextDue().has_value());
  EXPECT_EQ(host.NextDue()->value(), 1000);
  host.Round(Time(1000));
  EXPECT_FALSE(host.NextDue().has_value());
}

TEST(HostTest, AFractionalJobAttainsExactService) {
  // 0.25 of a device for 10 s is 2.5 device-seconds: 2,500 milli-device-seconds, not 0.
  const core::Pool pool = TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Build();
  Host host(pool, Make("las", "best_fit"));
  core::JobSpec job = MakeJob(1).Tenant(pool, "a").Fraction(250);
  host.Submit(job, Time(0));
  host.Round(Time(0));
  RunRecord run = host.EndRun(job.id, Time(10), /*requeue=*/true);
  EXPECT_EQ(run.share.value(), 250);
  EXPECT_EQ((run.end - run.start).value(), 10);
  EXPECT_EQ(host.HistoryOf(job.id, Time(10)).attained_milli, 2500);
  // Four such runs make 10 device-seconds in the queue key.
  for (int i = 0; i < 3; ++i) {
    host.Round(Time(10 + 10 * i));
    host.EndRun(job.id, Time(20 + 10 * i), /*requeue=*/true);
  }
  EXPECT_EQ(host.HistoryOf(job.id, Time(40)).attained_milli, 10'000);
}

TEST(HostTest, FairShareRemembersPastUse) {
  // Tenant a used 8 H100 for an hour; with equal weights, b's job now goes first.
  const core::Pool pool = TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Tenant("b").Build();
  Host host(pool, Make("fair_share", "best_fit", /*preemption=*/false));
  core::JobSpec past = MakeJob(1).Tenant(pool, "a").Devices(8);
  host.Submit(past, Time(0));
  host.Round(Time(0));
  host.EndRun(past.id, Time(3600), false);
  core::JobSpec a = MakeJob(2).Tenant(pool, "a").Devices(8).Submit(3600);
  core::JobSpec b = MakeJob(3).Tenant(pool, "b").Devices(8).Submit(3601);
  host.Submit(a, Time(3601));
  host.Submit(b, Time(3601));
  Host::RoundResult r = host.Round(Time(3601));
  ASSERT_EQ(r.decisions.binds, 1);
  EXPECT_EQ(r.decisions.items.front().job, b.id);
}

TEST(HostTest, WhatIfEstimatesAParkedJob) {
  const core::Pool pool = TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Build();
  Host host(pool, Make("fifo", "best_fit", false));
  core::JobSpec big = MakeJob(1).Tenant(pool, "a").Devices(8).Runtime(600);
  core::JobSpec a = MakeJob(2).Tenant(pool, "a").Devices(8).Runtime(60).Submit(1);
  core::JobSpec b = MakeJob(3).Tenant(pool, "a").Devices(4).Runtime(60).Submit(2);
  host.Submit(big, Time(0));
  host.Round(Time(0));
  host.Submit(a, Time(1));
  host.Submit(b, Time(2));
  host.Round(Time(2));
  Decisions d = host.WhatIf(Time(10), 100);
  bool found = false;
  for (const Decision& x : d.items) {
    if (x.job == b.id) {
      found = true;
      ASSERT_TRUE(x.earliest_start.has_value());
      // When `big` is expected to end and frees the node (estimates do not queue behind the
      // reservation of `a`).
      EXPECT_EQ(x.earliest_start->value(), 600);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace suanpan::sched
