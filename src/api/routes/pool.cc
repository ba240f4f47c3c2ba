// /v1/providers, /v1/clusters, /v1/nodes, /v1/tenants.

#include "api/routes/routes.h"

namespace suanpan::api {

using control::Caller;
using control::ControlPlane;

void AddPoolRoutes(Router& r, const RouteContext&) {
  // A partner sees its own provider and clusters only.
  r.Add("GET", "/v1/providers", kPeopleAndPartners, {},
        [](ControlPlane& p, const Caller& c, Call&) -> StatusOr<std::optional<Reply>> {
          std::vector<control::ProviderView> all = p.Providers();
          if (c.role == kPartner) {
            std::erase_if(all, [&](const control::ProviderView& v) { return v.name != c.scope; });
          }
          return Answer(StatusOr<std::vector<control::ProviderView>>(std::move(all)));
        });
  r.Add("GET", "/v1/clusters", kPeopleAndPartners, {},
        [](ControlPlane& p, const Caller& c, Call&) -> StatusOr<std::optional<Reply>> {
          std::vector<control::ClusterView> all = p.Clusters();
          if (c.role == kPartner) {
            std::erase_if(all,
                          [&](const control::ClusterView& v) { return v.provider != c.scope; });
          }
          return Answer(StatusOr<std::vector<control::ClusterView>>(std::move(all)));
        });
  r.Add("GET", "/v1/nodes", kPeopleAndPartners,
        Query({"provider", "cluster", "device_type", "offset", "limit"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(size_t offset, call.Size("offset", 0, 100'000'000));
          SP_ASSIGN_OR_RETURN(size_t limit, call.Size("limit", 1000, 100'000, 1));
          std::map<std::string, std::string> filter;
          for (const char* k : {"provider", "cluster", "device_type"}) {
            if (auto v = call.Query(k)) filter[k] = *v;
          }
          return Answer(p.Nodes(c, filter, offset, limit));
        });
  r.Add("GET", "/v1/nodes/{name}", {kAdmin, kTenant, kAgent, kPartner}, {},
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          return Answer(p.Node(c, call.params.at("name")));
        });
  // The dashboard's (control/dashboard.cc).
  r.Add("GET", "/v1/overview", kPeopleAndPartners, {},
        [](ControlPlane& p, const Caller& c, Call&) -> StatusOr<std::optional<Reply>> {
          return Answer(p.Overview(c));
        });
  r.Add("GET", "/v1/utilization", kPeopleAndPartners, Query({"hours", "points", "tenant"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(size_t hours, call.Size("hours", 24, 24 * 92, 1));
          SP_ASSIGN_OR_RETURN(size_t points, call.Size("points", 120, 2000, 2));
          return Answer(p.Utilization(c, static_cast<int64_t>(hours), points,
                                      call.Query("tenant").value_or("")));
        });
  r.Add("GET", "/v1/tenants", kPeople, {},
        [](ControlPlane& p, const Caller& c, Call&) -> StatusOr<std::optional<Reply>> {
          return Answer(p.Tenants(c));
        });
  // Live administration (admin; control/tenants.cc).
  r.Add("POST", "/v1/tenants", {kAdmin}, Body(201),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          const nlohmann::json& body = call.body;
          if (!body.is_object()) return FieldError("body", "must be a JSON object");
          if (!body.contains("name") || !body["name"].is_string()) {
            return FieldError("name", "is required (the tenant's name, a string)");
          }
          SP_ASSIGN_OR_RETURN(nlohmann::json r,
                              p.PutTenant(c, body["name"].get<std::string>(), body, true));
          return std::optional<Reply>(JsonReply(std::move(r)));
        });
  r.Add("PATCH", "/v1/tenants/{name}", {kAdmin}, Body(),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(nlohmann::json r,
                              p.PutTenant(c, call.params.at("name"), call.body, false));
          return std::optional<Reply>(JsonReply(std::move(r)));
        });
  // The live configuration as a pool file, and a pool file against it (control/pool_admin.cc).
  r.Add("GET", "/v1/pool/export", {kAdmin}, {},
        [](ControlPlane& p, const Caller& c, Call&) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(std::string text, p.ExportPool(c));
          Reply reply;
          reply.text = std::move(text);
          reply.content_type = "application/toml";
          return std::optional<Reply>(std::move(reply));
        });
  r.Add("POST", "/v1/pool/apply", {kAdmin}, Body(),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          const nlohmann::json& body = call.body;
          if (!body.is_object()) return FieldError("body", "must be a JSON object");
          for (const auto& [k, v] : body.items()) {
            if (k != "file" && k != "name" && k != "dry_run") {
              return FieldError(k, "unknown field (known: file, name, dry_run)");
            }
          }
          if (!body.contains("file") || !body["file"].is_string()) {
            return FieldError("file", "is required: the pool file's text (TOML), a string");
          }
          if (body.contains("name") && !body["name"].is_string()) {
            return FieldError("name", "must be a string (the file's name, for messages)");
          }
          if (body.contains("dry_run") && !body["dry_run"].is_boolean()) {
            return FieldError("dry_run", "must be true or false");
          }
          SP_ASSIGN_OR_RETURN(nlohmann::json r, p.ApplyPool(c, body["file"].get<std::string>(),
                                                            body.value("name", "pool.toml"),
                                                            body.value("dry_run", false)));
          return std::optional<Reply>(JsonReply(std::move(r)));
        });
  // The scheduling policy, live (control/pool_admin.cc).
  r.Add("GET", "/v1/policy", kPeople, {},
        [](ControlPlane& p, const Caller& c, Call&) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(nlohmann::json r, p.Policy(c));
          return std::optional<Reply>(JsonReply(std::move(r)));
        });
  r.Add("PATCH", "/v1/policy", {kAdmin}, Body(),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(nlohmann::json r, p.PutPolicy(c, call.body));
          return std::optional<Reply>(JsonReply(std::move(r)));
        });
  // Projects (teams) inside a tenant: the admin or the tenant's own tenant admin (PutProject).
  r.Add("POST", "/v1/tenants/{name}/projects", kPeople, Body(201),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          const nlohmann::json& body = call.body;
          if (!body.is_object()) return FieldError("body", "must be a JSON object");
          if (!body.contains("name") || !body["name"].is_string()) {
            return FieldError("name", "is required (the project's name, a string)");
          }
          SP_ASSIGN_OR_RETURN(
              nlohmann::json r,
              p.PutProject(c, call.params.at("name"), body["name"].get<std::string>(), body, true));
          return std::optional<Reply>(JsonReply(std::move(r)));
        });
  r.Add("PATCH", "/v1/tenants/{name}/projects/{project}", kPeople, Body(),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(
              nlohmann::json r,
              p.PutProject(c, call.params.at("name"), call.params.at("project"), call.body, false));
          return std::optional<Reply>(JsonReply(std::move(r)));
        });
  r.Add("GET", "/v1/tenants/{name}", kPeople, {},
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          return Answer(p.Tenant(c, call.params.at("name")));
        });
}

}  // namespace suanpan::api
