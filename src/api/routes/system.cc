// /healthz, /readyz, /metrics, /v1/openapi.json, /v1/auth/config, /v1/whoami.

#include "api/api.h"
#include "api/routes/routes.h"

namespace suanpan::api {

using control::Caller;
using control::ControlPlane;
using Json = nlohmann::json;

void AddSystemRoutes(Router& r, const RouteContext& ctx) {
  r.Add("GET", "/healthz", {}, Urgent({}),
        [](ControlPlane&, const Caller&, Call&) -> StatusOr<std::optional<Reply>> {
          return std::optional<Reply>(JsonReply(Json{{"status", "ok"}}));
        });
  r.Add("GET", "/readyz", {}, Urgent({}),
        [](ControlPlane&, const Caller&, Call&) -> StatusOr<std::optional<Reply>> {
          return std::optional<Reply>(JsonReply(Json{{"status", "ready"}}));
        });
  control::Metrics* metrics = &ctx.metrics;
  r.Add("GET", "/metrics", {kAdmin}, {},
        [metrics](ControlPlane& p, const Caller&, Call&) -> StatusOr<std::optional<Reply>> {
          p.RefreshGauges();
          Reply reply;
          reply.content_type = "text/plain; version=0.0.4";
          reply.text = metrics->Serialize();
          return std::optional<Reply>(std::move(reply));
        });
  r.Add("GET", "/v1/openapi.json", {}, {},
        [](ControlPlane&, const Caller&, Call&) -> StatusOr<std::optional<Reply>> {
          static const Json doc = Json::parse(OpenApiDocument());
          return std::optional<Reply>(JsonReply(doc));
        });
  // What the dashboard's sign-in page offers: OIDC (issuer, client id, scopes) when configured.
  // Unauthenticated: it is asked before anyone has a token, and says nothing secret.
  r.Add("GET", "/v1/auth/config", {}, {},
        [](ControlPlane& p, const Caller&, Call&) -> StatusOr<std::optional<Reply>> {
          Json oidc = nullptr;
          if (const control::OidcVerifier* v = p.oidc(); v && !v->config().client_id.empty()) {
            oidc = Json{{"issuer", v->config().issuer},
                        {"client_id", v->config().client_id},
                        {"scope", v->config().scope}};
          }
          return std::optional<Reply>(JsonReply(Json{{"oidc", oidc}}));
        });
  r.Add("GET", "/v1/whoami", {kAdmin, kTenant, kAgent, kPartner}, {},
        [](ControlPlane& p, const Caller& c, Call&) -> StatusOr<std::optional<Reply>> {
          return Answer(StatusOr<control::WhoamiView>(p.Whoami(c)));
        });
}

}  // namespace suanpan::api
