#include "api/api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <set>

namespace suanpan::api {
namespace {

using control::Caller;
using control::ControlPlane;
using control::Role;
using Json = nlohmann::json;

constexpr Role kAdmin = Role::kAdmin;
constexpr Role kTenant = Role::kTenant;
constexpr Role kAgent = Role::kAgent;

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (r.ec == std::errc() && r.ptr == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(PercentDecode(path.substr(i, j - i)));
    i = j;
  }
  return out;
}

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  r.body += '\n';
  return r;
}

HttpResponse ErrorOf(const Status& s) {
  Json field = nullptr;
  if (std::string f = control::FieldOf(s.message()); !f.empty()) field = f;
  return JsonResponse(HttpStatusOf(s.code()),
                      Json{{"error",
                            {{"code", std::string(StatusCodeName(s.code()))},
                             {"message", s.message()},
                             {"field", field}}}});
}

std::string NewRequestId() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t start =
      static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  return fmt::format("{:x}-{}", start & 0xffffff, counter.fetch_add(1) + 1);
}

}  // namespace

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

// What a route handler gets: path parameters, query parameters, the parsed body.
struct Call {
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> query;
  Json body;
  std::string raw;  // the body as sent, for routes that take bytes (worker logs)
  std::optional<std::string> idempotency_key;

  StatusOr<uint64_t> Id(const std::string& name) const {
    const std::string& v = params.at(name);
    uint64_t id = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), id);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || id == 0) {
      return InvalidArgumentError(fmt::format("{}: must be a positive integer, got '{}'", name, v));
    }
    return id;
  }
  StatusOr<size_t> Index(const std::string& name) const {
    const std::string& v = params.at(name);
    size_t i = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), i);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || i > 100'000) {
      return InvalidArgumentError(
          fmt::format("{}: must be an integer in 0..100000, got '{}'", name, v));
    }
    return i;
  }
  StatusOr<size_t> Size(const std::string& name, size_t fallback, size_t max,
                        size_t min = 0) const {
    auto it = query.find(name);
    if (it == query.end()) return fallback;
    size_t v = 0;
    const std::string& s = it->second;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v > max || v < min) {
      return InvalidArgumentError(
          fmt::format("{}: must be an integer in {}..{}, got '{}'", name, min, max, s));
    }
    return v;
  }
  std::optional<std::string> Query(const std::string& name) const {
    auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
  }
};

using RouteFn = std::function<StatusOr<Json>(ControlPlane&, const Caller&, const Call&)>;

struct Api::Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;
  std::vector<Role> roles;
  std::set<std::string> query;  // accepted query parameters
  bool body = false;            // expects a JSON body
  bool raw = false;             // takes the body as bytes
  int ok_status = 200;
  RouteFn fn;
};

