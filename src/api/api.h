#pragma once
// The HTTP/JSON API under /v1: the route table, bearer-token auth with roles, request decoding,
// the one mapping from Status codes to HTTP statuses, /metrics, /healthz, /readyz and the
// OpenAPI document. Every route that touches state runs as an operation on the control plane's
// thread; the API never talks to the store.
//
// Errors are {"error": {"code": "INVALID_ARGUMENT", "message": "workers: must be in 1..100000,
// got 0", "field": "workers"}}.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/http_server.h"
#include "control/control_plane.h"
#include "control/metrics.h"

namespace suanpan::api {

int HttpStatusOf(StatusCode code);

struct RouteInfo {
  std::string method;
  std::string pattern;               // /v1/jobs/{id}
  std::vector<control::Role> roles;  // empty: no token needed
};

class Api {
 public:
  Api(control::ControlPlane& plane, control::Metrics& metrics);
  // The HTTP entry point.
  void Handle(HttpRequest&& request, Responder respond);
  std::vector<RouteInfo> Routes() const;

  struct Route;

 private:
  control::ControlPlane& plane_;
  control::Metrics& metrics_;
  std::vector<std::shared_ptr<Route>> routes_;
};

// The OpenAPI 3 document (src/api/openapi.json, compiled in).
const std::string& OpenApiDocument();

}  // namespace suanpan::api
