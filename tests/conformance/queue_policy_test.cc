// Conformance: every registered queue policy passes the same cases (STYLE.md 15).

#include <gtest/gtest.h>

#include <algorithm>

#include "sched/policy.h"
#include "sched/queue/cursor.h"
#include "testing/builders.h"

namespace suanpan::sched {
namespace {

using suanpan::testing::MakeJob;
using suanpan::testing::TestPool;

class QueuePolicyConformance : public ::testing::TestWithParam<std::string> {
 protected:
  QueuePolicyConformance()
      : pool_(TestPool().Cluster("c", "H100", 4, 8).Tenant("a").Tenant("b", 2).Build()),
        state_(pool_) {}

  std::vector<size_t> Order(const std::vector<core::JobSpec>& jobs) {
    queue_.clear();
    for (const auto& j : jobs) queue_.push_back(QueuedJob{&j, 0, Seconds(0)});
    const QueuePolicy* policy = FindQueuePolicy(GetParam());
    EXPECT_NE(policy, nullptr);
    QueueContext context{state_, nullptr, config_, Time(100)};
    return QueueOrder(*policy, queue_, context);
  }

  core::Pool pool_;
  ClusterState state_;
  PolicyConfig config_;
  std::vector<QueuedJob> queue_;
};

TEST_P(QueuePolicyConformance, EmptyQueueGivesEmptyOrder) { EXPECT_TRUE(Order({}).empty()); }

TEST_P(QueuePolicyConformance, OrderIsAPermutation) {
  std::vector<core::JobSpec> jobs;
  for (int i = 1; i <= 20; ++i) {
    jobs.push_back(MakeJob(i)
                       .Tenant(pool_, i % 2 ? "a" : "b")
                       .Devices(1 + i % 8)
                       .Submit(i * 7 % 13)
                       .Runtime(100 * i)
                       .Priority(i % 3 == 0 ? 1000 : 0));
  }
  std::vector<size_t> order = Order(jobs);
  ASSERT_EQ(order.size(), jobs.size());
  std::sort(order.begin(), order.end());
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
}

TEST_P(QueuePolicyConformance, SameInputSameOrder) {
  std::vector<core::JobSpec> jobs;
  for (int i = 1; i <= 30; ++i) {
    jobs.push_back(MakeJob(i)
                       .Tenant(pool_, i % 3 ? "a" : "b")
                       .Devices(1 + i % 4)
                       .Submit(i % 5)
                       .Runtime(50 + i % 7));
  }
  EXPECT_EQ(Order(jobs), Order(jobs));
}

TEST_P(QueuePolicyConformance, IdenticalJobsGoInIdOrder) {
  // Same tenant, shape, time, runtime: only the id tells them apart.
  std::vector<core::JobSpec> jobs = {MakeJob(9).Tenant(pool_, "a").Runtime(10),
                                     MakeJob(3).Tenant(pool_, "a").Runtime(10),
                                     MakeJob(5).Tenant(pool_, "a").Runtime(10)};
  EXPECT_EQ(Order(jobs), (std::vector<size_t>{1, 2, 0}));
}

TEST_P(QueuePolicyConformance, OneTenantSameShapeIsFirstComeFirstServed) {
  std::vector<core::JobSpec> jobs = {MakeJob(1).Tenant(pool_, "a").Submit(30).Runtime(10),
                                     MakeJob(2).Tenant(pool_, "a").Submit(10).Runtime(10),
                                     MakeJob(3).Tenant(pool_, "a").Submit(20).Runtime(10)};
  EXPECT_EQ(Order(jobs), (std::vector<size_t>{1, 2, 0}));
}

INSTANTIATE_TEST_SUITE_P(AllQueuePolicies, QueuePolicyConformance,
                         ::testing::ValuesIn(QueuePolicyNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace suanpan::sched