Api::Api(ControlPlane& plane, control::Metrics& metrics) : plane_(plane), metrics_(metrics) {
  auto add = [&](std::string method, std::string pattern, std::vector<Role> roles,
                 std::set<std::string> query, bool body, RouteFn fn, int ok = 200) {
    auto r = std::make_shared<Route>();
    r->method = std::move(method);
    r->segments = SplitPath(pattern);
    r->pattern = std::move(pattern);
    r->roles = std::move(roles);
    r->query = std::move(query);
    r->body = body;
    r->ok_status = ok;
    r->fn = std::move(fn);
    routes_.push_back(std::move(r));
  };
  const std::vector<Role> all = {kAdmin, kTenant, kAgent};
  const std::vector<Role> people = {kAdmin, kTenant};

  add("GET", "/healthz", {}, {}, false,
      [](ControlPlane&, const Caller&, const Call&) -> StatusOr<Json> {
        return Json{{"status", "ok"}};
      });
  add("GET", "/readyz", {}, {}, false,
      [](ControlPlane& p, const Caller&, const Call&) -> StatusOr<Json> {
        return Json{{"status", "ready"}, {"jobs", p.job_count()}};
      });
  add("GET", "/metrics", {kAdmin}, {}, false,
      [](ControlPlane& p, const Caller&, const Call&) -> StatusOr<Json> {
        p.RefreshGauges();
        return Json{{"_metrics", true}};
      });
  add("GET", "/v1/openapi.json", {}, {}, false,
      [](ControlPlane&, const Caller&, const Call&) -> StatusOr<Json> {
        return Json::parse(OpenApiDocument());
      });
  add("GET", "/v1/whoami", all, {}, false,
      [](ControlPlane& p, const Caller& c, const Call&) -> StatusOr<Json> { return p.Whoami(c); });
  add("GET", "/v1/providers", people, {}, false,
      [](ControlPlane& p, const Caller&, const Call&) { return p.Providers(); });
  add("GET", "/v1/clusters", people, {}, false,
      [](ControlPlane& p, const Caller&, const Call&) { return p.Clusters(); });
  add("GET", "/v1/nodes", people, {"provider", "cluster", "device_type", "offset", "limit"}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        SP_ASSIGN_OR_RETURN(size_t offset, call.Size("offset", 0, 100'000'000));
        SP_ASSIGN_OR_RETURN(size_t limit, call.Size("limit", 1000, 100'000, 1));
        std::map<std::string, std::string> filter;
        for (const char* k : {"provider", "cluster", "device_type"}) {
          if (auto v = call.Query(k)) filter[k] = *v;
        }
        return p.Nodes(c, filter, offset, limit);
      });
  add("GET", "/v1/nodes/{name}", all, {}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) {
        return p.Node(c, call.params.at("name"));
      });
  add("GET", "/v1/nodes/{name}/assignments", {kAdmin, kAgent}, {"since", "wait"}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        SP_ASSIGN_OR_RETURN(size_t since, call.Size("since", 0, SIZE_MAX - 1));
        SP_ASSIGN_OR_RETURN(size_t wait, call.Size("wait", 0, 60));
        SP_ASSIGN_OR_RETURN(Json now, p.NodeAssignments(c, call.params.at("name")));
        // Long-poll: nothing newer than `since` yet, so the answer comes when it changes.
        p.WaitAssignments(c, call.params.at("name"), since, static_cast<int64_t>(wait) * 1000);
        return now;
      });
  add("POST", "/v1/nodes/{name}/heartbeat", {kAdmin, kAgent}, {}, true,
      [](ControlPlane& p, const Caller& c, const Call& call) {
        return p.Heartbeat(c, call.params.at("name"), call.body);
      });
  add("GET", "/v1/tenants", people, {}, false,
      [](ControlPlane& p, const Caller& c, const Call&) { return p.Tenants(c); });
  add("GET", "/v1/tenants/{name}", people, {}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) {
        return p.Tenant(c, call.params.at("name"));
      });
  add("GET", "/v1/tokens", {kAdmin}, {}, false,
      [](ControlPlane& p, const Caller&, const Call&) { return p.ListTokens(); });
  add(
      "POST", "/v1/tokens", {kAdmin}, {}, true,
      [](ControlPlane& p, const Caller&, const Call& call) { return p.CreateToken(call.body); },
      201);
  add("DELETE", "/v1/tokens/{name}", {kAdmin}, {}, false,
      [](ControlPlane& p, const Caller&, const Call& call) {
        return p.RevokeToken(call.params.at("name"));
      });
  add(
      "POST", "/v1/jobs", people, {}, true,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        SP_ASSIGN_OR_RETURN(Json r, p.SubmitJob(c, call.body, call.idempotency_key));
        Json job = std::move(r["job"]);
        if (!r["created"].get<bool>()) job["_status"] = 200;
        return job;
      },
      201);
  add("GET", "/v1/jobs", people, {"tenant", "state", "name", "after", "limit"}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        control::JobFilter f;
        f.tenant = call.Query("tenant");
        f.name = call.Query("name");
        SP_ASSIGN_OR_RETURN(f.after, call.Size("after", 0, SIZE_MAX - 1));
        SP_ASSIGN_OR_RETURN(f.limit, call.Size("limit", 100, 10'000, 1));
        if (auto states = call.Query("state")) {
          size_t i = 0;
          while (i <= states->size()) {
            size_t j = states->find(',', i);
            if (j == std::string::npos) j = states->size();
            const std::string s = states->substr(i, j - i);
            auto st = core::ParseJobState(s);
            if (!st) {
              return InvalidArgumentError(fmt::format(
                  "state: unknown state '{}' (pending, admitted, running, preempted, succeeded, "
                  "failed, cancelled, lost)",
                  s));
            }
            f.states.insert(*st);
            i = j + 1;
          }
        }
        return p.ListJobs(c, std::move(f));
      });
  add("GET", "/v1/jobs/{id}", all, {}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
        return p.GetJob(c, id);
      });
  add("POST", "/v1/jobs/{id}/cancel", people, {}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
        return p.CancelJob(c, id);
      });
  add("GET", "/v1/jobs/{id}/events", all, {}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
        return p.JobEvents(c, id);
      });
  add("GET", "/v1/jobs/{id}/explain", people, {}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
        return p.ExplainJob(c, id);
      });
  add("POST", "/v1/jobs/{id}/status", {kAdmin, kAgent}, {}, true,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
        return p.ReportJobStatus(c, id, call.body);
      });
  add("POST", "/v1/jobs/{id}/workers/{rank}/status", {kAdmin, kAgent}, {}, true,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
        SP_ASSIGN_OR_RETURN(size_t rank, call.Index("rank"));
        return p.ReportWorkerStatus(c, id, static_cast<int>(rank), call.body);
      });
  auto worker_logs = [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
    SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
    SP_ASSIGN_OR_RETURN(size_t rank, call.Index("rank"));
    SP_ASSIGN_OR_RETURN(size_t attempt, call.Size("attempt", 0, 1'000'000, 1));
    SP_ASSIGN_OR_RETURN(size_t offset, call.Size("offset", 0, size_t{1} << 40));
    if (!call.query.count("attempt")) return InvalidArgumentError("attempt: is required");
    return p.AppendWorkerLog(c, id, static_cast<int>(rank), static_cast<int>(attempt),
                             static_cast<int64_t>(offset), call.raw);
  };
  add("POST", "/v1/jobs/{id}/workers/{rank}/logs", {kAdmin, kAgent}, {"attempt", "offset"}, false,
      worker_logs);
  routes_.back()->raw = true;
  add("GET", "/v1/jobs/{id}/logs", people, {"worker", "attempt", "offset"}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
        SP_ASSIGN_OR_RETURN(size_t worker, call.Size("worker", 0, 100'000));
        SP_ASSIGN_OR_RETURN(size_t offset, call.Size("offset", 0, size_t{1} << 40));
        std::optional<int> attempt;
        if (call.query.count("attempt")) {
          SP_ASSIGN_OR_RETURN(size_t a, call.Size("attempt", 0, 1'000'000, 1));
          attempt = static_cast<int>(a);
        }
        return p.ReadWorkerLog(c, id, static_cast<int>(worker), attempt,
                               static_cast<int64_t>(offset));
      });
  add("GET", "/v1/queue", people, {"limit"}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        SP_ASSIGN_OR_RETURN(size_t limit, call.Size("limit", 100, 100'000, 1));
        return p.Queue(c, limit);
      });
  add("GET", "/v1/usage", people, {"tenant", "from", "to"}, false,
      [](ControlPlane& p, const Caller& c, const Call& call) -> StatusOr<Json> {
        control::UsageQuery q;
        q.tenant = call.Query("tenant");
        if (auto from = call.Query("from")) {
          auto ms = control::ParseTimeMs(*from);
          if (!ms.ok()) return ms.status().WithPrefix("from");
          q.from_ms = *ms;
        }
        if (auto to = call.Query("to")) {
          auto ms = control::ParseTimeMs(*to);
          if (!ms.ok()) return ms.status().WithPrefix("to");
          q.to_ms = *ms;
        }
        return p.Usage(c, q);
      });
}

std::vector<RouteInfo> Api::Routes() const {
  std::vector<RouteInfo> out;
  for (const auto& r : routes_) out.push_back({r->method, r->pattern, r->roles});
  return out;
}

void Api::Handle(HttpRequest&& request, Responder respond) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string request_id = request.Header("x-request-id");
  if (request_id.empty() || request_id.size() > 128) request_id = NewRequestId();

  // Route.
  const std::vector<std::string> segments = SplitPath(request.path);
  std::shared_ptr<Route> route;
  std::map<std::string, std::string> params;
  bool path_matched = false;
  for (const auto& r : routes_) {
    if (r->segments.size() != segments.size()) continue;
    std::map<std::string, std::string> p;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      const std::string& s = r->segments[i];
      if (s.size() > 2 && s.front() == '{' && s.back() == '}') {
        p[s.substr(1, s.size() - 2)] = segments[i];
      } else if (s != segments[i]) {
        ok = false;
      }
    }
    if (!ok) continue;
    path_matched = true;
    if (r->method != request.method) continue;
    route = r;
    params = std::move(p);
    break;
  }
  const std::string route_label = route ? route->pattern : "unmatched";
  const std::string method = request.method;
  const std::string remote = request.remote;
  auto finish = [this, respond, request_id, route_label, method, remote, t0](
                    HttpResponse response, const std::string& who) {
    response.headers.emplace_back("X-Request-Id", request_id);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    metrics_.request_seconds
        .Add(
            {{"route", route_label}, {"method", method}, {"code", std::to_string(response.status)}},
            control::Metrics::LatencyBuckets())
        .Observe(secs);
    spdlog::info("request id={} method={} route={} status={} ms={:.2f} token={} remote={}",
                 request_id, method, route_label, response.status, secs * 1000, who, remote);
    respond(std::move(response));
  };
  if (!route) {
    if (path_matched) {
      HttpResponse r = ErrorOf(InvalidArgumentError(
          fmt::format("method: {} is not allowed on {}", method, request.path)));
      r.status = 405;
      finish(std::move(r), "-");
      return;
    }
    finish(ErrorOf(NotFoundError(fmt::format("path: no route {}", request.path))), "-");
    return;
  }

  // Decode the request before it reaches the control thread.
  auto call = std::make_shared<Call>();
  call->params = std::move(params);
  if (!request.query.empty()) {
    size_t i = 0;
    const std::string& q = request.query;
    while (i <= q.size()) {
      size_t j = q.find('&', i);
      if (j == std::string::npos) j = q.size();
      std::string_view kv(q.data() + i, j - i);
      if (!kv.empty()) {
        const size_t eq = kv.find('=');
        std::string key = PercentDecode(kv.substr(0, eq));
        std::string value = eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1));
        if (!route->query.count(key)) {
          finish(ErrorOf(InvalidArgumentError(fmt::format("{}: unknown query parameter", key))),
                 "-");
          return;
        }
        call->query[key] = value;
      }
      i = j + 1;
    }
  }
  if (route->raw) {
    call->raw = std::move(request.body);
  } else if (route->body) {
    if (request.body.empty()) {
      finish(ErrorOf(InvalidArgumentError("body: a JSON object is required")), "-");
      return;
    }
    call->body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (call->body.is_discarded()) {
      finish(ErrorOf(InvalidArgumentError("body: malformed JSON")), "-");
      return;
    }
  } else if (!request.body.empty() && request.method != "GET") {
    // Tolerated (some clients send {} with POST): ignored.
  }
  if (std::string key = request.Header("idempotency-key"); !key.empty())
    call->idempotency_key = key;

  std::string bearer;
  const std::string auth = request.Header("authorization");
  if (auth.rfind("Bearer ", 0) == 0) bearer = auth.substr(7);

  plane_.Post(
      [route, call, bearer](ControlPlane& plane) -> StatusOr<Json> {
        Caller caller;
        caller.token_name = "-";
        if (!route->roles.empty()) {
          SP_ASSIGN_OR_RETURN(caller, plane.Authenticate(bearer));
          if (std::find(route->roles.begin(), route->roles.end(), caller.role) ==
              route->roles.end()) {
            return PermissionDeniedError(fmt::format("role {} may not {} {}",
                                                     control::RoleName(caller.role), route->method,
                                                     route->pattern));
          }
        }
        SP_ASSIGN_OR_RETURN(Json body, route->fn(plane, caller, *call));
        body["_token"] = caller.token_name;
        return body;
      },
      [this, route, finish](StatusOr<Json> result) {
        if (!result.ok()) {
          finish(ErrorOf(result.status()), "-");
          return;
        }
        Json& body = *result;
        const std::string who = body.value("_token", "-");
        body.erase("_token");
        int status = route->ok_status;
        if (auto s = body.find("_status"); s != body.end()) {
          status = s->get<int>();
          body.erase(s);
        }
        if (body.contains("_metrics")) {
          HttpResponse r;
          r.content_type = "text/plain; version=0.0.4";
          r.body = metrics_.Serialize();
          finish(std::move(r), who);
          return;
        }
        finish(JsonResponse(status, body), who);
      });
}

const std::string& OpenApiDocument() {
  static const std::string kDocument =
#include "openapi.inc"
      ;
  return kDocument;
}

}  // namespace suanpan::api
