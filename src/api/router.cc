#include "api/router.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>

#include "base/text.h"

namespace suanpan::api {

using control::Caller;
using control::ControlPlane;
using Json = nlohmann::json;

namespace {

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

constexpr int kMaxJsonDepth = 64;

// The key whose value starts before byte `at` ("workers" in {"workers": 1e400}), or "".
std::string KeyBefore(std::string_view text, size_t at) {
  size_t colon = text.rfind(':', at == 0 ? 0 : at - 1);
  if (colon == std::string_view::npos) return "";
  size_t close = text.find_last_not_of(" \t\r\n", colon == 0 ? 0 : colon - 1);
  if (close == std::string_view::npos || text[close] != '"') return "";
  size_t open = text.rfind('"', close == 0 ? 0 : close - 1);
  if (open == std::string_view::npos || open == close) return "";
  std::string key(text.substr(open + 1, close - open - 1));
  return IsSafeToken(key, 64) ? key : "";
}

Status ParseBody(const std::string& text, Json* out) {
  try {
    *out = Json::parse(text);
    return OkStatus();
  } catch (const Json::parse_error& e) {
    return FieldError("body", fmt::format("malformed JSON at byte {}", e.byte));
  } catch (const Json::out_of_range& e) {
    // "number overflow parsing '1e400'": name the key the number belongs to.
    const std::string what = e.what();
    const size_t a = what.find('\''), b = what.rfind('\'');
    if (a != std::string::npos && b > a) {
      const size_t at = text.find(what.substr(a + 1, b - a - 1));
      const std::string key = at == std::string::npos ? "" : KeyBefore(text, at);
      if (!key.empty()) return FieldError(key, "number out of range");
    }
    return FieldError("body", "a number is out of range");
  } catch (const Json::exception& e) {
    return FieldError("body", "malformed JSON");
  }
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

Reply JsonReply(Json body, int status) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// A strong entity tag: FNV-1a (64 bits) of the body, quoted.
std::string EntityTag(const std::string& body) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("\"{:016x}-{:x}\"", h, body.size());
}

// If-None-Match: "*" or a list of tags, weak ones (W/"...") compared by their opaque part.
bool EtagMatches(std::string_view header, const std::string& etag) {
  if (header.empty()) return false;
  if (header == "*") return true;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view tag =
        header.substr(pos, comma == std::string_view::npos ? header.npos : comma - pos);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

HttpResponse Render(const Reply& reply) {
  HttpResponse r;
  r.status = reply.status == 0 ? 200 : reply.status;
  r.content_type = reply.content_type;
  if (reply.text) {
    r.body = *reply.text;
  } else {
    r.body = reply.body.dump(-1, ' ', false, Json::error_handler_t::replace);
    r.body += '\n';
  }
  return r;
}

HttpResponse ErrorResponse(const Status& s) {
  Json field = s.field().empty() ? Json(nullptr) : Json(s.field());
  return Render(JsonReply(Json{{"error",
                                {{"code", std::string(StatusCodeName(s.code()))},
                                 {"message", s.message()},
                                 {"field", field}}}},
                          HttpStatusOf(s.code())));
}

StatusOr<uint64_t> Call::Id(const std::string& name) const {
  const std::string& v = params.at(name);
  uint64_t id = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), id);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size() || id == 0) {
    return FieldError(name, fmt::format("must be a positive integer, got '{}'", v));
  }
  return id;
}

StatusOr<size_t> Call::Index(const std::string& name) const {
  const std::string& v = params.at(name);
  size_t i = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), i);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size() || i > 100'000) {
    return FieldError(name, fmt::format("must be an integer in 0..100000, got '{}'", v));
  }
  return i;
}

StatusOr<size_t> Call::Size(const std::string& name, size_t fallback, size_t max,
                            size_t min) const {
  auto it = query.find(name);
  if (it == query.end()) return fallback;
  size_t v = 0;
  const std::string& s = it->second;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v > max || v < min) {
    return FieldError(name, fmt::format("must be an integer in {}..{}, got '{}'", min, max, s));
  }
  return v;
}

