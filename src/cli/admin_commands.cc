#include "cli/admin_commands.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <tuple>

#include "cli/client_output.h"
#include "cli/table.h"
#include "client/http_client.h"
#include "config/pool_file.h"

namespace suanpan::cli {

using Json = nlohmann::json;
using client::UrlEncode;

StatusOr<Json> QuotaFlags(const std::vector<std::string>& flags) {
  Json quota = Json::object();
  for (const std::string& f : flags) {
    auto bad = [&](const std::string& why) {
      return InvalidArgumentError(fmt::format(
          "--quota '{}': {} (write TYPE=GUARANTEED[:MAX], e.g. A100=8:16, A100=:16, A100=8:-, "
          "A100=none)",
          f, why));
    };
    const size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) return bad("no TYPE=");
    const std::string type = f.substr(0, eq), value = f.substr(eq + 1);
    if (value.empty()) return bad("nothing after '='");
    if (value == "none") {
      quota[type] = nullptr;
      continue;
    }
    Json q = Json::object();
    const size_t colon = value.find(':');
    const std::string g = value.substr(0, colon);
    if (!g.empty()) q["guaranteed"] = g;
    if (colon != std::string::npos) {
      const std::string m = value.substr(colon + 1);
      if (m.empty()) return bad("nothing after ':'");
      q["max"] = m == "-" ? Json(nullptr) : Json(m);
    }
    quota[type] = q;
  }
  return quota;
}

namespace {

// The body of a tenant's or project's change: retire/unretire, or the weight and quota flags.
StatusOr<Json> ChangeBody(const std::string& action, const std::optional<int64_t>& weight,
                          const std::vector<std::string>& quota_flags) {
  Json body = Json::object();
  if (action == "retire" || action == "unretire") {
    body["retired"] = action == "retire";
    return body;
  }
  if (weight) body["weight"] = *weight;
  if (!quota_flags.empty()) {
    SP_ASSIGN_OR_RETURN(body["quota"], QuotaFlags(quota_flags));
  }
  return body;
}

void PrintChange(std::FILE* out, const Json& r, const std::string& what) {
  std::fprintf(out, "tenant %s %s\n", Str(r, "tenant").c_str(), what.c_str());
  const Json& c = r["config"];
  std::string quotas;
  for (const auto& [type, q] : c["quota"].items()) {
    quotas += fmt::format("{}{} {}/{}", quotas.empty() ? "" : ", ", type, Str(q, "guaranteed"),
                          q["max"].is_null() ? "-" : Str(q, "max"));
  }
  std::string classes;
  for (const Json& pc : c["priority_classes"]) {
    classes += fmt::format("{}{}", classes.empty() ? "" : ",", pc.get<std::string>());
  }
  std::fprintf(out, "  weight %s; quota (guaranteed/max) %s; priority classes %s%s\n",
               Str(c, "weight").c_str(), quotas.empty() ? "none" : quotas.c_str(),
               classes.empty() ? "all" : classes.c_str(),
               c["retired"].get<bool>() ? "; retired" : "");
  for (const Json& n : r["notes"]) std::fprintf(out, "  - %s\n", n.get<std::string>().c_str());
}

}  // namespace

int RunTenantAdmin(const ClientFlags& flags, const TenantOptions& o, std::FILE* out,
                   std::FILE* err) {
  if (o.action.empty() || o.action == "list") return RunTenants(flags, out, err);
  if (o.name.empty()) {
    return Error(err,
                 InvalidArgumentError(fmt::format(
                     "tenants {}: name the tenant (suanpan tenants {} NAME)", o.action, o.action)));
  }
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  auto change = ChangeBody(o.action, o.weight, o.quota);
  if (!change.ok()) return Error(err, change.status());
  Json body = std::move(*change);
  if (o.action != "retire" && o.action != "unretire" && o.priority_classes) {
    body["priority_classes"] = *o.priority_classes;
  }
  StatusOr<Json> r = Json();
  if (o.action == "create") {
    body["name"] = o.name;
    r = (*client)->Call("POST", "/v1/tenants", body);
  } else {
    r = (*client)->Call("PATCH", "/v1/tenants/" + UrlEncode(o.name), body);
  }
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  const std::string what = o.action == "create"     ? "created"
                           : o.action == "retire"   ? "retired"
                           : o.action == "unretire" ? "back in service"
                                                    : "changed";
  PrintChange(out, *r, what);
  return 0;
}

namespace {

std::string QuotaText(const Json& quotas) {
  std::string out;
  for (const Json& q : quotas) {
    out +=
        fmt::format("{}{} {}/{}/{}", out.empty() ? "" : ", ", Str(q, "device_type"), Str(q, "used"),
                    Str(q, "guaranteed"), q["max"].is_null() ? "-" : Str(q, "max"));
  }
  return out.empty() ? "-" : out;
}

}  // namespace

