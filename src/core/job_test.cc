#include "core/job.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iterator>
#include <string>

#include "testing/builders.h"

namespace suanpan::core {
namespace {

using ::suanpan::testing::MakeJob;
using ::suanpan::testing::TestPool;
using ::testing::HasSubstr;
using S = JobState;

struct NamedState {
  JobState state;
  const char* name;
};
constexpr NamedState kStates[] = {
    {S::kPending, "pending"},     {S::kAdmitted, "admitted"},   {S::kRunning, "running"},
    {S::kPreempted, "preempted"}, {S::kSucceeded, "succeeded"}, {S::kFailed, "failed"},
    {S::kCancelled, "cancelled"}, {S::kLost, "lost"},
};
static_assert(static_cast<int>(std::size(kStates)) == kJobStateCount,
              "a new state needs a row here");

struct Move {
  JobState from;
  JobState to;
};
// The legal moves, written out from the comment in job.h: 3 + 4 + 5 + 3 + 3 = 18 of 64 pairs.
constexpr Move kLegalMoves[] = {
    // pending -> admitted | cancelled | failed
    {S::kPending, S::kAdmitted},
    {S::kPending, S::kCancelled},
    {S::kPending, S::kFailed},
    // admitted -> running | pending | cancelled | failed
    {S::kAdmitted, S::kRunning},
    {S::kAdmitted, S::kPending},
    {S::kAdmitted, S::kCancelled},
    {S::kAdmitted, S::kFailed},
    // running -> succeeded | failed | cancelled | preempted | lost
    {S::kRunning, S::kSucceeded},
    {S::kRunning, S::kFailed},
    {S::kRunning, S::kCancelled},
    {S::kRunning, S::kPreempted},
    {S::kRunning, S::kLost},
    // preempted -> pending | cancelled | failed
    {S::kPreempted, S::kPending},
    {S::kPreempted, S::kCancelled},
    {S::kPreempted, S::kFailed},
    // lost -> pending | failed | cancelled
    {S::kLost, S::kPending},
    {S::kLost, S::kFailed},
    {S::kLost, S::kCancelled},
};

bool ExpectedLegal(JobState from, JobState to) {
  for (const Move& m : kLegalMoves) {
    if (m.from == from && m.to == to) return true;
  }
  return false;
}

TEST(JobStateTest, EveryPairIsLegalExactlyWhenTheTableSaysSo) {
  int pairs = 0;
  int legal = 0;
  for (const NamedState& from : kStates) {
    for (const NamedState& to : kStates) {
      SCOPED_TRACE(std::string(from.name) + " -> " + to.name);
      const bool expected = ExpectedLegal(from.state, to.state);
      EXPECT_EQ(IsLegalTransition(from.state, to.state), expected);
      ++pairs;
      if (expected) ++legal;
    }
  }
  EXPECT_EQ(pairs, 64);
  EXPECT_EQ(legal, 18);
}

TEST(JobStateTest, TransitionReturnsTheTargetForEveryLegalMove) {
  for (const Move& m : kLegalMoves) {
    SCOPED_TRACE(std::string(JobStateName(m.from)) + " -> " + std::string(JobStateName(m.to)));
    StatusOr<JobState> next = Transition(m.from, m.to);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(*next, m.to);
  }
}

TEST(JobStateTest, TransitionRejectsEveryIllegalMoveNamingBothStates) {
  for (const NamedState& from : kStates) {
    for (const NamedState& to : kStates) {
      if (ExpectedLegal(from.state, to.state)) continue;
      SCOPED_TRACE(std::string(from.name) + " -> " + to.name);
      StatusOr<JobState> next = Transition(from.state, to.state);
      ASSERT_FALSE(next.ok());
      EXPECT_EQ(next.status().code(), StatusCode::kFailedPrecondition);
      EXPECT_EQ(next.status().message(), std::string("job state: ") + from.name + " -> " + to.name +
                                             " is not a legal transition");
    }
  }
}

TEST(JobStateTest, SucceededFailedAndCancelledAreTheTerminalStates) {
  for (const NamedState& s : kStates) {
    const bool terminal =
        s.state == S::kSucceeded || s.state == S::kFailed || s.state == S::kCancelled;
    EXPECT_EQ(IsTerminal(s.state), terminal) << s.name;
  }
}

TEST(JobStateTest, TerminalStatesHaveNoWayOut) {
  for (const NamedState& from : kStates) {
    if (!IsTerminal(from.state)) continue;
    for (const NamedState& to : kStates) {
      EXPECT_FALSE(IsLegalTransition(from.state, to.state)) << from.name << " -> " << to.name;
    }
  }
}

TEST(JobStateTest, EveryLiveStateCanBeCancelledOrFailed) {
  for (const NamedState& from : kStates) {
    if (IsTerminal(from.state)) continue;
    EXPECT_TRUE(IsLegalTransition(from.state, S::kCancelled)) << from.name;
    EXPECT_TRUE(IsLegalTransition(from.state, S::kFailed)) << from.name;
  }
}

TEST(JobStateTest, NamesRoundTrip) {
  for (const NamedState& s : kStates) {
    EXPECT_EQ(JobStateName(s.state), s.name);
    EXPECT_EQ(ParseJobState(s.name), s.state) << s.name;
  }
}

TEST(JobStateTest, ParseRejectsUnknownNames) {
  EXPECT_FALSE(ParseJobState("").has_value());
  EXPECT_FALSE(ParseJobState("Pending").has_value());  // case-sensitive
  EXPECT_FALSE(ParseJobState("done").has_value());
}

TEST(JobKindTest, NamesRoundTrip) {
  struct NamedKind {
    JobKind kind;
    const char* name;
  };
  const NamedKind kinds[] = {{JobKind::kTraining, "training"},
                             {JobKind::kBatch, "batch"},
                             {JobKind::kInference, "inference"},
                             {JobKind::kInteractive, "interactive"}};
  for (const NamedKind& k : kinds) {
    EXPECT_EQ(JobKindName(k.kind), k.name);
    EXPECT_EQ(ParseJobKind(k.name), k.kind) << k.name;
  }
}

TEST(JobKindTest, ParseRejectsUnknownNames) {
  EXPECT_FALSE(ParseJobKind("").has_value());
  EXPECT_FALSE(ParseJobKind("Training").has_value());
  EXPECT_FALSE(ParseJobKind("serving").has_value());
}

class ValidateJobTest : public ::testing::Test {
 protected:
  // One cluster of 4 nodes x 8 H100 (128 cores each): the largest gang is 32 devices.
  Pool pool_ = TestPool().Cluster("c", "H100", /*nodes=*/4, /*devices=*/8).Tenant("a").Build();
};

TEST_F(ValidateJobTest, AcceptsAGangThatFillsTheCluster) {
  // 4 workers x 8 devices = 32 = the cluster's 32 H100.
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Gang(4, 8).Types(pool_, {"H100"});
  Status s = ValidateJob(job, pool_);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(ValidateJobTest, AcceptsAQuarterOfADevice) {
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Fraction(250).Types(pool_, {"H100"});
  Status s = ValidateJob(job, pool_);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(ValidateJobTest, AcceptsWhenALaterAcceptableTypeFits) {
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Devices(8).Types(pool_, {"A100", "H100"});
  Status s = ValidateJob(job, pool_);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(ValidateJobTest, RejectsZeroWorkers) {
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Gang(0, 8);
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("workers: must be in 1..100000, got 0"));
}

TEST_F(ValidateJobTest, RejectsAFractionForTwoWorkers) {
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Fraction(250);
  job.workers = 2;
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("devices_per_worker: a fraction of a device is only for a single worker, "
                        "got 2 workers"));
}

TEST_F(ValidateJobTest, RejectsAZeroFraction) {
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Fraction(0);
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("devices_per_worker: zero devices (a fraction must be in "
                                     "0.001..0.999, got 0 milli)"));
}

TEST_F(ValidateJobTest, RejectsAFractionOfAWholeDevice) {
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Fraction(1000);
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("devices_per_worker: zero devices (a fraction must be in "
                                     "0.001..0.999, got 1000 milli)"));
}

TEST_F(ValidateJobTest, RejectsSixtyFiveDevicesPerWorker) {
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Devices(65);
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("devices_per_worker: must be in 1..64, got 65"));
}

