// One behaviour per test for each placement policy; the shared cases are in
// tests/conformance/placement_policy_test.cc.

#include "sched/placement/placement.h"

#include <gtest/gtest.h>

#include <set>

#include "testing/builders.h"

namespace suanpan::sched {
namespace {

using suanpan::testing::MakeJob;
using suanpan::testing::TestPool;

class PlacementTest : public ::testing::Test {
 protected:
  // 2 switches x 4 nodes x 8 H100.
  PlacementTest()
      : pool_(TestPool().Cluster("c", "H100", 8, 8, /*nodes_per_switch=*/4).Tenant("a").Build()),
        state_(pool_),
        segment_(*state_.FindSegment(core::ClusterId(0), core::DeviceTypeId(0))) {}

  void Occupy(uint32_t node, uint64_t devices) {
    Allocation a;
    a.segment = segment_;
    a.workers.push_back(
        WorkerPlacement{NodeId(node), devices, MilliDevices(1000), MilliCpu(0), MiB(0)});
    state_.Take(core::TenantId(0), a);
  }
  std::set<uint32_t> SwitchesOf(const Allocation& a) const {
    std::set<uint32_t> s;
    for (const auto& w : a.workers) s.insert(pool_.node(w.node).leaf.value());
    return s;
  }

  core::Pool pool_;
  ClusterState state_;
  SegmentId segment_;
};

TEST_F(PlacementTest, BestFitPicksTheFullestNodeThatFits) {
  Occupy(2, 0b00111111);  // node2: 2 free
  Occupy(5, 0b00000111);  // node5: 5 free
  core::JobSpec job = MakeJob(1).Devices(2);
  auto alloc = BestFitPlacement().Place(job, segment_, state_, {});
  ASSERT_TRUE(alloc.has_value());
  EXPECT_EQ(alloc->workers[0].node.value(), 2u);
}

TEST_F(PlacementTest, TopologyPackPicksTheSmallestSwitchThatHoldsTheGang) {
  // Switch 0 (nodes 0-3) has 3 free nodes, switch 1 (nodes 4-7) has 4: a 3 x 8 gang goes to
  // switch 0, whose capacity 3 is the smallest that holds it, and switch 1 stays whole.
  Occupy(0, 0xff);
  core::JobSpec job = MakeJob(1).Gang(3, 8);
  auto alloc = TopologyPackPlacement().Place(job, segment_, state_, {});
  ASSERT_TRUE(alloc.has_value());
  EXPECT_EQ(SwitchesOf(*alloc), (std::set<uint32_t>{0}));
  EXPECT_EQ(state_.SwitchCapacity(core::SwitchId(1), 8), 4);
}

TEST_F(PlacementTest, BestFitMaySpreadAGangThatTopologyPackKeepsTogether) {
  // Nodes 1 and 4 have 4 free each (other halves busy); a 2 x 4 gang: best fit takes the two
  // fullest nodes (under two switches); topology_pack keeps it under one switch.
  Occupy(1, 0x0f);
  Occupy(4, 0x0f);
  core::JobSpec job = MakeJob(1).Gang(2, 4);
  const size_t mark = state_.Mark();
  auto spread = BestFitPlacement().Place(job, segment_, state_, {});
  ASSERT_TRUE(spread.has_value());
  EXPECT_EQ(SwitchesOf(*spread).size(), 2u);
  state_.Rollback(mark);
  auto packed = TopologyPackPlacement().Place(job, segment_, state_, {});
  ASSERT_TRUE(packed.has_value());
  EXPECT_EQ(SwitchesOf(*packed).size(), 1u);
}

TEST_F(PlacementTest, TopologyPackPutsASmallGangOnOneNode) {
  core::JobSpec job = MakeJob(1).Gang(2, 4);
  auto alloc = TopologyPackPlacement().Place(job, segment_, state_, {});
  ASSERT_TRUE(alloc.has_value());
  EXPECT_EQ(alloc->workers[0].node, alloc->workers[1].node);
}

TEST_F(PlacementTest, TopologyPackSpansSwitchesOnlyWhenItMust) {
  // 6 x 8 needs 6 whole nodes: no switch has more than 4, so it spans both, fewest first:
  // 4 nodes from one switch, 2 from the other.
  core::JobSpec job = MakeJob(1).Gang(6, 8);
  auto alloc = TopologyPackPlacement().Place(job, segment_, state_, {});
  ASSERT_TRUE(alloc.has_value());
  std::map<uint32_t, int> per_switch;
  for (const auto& w : alloc->workers) per_switch[pool_.node(w.node).leaf.value()]++;
  EXPECT_EQ(per_switch.size(), 2u);
  EXPECT_EQ(per_switch.begin()->second + std::next(per_switch.begin())->second, 6);
  EXPECT_TRUE(per_switch.begin()->second == 4 || std::next(per_switch.begin())->second == 4);
}

TEST_F(PlacementTest, FragAwareKeepsWholeNodesWhole) {
  // Weights {1: 0.5, 8: 0.5} (the frag_aware.cc example): a 1-GPU worker goes to the node with
  // 3 free rather than break a whole 8-GPU node.
  Occupy(0, 0b00011111);  // node0: 3 free
  std::vector<double> weights(9, 0.0);
  weights[1] = 0.5;
  weights[8] = 0.5;
  PlacementContext context;
  context.size_weights = &weights;
  core::JobSpec job = MakeJob(1).Devices(1);
  auto alloc = FragAwarePlacement().Place(job, segment_, state_, context);
  ASSERT_TRUE(alloc.has_value());
  EXPECT_EQ(alloc->workers[0].node.value(), 0u);
}

TEST_F(PlacementTest, FragAwareAvoidsLeavingAnUnusableRemainder) {
  // Only 4-GPU requests in the queue. node0 has 5 free, node1 has 6 free: a 2-GPU worker on
  // node1 leaves 4 (usable), on node0 it leaves 3 (useless). Best fit would pick node0.
  Occupy(0, 0b00000111);
  Occupy(1, 0b00000011);
  std::vector<double> weights(9, 0.0);
  weights[4] = 1.0;
  PlacementContext context;
  context.size_weights = &weights;
  core::JobSpec job = MakeJob(1).Devices(2);
  auto alloc = FragAwarePlacement().Place(job, segment_, state_, context);
  ASSERT_TRUE(alloc.has_value());
  EXPECT_EQ(alloc->workers[0].node.value(), 1u);
}

TEST_F(PlacementTest, FirstFitTakesTheLowestNodeThatHolds) {
  // node0 has 1 free, node1 is whole: a 2-GPU worker goes to node1, a 1-GPU worker to node0,
  // although best fit would agree only on the second.
  Occupy(0, 0x7f);
  core::JobSpec two = MakeJob(1).Devices(2);
  auto a = FirstFitPlacement().Place(two, segment_, state_, {});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->workers[0].node.value(), 1u);
  core::JobSpec one = MakeJob(2).Devices(1);
  auto b = FirstFitPlacement().Place(one, segment_, state_, {});
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->workers[0].node.value(), 0u);
}