int RunProjects(const ClientFlags& flags, const ProjectOptions& o, std::FILE* out, std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  if (o.action.empty() || o.action == "list") {
    auto r = (*client)->Call("GET", "/v1/tenants");
    if (!r.ok()) return Error(err, r.status());
    Json items = Json::array();
    bool found = o.name.empty();
    for (const Json& t : (*r)["items"]) {
      if (!o.name.empty() && Str(t, "name") != o.name) continue;
      found = true;
      for (Json p : t["projects"]) {
        p["tenant"] = t["name"];
        items.push_back(std::move(p));
      }
    }
    if (!found) return Error(err, NotFoundError(fmt::format("tenant '{}' not found", o.name)));
    if (flags.output == "json") {
      PrintJson(out, Json{{"items", items}});
      return 0;
    }
    Table t({"TENANT", "PROJECT", "STATE", "WEIGHT", "QUEUED", "HOLDING",
             "QUOTAS (type used/guaranteed/max)"},
            {false, false, false, true, true, true, false});
    for (const Json& p : items) {
      t.Add({Str(p, "tenant"), Str(p, "name"), p.value("retired", false) ? "retired" : "active",
             Str(p, "weight"), Str(p, "queued_jobs"), Str(p, "jobs_holding_devices"),
             QuotaText(p["quotas"])});
    }
    std::fputs(t.Render(TerminalWidth()).c_str(), out);
    return 0;
  }
  std::string tenant, project = o.name;
  if (const size_t slash = o.name.find('/'); slash != std::string::npos) {
    tenant = o.name.substr(0, slash);
    project = o.name.substr(slash + 1);
  }
  if (project.empty()) {
    return Error(err, InvalidArgumentError(fmt::format(
                          "projects {}: name the project (suanpan projects {} TENANT/PROJECT)",
                          o.action, o.action)));
  }
  if (tenant.empty()) {
    // A tenant token's own tenant: the one tenant it reads.
    auto r = (*client)->Call("GET", "/v1/tenants");
    if (!r.ok()) return Error(err, r.status());
    if ((*r)["items"].size() != 1) {
      return Error(err, InvalidArgumentError(fmt::format(
                            "projects {}: write TENANT/{} (this token reads {} tenants)", o.action,
                            project, (*r)["items"].size())));
    }
    tenant = Str((*r)["items"][0], "name");
  }
  auto change = ChangeBody(o.action, o.weight, o.quota);
  if (!change.ok()) return Error(err, change.status());
  Json body = std::move(*change);
  StatusOr<Json> r = Json();
  if (o.action == "create") {
    body["name"] = project;
    r = (*client)->Call("POST", "/v1/tenants/" + UrlEncode(tenant) + "/projects", body);
  } else {
    r = (*client)->Call(
        "PATCH", "/v1/tenants/" + UrlEncode(tenant) + "/projects/" + UrlEncode(project), body);
  }
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  const std::string what = o.action == "create"     ? "created"
                           : o.action == "retire"   ? "retired"
                           : o.action == "unretire" ? "back in service"
                                                    : "changed";
  const Json& c = (*r)["config"];
  std::string quotas;
  for (const auto& [type, q] : c["quota"].items()) {
    quotas += fmt::format("{}{} {}/{}", quotas.empty() ? "" : ", ", type, Str(q, "guaranteed"),
                          q["max"].is_null() ? "-" : Str(q, "max"));
  }
  std::fprintf(out, "project %s/%s %s\n", tenant.c_str(), project.c_str(), what.c_str());
  std::fprintf(out, "  weight %s; quota (guaranteed/max) %s%s\n", Str(c, "weight").c_str(),
               quotas.empty() ? "none (the tenant's)" : quotas.c_str(),
               c["retired"].get<bool>() ? "; retired" : "");
  for (const Json& n : (*r)["notes"]) std::fprintf(out, "  - %s\n", n.get<std::string>().c_str());
  return 0;
}

