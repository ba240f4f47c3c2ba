#include "config/pool_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace suanpan::config {
namespace {

using ::testing::HasSubstr;

// A minimal valid pool, one entry per line: kPoolLines[i] is line i + 1 of the file. The tests
// replace one line (keeping the numbers of the lines above it) and check the reported line.
constexpr std::string_view kPoolLines[] = {
    "# slot for a top-level key",                       // 1
    "[[priority_classes]]",                             // 2
    "name = \"low\"",                                   // 3
    "value = 0",                                        // 4
    "",                                                 // 5
    "[policy]",                                         // 6
    "queue = \"fifo\"",                                 // 7
    "",                                                 // 8
    "[[providers]]",                                    // 9
    "name = \"p\"",                                     // 10
    "region = \"cn-test\"",                             // 11
    "backend = \"managed\"",                            // 12
    "prices = { H100 = 10 }",                           // 13
    "",                                                 // 14
    "[[providers.clusters]]",                           // 15
    "name = \"c\"",                                     // 16
    "",                                                 // 17
    "[[providers.clusters.node_groups]]",               // 18
    "name = \"g\"",                                     // 19
    "count = 2",                                        // 20
    "device_type = \"H100\"",                           // 21
    "devices_per_node = 8",                             // 22
    "cpu_cores = 128",                                  // 23
    "memory_gib = 1024",                                // 24
    "# slot for a node group key",                      // 25
    "# slot for another provider",                      // 26
    "[[tenants]]",                                      // 27
    "name = \"a\"",                                     // 28
    "priority_classes = [\"low\"]",                     // 29
    "quota = { H100 = { guaranteed = 8, max = 16 } }",  // 30
};

// The pool text with line `line` (1-based; 0: none) replaced by `replacement`.
std::string PoolText(int line = 0, std::string_view replacement = "") {
  std::string text;
  for (size_t i = 0; i < std::size(kPoolLines); ++i) {
    text += static_cast<int>(i) + 1 == line ? replacement : kPoolLines[i];
    text += '\n';
  }
  return text;
}

core::DeviceTypeId TypeId(const core::Pool& pool, std::string_view name) {
  std::optional<core::DeviceTypeId> id = pool.catalog().Find(name);
  SP_CHECK(id.has_value()) << name;
  return *id;
}

TEST(ParsePoolTest, ReadsTheMinimalPool) {
  StatusOr<PoolFile> file = ParsePool(PoolText(), "t.toml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const core::Pool& pool = file->pool;
  ASSERT_EQ(pool.providers().size(), 1u);
  EXPECT_EQ(pool.providers()[0].name, "p");
  EXPECT_EQ(pool.providers()[0].backend, core::BackendKind::kManaged);
  EXPECT_EQ(pool.clusters().size(), 1u);
  EXPECT_EQ(pool.Totals().nodes, 2);
  EXPECT_EQ(pool.Totals().devices, 16);
  EXPECT_EQ(pool.node(core::NodeId(0)).shape.cpu.value(), 128'000);         // milli-cores
  EXPECT_EQ(pool.node(core::NodeId(0)).shape.memory.value(), 1024 * 1024);  // MiB
  ASSERT_EQ(pool.tenants().size(), 1u);
  const core::Quota& quota = pool.tenants()[0].quota[TypeId(pool, "H100").value()];
  EXPECT_EQ(quota.guaranteed.value(), 8'000);
  EXPECT_EQ(quota.max.value(), 16'000);
  EXPECT_EQ(pool.priority_classes().size(), 1u);
  EXPECT_EQ(file->policy.queue, "fifo");
}

TEST(ParsePoolTest, DecimalPriceIsExactMicroYuan) {
  StatusOr<PoolFile> file = ParsePool(PoolText(13, "prices = { H100 = 14.5 }"), "t.toml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const core::Pool& pool = file->pool;
  const auto& price = pool.providers()[0].price_per_device_hour[TypeId(pool, "H100").value()];
  ASSERT_TRUE(price.has_value());
  EXPECT_EQ(price->value(), 14'500'000);  // 14.5 yuan
}

TEST(ParsePoolTest, DecimalGuaranteedQuotaIsExactMilliDevices) {
  StatusOr<PoolFile> file =
      ParsePool(PoolText(30, "quota = { H100 = { guaranteed = 0.5 } }"), "t.toml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const core::Pool& pool = file->pool;
  const core::Quota& quota = pool.tenants()[0].quota[TypeId(pool, "H100").value()];
  EXPECT_EQ(quota.guaranteed.value(), 500);
  EXPECT_EQ(quota.max.value(), MilliDevices::Max().value());  // no max given
}

TEST(ParsePoolTest, ReadsProjectsNestedInATenant) {
  StatusOr<PoolFile> file =
      ParsePool(PoolText(30,
                         "quota = { H100 = { guaranteed = 8, max = 16 } }\n"
                         "[[tenants.projects]]\nname = \"vision\"\nweight = 2\n"
                         "quota = { H100 = { guaranteed = 6, max = 12 } }\n"
                         "[[tenants.projects]]\nname = \"llm\""),
                "t.toml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const core::Tenant& t = file->pool.tenants()[0];
  ASSERT_EQ(t.projects.size(), 2u);
  EXPECT_EQ(t.projects[0].name, "vision");
  EXPECT_EQ(t.projects[0].weight, 2);
  const size_t h100 = TypeId(file->pool, "H100").value();
  EXPECT_EQ(t.projects[0].quota[h100].guaranteed.value(), 6000);
  EXPECT_EQ(t.projects[0].quota[h100].max.value(), 12000);
  EXPECT_EQ(t.projects[1].quota[h100].max, MilliDevices::Max());  // bounded by the tenant's
  EXPECT_EQ(file->pool.QueueCount(), 1u + 1u + 2u);
}

struct BadPool {
  const char* test_name;
  int line;                 // line of kPoolLines to replace
  const char* replacement;  // may span several lines
  StatusCode code;
  const char* message;  // must appear in the status message
};

constexpr StatusCode kInvalid = StatusCode::kInvalidArgument;

// Every error points at the line of the value at fault and names it by its full path
// ("providers[0].clusters[0].node_groups[0].count"); checks that span entities (a price for a
// hosted type, guaranteed quotas adding up beyond the pool) point at the entry that tips them.
constexpr BadPool kBadPools[] = {
    {"TomlSyntax", 20, "count = 2 3", kInvalid, "t.toml:20: TOML syntax: "},
    {"UnknownTopLevelKey", 1, "colour = \"blue\"", kInvalid, "t.toml:1: colour: unknown field"},
    {"UnknownNodeGroupKey", 25, "colour = \"blue\"", kInvalid,
     "t.toml:25: providers[0].clusters[0].node_groups[0].colour: unknown field"},
    {"CountNotAnInteger", 20, "count = \"ten\"", kInvalid,
     "t.toml:20: providers[0].clusters[0].node_groups[0].count: must be an integer, got the "
     "string \"ten\""},
    {"NegativeCount", 20, "count = -1", kInvalid,
     "t.toml:20: providers[0].clusters[0].node_groups[0].count: must be in 1..100000, got -1"},
    {"CountAtInt64Max", 20, "count = 9223372036854775807", kInvalid,
     "t.toml:20: providers[0].clusters[0].node_groups[0].count: must be in 1..100000, got "
     "9223372036854775807"},
    {"CountBeyondInt64", 20, "count = 9223372036854775808", kInvalid, "t.toml:20: TOML syntax: "},
    {"UnknownDeviceType", 21, "device_type = \"H200\"", kInvalid,
     "t.toml:21: providers[0].clusters[0].node_groups[0].device_type: unknown device type 'H200' "
     "(known: H100, H800, H20, A100, A800, L40S, RTX4090, Ascend910B, MLU370)"},
    {"ZeroDevicesPerNode", 22, "devices_per_node = 0", kInvalid,
     "t.toml:22: providers[0].clusters[0].node_groups[0].devices_per_node: must be in 1..64, "
     "got 0"},
    {"NegativeDevicesPerNode", 22, "devices_per_node = -1", kInvalid,
     "t.toml:22: providers[0].clusters[0].node_groups[0].devices_per_node: must be in 1..64, "
     "got -1"},
    {"MissingRegion", 11, "# no region", kInvalid,
     "t.toml:9: providers[0].region: required field is missing"},
    {"CloudBackend", 12, "backend = \"cloud\"", kInvalid,
     "t.toml:12: providers[0].backend: must be managed or delegated, got 'cloud'"},
    {"PriceForUnknownType", 13, "prices = { H100 = 10, H200 = 12 }", kInvalid,
     "t.toml:13: providers[0].prices.H200: unknown device type 'H200'"},
    {"NoPriceForHostedType", 13, "prices = { RTX4090 = 2 }", kInvalid,
     "t.toml:21: providers[0].clusters[0].node_groups[0].device_type: provider 'p' has no price "
     "for H100"},
    {"DuplicateProvider", 26, "[[providers]]\nname = \"p\"\nregion = \"cn-other\"",
     StatusCode::kAlreadyExists, "t.toml:27: providers[1].name: duplicate provider 'p'"},
    {"UnknownQueuePolicy", 7, "queue = \"lottery\"", kInvalid,
     "t.toml:7: policy.queue: unknown policy 'lottery' (known: fifo, priority, fair_share, las, "
     "srtf)"},
    {"UnknownTenantPriorityClass", 29, "priority_classes = [\"urgent\"]", kInvalid,
     "t.toml:29: tenants[0].priority_classes[0]: unknown priority class 'urgent'"},
    {"QuotaOnUnknownType", 30, "quota = { H200 = { guaranteed = 8 } }", kInvalid,
     "t.toml:30: tenants[0].quota.H200: unknown device type 'H200'"},
    {"QuotaMaxBelowGuaranteed", 30, "quota = { H100 = { guaranteed = 8, max = 4 } }", kInvalid,
     "t.toml:30: tenants[0].quota.H100.max: 4 is below guaranteed 8"},
    {"GuaranteedAboveThePool", 30, "quota = { H100 = { guaranteed = 17 } }", kInvalid,
     "t.toml:30: tenants[0].quota.H100.guaranteed: the tenants' guaranteed H100 adds up to 17 "
     "devices here, more than the pool's 16"},
    {"ProjectGuaranteesAboveTheTenants", 30,
     "quota = { H100 = { guaranteed = 8 } }\n[[tenants.projects]]\nname = \"vision\"\n"
     "quota = { H100 = { guaranteed = 6 } }\n[[tenants.projects]]\nname = \"llm\"\n"
     "quota = { H100 = { guaranteed = 4 } }",
     kInvalid,
     "t.toml:36: tenants[0].projects[1].quota.H100.guaranteed: the projects' guaranteed H100 "
     "adds up to 10 here, more than the tenant's 8"},
    {"ProjectWeightZero", 30,
     "quota = { H100 = { guaranteed = 8 } }\n[[tenants.projects]]\nname = \"vision\"\n"
     "weight = 0",
     kInvalid, "t.toml:33: tenants[0].projects[0].weight: must be in 1..1000000, got 0"},
    {"ProjectTwice", 30,
     "quota = { H100 = { guaranteed = 8 } }\n[[tenants.projects]]\nname = \"vision\"\n"
     "[[tenants.projects]]\nname = \"vision\"",
     kInvalid, "tenants[0].projects[1].name: project 'vision' appears twice"},
    {"ProjectUnknownKey", 30,
     "quota = { H100 = { guaranteed = 8 } }\n[[tenants.projects]]\nname = \"vision\"\n"
     "colour = \"red\"",
     kInvalid, "t.toml:33: tenants[0].projects[0].colour: unknown field"},
};

class BadPoolTest : public ::testing::TestWithParam<BadPool> {};

TEST_P(BadPoolTest, NamesFileLineAndField) {
  const BadPool& c = GetParam();
  StatusOr<PoolFile> file = ParsePool(PoolText(c.line, c.replacement), "t.toml");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), c.code);
  EXPECT_THAT(file.status().message(), HasSubstr(c.message));
}

INSTANTIATE_TEST_SUITE_P(ParsePool, BadPoolTest, ::testing::ValuesIn(kBadPools),
                         [](const ::testing::TestParamInfo<BadPool>& info) {
                           return std::string(info.param.test_name);
                         });

TEST(ReadPoolFileTest, ReadsTheSmallExample) {
  StatusOr<PoolFile> file = ReadPoolFile("examples/small-pool.toml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const core::Pool& pool = file->pool;
  EXPECT_EQ(pool.providers().size(), 2u);
  EXPECT_EQ(pool.Totals().devices, 136);  // 64 H100 + 24 RTX4090 + 48 Ascend910B
  EXPECT_EQ(pool.tenants().size(), 3u);
  EXPECT_EQ(pool.providers()[1].backend, core::BackendKind::kDelegated);
  EXPECT_EQ(file->policy.queue, "fair_share");
  EXPECT_EQ(file->policy.placement, "topology_pack");
  EXPECT_EQ(file->policy.fair_share_half_life.value(), 168 * 3600);
}

TEST(ReadPoolFileTest, ReadsTheSeedScaleExample) {
  StatusOr<PoolFile> file = ReadPoolFile("examples/pool.toml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const core::Pool& pool = file->pool;
  const core::PoolTotals totals = pool.Totals();
  EXPECT_EQ(pool.providers().size(), 9u);
  EXPECT_EQ(totals.devices, 52'400);
  EXPECT_GT(totals.devices, 50'000);
  EXPECT_GE(std::count_if(totals.devices_by_type.begin(), totals.devices_by_type.end(),
                          [](int64_t n) { return n > 0; }),
            6);
  EXPECT_GT(totals.Eflops(), 29.0);
  EXPECT_LT(totals.Eflops(), 31.0);
  EXPECT_EQ(pool.tenants().size(), 100u);
}

TEST(ReadPoolFileTest, MissingFileIsNotFoundNamingThePath) {
  StatusOr<PoolFile> file = ReadPoolFile("examples/no-such-pool.toml");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(file.status().message(), HasSubstr("examples/no-such-pool.toml"));
}

// `suanpan pool export` writes a pool that reads back to the same pool: same entities in the
// same order, same node names and topology, quotas, projects, prices, engine and policy; and
// exporting the re-read pool gives the same text.
void ExpectSamePool(const PoolFile& a, const PoolFile& b) {
  ASSERT_EQ(a.pool.nodes().size(), b.pool.nodes().size());
  for (size_t n = 0; n < a.pool.nodes().size(); ++n) {
    const core::Node& x = a.pool.nodes()[n];
    const core::Node& y = b.pool.nodes()[n];
    ASSERT_EQ(x.name, y.name);
    EXPECT_EQ(x.leaf, y.leaf) << x.name;
    EXPECT_EQ(x.domain, y.domain) << x.name;
    EXPECT_EQ(x.shape.devices, y.shape.devices) << x.name;
    EXPECT_EQ(x.shape.cpu, y.shape.cpu) << x.name;
    EXPECT_EQ(x.shape.memory, y.shape.memory) << x.name;
  }
  EXPECT_EQ(a.pool.Totals().fp16_gflops, b.pool.Totals().fp16_gflops);
  ASSERT_EQ(a.pool.providers().size(), b.pool.providers().size());
  for (size_t p = 0; p < a.pool.providers().size(); ++p) {
    EXPECT_EQ(a.pool.providers()[p].price_per_device_hour,
              b.pool.providers()[p].price_per_device_hour);
    EXPECT_EQ(a.pool.providers()[p].margin_permille, b.pool.providers()[p].margin_permille);
    EXPECT_EQ(a.pool.providers()[p].engine.has_value(), b.pool.providers()[p].engine.has_value());
  }
  ASSERT_EQ(a.pool.tenants().size(), b.pool.tenants().size());
  for (size_t t = 0; t < a.pool.tenants().size(); ++t) {
    const core::Tenant& x = a.pool.tenants()[t];
    const core::Tenant& y = b.pool.tenants()[t];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.weight, y.weight);
    EXPECT_EQ(x.priority_classes, y.priority_classes);
    EXPECT_EQ(x.retired, y.retired);
    for (size_t q = 0; q < x.quota.size(); ++q) {
      EXPECT_EQ(x.quota[q].guaranteed, y.quota[q].guaranteed) << x.name;
      EXPECT_EQ(x.quota[q].max, y.quota[q].max) << x.name;
    }
    ASSERT_EQ(x.projects.size(), y.projects.size()) << x.name;
    for (size_t p = 0; p < x.projects.size(); ++p) {
      EXPECT_EQ(x.projects[p].name, y.projects[p].name);
      EXPECT_EQ(x.projects[p].weight, y.projects[p].weight);
      EXPECT_EQ(x.projects[p].retired, y.projects[p].retired);
      for (size_t q = 0; q < x.projects[p].quota.size(); ++q) {
        EXPECT_EQ(x.projects[p].quota[q].guaranteed, y.projects[p].quota[q].guaranteed);
        EXPECT_EQ(x.projects[p].quota[q].max, y.projects[p].quota[q].max);
      }
    }
  }
  ASSERT_EQ(a.pool.priority_classes().size(), b.pool.priority_classes().size());
  EXPECT_EQ(a.policy.queue, b.policy.queue);
  EXPECT_EQ(a.policy.placement, b.policy.placement);
  EXPECT_EQ(a.policy.fair_share_half_life, b.policy.fair_share_half_life);
  EXPECT_EQ(a.policy.las_thresholds, b.policy.las_thresholds);
  EXPECT_EQ(a.policy.blocking, b.policy.blocking);
}

TEST(WritePoolTest, TheExamplesReadBackToTheSamePool) {
  for (const char* path : {"examples/small-pool.toml", "examples/pool.toml"}) {
    StatusOr<PoolFile> file = ReadPoolFile(path);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    const std::string text = WritePool(file->pool, file->policy, "exported\nfor a test");
    EXPECT_TRUE(text.starts_with("# exported\n# for a test\n")) << text.substr(0, 60);
    StatusOr<PoolFile> again = ParsePool(text, "export.toml");
    ASSERT_TRUE(again.ok()) << path << ": " << again.status().ToString() << "\n" << text;
    ExpectSamePool(*file, *again);
    EXPECT_EQ(WritePool(again->pool, again->policy, "exported\nfor a test"), text) << path;
  }
}

TEST(WritePoolTest, ProjectsRetiredTenantsCustomTypesEnginesAndLivePricesRoundTrip) {
  const std::string text = R"(
[[device_types]]
name = "X1"
vendor = "acme"
memory_gib = 95.5
fp16_tflops = 312.25
interconnect_domain = 4

[[priority_classes]]
name = "low"
value = 0

[[priority_classes]]
name = "high"
value = 10
preemptible = false

[policy]
queue = "las"
las_thresholds_device_seconds = [100, 200]
fair_share_half_life_hours = 1.5

[[providers]]
name = "p one"
region = "cn-x"
margin_percent = 12.5
prices = { X1 = 3.141592, H100 = 10 }

[[providers.clusters]]
name = "c"
nodes_per_switch = 3

[[providers.clusters.node_groups]]
name = "x"
count = 5
device_type = "X1"
devices_per_node = 4
cpu_cores = 0.5
memory_gib = 1.5

[[providers.clusters.node_groups]]
name = "h"
count = 2
device_type = "H100"
devices_per_node = 8
cpu_cores = 96
memory_gib = 1024

[[providers]]
name = "q"
region = "cn-y"
backend = "delegated"
prices = { H100 = 9 }

[providers.slurm]
mode = "cli"
output_dir = "/srv/out"
partition = "gpu"
gres = { H100 = "gpu:h100" }

[[providers.clusters]]
name = "d"

[[providers.clusters.node_groups]]
name = "g"
count = 1
device_type = "H100"
devices_per_node = 8
cpu_cores = 8
memory_gib = 64

[[tenants]]
name = "a"
weight = 3
priority_classes = ["low"]
quota = { H100 = { guaranteed = 8, max = 16 }, X1 = { guaranteed = 0.25 } }

[[tenants.projects]]
name = "vision"
quota = { H100 = { guaranteed = 6, max = 12 } }

[[tenants.projects]]
name = "old"
weight = 2
retired = true

[[tenants]]
name = "gone"
retired = true
quota = { H100 = { guaranteed = 24 } }
)";
  StatusOr<PoolFile> file = ParsePool(text, "t.toml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(file->pool.tenants()[1].retired);
  EXPECT_TRUE(file->pool.tenants()[0].projects[1].retired);
  const std::string out = WritePool(file->pool, file->policy);
  StatusOr<PoolFile> again = ParsePool(out, "export.toml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << out;
  ExpectSamePool(*file, *again);
  EXPECT_EQ(again->pool.providers()[1].engine->gres.at("H100"), "gpu:h100");
  EXPECT_EQ(again->pool.providers()[1].engine->partition, "gpu");
  // The live price list, not the file's.
  const std::string live =
      WritePool(file->pool, file->policy, "",
                [](core::ProviderId p, core::DeviceTypeId, std::optional<MicroYuan> in_pool) {
                  return p.value() == 1 && in_pool ? std::optional<MicroYuan>(MicroYuan(12'340'000))
                                                   : in_pool;
                });
  EXPECT_NE(live.find("prices = { H100 = 12.34 }"), std::string::npos) << live;
}

}  // namespace
}  // namespace suanpan::config
