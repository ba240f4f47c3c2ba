#include "backends/slurm/slurm_backend.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace suanpan::backends::slurm {
namespace {

using control::ControlPlane;
using control::JobRecord;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Natural order: sp-n2 before sp-n10.
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      const std::string x = a.substr(i, ie - i), y = b.substr(j, je - j);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

bool Terminal(const std::string& s) {
  return s == "COMPLETED" || s == "FAILED" || s == "CANCELLED" || s == "TIMEOUT" ||
         s == "NODE_FAIL" || s == "PREEMPTED" || s == "BOOT_FAIL" || s == "DEADLINE" ||
         s == "OUT_OF_MEMORY";
}
bool Running(const std::string& s) {
  return s == "RUNNING" || s == "COMPLETING" || s == "SUSPENDED" || s == "STOPPED";
}
bool NodeDown(const NodeInfo& n) {
  for (const char* s : {"down", "drained", "draining", "fail", "failing", "future", "unknown",
                        "maint", "reboot_issued", "power_down", "powered_down"}) {
    if (n.state.find(s) != std::string::npos) return true;
  }
  for (const std::string& f : n.flags) {
    if (f == "DRAIN" || f == "NOT_RESPONDING" || f == "MAINTENANCE" || f == "FAIL" ||
        f == "POWERED_DOWN" || f == "POWERING_DOWN" || f == "REBOOT_REQUESTED") {
      return true;
    }
  }
  return false;
}

using Kind = ControlPlane::EngineEvent::Kind;

ControlPlane::EngineEvent Event(Kind kind, uint64_t job, int attempt, uint64_t slurm_id) {
  ControlPlane::EngineEvent e;
  e.kind = kind;
  e.job = job;
  e.attempt = attempt;
  if (slurm_id) e.ref = std::to_string(slurm_id);
  return e;
}

// How a job Slurm lists as ended ended, for EngineReport.
ControlPlane::EngineEvent Ended(uint64_t job, int attempt, const JobInfo& j) {
  ControlPlane::EngineEvent e = Event(Kind::kEnded, job, attempt, j.id);
  e.time_ms = j.end_s * 1000;
  const int raw = j.exit_raw;  // a wait status: 768 is exit 3, 15 is SIGTERM
  if (raw & 0x7f) {
    e.signal = raw & 0x7f;
  } else {
    e.exit_code = (raw >> 8) & 0xff;
  }
  if (j.state == "TIMEOUT" || j.state == "DEADLINE") e.reason = "runtime_limit";
  if (j.state == "NODE_FAIL" || j.state == "BOOT_FAIL") e.reason = "node_fail";
  if (j.state == "PREEMPTED") e.reason = "preempted";
  if (j.state == "CANCELLED") e.reason = "cancelled";
  if (j.state == "OUT_OF_MEMORY") e.message = "out of memory";
  if (j.state == "FAILED" && j.node_list.empty() && j.start_s == j.end_s) {
    e.reason = "rejected";  // refused when the controller evaluated it
    e.message = j.reason.empty() ? "the engine failed it before it started" : j.reason;
  } else if (j.state == "FAILED" && e.exit_code == 0 && !e.signal) {
    e.exit_code = 1;  // failed, with no code to say why
    e.message = j.reason;
  }
  return e;
}

}  // namespace

std::string SlurmBackend::Comment(uint64_t job, int attempt, int64_t bound_ms) {
  return fmt::format("suanpan job={} attempt={} bound={}", job, attempt, bound_ms);
}

SlurmBackend::SlurmBackend(ControlPlane& plane, core::ProviderId provider,
                           std::unique_ptr<Client> client)
    : plane_(plane), provider_(provider), client_(std::move(client)) {
  const core::Pool& pool = plane_.pool();
  const core::Provider& p = pool.provider(provider);
  provider_name_ = p.name;
  config_ = *p.engine;
  for (core::ClusterId c : p.clusters) {
    for (core::NodeId n : pool.cluster(c).nodes) pool_nodes_.push_back(n.value());
  }
  engine_names_.assign(pool_nodes_.size(), "");
  if (config_.nodes.size() == pool_nodes_.size()) engine_names_ = config_.nodes;
  view_.kind = "slurm";
  view_.mode = std::string(client_->mode());
  view_.state = "starting";
  view_.since_ms = NowMs();
}

