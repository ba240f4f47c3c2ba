#pragma once
// The pool: compute partners (providers), their clusters, topology and nodes; tenants with their
// quotas; priority classes. A Pool is built through PoolBuilder, which validates every value as
// it is added, and is immutable afterwards. Entities are referred to by dense IDs (positions).
//
// Topology, from the bottom up: a node holds devices of one type; nodes form an interconnect
// domain (NVLink/HCCS) when the domain is larger than a node (an NVL72 rack of 18 x 4 GPUs),
// otherwise each node is its own domain; nodes hang off leaf switches; leaf switches form blocks
// (spine groups); blocks form a cluster. A cluster is one network: a gang never spans two
// clusters, so never two providers.
//
// Node groups are laid out in order: each group starts on a new leaf switch, fills
// `nodes_per_switch` nodes per switch, and switches fill `switches_per_block` per block.
//   cluster "sh-a" (32 nodes/switch, 8 switches/block), group of 600 x 8 H100:
//   -> 19 leaf switches (18 full, 1 with 24 nodes), in blocks of 8, 8, 3; 4,800 H100.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/id.h"
#include "base/quantity.h"
#include "base/status.h"
#include "core/device_type.h"

namespace suanpan::core {

using ProviderId = Id<struct ProviderTag>;
using ClusterId = Id<struct ClusterTag>;
using BlockId = Id<struct BlockTag>;
using SwitchId = Id<struct SwitchTag>;
using DomainId = Id<struct DomainTag>;
using NodeId = Id<struct NodeTag>;
using TenantId = Id<struct TenantTag>;
using ProjectId = Id<struct ProjectTag>;  // a project's position among its tenant's projects
// The queue a job waits in and the account its devices are counted on: its tenant's own (the
// tenant's id), or one of its projects' (Pool::QueueOf). With no projects anywhere the queues
// are the tenants, so a pool without projects schedules exactly as a flat one.
using QueueId = TenantId;

// managed: suanpan places down to the device through its agent.
// delegated: suanpan picks the provider; the partner's engine (Slurm) places inside it.
enum class BackendKind { kManaged, kDelegated };
std::string_view BackendKindName(BackendKind kind);
std::optional<BackendKind> ParseBackendKind(std::string_view name);

// How suanpan reaches a delegated provider's engine (the pool file's [providers.slurm]).
struct EngineConfig {
  std::string kind = "slurm";
  std::string mode = "rest";  // rest: slurmrestd; cli: sbatch, squeue, scancel, sinfo
  std::string url;            // rest: http://host:port or unix:/path/to/socket
  std::string user = "root";  // rest: X-SLURM-USER-NAME; the jobs run as this user
  std::string token_file;     // rest: a JWT (scontrol token), re-read at every request
  std::string cli_dir;        // cli: where the commands are ("": PATH)
  std::string conf;           // cli: SLURM_CONF ("": the engine's default)
  std::string partition, account, qos;
  std::map<std::string, std::string> gres;  // device type -> GRES name ("gpu:h100"); default "gpu"
  std::vector<std::string> nodes;  // the engine's node names in the pool's node order ("": sorted)
  std::string output_dir;  // where the jobs write their output, on a file system the server reads
  std::string work_dir;    // the jobs' working directory on the partner's nodes ("": output_dir)
  int poll_seconds = 5;
  int timeout_seconds = 20;  // every call to the engine
};

struct Provider {
  std::string name;
  std::string region;
  BackendKind backend = BackendKind::kManaged;
  std::optional<EngineConfig> engine;  // delegated providers that suanpan hands work to
  // Price per device-hour, by device type id; nullopt where the provider has no price for the type.
  std::vector<std::optional<MicroYuan>> price_per_device_hour;
  std::vector<ClusterId> clusters;
  // The hub's share of what the provider's hardware earns, in per mille (partner statements).
  int margin_permille = 0;
};

struct Cluster {
  std::string name;
  ProviderId provider;
  int nodes_per_switch = 32;
  int switches_per_block = 8;
  std::vector<BlockId> blocks;
  std::vector<SwitchId> switches;
  std::vector<NodeId> nodes;
};

struct Block {
  std::string name;
  ClusterId cluster;
  std::vector<SwitchId> switches;
};

struct LeafSwitch {
  std::string name;
  ClusterId cluster;
  BlockId block;
  std::vector<NodeId> nodes;
};

struct Domain {
  ClusterId cluster;
  std::vector<NodeId> nodes;
};

// One node's hardware. `domain_size` is the interconnect domain in devices: equal to `devices`
// for an 8-GPU NVLink server, 1 for PCIe cards, 72 for an NVL72 rack of 4-GPU nodes.
struct NodeShape {
  DeviceTypeId type;
  int devices = 0;
  int domain_size = 0;
  MilliCpu cpu;
  MiB memory;
};

struct Node {
  std::string name;
  std::string group;
  ProviderId provider;
  ClusterId cluster;
  BlockId block;
  SwitchId leaf;
  DomainId domain;
  NodeShape shape;
};

// A tenant's quota for one device type. `guaranteed` is always available to the tenant (others'
// borrowed use of it is preempted to give it back); up to `max` it may burst into idle capacity.
struct Quota {
  MilliDevices guaranteed = MilliDevices(0);
  MilliDevices max = MilliDevices::Max();
};

// A team inside a tenant. Its quota nests in its tenant's: the guarantees of a tenant's projects
// add up to at most the tenant's guarantee, a project's max is at most its tenant's, and a
// project's job also counts on its tenant's quota. A project under its guarantee reclaims what
// a sibling project borrows beyond its own before the tenant reclaims from other tenants
// (preemption/gang), and fair share inside the tenant is over its projects (queue/fair_share).
// Projects are appended and retired, never removed (running jobs refer to them by position).
struct Project {
  std::string name;
  int64_t weight = 1;
  std::vector<Quota> quota;  // by device type id; default: the tenant's max, no guarantee
  bool retired = false;
};

struct Tenant {
  std::string name;
  int64_t weight = 1;
  std::vector<Quota> quota;  // by device type id
  std::vector<Project> projects;
  std::vector<std::string> priority_classes;  // allowed; empty = every class
  // Retired through the API: it takes no new work; what it queued and runs goes on to its end,
  // and its tokens still read its jobs and bills.
  bool retired = false;
};

struct PriorityClass {
  std::string name;
  int value = 0;
  bool preemptible = true;
};

struct PoolTotals {
  std::vector<int64_t> devices_by_type;  // by device type id
  int64_t devices = 0;
  int64_t nodes = 0;
  int64_t fp16_gflops = 0;  // sum of peak dense FP16/BF16 over all devices
  double Eflops() const { return static_cast<double>(fp16_gflops) / 1e9; }
  double Pflops() const { return static_cast<double>(fp16_gflops) / 1e6; }
};

class Pool {
 public:
  const DeviceCatalog& catalog() const { return catalog_; }
  const std::vector<Provider>& providers() const { return providers_; }
  const std::vector<Cluster>& clusters() const { return clusters_; }
  const std::vector<Block>& blocks() const { return blocks_; }
  const std::vector<LeafSwitch>& switches() const { return switches_; }
  const std::vector<Domain>& domains() const { return domains_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Tenant>& tenants() const { return tenants_; }
  const std::vector<PriorityClass>& priority_classes() const { return priority_classes_; }

  const Provider& provider(ProviderId id) const { return providers_[id.value()]; }
  const Cluster& cluster(ClusterId id) const { return clusters_[id.value()]; }
  const Node& node(NodeId id) const { return nodes_[id.value()]; }
  const Tenant& tenant(TenantId id) const { return tenants_[id.value()]; }

  std::optional<TenantId> FindTenant(std::string_view name) const;
  std::optional<ProjectId> FindProject(TenantId tenant, std::string_view name) const;
  // Queues: [0, tenants) the tenants' own, tenants() (the system tenant), then every tenant's
  // projects in order. O(1).
  size_t QueueCount() const { return tenants_.size() + 1 + project_queues_; }
  QueueId QueueOf(TenantId tenant, std::optional<ProjectId> project) const {
    if (!project) return tenant;
    return QueueId(static_cast<uint32_t>(tenants_.size() + 1 + project_base_[tenant.value()] +
                                         project->value()));
  }
  // A tenant's queues: its own, then its projects'. O(projects).
  std::vector<QueueId> QueuesOf(TenantId tenant) const {
    std::vector<QueueId> out{tenant};
    if (tenant.value() >= tenants_.size()) return out;
    for (size_t p = 0; p < tenants_[tenant.value()].projects.size(); ++p) {
      out.push_back(QueueOf(tenant, ProjectId(static_cast<uint32_t>(p))));
    }
    return out;
  }
  // The tenant a queue belongs to, and its project (none for a tenant's own queue). O(log T).
  TenantId TenantOfQueue(QueueId queue) const;
  std::optional<ProjectId> ProjectOfQueue(QueueId queue) const;
  const Project* ProjectOf(QueueId queue) const;
  std::optional<ProviderId> FindProvider(std::string_view name) const;
  std::optional<NodeId> FindNode(std::string_view name) const;
  std::optional<ClusterId> FindCluster(std::string_view name) const;
  const PriorityClass* FindPriorityClass(std::string_view name) const;
  // Largest number of devices of `type` any one cluster holds: a gang larger than this is
  // infeasible on the pool. O(1): computed by Build().
  int64_t MaxClusterDevices(DeviceTypeId type) const { return max_cluster_devices_[type.value()]; }
  // How many nodes of each distinct shape every cluster has for `type` (a handful of entries),
  // for feasibility checks in O(entries) instead of O(nodes).
  struct ShapeCount {
    ClusterId cluster;
    NodeShape shape;
    int64_t count = 0;
  };
  const std::vector<ShapeCount>& ShapesOf(DeviceTypeId type) const {
    return shapes_by_type_[type.value()];
  }
  PoolTotals Totals() const;

  // Live administration (control/tenants.cc): adds the tenant `t.name` (appended, so every other
  // tenant keeps its id) or replaces the one of that name. Checked as the pool file is: the
  // name, weight 1..1000000, classes that exist, quotas per type of the catalog with max >=
  // guaranteed, and (with `check_guarantees`) the guarantees of all tenants together within the
  // pool's devices; projects nested as `Project` says, none removed or renamed. Errors name the
  // field ("quota.A100.max: ...", "projects.vision.quota.H100.guaranteed: ..."). Nothing changes
  // on an error.
  StatusOr<TenantId> PutTenant(Tenant t, bool check_guarantees = true);

 private:
  friend class PoolBuilder;
  DeviceCatalog catalog_;
  std::vector<Provider> providers_;
  std::vector<Cluster> clusters_;
  std::vector<Block> blocks_;
  std::vector<LeafSwitch> switches_;
  std::vector<Domain> domains_;
  std::vector<Node> nodes_;
  std::vector<Tenant> tenants_;
  std::vector<PriorityClass> priority_classes_;
  std::vector<int64_t> max_cluster_devices_;
  std::optional<PoolTotals> totals_;  // computed by Build()
  std::vector<std::vector<ShapeCount>> shapes_by_type_;
  std::map<std::string, TenantId, std::less<>> tenant_by_name_;
  void IndexProjects();
  std::vector<uint32_t> project_base_;  // [tenant] -> its first project's offset among projects
  size_t project_queues_ = 0;
  std::map<std::string, ProviderId, std::less<>> provider_by_name_;
  std::map<std::string, NodeId, std::less<>> node_by_name_;        // made by Build()
  std::map<std::string, ClusterId, std::less<>> cluster_by_name_;  // made by Build()
};

// 8000 milli-devices -> "8"; 8500 -> "8.500".
std::string FormatDevices(MilliDevices m);

// Builds a Pool. Every Add* validates its arguments and returns InvalidArgument/AlreadyExists
// naming the field and the value; callers (the TOML reader) add file:line.
class PoolBuilder {
 public:
  explicit PoolBuilder(DeviceCatalog catalog = BuiltinDeviceCatalog());

