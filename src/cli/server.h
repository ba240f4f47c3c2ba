#pragma once
// `suanpan server`: the control plane. Reads server.toml (every key may also come as a flag):
//
//   listen = "127.0.0.1:7070"       # host:port; port 0 picks a free one (see port_file)
//   store = "suanpan.db"            # SQLite file (WAL); created and migrated at start
//   pool = "examples/pool.toml"     # providers, clusters, nodes, tenants, default policy
//   admin_token_file = "admin.token"  # where the first admin token is written (mode 0600)
//   threads = 2                     # HTTP I/O threads
//   max_body_bytes = 1048576
//   log_level = "info"
//   lease_seconds = 10              # an agent's heartbeat renews its node for this long
//   requeue_lost = true             # jobs on a lost node: requeued (true) or failed
//   log_dir = "logs"                # worker output shipped by agents (default: beside the store)
//   web_dir = "web/dist"            # the dashboard's built files (default: the source tree's)
//   tenant_log_cap_mib = 20480      # all of one tenant's logs there; past it they are cut off
//   min_free_disk_mib = 256         # below this free on the store's or logs' disk, submits and
//                                   # worker output get 503 (the server's own writes go on)
//   require_agents = true           # a managed node takes work only once its agent heartbeats
//   start_timeout_seconds = 900     # a placed job not started by then is requeued, unbilled
//   [scheduler]
//   queue = "fair_share"            # overrides the pool file's policy
//   placement = "topology_pack"
//   interval_ms = 20                # rounds at most this often
//   (top level) max_connections = 4096   # open connections; more are answered 503 and closed
//   (top level) rate_limit = 200    # requests/s per tenant token (bursts of twice that); 0: off
//   (top level) tls_cert_file, tls_key_file = "..."   # HTTPS (PEM); tls_client_ca_file: agents
//                                   # then need a client certificate with CN = their node name
//   (flags) --oidc-issuer URL --oidc-audience AUD [--oidc-jwks FILE]: people sign in through
//                                   # this OpenID Connect provider too (docs/admin.md)
//
// Relative paths in the file are relative to the file's directory. On the first start with an
// empty store an admin token is created and its secret written to admin_token_file; only its
// SHA-256 is stored. SIGINT/SIGTERM stop the server cleanly; SIGKILL loses nothing that was
// acknowledged.

#include <signal.h>

#include <optional>
#include <string>

namespace suanpan::cli {

struct ServerOptions {
  std::string config;  // server.toml; may be empty when the flags say everything
  std::string listen;
  std::string store;
  std::string pool;
  std::string admin_token_file;
  std::string port_file;  // written with the bound port once listening (tests, scripts)
  std::string log_level;
  std::string policy;  // queue[/placement]
  int threads = 0;
  int interval_ms = -1;
  int lease_seconds = 0;    // 0: the file's or 10
  int max_connections = 0;  // 0: the file's or 4096
  double rate_limit = -1;   // requests/s per tenant token; -1: the file's or 200; 0: none
  std::string tls_cert;     // PEM chain; with tls_key: HTTPS only
  std::string tls_key;
  std::string tls_client_ca;           // agents must present a certificate with CN = their node
  std::string log_dir;                 // default: "logs" beside the store
  std::string web_dir;                 // the dashboard's files; default: web/dist of the build
  int64_t tenant_log_cap_mib = -1;     // -1: the file's or 20480; 0: no cap
  int64_t min_free_disk_mib = -1;      // -1: the file's or 256; 0: no check
  std::optional<bool> require_agents;  // unset: the file's or true
  int start_timeout_seconds = -1;      // -1: the file's or 900; 0: none
  bool new_admin_token = false;
  // OpenID Connect sign-in (control/oidc.h): the issuer, the audience its access tokens carry,
  // and optionally a JWKS file (else the issuer's discovery document names its jwks_uri).
  std::string oidc_issuer;
  std::string oidc_audience;
  std::string oidc_jwks;
  // The dashboard's sign-in through the issuer (a public client with PKCE): its client id and
  // the scopes it asks for (default "openid").
  std::string oidc_client_id;
  std::string oidc_scope;
};

int RunServer(const ServerOptions& options);

// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts after) and ignores
// SIGPIPE; returns the set, for sigwait. Long-running commands call it first, so that one thread
// decides when to stop.
sigset_t BlockStopSignals();

}  // namespace suanpan::cli
