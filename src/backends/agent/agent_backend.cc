#include "backends/agent/agent_backend.h"

#include <fmt/format.h>

namespace suanpan::backends {

using control::Caller;
using control::JobRecord;
using control::Role;

AgentBackend::AgentBackend(const control::ControlPlane& plane)
    : plane_(plane),
      node_jobs_(plane.pool().nodes().size()),
      versions_(plane.pool().nodes().size(), 1) {}

void AgentBackend::Launch(const JobRecord& job) {
  if (job.runs.empty()) return;
  for (const control::WorkerPlacementView& w : control::RunOf(job.runs.back()).workers) {
    auto node = plane_.pool().FindNode(w.node);
    if (!node) continue;
    if (node_jobs_[node->value()].insert(job.id()).second) Touch(node->value());
  }
}

void AgentBackend::Stop(const JobRecord& job, int attempt) {
  (void)attempt;
  for (size_t n = 0; n < node_jobs_.size(); ++n) {
    if (node_jobs_[n].erase(job.id())) Touch(n);
  }
}

void AgentBackend::NodeChanged(uint32_t node) {
  if (node < versions_.size()) Touch(node);
}

StatusOr<protocol::AssignmentList> AgentBackend::Assignments(const Caller& caller,
                                                             const std::string& node) const {
  if (caller.role == Role::kTenant) return PermissionDeniedError("only agents read assignments");
  auto id = plane_.pool().FindNode(node);
  if (!id || (caller.role == Role::kAgent && caller.scope != node)) {
    return NotFoundError(fmt::format("node '{}' not found", node));
  }
  return ListOf(id->value());
}

bool AgentBackend::Wait(const Caller& caller, const std::string& node, uint64_t since,
                        int64_t wait_ms, Reply reply) {
  auto id = plane_.pool().FindNode(node);
  if (caller.role == Role::kTenant || !id ||
      (caller.role == Role::kAgent && caller.scope != node) || versions_[id->value()] != since ||
      wait_ms <= 0) {
    return false;
  }
  waiters_.push_back({id->value(), since, plane_.NowMs() + wait_ms, std::move(reply)});
  return true;
}

void AgentBackend::Poll(int64_t now_ms) {
  if (waiters_.empty()) return;
  std::vector<Waiter> keep, ready;
  for (Waiter& w : waiters_) {
    if (versions_[w.node] != w.since || now_ms >= w.deadline_ms) {
      ready.push_back(std::move(w));
    } else {
      keep.push_back(std::move(w));
    }
  }
  waiters_ = std::move(keep);
  for (Waiter& w : ready) w.reply(ListOf(w.node));
}

void AgentBackend::Shutdown() {
  std::vector<Waiter> waiters;
  waiters.swap(waiters_);
  for (Waiter& w : waiters) w.reply(UnavailableError("the server is shutting down"));
}

protocol::AssignmentList AgentBackend::ListOf(size_t n) const {
  const core::Pool& pool = plane_.pool();
  protocol::AssignmentList list;
  list.node = pool.node(core::NodeId(static_cast<uint32_t>(n))).name;
  list.version = versions_[n];
  list.lost = plane_.leases().at(n).lost;
  for (uint64_t id : node_jobs_[n]) {
    const JobRecord* j = plane_.jobs().Find(id);
    if (j == nullptr || !j->holds_devices) continue;
    const sched::RunningJob* r = plane_.host().state().FindRunning(core::JobId(id));
    if (r == nullptr) continue;
    const sched::Allocation& alloc = r->allocation;
    const core::DeviceType& type =
        pool.catalog().Get(plane_.host().state().segment(alloc.segment).type);
    const size_t rank0 = alloc.workers.front().node.value();
    const std::string& addr = plane_.leases().at(rank0).address;
    const std::string master =
        addr.empty() ? pool.node(core::NodeId(static_cast<uint32_t>(rank0))).name : addr;
    for (size_t rank = 0; rank < alloc.workers.size(); ++rank) {
      const sched::WorkerPlacement& w = alloc.workers[rank];
      if (w.node.value() != n) continue;
      // A rank that already ended (its gang peers still run) is not to be started again.
      if (rank < j->workers.size() && j->workers[rank].exited) continue;
      protocol::Assignment a;
      a.job = id;
      a.name = j->spec().name;
      a.tenant = pool.tenant(j->spec().tenant).name;
      a.attempt = j->attempts;
      a.rank = static_cast<int>(rank);
      a.world_size = static_cast<int>(alloc.workers.size());
      for (int i = 0; i < 64; ++i) {
        if (w.devices & (uint64_t{1} << i)) a.devices.push_back(i);
      }
      a.device_type = type.name;
      a.visible_devices_variable = protocol::VisibleDevicesVariable(type.vendor);
      a.master_addr = master;
      a.master_port =
          static_cast<int>(20000 + (id * 31 + static_cast<uint64_t>(j->attempts)) % 20000);
      if (j->spec().runtime_limit) a.runtime_limit = j->spec().runtime_limit->value();
      a.state = std::string(core::JobStateName(j->state));
      a.command = j->decoded.launch.command;
      a.env = j->decoded.launch.env;
      a.workdir = j->decoded.launch.workdir;
      a.image = j->decoded.launch.image;
      a.mounts = j->decoded.launch.mounts;
      a.cpu_milli = j->spec().worker.cpu.value();
      a.memory_mib = j->spec().worker.memory.value();
      list.items.push_back(std::move(a));
    }
  }
  return list;
}

}  // namespace suanpan::backends
