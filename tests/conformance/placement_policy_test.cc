// Conformance: every registered placement policy passes the same cases (STYLE.md 15).

#include <gtest/gtest.h>

#include <bit>
#include <set>

#include "sched/policy.h"
#include "testing/builders.h"

namespace suanpan::sched {
namespace {

using suanpan::testing::MakeJob;
using suanpan::testing::TestPool;

// Free devices of every node, to compare states.
std::vector<int64_t> Snapshot(const ClusterState& state) {
  std::vector<int64_t> out;
  for (uint32_t n = 0; n < state.pool().nodes().size(); ++n) {
    for (int d = 0; d < state.pool().nodes()[n].shape.devices; ++d) {
      out.push_back(state.FreeShare(NodeId(n), d).value());
    }
    out.push_back(state.FreeCpu(NodeId(n)).value());
  }
  return out;
}

class PlacementConformance : public ::testing::TestWithParam<std::string> {
 protected:
  PlacementConformance()
      : pool_(TestPool().Cluster("c", "H100", 8, 8, /*nodes_per_switch=*/4).Tenant("a").Build()),
        state_(pool_),
        policy_(*FindPlacementPolicy(GetParam())),
        segment_(*state_.FindSegment(core::ClusterId(0), core::DeviceTypeId(0))) {}

  std::optional<Allocation> Place(const core::JobSpec& job, PlacementContext context = {}) {
    return policy_.Place(job, segment_, state_, context);
  }

  core::Pool pool_;
  ClusterState state_;
  const PlacementPolicy& policy_;
  SegmentId segment_;
};

TEST_P(PlacementConformance, PlacesExactlyTheDevicesAsked) {
  core::JobSpec job = MakeJob(1).Gang(3, 4);
  auto alloc = Place(job);
  ASSERT_TRUE(alloc.has_value());
  ASSERT_EQ(alloc->workers.size(), 3u);
  for (const WorkerPlacement& w : alloc->workers) {
    EXPECT_EQ(std::popcount(w.devices), 4);
    EXPECT_EQ(w.per_device.value(), 1000);
  }
  // 64 devices - 12 taken = 52 free.
  EXPECT_EQ(state_.segment(segment_).free_whole, 52);
}

TEST_P(PlacementConformance, NoDeviceIsGivenTwice) {
  std::set<std::pair<uint32_t, int>> used;
  for (int i = 1; i <= 16; ++i) {
    core::JobSpec job = MakeJob(i).Devices(i % 3 + 1);
    auto alloc = Place(job);
    if (!alloc) continue;
    for (const WorkerPlacement& w : alloc->workers) {
      for (int d = 0; d < 8; ++d) {
        if (w.devices & (1u << d)) {
          EXPECT_TRUE(used.insert({w.node.value(), d}).second);
        }
      }
    }
  }
  EXPECT_EQ(static_cast<int64_t>(used.size()), 64 - state_.segment(segment_).free_whole);
}

TEST_P(PlacementConformance, GangIsAllOrNothing) {
  // 9 workers x 8 devices = 72 > 64: nothing may be taken.
  const std::vector<int64_t> before = Snapshot(state_);
  core::JobSpec job = MakeJob(1).Gang(9, 8);
  EXPECT_FALSE(Place(job).has_value());
  EXPECT_EQ(Snapshot(state_), before);
}

TEST_P(PlacementConformance, FullGangFillsThePool) {
  core::JobSpec job = MakeJob(1).Gang(8, 8);
  ASSERT_TRUE(Place(job).has_value());
  EXPECT_EQ(state_.segment(segment_).free_whole, 0);
}

TEST_P(PlacementConformance, RollbackRestoresTheState) {
  const std::vector<int64_t> before = Snapshot(state_);
  const size_t mark = state_.Mark();
  core::JobSpec a = MakeJob(1).Gang(2, 8);
  core::JobSpec b = MakeJob(2).Fraction(250);
  ASSERT_TRUE(Place(a).has_value());
  ASSERT_TRUE(Place(b).has_value());
  state_.Rollback(mark);
  EXPECT_EQ(Snapshot(state_), before);
  EXPECT_EQ(state_.segment(segment_).free_whole, 64);
  EXPECT_TRUE(state_.segment(segment_).partial.empty());
}

TEST_P(PlacementConformance, FractionsShareOneDevice) {
  core::JobSpec a = MakeJob(1).Fraction(500);
  core::JobSpec b = MakeJob(2).Fraction(250);
  auto x = Place(a);
  auto y = Place(b);
  ASSERT_TRUE(x && y);
  // The quarter goes to the half-used device: one device in use, 250 milli left on it.
  EXPECT_EQ(x->workers[0].node, y->workers[0].node);
  EXPECT_EQ(x->workers[0].devices, y->workers[0].devices);
  EXPECT_EQ(state_.segment(segment_).free_whole, 63);
}

TEST_P(PlacementConformance, RespectsCpu) {
  // Nodes have 8 x 16 = 128 cores; a worker asking 129 fits nowhere.
  core::JobSpec job = MakeJob(1).Devices(1).Cpu(129);
  EXPECT_FALSE(Place(job).has_value());
}

TEST_P(PlacementConformance, KeepsOffExcludedNodes) {
  std::vector<uint8_t> excluded(pool_.nodes().size(), 1);
  excluded[5] = 0;
  PlacementContext context;
  context.excluded = &excluded;
  core::JobSpec job = MakeJob(1).Gang(1, 8);
  auto alloc = Place(job, context);
  ASSERT_TRUE(alloc.has_value());
  EXPECT_EQ(alloc->workers[0].node.value(), 5u);
  core::JobSpec second = MakeJob(2).Devices(1);
  EXPECT_FALSE(Place(second, context).has_value());
}

TEST_P(PlacementConformance, SameStateSamePlacement) {
  core::JobSpec warm = MakeJob(1).Devices(3);
  ASSERT_TRUE(Place(warm).has_value());
  core::JobSpec job = MakeJob(2).Gang(2, 4);
  const size_t mark = state_.Mark();
  auto first = Place(job);
  state_.Rollback(mark);
  auto second = Place(job);
  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->workers.size(), second->workers.size());
  for (size_t i = 0; i < first->workers.size(); ++i) {
    EXPECT_EQ(first->workers[i].node, second->workers[i].node);
    EXPECT_EQ(first->workers[i].devices, second->workers[i].devices);
  }
}

INSTANTIATE_TEST_SUITE_P(AllPlacementPolicies, PlacementConformance,
                         ::testing::ValuesIn(PlacementPolicyNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace suanpan::sched