std::optional<std::string> Call::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

int Router::Throttle(const std::string& token_name, int64_t now_ms) {
  if (rate_limit_.burst <= 0 || rate_limit_.per_second <= 0) return 0;
  Bucket& b = buckets_[token_name];
  if (b.at_ms < 0) {
    b.tokens = rate_limit_.burst;
  } else if (now_ms > b.at_ms) {
    b.tokens = std::min(rate_limit_.burst, b.tokens + static_cast<double>(now_ms - b.at_ms) /
                                                          1000.0 * rate_limit_.per_second);
  }
  b.at_ms = std::max(b.at_ms, now_ms);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_limit_.per_second)));
}

struct Router::Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;
  std::vector<control::Role> roles;
  RouteOptions options;
  RouteFn fn;
};

void Router::Add(std::string method, std::string pattern, std::vector<control::Role> roles,
                 RouteOptions options, RouteFn fn) {
  auto r = std::make_shared<Route>();
  r->method = std::move(method);
  r->segments = SplitPath(pattern);
  r->pattern = std::move(pattern);
  r->roles = std::move(roles);
  r->options = std::move(options);
  r->fn = std::move(fn);
  routes_.push_back(std::move(r));
}

std::vector<RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  for (const auto& r : routes_) out.push_back({r->method, r->pattern, r->roles});
  return out;
}

