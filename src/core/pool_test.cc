#include "core/pool.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/device_type.h"
#include "testing/builders.h"

namespace suanpan::core {
namespace {

using ::suanpan::testing::TestPool;

constexpr std::string_view kBuiltinNames =
    "H100, H800, H20, A100, A800, L40S, RTX4090, Ascend910B, MLU370";

DeviceTypeId TypeId(const Pool& pool, std::string_view name) {
  std::optional<DeviceTypeId> id = pool.catalog().Find(name);
  SP_CHECK(id.has_value()) << name;
  return *id;
}

TEST(DeviceCatalogTest, BuiltinHoldsTheNineTypesInOrder) {
  const DeviceCatalog& catalog = BuiltinDeviceCatalog();
  EXPECT_EQ(catalog.size(), 9u);
  EXPECT_EQ(catalog.Names(), kBuiltinNames);
}

TEST(DeviceCatalogTest, EveryBuiltinTypeHasPositiveFiguresAndASource) {
  for (const DeviceType& t : BuiltinDeviceCatalog().types()) {
    EXPECT_GT(t.fp16_gflops, 0) << t.name;
    EXPECT_GT(t.memory.value(), 0) << t.name;
    EXPECT_GE(t.interconnect_domain, 1) << t.name;
    EXPECT_FALSE(t.vendor.empty()) << t.name;
    EXPECT_FALSE(t.source.empty()) << t.name;
  }
}

TEST(DeviceCatalogTest, H100Is989TflopsDense) {
  const DeviceCatalog& catalog = BuiltinDeviceCatalog();
  std::optional<DeviceTypeId> h100 = catalog.Find("H100");
  ASSERT_TRUE(h100.has_value());
  EXPECT_EQ(catalog.Get(*h100).fp16_gflops, 989'400);
  EXPECT_EQ(catalog.Get(*h100).memory.value(), 80 * 1024);  // 80 GiB in MiB
  EXPECT_EQ(catalog.Get(*h100).interconnect_domain, 8);
}

TEST(DeviceCatalogTest, FindIsCaseSensitive) {
  EXPECT_FALSE(BuiltinDeviceCatalog().Find("h100").has_value());
}

TEST(BackendKindTest, NamesRoundTrip) {
  EXPECT_EQ(ParseBackendKind(BackendKindName(BackendKind::kManaged)), BackendKind::kManaged);
  EXPECT_EQ(ParseBackendKind(BackendKindName(BackendKind::kDelegated)), BackendKind::kDelegated);
  EXPECT_FALSE(ParseBackendKind("cloud").has_value());
}

// A builder holding provider "p" (priced for H100 only) and an empty cluster "c" with 32 nodes per
// switch and 8 switches per block.
class PoolBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<ProviderId> provider = builder_.AddProvider("p", "cn-test", BackendKind::kManaged);
    ASSERT_TRUE(provider.ok()) << provider.status().ToString();
    provider_ = *provider;
    Status priced = builder_.SetPrice(provider_, "H100", MicroYuan(10'000'000));
    ASSERT_TRUE(priced.ok()) << priced.ToString();
    StatusOr<ClusterId> cluster = builder_.AddCluster(provider_, "c", 32, 8);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = *cluster;
  }

  Status AddGroup(const std::string& name, int64_t count, std::string_view type = "H100",
                  int devices = 8, int domain = 0) {
    return builder_.AddNodeGroup(cluster_, name, count, type, devices, domain, MilliCpu(128'000),
                                 MiB(2048 * 1024));
  }

  PoolBuilder builder_;
  ProviderId provider_;
  ClusterId cluster_;
};

TEST_F(PoolBuilderTest, DuplicateProviderIsAlreadyExists) {
  StatusOr<ProviderId> again = builder_.AddProvider("p", "cn-other", BackendKind::kDelegated);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "name: duplicate provider 'p'");
}

TEST_F(PoolBuilderTest, DuplicateClusterIsAlreadyExists) {
  StatusOr<ClusterId> again = builder_.AddCluster(provider_, "c", 32, 8);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "name: duplicate cluster 'c'");
}