SlurmBackend::~SlurmBackend() { Shutdown(); }

void SlurmBackend::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void SlurmBackend::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SubmitRequest SlurmBackend::Request(const JobRecord& job, std::string* refusal) const {
  const core::Pool& pool = plane_.pool();
  const store::RunRow& run = job.runs.back();
  const control::RunView view = control::RunOf(run);
  SubmitRequest r;
  r.name = fmt::format("sp{}-{}", job.id(), job.spec().name).substr(0, 64);
  r.comment = Comment(job.id(), run.attempt, run.start_ms);
  r.partition = config_.partition;
  r.account = config_.account;
  r.qos = config_.qos;
  const std::string out_dir = fmt::format("{}/{}/{}", config_.output_dir, job.id(), run.attempt);
  r.work_dir = config_.work_dir.empty() ? out_dir : config_.work_dir;
  r.output = out_dir + "/batch.log";
  r.error = out_dir + "/batch.log";
  // Workers per node, in placement order, with their devices.
  std::vector<std::string> nodes;
  std::map<std::string, int> per_node;
  int64_t cpu = 0, memory = 0;
  std::map<std::string, int64_t> memory_on;
  for (const control::WorkerPlacementView& w : view.workers) {
    if (w.share < 1000) {
      *refusal =
          fmt::format("{} has no fractional devices (Slurm gives whole GPUs)", provider_name_);
    }
    auto id = pool.FindNode(w.node);
    std::string engine;
    if (id) {
      for (size_t i = 0; i < pool_nodes_.size(); ++i) {
        if (pool_nodes_[i] == id->value()) engine = engine_names_[i];
      }
    }
    if (engine.empty()) engine = w.node;
    if (!per_node.count(engine)) nodes.push_back(engine);
    ++per_node[engine];
    cpu = std::max(cpu, w.cpu);
    memory_on[engine] += w.memory;
    memory = std::max(memory, memory_on[engine]);
  }
  const int devices = job.spec().worker.devices;
  std::string gres = "gpu";
  if (auto it = config_.gres.find(run.device_type); it != config_.gres.end()) gres = it->second;
  int tasks_per_node = per_node.empty() ? 1 : per_node.begin()->second;
  for (const auto& [n, k] : per_node) {
    if (k != tasks_per_node) {
      *refusal = fmt::format(
          "the placement puts different numbers of workers on its nodes; {} takes one shape "
          "per node",
          provider_name_);
    }
  }
  r.nodes = static_cast<int>(nodes.size());
  r.tasks_per_node = tasks_per_node;
  r.nodelist = nodes;
  if (devices > 0) r.gres_per_node = fmt::format("{}:{}", gres, devices * tasks_per_node);
  if (cpu > 0) r.cpus_per_task = static_cast<int>((cpu + 999) / 1000);
  if (memory > 0) r.memory_per_node_mib = memory;
  if (job.spec().runtime_limit) {
    r.time_limit_minutes = static_cast<int>((job.spec().runtime_limit->value() + 59) / 60);
  }
  // The script: suanpan's variables, the job's own, then one task per worker through srun.
  std::string s = "#!/bin/bash\n";
  s += fmt::format("# suanpan job {} attempt {} of tenant {}\n", job.id(), run.attempt,
                   pool.tenant(job.spec().tenant).name);
  const control::Launch& launch = job.decoded.launch;
  if (!launch.env.count("PATH")) {
    s += "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n";
  }
  s += fmt::format("export SUANPAN_JOB_ID={} SUANPAN_ATTEMPT={} SUANPAN_TENANT={}\n", job.id(),
                   run.attempt, ShellQuote(pool.tenant(job.spec().tenant).name));
  s += "export WORLD_SIZE=\"$SLURM_NTASKS\"\n";
  s += "export MASTER_ADDR=\"$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\"\n";
  s += "export MASTER_PORT=29500\n";
  for (const auto& [k, v] : launch.env) s += fmt::format("export {}={}\n", k, ShellQuote(v));
  s += fmt::format("mkdir -p {}\n", ShellQuote(out_dir));
  s += fmt::format(
      "exec srun --export=ALL --kill-on-bad-exit=1 --output={0}/rank-%t.log "
      "--error={0}/rank-%t.log bash -c 'export RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID "
      "NODE_RANK=$SLURM_NODEID; exec \"$@\"' suanpan",
      ShellQuote(out_dir));
  for (const std::string& a : launch.command) s += " " + ShellQuote(a);
  s += "\n";
  r.script = std::move(s);
  if (!launch.image.empty()) {
    *refusal = fmt::format("{} runs no container images through suanpan (image '{}')",
                           provider_name_, launch.image);
  }
  return r;
}

