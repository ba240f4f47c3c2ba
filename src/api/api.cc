#include "api/api.h"

namespace suanpan::api {

Api::Api(control::ControlPlane& plane, control::Metrics& metrics, backends::AgentBackend* agents,
         ApiOptions options)
    : router_(plane, metrics) {
  router_.SetRateLimit(options.rate_limit);
  router_.RequireAgentCertificates(options.require_agent_certificates);
  const RouteContext ctx{metrics, agents};
  AddSystemRoutes(router_, ctx);
  AddPoolRoutes(router_, ctx);
  AddAgentRoutes(router_, ctx);
  AddTokenRoutes(router_, ctx);
  AddJobRoutes(router_, ctx);
  AddUsageRoutes(router_, ctx);
  AddMoneyRoutes(router_, ctx);
}

const std::string& OpenApiDocument() {
  static const std::string kDocument =
#include "openapi.inc"
      ;
  return kDocument;
}

}  // namespace suanpan::api