TEST_F(PoolBuilderTest, ClusterNamesAreUniqueAcrossProviders) {
  StatusOr<ProviderId> other = builder_.AddProvider("q", "cn-other", BackendKind::kManaged);
  ASSERT_TRUE(other.ok());
  StatusOr<ClusterId> again = builder_.AddCluster(*other, "c", 32, 8);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST_F(PoolBuilderTest, DuplicateTenantIsAlreadyExists) {
  ASSERT_TRUE(builder_.AddTenant("a", 1, {}).ok());
  StatusOr<TenantId> again = builder_.AddTenant("a", 2, {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "name: duplicate tenant 'a'");
}

TEST_F(PoolBuilderTest, DuplicateNodeGroupInOneClusterIsAlreadyExists) {
  ASSERT_TRUE(AddGroup("g", 1).ok());
  Status again = AddGroup("g", 1);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.message(), "name: duplicate node group 'g' in cluster 'c'");
}

TEST_F(PoolBuilderTest, UnknownDeviceTypeNamesItAndTheKnownOnes) {
  Status s = AddGroup("g", 1, "H200");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "device_type: unknown device type 'H200' (known: " + std::string(kBuiltinNames) + ")");
}

TEST_F(PoolBuilderTest, ZeroDevicesPerNodeIsRejected) {
  Status s = AddGroup("g", 1, "H100", /*devices=*/0);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "devices_per_node: must be in 1..64, got 0");
}

TEST_F(PoolBuilderTest, ZeroCountIsRejected) {
  Status s = AddGroup("g", 0);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "count: must be in 1..100000, got 0");
}

TEST_F(PoolBuilderTest, DomainThatNeitherDividesNorMultipliesTheNodeIsRejected) {
  Status s = AddGroup("g", 1, "H100", /*devices=*/8, /*domain=*/3);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "interconnect_domain: 3 neither divides devices_per_node 8 nor is a multiple of it");
}

TEST_F(PoolBuilderTest, ZeroWeightIsRejected) {
  StatusOr<TenantId> tenant = builder_.AddTenant("a", 0, {});
  ASSERT_FALSE(tenant.ok());
  EXPECT_EQ(tenant.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tenant.status().message(), "weight: must be in 1..1000000, got 0");
}

TEST_F(PoolBuilderTest, QuotaMaxBelowGuaranteedIsRejected) {
  StatusOr<TenantId> tenant = builder_.AddTenant("a", 1, {});
  ASSERT_TRUE(tenant.ok());
  Status s = builder_.SetQuota(*tenant, "H100", Quota{WholeDevices(8), WholeDevices(4)});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "max: 4 is below guaranteed 8");
}

TEST_F(PoolBuilderTest, GuaranteedQuotasAboveThePoolFailAtBuild) {
  ASSERT_TRUE(AddGroup("g", 1).ok());  // 8 H100
  for (const char* name : {"a", "b"}) {
    StatusOr<TenantId> tenant = builder_.AddTenant(name, 1, {});
    ASSERT_TRUE(tenant.ok());
    ASSERT_TRUE(builder_.SetQuota(*tenant, "H100", Quota{WholeDevices(5), WholeDevices(8)}).ok());
  }
  StatusOr<Pool> pool = std::move(builder_).Build();
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().code(), StatusCode::kInvalidArgument);
  // 5 + 5 = 10 guaranteed > 8 devices.
  EXPECT_EQ(pool.status().message(),
            "tenants: quota.H100.guaranteed adds up to 10 devices, more than the pool's 8");
}

TEST_F(PoolBuilderTest, GuaranteedQuotasEqualToThePoolAreAccepted) {
  ASSERT_TRUE(AddGroup("g", 1).ok());  // 8 H100
  for (const char* name : {"a", "b"}) {
    StatusOr<TenantId> tenant = builder_.AddTenant(name, 1, {});
    ASSERT_TRUE(tenant.ok());
    ASSERT_TRUE(builder_.SetQuota(*tenant, "H100", Quota{WholeDevices(4), WholeDevices(8)}).ok());
  }
  StatusOr<Pool> pool = std::move(builder_).Build();  // 4 + 4 = 8
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
}

TEST_F(PoolBuilderTest, ProviderWithoutAPriceForAHostedTypeFailsAtBuild) {
  ASSERT_TRUE(AddGroup("g", 1, "RTX4090", /*devices=*/4).ok());  // "p" has no RTX4090 price
  StatusOr<Pool> pool = std::move(builder_).Build();
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool.status().message(), "providers 'p': prices: no price for RTX4090, which it hosts");
}