TEST_F(ValidateJobTest, RejectsAGangLargerThanAnyCluster) {
  // 5 x 8 = 40 devices > the cluster's 32.
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Gang(5, 8).Types(pool_, {"H100"});
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("workers: 5 workers of 8 devices fit no cluster of an acceptable type"));
  EXPECT_THAT(s.message(), HasSubstr("(H100: at most 4 such workers per cluster)"));
}

TEST_F(ValidateJobTest, RejectsATypeThePoolDoesNotHold) {
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Devices(1).Types(pool_, {"A100"});
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("workers: 1 worker of 1 device fits no cluster"));
  EXPECT_THAT(s.message(), HasSubstr("(A100: at most 0 such workers per cluster)"));
}

TEST_F(ValidateJobTest, RejectsAWorkerNeedingMoreCpuThanAnyNode) {
  // 200 cores per worker; the nodes have 8 x 16 = 128.
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Devices(1).Cpu(200);
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("1 worker of 1 device, 200 CPU fits no cluster"));
}

TEST_F(ValidateJobTest, RejectsANegativeRuntimeEstimate) {
  JobSpec job = MakeJob(1).Tenant(pool_, "a").Runtime(-1);
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  // Ten years = 10 x 365 x 24 x 3600 = 315,360,000 s.
  EXPECT_THAT(s.message(), HasSubstr("runtime_estimate: must be in 1..315360000 seconds, got -1"));
}

TEST_F(ValidateJobTest, RejectsAnUnknownDeviceTypeId) {
  JobSpec job = MakeJob(1).Tenant(pool_, "a");
  job.worker.types = {DeviceTypeId(42)};  // the catalogue holds 9 types
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("device_types: unknown device type"));
}

TEST_F(ValidateJobTest, RejectsNoDeviceTypes) {
  JobSpec job = MakeJob(1).Tenant(pool_, "a");
  job.worker.types.clear();
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("device_types: must name at least one type"));
}

TEST_F(ValidateJobTest, RejectsAnUnknownTenant) {
  JobSpec job = MakeJob(1);
  job.tenant = TenantId(7);  // the pool has one tenant
  Status s = ValidateJob(job, pool_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tenant: unknown tenant"));
}

}  // namespace
}  // namespace suanpan::core
