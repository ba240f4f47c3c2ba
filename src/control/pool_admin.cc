// The live configuration as a pool file, and a pool file against the live configuration
// (issue 15): `suanpan pool export` writes what the hub runs now (the pool file's structure with
// every tenant and project as changed live, and the prices in force), and `suanpan pool apply
// FILE [--dry-run]` shows what a file would change and what that does to running and queued work,
// then (without --dry-run) applies the tenant and project changes live, through the same checks,
// store and audit as `suanpan tenants` / `suanpan projects`. Providers, clusters, node groups,
// priority classes and the policy are not changed live yet: the answer names each difference
// and says it takes a restart with the file.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>

#include "config/pool_file.h"
#include "control/control_plane.h"

namespace suanpan::control {
namespace {

using Json = nlohmann::json;

// Leaves of a tenant's config by path, projects by name (projects.vision.weight).
void Flatten(const Json& j, const std::string& path, std::map<std::string, std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) Flatten(v, path.empty() ? k : path + "." + k, out);
    return;
  }
  if (j.is_array() && !j.empty() && j[0].is_object() && j[0].contains("name")) {
    for (const Json& e : j) {
      Json rest = e;
      const std::string name = rest.value("name", "?");
      rest.erase("name");
      Flatten(rest, path + "." + name, out);
    }
    return;
  }
  out[path] = j.is_string() ? j.get<std::string>() : j.dump();
}

std::vector<std::string> Changes(const Json& before, const Json& after) {
  std::map<std::string, std::string> b, a;
  Flatten(before, "", b);
  Flatten(after, "", a);
  std::map<std::string, std::pair<std::string, std::string>> all;
  for (const auto& [k, v] : b) all[k].first = v;
  for (const auto& [k, v] : a) all[k].second = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : all) {
    if (k == "name" || v.first == v.second) continue;
    out.push_back(fmt::format("{} {} -> {}", k, v.first.empty() ? "-" : v.first,
                              v.second.empty() ? "-" : v.second));
  }
  return out;
}

// The pool file's sections other than tenants, by a key: "policy", "priority_classes",
// "device_types", "providers 'NAME'".
std::map<std::string, std::string> Sections(const std::string& text) {
  std::map<std::string, std::string> out;
  std::string key, body;
  auto flush = [&] {
    if (!key.empty()) out[key] += body;
    body.clear();
  };
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(at, nl - at);
    at = nl + 1;
    if (line == "[[tenants]]") break;
    if (line == "[policy]" || line == "[[priority_classes]]" || line == "[[device_types]]" ||
        line == "[[providers]]") {
      flush();
      key = line == "[policy]"               ? "policy"
            : line == "[[priority_classes]]" ? "priority classes"
            : line == "[[device_types]]"     ? "device types"
                                             : "";
    } else if (key.empty() && line.starts_with("name = ")) {
      key = "provider " + line.substr(7);
    }
    body += line + "\n";
  }
  flush();
  return out;
}

}  // namespace

config::PriceLookup ControlPlane::LivePrices() const {
  const int64_t now = clock_.NowMs();
  return [this, now](core::ProviderId p, core::DeviceTypeId t, std::optional<MicroYuan> in_pool) {
    if (!in_pool) return in_pool;  // a type the provider does not price
    auto live = billing_.PriceAt(p, t, now);
    return live ? live : in_pool;
  };
}

StatusOr<std::string> ControlPlane::ExportPool(const Caller& caller) const {
  if (caller.role != Role::kAdmin) {
    return PermissionDeniedError("only an admin may export the pool");
  }
  return config::WritePool(
      *pool_, options_.policy,
      fmt::format("suanpan pool export, {}: the live configuration (tenants and projects as\n"
                  "changed on the running server, prices in force now). A pool file: suanpan\n"
                  "server --pool reads it; suanpan pool apply compares a file with it.",
                  FormatTimeMs(clock_.NowMs())),
      LivePrices());
}