TEST_F(PlacementTest, FirstFitKeepsAGangUnderOneSwitchWhenItCan) {
  // Switch 0 (nodes 0-3) has nodes 0 and 1 busy: a 3 x 8 gang skips it for switch 1.
  Occupy(0, 0xff);
  Occupy(1, 0xff);
  core::JobSpec job = MakeJob(1).Gang(3, 8);
  auto alloc = FirstFitPlacement().Place(job, segment_, state_, {});
  ASSERT_TRUE(alloc.has_value());
  EXPECT_EQ(SwitchesOf(*alloc), (std::set<uint32_t>{1}));
  EXPECT_EQ(alloc->workers[0].node.value(), 4u);
}

TEST_F(PlacementTest, FirstFitNeverSpreadsAGangThatASwitchCouldHoldLater) {
  // One idle node under each switch: a 2 x 8 gang could use both now, but either switch can
  // hold it once it empties, so it waits (as YARN's does) instead of spanning the switches.
  for (uint32_t n : {0u, 1u, 2u, 4u, 5u, 6u}) Occupy(n, 0xff);
  EXPECT_FALSE(FirstFitPlacement().Place(MakeJob(1).Gang(2, 8), segment_, state_, {}).has_value());
}

TEST_F(PlacementTest, FirstFitSpreadsOnlyAGangLargerThanAnySwitch) {
  // 5 x 8 > the 4 nodes of a switch: no switch could ever hold it, so it spreads first-fit.
  auto alloc = FirstFitPlacement().Place(MakeJob(1).Gang(5, 8), segment_, state_, {});
  ASSERT_TRUE(alloc.has_value());
  EXPECT_EQ(SwitchesOf(*alloc), (std::set<uint32_t>{0, 1}));
}

TEST_F(PlacementTest, WorkerKeepsToOneInterconnectSubDomain) {
  // MLU370 nodes of 8 cards in two MLU-Link domains of 4: a 4-card worker takes one whole
  // domain, never two cards of each.
  core::Pool pool = TestPool().Cluster("c", "MLU370", 1, 8, 32, 8, "p", 2.0, 4).Tenant("a").Build();
  ClusterState state(pool);
  auto shape = core::WorkerShape{{core::DeviceTypeId(8)}, 4, MilliDevices(0), MilliCpu(0), MiB(0)};
  auto w = placement::ChooseDevices(state, NodeId(0), shape);
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE(w->devices == 0x0f || w->devices == 0xf0);
}

}  // namespace
}  // namespace suanpan::sched
