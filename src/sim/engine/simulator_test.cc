// The simulator's external events (cancels, a node out of service and back) and their checks.
// The decisions themselves are compared with the control plane's in tests/equivalence.

#include "sim/engine/simulator.h"

#include <gtest/gtest.h>

#include "testing/builders.h"

namespace suanpan::sim {
namespace {

using testing::MakeJob;
using testing::TestPool;

core::Pool OneNode() { return TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Build(); }

SimJob Job(const core::Pool& pool, uint64_t id, int devices, int64_t submit, int64_t duration) {
  SimJob j;
  j.spec = MakeJob(id).Tenant(pool, "a").Devices(devices).Types(pool, {"H100"}).Submit(submit);
  j.spec.checkpoint_interval = Seconds(1);
  j.duration_by_type.assign(pool.catalog().size(), duration);
  return j;
}

TEST(SimulatorEvents, CancelsEndQueuedRunningAndNotYetArrivedJobs) {
  const core::Pool pool = OneNode();
  // 1 runs 0..100 (cancelled at 30), 2 waits behind it (cancelled at 20), 3 is cancelled before
  // it arrives, 4 starts when 1's devices come back at 30.
  const std::vector<SimJob> jobs = {Job(pool, 1, 8, 0, 100), Job(pool, 2, 8, 10, 50),
                                    Job(pool, 3, 8, 40, 50), Job(pool, 4, 8, 15, 10)};
  SimConfig config;
  using K = ExternalEvent::Kind;
  config.events = {{K::kCancel, Time(30), core::JobId(1), {}},
                   {K::kCancel, Time(20), core::JobId(2), {}},
                   {K::kCancel, Time(35), core::JobId(3), {}}};
  auto r = Simulate(pool, jobs, config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->jobs[0].cancelled);
  EXPECT_FALSE(r->jobs[0].finished);
  EXPECT_EQ(r->jobs[0].device_seconds, 8 * 30);
  EXPECT_TRUE(r->jobs[1].cancelled);
  EXPECT_EQ(r->jobs[1].attempts, 0);
  EXPECT_EQ(r->jobs[1].queued_seconds, 10);
  EXPECT_TRUE(r->jobs[2].cancelled);
  EXPECT_EQ(r->jobs[2].attempts, 0);
  ASSERT_TRUE(r->jobs[3].finished);
  EXPECT_EQ(*r->jobs[3].first_start, Time(30));
  EXPECT_EQ(r->jobs[3].end, Time(40));
}

TEST(SimulatorEvents, ANodeDownRequeuesItsJobsWithTheirWorkUntilItIsBack) {
  const core::Pool pool = OneNode();
  const std::vector<SimJob> jobs = {Job(pool, 1, 4, 0, 100)};
  SimConfig config;
  using K = ExternalEvent::Kind;
  config.events = {{K::kNodeDown, Time(40), {}, core::NodeId(0)},
                   {K::kNodeUp, Time(70), {}, core::NodeId(0)}};
  auto r = Simulate(pool, jobs, config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const JobOutcome& o = r->jobs[0];
  ASSERT_TRUE(o.finished);
  EXPECT_EQ(o.attempts, 2);
  EXPECT_EQ(o.failures, 1);
  EXPECT_EQ(o.end, Time(70 + 60));  // 40 s kept (checkpoint every second), 60 s left
  EXPECT_EQ(o.queued_seconds, 30);
}

TEST(SimulatorEvents, AnEventForAnUnknownJobOrNodeNamesIt) {
  const core::Pool pool = OneNode();
  const std::vector<SimJob> jobs = {Job(pool, 1, 4, 0, 100)};
  SimConfig config;
  config.events = {{ExternalEvent::Kind::kCancel, Time(1), core::JobId(7), {}}};
  EXPECT_EQ(Simulate(pool, jobs, config).status().message(),
            "events[0]: job 7 is not one of the 1 jobs");
  config.events = {{ExternalEvent::Kind::kNodeDown, Time(1), {}, core::NodeId(3)}};
  EXPECT_EQ(Simulate(pool, jobs, config).status().message(),
            "events[0]: node 3 is not one of the 1 nodes");
}

}  // namespace
}  // namespace suanpan::sim