StatusOr<Json> ControlPlane::ApplyPool(const Caller& caller, const std::string& text,
                                       const std::string& name, bool dry_run) {
  if (caller.role != Role::kAdmin) {
    return PermissionDeniedError("only an admin may apply a pool file");
  }
  auto file = config::ParsePool(text, name.empty() ? "pool.toml" : name);
  if (!file.ok()) return file.status().WithField("file");
  const core::Pool& next = file->pool;

  // Tenants and projects: checked one after the other on a scratch copy of the live pool (the
  // guarantees of all of them together), as they would be applied.
  core::Pool scratch = *pool_;
  struct Change {
    std::optional<core::Tenant> before;
    core::Tenant after;
  };
  std::vector<Change> changes;
  Json tenants = Json::array();
  for (const core::Tenant& t : next.tenants()) {
    auto live = pool_->FindTenant(t.name);
    Json row{{"tenant", t.name}};
    core::Tenant base;
    base.name = t.name;
    if (live) base = pool_->tenant(*live);
    // Through the API's reader: types and classes by name, against the live pool.
    Json body = TenantConfigJson(next, t);
    body.erase("name");
    if (!body.contains("projects") && !base.projects.empty()) body["projects"] = Json::array();
    auto after = ApplyTenantBody(*pool_, base, body);
    if (!after.ok()) return after.status().WithPrefix(fmt::format("tenants '{}'", t.name));
    after->name = t.name;
    const Json before_json = live ? TenantConfigJson(*pool_, base) : Json(nullptr);
    const Json after_json = TenantConfigJson(*pool_, *after);
    if (live && before_json == after_json) {
      row["action"] = "unchanged";
      tenants.push_back(std::move(row));
      continue;
    }
    if (Status s = scratch.PutTenant(*after).status(); !s.ok()) {
      return s.WithPrefix(fmt::format("tenants '{}'", t.name));
    }
    row["action"] = live ? "change" : "create";
    row["changes"] = live ? Json(Changes(before_json, after_json)) : Json::array();
    row["notes"] = TenantChangeNotes(live ? &base : nullptr, *after);
    tenants.push_back(std::move(row));
    changes.push_back({live ? std::optional<core::Tenant>(base) : std::nullopt, *after});
  }
  for (const core::Tenant& t : pool_->tenants()) {
    if (next.FindTenant(t.name)) continue;
    tenants.push_back(Json{
        {"tenant", t.name},
        {"action", "not in the file"},
        {"notes",
         Json::array({fmt::format("left as it is (a file does not remove tenants: retire it with "
                                  "suanpan tenants retire {})",
                                  t.name)})}});
  }

  // The rest: named, not applied live.
  Json restart = Json::array();
  const auto live_sections = Sections(config::WritePool(*pool_, options_.policy, "", LivePrices()));
  const auto file_sections = Sections(config::WritePool(next, file->policy));
  // The policy is live: its changes are shown (and applied) like a tenant's.
  const Json policy_changes = Changes(PolicyJson(options_.policy), PolicyJson(file->policy));
  for (const auto& [key, body] : file_sections) {
    if (key == "policy") continue;
    auto it = live_sections.find(key);
    if (it == live_sections.end()) {
      restart.push_back(fmt::format("{}: new in the file", key));
    } else if (it->second != body) {
      restart.push_back(fmt::format("{}: differs from the live pool", key));
    }
  }
  for (const auto& [key, body] : live_sections) {
    if (key != "policy" && !file_sections.count(key)) {
      restart.push_back(fmt::format("{}: not in the file", key));
    }
  }
  // Nodes the file would no longer have, with the work on them.
  int64_t gone = 0;
  for (size_t n = 0; n < pool_->nodes().size(); ++n) {
    const core::Node& node = pool_->nodes()[n];
    if (next.FindNode(node.name)) continue;
    ++gone;
    const size_t jobs = host_->JobsOn(core::NodeId(static_cast<uint32_t>(n))).size();
    if (jobs > 0) {
      restart.push_back(fmt::format(
          "node {} is not in the file and runs {} job(s): let them end (or cancel them) before "
          "restarting with the file",
          node.name, jobs));
    }
  }
  if (gone > 0)
    restart.push_back(fmt::format("{} node(s) of the live pool are not in the file", gone));

  Json out{
      {"dry_run", dry_run}, {"tenants", tenants}, {"policy", policy_changes}, {"restart", restart}};
  if (!dry_run) {
    if (!policy_changes.empty()) {
      SP_RETURN_IF_ERROR(PutPolicy(caller, PolicyJson(file->policy)).status());
    }
    for (const Change& c : changes) {
      SP_RETURN_IF_ERROR(CommitTenant(caller, c.before ? &*c.before : nullptr, c.after,
                                      c.before ? "tenant.update" : "tenant.create",
                                      Json{{"via", "pool apply"}}));
    }
    spdlog::info("pool apply by token '{}': {} tenant change(s)", caller.token_name,
                 changes.size());
  }
  out["applied"] = dry_run ? 0 : changes.size();
  return out;
}

}  // namespace suanpan::control

