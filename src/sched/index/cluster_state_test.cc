#include "sched/index/cluster_state.h"

#include <gtest/gtest.h>

#include "testing/builders.h"

namespace suanpan::sched {
namespace {

using suanpan::testing::TestPool;

class ClusterStateTest : public ::testing::Test {
 protected:
  // 3 nodes x 8 H100 under one switch, as in the header comment of cluster_state.h.
  ClusterStateTest()
      : pool_(TestPool().Cluster("c", "H100", 3, 8).Tenant("a").Build()), state_(pool_) {
    segment_ = *state_.FindSegment(core::ClusterId(0), core::DeviceTypeId(0));
  }

  Allocation Alloc(uint32_t node, uint64_t devices, int64_t per_device = 1000) {
    Allocation a;
    a.segment = segment_;
    a.workers.push_back(
        WorkerPlacement{NodeId(node), devices, MilliDevices(per_device), MilliCpu(0), MiB(0)});
    return a;
  }

  core::Pool pool_;
  ClusterState state_;
  SegmentId segment_;
};

TEST_F(ClusterStateTest, EmptyPoolHasEveryNodeInTheTopBucket) {
  const Segment& s = state_.segment(segment_);
  EXPECT_EQ(s.free_whole, 24);
  EXPECT_EQ(s.buckets[8].size(), 3u);
  EXPECT_EQ(state_.SwitchCapacity(core::SwitchId(0), 8), 3);
}

TEST_F(ClusterStateTest, IndexesFollowTakes) {
  // node0 runs a 6-GPU job, node1 a half-GPU worker (the header's example).
  state_.Take(core::TenantId(0), Alloc(0, 0b111111));
  state_.Take(core::TenantId(0), Alloc(1, 0b1, 500));
  const Segment& s = state_.segment(segment_);
  EXPECT_EQ(s.free_whole, 17);  // 2 + 7 + 8
  EXPECT_TRUE(s.buckets[2].ContainsPosition(0));
  EXPECT_TRUE(s.buckets[7].ContainsPosition(1));
  EXPECT_TRUE(s.buckets[8].ContainsPosition(2));
  EXPECT_EQ(s.buckets[8].size(), 1u);
  ASSERT_EQ(s.partial.size(), 1u);
  EXPECT_EQ(*s.partial.begin(), std::make_tuple(int64_t{500}, uint32_t{1}, 0));
  // Capacity for 4-GPU workers: node0 0, node1 1 (7/4), node2 2 -> 3.
  EXPECT_EQ(state_.SwitchCapacity(core::SwitchId(0), 4), 3);
  // 6 devices + 0.5 = 6,500 milli for tenant a.
  EXPECT_EQ(state_.TenantUsage(core::TenantId(0), core::DeviceTypeId(0)).value(), 6500);
}

TEST_F(ClusterStateTest, RollbackUndoesInReverse) {
  const size_t mark = state_.Mark();
  state_.Take(core::TenantId(0), Alloc(0, 0xff));
  state_.Give(core::TenantId(0), Alloc(0, 0x0f));
  state_.Take(core::TenantId(0), Alloc(2, 0x1, 250));
  state_.Rollback(mark);
  EXPECT_EQ(state_.segment(segment_).free_whole, 24);
  EXPECT_TRUE(state_.segment(segment_).partial.empty());
  EXPECT_EQ(state_.TenantUsage(core::TenantId(0), core::DeviceTypeId(0)).value(), 0);
  EXPECT_EQ(state_.Mark(), mark);
}

TEST_F(ClusterStateTest, StartAndFinishTrackRunningJobs) {
  core::JobSpec job = suanpan::testing::MakeJob(7).Devices(8);
  RunningJob r;
  r.spec = &job;
  r.allocation = Alloc(1, 0xff);
  state_.Start(std::move(r));
  EXPECT_EQ(state_.FreeWhole(NodeId(1)), 0);
  ASSERT_NE(state_.FindRunning(core::JobId(7)), nullptr);
  EXPECT_EQ(state_.Running().size(), 1u);
  state_.Finish(core::JobId(7));
  EXPECT_EQ(state_.FreeWhole(NodeId(1)), 8);
  EXPECT_EQ(state_.FindRunning(core::JobId(7)), nullptr);
  EXPECT_TRUE(state_.Running().empty());
}

TEST_F(ClusterStateTest, TakingABusyDeviceIsAProgrammingError) {
  state_.Take(core::TenantId(0), Alloc(0, 0x1));
  EXPECT_DEATH(state_.Take(core::TenantId(0), Alloc(0, 0x1)), "does not match free devices");
}

// Equal versions must mean equal contents: every change gives a new version, a rollback gives the
// old one back, and a committed change under pending tentative ones can never be rolled back to
// a version that described the segment without it.
TEST_F(ClusterStateTest, SegmentVersionsNameContents) {
  const uint64_t empty = state_.SegmentVersion(segment_);
  const size_t mark = state_.Mark();
  state_.Take(core::TenantId(0), Alloc(0, 0x3));
  const uint64_t one = state_.SegmentVersion(segment_);
  EXPECT_NE(one, empty);
  state_.Take(core::TenantId(0), Alloc(1, 0x1));
  const uint64_t two = state_.SegmentVersion(segment_);
  EXPECT_NE(two, one);
  state_.Rollback(mark + 1);
  EXPECT_EQ(state_.SegmentVersion(segment_), one);
  state_.Rollback(mark);
  EXPECT_EQ(state_.SegmentVersion(segment_), empty);
  // The same take again is a new version: versions are never reused.
  state_.Take(core::TenantId(0), Alloc(0, 0x3));
  EXPECT_NE(state_.SegmentVersion(segment_), one);
  EXPECT_NE(state_.SegmentVersion(segment_), two);

  // A job started while that take is pending; rolling the take back keeps the job, so the
  // version must be neither `empty` nor anything seen before.
  core::JobSpec job = suanpan::testing::MakeJob(7).Devices(8);
  RunningJob r;
  r.spec = &job;
  r.allocation = Alloc(2, 0xff);
  state_.Start(std::move(r));
  const uint64_t started = state_.SegmentVersion(segment_);
  state_.Rollback(mark);
  EXPECT_NE(state_.SegmentVersion(segment_), empty);
  EXPECT_NE(state_.SegmentVersion(segment_), started);
  const uint64_t committed = state_.SegmentVersion(segment_);
  // Giving back (a what-if releasing a running job) and taking are changes too, and roll back.
  const RunningJob* running = state_.FindRunning(core::JobId(7));
  state_.GiveBorrowed(core::TenantId(0), running->allocation);
  EXPECT_NE(state_.SegmentVersion(segment_), committed);
  state_.Take(core::TenantId(0), Alloc(0, 0x3));
  state_.Rollback(mark);
  EXPECT_EQ(state_.SegmentVersion(segment_), committed);
  state_.Finish(core::JobId(7));
  EXPECT_NE(state_.SegmentVersion(segment_), committed);
  EXPECT_NE(state_.SegmentVersion(segment_), empty);
}

// A segment's version follows its own changes only.
TEST(ClusterStateVersions, SegmentsVersionIndependently) {
  const core::Pool pool = suanpan::testing::TestPool()
                              .Cluster("c", "H100", 2, 8)
                              .Cluster("d", "A100", 2, 8)
                              .Tenant("a")
                              .Build();
  ClusterState state(pool);
  const SegmentId h100 = *state.FindSegment(core::ClusterId(0), core::DeviceTypeId(0));
  ASSERT_EQ(state.segments().size(), 2u);
  const SegmentId other(1 - h100.value());
  const uint64_t before = state.SegmentVersion(other);
  Allocation a;
  a.segment = h100;
  a.workers.push_back(WorkerPlacement{state.segment(h100).nodes[0], 0xff});
  const size_t mark = state.Mark();
  state.Take(core::TenantId(0), a);
  EXPECT_EQ(state.SegmentVersion(other), before);
  EXPECT_NE(state.SegmentVersion(h100), 0u);
  state.Rollback(mark);
  EXPECT_EQ(state.SegmentVersion(other), before);
}

}  // namespace
}  // namespace suanpan::sched
