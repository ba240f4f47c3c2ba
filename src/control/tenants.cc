// Live administration of tenants (issue 15): the admin makes, changes and retires tenants through
// the API. A change is checked like the pool file (errors name the field and the value), written
// to the store (live_config) in the same commit as its audit record, and applied at once: the
// scheduling host is rebuilt on the changed pool from the live state (running jobs keep their
// devices and the service they attained, queued jobs queue again in the same order, the
// fair-share memory, cordons and engine holds carry over), exactly as a restart would rebuild
// it, so the next round decides as if the pool file had said so from the start. No restart.
//
// The pool file is the bootstrap: at start-up the stored objects override the file's tenants of
// the same name, and tenants made live are appended after the file's in the order they were made.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/pool_file.h"
#include "control/control_plane.h"
#include "control/json_fields.h"

namespace suanpan::control {
namespace {

using Json = nlohmann::json;
constexpr const char* kTenantKind = "tenant";

Json DevicesJson(MilliDevices m) { return Json(core::FormatDevices(m)); }

// Devices from "8", "0.5" or a JSON number, exactly (milli-devices).
StatusOr<MilliDevices> DevicesOf(const Json& v, const std::string& field) {
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_number_integer() || v.is_number_unsigned()) {
    text = v.dump();
  } else if (v.is_number_float()) {
    text = fmt::format("{:.3f}", v.get<double>());
    if (std::abs(std::stod(text) - v.get<double>()) > 1e-9) {
      return FieldError(field, "at most three decimals (milli-devices)");
    }
  } else {
    return FieldError(
        field, fmt::format("must be a number of devices like 8 or \"0.5\", got {}", v.dump()));
  }
  auto m = config::ParseFixed(text, kMilliPerDevice);
  if (!m.ok()) return FieldError(field, m.status().message());
  if (*m < 0) return FieldError(field, fmt::format("must be >= 0, got {}", text));
  return MilliDevices(*m);
}

Json QuotaJson(const core::Pool& pool, const std::vector<core::Quota>& quotas) {
  Json quota = Json::object();
  for (size_t ty = 0; ty < quotas.size(); ++ty) {
    const core::Quota& q = quotas[ty];
    if (q.guaranteed.value() == 0 && q.max == MilliDevices::Max()) continue;
    quota[pool.catalog().Get(core::DeviceTypeId(static_cast<uint16_t>(ty))).name] = {
        {"guaranteed", DevicesJson(q.guaranteed)},
        {"max", q.max == MilliDevices::Max() ? Json(nullptr) : DevicesJson(q.max)}};
  }
  return quota;
}

// {"A100": {"guaranteed": 8, "max": 16}, "H100": null}: the types named change, the rest stay.
Status ApplyQuota(const core::Pool& pool, std::vector<core::Quota>& quotas, const Json& quota,
                  const std::string& prefix) {
  quotas.resize(pool.catalog().size(), core::Quota{});
  if (!quota.is_object()) {
    return FieldError(prefix,
                      "must be an object by device type, like {\"A100\": "
                      "{\"guaranteed\": 8, \"max\": 16}}");
  }
  for (const auto& [type, q] : quota.items()) {
    const std::string field = prefix + "." + type;
    auto id = pool.catalog().Find(type);
    if (!id) return FieldError(field, fmt::format("unknown device type '{}'", type));
    core::Quota& target = quotas[id->value()];
    if (q.is_null()) {  // back to the default: nothing guaranteed, no cap
      target = core::Quota{};
      continue;
    }
    SP_RETURN_IF_ERROR(KnownFields(q, {"guaranteed", "max"}, field));
    if (q.contains("guaranteed")) {
      SP_ASSIGN_OR_RETURN(target.guaranteed, DevicesOf(q["guaranteed"], field + ".guaranteed"));
    }
    if (q.contains("max")) {
      if (q["max"].is_null()) {
        target.max = MilliDevices::Max();
      } else {
        SP_ASSIGN_OR_RETURN(target.max, DevicesOf(q["max"], field + ".max"));
      }
    }
  }
  return OkStatus();
}

StatusOr<int64_t> WeightOf(const Json& w, const std::string& field) {
  if (!w.is_number_integer()) {
    return FieldError(field, fmt::format("must be a whole number 1..1000000, got {}", w.dump()));
  }
  return w.get<int64_t>();
}

// Drops, with a warning, the quotas of types the pool no longer has (restoring stored config).
void DropUnknownTypes(const core::Pool& pool, Json& quota, const std::string& owner) {
  if (!quota.is_object()) return;
  for (auto it = quota.begin(); it != quota.end();) {
    if (!pool.catalog().Find(it.key())) {
      spdlog::warn("{}: the live quota for {} is ignored: the pool has no such type", owner,
                   it.key());
      it = quota.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

Json ProjectConfigJson(const core::Pool& pool, const core::Project& p) {
  return Json{{"name", p.name},
              {"weight", p.weight},
              {"quota", QuotaJson(pool, p.quota)},
              {"retired", p.retired}};
}

Json TenantConfigJson(const core::Pool& pool, const core::Tenant& t) {
  Json out{{"name", t.name},
           {"weight", t.weight},
           {"priority_classes", t.priority_classes},
           {"quota", QuotaJson(pool, t.quota)},
           {"retired", t.retired}};
  // Only when there are any: a tenant without projects is stored as before projects existed.
  if (!t.projects.empty()) {
    Json projects = Json::array();
    for (const core::Project& p : t.projects) projects.push_back(ProjectConfigJson(pool, p));
    out["projects"] = std::move(projects);
  }
  return out;
}

StatusOr<core::Project> ApplyProjectBody(const core::Pool& pool, core::Project p, const Json& body,
                                         const std::string& prefix) {
  if (!body.is_object()) return FieldError(prefix.empty() ? "body" : prefix, "must be an object");
  const std::string at = prefix.empty() ? "" : prefix + ".";
  SP_RETURN_IF_ERROR(KnownFields(body, {"name", "weight", "quota", "retired"}, prefix));
  if (body.contains("weight")) {
    SP_ASSIGN_OR_RETURN(p.weight, WeightOf(body["weight"], at + "weight"));
    if (p.weight < 1 || p.weight > 1'000'000) {
      return FieldError(at + "weight", fmt::format("must be in 1..1000000, got {}", p.weight));
    }
  }
  if (body.contains("retired")) {
    if (!body["retired"].is_boolean()) return FieldError(at + "retired", "must be true or false");
    p.retired = body["retired"].get<bool>();
  }
  p.quota.resize(pool.catalog().size(), core::Quota{});
  if (body.contains("quota")) {
    SP_RETURN_IF_ERROR(ApplyQuota(pool, p.quota, body["quota"], at + "quota"));
    for (size_t ty = 0; ty < p.quota.size(); ++ty) {
      const core::Quota& q = p.quota[ty];
      if (q.max < q.guaranteed) {
        return FieldError(
            fmt::format("{}quota.{}.max", at,
                        pool.catalog().Get(core::DeviceTypeId(static_cast<uint16_t>(ty))).name),
            fmt::format("{} is below guaranteed {}", core::FormatDevices(q.max),
                        core::FormatDevices(q.guaranteed)));
      }
    }
  }
  return p;
}

StatusOr<core::Tenant> ApplyTenantBody(const core::Pool& pool, core::Tenant t, const Json& body) {
  SP_RETURN_IF_ERROR(
      KnownFields(body, {"name", "weight", "priority_classes", "quota", "retired", "projects"}));
  if (body.contains("weight")) {
    SP_ASSIGN_OR_RETURN(t.weight, WeightOf(body["weight"], "weight"));
  }
  if (body.contains("priority_classes")) {
    const Json& pcs = body["priority_classes"];
    if (!pcs.is_array()) {
      return FieldError("priority_classes", "must be a list of priority class names");
    }
    t.priority_classes.clear();
    for (size_t i = 0; i < pcs.size(); ++i) {
      const std::string field = fmt::format("priority_classes[{}]", i);
      if (!pcs[i].is_string()) return FieldError(field, "must be a string");
      const std::string name = pcs[i].get<std::string>();
      if (pool.FindPriorityClass(name) == nullptr) {
        std::string known;
        for (const core::PriorityClass& pc : pool.priority_classes()) {
          known += fmt::format("{}{}", known.empty() ? "" : ", ", pc.name);
        }
        return FieldError(field, fmt::format("unknown priority class '{}' (known: {})", name,
                                             known.empty() ? "none" : known));
      }
      t.priority_classes.push_back(name);
    }
  }
  if (body.contains("retired")) {
    if (!body["retired"].is_boolean()) return FieldError("retired", "must be true or false");
    t.retired = body["retired"].get<bool>();
  }
  t.quota.resize(pool.catalog().size(), core::Quota{});
  if (body.contains("quota")) SP_RETURN_IF_ERROR(ApplyQuota(pool, t.quota, body["quota"], "quota"));
  if (body.contains("projects")) {
    // The whole list, in order (projects are appended and retired, never removed: PutTenant).
    const Json& projects = body["projects"];
    if (!projects.is_array()) {
      return FieldError("projects", "must be a list of projects like [{\"name\": \"vision\"}]");
    }
    std::vector<core::Project> out;
    for (size_t i = 0; i < projects.size(); ++i) {
      const Json& pj = projects[i];
      std::string field = fmt::format("projects[{}]", i);
      if (!pj.is_object() || !pj.contains("name") || !pj["name"].is_string()) {
        return FieldError(field + ".name", "is required (the project's name, a string)");
      }
      core::Project p;
      p.name = pj["name"].get<std::string>();
      for (const core::Project& had : t.projects) {
        if (had.name == p.name) p = had;  // a project given again keeps what it does not say
      }
      SP_ASSIGN_OR_RETURN(p, ApplyProjectBody(pool, std::move(p), pj, "projects." + p.name));
      out.push_back(std::move(p));
    }
    t.projects = std::move(out);
  }
  return t;
}

Status ApplyLiveConfig(core::Pool& pool, const std::vector<store::ConfigRow>& rows) {
  for (const store::ConfigRow& row : rows) {
    if (row.kind != kTenantKind) continue;
    Json body = Json::parse(row.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) {
      return InvalidArgumentError(
          fmt::format("store: live_config tenant '{}': the body is not a JSON object", row.name));
    }
    // The stored body is the tenant's whole state (TenantConfigJson): nothing of the file's entry
    // of that name is kept, so a quota put back to the default stays so.
    core::Tenant base;
    base.name = row.name;
    body.erase("name");
    // What the pool no longer has (a device type or class dropped from the file) is left out,
    // with a warning, so that the tenant and its jobs stay.
    if (body.contains("quota")) {
      DropUnknownTypes(pool, body["quota"], fmt::format("tenant '{}'", row.name));
    }
    if (body.contains("projects") && body["projects"].is_array()) {
      for (Json& p : body["projects"]) {
        if (p.is_object() && p.contains("quota")) {
          DropUnknownTypes(pool, p["quota"],
                           fmt::format("tenant '{}' project {}", row.name, p.value("name", "?")));
        }
      }
    }
    if (body.contains("priority_classes") && body["priority_classes"].is_array()) {
      Json kept = Json::array();
      for (const Json& pc : body["priority_classes"]) {
        if (pc.is_string() && pool.FindPriorityClass(pc.get<std::string>()) == nullptr) {
          spdlog::warn("tenant '{}': priority class '{}' is ignored: the pool has no such class",
                       row.name, pc.get<std::string>());
          continue;
        }
        kept.push_back(pc);
      }
      if (kept.empty() && !body["priority_classes"].empty()) {
        // Dropping them all would widen the tenant to every class.
        return InvalidArgumentError(fmt::format(
            "store: live_config tenant '{}': none of its priority classes {} is in the pool file "
            "any more; add one back to the file",
            row.name, body["priority_classes"].dump()));
      }
      body["priority_classes"] = kept;
    }
    auto t = ApplyTenantBody(pool, std::move(base), body);
    if (t.ok()) {
      auto id = pool.PutTenant(std::move(*t), /*check_guarantees=*/false);
      if (id.ok()) continue;
      t = id.status();
    }
    return t.status().WithPrefix(fmt::format("store: live_config tenant '{}'", row.name));
  }
  return OkStatus();
}

// A quota cut below what is in use, in words: running jobs keep running, new work waits (max),
// the rest counts as borrowed (guaranteed, with `guarantees`). `used` gives the use per type.
void ControlPlane::QuotaCutNotes(const std::vector<core::Quota>& before,
                                 const std::vector<core::Quota>& after,
                                 const std::function<MilliDevices(core::DeviceTypeId)>& used_of,
                                 bool guarantees, std::vector<std::string>& notes) const {
  for (size_t ty = 0; ty < after.size(); ++ty) {
    const core::DeviceTypeId type(static_cast<uint16_t>(ty));
    const std::string& name = pool_->catalog().Get(type).name;
    const MilliDevices used = used_of(type);
    const core::Quota& q = after[ty];
    const core::Quota old = ty < before.size() ? before[ty] : core::Quota{};
    if (q.max < old.max && used > q.max) {
      notes.push_back(fmt::format(
          "{} in use: {}, above the new max {}: its running jobs keep running; new {} work waits "
          "until it fits under {} again",
          name, core::FormatDevices(used), core::FormatDevices(q.max), name,
          core::FormatDevices(q.max)));
    }
    if (guarantees && q.guaranteed < old.guaranteed && used > q.guaranteed) {
      notes.push_back(fmt::format(
          "{} in use: {}, above the new guarantee {}: the rest counts as borrowed and may be "
          "preempted to give other tenants their guarantees",
          name, core::FormatDevices(used), core::FormatDevices(q.guaranteed)));
    }
  }
}

// What a change does to the work there is now, in words.
std::vector<std::string> ControlPlane::TenantChangeNotes(const core::Tenant* before,
                                                         const core::Tenant& after) const {
  std::vector<std::string> notes;
  auto id = pool_->FindTenant(after.name);
  int64_t queued = 0, holding = 0;
  if (id) {
    for (const auto& [jid, j] : jobs_.all()) {
      if (j->spec().tenant != *id) continue;
      queued += j->queued();
      holding += j->holds_devices;
    }
  }
  if (before == nullptr) {
    notes.push_back(
        fmt::format("tenant '{}' is open: give it a tenant admin (suanpan token create NAME --role "
                    "tenant-admin --tenant {}), who makes its members' tokens",
                    after.name, after.name));
    return notes;
  }
  if (after.retired && !before->retired) {
    notes.push_back(fmt::format(
        "retired: new submits are refused; its {} queued and {} running job(s) go on to their end",
        queued, holding));
  } else if (!after.retired && before->retired) {
    notes.push_back("back in service: it takes new jobs again");
  }
  if (after.weight != before->weight) {
    notes.push_back(fmt::format("weight {} -> {}: its fair share changes from the next round",
                                before->weight, after.weight));
  }
  if (id) {
    QuotaCutNotes(
        before->quota, after.quota,
        [&](core::DeviceTypeId type) { return host_->state().TenantUsage(*id, type); },
        /*guarantees=*/true, notes);
  }
  return notes;
}

StatusOr<Json> ControlPlane::PutTenant(const Caller& caller, const std::string& name,
                                       const Json& body, bool create) {
  if (caller.role != Role::kAdmin) {
    return PermissionDeniedError(
        fmt::format("only an admin may {} tenants", create ? "create" : "change"));
  }
  if (!body.is_object()) return FieldError("body", "must be a JSON object");
  auto existing = pool_->FindTenant(name);
  std::optional<core::Tenant> before;
  core::Tenant base;
  base.name = name;
  if (create) {
    if (!ValidName(name)) {
      return FieldError(
          "name", fmt::format("must be 1-64 letters, digits, '-', '_' or '.', got '{}'", name));
    }
    if (existing) {
      return AlreadyExistsError(fmt::format("name: tenant '{}' exists (change it with PATCH "
                                            "/v1/tenants/{}, suanpan tenants set {})",
                                            name, name, name))
          .WithField("name");
    }
  } else {
    if (!existing) return NotFoundError(fmt::format("tenant '{}' not found", name));
    if (body.contains("name") && body["name"] != Json(name)) {
      return FieldError("name", "a tenant cannot be renamed (its jobs and bills carry its name)");
    }
    before = pool_->tenant(*existing);
    base = *before;
  }
  SP_ASSIGN_OR_RETURN(core::Tenant after, ApplyTenantBody(*pool_, base, body));
  after.name = name;
  const Json after_json = TenantConfigJson(*pool_, after);
  std::vector<std::string> notes;
  if (before && TenantConfigJson(*pool_, *before) == after_json) {
    notes.push_back("nothing changed");
  } else {
    notes = TenantChangeNotes(before ? &*before : nullptr, after);
    SP_RETURN_IF_ERROR(CommitTenant(caller, before ? &*before : nullptr, after,
                                    create ? "tenant.create" : "tenant.update", Json::object()));
  }
  SP_ASSIGN_OR_RETURN(TenantView view, Tenant(caller, name));
  return Json{{"tenant", view.name}, {"config", after_json}, {"notes", notes}};
}

Status ControlPlane::CommitTenant(const Caller& caller, const core::Tenant* before,
                                  const core::Tenant& after, const std::string& action,
                                  const Json& audit_extra) {
  const Json before_json = before ? TenantConfigJson(*pool_, *before) : Json(nullptr);
  const Json after_json = TenantConfigJson(*pool_, after);
  SP_RETURN_IF_ERROR(pool_->PutTenant(after).status());
  const int64_t now = clock_.NowMs();
  // The first live change of a tenant (made live, or from the pool file) gives it its seq.
  auto [seq, fresh] = config_seq_.try_emplace(after.name, next_config_seq_);
  if (fresh) ++next_config_seq_;
  batch_.config.push_back(
      store::ConfigRow{kTenantKind, after.name, seq->second, after_json.dump(), now});
  Json audit{{"tenant", after.name}, {"before", before_json}, {"after", after_json}};
  audit.update(audit_extra);
  billing_.Audit(caller.token_name, action, audit, now, batch_);
  RebuildHost();
  spdlog::info("tenant '{}': {} by token '{}'", after.name, action, caller.token_name);
  return OkStatus();
}

StatusOr<Json> ControlPlane::PutProject(const Caller& caller, const std::string& tenant,
                                        const std::string& project, const Json& body, bool create) {
  if (caller.role == Role::kTenant && caller.tenant_admin()) {
    if (caller.scope != tenant) return NotFoundError(fmt::format("tenant '{}' not found", tenant));
  } else if (caller.role != Role::kAdmin) {
    return PermissionDeniedError(
        fmt::format("only an admin or the tenant's tenant admin may {} projects",
                    create ? "create" : "change"));
  }
  if (!body.is_object()) return FieldError("body", "must be a JSON object");
  auto tid = pool_->FindTenant(tenant);
  if (!tid) return NotFoundError(fmt::format("tenant '{}' not found", tenant));
  const core::Tenant before = pool_->tenant(*tid);
  core::Tenant after = before;
  auto pid = pool_->FindProject(*tid, project);
  core::Project base;
  base.name = project;
  if (create) {
    if (!ValidName(project)) {
      return FieldError("name", fmt::format("must be 1-64 letters, digits, '-', '_' or '.', got "
                                            "'{}'",
                                            project));
    }
    if (pid) {
      return AlreadyExistsError(fmt::format("name: project '{}/{}' exists (change it with PATCH "
                                            "/v1/tenants/{}/projects/{}, suanpan projects set "
                                            "{}/{})",
                                            tenant, project, tenant, project, tenant, project))
          .WithField("name");
    }
  } else {
    if (!pid) return NotFoundError(fmt::format("project '{}/{}' not found", tenant, project));
    base = before.projects[pid->value()];
  }
  if (body.contains("name") && body["name"] != Json(project)) {
    return FieldError("name", create ? "must match the project in the path"
                                     : "a project cannot be renamed (its jobs carry its name)");
  }
  SP_ASSIGN_OR_RETURN(core::Project changed, ApplyProjectBody(*pool_, base, body, ""));
  if (pid) {
    after.projects[pid->value()] = changed;
  } else {
    after.projects.push_back(changed);
  }
  std::vector<std::string> notes;
  const Json after_json = ProjectConfigJson(*pool_, changed);
  if (!create && ProjectConfigJson(*pool_, base) == after_json) {
    notes.push_back("nothing changed");
  } else {
    notes = ProjectChangeNotes(*tid, pid, create ? nullptr : &base, changed);
    SP_RETURN_IF_ERROR(CommitTenant(caller, &before, after,
                                    create ? "project.create" : "project.update",
                                    Json{{"project", project}}));
  }
  return Json{{"tenant", tenant}, {"project", project}, {"config", after_json}, {"notes", notes}};
}

std::vector<std::string> ControlPlane::ProjectChangeNotes(core::TenantId tenant,
                                                          std::optional<core::ProjectId> id,
                                                          const core::Project* before,
                                                          const core::Project& after) const {
  std::vector<std::string> notes;
  const std::string& tname = pool_->tenant(tenant).name;
  if (before == nullptr) {
    notes.push_back(fmt::format(
        "project '{}/{}' is open: its members submit with --project {} (suanpan token create "
        "NAME --tenant {} --projects {} makes a member's token for it)",
        tname, after.name, after.name, tname, after.name));
    return notes;
  }
  int64_t queued = 0, holding = 0;
  for (const auto& [jid, j] : jobs_.all()) {
    if (j->spec().tenant != tenant || j->spec().project != id) continue;
    queued += j->queued();
    holding += j->holds_devices;
  }
  if (after.retired && !before->retired) {
    notes.push_back(fmt::format(
        "retired: new submits to it are refused; its {} queued and {} running job(s) go on to "
        "their end; its guarantee returns to the tenant",
        queued, holding));
  } else if (!after.retired && before->retired) {
    notes.push_back("back in service: it takes new jobs again");
  }
  if (after.weight != before->weight) {
    notes.push_back(
        fmt::format("weight {} -> {}: its share inside the tenant changes from the next round",
                    before->weight, after.weight));
  }
  const core::QueueId queue = pool_->QueueOf(tenant, id);
  QuotaCutNotes(
      before->quota, after.quota,
      [&](core::DeviceTypeId type) { return host_->state().QueueUsage(queue, type); },
      /*guarantees=*/false, notes);
  return notes;
}

void ControlPlane::RebuildHost() {
  const Time now = Now();
  auto scheduler = sched::Scheduler::Create(options_.policy);
  SP_CHECK(scheduler.ok()) << scheduler.status().ToString();  // it was created once already
  std::unique_ptr<sched::Host> old = std::move(host_);
  host_ = std::make_unique<sched::Host>(*pool_, std::move(*scheduler));
  host_->usage_memory().Adopt(old->usage_memory());
  // Nodes out of service first, as at recovery, then the jobs that hold devices, then what
  // engines hold of the devices left free.
  for (size_t n = 0; n < pool_->nodes().size(); ++n) {
    const core::NodeId id(static_cast<uint32_t>(n));
    if (old->Cordoned(id)) host_->Cordon(id, now);
  }
  for (const auto& [id, record] : jobs_.all()) {
    JobRecord& j = *record;
    if (!j.holds_devices || j.runs.empty() || j.runs.back().end_ms) continue;
    auto alloc = ParsePlacement(*pool_, host_->state(), j.runs.back());
    SP_CHECK(alloc.has_value()) << "job " << id << ": its placement does not parse";
    host_->Resume(j.decoded.spec, *alloc, Time(j.runs.back().start_ms / 1000), AttainedService(j));
  }
  for (size_t n = 0; n < pool_->nodes().size(); ++n) {
    const core::NodeId id(static_cast<uint32_t>(n));
    if (const int held = old->ExternallyHeld(id); held > 0) host_->HoldExternal(id, held, now);
  }
  for (const auto& [id, record] : jobs_.all()) {
    if (record->queued()) host_->Submit(record->decoded.spec, now, AttainedService(*record));
  }
  RefreshFunds(clock_.NowMs());
  explain_cache_ = {};
  dirty_ = true;
}

}  // namespace suanpan::control
