#pragma once
// Test builders (never linked into apps/). Arrange a pool and jobs in a line each:
//   auto pool = TestPool().Cluster("c", "H100", /*nodes=*/4, /*devices=*/8).Tenant("a").Build();
//   core::JobSpec job = MakeJob(1).Tenant(pool, "a").Gang(2, 8).Types(pool, {"H100"});

#include <memory>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/pool.h"
#include "sched/index/cluster_state.h"
#include "sched/policy.h"
#include "sched/scheduler.h"

namespace suanpan::testing {

class TestPool {
 public:
  TestPool();
  // A cluster of `nodes` x `devices` of `type` under a provider of the same name (created once),
  // `nodes_per_switch` per leaf switch, `switches_per_block` per block.
  TestPool& Cluster(const std::string& name, const std::string& type, int nodes, int devices,
                    int nodes_per_switch = 32, int switches_per_block = 8,
                    const std::string& provider = "p", double price_yuan = 10.0, int domain = 0);
  TestPool& Tenant(const std::string& name, int64_t weight = 1);
  TestPool& Quota(const std::string& tenant, const std::string& type, double guaranteed,
                  double max);
  // A project of `tenant` with guaranteed/max per type (max < 0: unbounded, the tenant's max).
  TestPool& Project(const std::string& tenant, const std::string& name, int64_t weight = 1,
                    const std::string& type = "", double guaranteed = 0, double max = -1);
  core::Pool Build();

 private:
  core::PoolBuilder builder_;
  std::vector<std::string> providers_;
};

class MakeJob {
 public:
  explicit MakeJob(uint64_t id);
  MakeJob& Tenant(const core::Pool& pool, const std::string& name);
  MakeJob& Project(const core::Pool& pool, const std::string& name);  // after Tenant()
  MakeJob& Gang(int workers, int devices);
  MakeJob& Devices(int devices) { return Gang(1, devices); }
  MakeJob& Fraction(int64_t milli);
  MakeJob& Types(const core::Pool& pool, const std::vector<std::string>& names);
  MakeJob& Priority(int priority, bool preemptible = true);
  MakeJob& Submit(int64_t t);
  MakeJob& Runtime(int64_t seconds);
  MakeJob& Cpu(int64_t cores);
  MakeJob& Checkpoint(int64_t interval, int64_t restore);
  operator core::JobSpec() const { return spec_; }  // NOLINT: builder
  core::JobSpec spec() const { return spec_; }

 private:
  core::JobSpec spec_;
};

// Owns jobs so that QueuedJob pointers stay valid; runs rounds and applies them.
class Harness {
 public:
  Harness(core::Pool pool, sched::PolicyConfig config);
  const core::Pool& pool() const { return *pool_; }
  sched::ClusterState& state() { return *state_; }
  const core::JobSpec& Add(core::JobSpec job);
  // Schedules every added job that is not yet running; applies binds/preemptions.
  sched::Decisions Round(int64_t now = 0);
  // Marks a running job finished.
  void Finish(uint64_t id) {
    state_->Finish(core::JobId(id));
    done_.push_back(id);
  }
  const sched::Decision* Find(const sched::Decisions& d, uint64_t job) const;

 private:
  std::unique_ptr<core::Pool> pool_;
  std::unique_ptr<sched::ClusterState> state_;
  sched::Scheduler scheduler_;
  std::vector<std::unique_ptr<core::JobSpec>> jobs_;
  std::vector<uint64_t> done_;
};

}  // namespace suanpan::testing
