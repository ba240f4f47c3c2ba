#pragma once
// What the control plane answers: typed records, rendered to JSON by api/views (one file per
// resource). Each is a copy, safe to keep after the operation that made it returns.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "control/backend.h"
#include "core/job.h"

namespace suanpan::control {

struct WorkerPlacementView {
  std::string node;
  std::vector<int> devices;
  int64_t share = 1000;  // milli-devices per device
  int64_t cpu = 0;       // milli-cores
  int64_t memory = 0;    // MiB
};

struct RunView {
  int attempt = 0;
  std::string provider, cluster, device_type;
  int64_t start_ms = 0;
  std::optional<int64_t> end_ms;
  std::vector<WorkerPlacementView> workers;
};

struct JobView {
  uint64_t id = 0;
  std::string name, tenant;
  std::string user;     // who submitted it (the token's name)
  std::string project;  // "": the tenant's own queue
  core::JobState state = core::JobState::kPending;
  std::string reason;
  int64_t submit_ms = 0, updated_ms = 0;
  int attempts = 0;
  std::string devices;  // "8", "0.500"
  nlohmann::json spec;  // the canonical job document (control/job_codec.h)
  std::optional<int> exit_code;
  std::optional<int64_t> earliest_start_ms;
  std::optional<RunView> placement;  // the latest run
  int64_t cost_micro = 0;            // every attempt so far, each at its run's frozen price
};

struct SubmitResult {
  JobView job;
  bool created = true;  // false: an earlier submit with the same Idempotency-Key
};

struct JobPage {
  std::vector<JobView> items;
  std::optional<uint64_t> next_after;   // oldest first: the next page's `after`
  std::optional<uint64_t> next_before;  // newest first: the next page's `before`
};

struct EventView {
  int64_t seq = 0;
  int64_t time_ms = 0;
  std::string kind, message;
};

struct ExplainView {
  uint64_t id = 0;
  core::JobState state = core::JobState::kPending;
  bool pending = false;
  std::string reason;
  std::optional<int64_t> queued_since_ms;
  std::optional<std::string> outcome;
  std::optional<int64_t> earliest_start_ms;
  std::optional<int> position;
};

struct QueueEntryView {
  size_t position = 0;
  uint64_t id = 0;
  std::string name, tenant, devices;
  core::JobState state = core::JobState::kPending;
  std::string reason;
  std::optional<int64_t> earliest_start_ms;
};

struct QueueView {
  std::string policy;
  size_t length = 0;
  std::vector<QueueEntryView> items;
};

struct UsageLine {
  std::string tenant, project, user, provider, device_type;
  double device_hours = 0;
  int64_t cost_micro = 0;
};

struct UsageView {
  int64_t from_ms = 0, to_ms = 0;
  std::vector<UsageLine> items;
  int64_t total_cost_micro = 0;
};

struct DeviceCount {
  int64_t total = 0, free = 0;
};

struct ProviderView {
  std::string name, region, backend;
  std::optional<EngineView> engine;  // a delegated provider's engine, as its backend sees it
  std::vector<std::string> clusters;
  std::map<std::string, DeviceCount> devices;           // by type
  std::map<std::string, int64_t> price_micro_per_hour;  // by type
};

struct ClusterView {
  std::string name, provider;
  size_t nodes = 0, leaf_switches = 0, blocks = 0;
  std::map<std::string, DeviceCount> devices;
};

struct NodeView {
  std::string name, provider, cluster, group, device_type;
  int devices = 0, free_devices = 0, domain_size = 0;
  std::string leaf_switch, block;
  int64_t cpu_cores = 0, memory_gib = 0;
  std::string agent;  // alive | lost | none
  std::optional<std::string> agent_address;
  // Per device: the milli-device share free (1000 = idle); the jobs on it (GET /v1/nodes/{name};
  // the caller's own jobs by id, other tenants' as a count).
  std::vector<int> free_share = {};
  bool cordoned = false;
  int external = 0;                                         // devices the partner's own work holds
  std::vector<std::pair<uint64_t, std::string>> jobs = {};  // (id, devices)
  int other_jobs = 0;
  bool detail = false;  // GET /v1/nodes/{name}: with jobs
};

struct NodePage {
  size_t total = 0, offset = 0;
  std::vector<NodeView> items;
};

struct QuotaView {
  std::string device_type, guaranteed, used;
  std::optional<std::string> max;
};

struct ProjectView {
  std::string name;
  int64_t weight = 1;
  std::vector<QuotaView> quotas;  // used: the project's own
  int64_t queued_jobs = 0, jobs_holding_devices = 0;
  bool retired = false;
};

struct TenantView {
  std::string name;
  int64_t weight = 1;
  std::vector<std::string> priority_classes;
  std::vector<QuotaView> quotas;
  int64_t queued_jobs = 0, jobs_holding_devices = 0;
  bool retired = false;
  std::vector<ProjectView> projects;
  // Fair share (used when the queue policy is fair_share): the dominant share over the weight,
  // and the place in the order tenants are served (1: first; smaller shares go first).
  double fair_share = 0;
  int fair_share_rank = 0;
};

struct TokenView {
  std::string name, role, scope;
  int64_t created_ms = 0;
  bool revoked = false;
  std::optional<int64_t> expires_ms;
  bool expired = false;
  std::vector<std::string> projects = {};
};

struct CreatedToken {
  std::string name, role, scope, secret;
};

struct WhoamiView {
  std::string token, role, scope;
};

struct LogChunk {
  int attempt = 0, rank = 0;
  int64_t offset = 0, next_offset = 0;
  std::string data;
  bool done = false;
};

// The hub at a glance (GET /v1/overview): devices by state, per provider, region and type; the
// queue by tenant; alerts. Devices are counted in milli-devices (a shared GPU counts its share).
struct DeviceStates {
  int64_t total = 0, allocated = 0, external = 0, down = 0, free = 0;  // milli-devices
  int64_t fp16_gflops = 0;  // peak dense FP16/BF16 of all `total` devices
  int64_t fp16_gflops_allocated = 0;
  void Add(const DeviceStates& o) {
    total += o.total, allocated += o.allocated, external += o.external, down += o.down,
        free += o.free, fp16_gflops += o.fp16_gflops,
        fp16_gflops_allocated += o.fp16_gflops_allocated;
  }
};

struct ProviderOverview {
  std::string name, region, backend;
  std::string state;  // up | degraded | down: nodes lost or cordoned, or the engine's own state
  std::string message;
  int64_t nodes = 0, nodes_down = 0;
  DeviceStates devices;
  std::map<std::string, DeviceStates> by_type;
};

struct TenantQueueView {
  std::string tenant;
  int64_t queued = 0, running = 0;
  int64_t oldest_wait_ms = 0, mean_wait_ms = 0;
  int64_t waiting_for_funds = 0;
};

struct AlertView {
  std::string severity;  // warning | critical
  std::string kind;      // node_lost | node_unattended | stranded_job | out_of_funds | engine
  std::string message;
  std::string subject;  // the node, job, tenant or provider
};

struct OverviewView {
  int64_t time_ms = 0;
  DeviceStates devices;
  std::vector<ProviderOverview> providers;
  std::map<std::string, DeviceStates> by_region, by_type;
  int64_t queued = 0, running = 0;
  std::vector<TenantQueueView> tenants;
  std::vector<AlertView> alerts;
};

// Devices held and jobs waiting over time (GET /v1/utilization), derived from the runs and the
// queue intervals of every job the caller may see: exact averages over each step, not samples.
struct UtilizationView {
  int64_t from_ms = 0, to_ms = 0, step_ms = 0;
  int64_t devices_milli = 0;                             // the pool's (the caller's part)
  std::vector<int64_t> t_ms;                             // each step's start
  std::map<std::string, std::vector<double>> allocated;  // devices held, by type
  std::vector<double> queued;                            // jobs waiting
  std::vector<double> cost_yuan;  // what work cost in each step (from its start, frozen price)
};

struct HealthView {
  bool ready = true;
};

}  // namespace suanpan::control
