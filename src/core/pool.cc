#include "core/pool.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace suanpan::core {

std::string_view BackendKindName(BackendKind kind) {
  return kind == BackendKind::kManaged ? "managed" : "delegated";
}

std::optional<BackendKind> ParseBackendKind(std::string_view name) {
  if (name == "managed") return BackendKind::kManaged;
  if (name == "delegated") return BackendKind::kDelegated;
  return std::nullopt;
}

std::optional<TenantId> Pool::FindTenant(std::string_view name) const {
  auto it = tenant_by_name_.find(name);
  if (it == tenant_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<ProjectId> Pool::FindProject(TenantId tenant, std::string_view name) const {
  const std::vector<Project>& projects = tenants_[tenant.value()].projects;
  for (size_t i = 0; i < projects.size(); ++i) {
    if (projects[i].name == name) return ProjectId(static_cast<uint32_t>(i));
  }
  return std::nullopt;
}

void Pool::IndexProjects() {
  project_base_.assign(tenants_.size(), 0);
  uint32_t next = 0;
  for (size_t t = 0; t < tenants_.size(); ++t) {
    project_base_[t] = next;
    next += static_cast<uint32_t>(tenants_[t].projects.size());
  }
  project_queues_ = next;
}

TenantId Pool::TenantOfQueue(QueueId queue) const {
  if (queue.value() <= tenants_.size()) return queue;  // a tenant's own, or the system tenant
  const uint32_t offset = queue.value() - static_cast<uint32_t>(tenants_.size()) - 1;
  // The last tenant whose first project is at or before `offset` (tenants without projects
  // share their base with the next one, so take the last such that still has projects).
  auto it = std::upper_bound(project_base_.begin(), project_base_.end(), offset);
  size_t t = static_cast<size_t>(it - project_base_.begin()) - 1;
  while (offset - project_base_[t] >= tenants_[t].projects.size()) --t;
  return TenantId(static_cast<uint32_t>(t));
}

std::optional<ProjectId> Pool::ProjectOfQueue(QueueId queue) const {
  if (queue.value() <= tenants_.size()) return std::nullopt;
  const TenantId t = TenantOfQueue(queue);
  return ProjectId(queue.value() - static_cast<uint32_t>(tenants_.size()) - 1 -
                   project_base_[t.value()]);
}

const Project* Pool::ProjectOf(QueueId queue) const {
  auto p = ProjectOfQueue(queue);
  if (!p) return nullptr;
  return &tenants_[TenantOfQueue(queue).value()].projects[p->value()];
}

std::optional<NodeId> Pool::FindNode(std::string_view name) const {
  auto it = node_by_name_.find(name);
  if (it == node_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<ClusterId> Pool::FindCluster(std::string_view name) const {
  auto it = cluster_by_name_.find(name);
  if (it == cluster_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<ProviderId> Pool::FindProvider(std::string_view name) const {
  auto it = provider_by_name_.find(name);
  if (it == provider_by_name_.end()) return std::nullopt;
  return it->second;
}

const PriorityClass* Pool::FindPriorityClass(std::string_view name) const {
  for (const PriorityClass& pc : priority_classes_) {
    if (pc.name == name) return &pc;
  }
  return nullptr;
}

PoolTotals Pool::Totals() const {
  if (totals_) return *totals_;
  PoolTotals t;
  t.devices_by_type.assign(catalog_.size(), 0);
  for (const Node& n : nodes_) {
    t.devices_by_type[n.shape.type.value()] += n.shape.devices;
    t.devices += n.shape.devices;
    t.fp16_gflops += n.shape.devices * catalog_.Get(n.shape.type).fp16_gflops;
  }
  t.nodes = static_cast<int64_t>(nodes_.size());
  return t;
}

PoolBuilder::PoolBuilder(DeviceCatalog catalog) { pool_.catalog_ = std::move(catalog); }

StatusOr<DeviceTypeId> PoolBuilder::AddDeviceType(DeviceType type) {
  if (!pool_.providers_.empty()) {
    return FailedPreconditionError("device_types must be declared before providers");
  }
  return pool_.catalog_.Add(std::move(type));
}

StatusOr<DeviceTypeId> PoolBuilder::ResolveType(std::string_view type) const {
  auto id = pool_.catalog_.Find(type);
  if (!id) {
    return InvalidArgumentError(
        fmt::format("unknown device type '{}' (known: {})", type, pool_.catalog_.Names()));
  }
  return *id;
}

std::string FormatDevices(MilliDevices m) {
  if (m.value() % kMilliPerDevice == 0) return fmt::format("{}", m.value() / kMilliPerDevice);
  return fmt::format("{:.3f}", static_cast<double>(m.value()) / kMilliPerDevice);
}

namespace {

Status CheckName(std::string_view field, std::string_view name) {
  if (name.empty()) return InvalidArgumentError(fmt::format("{}: must not be empty", field));
  if (name.size() > 128) {
    return InvalidArgumentError(fmt::format("{}: longer than 128 characters", field));
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == ',' || c == '|' || c == '"') {
      return InvalidArgumentError(
          fmt::format("{}: '{}' contains a control character, ',', '|' or '\"'", field, name));
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<ProviderId> PoolBuilder::AddProvider(std::string name, std::string region,
                                              BackendKind backend) {
  SP_RETURN_IF_ERROR(CheckName("name", name));
  SP_RETURN_IF_ERROR(CheckName("region", region));
  if (pool_.provider_by_name_.count(name)) {
    return AlreadyExistsError(fmt::format("name: duplicate provider '{}'", name));
  }
  ProviderId id(static_cast<uint32_t>(pool_.providers_.size()));
  Provider p;
  p.name = name;
  p.region = std::move(region);
  p.backend = backend;
  p.price_per_device_hour.assign(pool_.catalog_.size(), std::nullopt);
  pool_.providers_.push_back(std::move(p));
  pool_.provider_by_name_.emplace(std::move(name), id);
  return id;
}

Status PoolBuilder::SetMargin(ProviderId provider, int permille) {
  if (permille < 0 || permille > 1000) {
    return FieldError("margin_percent", fmt::format("must be between 0 and 100, got {}.{}",
                                                    permille / 10, std::abs(permille % 10)));
  }
  pool_.providers_[provider.value()].margin_permille = permille;
  return OkStatus();
}

void PoolBuilder::SetEngine(ProviderId provider, EngineConfig engine) {
  pool_.providers_[provider.value()].engine = std::move(engine);
}

Status PoolBuilder::SetPrice(ProviderId provider, std::string_view type, MicroYuan price) {
  SP_ASSIGN_OR_RETURN(DeviceTypeId t, ResolveType(type));
  if (price.value() < 0) {
    return InvalidArgumentError(fmt::format("must be >= 0, got {} micro-yuan", price.value()));
  }
  pool_.providers_[provider.value()].price_per_device_hour[t.value()] = price;
  return OkStatus();
}

StatusOr<ClusterId> PoolBuilder::AddCluster(ProviderId provider, std::string name,
                                            int nodes_per_switch, int switches_per_block) {
  SP_RETURN_IF_ERROR(CheckName("name", name));
  for (const Cluster& c : pool_.clusters_) {
    if (c.name == name)
      return AlreadyExistsError(fmt::format("name: duplicate cluster '{}'", name));
  }
  if (nodes_per_switch < 1 || nodes_per_switch > 4096) {
    return InvalidArgumentError(
        fmt::format("nodes_per_switch: must be in 1..4096, got {}", nodes_per_switch));
  }
  if (switches_per_block < 1 || switches_per_block > 4096) {
    return InvalidArgumentError(
        fmt::format("switches_per_block: must be in 1..4096, got {}", switches_per_block));
  }
  ClusterId id(static_cast<uint32_t>(pool_.clusters_.size()));
  Cluster c;
  c.name = std::move(name);
  c.provider = provider;
  c.nodes_per_switch = nodes_per_switch;
  c.switches_per_block = switches_per_block;
  pool_.clusters_.push_back(std::move(c));
  pool_.providers_[provider.value()].clusters.push_back(id);
  return id;
}

Status PoolBuilder::AddNodeGroup(ClusterId cluster_id, std::string name, int64_t count,
                                 std::string_view type_name, int devices, int domain_size,
                                 MilliCpu cpu, MiB memory) {
  SP_RETURN_IF_ERROR(CheckName("name", name));
  auto resolved = ResolveType(type_name);
  if (!resolved.ok()) return resolved.status().WithPrefix("device_type");
  const DeviceTypeId type = *resolved;
  if (count < 1 || count > 100'000) {
    return InvalidArgumentError(fmt::format("count: must be in 1..100000, got {}", count));
  }
  if (total_nodes_ + count > 1'000'000) {
    return ResourceExhaustedError("count: the pool would exceed 1,000,000 nodes");
  }
  if (devices < 1 || devices > 64) {
    return InvalidArgumentError(fmt::format("devices_per_node: must be in 1..64, got {}", devices));
  }
  if (domain_size == 0) {
    // Default: the type's domain when it divides the node (8-GPU NVLink server: 8; PCIe: 1),
    // else the whole node.
    const int type_domain = pool_.catalog_.Get(type).interconnect_domain;
    domain_size = type_domain < devices && devices % type_domain == 0 ? type_domain : devices;
  }
  if (domain_size < 1 || domain_size > 1024) {
    return InvalidArgumentError(
        fmt::format("interconnect_domain: must be in 1..1024, got {}", domain_size));
  }
  // A domain is either inside one node (divides it) or a whole number of nodes.
  if (domain_size <= devices ? devices % domain_size != 0 : domain_size % devices != 0) {
    return InvalidArgumentError(fmt::format(
        "interconnect_domain: {} neither divides devices_per_node {} nor is a multiple of it",
        domain_size, devices));
  }
  if (cpu.value() <= 0) {
    return InvalidArgumentError(fmt::format("cpu_cores: must be > 0, got {}", cpu.value() / 1000));
  }
  if (memory.value() <= 0) {
    return InvalidArgumentError(
        fmt::format("memory_gib: must be > 0, got {}", memory.value() / 1024));
  }
  Cluster& cluster = pool_.clusters_[cluster_id.value()];
  if (domain_size > devices) {
    // A multi-node domain (an NVL72 rack) is whole: the group and each switch hold whole domains.
    const int64_t per_domain = domain_size / devices;
    if (count % per_domain != 0 || cluster.nodes_per_switch % per_domain != 0) {
      return InvalidArgumentError(fmt::format(
          "interconnect_domain: {} devices is {} nodes per domain; count ({}) and the cluster's "
          "nodes_per_switch ({}) must be multiples of it",
          domain_size, per_domain, count, cluster.nodes_per_switch));
    }
  }
  for (const Node& n : pool_.nodes_) {
    if (n.cluster == cluster_id && n.group == name) {
      return AlreadyExistsError(
          fmt::format("name: duplicate node group '{}' in cluster '{}'", name, cluster.name));
    }
  }
  const int64_t nodes_per_domain = domain_size > devices ? domain_size / devices : 1;
  SwitchId leaf;  // invalid: the group starts on a new switch
  DomainId domain;
  for (int64_t i = 0; i < count; ++i) {
    if (!leaf.valid() || pool_.switches_[leaf.value()].nodes.size() >=
                             static_cast<size_t>(cluster.nodes_per_switch)) {
      // Blocks hold one device type (a new type starts a new block), so that per-block free
      // capacity is a count of devices of one type.
      BlockId block = cluster.blocks.empty() ? BlockId() : cluster.blocks.back();
      if (!block.valid() ||
          pool_.blocks_[block.value()].switches.size() >=
              static_cast<size_t>(cluster.switches_per_block) ||
          pool_.nodes_[pool_.switches_[pool_.blocks_[block.value()].switches.front().value()]
                           .nodes.front()
                           .value()]
                  .shape.type != type) {
        block = BlockId(static_cast<uint32_t>(pool_.blocks_.size()));
        pool_.blocks_.push_back(
            Block{fmt::format("{}/b{}", cluster.name, cluster.blocks.size()), cluster_id, {}});
        cluster.blocks.push_back(block);
      }
      leaf = SwitchId(static_cast<uint32_t>(pool_.switches_.size()));
      pool_.switches_.push_back(LeafSwitch{
          fmt::format("{}/s{}", cluster.name, cluster.switches.size()), cluster_id, block, {}});
      pool_.blocks_[block.value()].switches.push_back(leaf);
      cluster.switches.push_back(leaf);
      domain = DomainId();  // a multi-node domain never straddles two leaf switches
    }
    if (!domain.valid() ||
        pool_.domains_[domain.value()].nodes.size() >= static_cast<size_t>(nodes_per_domain)) {
      domain = DomainId(static_cast<uint32_t>(pool_.domains_.size()));
      pool_.domains_.push_back(Domain{cluster_id, {}});
    }
    NodeId id(static_cast<uint32_t>(pool_.nodes_.size()));
    Node node;
    node.name = fmt::format("{}/{}-{:04d}", cluster.name, name, i);
    node.group = name;
    node.provider = cluster.provider;
    node.cluster = cluster_id;
    node.leaf = leaf;
    node.block = pool_.switches_[leaf.value()].block;
    node.domain = domain;
    node.shape = NodeShape{type, devices, domain_size, cpu, memory};
    pool_.nodes_.push_back(std::move(node));
    pool_.switches_[leaf.value()].nodes.push_back(id);
    pool_.domains_[domain.value()].nodes.push_back(id);
    cluster.nodes.push_back(id);
  }
  total_nodes_ += count;
  return OkStatus();
}

Status PoolBuilder::AddPriorityClass(std::string name, int value, bool preemptible) {
  SP_RETURN_IF_ERROR(CheckName("name", name));
  if (pool_.FindPriorityClass(name)) {
    return AlreadyExistsError(fmt::format("name: duplicate priority class '{}'", name));
  }
  if (value < -1'000'000 || value > 1'000'000) {
    return InvalidArgumentError(fmt::format("value: must be in -1000000..1000000, got {}", value));
  }
  pool_.priority_classes_.push_back(PriorityClass{std::move(name), value, preemptible});
  return OkStatus();
}

StatusOr<TenantId> PoolBuilder::AddTenant(std::string name, int64_t weight,
                                          std::vector<std::string> priority_classes) {
  SP_RETURN_IF_ERROR(CheckName("name", name));
  if (pool_.tenant_by_name_.count(name)) {
    return AlreadyExistsError(fmt::format("name: duplicate tenant '{}'", name));
  }
  if (weight < 1 || weight > 1'000'000) {
    return InvalidArgumentError(fmt::format("weight: must be in 1..1000000, got {}", weight));
  }
  TenantId id(static_cast<uint32_t>(pool_.tenants_.size()));
  Tenant t;
  t.name = name;
  t.weight = weight;
  t.quota.assign(pool_.catalog_.size(), Quota{});
  t.priority_classes = std::move(priority_classes);
  pool_.tenants_.push_back(std::move(t));
  pool_.tenant_by_name_.emplace(std::move(name), id);
  return id;
}

Status PoolBuilder::SetQuota(TenantId tenant, std::string_view type, Quota quota) {
  SP_ASSIGN_OR_RETURN(DeviceTypeId t, ResolveType(type));
  if (quota.guaranteed.value() < 0) {
    return InvalidArgumentError(
        fmt::format("guaranteed: must be >= 0, got {} milli-devices", quota.guaranteed.value()));
  }
  constexpr int64_t kMaxQuota = int64_t{1'000'000'000} * kMilliPerDevice;
  if (quota.guaranteed.value() > kMaxQuota) {
    return InvalidArgumentError(fmt::format("guaranteed: must be <= 1e9 devices, got {}",
                                            quota.guaranteed.value() / kMilliPerDevice));
  }
  if (quota.max < quota.guaranteed) {
    return InvalidArgumentError(fmt::format("max: {} is below guaranteed {}",
                                            FormatDevices(quota.max),
                                            FormatDevices(quota.guaranteed)));
  }
  pool_.tenants_[tenant.value()].quota[t.value()] = quota;
  return OkStatus();
}

namespace {

// A tenant's projects against the tenant: names, weights, quotas per type (max >= guaranteed),
// the guarantees of its projects (retired ones aside) within its own; with `before`, none of its
// projects removed or moved. Errors name the field from the tenant down.
Status CheckProjects(Tenant& t, const Tenant* before, const DeviceCatalog& catalog) {
  std::vector<int64_t> sum(catalog.size(), 0);
  for (size_t i = 0; i < t.projects.size(); ++i) {
    Project& p = t.projects[i];
    const std::string field = fmt::format("projects.{}", p.name);
    if (Status s = CheckName("name", p.name); !s.ok()) {
      return s.WithField(fmt::format("projects[{}].name", i));
    }
    for (size_t j = 0; j < i; ++j) {
      if (t.projects[j].name == p.name) {
        return FieldError(field, "appears twice");
      }
    }
    if (p.weight < 1 || p.weight > 1'000'000) {
      return FieldError(field + ".weight", fmt::format("must be in 1..1000000, got {}", p.weight));
    }
    if (p.quota.size() != catalog.size()) p.quota.resize(catalog.size(), Quota{});
    for (size_t type = 0; type < catalog.size(); ++type) {
      const Quota& q = p.quota[type];
      const std::string& name = catalog.Get(DeviceTypeId(static_cast<uint16_t>(type))).name;
      if (q.guaranteed.value() < 0) {
        return FieldError(fmt::format("{}.quota.{}.guaranteed", field, name),
                          fmt::format("must be >= 0, got {}", FormatDevices(q.guaranteed)));
      }
      if (q.max < q.guaranteed) {
        return FieldError(fmt::format("{}.quota.{}.max", field, name),
                          fmt::format("{} is below guaranteed {}", FormatDevices(q.max),
                                      FormatDevices(q.guaranteed)));
      }
      if (!p.retired) sum[type] += q.guaranteed.value();
    }
  }
  for (size_t type = 0; type < catalog.size(); ++type) {
    if (sum[type] > t.quota[type].guaranteed.value()) {
      const std::string& name = catalog.Get(DeviceTypeId(static_cast<uint16_t>(type))).name;
      return FieldError(fmt::format("quota.{}.guaranteed", name),
                        fmt::format("the projects' guarantees add up to {}, more than the "
                                    "tenant's {}",
                                    FormatDevices(MilliDevices(sum[type])),
                                    FormatDevices(t.quota[type].guaranteed)));
    }
  }
  if (before != nullptr) {
    for (size_t i = 0; i < before->projects.size(); ++i) {
      if (i >= t.projects.size() || t.projects[i].name != before->projects[i].name) {
        return FieldError(fmt::format("projects.{}", before->projects[i].name),
                          "a project cannot be removed or reordered; retire it instead");
      }
    }
  }
  return OkStatus();
}

}  // namespace

Status PoolBuilder::SetRetired(TenantId tenant, bool retired) {
  pool_.tenants_[tenant.value()].retired = retired;
  return OkStatus();
}

Status PoolBuilder::AddProject(TenantId tenant, Project project) {
  pool_.tenants_[tenant.value()].projects.push_back(std::move(project));
  return OkStatus();
}

StatusOr<Pool> PoolBuilder::Build() && {
  if (pool_.nodes_.empty()) return InvalidArgumentError("providers: the pool has no nodes");
  for (size_t i = 0; i < pool_.nodes_.size(); ++i) {
    pool_.node_by_name_.emplace(pool_.nodes_[i].name, NodeId(static_cast<uint32_t>(i)));
  }
  for (size_t i = 0; i < pool_.clusters_.size(); ++i) {
    pool_.cluster_by_name_.emplace(pool_.clusters_[i].name, ClusterId(static_cast<uint32_t>(i)));
  }
  for (Tenant& t : pool_.tenants_) {
    if (Status s = CheckProjects(t, nullptr, pool_.catalog_); !s.ok()) {
      return InvalidArgumentError(fmt::format("tenants '{}': {}", t.name, s.message()));
    }
    for (const std::string& pc : t.priority_classes) {
      if (!pool_.FindPriorityClass(pc)) {
        return InvalidArgumentError(
            fmt::format("tenants '{}': priority_classes: unknown class '{}'", t.name, pc));
      }
    }
  }
  for (const Provider& p : pool_.providers_) {
    for (ClusterId c : p.clusters) {
      for (NodeId n : pool_.clusters_[c.value()].nodes) {
        DeviceTypeId type = pool_.nodes_[n.value()].shape.type;
        if (!p.price_per_device_hour[type.value()]) {
          return InvalidArgumentError(
              fmt::format("providers '{}': prices: no price for {}, which it hosts", p.name,
                          pool_.catalog_.Get(type).name));
        }
      }
    }
  }
  // Guaranteed quotas must be honourable: their sum per type cannot exceed the pool's devices.
  PoolTotals totals = pool_.Totals();
  for (size_t type = 0; type < pool_.catalog_.size(); ++type) {
    int64_t sum = 0;
    for (const Tenant& t : pool_.tenants_) {
      if (!t.retired) sum += t.quota[type].guaranteed.value();  // a retired one's is the pool's
    }
    if (sum > totals.devices_by_type[type] * kMilliPerDevice) {
      return InvalidArgumentError(
          fmt::format("tenants: quota.{}.guaranteed adds up to {} devices, more than the pool's {}",
                      pool_.catalog_.Get(DeviceTypeId(static_cast<uint16_t>(type))).name,
                      FormatDevices(MilliDevices(sum)), totals.devices_by_type[type]));
    }
  }
  const size_t types = pool_.catalog_.size();
  pool_.max_cluster_devices_.assign(types, 0);
  pool_.shapes_by_type_.assign(types, {});
  for (const Cluster& c : pool_.clusters_) {
    std::vector<int64_t> devices(types, 0);
    for (NodeId id : c.nodes) {
      const NodeShape& shape = pool_.nodes_[id.value()].shape;
      devices[shape.type.value()] += shape.devices;
      auto& shapes = pool_.shapes_by_type_[shape.type.value()];
      const ClusterId cid = pool_.nodes_[id.value()].cluster;
      auto same = [&](const Pool::ShapeCount& s) {
        return s.cluster == cid && s.shape.devices == shape.devices && s.shape.cpu == shape.cpu &&
               s.shape.memory == shape.memory;
      };
      auto it = std::find_if(shapes.begin(), shapes.end(), same);
      if (it == shapes.end()) {
        shapes.push_back({cid, shape, 1});
      } else {
        ++it->count;
      }
    }
    for (size_t t = 0; t < types; ++t) {
      pool_.max_cluster_devices_[t] = std::max(pool_.max_cluster_devices_[t], devices[t]);
    }
  }
  pool_.totals_ = pool_.Totals();
  pool_.IndexProjects();
  return std::move(pool_);
}

StatusOr<TenantId> Pool::PutTenant(Tenant t, bool check_guarantees) {
  if (Status s = CheckName("name", t.name); !s.ok()) return s.WithField("name");
  if (t.weight < 1 || t.weight > 1'000'000) {
    return FieldError("weight", fmt::format("must be in 1..1000000, got {}", t.weight));
  }
  for (const std::string& pc : t.priority_classes) {
    if (!FindPriorityClass(pc)) {
      return FieldError("priority_classes", fmt::format("unknown class '{}'", pc));
    }
  }
  if (t.quota.size() != catalog_.size()) t.quota.resize(catalog_.size(), Quota{});
  constexpr int64_t kMaxQuota = int64_t{1'000'000'000} * kMilliPerDevice;
  for (size_t type = 0; type < t.quota.size(); ++type) {
    const Quota& q = t.quota[type];
    const std::string& name = catalog_.Get(DeviceTypeId(static_cast<uint16_t>(type))).name;
    if (q.guaranteed.value() < 0 || q.guaranteed.value() > kMaxQuota) {
      return FieldError(
          fmt::format("quota.{}.guaranteed", name),
          fmt::format("must be in 0..1e9 devices, got {}", FormatDevices(q.guaranteed)));
    }
    if (q.max < q.guaranteed) {
      return FieldError(fmt::format("quota.{}.max", name),
                        fmt::format("{} is below guaranteed {}", FormatDevices(q.max),
                                    FormatDevices(q.guaranteed)));
    }
  }
  auto existing = FindTenant(t.name);
  if (Status s = CheckProjects(t, existing ? &tenants_[existing->value()] : nullptr, catalog_);
      !s.ok()) {
    return s;
  }
  if (check_guarantees) {
    const PoolTotals totals = Totals();
    for (size_t type = 0; type < catalog_.size(); ++type) {
      int64_t sum = t.retired ? 0 : t.quota[type].guaranteed.value();
      for (size_t i = 0; i < tenants_.size(); ++i) {
        if (existing && existing->value() == i) continue;
        if (tenants_[i].retired) continue;  // a retired tenant's guarantee is the pool's again
        sum += tenants_[i].quota[type].guaranteed.value();
      }
      // A change that does not raise this tenant's guarantee always applies (the pool may
      // have shrunk under guarantees made before).
      const int64_t before =
          existing ? tenants_[existing->value()].quota[type].guaranteed.value() : 0;
      if (sum > totals.devices_by_type[type] * kMilliPerDevice &&
          t.quota[type].guaranteed.value() > before) {
        return FieldError(
            fmt::format("quota.{}.guaranteed",
                        catalog_.Get(DeviceTypeId(static_cast<uint16_t>(type))).name),
            fmt::format("the tenants' guarantees would add up to {} devices, more than the "
                        "pool's {}",
                        FormatDevices(MilliDevices(sum)), totals.devices_by_type[type]));
      }
    }
  }
  if (existing) {
    tenants_[existing->value()] = std::move(t);
    IndexProjects();
    return *existing;
  }
  TenantId id(static_cast<uint32_t>(tenants_.size()));
  tenant_by_name_.emplace(t.name, id);
  tenants_.push_back(std::move(t));
  IndexProjects();
  return id;
}

}  // namespace suanpan::core
