// The agent backend on a real control plane (fake clock, SQLite file, no threads): what a node's
// agent is told to run, who may ask, the long-poll, and that a rank that ended is not started
// again, also after a restart.

#include "backends/agent/agent_backend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "testing/builders.h"

namespace suanpan::backends {
namespace {

using control::Caller;
using control::ControlPlane;
using control::Role;
using Json = nlohmann::json;

class FakeClock final : public Clock {
 public:
  int64_t NowMs() const override { return now_ms; }
  int64_t now_ms = 1'800'000'000'000;
};

const char* kN0 = "c/g-0000";
const char* kN1 = "c/g-0001";

class AgentBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("suanpan_agent_backend_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Open();
  }
  void TearDown() override {
    plane_.reset();
    std::filesystem::remove_all(dir_);
  }

  // One cluster of 2 nodes x 8 H100.
  void Open() {
    plane_.reset();
    auto store = store::OpenSqliteStore((dir_ / "s.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    control::ControlOptions options;
    options.log_dir = (dir_ / "logs").string();
    auto plane = ControlPlane::Open(
        testing::TestPool().Cluster("c", "H100", 2, 8).Tenant("a").Tenant("b").Build(),
        std::move(*store), options, clock_, nullptr);
    ASSERT_TRUE(plane.ok()) << plane.status().ToString();
    plane_ = std::move(*plane);
    auto backend = std::make_unique<AgentBackend>(*plane_);
    backend_ = backend.get();
    plane_->AddBackend(std::move(backend), {core::ProviderId(0)});
  }

  uint64_t SubmitGang() {
    auto r = plane_->Run([](ControlPlane& p) {
      return p.SubmitJob(Admin(),
                         Json{{"name", "gang"},
                              {"tenant", "a"},
                              {"workers", 2},
                              {"devices_per_worker", 8},
                              {"command", {"torchrun", "train.py"}},
                              {"env", {{"EPOCHS", "3"}}},
                              {"workdir", "data/run"}},
                         std::nullopt);
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    plane_->Run([](ControlPlane& p) {
      p.ScheduleNow();
      return 0;
    });
    return r.ok() ? r->job.id : 0;
  }

  StatusOr<protocol::AssignmentList> List(const Caller& caller, const std::string& node) {
    return plane_->Run([&](ControlPlane&) { return backend_->Assignments(caller, node); });
  }

  void ReportExit(uint64_t id, int rank) {
    protocol::WorkerReport r;
    r.attempt = 1;
    r.state = protocol::WorkerReport::State::kExited;
    r.exit_code = 0;
    const Caller agent{Role::kAgent, rank == 0 ? kN0 : kN1, "agent"};
    auto res = plane_->Run([&](ControlPlane& p) { return p.ReportWorker(agent, id, rank, r); });
    ASSERT_TRUE(res.ok()) << res.status().ToString();
  }

  static Caller Admin() { return Caller{Role::kAdmin, "", "admin"}; }
  static Caller Agent(const char* node) { return Caller{Role::kAgent, node, "agent"}; }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<ControlPlane> plane_;
  AgentBackend* backend_ = nullptr;
};

TEST_F(AgentBackendTest, EachNodeIsToldItsRankOfTheGang) {
  const uint64_t before = List(Agent(kN0), kN0)->version;
  const uint64_t id = SubmitGang();
  for (int rank = 0; rank < 2; ++rank) {
    const char* node = rank == 0 ? kN0 : kN1;
    auto list = List(Agent(node), node);
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    EXPECT_GT(list->version, before);
    ASSERT_EQ(list->items.size(), 1u);
    const protocol::Assignment& a = list->items[0];
    EXPECT_EQ(a.job, id);
    EXPECT_EQ(a.tenant, "a");
    EXPECT_EQ(a.attempt, 1);
    EXPECT_EQ(a.rank, rank);
    EXPECT_EQ(a.world_size, 2);
    EXPECT_EQ(a.devices, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(a.device_type, "H100");
    EXPECT_EQ(a.visible_devices_variable, "CUDA_VISIBLE_DEVICES");
    EXPECT_EQ(a.master_addr, kN0);  // rank 0's node (its agent has reported no address)
    EXPECT_EQ(a.command, (std::vector<std::string>{"torchrun", "train.py"}));
    EXPECT_EQ(a.env.at("EPOCHS"), "3");
    EXPECT_EQ(a.workdir, "data/run");
    // Encoded once, decoded once: what the agent reads is what the server meant.
    auto decoded = protocol::DecodeAssignmentList(protocol::Encode(*list));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->items[0].command, a.command);
    EXPECT_EQ(decoded->items[0].devices, a.devices);
  }
}

TEST_F(AgentBackendTest, OnlyTheNodesOwnAgentOrAnAdminMayRead) {
  SubmitGang();
  EXPECT_TRUE(List(Admin(), kN1).ok());
  EXPECT_EQ(List(Agent(kN0), kN1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(List(Caller{Role::kTenant, "a", "t"}, kN0).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(List(Admin(), "c/no-such-node").status().code(), StatusCode::kNotFound);
}

TEST_F(AgentBackendTest, ALongPollIsAnsweredWhenTheListChangesOrItsTimeIsUp) {
  const uint64_t v = List(Agent(kN0), kN0)->version;
  std::optional<protocol::AssignmentList> got;
  bool waiting = plane_->Run([&](ControlPlane&) {
    return backend_->Wait(Agent(kN0), kN0, v, 30'000,
                          [&](StatusOr<protocol::AssignmentList> l) { got = *l; });
  });
  ASSERT_TRUE(waiting);
  EXPECT_FALSE(got.has_value());
  const uint64_t id = SubmitGang();  // launches on both nodes: the poll is answered
  ASSERT_TRUE(got.has_value());
  EXPECT_GT(got->version, v);
  ASSERT_EQ(got->items.size(), 1u);
  EXPECT_EQ(got->items[0].job, id);

  // An out-of-date version is answered at once (false: reply now).
  EXPECT_FALSE(plane_->Run(
      [&](ControlPlane&) { return backend_->Wait(Agent(kN0), kN0, v, 30'000, [](auto) {}); }));
  // Unchanged: answered when the wait is over.
  got.reset();
  const uint64_t now = List(Agent(kN0), kN0)->version;
  ASSERT_TRUE(plane_->Run([&](ControlPlane&) {
    return backend_->Wait(Agent(kN0), kN0, now, 1'000,
                          [&](StatusOr<protocol::AssignmentList> l) { got = *l; });
  }));
  clock_.now_ms += 500;
  plane_->Run([](ControlPlane& p) {
    p.Turn();
    return 0;
  });
  EXPECT_FALSE(got.has_value());
  clock_.now_ms += 600;
  plane_->Run([](ControlPlane& p) {
    p.Turn();
    return 0;
  });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->version, now);
}

TEST_F(AgentBackendTest, ARankThatEndedIsNotStartedAgainEvenAfterARestart) {
  const uint64_t id = SubmitGang();
  ReportExit(id, 0);
  EXPECT_TRUE(List(Agent(kN0), kN0)->items.empty());
  EXPECT_EQ(List(Agent(kN1), kN1)->items.size(), 1u);
  Open();  // the server restarts; the backend learns what runs from the plane
  EXPECT_TRUE(List(Agent(kN0), kN0)->items.empty());
  ASSERT_EQ(List(Agent(kN1), kN1)->items.size(), 1u);
  EXPECT_EQ(List(Agent(kN1), kN1)->items[0].rank, 1);
}

TEST_F(AgentBackendTest, ACancelledJobLeavesTheLists) {
  const uint64_t id = SubmitGang();
  const uint64_t v = List(Agent(kN1), kN1)->version;
  auto r = plane_->Run([&](ControlPlane& p) { return p.CancelJob(Admin(), id); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto list = List(Agent(kN1), kN1);
  EXPECT_TRUE(list->items.empty());
  EXPECT_GT(list->version, v);
}

}  // namespace
}  // namespace suanpan::backends
