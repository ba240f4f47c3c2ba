#include "control/job_table.h"

#include <algorithm>

namespace suanpan::control {

using Json = nlohmann::json;

JobRecord& JobTable::Add(std::unique_ptr<JobRecord> record) {
  const uint64_t id = record->id();
  SeeId(id);
  JobRecord& r = *record;
  jobs_[id] = std::move(record);
  return r;
}

JobRecord* JobTable::Find(uint64_t id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second.get();
}

const JobRecord* JobTable::Find(uint64_t id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second.get();
}

std::optional<uint64_t> JobTable::ByRequest(const std::string& tenant,
                                            const std::string& key) const {
  auto it = by_request_.find({tenant, key});
  if (it == by_request_.end()) return std::nullopt;
  return it->second;
}

void JobTable::RememberRequest(const std::string& tenant, const std::string& key, uint64_t id) {
  by_request_[{tenant, key}] = id;
}

void JobTable::AddEvent(JobRecord& job, std::string kind, std::string message) {
  store::EventRow e;
  e.job_id = job.id();
  e.seq = static_cast<int64_t>(job.events.size()) + 1;
  e.time_ms = clock_.NowMs();
  e.kind = std::move(kind);
  e.message = std::move(message);
  batch_.events.push_back(e);
  job.events.push_back(std::move(e));
}

void JobTable::Save(const JobRecord& job) {
  store::JobRow r;
  r.id = job.id();
  r.tenant = pool_.tenant(job.spec().tenant).name;
  r.name = job.spec().name;
  r.state = std::string(core::JobStateName(job.state));
  r.spec = job.spec_json.dump();
  r.submit_ms = job.submit_ms;
  r.updated_ms = job.updated_ms;
  r.attempts = job.attempts;
  r.reason = job.reason;
  r.request_id = job.request_id;
  r.exit_code = job.exit_code;
  r.submitted_by = job.submitted_by;
  batch_.jobs.push_back(std::move(r));
}

void JobTable::SetState(JobRecord& job, core::JobState to, std::string reason) {
  auto next = core::Transition(job.state, to);
  SP_CHECK(next.ok()) << next.status().ToString();
  const bool was_queued = job.queued();
  job.state = to;
  job.reason = std::move(reason);
  job.updated_ms = clock_.NowMs();
  if (job.queued() && !was_queued) job.queued_ms = job.updated_ms;
  if (core::IsTerminal(to)) job.earliest_start_ms.reset();
  Save(job);
}

sched::JobHistory AttainedService(const JobRecord& job) {
  sched::JobHistory history;
  for (const store::RunRow& r : job.runs) {
    if (!r.end_ms) continue;
    const int64_t secs = std::max<int64_t>(0, *r.end_ms / 1000 - r.start_ms / 1000);
    history.attained_milli += r.devices_milli * secs;
    history.executed += secs;
  }
  return history;
}

RunView RunOf(const store::RunRow& r) {
  RunView v;
  v.attempt = r.attempt;
  v.provider = r.provider;
  v.cluster = r.cluster;
  v.device_type = r.device_type;
  v.start_ms = r.start_ms;
  v.end_ms = r.end_ms;
  const Json workers = Json::parse(r.placement, nullptr, false);
  if (workers.is_array()) {
    for (const Json& w : workers) {
      if (!w.is_object()) continue;
      WorkerPlacementView p;
      p.node = w.value("node", "");
      for (const Json& d : w.value("devices", Json::array())) {
        if (d.is_number_integer()) p.devices.push_back(d.get<int>());
      }
      p.share = w.value("share", int64_t{1000});
      p.cpu = w.value("cpu", int64_t{0});
      p.memory = w.value("memory", int64_t{0});
      v.workers.push_back(std::move(p));
    }
  }
  return v;
}

JobView JobTable::View(const JobRecord& j) const {
  const core::JobSpec& s = j.spec();
  JobView v;
  v.id = s.id.value();
  v.name = s.name;
  v.tenant = pool_.tenant(s.tenant).name;
  v.user = j.submitted_by;
  if (s.project) v.project = pool_.tenant(s.tenant).projects[s.project->value()].name;
  v.state = j.state;
  v.reason = j.reason;
  v.submit_ms = j.submit_ms;
  v.updated_ms = j.updated_ms;
  v.attempts = j.attempts;
  v.devices = core::FormatDevices(s.TotalShare());
  v.spec = j.spec_json;
  v.exit_code = j.exit_code;
  v.earliest_start_ms = j.earliest_start_ms;
  if (!j.runs.empty()) v.placement = RunOf(j.runs.back());
  return v;
}

std::string PlacementJson(const core::Pool& pool, const sched::Allocation& allocation) {
  Json workers = Json::array();
  for (const sched::WorkerPlacement& w : allocation.workers) {
    Json devices = Json::array();
    for (int i = 0; i < 64; ++i) {
      if (w.devices & (uint64_t{1} << i)) devices.push_back(i);
    }
    workers.push_back({{"node", pool.node(w.node).name},
                       {"devices", devices},
                       {"share", w.per_device.value()},
                       {"cpu", w.cpu.value()},
                       {"memory", w.memory.value()}});
  }
  return workers.dump();
}

std::optional<sched::Allocation> ParsePlacement(const core::Pool& pool,
                                                const sched::ClusterState& state,
                                                const store::RunRow& run) {
  const Json workers = Json::parse(run.placement, nullptr, false);
  if (!workers.is_array()) return std::nullopt;
  auto cluster = std::find_if(pool.clusters().begin(), pool.clusters().end(),
                              [&](const core::Cluster& c) { return c.name == run.cluster; });
  auto type = pool.catalog().Find(run.device_type);
  if (cluster == pool.clusters().end() || !type) return std::nullopt;
  auto segment = state.FindSegment(
      core::ClusterId(static_cast<size_t>(cluster - pool.clusters().begin())), *type);
  if (!segment) return std::nullopt;
  sched::Allocation alloc;
  alloc.segment = *segment;
  for (const Json& w : workers) {
    if (!w.is_object() || !w.contains("node") || !w["node"].is_string()) return std::nullopt;
    auto node = pool.FindNode(w["node"].get<std::string>());
    if (!node) return std::nullopt;
    sched::WorkerPlacement p;
    p.node = *node;
    if (state.SegmentOfNode(p.node) != *segment) return std::nullopt;
    for (const Json& d : w.value("devices", Json::array())) {
      if (!d.is_number_integer()) return std::nullopt;
      const int i = d.get<int>();
      if (i < 0 || i >= pool.node(p.node).shape.devices) return std::nullopt;
      p.devices |= uint64_t{1} << i;
    }
    p.per_device = MilliDevices(w.value("share", int64_t{1000}));
    p.cpu = MilliCpu(w.value("cpu", int64_t{0}));
    p.memory = MiB(w.value("memory", int64_t{0}));
    alloc.workers.push_back(p);
  }
  return alloc;
}

}  // namespace suanpan::control