namespace suanpan::control {
namespace {

constexpr const char* kPolicyKind = "policy";

std::string HoursText(Seconds s) {
  const int64_t milli_hours = s.value() * 1000 / 3600;
  std::string out = fmt::format("{}.{:03}", milli_hours / 1000, milli_hours % 1000);
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

nlohmann::json PolicyJson(const sched::PolicyConfig& p) {
  return nlohmann::json{{"queue", p.queue},
                        {"placement", p.placement},
                        {"preemption", p.preemption},
                        {"backfill", p.backfill},
                        {"blocking", p.blocking},
                        {"fair_share_half_life_hours", HoursText(p.fair_share_half_life)},
                        {"las_thresholds_device_seconds", p.las_thresholds}};
}

StatusOr<sched::PolicyConfig> ApplyPolicyBody(sched::PolicyConfig p, const nlohmann::json& body) {
  using Json = nlohmann::json;
  if (!body.is_object()) return FieldError("body", "must be a JSON object");
  for (const auto& [k, v] : body.items()) {
    if (k == "queue" || k == "placement") {
      if (!v.is_string()) return FieldError(k, "must be a string");
      (k == "queue" ? p.queue : p.placement) = v.get<std::string>();
    } else if (k == "preemption" || k == "backfill" || k == "blocking") {
      if (!v.is_boolean()) return FieldError(k, "must be true or false");
      (k == "preemption" ? p.preemption
       : k == "backfill" ? p.backfill
                         : p.blocking) = v.get<bool>();
    } else if (k == "fair_share_half_life_hours") {
      std::string text = v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : "";
      auto milli = config::ParseFixed(text, 1000);
      if (!milli.ok() || *milli <= 0 || *milli > int64_t{1'000'000'000}) {
        return FieldError(k, fmt::format("must be hours in (0, 1000000], got {}", v.dump()));
      }
      p.fair_share_half_life = Seconds(*milli * 3600 / 1000);
    } else if (k == "las_thresholds_device_seconds") {
      if (!v.is_array()) return FieldError(k, "must be a list of device-seconds");
      p.las_thresholds.clear();
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_number_integer()) {
          return FieldError(fmt::format("{}[{}]", k, i), "must be an integer");
        }
        p.las_thresholds.push_back(v[i].get<int64_t>());
      }
    } else {
      return FieldError(k,
                        "unknown field (known: queue, placement, preemption, backfill, blocking, "
                        "fair_share_half_life_hours, las_thresholds_device_seconds)");
    }
  }
  if (Status s = sched::ValidatePolicyConfig(p); !s.ok()) {
    // "policy.queue: unknown policy ..." names the field "queue".
    std::string_view m = s.message();
    if (m.starts_with("policy.")) m.remove_prefix(7);
    const std::string field(m.substr(0, m.find_first_of(":[")));
    return FieldError(field, std::string(m.substr(m.find(':') + 2)));
  }
  (void)Json();
  return p;
}

Status ApplyLivePolicy(sched::PolicyConfig& policy, const std::vector<store::ConfigRow>& rows) {
  for (const store::ConfigRow& row : rows) {
    if (row.kind != kPolicyKind) continue;
    const nlohmann::json body = nlohmann::json::parse(row.body, nullptr, false);
    auto p = ApplyPolicyBody(policy, body);
    if (!p.ok()) return p.status().WithPrefix("store: live_config policy");
    policy = *p;
  }
  return OkStatus();
}

StatusOr<nlohmann::json> ControlPlane::Policy(const Caller& caller) const {
  if (caller.role == Role::kAgent || caller.role == Role::kPartner) {
    return PermissionDeniedError(
        fmt::format("role {} may not read the policy", CallerRoleName(caller)));
  }
  return PolicyJson(options_.policy);
}

StatusOr<nlohmann::json> ControlPlane::PutPolicy(const Caller& caller, const nlohmann::json& body) {
  if (caller.role != Role::kAdmin) return PermissionDeniedError("only an admin may set the policy");
  SP_ASSIGN_OR_RETURN(sched::PolicyConfig next, ApplyPolicyBody(options_.policy, body));
  const nlohmann::json before = PolicyJson(options_.policy), after = PolicyJson(next);
  std::vector<std::string> notes;
  if (before == after) {
    notes.push_back("nothing changed");
  } else {
    notes.push_back(
        "in force from the next round: queued jobs are ordered, placed and preempted by it; "
        "running jobs keep their devices (what they attained counts under the new policy)");
    const int64_t now = clock_.NowMs();
    auto [seq, fresh] = config_seq_.try_emplace(std::string("policy:policy"), next_config_seq_);
    if (fresh) ++next_config_seq_;
    batch_.config.push_back(
        store::ConfigRow{kPolicyKind, "policy", seq->second, after.dump(), now});
    billing_.Audit(caller.token_name, "policy.update",
                   nlohmann::json{{"policy", "scheduling"}, {"before", before}, {"after", after}},
                   now, batch_);
    next.wait_details = options_.policy.wait_details;
    next.estimate_depth = 0;
    options_.policy = next;
    RebuildHost();
    spdlog::info("policy {}/{} set by token '{}'", next.queue, next.placement, caller.token_name);
  }
  return nlohmann::json{{"policy", after}, {"notes", notes}};
}

}  // namespace suanpan::control
