#include "cli/server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stop_token>
#include <thread>

#include "api/api.h"
#include "api/http_server.h"
#include "api/web_assets.h"
#include "backends/agent/agent_backend.h"
#include "backends/slurm/slurm_backend.h"
#include "client/http_client.h"
#include "config/pool_file.h"
#include "config/toml_file.h"
#include "control/control_plane.h"
#include "control/oidc.h"
#include "store/store.h"

namespace suanpan::cli {
namespace {

// The issuer's JWKS through its discovery document (OpenID Connect Discovery 1.0).
StatusOr<std::string> FetchJwks(const std::string& issuer) {
  auto get = [](const std::string& url) -> StatusOr<client::ApiResponse> {
    // ApiClient takes a server (scheme://host[:port]) and a path.
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos) {
      return InvalidArgumentError(fmt::format("'{}' is not an http(s) URL", url));
    }
    const size_t path = url.find('/', scheme + 3);
    client::ClientConfig config;
    config.server = url.substr(0, path);
    config.timeout_ms = 10'000;
    client::ApiClient c(config);
    SP_ASSIGN_OR_RETURN(client::ApiResponse r,
                        c.Send("GET", path == std::string::npos ? "/" : url.substr(path)));
    if (r.status != 200) {
      return UnavailableError(fmt::format("GET {} answered HTTP {}", url, r.status));
    }
    return r;
  };
  std::string base = issuer;
  while (!base.empty() && base.back() == '/') base.pop_back();
  SP_ASSIGN_OR_RETURN(client::ApiResponse discovery,
                      get(base + "/.well-known/openid-configuration"));
  if (!discovery.body.is_object() || !discovery.body.contains("jwks_uri") ||
      !discovery.body["jwks_uri"].is_string()) {
    return InvalidArgumentError(
        fmt::format("{}/.well-known/openid-configuration names no jwks_uri", base));
  }
  if (discovery.body.value("issuer", "") != issuer) {
    return InvalidArgumentError(fmt::format("the discovery document's issuer '{}' is not '{}'",
                                            discovery.body.value("issuer", ""), issuer));
  }
  SP_ASSIGN_OR_RETURN(client::ApiResponse jwks, get(discovery.body["jwks_uri"].get<std::string>()));
  return jwks.raw;
}

}  // namespace

namespace {

// The built dashboard: beside an installed binary (../share/suanpan/web), else the source tree's
// web/dist the build was configured from.
std::string DefaultWebDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed = exe.parent_path() / "../share/suanpan/web";
    if (std::filesystem::is_regular_file(installed / "index.html", ec)) return installed.string();
  }
  return SUANPAN_WEB_DIR;
}

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

struct Settings {
  std::string host = "127.0.0.1";
  int port = 7070;
  std::string store = "suanpan.db";
  std::string pool = "examples/pool.toml";
  std::string admin_token_file = "admin.token";
  int threads = 2;
  int64_t max_body_bytes = 1 << 20;
  int max_connections = 4096;
  double rate_limit = 200;
  std::string tls_cert_file, tls_key_file, tls_client_ca_file;
  std::string log_level = "info";
  std::string queue;
  std::string placement;
  int interval_ms = 20;
  int lease_seconds = 10;
  bool requeue_lost = true;
  std::string log_dir;
  std::string web_dir;  // the dashboard's built files (web/dist)
  int64_t tenant_log_cap_mib = 20 * 1024;
  int64_t min_free_disk_mib = 256;
  bool require_agents = true;
  int start_timeout_seconds = 900;
};

Status ParseListen(const std::string& listen, Settings& s) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError(fmt::format("listen: must be host:port, got '{}'", listen));
  }
  s.host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
    return InvalidArgumentError(fmt::format("listen: bad port '{}'", port));
  }
  s.port = static_cast<int>(p);
  return OkStatus();
}