TEST_F(PoolBuilderTest, PoolWithoutNodesFailsAtBuild) {
  StatusOr<Pool> pool = std::move(builder_).Build();
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().message(), "providers: the pool has no nodes");
}

TEST_F(PoolBuilderTest, SecondGroupOfTheSameTypeStartsANewSwitchInTheOpenBlock) {
  ASSERT_TRUE(AddGroup("g1", 10).ok());
  ASSERT_TRUE(AddGroup("g2", 10).ok());
  const Pool& pool = builder_.pool();
  // s0 keeps 22 free places, but g2 starts s1; block b0 has room for 8 switches.
  ASSERT_EQ(pool.switches().size(), 2u);
  EXPECT_EQ(pool.switches()[0].nodes.size(), 10u);
  EXPECT_EQ(pool.switches()[1].nodes.size(), 10u);
  ASSERT_EQ(pool.blocks().size(), 1u);
  EXPECT_EQ(pool.blocks()[0].switches.size(), 2u);
}

TEST_F(PoolBuilderTest, SecondGroupOfAnotherTypeStartsANewSwitchAndANewBlock) {
  ASSERT_TRUE(AddGroup("h100", 10).ok());
  ASSERT_TRUE(AddGroup("a100", 10, "A100").ok());
  const Pool& pool = builder_.pool();
  ASSERT_EQ(pool.switches().size(), 2u);
  ASSERT_EQ(pool.blocks().size(), 2u);
  EXPECT_EQ(pool.blocks()[0].switches.size(), 1u);
  EXPECT_EQ(pool.blocks()[1].switches.size(), 1u);
  const Node& first_a100 = pool.node(NodeId(10));
  EXPECT_EQ(first_a100.group, "a100");
  EXPECT_EQ(first_a100.leaf.value(), 1u);
  EXPECT_EQ(first_a100.block.value(), 1u);
}

TEST(PoolTopologyTest, SeventyNodesFillThreeSwitchesInTwoBlocks) {
  // 70 nodes at 32 per switch: 32 + 32 + 6; 3 switches at 2 per block: blocks of 2 and 1.
  Pool pool = TestPool()
                  .Cluster("c", "H100", /*nodes=*/70, /*devices=*/8, /*nodes_per_switch=*/32,
                           /*switches_per_block=*/2)
                  .Build();
  ASSERT_EQ(pool.switches().size(), 3u);
  EXPECT_EQ(pool.switches()[0].nodes.size(), 32u);
  EXPECT_EQ(pool.switches()[1].nodes.size(), 32u);
  EXPECT_EQ(pool.switches()[2].nodes.size(), 6u);
  EXPECT_EQ(pool.switches()[2].name, "c/s2");
  ASSERT_EQ(pool.blocks().size(), 2u);
  EXPECT_EQ(pool.blocks()[0].switches.size(), 2u);
  EXPECT_EQ(pool.blocks()[1].switches.size(), 1u);
  EXPECT_EQ(pool.blocks()[1].name, "c/b1");
  const Cluster& cluster = pool.cluster(ClusterId(0));
  EXPECT_EQ(cluster.switches.size(), 3u);
  EXPECT_EQ(cluster.blocks.size(), 2u);
  EXPECT_EQ(cluster.nodes.size(), 70u);
  const Node& last = pool.node(NodeId(69));
  EXPECT_EQ(last.name, "c/g-0069");
  EXPECT_EQ(last.leaf.value(), 2u);
  EXPECT_EQ(last.block.value(), 1u);
}

TEST(PoolTopologyTest, HeaderExampleOf600H100Nodes) {
  // 600 nodes at 32 per switch: 18 full switches and one of 24; at 8 per block: 8, 8, 3.
  Pool pool = TestPool().Cluster("sh-a", "H100", /*nodes=*/600, /*devices=*/8).Build();
  ASSERT_EQ(pool.switches().size(), 19u);
  EXPECT_EQ(pool.switches()[17].nodes.size(), 32u);
  EXPECT_EQ(pool.switches()[18].nodes.size(), 24u);
  ASSERT_EQ(pool.blocks().size(), 3u);
  EXPECT_EQ(pool.blocks()[0].switches.size(), 8u);
  EXPECT_EQ(pool.blocks()[1].switches.size(), 8u);
  EXPECT_EQ(pool.blocks()[2].switches.size(), 3u);
  EXPECT_EQ(pool.Totals().devices, 4800);
}