void SlurmBackend::Launch(const JobRecord& job) {
  if (job.runs.empty()) return;
  const int attempt = job.runs.back().attempt;
  std::error_code ec;
  std::filesystem::create_directories(
      fmt::format("{}/{}/{}", config_.output_dir, job.id(), attempt), ec);
  std::lock_guard lock(mu_);  // Request reads the node names the poll thread maps
  std::string refusal;
  SubmitRequest request = Request(job, &refusal);
  auto [it, inserted] = attempts_.try_emplace({job.id(), attempt});
  if (!inserted) return;  // idempotent
  Attempt& a = it->second;
  a.job = job.id();
  a.attempt = attempt;
  a.tenant = plane_.pool().tenant(job.spec().tenant).name;
  a.ranks = static_cast<int>(job.workers.size());
  a.request = std::move(request);
  a.refusal = refusal;
  if (job.runs.back().engine_ref) {
    a.slurm_id = std::strtoull(job.runs.back().engine_ref->c_str(), nullptr, 10);
    a.submitted = a.slurm_id > 0;
  }
  if (job.runs.back().started_ms) a.started_reported = true;
  a.log_offsets.assign(a.ranks, 0);
  wake_ = true;
  cv_.notify_all();
}

void SlurmBackend::Stop(const JobRecord& job, int attempt) {
  std::lock_guard lock(mu_);
  auto it = attempts_.find({job.id(), attempt});
  if (it == attempts_.end()) return;
  it->second.ended = true;
  it->second.cancel = true;
  wake_ = true;
  cv_.notify_all();
}

std::string SlurmBackend::WhyNotStarted(const JobRecord& job) const {
  if (job.runs.empty()) return {};
  std::lock_guard lock(mu_);
  auto it = attempts_.find({job.id(), job.runs.back().attempt});
  if (it == attempts_.end()) return {};
  const Attempt& a = it->second;
  if (!a.slurm_id) return fmt::format("not yet in {}'s queue: {}", provider_name_, view_.message);
  return fmt::format("Slurm job {} is {}{}", a.slurm_id, a.state.empty() ? "unknown" : a.state,
                     a.reason.empty() ? "" : " (" + a.reason + ")");
}

std::optional<control::EngineView> SlurmBackend::Engine() const {
  std::lock_guard lock(mu_);
  control::EngineView v = view_;
  v.pending = v.running = 0;
  for (const auto& [key, a] : attempts_) {
    if (a.ended) continue;
    if (Running(a.state)) {
      ++v.running;
    } else if (a.slurm_id) {
      ++v.pending;
    }
  }
  return v;
}