Status ReadConfig(const std::string& path, Settings& s) {
  SP_ASSIGN_OR_RETURN(toml::table parsed, config::ParseTomlFile(path));
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  auto rel = [&](const std::string& p) {
    return std::filesystem::path(p).is_absolute() || dir.empty()
               ? p
               : (dir / p).lexically_normal().string();
  };
  const toml::table& t = parsed;
  for (const auto& [key, node] : t) {
    const std::string k(key.str());
    const int line = static_cast<int>(node.source().begin.line);
    auto bad = [&](std::string_view what) {
      return InvalidArgumentError(fmt::format("{}:{}: {}: {}", path, line, k, what));
    };
    if (k == "listen") {
      if (!node.is_string()) return bad("must be a string host:port");
      Status st = ParseListen(*node.value<std::string>(), s);
      if (!st.ok()) return bad(st.message());
    } else if (k == "lease_seconds") {
      if (!node.is_integer() || *node.value<int64_t>() < 2 || *node.value<int64_t>() > 3600) {
        return bad("must be an integer in 2..3600");
      }
      s.lease_seconds = static_cast<int>(*node.value<int64_t>());
    } else if (k == "requeue_lost") {
      if (!node.is_boolean()) return bad("must be true or false");
      s.requeue_lost = *node.value<bool>();
    } else if (k == "require_agents") {
      if (!node.is_boolean()) return bad("must be true or false");
      s.require_agents = *node.value<bool>();
    } else if (k == "start_timeout_seconds") {
      if (!node.is_integer() || *node.value<int64_t>() < 0 || *node.value<int64_t>() > 7 * 86400) {
        return bad("must be an integer in 0..604800 (0: no limit)");
      }
      s.start_timeout_seconds = static_cast<int>(*node.value<int64_t>());
    } else if (k == "log_dir") {
      if (!node.is_string()) return bad("must be a string");
      s.log_dir = rel(*node.value<std::string>());
    } else if (k == "web_dir") {
      if (!node.is_string()) return bad("must be a string");
      s.web_dir = rel(*node.value<std::string>());
    } else if (k == "tls_cert_file" || k == "tls_key_file" || k == "tls_client_ca_file") {
      if (!node.is_string()) return bad("must be a string");
      const std::string v = rel(*node.value<std::string>());
      (k == "tls_cert_file"  ? s.tls_cert_file
       : k == "tls_key_file" ? s.tls_key_file
                             : s.tls_client_ca_file) = v;
    } else if (k == "store" || k == "pool" || k == "admin_token_file" || k == "log_level") {
      if (!node.is_string()) return bad("must be a string");
      const std::string v = *node.value<std::string>();
      if (k == "store") s.store = rel(v);
      if (k == "pool") s.pool = rel(v);
      if (k == "admin_token_file") s.admin_token_file = rel(v);
      if (k == "log_level") s.log_level = v;
    } else if (k == "rate_limit") {
      if (!node.is_number()) return bad("must be a number");
      const double v = *node.value<double>();
      if (!(v >= 0 && v <= 1e6)) return bad(fmt::format("must be in 0..1000000, got {}", v));
      s.rate_limit = v;
    } else if (k == "min_free_disk_mib") {
      if (!node.is_integer() || *node.value<int64_t>() < 0 ||
          *node.value<int64_t>() > (int64_t{1} << 30)) {
        return bad("must be an integer in 0..2^30 (MiB; 0: no check)");
      }
      s.min_free_disk_mib = *node.value<int64_t>();
    } else if (k == "tenant_log_cap_mib") {
      if (!node.is_integer() || *node.value<int64_t>() < 0 ||
          *node.value<int64_t>() > (int64_t{1} << 30)) {
        return bad("must be an integer in 0..2^30 (MiB; 0: no cap)");
      }
      s.tenant_log_cap_mib = *node.value<int64_t>();
    } else if (k == "threads" || k == "max_body_bytes" || k == "max_connections") {
      if (!node.is_integer()) return bad("must be an integer");
      const int64_t v = *node.value<int64_t>();
      if (k == "max_connections") {
        if (v < 1 || v > 1'000'000) return bad(fmt::format("must be in 1..1000000, got {}", v));
        s.max_connections = static_cast<int>(v);
      } else if (k == "threads") {
        if (v < 1 || v > 64) return bad(fmt::format("must be in 1..64, got {}", v));
        s.threads = static_cast<int>(v);
      } else {
        if (v < 1024 || v > (int64_t{1} << 30))
          return bad(fmt::format("must be in 1024..2^30, got {}", v));
        s.max_body_bytes = v;
      }
    } else if (k == "scheduler") {
      if (!node.is_table()) return bad("must be a table");
      for (const auto& [sk, sn] : *node.as_table()) {
        const std::string skey(sk.str());
        const int sline = static_cast<int>(sn.source().begin.line);
        if (skey == "queue" || skey == "placement") {
          if (!sn.is_string()) {
            return InvalidArgumentError(
                fmt::format("{}:{}: scheduler.{}: must be a string", path, sline, skey));
          }
          (skey == "queue" ? s.queue : s.placement) = *sn.value<std::string>();
        } else if (skey == "interval_ms") {
          if (!sn.is_integer() || *sn.value<int64_t>() < 0 || *sn.value<int64_t>() > 60'000) {
            return InvalidArgumentError(fmt::format(
                "{}:{}: scheduler.interval_ms: must be an integer in 0..60000", path, sline));
          }
          s.interval_ms = static_cast<int>(*sn.value<int64_t>());
        } else {
          return InvalidArgumentError(
              fmt::format("{}:{}: scheduler.{}: unknown key (known: queue, placement, interval_ms)",
                          path, sline, skey));
        }
      }
    } else {
      return bad(
          "unknown key (known: listen, store, pool, admin_token_file, threads, max_body_bytes, "
          "max_connections, rate_limit, tls_cert_file, tls_key_file, tls_client_ca_file, "
          "log_level, lease_seconds, requeue_lost, require_agents, start_timeout_seconds, log_dir, "
          "web_dir, tenant_log_cap_mib, min_free_disk_mib, [scheduler])");
    }
  }
  return OkStatus();
}

