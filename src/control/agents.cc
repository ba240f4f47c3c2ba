// The agent side of the control plane: heartbeats and leases, lost nodes, assignments
// (long-poll), worker reports with gang semantics and retries, and worker logs.
//
// Leases: an agent heartbeats every lease/3; each heartbeat renews its node's lease. When a lease
// lapses, the node is lost: the jobs with workers there end their attempt (requeued, or failed
// with requeue_lost = false) and the node is held whole by the system tenant, so nothing new
// lands on it until its agent heartbeats again. The agent's worker supervisors stop their
// processes on their own when the agent has not renewed the lease for lease - 1 s (see
// src/agent/supervisor.cc), before the server requeues the work, so a job does not run twice.

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "control/control_plane.h"

namespace suanpan::control {
namespace {

using Json = nlohmann::json;
using core::JobState;

constexpr int64_t kMaxLogRead = 1 << 20;

std::string VisibleDevicesVariable(const std::string& vendor) {
  if (vendor == "Huawei") return "ASCEND_RT_VISIBLE_DEVICES";
  if (vendor == "Cambricon") return "MLU_VISIBLE_DEVICES";
  return "CUDA_VISIBLE_DEVICES";
}

}  // namespace

std::optional<size_t> ControlPlane::WorkerNode(const Job& job, int attempt, int rank) const {
  if (attempt < 1 || attempt > static_cast<int>(job.runs.size())) return std::nullopt;
  const Json workers = Json::parse(job.runs[attempt - 1].placement, nullptr, false);
  if (!workers.is_array() || rank < 0 || rank >= static_cast<int>(workers.size())) {
    return std::nullopt;
  }
  auto it = node_index_.find(workers[rank].value("node", ""));
  if (it == node_index_.end()) return std::nullopt;
  return it->second;
}

StatusOr<nlohmann::json> ControlPlane::Heartbeat(const Caller& caller, const std::string& node,
                                                 const Json& body) {
  auto it = node_index_.find(node);
  if (it == node_index_.end() || (caller.role == Role::kAgent && caller.scope != node)) {
    return NotFoundError(fmt::format("node '{}' not found", node));
  }
  if (caller.role == Role::kTenant) return PermissionDeniedError("only agents heartbeat");
  if (!body.is_object()) return InvalidArgumentError("body: must be a JSON object");
  for (const auto& [k, v] : body.items()) {
    (void)v;
    if (k != "devices" && k != "address" && k != "cpu_cores" && k != "memory_mib" &&
        k != "agent_version" && k != "workers") {
      return InvalidArgumentError(fmt::format(
          "{}: unknown field (known: devices, address, cpu_cores, memory_mib, agent_version, "
          "workers)",
          k));
    }
  }
  const size_t n = it->second;
  const core::Node& declared = pool_->node(core::NodeId(n));
  const std::string type = pool_->catalog().Get(declared.shape.type).name;
  auto devices = body.find("devices");
  if (devices == body.end() || !devices->is_array()) {
    return InvalidArgumentError("devices: must be a list of {\"type\": ...}");
  }
  int matching = 0;
  std::string found;
  std::map<std::string, int> by_type;
  for (const Json& d : *devices) {
    if (!d.is_object() || !d.contains("type") || !d["type"].is_string()) {
      return InvalidArgumentError("devices: each device needs a \"type\" string");
    }
    ++by_type[d["type"].get<std::string>()];
  }
  for (const auto& [t, count] : by_type) {
    found += fmt::format("{}{} x {}", found.empty() ? "" : ", ", count, t);
    if (t == type) matching = count;
  }
  if (matching != declared.shape.devices || by_type.size() > 1) {
    return FailedPreconditionError(
        fmt::format("devices: node '{}' is declared with {} x {} in the pool, the agent found {}",
                    node, declared.shape.devices, type, found.empty() ? "none" : found));
  }
  NodeLive& live = nodes_live_[n];
  const int64_t now = clock_.NowMs();
  if (auto a = body.find("address"); a != body.end() && a->is_string()) {
    live.address = a->get<std::string>().substr(0, 255);
  }
  const bool first = live.lease_until_ms == 0;
  live.lease_until_ms = now + options_.lease_seconds * 1000;
  if (live.lost) {
    cluster_.Finish(cordons_.at(n)->id);
    cordons_.erase(n);
    live.lost = false;
    ++live.version;
    dirty_ = true;
    spdlog::info("node={} back in service: its agent heartbeats again", node);
  } else if (first) {
    spdlog::info("node={} registered: {} address={}", node, found, live.address);
    dirty_ = true;
  }
  return Json{{"node", node}, {"lease_seconds", options_.lease_seconds}, {"version", live.version}};
}

void ControlPlane::CheckLeases(int64_t now_ms) {
  for (size_t n = 0; n < nodes_live_.size(); ++n) {
    NodeLive& live = nodes_live_[n];
    if (live.lease_until_ms == 0 || live.lost || now_ms <= live.lease_until_ms) continue;
    NodeLost(n, now_ms);
  }
}

void ControlPlane::NodeLost(size_t n, int64_t now_ms) {
  NodeLive& live = nodes_live_[n];
  const std::string& name = pool_->node(core::NodeId(n)).name;
  live.lost = true;
  ++live.version;
  const std::set<uint64_t> jobs = node_jobs_[n];
  spdlog::warn("node={} lost: no heartbeat for {} s; {} job(s) there end their attempt", name,
               options_.lease_seconds, jobs.size());
  for (uint64_t id : jobs) {
    Job& j = *jobs_.at(id);
    EndAttempt(j, options_.requeue_lost, /*lost=*/true,
               fmt::format("node {} lost (no heartbeat for {} s)", name, options_.lease_seconds));
  }
  // Hold the whole node (now free) so that nothing lands on it until its agent is back.
  const core::Node& node = pool_->node(core::NodeId(n));
  auto spec = std::make_unique<core::JobSpec>();
  spec->id = core::JobId((uint64_t{1} << 62) + n);
  spec->name = "lost node " + name;
  spec->tenant = cluster_.SystemTenant();
  spec->preemptible = false;
  spec->worker.devices = node.shape.devices;
  spec->worker.types = {node.shape.type};
  sched::RunningJob hold;
  hold.spec = spec.get();
  hold.allocation.segment = cluster_.SegmentOfNode(core::NodeId(n));
  sched::WorkerPlacement w;
  w.node = core::NodeId(n);
  w.devices = node.shape.devices >= 64 ? ~uint64_t{0} : (uint64_t{1} << node.shape.devices) - 1;
  w.cpu = cluster_.FreeCpu(core::NodeId(n));
  w.memory = cluster_.FreeMemory(core::NodeId(n));
  hold.allocation.workers.push_back(w);
  hold.start = Time(now_ms / 1000);
  cluster_.Start(std::move(hold));
  cordons_[n] = std::move(spec);
  dirty_ = true;
}

void ControlPlane::EndAttempt(Job& j, bool retry, bool lost, const std::string& why) {
  const int64_t now = clock_.NowMs();
  Release(j, now);
  const int max_retries = j.decoded.launch.max_retries;
  const std::string attempt = fmt::format("attempt {} ended: {}", j.attempts, why);
  if (j.state == JobState::kRunning) SetState(j, JobState::kLost, attempt);
  const bool again = retry && (lost || j.attempts <= max_retries);
  if (again) {
    const std::string reason =
        lost ? fmt::format("requeued: {}", attempt)
             : fmt::format("retrying ({} of max_retries {}): {}", j.attempts, max_retries, attempt);
    SetState(j, JobState::kPending, reason);
    AddEvent(j, "retry", reason);
  } else {
    SetState(j, JobState::kFailed, attempt);
    AddEvent(j, "failed", attempt);
  }
}

StatusOr<nlohmann::json> ControlPlane::ReportWorkerStatus(const Caller& caller, uint64_t id,
                                                          int rank, const Json& body) {
  if (caller.role == Role::kTenant) return PermissionDeniedError("only agents report workers");
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return NotFoundError(fmt::format("job {} not found", id));
  Job& j = *it->second;
  if (!body.is_object()) return InvalidArgumentError("body: must be a JSON object");
  for (const auto& [k, v] : body.items()) {
    (void)v;
    if (k != "attempt" && k != "state" && k != "exit_code" && k != "signal" && k != "reason" &&
        k != "message") {
      return InvalidArgumentError(fmt::format(
          "{}: unknown field (known: attempt, state, exit_code, signal, reason, message)", k));
    }
  }
  auto attempt_field = body.find("attempt");
  if (attempt_field == body.end() || !attempt_field->is_number_integer()) {
    return InvalidArgumentError("attempt: must be an integer");
  }
  const int attempt = attempt_field->get<int>();
  auto node = WorkerNode(j, attempt, rank);
  if (!node ||
      (caller.role == Role::kAgent && pool_->node(core::NodeId(*node)).name != caller.scope)) {
    return NotFoundError(fmt::format("job {} has no worker {} on this node", id, rank));
  }
  const std::string state = body.value("state", "");
  if (state != "running" && state != "exited") {
    return InvalidArgumentError(fmt::format("state: must be running or exited, got '{}'", state));
  }
  if (attempt != j.attempts || !j.holds_devices) {
    return FailedPreconditionError(fmt::format(
        "attempt: attempt {} of job {} is over (the job is {} on attempt {}); stop the worker",
        attempt, id, core::JobStateName(j.state), j.attempts));
  }
  Job::Worker& w = j.workers.at(rank);
  const std::string node_name = pool_->node(core::NodeId(*node)).name;
  if (state == "running") {
    if (w.running) return View(j);  // a repeated report
    w.running = true;
    AddEvent(j, "worker",
             fmt::format("attempt {} rank {}: started on {}", attempt, rank, node_name));
    const bool all = std::all_of(j.workers.begin(), j.workers.end(),
                                 [](const Job::Worker& x) { return x.running; });
    if (all && j.state == JobState::kAdmitted) {
      SetState(j, JobState::kRunning,
               j.workers.size() == 1
                   ? std::string("running: the worker started")
                   : fmt::format("running: all {} workers started", j.workers.size()));
      AddEvent(j, "running", j.reason);
    }
    return View(j);
  }
  // exited
  if (w.exited) return View(j);
  std::optional<int> code, sig;
  if (auto c = body.find("exit_code"); c != body.end() && c->is_number_integer())
    code = c->get<int>();
  if (auto c = body.find("signal"); c != body.end() && c->is_number_integer()) sig = c->get<int>();
  const std::string reason = body.value("reason", "");
  std::string message = body.value("message", "");
  if (message.size() > 512) message.resize(512);
  w.running = true;
  w.exited = true;
  w.exit_code = code;
  w.signal = sig;
  const bool ok = code == 0 && !sig && reason.empty();
  if (ok) {
    // Kept in the store: after a restart the server still knows this rank is done.
    AddEvent(j, "worker", fmt::format("attempt {} rank {}: exited 0", attempt, rank));
    const bool all = std::all_of(j.workers.begin(), j.workers.end(),
                                 [](const Job::Worker& x) { return x.exited && x.exit_code == 0; });
    if (all) {
      Release(j, clock_.NowMs());
      if (j.state == JobState::kAdmitted) SetState(j, JobState::kRunning, "running");
      j.exit_code = 0;
      SetState(j, JobState::kSucceeded,
               j.workers.size() == 1
                   ? std::string("finished: the worker exited 0")
                   : fmt::format("finished: all {} workers exited 0", j.workers.size()));
      AddEvent(j, "succeeded", j.reason);
    }
    return View(j);
  }
  std::string what;
  if (reason == "runtime_limit") {
    what = fmt::format("rank {} on {} reached the runtime limit of {} s", rank, node_name,
                       j.decoded.spec.runtime_limit ? j.decoded.spec.runtime_limit->value() : 0);
  } else if (sig) {
    what = fmt::format("rank {} on {} was killed by signal {}", rank, node_name, *sig);
  } else if (reason == "start_failed") {
    what = fmt::format("rank {} on {} could not start", rank, node_name);
  } else if (reason == "lost") {
    what = fmt::format("rank {} on {} was lost (its agent restarted without it)", rank, node_name);
  } else {
    what = fmt::format("rank {} on {} exited with code {}", rank, node_name, code.value_or(-1));
  }
  if (!message.empty()) what += ": " + message;
  j.exit_code = code;
  // A runtime limit is the job's own bound: not retried.
  AddEvent(j, "worker", fmt::format("attempt {} rank {}: ended: {}", attempt, rank, what));
  EndAttempt(j, reason != "runtime_limit", reason == "lost", what);
  return View(j);
}

nlohmann::json ControlPlane::AssignmentsView(size_t n) const {
  Json items = Json::array();
  for (uint64_t id : node_jobs_[n]) {
    const Job& j = *jobs_.at(id);
    const sched::RunningJob* r = cluster_.FindRunning(j.decoded.spec.id);
    if (r == nullptr) continue;
    const core::DeviceType& type =
        pool_->catalog().Get(cluster_.segment(r->allocation.segment).type);
    const size_t rank0 = r->allocation.workers.front().node.value();
    const std::string master = nodes_live_[rank0].address.empty()
                                   ? pool_->node(core::NodeId(rank0)).name
                                   : nodes_live_[rank0].address;
    for (size_t rank = 0; rank < r->allocation.workers.size(); ++rank) {
      const sched::WorkerPlacement& w = r->allocation.workers[rank];
      if (w.node.value() != n) continue;
      // A rank that already ended (its gang peers still run) is not to be started again.
      if (rank < j.workers.size() && j.workers[rank].exited) continue;
      Json devices = Json::array();
      for (int i = 0; i < 64; ++i) {
        if (w.devices & (uint64_t{1} << i)) devices.push_back(i);
      }
      items.push_back(
          {{"job", id},
           {"name", j.decoded.spec.name},
           {"tenant", pool_->tenant(j.decoded.spec.tenant).name},
           {"attempt", j.attempts},
           {"rank", rank},
           {"world_size", r->allocation.workers.size()},
           {"devices", devices},
           {"device_type", type.name},
           {"visible_devices_variable", VisibleDevicesVariable(type.vendor)},
           {"master_addr", master},
           {"master_port", 20000 + (id * 31 + static_cast<uint64_t>(j.attempts)) % 20000},
           {"runtime_limit", j.decoded.spec.runtime_limit
                                 ? Json(j.decoded.spec.runtime_limit->value())
                                 : Json(nullptr)},
           {"state", std::string(core::JobStateName(j.state))},
           {"spec", j.spec_json}});
    }
  }
  return Json{{"node", pool_->node(core::NodeId(n)).name},
              {"version", nodes_live_[n].version},
              {"lost", nodes_live_[n].lost},
              {"items", items}};
}

StatusOr<nlohmann::json> ControlPlane::NodeAssignments(const Caller& caller,
                                                       const std::string& name) const {
  if (caller.role == Role::kTenant) return PermissionDeniedError("only agents read assignments");
  auto it = node_index_.find(name);
  if (it == node_index_.end() || (caller.role == Role::kAgent && caller.scope != name)) {
    return NotFoundError(fmt::format("node '{}' not found", name));
  }
  return AssignmentsView(it->second);
}

void ControlPlane::WaitAssignments(const Caller& caller, const std::string& node, uint64_t since,
                                   int64_t wait_ms) {
  auto it = node_index_.find(node);
  if (caller.role == Role::kTenant || it == node_index_.end() ||
      (caller.role == Role::kAgent && caller.scope != node) ||
      nodes_live_[it->second].version != since || wait_ms <= 0 || !thread_.joinable()) {
    return;  // answered at once by the operation's own result
  }
  waiters_.push_back({it->second, since, clock_.NowMs() + wait_ms, TakeDone()});
}

void ControlPlane::ServeWaiters(int64_t now_ms) {
  if (waiters_.empty()) return;
  std::vector<Waiter> keep;
  std::vector<std::pair<Done, Json>> ready;
  for (Waiter& w : waiters_) {
    if (nodes_live_[w.node].version != w.since || now_ms >= w.deadline_ms) {
      ready.emplace_back(std::move(w.done), AssignmentsView(w.node));
    } else {
      keep.push_back(std::move(w));
    }
  }
  waiters_ = std::move(keep);
  for (auto& [done, view] : ready) done(std::move(view));
}

// ---------------------------------------------------------------------------------------------
// Logs.

StatusOr<nlohmann::json> ControlPlane::AppendWorkerLog(const Caller& caller, uint64_t id, int rank,
                                                       int attempt, int64_t offset,
                                                       std::string_view data) {
  if (caller.role == Role::kTenant) return PermissionDeniedError("only agents ship logs");
  if (options_.log_dir.empty()) return FailedPreconditionError("logs: this server keeps no logs");
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return NotFoundError(fmt::format("job {} not found", id));
  auto node = WorkerNode(*it->second, attempt, rank);
  if (!node ||
      (caller.role == Role::kAgent && pool_->node(core::NodeId(*node)).name != caller.scope)) {
    return NotFoundError(
        fmt::format("job {} has no worker {} in attempt {} on this node", id, rank, attempt));
  }
  if (offset < 0) return InvalidArgumentError("offset: must be >= 0");
  const std::filesystem::path dir =
      std::filesystem::path(options_.log_dir) / std::to_string(id) / std::to_string(attempt);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path file = dir / (std::to_string(rank) + ".log");
  const int64_t size = std::filesystem::exists(file, ec)
                           ? static_cast<int64_t>(std::filesystem::file_size(file, ec))
                           : 0;
  if (offset > size) {
    return FailedPreconditionError(
        fmt::format("offset: the server has {} bytes of this log, got offset {}", size, offset));
  }
  const int64_t skip = size - offset;
  if (skip < static_cast<int64_t>(data.size())) {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out.write(data.data() + skip, static_cast<std::streamsize>(data.size() - skip));
    if (!out) return UnavailableError(fmt::format("logs: cannot write {}", file.string()));
    return Json{{"size", size + static_cast<int64_t>(data.size()) - skip}};
  }
  return Json{{"size", size}};
}

StatusOr<nlohmann::json> ControlPlane::ReadWorkerLog(const Caller& caller, uint64_t id, int rank,
                                                     std::optional<int> attempt,
                                                     int64_t offset) const {
  const Job* j = Visible(caller, id);
  if (j == nullptr) return NotFoundError(fmt::format("job {} not found", id));
  const int a = attempt.value_or(j->attempts);
  if (j->attempts == 0) {
    return Json{{"attempt", 0},     {"rank", rank}, {"offset", 0},
                {"next_offset", 0}, {"data", ""},   {"done", core::IsTerminal(j->state)}};
  }
  if (!WorkerNode(*j, a, rank)) {
    return InvalidArgumentError(
        fmt::format("worker: job {} has no worker {} in attempt {}", id, rank, a));
  }
  if (offset < 0) return InvalidArgumentError("offset: must be >= 0");
  const std::filesystem::path file = std::filesystem::path(options_.log_dir) / std::to_string(id) /
                                     std::to_string(a) / (std::to_string(rank) + ".log");
  std::string data;
  std::ifstream in(file, std::ios::binary);
  if (in) {
    in.seekg(offset);
    data.resize(kMaxLogRead);
    in.read(data.data(), kMaxLogRead);
    data.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  }
  const bool over = a != j->attempts || !j->holds_devices;
  return Json{{"attempt", a},     {"rank", rank},
              {"offset", offset}, {"next_offset", offset + static_cast<int64_t>(data.size())},
              {"data", data},     {"done", over && data.empty()}};
}

}  // namespace suanpan::control