void SlurmBackend::Run() {
  int failures = 0;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stop_) return;
    }
    PollOnce();
    int64_t wait_ms;
    {
      std::lock_guard lock(mu_);
      failures = view_.state == "degraded" ? failures + 1 : 0;
    }
    wait_ms = int64_t{config_.poll_seconds} * 1000;
    if (failures > 0) wait_ms = std::min<int64_t>(wait_ms << std::min(failures, 4), 60'000);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stop_ || wake_; });
    if (stop_) return;
    if (wake_) {
      wake_ = false;
      lock.unlock();
      // Gather a burst of launches into one poll.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

void SlurmBackend::PollOnce() {
  const core::Pool& pool = plane_.pool();
  auto degraded = [&](const std::string& why) {
    {
      std::lock_guard lock(mu_);
      if (view_.state != "degraded") {
        spdlog::warn("provider={} engine degraded: {}", provider_name_, why);
        view_.since_ms = NowMs();
      }
      view_.state = "degraded";
      view_.message = why;
      view_.last_poll_ms = NowMs();
    }
    // No new work goes to an engine suanpan cannot see: its free devices are held until it
    // answers again. What runs there keeps running and is not concluded about.
    std::vector<std::pair<uint32_t, int>> holds;
    for (uint32_t n : pool_nodes_) holds.emplace_back(n, pool.node(core::NodeId(n)).shape.devices);
    plane_.Post([holds = std::move(holds)](ControlPlane& p) -> ControlPlane::Done {
      for (const auto& [node, held] : holds) p.SetEngineHold(core::NodeId(node), held);
      return [](const Status&) {};
    });
  };
  auto jobs = client_->Jobs();
  if (!jobs.ok()) return degraded(jobs.status().message());
  auto nodes = client_->Nodes();
  if (!nodes.ok()) return degraded(nodes.status().message());

  // Map the pool's nodes to the engine's once: config order, else the partition's in order.
  if (std::any_of(engine_names_.begin(), engine_names_.end(),
                  [](const std::string& n) { return n.empty(); })) {
    std::vector<std::string> names;
    for (const NodeInfo& n : *nodes) {
      if (config_.partition.empty() || std::find(n.partitions.begin(), n.partitions.end(),
                                                 config_.partition) != n.partitions.end()) {
        names.push_back(n.name);
      }
    }
    std::sort(names.begin(), names.end(), NaturalLess);
    if (names.size() != pool_nodes_.size()) {
      return degraded(fmt::format(
          "the pool file declares {} node(s) for {}, its Slurm{} has {}: list them in "
          "[providers.slurm] nodes",
          pool_nodes_.size(), provider_name_,
          config_.partition.empty() ? "" : " partition " + config_.partition, names.size()));
    }
    std::lock_guard lock(mu_);
    engine_names_ = names;
    // Requests built before the mapping named pool nodes: rebuild their node lists.
    for (auto& [key, a] : attempts_) {
      for (std::string& n : a.request.nodelist) {
        auto id = pool.FindNode(n);
        if (!id) continue;
        for (size_t i = 0; i < pool_nodes_.size(); ++i) {
          if (pool_nodes_[i] == id->value()) n = engine_names_[i];
        }
      }
    }
  }

  std::map<std::string, const JobInfo*> by_comment;
  for (const JobInfo& j : *jobs) {
    if (j.comment.rfind("suanpan job=", 0) != 0) continue;
    const JobInfo*& seen = by_comment[j.comment];
    // Two with one comment cannot come from this backend; prefer the live one.
    if (seen == nullptr || (Terminal(seen->state) && !Terminal(j.state))) seen = &j;
  }

  // What to do, decided under the lock; done without it.
  struct Submit {
    Key key;
    SubmitRequest request;
  };
  std::vector<Submit> submits;
  std::vector<uint64_t> cancels;
  std::vector<ControlPlane::EngineEvent> events;
  struct LogRead {
    Key key;
    std::string tenant;
    int rank;
    int64_t offset;
  };
  std::vector<LogRead> logs;
  std::map<std::string, int> ours_on;  // engine node -> devices our running jobs hold there
  {
    std::lock_guard lock(mu_);
    for (auto it = attempts_.begin(); it != attempts_.end();) {
      Attempt& a = it->second;
      const auto found = by_comment.find(a.request.comment);
      const JobInfo* j = found == by_comment.end() ? nullptr : found->second;
      if (j) {
        a.missing = 0;
        a.state = j->state;
        a.reason = j->reason;
        if (a.slurm_id != j->id) {
          a.slurm_id = j->id;
          a.submitted = true;
          if (!a.ended) events.push_back(Event(Kind::kSubmitted, a.job, a.attempt, j->id));
        }
      } else if (a.submitted) {
        ++a.missing;
      }
      if (a.ended) {
        // suanpan is done with it: cancel what still runs, then forget it.
        if (j && !Terminal(j->state)) {
          cancels.push_back(j->id);
          ++it;
        } else if (j || !a.submitted || a.missing >= 2) {
          it = attempts_.erase(it);
        } else {
          ++it;  // submitted, not listed once: wait for a second listing
        }
        continue;
      }
      if (!j) {
        if (!a.refusal.empty()) {
          ControlPlane::EngineEvent e = Event(Kind::kEnded, a.job, a.attempt, 0);
          e.reason = "rejected";
          e.message = a.refusal;
          events.push_back(e);
          a.ended = true;
        } else if (a.submitted && a.missing >= 2) {
          ControlPlane::EngineEvent e = Event(Kind::kEnded, a.job, a.attempt, a.slurm_id);
          e.reason = "vanished";
          e.message = "not in the engine's job list (purged, or lost by slurmctld)";
          events.push_back(e);
          a.ended = true;
        } else if (!a.submitted) {
          submits.push_back({it->first, a.request});
        }
        ++it;
        continue;
      }
      if ((Running(j->state) || Terminal(j->state)) && j->start_s > 0 && !a.started_reported &&
          !(Terminal(j->state) && j->node_list.empty())) {
        ControlPlane::EngineEvent e = Event(Kind::kStarted, a.job, a.attempt, j->id);
        e.time_ms = j->start_s * 1000;
        e.message = j->nodes;
        events.push_back(e);
        a.started_reported = true;
      }
      if (Running(j->state)) {
        // Where Slurm runs it (REST places by itself), so that what the partner holds is exact.
        for (const std::string& n : j->node_list) {
          ours_on[n] += GresCount(a.request.gres_per_node);
        }
      }
      if (a.started_reported) {
        for (int r = 0; r < a.ranks; ++r)
          logs.push_back({it->first, a.tenant, r, a.log_offsets[r]});
      }
      if (Terminal(j->state)) {
        // Output written just before the end is shipped with the end (read below).
        events.push_back(Ended(a.job, a.attempt, *j));
        a.ended = true;
      }
      ++it;
    }
  }
  // Submits and cancels, outside the lock.
  std::string submit_error;
  for (Submit& s : submits) {
    auto id = client_->Submit(s.request);
    std::lock_guard lock(mu_);
    auto it = attempts_.find(s.key);
    if (it == attempts_.end()) continue;
    Attempt& a = it->second;
    if (id.ok()) {
      a.slurm_id = *id;
      a.submitted = true;
      a.missing = 0;
      a.state = "PENDING";
      if (!a.ended) events.push_back(Event(Kind::kSubmitted, a.job, a.attempt, *id));
    } else if (id.status().code() == StatusCode::kInvalidArgument) {
      ControlPlane::EngineEvent e = Event(Kind::kEnded, a.job, a.attempt, 0);
      e.reason = "rejected";
      e.message = id.status().message();
      events.push_back(e);
      a.ended = true;
    } else {
      // The answer is unknown: it may have reached the controller. Look again before resending.
      a.submitted = true;
      a.missing = 0;
      submit_error = id.status().message();
    }
  }
  for (uint64_t id : cancels) {
    Status s = client_->Cancel(id);
    if (!s.ok()) spdlog::warn("provider={} scancel {}: {}", provider_name_, id, s.message());
  }

  // Output: what the ranks wrote since the last poll.
  struct Chunk {
    Key key;
    int rank;
    int64_t offset;
    std::string data;
  };
  std::vector<Chunk> chunks;
  for (const LogRead& l : logs) {
    const std::string path =
        fmt::format("{}/{}/{}/rank-{}.log", config_.output_dir, l.key.first, l.key.second, l.rank);
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    in.seekg(l.offset);
    std::string data(1 << 20, '\0');
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<size_t>(in.gcount()));
    if (!data.empty()) chunks.push_back({l.key, l.rank, l.offset, std::move(data)});
  }

  // Capacity: what the partner's own work and down nodes take, node by node.
  std::map<std::string, const NodeInfo*> by_name;
  for (const NodeInfo& n : *nodes) by_name[n.name] = &n;
  std::vector<std::pair<uint32_t, int>> holds;
  std::map<std::string, std::pair<int, int>> capacity;
  for (size_t i = 0; i < pool_nodes_.size(); ++i) {
    const core::Node& node = pool.node(core::NodeId(pool_nodes_[i]));
    const std::string type = pool.catalog().Get(node.shape.type).name;
    auto& [total, free] = capacity[type];
    total += node.shape.devices;
    auto it = by_name.find(engine_names_[i]);
    int held = node.shape.devices;  // a node the engine does not list is not usable
    if (it != by_name.end() && !NodeDown(*it->second)) {
      const int used = std::min(it->second->gpus_used, node.shape.devices);
      held = std::max(0, used - ours_on[engine_names_[i]]);
      free += std::max(0, node.shape.devices - used);
    }
    holds.emplace_back(pool_nodes_[i], held);
  }
  {
    std::lock_guard lock(mu_);
    if (view_.state != "up" && submit_error.empty()) {
      spdlog::info("provider={} engine up ({} node(s))", provider_name_, pool_nodes_.size());
      view_.since_ms = NowMs();
      view_.state = "up";
    }
    view_.message = submit_error;
    view_.last_poll_ms = NowMs();
    view_.devices = capacity;
  }

  plane_.Post([this, events = std::move(events), holds = std::move(holds),
               chunks = std::move(chunks)](ControlPlane& p) -> ControlPlane::Done {
    for (const auto& [node, held] : holds) p.SetEngineHold(core::NodeId(node), held);
    const control::Caller admin{control::Role::kAdmin, "", "slurm:" + provider_name_};
    for (const Chunk& c : chunks) {
      auto kept = p.AppendWorkerLog(admin, c.key.first, c.rank, c.key.second, c.offset, c.data);
      std::lock_guard lock(mu_);
      auto it = attempts_.find(c.key);
      if (it == attempts_.end()) continue;
      if (kept.ok()) {
        it->second.log_offsets[c.rank] = std::max(it->second.log_offsets[c.rank], *kept);
      } else {
        // Refused (a cap, a full disk): skip what was read, keep going.
        it->second.log_offsets[c.rank] = c.offset + static_cast<int64_t>(c.data.size());
      }
    }
    for (const ControlPlane::EngineEvent& e : events) {
      Status s = p.EngineReport(e);
      if (s.code() == StatusCode::kFailedPrecondition) {
        std::lock_guard lock(mu_);
        auto it = attempts_.find({e.job, e.attempt});
        if (it != attempts_.end()) {
          it->second.ended = true;
          it->second.cancel = true;
        }
      } else if (!s.ok()) {
        spdlog::warn("provider={} job={} attempt={}: {}", provider_name_, e.job, e.attempt,
                     s.message());
      }
    }
    return [](const Status&) {};
  });
}

std::vector<std::pair<std::unique_ptr<control::Backend>, core::ProviderId>> MakeSlurmBackends(
    ControlPlane& plane) {
  std::vector<std::pair<std::unique_ptr<control::Backend>, core::ProviderId>> out;
  const core::Pool& pool = plane.pool();
  for (size_t p = 0; p < pool.providers().size(); ++p) {
    const core::Provider& prov = pool.providers()[p];
    if (prov.backend != core::BackendKind::kDelegated || !prov.engine) continue;
    const core::ProviderId id(static_cast<uint32_t>(p));
    out.emplace_back(std::make_unique<SlurmBackend>(plane, id, MakeClient(*prov.engine)), id);
  }
  return out;
}

}  // namespace suanpan::backends::slurm
