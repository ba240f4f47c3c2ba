// What tells each queue policy apart; the shared cases are in tests/conformance/.

#include <gtest/gtest.h>

#include <cmath>

#include "sched/host/usage_memory.h"
#include "sched/policy.h"
#include "sched/queue/cursor.h"
#include "testing/builders.h"

namespace suanpan::sched {
namespace {

using suanpan::testing::MakeJob;
using suanpan::testing::TestPool;

class QueueTest : public ::testing::Test {
 protected:
  QueueTest()
      : pool_(TestPool()
                  .Cluster("h", "H100", 10, 10)
                  .Cluster("a", "A100", 10, 10)
                  .Tenant("a", 2)
                  .Tenant("b", 1)
                  .Build()),
        state_(pool_) {}

  std::vector<uint64_t> Order(const std::string& name, const std::vector<QueuedJob>& queue,
                              const UsageHistory* history = nullptr) {
    QueueContext context{state_, history, config_, Time(0)};
    std::vector<uint64_t> ids;
    for (size_t i : QueueOrder(*FindQueuePolicy(name), queue, context)) {
      ids.push_back(queue[i].spec->id.value());
    }
    return ids;
  }

  core::Pool pool_;
  ClusterState state_;
  PolicyConfig config_;
};

TEST_F(QueueTest, FifoIgnoresPriority) {
  core::JobSpec a = MakeJob(1).Submit(5).Priority(1000), b = MakeJob(2).Submit(1);
  EXPECT_EQ(Order("fifo", {{&a}, {&b}}), (std::vector<uint64_t>{2, 1}));
}

TEST_F(QueueTest, PriorityPutsHigherClassesFirst) {
  core::JobSpec a = MakeJob(1).Submit(5).Priority(1000), b = MakeJob(2).Submit(1);
  EXPECT_EQ(Order("priority", {{&a}, {&b}}), (std::vector<uint64_t>{1, 2}));
}

TEST_F(QueueTest, LasRunsLeastAttainedFirst) {
  // Limits {3250, 7200, 18000}: 4,000 device-seconds is queue 1, 100 is queue 0.
  core::JobSpec a = MakeJob(1).Submit(0), b = MakeJob(2).Submit(9);
  EXPECT_EQ(Order("las", {{&a, 4000}, {&b, 100}}), (std::vector<uint64_t>{2, 1}));
  // Inside one queue: first come, first served, whatever the service.
  EXPECT_EQ(Order("las", {{&a, 3000}, {&b, 100}}), (std::vector<uint64_t>{1, 2}));
}

TEST_F(QueueTest, SrtfRunsShortestRemainingFirst) {
  // a: 1,000 s estimate, 900 run -> 100 left; b: 500 s, none run -> 500 left; c: unknown.
  core::JobSpec a = MakeJob(1).Runtime(1000), b = MakeJob(2).Runtime(500), c = MakeJob(3);
  EXPECT_EQ(Order("srtf", {{&c}, {&b}, {&a, 0, Seconds(900)}}), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(QueueTest, FairShareServesTheSmallestWeightedDominantShareFirst) {
  // Pool: 100 H100 + 100 A100. Tenant a (weight 2) holds 40 H100: 0.4 / 2 = 0.2.
  // Tenant b (weight 1) holds 10 A100: 0.1. b goes first; after its 16-A100 job b has
  // 0.26 > 0.2, so a's job goes second, then b's second job.
  Allocation hold_a, hold_b;
  hold_a.segment = *state_.FindSegment(core::ClusterId(0), core::DeviceTypeId(0));
  hold_b.segment = *state_.FindSegment(core::ClusterId(1), core::DeviceTypeId(3));
  for (uint32_t n = 0; n < 4; ++n) {
    hold_a.workers.push_back({NodeId(n), 0x3ff, MilliDevices(1000), MilliCpu(0), MiB(0)});
  }
  hold_b.workers.push_back({NodeId(10), 0x3ff, MilliDevices(1000), MilliCpu(0), MiB(0)});
  state_.Take(*pool_.FindTenant("a"), hold_a);
  state_.Take(*pool_.FindTenant("b"), hold_b);
  core::JobSpec a1 = MakeJob(1).Tenant(pool_, "a").Types(pool_, {"H100"}).Gang(1, 8);
  core::JobSpec b1 = MakeJob(2).Tenant(pool_, "b").Types(pool_, {"A100"}).Gang(2, 8).Submit(1);
  core::JobSpec b2 = MakeJob(3).Tenant(pool_, "b").Types(pool_, {"A100"}).Gang(1, 8).Submit(2);
  EXPECT_EQ(Order("fair_share", {{&a1}, {&b1}, {&b2}}), (std::vector<uint64_t>{2, 1, 3}));
}

TEST_F(QueueTest, FairShareRemembersPastUse) {
  // Nobody holds anything now, but tenant a used 100 H100 for a long while: b goes first.
  UsageHistory history;
  history.device_seconds.assign(2, std::vector<double>(pool_.catalog().size(), 0.0));
  history.device_seconds[0][0] = 100.0 * 7 * 24 * 3600;
  core::JobSpec a1 = MakeJob(1).Tenant(pool_, "a").Submit(0);
  core::JobSpec b1 = MakeJob(2).Tenant(pool_, "b").Submit(5);
  EXPECT_EQ(Order("fair_share", {{&a1}, {&b1}}, &history), (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(Order("fair_share", {{&a1}, {&b1}}), (std::vector<uint64_t>{1, 2}));
}

TEST(UsageMemoryTest, HalvesEveryHalfLife) {
  UsageMemory m(1, 1, Seconds(3600));
  m.Add(core::TenantId(0), core::DeviceTypeId(0), 800.0, Time(0));
  m.Advance(Time(3600));
  EXPECT_DOUBLE_EQ(m.At(Time(3600)).device_seconds[0][0], 400.0);
  m.Advance(Time(3 * 3600));
  EXPECT_DOUBLE_EQ(m.At(Time(3 * 3600)).device_seconds[0][0], 100.0);
  // Halfway through a period: 2^-0.5 of the value at its start.
  EXPECT_DOUBLE_EQ(m.At(Time(3 * 3600 + 1800)).device_seconds[0][0], 100.0 / std::sqrt(2.0));
}

TEST(UsageMemoryTest, IsTheSameWhateverRoundsRanAndAfterARestart) {
  // One memory advanced at many instants, one only when used, one rebuilt from stored rows.
  UsageMemory often(2, 1, Seconds(1000)), seldom(2, 1, Seconds(1000));
  std::vector<UsageMemory::Row> rows;
  const std::vector<std::pair<int64_t, double>> uses = {
      {10, 5.5}, {999, 7.25}, {1500, 3.0}, {4321, 11.0}, {4322, 0.5}};
  for (const auto& [t, u] : uses) {
    for (int64_t x = t - 300; x < t; x += 37) often.Advance(Time(x));
    often.Add(core::TenantId(1), core::DeviceTypeId(0), u, Time(t));
    seldom.Add(core::TenantId(1), core::DeviceTypeId(0), u, Time(t));
    for (const auto& r : seldom.TakeChanged()) rows.push_back(r);
  }
  UsageMemory restarted(2, 1, Seconds(1000));
  restarted.Load({rows.back()});
  for (UsageMemory* m : {&often, &seldom, &restarted}) m->Advance(Time(9000));
  const double expected = often.At(Time(9000)).device_seconds[1][0];
  EXPECT_EQ(seldom.At(Time(9000)).device_seconds[1][0], expected);  // bit for bit
  EXPECT_EQ(restarted.At(Time(9000)).device_seconds[1][0], expected);
  EXPECT_GT(expected, 0.0);
}

}  // namespace
}  // namespace suanpan::sched
