#include "testing/builders.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sched/host/host.h"

namespace suanpan::testing {

TestPool::TestPool() {
  SP_CHECK(builder_.AddPriorityClass("low", 0, true).ok());
  SP_CHECK(builder_.AddPriorityClass("high", 1000, false).ok());
}

TestPool& TestPool::Cluster(const std::string& name, const std::string& type, int nodes,
                            int devices, int nodes_per_switch, int switches_per_block,
                            const std::string& provider, double price_yuan, int domain) {
  core::ProviderId pid;
  auto found = builder_.pool().FindProvider(provider);
  if (found) {
    pid = *found;
  } else {
    auto added = builder_.AddProvider(provider, "cn-test", core::BackendKind::kManaged);
    SP_CHECK(added.ok()) << added.status().ToString();
    pid = *added;
  }
  SP_CHECK(builder_.SetPrice(pid, type, MicroYuan(std::llround(price_yuan * 1e6))).ok());
  auto cluster = builder_.AddCluster(pid, name, nodes_per_switch, switches_per_block);
  SP_CHECK(cluster.ok()) << cluster.status().ToString();
  Status s = builder_.AddNodeGroup(*cluster, "g", nodes, type, devices, domain,
                                   MilliCpu(devices * 16 * 1000), MiB(devices * 256 * 1024));
  SP_CHECK(s.ok()) << s.ToString();
  return *this;
}

TestPool& TestPool::Tenant(const std::string& name, int64_t weight) {
  SP_CHECK(builder_.AddTenant(name, weight, {}).ok());
  return *this;
}

TestPool& TestPool::Quota(const std::string& tenant, const std::string& type, double guaranteed,
                          double max) {
  auto id = builder_.pool().FindTenant(tenant);
  SP_CHECK(id.has_value());
  core::Quota q{MilliDevices(std::llround(guaranteed * 1000)),
                MilliDevices(std::llround(max * 1000))};
  Status s = builder_.SetQuota(*id, type, q);
  SP_CHECK(s.ok()) << s.ToString();
  return *this;
}

TestPool& TestPool::Project(const std::string& tenant, const std::string& name, int64_t weight,
                            const std::string& type, double guaranteed, double max) {
  auto id = builder_.pool().FindTenant(tenant);
  SP_CHECK(id.has_value());
  core::Project p;
  p.name = name;
  p.weight = weight;
  p.quota.assign(builder_.pool().catalog().size(), core::Quota{});
  if (!type.empty()) {
    auto t = builder_.pool().catalog().Find(type);
    SP_CHECK(t.has_value()) << type;
    p.quota[t->value()] =
        core::Quota{MilliDevices(std::llround(guaranteed * 1000)),
                    max < 0 ? MilliDevices::Max() : MilliDevices(std::llround(max * 1000))};
  }
  SP_CHECK(builder_.AddProject(*id, std::move(p)).ok());
  return *this;
}

core::Pool TestPool::Build() {
  auto pool = std::move(builder_).Build();
  SP_CHECK(pool.ok()) << pool.status().ToString();
  return std::move(*pool);
}

MakeJob::MakeJob(uint64_t id) {
  spec_.id = core::JobId(id);
  spec_.name = fmt::format("j{}", id);
  spec_.tenant = core::TenantId(0);
  spec_.worker.devices = 1;
  spec_.worker.types = {core::DeviceTypeId(0)};
}

MakeJob& MakeJob::Tenant(const core::Pool& pool, const std::string& name) {
  auto id = pool.FindTenant(name);
  SP_CHECK(id.has_value()) << name;
  spec_.tenant = *id;
  return *this;
}

MakeJob& MakeJob::Project(const core::Pool& pool, const std::string& name) {
  auto id = pool.FindProject(spec_.tenant, name);
  SP_CHECK(id.has_value()) << name;
  spec_.project = *id;
  return *this;
}

MakeJob& MakeJob::Gang(int workers, int devices) {
  spec_.workers = workers;
  spec_.worker.devices = devices;
  spec_.worker.fraction = MilliDevices(0);
  return *this;
}

MakeJob& MakeJob::Fraction(int64_t milli) {
  spec_.workers = 1;
  spec_.worker.devices = 0;
  spec_.worker.fraction = MilliDevices(milli);
  return *this;
}

MakeJob& MakeJob::Types(const core::Pool& pool, const std::vector<std::string>& names) {
  spec_.worker.types.clear();
  for (const std::string& n : names) {
    auto id = pool.catalog().Find(n);
    SP_CHECK(id.has_value()) << n;
    spec_.worker.types.push_back(*id);
  }
  return *this;
}

MakeJob& MakeJob::Priority(int priority, bool preemptible) {
  spec_.priority = priority;
  spec_.preemptible = preemptible;
  return *this;
}

MakeJob& MakeJob::Submit(int64_t t) {
  spec_.submit_time = Time(t);
  return *this;
}

MakeJob& MakeJob::Runtime(int64_t seconds) {
  spec_.runtime_estimate = Seconds(seconds);
  return *this;
}

MakeJob& MakeJob::Cpu(int64_t cores) {
  spec_.worker.cpu = MilliCpu(cores * 1000);
  return *this;
}

MakeJob& MakeJob::Checkpoint(int64_t interval, int64_t restore) {
  spec_.checkpoint_interval = Seconds(interval);
  spec_.restore_cost = Seconds(restore);
  return *this;
}

namespace {
sched::Scheduler MustCreate(sched::PolicyConfig config) {
  auto s = sched::Scheduler::Create(std::move(config));
  SP_CHECK(s.ok()) << s.status().ToString();
  return std::move(*s);
}
}  // namespace

Harness::Harness(core::Pool pool, sched::PolicyConfig config)
    : pool_(std::make_unique<core::Pool>(std::move(pool))),
      state_(std::make_unique<sched::ClusterState>(*pool_)),
      scheduler_(MustCreate(std::move(config))) {}

const core::JobSpec& Harness::Add(core::JobSpec job) {
  jobs_.push_back(std::make_unique<core::JobSpec>(std::move(job)));
  return *jobs_.back();
}

sched::Decisions Harness::Round(int64_t now) {
  std::vector<sched::QueuedJob> queue;
  for (const auto& j : jobs_) {
    const bool done = std::find(done_.begin(), done_.end(), j->id.value()) != done_.end();
    if (!done && state_->FindRunning(j->id) == nullptr && j->submit_time.value() <= now) {
      queue.push_back(sched::QueuedJob{j.get(), 0, Seconds(0)});
    }
  }
  sched::Decisions d = scheduler_.Schedule(*state_, queue, Time(now));
  sched::ApplyDecisions(*state_, d, Time(now));
  return d;
}

const sched::Decision* Harness::Find(const sched::Decisions& d, uint64_t job) const {
  for (const sched::Decision& x : d.items) {
    if (x.job.value() == job && x.kind != sched::DecisionKind::kPreempt) return &x;
  }
  return nullptr;
}

}  // namespace suanpan::testing