  StatusOr<DeviceTypeId> AddDeviceType(DeviceType type);
  StatusOr<ProviderId> AddProvider(std::string name, std::string region, BackendKind backend);
  Status SetPrice(ProviderId provider, std::string_view type, MicroYuan per_device_hour);
  void SetEngine(ProviderId provider, EngineConfig engine);
  // 0..1000 per mille; InvalidArgument otherwise.
  Status SetMargin(ProviderId provider, int permille);
  StatusOr<ClusterId> AddCluster(ProviderId provider, std::string name, int nodes_per_switch,
                                 int switches_per_block);
  // Adds `count` nodes of one shape, laid out as described in the file comment.
  Status AddNodeGroup(ClusterId cluster, std::string name, int64_t count, std::string_view type,
                      int devices, int domain_size, MilliCpu cpu, MiB memory);
  Status AddPriorityClass(std::string name, int value, bool preemptible);
  StatusOr<TenantId> AddTenant(std::string name, int64_t weight,
                               std::vector<std::string> priority_classes);
  Status SetQuota(TenantId tenant, std::string_view type, Quota quota);
  // A tenant retired (an exported live pool keeps its retired tenants: `retired = true`).
  Status SetRetired(TenantId tenant, bool retired);
  // A project of `tenant`, checked as Pool::PutTenant checks it.
  Status AddProject(TenantId tenant, Project project);

  const Pool& pool() const { return pool_; }
  // Final checks (at least one node; every tenant's priority classes exist) and hand-over.
  StatusOr<Pool> Build() &&;

 private:
  StatusOr<DeviceTypeId> ResolveType(std::string_view type) const;
  Pool pool_;
  int64_t total_nodes_ = 0;
};

}  // namespace suanpan::core