Status WriteSecretFile(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return UnavailableError(fmt::format("{}: cannot write: {}", tmp, std::strerror(errno)));
  const std::string line = content + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return UnavailableError(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  }
  return OkStatus();
}

int Fail(const Status& s) {
  std::fprintf(stderr, "suanpan server: %s\n", s.message().c_str());
  return 2;
}

}  // namespace

sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

int RunServer(const ServerOptions& o) {
  Settings s;
  if (!o.config.empty()) {
    Status st = ReadConfig(o.config, s);
    if (!st.ok()) return Fail(st);
  }
  if (!o.listen.empty()) {
    Status st = ParseListen(o.listen, s);
    if (!st.ok()) return Fail(st);
  }
  if (!o.store.empty()) s.store = o.store;
  if (!o.pool.empty()) s.pool = o.pool;
  if (!o.admin_token_file.empty()) s.admin_token_file = o.admin_token_file;
  if (!o.log_level.empty()) s.log_level = o.log_level;
  if (o.threads > 0) s.threads = o.threads;
  if (o.interval_ms >= 0) s.interval_ms = o.interval_ms;
  if (o.lease_seconds > 0) s.lease_seconds = o.lease_seconds;
  if (o.max_connections > 0) s.max_connections = o.max_connections;
  if (o.rate_limit >= 0) s.rate_limit = o.rate_limit;
  if (!o.tls_cert.empty()) s.tls_cert_file = o.tls_cert;
  if (!o.tls_key.empty()) s.tls_key_file = o.tls_key;
  if (!o.tls_client_ca.empty()) s.tls_client_ca_file = o.tls_client_ca;
  if (s.tls_cert_file.empty() != s.tls_key_file.empty()) {
    return Fail(InvalidArgumentError(
        "tls_cert_file, tls_key_file: give both (the certificate chain and its key), or neither"));
  }
  if (!s.tls_client_ca_file.empty() && s.tls_cert_file.empty()) {
    return Fail(InvalidArgumentError("tls_client_ca_file: needs tls_cert_file and tls_key_file"));
  }
  if (!o.log_dir.empty()) s.log_dir = o.log_dir;
  if (!o.web_dir.empty()) s.web_dir = o.web_dir;
  if (o.tenant_log_cap_mib >= 0) s.tenant_log_cap_mib = o.tenant_log_cap_mib;
  if (o.min_free_disk_mib >= 0) s.min_free_disk_mib = o.min_free_disk_mib;
  if (o.require_agents) s.require_agents = *o.require_agents;
  if (o.start_timeout_seconds >= 0) s.start_timeout_seconds = o.start_timeout_seconds;
  if (s.log_dir.empty()) {
    const std::filesystem::path dir = std::filesystem::path(s.store).parent_path();
    s.log_dir = (dir.empty() ? std::filesystem::path("logs") : dir / "logs").string();
  }
  if (!o.policy.empty()) {
    const size_t slash = o.policy.find('/');
    s.queue = o.policy.substr(0, slash);
    if (slash != std::string::npos) s.placement = o.policy.substr(slash + 1);
  }

  if (!spdlog::get("suanpan")) spdlog::set_default_logger(spdlog::stderr_color_mt("suanpan"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  const auto level = spdlog::level::from_str(s.log_level);
  if (level == spdlog::level::off && s.log_level != "off") {
    return Fail(InvalidArgumentError(fmt::format(
        "log_level: must be trace, debug, info, warn, error or off, got '{}'", s.log_level)));
  }
  spdlog::set_level(level);
  // The store, the logs and token files are the server's alone (0600 files, 0700 directories).
  ::umask(077);
  // Connections and log files take descriptors: as many as the hard limit allows.
  if (struct rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }

  auto pool_file = config::ReadPoolFile(s.pool);
  if (!pool_file.ok()) return Fail(pool_file.status());
  control::ControlOptions copts;
  copts.policy = pool_file->policy;
  if (!s.queue.empty()) copts.policy.queue = s.queue;
  if (!s.placement.empty()) copts.policy.placement = s.placement;
  copts.schedule_interval_ms = s.interval_ms;
  copts.lease_seconds = s.lease_seconds;
  copts.requeue_lost = s.requeue_lost;
  copts.require_agents = s.require_agents;
  copts.start_timeout_seconds = s.start_timeout_seconds;
  copts.log_dir = s.log_dir;
  copts.tenant_log_cap_bytes = s.tenant_log_cap_mib << 20;
  copts.min_free_disk_bytes = s.min_free_disk_mib << 20;
  {
    const std::filesystem::path store_dir = std::filesystem::path(s.store).parent_path();
    copts.disk_paths = {store_dir.empty() ? "." : store_dir.string(), s.log_dir};
  }
  const core::PoolTotals totals = pool_file->pool.Totals();

  auto store = store::OpenSqliteStore(s.store);
  if (!store.ok()) return Fail(store.status());
  const int schema = (*store)->SchemaVersion();
  static SystemClock clock;
  static control::Metrics metrics;
  auto plane = control::ControlPlane::Open(std::move(pool_file->pool), std::move(*store), copts,
                                           clock, &metrics);
  if (!plane.ok()) return Fail(plane.status());

  // suanpan's own agents serve the managed providers; a delegated provider with an engine in
  // the pool file is served by its engine's backend; one with none by nobody (it takes no work).
  auto agents = std::make_unique<backends::AgentBackend>(**plane);
  backends::AgentBackend* agent_backend = agents.get();
  std::vector<core::ProviderId> managed;
  for (size_t p = 0; p < (*plane)->pool().providers().size(); ++p) {
    if ((*plane)->pool().providers()[p].backend == core::BackendKind::kManaged) {
      managed.push_back(core::ProviderId(static_cast<uint32_t>(p)));
    }
  }
  (*plane)->AddBackend(std::move(agents), managed);
  for (auto& [backend, provider] : backends::slurm::MakeSlurmBackends(**plane)) {
    spdlog::info("provider={} is delegated to Slurm ({})", (*plane)->pool().provider(provider).name,
                 (*plane)->pool().provider(provider).engine->mode);
    (*plane)->AddBackend(std::move(backend), {provider});
  }

  auto admin = (*plane)->Run(
      [&](control::ControlPlane& p) { return p.EnsureAdminToken(o.new_admin_token); });
  if (!admin.ok()) return Fail(admin.status());
  if (*admin) {
    Status st = WriteSecretFile(s.admin_token_file, **admin);
    if (!st.ok()) return Fail(st);
    spdlog::info("created an admin token; its secret is in {} (only its hash is stored)",
                 s.admin_token_file);
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals = BlockStopSignals();

  api::Api api(**plane, metrics, agent_backend,
               api::ApiOptions{api::RateLimit{s.rate_limit, 2 * s.rate_limit},
                               !s.tls_client_ca_file.empty()});
  api::HttpServerOptions hopts;
  hopts.host = s.host;
  hopts.port = s.port;
  hopts.threads = s.threads;
  hopts.max_body_bytes = static_cast<size_t>(s.max_body_bytes);
  hopts.max_connections = s.max_connections;
  hopts.tls_cert_file = s.tls_cert_file;
  hopts.tls_key_file = s.tls_key_file;
  hopts.tls_client_ca_file = s.tls_client_ca_file;
  // The dashboard: the files of web/dist (or web_dir), served ahead of the API.
  const std::string web_dir = s.web_dir.empty() ? DefaultWebDir() : s.web_dir;
  auto loaded = api::WebAssets::Load(web_dir);
  if (!loaded.ok() && !s.web_dir.empty()) return Fail(loaded.status().WithPrefix("web_dir"));
  if (!loaded.ok()) spdlog::warn("dashboard: {}", loaded.status().message());
  api::WebAssets web = loaded.ok() ? std::move(*loaded) : api::WebAssets::NotBuilt(web_dir);
  if (!o.oidc_issuer.empty() && !o.oidc_client_id.empty()) {
    // The sign-in page fetches the provider's discovery document and token endpoint itself.
    const size_t scheme = o.oidc_issuer.find("://");
    const size_t path =
        scheme == std::string::npos ? std::string::npos : o.oidc_issuer.find('/', scheme + 3);
    const std::string origin = o.oidc_issuer.substr(0, path);
    if (scheme == std::string::npos || origin.find_first_of(" \t;,'\"") != std::string::npos) {
      return Fail(InvalidArgumentError(
          fmt::format("--oidc-issuer: '{}' is not an http(s) URL", o.oidc_issuer)));
    }
    web.AllowConnect(origin);
  }
  auto server =
      api::HttpServer::Listen(hopts, [&api, &web](api::HttpRequest&& r, api::Responder respond) {
        if (auto page = web.Serve(r)) return respond(std::move(*page));
        api.Handle(std::move(r), std::move(respond));
      });
  if (!server.ok()) return Fail(server.status());
  // OpenID Connect: the issuer's signing keys, from its discovery document (or a file), then
  // refreshed every 5 minutes so that a rotated key is known before its first token arrives.
  std::shared_ptr<control::OidcVerifier> oidc;
  std::jthread oidc_refresh;
  if (!o.oidc_issuer.empty()) {
    if (o.oidc_audience.empty()) {
      return Fail(
          InvalidArgumentError("--oidc-audience: required with --oidc-issuer (the API's "
                               "identifier in the provider's access tokens)"));
    }
    control::OidcConfig oc;
    oc.issuer = o.oidc_issuer;
    oc.audience = o.oidc_audience;
    oc.client_id = o.oidc_client_id;
    if (!o.oidc_scope.empty()) oc.scope = o.oidc_scope;
    oidc = std::make_shared<control::OidcVerifier>(oc);
    auto load = [oidc, issuer = o.oidc_issuer, file = o.oidc_jwks]() -> Status {
      std::string jwks;
      if (!file.empty()) {
        SP_ASSIGN_OR_RETURN(jwks, config::ReadFile(file));
      } else {
        SP_ASSIGN_OR_RETURN(jwks, FetchJwks(issuer));
      }
      return oidc->LoadJwks(jwks);
    };
    if (Status st = load(); !st.ok()) return Fail(st.WithPrefix("--oidc-issuer"));
    spdlog::info("OpenID Connect: issuer {} ({} signing key(s)), audience {}{}", o.oidc_issuer,
                 oidc->key_count(), o.oidc_audience,
                 oc.client_id.empty() ? ""
                                      : fmt::format(", dashboard sign-in as client {} (scope {})",
                                                    oc.client_id, oc.scope));
    (*plane)->SetOidc(oidc);
    oidc_refresh = std::jthread([load](std::stop_token stop) {
      while (!stop.stop_requested()) {
        for (int i = 0; i < 300 && !stop.stop_requested(); ++i) {
          std::this_thread::sleep_for(std::chrono::seconds(1));
        }
        if (stop.stop_requested()) break;
        if (Status st = load(); !st.ok()) {
          spdlog::warn("OpenID Connect: refreshing the signing keys failed (the old ones stay): {}",
                       st.ToString());
        }
      }
    });
  }
  (*plane)->Start();
  (*server)->Start();
  const int port = (*server)->port();
  spdlog::info("dashboard: {}://{}:{}/ ({} files from {})",
               s.tls_cert_file.empty() ? "http" : "https", s.host, port, web.file_count(), web_dir);
  spdlog::info(
      "suanpan server listening on {}://{}:{} store={} (schema {}) pool={} ({} providers, {} "
      "nodes, {} devices, {:.2f} EFLOPS) policy={}/{}",
      s.tls_cert_file.empty() ? "http" : "https", s.host, port, s.store, schema, s.pool,
      (*plane)->pool().providers().size(), totals.nodes, totals.devices, totals.Eflops(),
      copts.policy.queue, copts.policy.placement);
  if (!o.port_file.empty()) {
    Status st = WriteSecretFile(o.port_file, std::to_string(port));
    if (!st.ok()) return Fail(st);
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  (*server)->Stop();
  (*plane)->Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace suanpan::cli
