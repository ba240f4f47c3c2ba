#pragma once
// The HTTP/JSON API under /v1 (plus /healthz, /readyz, /metrics), described by an OpenAPI
// document: a Router with the routes of api/routes/, rendered by api/views/. Every route that
// touches state runs as an operation on the control plane's thread; the API never talks to the
// store.

#include <memory>
#include <string>
#include <vector>

#include "api/http_server.h"
#include "api/router.h"
#include "api/routes/routes.h"

namespace suanpan::api {

struct ApiOptions {
  RateLimit rate_limit;
  bool require_agent_certificates = false;  // mutual TLS for agents (Router)
};

class Api {
 public:
  Api(control::ControlPlane& plane, control::Metrics& metrics,
      backends::AgentBackend* agents = nullptr, ApiOptions options = {});
  // The HTTP entry point.
  void Handle(HttpRequest&& request, Responder respond) {
    router_.Handle(std::move(request), std::move(respond));
  }
  std::vector<RouteInfo> Routes() const { return router_.Routes(); }

 private:
  Router router_;
};

// The OpenAPI 3 document (src/api/openapi.json, compiled in).
const std::string& OpenApiDocument();

}  // namespace suanpan::api
