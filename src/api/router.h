#pragma once
// The route table of the HTTP/JSON API: matching (/v1/jobs/{id}), query and body decoding on the
// I/O thread, bearer-token auth and role checks on the control thread, and the one mapping from
// Status codes to HTTP statuses. A route runs as an operation on the control plane's thread and
// returns a Reply (a typed record rendered by api/views); the reply is sent once what the
// operation wrote is durable. Errors are {"error": {"code", "message", "field"}}.

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/http_server.h"
#include "control/control_plane.h"
#include "control/metrics.h"

namespace suanpan::api {

int HttpStatusOf(StatusCode code);
// The ETag of a GET answer's body, and whether an If-None-Match header names it.
std::string EntityTag(const std::string& body);
bool EtagMatches(std::string_view if_none_match, const std::string& etag);

struct Reply {
  int status = 0;                   // 0: the route's status for success (200, 201)
  nlohmann::json body;              // a JSON reply
  std::optional<std::string> text;  // or a text one (metrics)
  std::string content_type = "application/json";
};
Reply JsonReply(nlohmann::json body, int status = 0);

// What a route gets: path and query parameters, the body, and (for long-polls) a way to answer
// later.
struct Call {
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> query;
  nlohmann::json body;
  std::string raw;  // the body as sent, for routes that take bytes (worker logs)
  std::optional<std::string> idempotency_key;
  // A route that returns nullopt answers through this later (once).
  std::function<void(StatusOr<Reply>)> later;

  // Path parameter as a positive id; query parameters as bounded sizes.
  StatusOr<uint64_t> Id(const std::string& name) const;
  StatusOr<size_t> Index(const std::string& name) const;
  StatusOr<size_t> Size(const std::string& name, size_t fallback, size_t max, size_t min = 0) const;
  std::optional<std::string> Query(const std::string& name) const;
};

using RouteFn = std::function<StatusOr<std::optional<Reply>>(control::ControlPlane&,
                                                             const control::Caller&, Call&)>;

struct RouteInfo {
  std::string method;
  std::string pattern;               // /v1/jobs/{id}
  std::vector<control::Role> roles;  // empty: no token needed
};

struct RouteOptions {
  std::set<std::string> query;  // accepted query parameters
  bool body = false;            // expects a JSON body
  bool raw = false;             // takes the body as bytes
  int ok_status = 200;
  bool urgent = false;  // runs ahead of queued operations (heartbeats, health)
};
inline RouteOptions Urgent(RouteOptions o) {
  o.urgent = true;
  return o;
}

// Requests per tenant token: a bucket of `burst` refilled at `per_second`; over it, 429 with
// Retry-After. Admin and agent tokens are not limited (agents are bounded by their nodes).
struct RateLimit {
  double per_second = 200;
  double burst = 400;  // 0: no limit
};
// Route options in a line: Query({"limit"}), Body(), Body(201), Raw({"attempt", "offset"}).
inline RouteOptions Query(std::set<std::string> query) {
  RouteOptions o;
  o.query = std::move(query);
  return o;
}
inline RouteOptions Body(int ok_status = 200) {
  RouteOptions o;
  o.body = true;
  o.ok_status = ok_status;
  return o;
}
inline RouteOptions Raw(std::set<std::string> query) {
  RouteOptions o;
  o.query = std::move(query);
  o.raw = true;
  return o;
}

class Router {
 public:
  Router(control::ControlPlane& plane, control::Metrics& metrics)
      : plane_(plane), metrics_(metrics) {}
  void Add(std::string method, std::string pattern, std::vector<control::Role> roles,
           RouteOptions options, RouteFn fn);
  void Handle(HttpRequest&& request, Responder respond);
  std::vector<RouteInfo> Routes() const;
  void SetRateLimit(RateLimit limit) { rate_limit_ = limit; }
  // Under mutual TLS: an agent token is honoured only with a client certificate whose common
  // name is the token's node (a stolen token alone does not make an agent).
  void RequireAgentCertificates(bool require) { require_agent_certificates_ = require; }

 private:
  struct Route;
  struct Bucket {
    double tokens = 0;
    int64_t at_ms = -1;
  };
  // On the control thread only. Returns the seconds to wait, 0 when the request may go.
  int Throttle(const std::string& token_name, int64_t now_ms);
  RateLimit rate_limit_;
  bool require_agent_certificates_ = false;
  std::map<std::string, Bucket> buckets_;
  control::ControlPlane& plane_;
  control::Metrics& metrics_;
  std::vector<std::shared_ptr<Route>> routes_;
};

HttpResponse ErrorResponse(const Status& s);
HttpResponse Render(const Reply& reply);

}  // namespace suanpan::api
