// /v1/tokens.

#include <fmt/format.h>

#include "api/routes/routes.h"

namespace suanpan::api {

using control::Caller;
using control::ControlPlane;
using Json = nlohmann::json;

void AddTokenRoutes(Router& r, const RouteContext&) {
  // Tenant tokens reach these routes; the control plane lets tenant admins through, for their
  // own tenant's tokens (tokens.h).
  r.Add("GET", "/v1/tokens", kPeople, {},
        [](ControlPlane& p, const Caller& c, Call&) -> StatusOr<std::optional<Reply>> {
          return Answer(p.ListTokens(c));
        });
  r.Add("POST", "/v1/tokens", kPeople, Body(201),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          const Json& body = call.body;
          if (!body.is_object()) return FieldError("body", "must be a JSON object");
          control::TokenRequest req;
          for (const auto& [k, v] : body.items()) {
            if (k != "name" && k != "role" && k != "tenant" && k != "node" && k != "provider" &&
                k != "expires" && k != "projects") {
              return FieldError(k,
                                "unknown field (known: name, role, tenant, node, provider, "
                                "expires, projects)");
            }
            if (k == "projects") {
              if (!v.is_array()) return FieldError(k, "must be a list of project names");
              for (size_t i = 0; i < v.size(); ++i) {
                if (!v[i].is_string()) {
                  return FieldError(fmt::format("projects[{}]", i), "must be a string");
                }
                req.projects.push_back(v[i].get<std::string>());
              }
              continue;
            }
            if (!v.is_string()) return FieldError(k, "must be a string");
          }
          req.name = body.value("name", "");
          req.role = body.value("role", "");
          req.tenant = body.value("tenant", "");
          req.node = body.value("node", "");
          req.provider = body.value("provider", "");
          if (body.contains("expires")) {
            auto at = control::ParseTimeMs(body["expires"].get<std::string>());
            if (!at.ok()) return FieldError("expires", at.status().message());
            req.expires_ms = *at;
          }
          return Answer(p.CreateToken(c, req));
        });
  r.Add("DELETE", "/v1/tokens/{name}", kPeople, {},
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          const std::string name = call.params.at("name");
          SP_RETURN_IF_ERROR(p.RevokeToken(c, name));
          return std::optional<Reply>(JsonReply(Json{{"name", name}, {"revoked", true}}));
        });
}

}  // namespace suanpan::api