int RunPool(const ClientFlags& flags, const PoolOptions& o, std::FILE* out, std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  if (o.action == "export") {
    // A TOML answer (not JSON): the raw body; errors are JSON as everywhere.
    auto sent = (*client)->Send("GET", "/v1/pool/export");
    if (!sent.ok()) return Error(err, sent.status());
    if (sent->status != 200) {
      auto r = (*client)->Call("GET", "/v1/pool/export");
      return Error(err, r.ok() ? InternalError("pool export failed") : r.status());
    }
    const std::string& text = sent->raw;
    if (o.out.empty()) {
      std::fputs(text.c_str(), out);
      return 0;
    }
    std::ofstream f(o.out, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
      return Error(err, InternalError(fmt::format("--out {}: cannot write the file", o.out)));
    }
    std::fprintf(err, "wrote the live pool to %s\n", o.out.c_str());
    return 0;
  }
  if (o.file.empty()) {
    return Error(err, InvalidArgumentError("pool apply: name the pool file (suanpan pool apply "
                                           "FILE [--dry-run])"));
  }
  auto text = config::ReadFile(o.file);
  if (!text.ok()) return Error(err, text.status());
  auto r = (*client)->Call("POST", "/v1/pool/apply",
                           Json{{"file", *text},
                                {"name", std::filesystem::path(o.file).filename().string()},
                                {"dry_run", o.dry_run}});
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  std::vector<std::string> unchanged;
  size_t changes = 0;
  std::string body;
  for (const Json& t : (*r)["tenants"]) {
    const std::string action = Str(t, "action"), name = Str(t, "tenant");
    if (action == "unchanged") {
      unchanged.push_back(name);
      continue;
    }
    if (action == "create" || action == "change") ++changes;
    std::string line = fmt::format("  {} {}", action, name);
    if (t.contains("changes") && !t["changes"].empty()) {
      std::string c;
      for (const Json& x : t["changes"]) c += (c.empty() ? "" : ", ") + x.get<std::string>();
      line += ": " + c;
    }
    body += line + "\n";
    if (t.contains("notes")) {
      for (const Json& n : t["notes"]) body += "    - " + n.get<std::string>() + "\n";
    }
  }
  std::fprintf(out, "%s %s: %zu tenant change(s)%s\n", o.dry_run ? "would apply" : "applied",
               o.file.c_str(), changes, o.dry_run ? " (dry run: nothing changed)" : "");
  std::fputs(body.c_str(), out);
  if (!unchanged.empty()) {
    std::string u;
    for (const std::string& n : unchanged) u += (u.empty() ? "" : ", ") + n;
    std::fprintf(out, "  unchanged: %s\n", u.c_str());
  }
  if (r->contains("policy") && !(*r)["policy"].empty()) {
    std::string c;
    for (const Json& x : (*r)["policy"]) c += (c.empty() ? "" : ", ") + x.get<std::string>();
    std::fprintf(out, "  policy: %s\n", c.c_str());
  }
  if (!(*r)["restart"].empty()) {
    std::fprintf(out, "not applied live (takes a restart with the file):\n");
    for (const Json& x : (*r)["restart"]) {
      std::fprintf(out, "  - %s\n", x.get<std::string>().c_str());
    }
  }
  return 0;
}

int RunPolicy(const ClientFlags& flags, const PolicyOptions& o, std::FILE* out, std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  StatusOr<Json> r = Json();
  if (o.action == "set") {
    Json body = Json::object();
    if (!o.queue.empty()) body["queue"] = o.queue;
    if (!o.placement.empty()) body["placement"] = o.placement;
    for (const auto& [flag, key, v] : {std::tuple{"--preemption", "preemption", &o.preemption},
                                       std::tuple{"--backfill", "backfill", &o.backfill},
                                       std::tuple{"--blocking", "blocking", &o.blocking}}) {
      if (v->empty()) continue;
      if (*v != "true" && *v != "false") {
        return Error(err, InvalidArgumentError(
                              fmt::format("{}: must be true or false, got '{}'", flag, *v)));
      }
      body[key] = *v == "true";
    }
    if (!o.half_life_hours.empty()) body["fair_share_half_life_hours"] = o.half_life_hours;
    if (o.las_thresholds) body["las_thresholds_device_seconds"] = *o.las_thresholds;
    if (body.empty()) {
      return Error(err, InvalidArgumentError("policy set: give at least one of --queue, "
                                             "--placement, --preemption, --backfill, --blocking, "
                                             "--half-life-hours, --las-thresholds"));
    }
    r = (*client)->Call("PATCH", "/v1/policy", body);
  } else {
    r = (*client)->Call("GET", "/v1/policy");
  }
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  const Json& p = o.action == "set" ? (*r)["policy"] : *r;
  std::string las;
  for (const Json& l : p["las_thresholds_device_seconds"])
    las += (las.empty() ? "" : ",") + l.dump();
  std::fprintf(out,
               "queue %s, placement %s, preemption %s, backfill %s, blocking %s, fair-share "
               "half-life %s h, 2D-LAS limits [%s] device-seconds\n",
               Str(p, "queue").c_str(), Str(p, "placement").c_str(), p["preemption"].dump().c_str(),
               p["backfill"].dump().c_str(), p["blocking"].dump().c_str(),
               Str(p, "fair_share_half_life_hours").c_str(), las.c_str());
  if (o.action == "set") {
    for (const Json& n : (*r)["notes"]) std::fprintf(out, "  - %s\n", n.get<std::string>().c_str());
  }
  return 0;
}

}  // namespace suanpan::cli
