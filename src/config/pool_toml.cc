// The pool file reader: walks the TOML document with toml++ and feeds core::PoolBuilder, adding
// file:line and the field path to every error. Unknown keys are errors (a typo must not be
// silently ignored).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <set>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "config/pool_file.h"
#include "config/toml_fields.h"
#include "config/toml_file.h"

namespace suanpan::config {
namespace {

// [providers.slurm]: how suanpan reaches a delegated provider's Slurm.
StatusOr<core::EngineConfig> ReadSlurm(const Walker& w, const toml::table& t,
                                       const std::string& path) {
  Fields f(w, t, path);
  core::EngineConfig c;
  const std::filesystem::path dir = std::filesystem::path(w.file()).parent_path();
  auto rel = [&](const std::string& p) {
    return p.empty() || std::filesystem::path(p).is_absolute() || dir.empty()
               ? p
               : (dir / p).lexically_normal().string();
  };
  SP_ASSIGN_OR_RETURN(c.mode, f.String("mode", "rest"));
  if (c.mode != "rest" && c.mode != "cli") {
    return w.FieldError(t, path, "mode",
                        fmt::format("must be rest (slurmrestd) or cli (sbatch), got '{}'", c.mode));
  }
  SP_ASSIGN_OR_RETURN(c.url, f.String("url", ""));
  SP_ASSIGN_OR_RETURN(c.user, f.String("user", "root"));
  SP_ASSIGN_OR_RETURN(std::string token_file, f.String("token_file", ""));
  c.token_file = rel(token_file);
  SP_ASSIGN_OR_RETURN(c.cli_dir, f.String("cli_dir", ""));
  SP_ASSIGN_OR_RETURN(std::string conf, f.String("conf", ""));
  c.conf = rel(conf);
  SP_ASSIGN_OR_RETURN(c.partition, f.String("partition", ""));
  SP_ASSIGN_OR_RETURN(c.account, f.String("account", ""));
  SP_ASSIGN_OR_RETURN(c.qos, f.String("qos", ""));
  SP_ASSIGN_OR_RETURN(std::string output_dir, f.String("output_dir"));
  c.output_dir = rel(output_dir);
  SP_ASSIGN_OR_RETURN(c.work_dir, f.String("work_dir", ""));
  SP_ASSIGN_OR_RETURN(int64_t poll, f.Int("poll_seconds", 5));
  SP_ASSIGN_OR_RETURN(int64_t timeout, f.Int("timeout_seconds", 20));
  if (poll < 1 || poll > 3600) {
    return w.FieldError(t, path, "poll_seconds", fmt::format("must be in 1..3600, got {}", poll));
  }
  if (timeout < 1 || timeout > 600) {
    return w.FieldError(t, path, "timeout_seconds",
                        fmt::format("must be in 1..600, got {}", timeout));
  }
  c.poll_seconds = static_cast<int>(poll);
  c.timeout_seconds = static_cast<int>(timeout);
  if (c.mode == "rest") {
    if (c.url.empty()) {
      return w.FieldError(t, path, "url",
                          "required with mode = \"rest\" (http://host:port or unix:/path)");
    }
    if (!c.url.starts_with("http://") && !c.url.starts_with("https://") &&
        !c.url.starts_with("unix:")) {
      return w.FieldError(
          t, path, "url",
          fmt::format("must start with http://, https:// or unix:, got '{}'", c.url));
    }
    if (c.token_file.empty() && !c.url.starts_with("unix:")) {
      return w.FieldError(t, path, "token_file",
                          "required with mode = \"rest\" over TCP (a JWT from scontrol token)");
    }
  }
  if (!std::filesystem::path(c.output_dir).is_absolute()) {
    return w.FieldError(t, path, "output_dir",
                        fmt::format("must be an absolute path, got '{}'", c.output_dir));
  }
  SP_ASSIGN_OR_RETURN(const toml::array* nodes, f.Array("nodes"));
  if (nodes != nullptr) {
    for (size_t k = 0; k < nodes->size(); ++k) {
      const toml::node& n = (*nodes)[k];
      if (!n.is_string())
        return w.Error(n, fmt::format("{}.nodes[{}]", path, k), "must be a string");
      c.nodes.emplace_back(*n.value<std::string_view>());
    }
  }
  if (const toml::node* gres = f.Get("gres")) {
    if (!gres->is_table()) return w.Error(*gres, path + ".gres", "must be a table");
    for (auto&& [type, value] : *gres->as_table()) {
      const std::string gpath = fmt::format("{}.gres.{}", path, type.str());
      if (!value.is_string()) return w.Error(value, gpath, "must be a string such as \"gpu:a100\"");
      const std::string name(*value.value<std::string_view>());
      if (name.empty() || name.find_first_of(" ,=") != std::string::npos) {
        return w.Error(value, gpath,
                       fmt::format("must be a GRES name such as gpu:a100, got '{}'", name));
      }
      c.gres[std::string(type.str())] = name;
    }
  }
  SP_RETURN_IF_ERROR(f.Finish());
  return c;
}

Status ReadPolicy(const Walker& w, const toml::table& t, sched::PolicyConfig& policy) {
  Fields f(w, t, "policy");
  SP_ASSIGN_OR_RETURN(policy.queue, f.String("queue", policy.queue));
  SP_ASSIGN_OR_RETURN(policy.placement, f.String("placement", policy.placement));
  SP_ASSIGN_OR_RETURN(policy.preemption, f.Bool("preemption", policy.preemption));
  SP_ASSIGN_OR_RETURN(policy.backfill, f.Bool("backfill", policy.backfill));
  SP_ASSIGN_OR_RETURN(policy.blocking, f.Bool("blocking", policy.blocking));
  SP_ASSIGN_OR_RETURN(int64_t half_life_milli_hours,
                      f.Fixed("fair_share_half_life_hours", 1000,
                              policy.fair_share_half_life.value() * 1000 / 3600));
  if (half_life_milli_hours <= 0 || half_life_milli_hours > int64_t{1'000'000'000}) {
    return w.FieldError(t, "policy", "fair_share_half_life_hours",
                        fmt::format("must be in (0, 1000000] hours, got {}",
                                    static_cast<double>(half_life_milli_hours) / 1000));
  }
  policy.fair_share_half_life = Seconds(half_life_milli_hours * 3600 / 1000);
  SP_ASSIGN_OR_RETURN(const toml::array* limits, f.Array("las_thresholds_device_seconds"));
  if (limits != nullptr) {
    policy.las_thresholds.clear();
    for (size_t i = 0; i < limits->size(); ++i) {
      const toml::node& n = (*limits)[i];
      if (!n.is_integer()) {
        return w.Error(n, fmt::format("policy.las_thresholds_device_seconds[{}]", i),
                       "must be an integer");
      }
      policy.las_thresholds.push_back(*n.value<int64_t>());
    }
  }
  SP_ASSIGN_OR_RETURN(int64_t depth, f.Int("estimate_depth", policy.estimate_depth));
  if (depth < 0 || depth > 100'000) {
    return w.FieldError(t, "policy", "estimate_depth",
                        fmt::format("must be in 0..100000, got {}", depth));
  }
  policy.estimate_depth = static_cast<int>(depth);
  SP_RETURN_IF_ERROR(f.Finish());
  Status s = sched::ValidatePolicyConfig(policy);
  if (!s.ok()) {
    // "policy.queue: unknown policy ..." -> at the line of `queue`.
    std::string_view m = s.message();
    if (m.starts_with("policy.")) m.remove_prefix(7);
    return w.Wrap(t, "policy", Status(s.code(), std::string(m)));
  }
  return OkStatus();
}

StatusOr<PoolFile> Parse(const Walker& w, const toml::table& root) {
  Fields top(w, root, "");
  PoolFile out;
  core::PoolBuilder builder;

  SP_ASSIGN_OR_RETURN(auto types, top.Tables("device_types"));
  for (size_t i = 0; i < types.size(); ++i) {
    const std::string path = fmt::format("device_types[{}]", i);
    Fields f(w, *types[i], path);
    core::DeviceType t;
    SP_ASSIGN_OR_RETURN(t.name, f.String("name"));
    SP_ASSIGN_OR_RETURN(t.vendor, f.String("vendor", ""));
    SP_ASSIGN_OR_RETURN(t.model, f.String("model", t.name));
    SP_ASSIGN_OR_RETURN(int64_t memory_mib, f.Fixed("memory_gib", 1024));
    t.memory = MiB(memory_mib);
    SP_ASSIGN_OR_RETURN(t.fp16_gflops, f.Fixed("fp16_tflops", 1000));
    SP_ASSIGN_OR_RETURN(int64_t domain, f.Int("interconnect_domain", 1));
    if (domain < 1 || domain > 1024) {
      return w.FieldError(*types[i], path, "interconnect_domain",
                          fmt::format("must be in 1..1024, got {}", domain));
    }
    t.interconnect_domain = static_cast<int>(domain);
    SP_ASSIGN_OR_RETURN(t.interconnect, f.String("interconnect", ""));
    SP_ASSIGN_OR_RETURN(t.source, f.String("source", ""));
    SP_RETURN_IF_ERROR(f.Finish());
    auto added = builder.AddDeviceType(std::move(t));
    if (!added.ok()) return w.Wrap(*types[i], path, added.status());
  }

  SP_ASSIGN_OR_RETURN(auto classes, top.Tables("priority_classes"));
  for (size_t i = 0; i < classes.size(); ++i) {
    const std::string path = fmt::format("priority_classes[{}]", i);
    Fields f(w, *classes[i], path);
    SP_ASSIGN_OR_RETURN(std::string name, f.String("name"));
    SP_ASSIGN_OR_RETURN(int64_t value, f.Int("value"));
    SP_ASSIGN_OR_RETURN(bool preemptible, f.Bool("preemptible", true));
    SP_RETURN_IF_ERROR(f.Finish());
    if (value < -1'000'000 || value > 1'000'000) {
      return w.FieldError(*classes[i], path, "value",
                          fmt::format("must be in -1000000..1000000, got {}", value));
    }
    Status s = builder.AddPriorityClass(std::move(name), static_cast<int>(value), preemptible);
    if (!s.ok()) return w.Wrap(*classes[i], path, s);
  }

  if (const toml::node* p = top.Get("policy")) {
    if (!p->is_table()) return w.Error(*p, "policy", "must be a table");
    SP_RETURN_IF_ERROR(ReadPolicy(w, *p->as_table(), out.policy));
  }

  SP_ASSIGN_OR_RETURN(auto providers, top.Tables("providers"));
  if (providers.empty()) return w.Error(root, "providers", "at least one provider is required");
  for (size_t i = 0; i < providers.size(); ++i) {
    const std::string path = fmt::format("providers[{}]", i);
    const toml::table& pt = *providers[i];
    Fields f(w, pt, path);
    SP_ASSIGN_OR_RETURN(std::string name, f.String("name"));
    SP_ASSIGN_OR_RETURN(std::string region, f.String("region"));
    SP_ASSIGN_OR_RETURN(std::string backend_name, f.String("backend", "managed"));
    auto backend = core::ParseBackendKind(backend_name);
    if (!backend) {
      return w.FieldError(pt, path, "backend",
                          fmt::format("must be managed or delegated, got '{}'", backend_name));
    }
    auto provider = builder.AddProvider(std::move(name), std::move(region), *backend);
    if (!provider.ok()) return w.Wrap(pt, path, provider.status());

    if (const toml::node* prices = f.Get("prices")) {
      if (!prices->is_table()) return w.Error(*prices, path + ".prices", "must be a table");
      for (auto&& [type, value] : *prices->as_table()) {
        const std::string ppath = fmt::format("{}.prices.{}", path, type.str());
        SP_ASSIGN_OR_RETURN(int64_t micro, f.FixedOf(value, ppath, 1'000'000));
        Status s = builder.SetPrice(*provider, type.str(), MicroYuan(micro));
        if (!s.ok()) return w.Wrap(value, ppath, s);
      }
    }

    if (const toml::node* margin = f.Get("margin_percent")) {
      SP_ASSIGN_OR_RETURN(int64_t permille, f.FixedOf(*margin, path + ".margin_percent", 10));
      Status s =
          builder.SetMargin(*provider, static_cast<int>(std::clamp<int64_t>(permille, -1, 1001)));
      if (!s.ok()) return w.Wrap(*margin, path + ".margin_percent", s);
    }

    if (const toml::node* engine = f.Get("slurm")) {
      const std::string epath = path + ".slurm";
      if (!engine->is_table()) return w.Error(*engine, epath, "must be a table");
      if (*backend != core::BackendKind::kDelegated) {
        return w.Error(*engine, epath,
                       "only a delegated provider has an engine (set backend = \"delegated\")");
      }
      SP_ASSIGN_OR_RETURN(core::EngineConfig config, ReadSlurm(w, *engine->as_table(), epath));
      builder.SetEngine(*provider, std::move(config));
    }

    SP_ASSIGN_OR_RETURN(auto clusters, f.Tables("clusters"));
    if (clusters.empty())
      return w.FieldError(pt, path, "clusters", "at least one cluster is required");
    for (size_t j = 0; j < clusters.size(); ++j) {
      const std::string cpath = fmt::format("{}.clusters[{}]", path, j);
      const toml::table& ct = *clusters[j];
      Fields cf(w, ct, cpath);
      SP_ASSIGN_OR_RETURN(std::string cname, cf.String("name"));
      SP_ASSIGN_OR_RETURN(int64_t per_switch, cf.Int("nodes_per_switch", 32));
      SP_ASSIGN_OR_RETURN(int64_t per_block, cf.Int("switches_per_block", 8));
      if (per_switch < 1 || per_switch > 4096) {
        return w.FieldError(ct, cpath, "nodes_per_switch",
                            fmt::format("must be in 1..4096, got {}", per_switch));
      }
      if (per_block < 1 || per_block > 4096) {
        return w.FieldError(ct, cpath, "switches_per_block",
                            fmt::format("must be in 1..4096, got {}", per_block));
      }
      auto cluster = builder.AddCluster(*provider, std::move(cname), static_cast<int>(per_switch),
                                        static_cast<int>(per_block));
      if (!cluster.ok()) return w.Wrap(ct, cpath, cluster.status());
      SP_ASSIGN_OR_RETURN(auto groups, cf.Tables("node_groups"));
      if (groups.empty()) {
        return w.FieldError(ct, cpath, "node_groups", "at least one node group is required");
      }
      for (size_t k = 0; k < groups.size(); ++k) {
        const std::string gpath = fmt::format("{}.node_groups[{}]", cpath, k);
        const toml::table& gt = *groups[k];
        Fields gf(w, gt, gpath);
        SP_ASSIGN_OR_RETURN(std::string gname, gf.String("name"));
        SP_ASSIGN_OR_RETURN(int64_t count, gf.Int("count"));
        SP_ASSIGN_OR_RETURN(std::string type, gf.String("device_type"));
        SP_ASSIGN_OR_RETURN(int64_t devices, gf.Int("devices_per_node"));
        SP_ASSIGN_OR_RETURN(int64_t domain, gf.Int("interconnect_domain", 0));
        SP_ASSIGN_OR_RETURN(int64_t cpu_milli, gf.Fixed("cpu_cores", 1000));
        SP_ASSIGN_OR_RETURN(int64_t memory_mib, gf.Fixed("memory_gib", 1024));
        SP_RETURN_IF_ERROR(gf.Finish());
        if (devices < 1 || devices > 64) {
          return w.FieldError(gt, gpath, "devices_per_node",
                              fmt::format("must be in 1..64, got {}", devices));
        }
        if (domain < 0 || domain > 1024) {  // 0: the default
          return w.FieldError(gt, gpath, "interconnect_domain",
                              fmt::format("must be in 1..1024, got {}", domain));
        }
        Status s =
            builder.AddNodeGroup(*cluster, std::move(gname), count, type, static_cast<int>(devices),
                                 static_cast<int>(domain), MilliCpu(cpu_milli), MiB(memory_mib));
        if (!s.ok()) return w.Wrap(gt, gpath, s);
        const core::Provider& prov = builder.pool().provider(*provider);
        if (!prov.price_per_device_hour[builder.pool().catalog().Find(type)->value()]) {
          return w.FieldError(gt, gpath, "device_type",
                              fmt::format("provider '{}' has no price for {}: add {} = <yuan per "
                                          "device-hour> under its prices",
                                          prov.name, type, type));
        }
      }
      SP_RETURN_IF_ERROR(cf.Finish());
    }
    SP_RETURN_IF_ERROR(f.Finish());
  }

  SP_ASSIGN_OR_RETURN(auto tenants, top.Tables("tenants"));
  const core::PoolTotals totals = builder.pool().Totals();
  std::vector<int64_t> guaranteed_sum(builder.pool().catalog().size(), 0);
  for (size_t i = 0; i < tenants.size(); ++i) {
    const std::string path = fmt::format("tenants[{}]", i);
    const toml::table& tt = *tenants[i];
    Fields f(w, tt, path);
    SP_ASSIGN_OR_RETURN(std::string name, f.String("name"));
    SP_ASSIGN_OR_RETURN(int64_t weight, f.Int("weight", 1));
    std::vector<std::string> classes_allowed;
    SP_ASSIGN_OR_RETURN(const toml::array* allowed, f.Array("priority_classes"));
    if (allowed != nullptr) {
      for (size_t k = 0; k < allowed->size(); ++k) {
        const toml::node& n = (*allowed)[k];
        const std::string apath = fmt::format("{}.priority_classes[{}]", path, k);
        if (!n.is_string()) return w.Error(n, apath, "must be a string");
        std::string cls(*n.value<std::string_view>());
        if (builder.pool().FindPriorityClass(cls) == nullptr) {
          return w.Error(n, apath, fmt::format("unknown priority class '{}'", cls));
        }
        classes_allowed.push_back(std::move(cls));
      }
    }
    SP_ASSIGN_OR_RETURN(bool tenant_retired, f.Bool("retired", false));
    auto tenant = builder.AddTenant(std::move(name), weight, std::move(classes_allowed));
    if (!tenant.ok()) return w.Wrap(tt, path, tenant.status());
    SP_RETURN_IF_ERROR(builder.SetRetired(*tenant, tenant_retired));
    // A quota table: {TYPE = {guaranteed = G, max = M}}; `set` takes each type's quota.
    auto read_quota =
        [&](const toml::node& quota, const std::string& qbase,
            const std::function<Status(const toml::node&, const std::string&, const std::string&,
                                       core::Quota)>& set) -> Status {
      if (!quota.is_table()) return w.Error(quota, qbase, "must be a table");
      for (auto&& [type, value] : *quota.as_table()) {
        const std::string qpath = fmt::format("{}.{}", qbase, type.str());
        if (!value.is_table()) return w.Error(value, qpath, "must be a table");
        Fields qf(w, *value.as_table(), qpath);
        core::Quota q;
        SP_ASSIGN_OR_RETURN(int64_t guaranteed, qf.Fixed("guaranteed", kMilliPerDevice, 0));
        const bool has_max = value.as_table()->contains("max");
        SP_ASSIGN_OR_RETURN(int64_t max, qf.Fixed("max", kMilliPerDevice, 0));
        SP_RETURN_IF_ERROR(qf.Finish());
        if (guaranteed < 0) {
          return w.FieldError(value, qpath, "guaranteed",
                              fmt::format("must be >= 0, got {}", guaranteed / kMilliPerDevice));
        }
        q.guaranteed = MilliDevices(guaranteed);
        if (has_max) {
          if (max < 0) {
            return w.FieldError(value, qpath, "max",
                                fmt::format("must be >= 0, got {}", max / kMilliPerDevice));
          }
          q.max = MilliDevices(max);
        }
        SP_RETURN_IF_ERROR(set(value, qpath, std::string(type.str()), q));
      }
      return OkStatus();
    };
    if (const toml::node* quota = f.Get("quota")) {
      SP_RETURN_IF_ERROR(read_quota(
          *quota, path + ".quota",
          [&](const toml::node& value, const std::string& qpath, const std::string& type,
              core::Quota q) -> Status {
            Status s = builder.SetQuota(*tenant, type, q);
            if (!s.ok()) return w.Wrap(value, qpath, s);
            const size_t t = builder.pool().catalog().Find(type)->value();
            if (!tenant_retired) guaranteed_sum[t] += q.guaranteed.value();  // else the pool's
            if (guaranteed_sum[t] > totals.devices_by_type[t] * kMilliPerDevice) {
              return w.FieldError(
                  value, qpath, "guaranteed",
                  fmt::format("the tenants' guaranteed {} adds up to {} devices here, more than "
                              "the pool's {}",
                              type, core::FormatDevices(MilliDevices(guaranteed_sum[t])),
                              totals.devices_by_type[t]));
            }
            return OkStatus();
          }));
    }
    // Projects (teams) inside the tenant: [[tenants.projects]] name, weight, quota. Their
    // guarantees come out of the tenant's (core::Project).
    SP_ASSIGN_OR_RETURN(auto projects, f.Tables("projects"));
    std::vector<int64_t> project_sum(builder.pool().catalog().size(), 0);
    for (size_t k = 0; k < projects.size(); ++k) {
      const std::string ppath = fmt::format("{}.projects[{}]", path, k);
      const toml::table& pt = *projects[k];
      Fields pf(w, pt, ppath);
      core::Project project;
      SP_ASSIGN_OR_RETURN(project.name, pf.String("name"));
      SP_ASSIGN_OR_RETURN(project.weight, pf.Int("weight", 1));
      SP_ASSIGN_OR_RETURN(project.retired, pf.Bool("retired", false));
      project.quota.assign(builder.pool().catalog().size(), core::Quota{});
      const core::Tenant& owner = builder.pool().tenant(*tenant);
      for (const core::Project& other : owner.projects) {
        if (other.name == project.name) {
          return w.FieldError(pt, ppath, "name",
                              fmt::format("project '{}' appears twice", project.name));
        }
      }
      if (project.weight < 1 || project.weight > 1'000'000) {
        const toml::node* at = pt.get("weight");
        return w.FieldError(at != nullptr ? *at : pt, ppath, "weight",
                            fmt::format("must be in 1..1000000, got {}", project.weight));
      }
      if (const toml::node* quota = pf.Get("quota")) {
        SP_RETURN_IF_ERROR(read_quota(
            *quota, ppath + ".quota",
            [&](const toml::node& value, const std::string& qpath, const std::string& type,
                core::Quota q) -> Status {
              auto id = builder.pool().catalog().Find(type);
              if (!id) return w.Error(value, qpath, fmt::format("unknown device type '{}'", type));
              if (q.max < q.guaranteed) {
                return w.FieldError(
                    value, qpath, "max",
                    fmt::format("{} is below guaranteed {}", core::FormatDevices(q.max),
                                core::FormatDevices(q.guaranteed)));
              }
              project_sum[id->value()] += q.guaranteed.value();
              const MilliDevices of_tenant = owner.quota[id->value()].guaranteed;
              if (project_sum[id->value()] > of_tenant.value()) {
                return w.FieldError(
                    value, qpath, "guaranteed",
                    fmt::format("the projects' guaranteed {} adds up to {} here, more than the "
                                "tenant's {}",
                                type, core::FormatDevices(MilliDevices(project_sum[id->value()])),
                                core::FormatDevices(of_tenant)));
              }
              project.quota[id->value()] = q;
              return OkStatus();
            }));
      }
      SP_RETURN_IF_ERROR(pf.Finish());
      Status s = builder.AddProject(*tenant, std::move(project));
      if (!s.ok()) return w.Wrap(pt, ppath, s);
    }
    SP_RETURN_IF_ERROR(f.Finish());
  }
  SP_RETURN_IF_ERROR(top.Finish());

  auto pool = std::move(builder).Build();
  if (!pool.ok()) return pool.status().WithPrefix(w.file());
  out.pool = std::move(*pool);
  return out;
}

}  // namespace

StatusOr<PoolFile> ParsePool(std::string_view text, std::string_view name) {
  Walker w(name);
  SP_ASSIGN_OR_RETURN(toml::table root, ParseToml(text, name));
  return Parse(w, root);
}

StatusOr<PoolFile> ReadPoolFile(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParsePool(text, path);
}

}  // namespace suanpan::config