void Router::Handle(HttpRequest&& request, Responder respond) {
  const auto t0 = std::chrono::steady_clock::now();
  // A client's request id is echoed and logged only when it is a plain token: anything else
  // (spaces, quotes, newlines: forged log fields) gets a fresh id.
  std::string request_id = request.Header("x-request-id");
  if (!IsSafeToken(request_id, 128)) request_id = NewRequestId();

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
  const bool client_verified = request.client_verified;
  const std::string client_cn = request.client_cn;
  const std::string method = request.method;
  const std::string remote = request.remote;
  auto who = std::make_shared<std::string>("-");
  const std::string if_none_match = request.Header("if-none-match");
  auto finish = [this, respond, request_id, route_label, method, remote, t0, who,
                 if_none_match](HttpResponse response) {
    response.headers.emplace_back("X-Request-Id", request_id);
    // A GET answered 200 carries an ETag of its body: a page polling with If-None-Match gets an
    // empty 304 while nothing changed. Answers depend on the token, so caches keep them private.
    if (method == "GET" && response.status == 200) {
      const std::string etag = EntityTag(response.body);
      response.headers.emplace_back("ETag", etag);
      response.headers.emplace_back("Cache-Control", "private, no-cache");
      response.headers.emplace_back("Vary", "Authorization");
      if (EtagMatches(if_none_match, etag)) {
        response.status = 304;
        response.body.clear();
      }
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    metrics_.request_seconds
        .Add(
            {{"route", route_label}, {"method", method}, {"code", std::to_string(response.status)}},
            control::Metrics::LatencyBuckets())
        .Observe(secs);
    spdlog::info("request id={} method={} route={} status={} ms={:.2f} token={} remote={}",
                 request_id, method, route_label, response.status, secs * 1000, *who, remote);
    respond(std::move(response));
  };
  if (!route) {
    if (path_matched) {
      HttpResponse r = ErrorResponse(
          FieldError("method", fmt::format("{} is not allowed on {}", method, request.path)));
      r.status = 405;
      finish(std::move(r));
      return;
    }
    finish(ErrorResponse(
        NotFoundError(fmt::format("path: no route {}", request.path)).WithField("path")));
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
        if (!route->options.query.count(key)) {
          finish(ErrorResponse(FieldError(key, "unknown query parameter")));
          return;
        }
        call->query[key] = std::move(value);
      }
      i = j + 1;
    }
  }
  if (route->options.raw) {
    call->raw = std::move(request.body);
  } else if (route->options.body) {
    if (request.body.empty()) {
      finish(ErrorResponse(FieldError("body", "a JSON object is required")));
      return;
    }
    // Nesting is checked before parsing (linear, no recursion): nothing deeper reaches the
    // parser, the decoders or a dump().
    if (JsonDepth(request.body, kMaxJsonDepth) > kMaxJsonDepth) {
      finish(ErrorResponse(FieldError(
          "body", fmt::format("nested deeper than {} arrays or objects", kMaxJsonDepth))));
      return;
    }
    Status parsed = ParseBody(request.body, &call->body);
    if (!parsed.ok()) {
      finish(ErrorResponse(parsed));
      return;
    }
  }
  if (std::string key = request.Header("idempotency-key"); !key.empty()) {
    call->idempotency_key = key;
  }
  std::string bearer;
  const std::string auth = request.Header("authorization");
  if (auth.rfind("Bearer ", 0) == 0) bearer = auth.substr(7);

  plane_.Post(
      [this, route, call, bearer, finish, who, client_verified,
       client_cn](ControlPlane& plane) -> ControlPlane::Done {
        auto fail = [&](const Status& s) -> ControlPlane::Done {
          HttpResponse r = ErrorResponse(s);
          return [finish, r](const Status&) mutable { finish(std::move(r)); };
        };
        Caller caller;
        caller.token_name = "-";
        if (!route->roles.empty()) {
          auto c = plane.Authenticate(bearer);
          if (!c.ok()) return fail(c.status());
          caller = *c;
          if (std::find(route->roles.begin(), route->roles.end(), caller.role) ==
              route->roles.end()) {
            return fail(PermissionDeniedError(fmt::format("role {} may not {} {}",
                                                          control::CallerRoleName(caller),
                                                          route->method, route->pattern)));
          }
          // A viewer reads: every route that changes something is closed to it.
          if (caller.viewer() && route->method != "GET") {
            return fail(PermissionDeniedError(fmt::format("role viewer may only read, not {} {}",
                                                          route->method, route->pattern)));
          }
          if (require_agent_certificates_ && caller.role == control::Role::kAgent &&
              !(client_verified && client_cn == caller.scope)) {
            return fail(PermissionDeniedError(fmt::format(
                "agent for node {}: this server requires a client certificate with CN={} "
                "signed by its client CA (--client-cert, --client-key)",
                caller.scope, caller.scope)));
          }
          if (caller.role == control::Role::kTenant || caller.role == control::Role::kPartner) {
            const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                       .count();
            if (const int wait = Throttle(caller.token_name, now_ms); wait > 0) {
              metrics_.rate_limited.Increment();
              HttpResponse r = ErrorResponse(ResourceExhaustedError(fmt::format(
                  "rate limit: token '{}' may make {} requests per second (bursts of {}); retry "
                  "in {} s",
                  caller.token_name, rate_limit_.per_second, rate_limit_.burst, wait)));
              r.headers.emplace_back("Retry-After", std::to_string(wait));
              return [finish, r](const Status&) mutable { finish(std::move(r)); };
            }
          }
        }
        *who = caller.token_name;
        call->later = [finish](StatusOr<Reply> reply) {
          finish(reply.ok() ? Render(*reply) : ErrorResponse(reply.status()));
        };
        StatusOr<std::optional<Reply>> result = route->fn(plane, caller, *call);
        if (!result.ok()) return fail(result.status());
        if (!*result) return nullptr;  // answered later, through call->later
        Reply reply = std::move(**result);
        if (reply.status == 0) reply.status = route->options.ok_status;
        HttpResponse r = Render(reply);
        return [finish, r](const Status& commit) mutable {
          finish(commit.ok() ? std::move(r) : ErrorResponse(commit));
        };
      },
      [finish](const Status& s) { finish(ErrorResponse(s)); }, route->options.urgent);
}

}  // namespace suanpan::api
