// /v1/tokens.

#include <fmt/format.h>

#include "api/routes/routes.h"

namespace suanpan::api {

using control::Caller;
using control::ControlPlane;
using Json = nlohmann::json;

void AddTokenRoutes(Router& r, const RouteContext&) {
  r.Add("GET", "/v1/tokens", {kAdmin}, {},
        [](ControlPlane& p, const Caller&, Call&) -> StatusOr<std::optional<Reply>> {
          return Answer(StatusOr<std::vector<control::TokenView>>(p.ListTokens()));
        });
  r.Add("POST", "/v1/tokens", {kAdmin}, Body(201),
        [](ControlPlane& p, const Caller&, Call& call) -> StatusOr<std::optional<Reply>> {
          const Json& body = call.body;
          if (!body.is_object()) return FieldError("body", "must be a JSON object");
          control::TokenRequest req;
          for (const auto& [k, v] : body.items()) {
            if (k != "name" && k != "role" && k != "tenant" && k != "node") {
              return FieldError(k, "unknown field (known: name, role, tenant, node)");
            }
            if (!v.is_string()) return FieldError(k, "must be a string");
          }
          req.name = body.value("name", "");
          req.role = body.value("role", "");
          req.tenant = body.value("tenant", "");
          req.node = body.value("node", "");
          return Answer(p.CreateToken(req));
        });
  r.Add("DELETE", "/v1/tokens/{name}", {kAdmin}, {},
        [](ControlPlane& p, const Caller&, Call& call) -> StatusOr<std::optional<Reply>> {
          const std::string name = call.params.at("name");
          SP_RETURN_IF_ERROR(p.RevokeToken(name));
          return std::optional<Reply>(JsonReply(Json{{"name", name}, {"revoked", true}}));
        });
}

}  // namespace suanpan::api
