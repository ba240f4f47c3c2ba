#include "sim/workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <numeric>
#include <set>

namespace suanpan::sim {

StatusOr<ClusterShape> ParseClusterSpec(const std::string& spec) {
  std::string body = spec;
  std::string type;
  if (auto colon = spec.find(':'); colon != std::string::npos) {
    body = spec.substr(0, colon);
    type = spec.substr(colon + 1);
  }
  int v[3];
  int n = 0;
  const char* p = body.data();
  const char* end = body.data() + body.size();
  while (n < 3 && p < end) {
    auto [q, ec] = std::from_chars(p, end, v[n]);
    if (ec != std::errc() || v[n] < 1) break;
    ++n;
    p = q;
    if (p < end && *p == 'x') ++p;
  }
  if (n == 3 && p == end) {
    ClusterShape shape;
    shape.switches = v[0];
    shape.nodes_per_switch = v[1];
    shape.devices_per_node = v[2];
    shape.device_type = type;
    return shape;
  }
  if (!body.empty() && std::count(body.begin(), body.end(), 'x') == 2 &&
      body.find_first_not_of("0123456789x") == std::string::npos) {
    return InvalidArgumentError(fmt::format(
        "--cluster: '{}': switches, nodes per switch and devices per node must each be 1 or more",
        spec));
  }
  auto file = ReadTiresiasClusterSpec(spec);
  if (file.ok()) return file;
  return InvalidArgumentError(fmt::format(
      "--cluster: '{}' is neither SxNxG[:TYPE] (e.g. 1x4x4) nor a readable cluster spec CSV ({})",
      spec, file.status().message()));
}

StatusOr<core::Pool> PoolFromShape(const ClusterShape& shape,
                                   const std::vector<std::string>& tenants) {
  core::PoolBuilder builder;
  std::string type = shape.device_type.empty() ? kTraceDeviceType : shape.device_type;
  if (!builder.pool().catalog().Find(type)) {
    // A generic device: the trace's run times are its own, the figures only label it.
    core::DeviceType t{type, "trace", type + " (from the trace)",       MiB(32 * 1024), 125'000,
                       1,    "",      "generic device for trace replay"};
    SP_RETURN_IF_ERROR(builder.AddDeviceType(std::move(t)).status());
  }
  SP_ASSIGN_OR_RETURN(core::ProviderId p,
                      builder.AddProvider("trace", "sim", core::BackendKind::kManaged));
  SP_RETURN_IF_ERROR(builder.SetPrice(p, type, MicroYuan(1'000'000)));
  SP_ASSIGN_OR_RETURN(core::ClusterId c,
                      builder.AddCluster(p, "trace", shape.nodes_per_switch, 1'000));
  const int cpu = shape.cpu_per_node > 0 ? shape.cpu_per_node : 16 * shape.devices_per_node;
  const int mem =
      shape.memory_gib_per_node > 0 ? shape.memory_gib_per_node : 128 * shape.devices_per_node;
  if (!shape.nodes_by_devices.empty()) {
    for (const auto& [devices, count] : shape.nodes_by_devices) {
      SP_RETURN_IF_ERROR(builder.AddNodeGroup(c, fmt::format("g{}", devices), count, type, devices,
                                              devices, MilliCpu(int64_t{cpu} * 1000),
                                              MiB(int64_t{mem} * 1024)));
    }
  } else {
    SP_RETURN_IF_ERROR(builder.AddNodeGroup(
        c, "g", int64_t{shape.switches} * shape.nodes_per_switch, type, shape.devices_per_node,
        shape.devices_per_node, MilliCpu(int64_t{cpu} * 1000), MiB(int64_t{mem} * 1024)));
  }
  SP_RETURN_IF_ERROR(builder.AddPriorityClass("default", 0, true));
  if (tenants.empty()) {
    SP_RETURN_IF_ERROR(builder.AddTenant("default", 1, {}).status());
  }
  for (const std::string& t : tenants) SP_RETURN_IF_ERROR(builder.AddTenant(t, 1, {}).status());
  return std::move(builder).Build();
}

namespace {

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

StatusOr<Workload> JobsFromTrace(const Trace& trace, const core::Pool& pool,
                                 const WorkloadOptions& options) {
  if (options.split != "node" && options.split != "device") {
    return InvalidArgumentError(
        fmt::format("--split: must be node or device, got '{}'", options.split));
  }
  const core::DeviceCatalog& catalog = pool.catalog();
  const core::PoolTotals totals = pool.Totals();
  std::vector<core::DeviceTypeId> present;
  for (size_t t = 0; t < catalog.size(); ++t) {
    if (totals.devices_by_type[t] > 0)
      present.push_back(core::DeviceTypeId(static_cast<uint16_t>(t)));
  }
  core::DeviceTypeId reference = present.front();
  if (!options.reference_type.empty()) {
    auto r = catalog.Find(options.reference_type);
    if (!r) {
      return InvalidArgumentError(
          fmt::format("--reference-type: unknown device type '{}'", options.reference_type));
    }
    reference = *r;
  }
  // Largest node per type, for splitting jobs into workers.
  std::vector<int> largest(catalog.size(), 0);
  for (const core::Node& n : pool.nodes()) {
    largest[n.shape.type.value()] = std::max(largest[n.shape.type.value()], n.shape.devices);
  }
  Workload out;
  out.jobs.reserve(trace.jobs.size());
  for (const TraceJob& tj : trace.jobs) {
    SimJob job;
    core::JobSpec& s = job.spec;
    s.id = core::JobId(out.jobs.size() + 1);
    s.name = tj.name;
    if (auto t = pool.FindTenant(tj.tenant.empty() ? "default" : tj.tenant)) {
      s.tenant = *t;
    } else {
      s.tenant = core::TenantId(static_cast<uint32_t>(Fnv1a(tj.tenant) % pool.tenants().size()));
    }
    s.kind = core::JobKind::kTraining;
    s.submit_time = Time(tj.submit_time);
    s.checkpoint_interval = Seconds(options.checkpoint_interval);
    s.restore_cost = Seconds(options.restore_cost);
    job.duration_by_type.assign(catalog.size(), 0);
    for (core::DeviceTypeId t : present) {
      int64_t d = 0;
      auto it = tj.duration_by_type.find(catalog.Get(t).name);
      if (it != tj.duration_by_type.end()) {
        d = it->second;
      } else if (!tj.duration_by_type.empty() && catalog.Get(t).name != kTraceDeviceType &&
                 t != reference) {
        d = 0;  // the trace has per-type times, none for this type: it does not run here
      } else if (t == reference || catalog.Get(t).name == kTraceDeviceType) {
        // The generic trace device (or the named reference type) runs at the trace's reference
        // time: Gavel's V100 time, Sia's RTX 2080 Ti time.
        d = tj.duration;
      } else {
        // Scale by peak throughput: a job of 1,000 s on A100 (312 TFLOPS) takes
        // ceil(1,000 x 312 / 989.4) = 316 s on H100.
        const int64_t ref = catalog.Get(reference).fp16_gflops;
        const int64_t mine = catalog.Get(t).fp16_gflops;
        d = (tj.duration * ref + mine - 1) / mine;
      }
      if (d > 0) {
        job.duration_by_type[t.value()] = std::max<int64_t>(1, d);
        s.worker.types.push_back(t);
      }
    }
    if (s.worker.types.empty()) {
      ++out.dropped;
      if (out.problems.size() < 20) {
        out.problems.push_back(
            fmt::format("job {} (line {}): no device type of the pool has a "
                        "run time for it",
                        tj.name, tj.line));
      }
      continue;
    }
    int node = 0;
    for (core::DeviceTypeId t : s.worker.types) node = std::max(node, largest[t.value()]);
    if (options.split == "device") {
      s.workers = tj.devices;
      s.worker.devices = 1;
    } else {
      const int per_worker = std::gcd(tj.devices, node);
      s.workers = tj.devices / per_worker;
      s.worker.devices = per_worker;
    }
    s.runtime_estimate = Seconds(job.duration_by_type[s.worker.types.front().value()]);
    Status valid = core::ValidateJob(s, pool);
    if (!valid.ok()) {
      ++out.dropped;
      if (out.problems.size() < 20) {
        out.problems.push_back(
            fmt::format("job {} (line {}): {}", tj.name, tj.line, valid.message()));
      }
      continue;
    }
    s.id = core::JobId(out.jobs.size() + 1);
    out.jobs.push_back(std::move(job));
  }
  return out;
}

}  // namespace suanpan::sim