TEST(PoolTopologyTest, Nvl72DomainSpansEighteenFourDeviceNodes) {
  // 72 devices per domain / 4 per node = 18 nodes per domain; 36 nodes on one switch: 2 domains.
  Pool pool = TestPool()
                  .Cluster("nvl", "H100", /*nodes=*/36, /*devices=*/4, /*nodes_per_switch=*/36,
                           /*switches_per_block=*/8, "p", 10.0, /*domain=*/72)
                  .Build();
  ASSERT_EQ(pool.domains().size(), 2u);
  EXPECT_EQ(pool.domains()[0].nodes.size(), 18u);
  EXPECT_EQ(pool.domains()[1].nodes.size(), 18u);
  EXPECT_EQ(pool.node(NodeId(0)).shape.domain_size, 72);
  EXPECT_EQ(pool.node(NodeId(17)).domain.value(), 0u);
  EXPECT_EQ(pool.node(NodeId(18)).domain.value(), 1u);
}

TEST(PoolTopologyTest, DefaultDomainIsTheSmallerOfTheTypesAndTheNodes) {
  Pool pool = TestPool()
                  .Cluster("h", "H100", /*nodes=*/2, /*devices=*/8)
                  .Cluster("r", "RTX4090", /*nodes=*/3, /*devices=*/4)
                  .Build();
  EXPECT_EQ(pool.node(NodeId(0)).shape.domain_size, 8);  // min(H100 NVLink 8, 8 per node)
  EXPECT_EQ(pool.node(NodeId(2)).shape.domain_size, 1);  // min(RTX4090 PCIe 1, 4 per node)
  EXPECT_EQ(pool.domains().size(), 5u);                  // one per node
}

TEST(PoolTotalsTest, TwoNodesOfEightH100) {
  Pool pool = TestPool().Cluster("c", "H100", /*nodes=*/2, /*devices=*/8).Build();
  PoolTotals totals = pool.Totals();
  EXPECT_EQ(totals.nodes, 2);
  EXPECT_EQ(totals.devices, 16);
  EXPECT_EQ(totals.fp16_gflops, 15'830'400);  // 16 x 989,400
  ASSERT_EQ(totals.devices_by_type.size(), 9u);
  EXPECT_EQ(totals.devices_by_type[TypeId(pool, "H100").value()], 16);
  EXPECT_EQ(totals.devices_by_type[TypeId(pool, "A100").value()], 0);
}

TEST(PoolTotalsTest, MixedTypesAddExactly) {
  Pool pool = TestPool()
                  .Cluster("h", "H100", /*nodes=*/2, /*devices=*/8)
                  .Cluster("r", "RTX4090", /*nodes=*/3, /*devices=*/4)
                  .Build();
  PoolTotals totals = pool.Totals();
  EXPECT_EQ(totals.devices, 28);  // 16 + 12
  // 16 x 989,400 + 12 x 165,200 = 15,830,400 + 1,982,400
  EXPECT_EQ(totals.fp16_gflops, 17'812'800);
  EXPECT_EQ(totals.devices_by_type[TypeId(pool, "RTX4090").value()], 12);
}

TEST(PoolTest, MaxClusterDevicesIsTheLargestClusterPerType) {
  Pool pool = TestPool()
                  .Cluster("a", "H100", /*nodes=*/2, /*devices=*/8)
                  .Cluster("b", "H100", /*nodes=*/4, /*devices=*/8)
                  .Cluster("r", "RTX4090", /*nodes=*/3, /*devices=*/4)
                  .Build();
  EXPECT_EQ(pool.MaxClusterDevices(TypeId(pool, "H100")), 32);  // "b": 4 x 8, not 16 + 32
  EXPECT_EQ(pool.MaxClusterDevices(TypeId(pool, "RTX4090")), 12);
  EXPECT_EQ(pool.MaxClusterDevices(TypeId(pool, "A100")), 0);
}

}  // namespace
}  // namespace suanpan::core
