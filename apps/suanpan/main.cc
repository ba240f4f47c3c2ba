// suanpan: one binary. `plan` (one scheduling round on a pool file), `sim` (replay a trace
// through the scheduler on a simulated clock), `server` (the control plane), and the client
// commands that talk to a server: submit, jobs, job, cancel, queue, nodes, providers, tenants,
// usage, token.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string_view>

#include "cli/admin_commands.h"
#include "cli/client_commands.h"
#include "cli/money_commands.h"
#include "cli/node_commands.h"
#include "cli/plan.h"
#include "cli/server.h"
#include "cli/sim.h"

int main(int argc, char** argv) {
  // The worker supervisor the agent starts: its arguments are the agent's, not a person's.
  if (argc > 1 && std::string_view(argv[1]) == "agent-exec") {
    return suanpan::cli::RunAgentExec(argc - 2, argv + 2);
  }
  CLI::App app{"suanpan (算盘): compute scheduling for AI workloads over many providers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "suanpan 0.1.0");

  suanpan::cli::PlanOptions plan;
  CLI::App* plan_cmd =
      app.add_subcommand("plan", "One scheduling round: what would run where, what waits and why");
  plan_cmd->add_option("--pool", plan.pool_path, "Pool description (TOML)")->required();
  plan_cmd->add_option("--jobs", plan.jobs_path, "Jobs (CSV)")->required();
  plan_cmd->add_option("--policy", plan.policy,
                       "queue/placement, e.g. fair_share/topology_pack (default: the pool's)");
  plan_cmd->add_option("-o,--output", plan.output, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  plan_cmd->add_option("--now", plan.now, "Round time in seconds (default: the last submit)");
  plan_cmd->add_option("--limit", plan.limit, "Rows of the job table (0: all)");
  plan_cmd->add_option("--estimates", plan.estimates,
                       "Waiting jobs that get an earliest-start estimate (default 200)");

  suanpan::cli::SimOptions sim;
  CLI::App* sim_cmd = app.add_subcommand(
      "sim", "Replay a trace through the scheduler on a simulated clock and write a report");
  sim_cmd
      ->add_option("--trace", sim.trace,
                   "FORMAT:PATH, FORMAT one of tiresias, philly, gavel, sia, suanpan")
      ->required();
  auto* pool_opt = sim_cmd->add_option("--pool", sim.pool, "Pool description (TOML)");
  sim_cmd
      ->add_option("--cluster", sim.cluster,
                   "SxNxG[:TYPE] (switches x nodes x devices, e.g. 1x4x4) or a cluster spec "
                   "CSV")
      ->excludes(pool_opt);
  sim_cmd
      ->add_option("--policy", sim.policies,
                   "queue[/placement], comma-separated to compare (e.g. fifo,las/first_fit)")
      ->delimiter(',');
  sim_cmd->add_option("--money", sim.money,
                      "Money file (TOML: accounts, vouchers): rate runs, draw vouchers, wait for "
                      "funds (docs/money.md)");
  sim_cmd->add_option("--out", sim.out, "Report directory (default sim-out)");
  sim_cmd->add_option("--jobs", sim.jobs, "Replay only the first N jobs by arrival");
  sim_cmd->add_option("--seed", sim.seed, "Seed for failures (default 1)");
  sim_cmd->add_option("--until", sim.until, "Stop the clock at this second");
  sim_cmd->add_flag("--strict", sim.strict, "A bad trace row is fatal (default: skip and count)");
  sim_cmd
      ->add_option("--split", sim.split,
                   "node: workers of whole nodes (gangs); device: single-device workers "
                   "(count placement)")
      ->check(CLI::IsMember({"node", "device"}));
  sim_cmd->add_flag("--blocking", sim.blocking, "Strict order: nothing overtakes a blocked job");
  sim_cmd->add_flag("--no-backfill", sim.no_backfill, "No reservation for the blocked head");
  sim_cmd->add_flag("--no-preemption", sim.no_preemption, "Never preempt");
  sim_cmd
      ->add_option("--las-thresholds", sim.las_thresholds,
                   "2D-LAS queue limits, device-seconds, comma-separated (default: the pool's; "
                   "3250,7200 for a Tiresias trace)")
      ->delimiter(',');
  sim_cmd->add_option("--checkpoint-interval", sim.checkpoint_interval,
                      "Seconds between checkpoints; work since the last is lost on preemption "
                      "(default 1: nothing lost; 0: no checkpoints)");
  sim_cmd->add_option("--restore-cost", sim.restore_cost, "Seconds each restart spends restoring");
  sim_cmd->add_option("--reference-type", sim.reference_type,
                      "Device type the trace's run times are for (others scale by TFLOPS)");
  sim_cmd->add_option("--mtbf-hours", sim.mtbf_hours, "Mean time between failures per device");
  sim_cmd->add_option("--spread-penalty-permille", sim.spread_penalty_permille,
                      "Slowdown per node a gang uses beyond the fewest possible");
  sim_cmd->add_option("--switch-penalty-permille", sim.switch_penalty_permille,
                      "Slowdown of a gang that spans leaf switches");

  suanpan::cli::ServerOptions server;
  CLI::App* server_cmd =
      app.add_subcommand("server", "Run the control plane (API, store, scheduler)");
  server_cmd->add_option("--config", server.config, "server.toml")->check(CLI::ExistingFile);
  server_cmd->add_option("--listen", server.listen,
                         "host:port (default 127.0.0.1:7070; port 0: any)");
  server_cmd->add_option("--store", server.store, "SQLite file (default suanpan.db)");
  server_cmd->add_option("--pool", server.pool, "Pool description (default examples/pool.toml)");
  server_cmd->add_option("--admin-token-file", server.admin_token_file,
                         "Where the first admin token is written (default admin.token)");
  server_cmd->add_option("--port-file", server.port_file, "Write the bound port here");
  server_cmd->add_option("--log-level", server.log_level, "trace, debug, info, warn, error, off");
  server_cmd->add_option("--policy", server.policy, "queue[/placement], overrides the pool's");
  server_cmd->add_option("--threads", server.threads, "HTTP I/O threads (default 2)");
  server_cmd->add_option("--interval-ms", server.interval_ms, "Minimum time between rounds");
  server_cmd->add_option("--tls-cert", server.tls_cert, "PEM certificate chain: serve HTTPS");
  server_cmd->add_option("--tls-key", server.tls_key, "PEM private key of --tls-cert");
  server_cmd->add_option("--tls-client-ca", server.tls_client_ca,
                         "CA of agents' client certificates (CN = node name): mutual TLS");
  server_cmd->add_option("--rate-limit", server.rate_limit,
                         "Requests/s per tenant token (default 200, bursts of twice that; 0: off)");
  server_cmd->add_option("--max-connections", server.max_connections,
                         "Open connections at most (default 4096); more get 503");
  server_cmd->add_option(
      "--lease-seconds", server.lease_seconds,
      "Node lease: an agent silent this long loses its node's work (default 10)");
  server_cmd->add_option("--log-dir", server.log_dir,
                         "Worker logs (default: logs/ beside the store)");
  server_cmd->add_option("--web-dir", server.web_dir,
                         "The dashboard's built files (default: web/dist of this build)");
  server_cmd->add_option("--tenant-log-cap-mib", server.tenant_log_cap_mib,
                         "All of one tenant's worker logs, MiB (default 20480; 0: no cap)");
  server_cmd->add_option("--min-free-disk-mib", server.min_free_disk_mib,
                         "Free space kept on the store's and logs' disks; below it submits and "
                         "worker output are refused (default 256; 0: no check)");
  server_cmd->add_option("--require-agents", server.require_agents,
                         "true: a managed node takes work only once its agent heartbeats "
                         "(default); false: every declared node is schedulable (jobs run by hand)");
  server_cmd
      ->add_option("--start-timeout", server.start_timeout_seconds,
                   "Seconds a placed job may take to start (workers or engine job) before "
                   "it is requeued, unbilled (default 900; 0: no limit)")
      ->check(CLI::Range(0, 86400 * 7));
  server_cmd->add_option("--oidc-issuer", server.oidc_issuer,
                         "OpenID Connect issuer URL: its JWTs sign people in (docs/admin.md)");
  server_cmd->add_option("--oidc-audience", server.oidc_audience,
                         "The audience (aud) the issuer's access tokens carry for this API");
  server_cmd->add_option("--oidc-jwks", server.oidc_jwks,
                         "The issuer's signing keys as a JWKS file (default: from its discovery)");
  server_cmd->add_option("--oidc-client-id", server.oidc_client_id,
                         "The dashboard's client id at the issuer (public, PKCE; its redirect URI "
                         "is the dashboard's URL): offers OIDC sign-in in the browser");
  server_cmd->add_option("--oidc-scope", server.oidc_scope,
                         "Scopes the dashboard asks for (default \"openid\")");
  server_cmd->add_flag("--new-admin-token", server.new_admin_token,
                       "Revoke the admin tokens and write a new one to the token file");

  // Client commands share --server, --token and -o.
  suanpan::cli::ClientFlags flags;
  auto client = [&](const char* name, const char* help) {
    CLI::App* c = app.add_subcommand(name, help);
    c->add_option("--server", flags.server,
                  "Server URL (env SUANPAN_SERVER, default http://127.0.0.1:7070)");
    c->add_option("--token", flags.token, "API token (env SUANPAN_TOKEN)");
    c->add_option("--ca-file", flags.ca_file,
                  "CA of the server's TLS certificate (env SUANPAN_CA_FILE; default: system CAs)");
    c->add_option("-o,--output", flags.output, "table or json (audit: also jsonl)")
        ->check(CLI::IsMember({"table", "json", "jsonl"}));
    return c;
  };
  suanpan::cli::SubmitOptions submit;
  CLI::App* submit_cmd = client("submit", "Submit a job (flags or a job file, TOML or JSON)");
  submit_cmd->add_option("file", submit.file, "Job file (.toml or .json)");
  submit_cmd->add_option("--name,-J", submit.name, "Job name");
  submit_cmd->add_option("--tenant", submit.tenant, "Tenant (admin tokens only; default: yours)");
  submit_cmd->add_option("--project", submit.project,
                         "Project (team) of the tenant (default: the token's only project)");
  submit_cmd->add_option("--kind", submit.kind, "training, batch, inference or interactive");
  submit_cmd->add_option("--workers,-N", submit.workers, "Workers (a gang when > 1)");
  submit_cmd->add_option("--devices,-G", submit.devices, "Devices per worker: 8, or 0.25 of one");
  submit_cmd->add_option("--type", submit.types, "Acceptable device types, in order")
      ->delimiter(',');
  submit_cmd->add_option("--priority-class", submit.priority_class, "Priority class");
  submit_cmd->add_option("--time,-t", submit.runtime_limit,
                         "Runtime limit: seconds or 90s, 30m, 2h, 1d, 1h30m");
  submit_cmd->add_option("--estimate", submit.runtime_estimate,
                         "Expected runtime (for backfill): seconds or 30m, 2h, ...");
  submit_cmd->add_option("--cpu", submit.cpu, "CPU cores per worker");
  submit_cmd->add_option("--memory-gib", submit.memory_gib, "Memory per worker, GiB");
  submit_cmd
      ->add_option("--preemptible", submit.preemptible,
                   "true or false (default: the priority class decides)")
      ->check(CLI::IsMember({"true", "false"}));
  submit_cmd->add_option("--env,-e", submit.env, "NAME=VALUE (repeatable)");
  submit_cmd->add_option("--workdir", submit.workdir,
                         "Working directory, inside the job's sandbox (relative)");
  submit_cmd->add_option("--image", submit.image,
                         "OCI image NAME[:TAG] to run in (the nodes' agents hold or fetch it)");
  submit_cmd->add_option("--mount", submit.mounts,
                         "A node directory (dataset, model) by the name its agent offers; "
                         "repeatable");
  submit_cmd->add_option("--max-retries", submit.max_retries, "Retries of lost or failed work");
  submit_cmd->add_option("--idempotency-key", submit.idempotency_key,
                         "Same key, same job: makes retries safe (default: random)");

  suanpan::cli::JobsOptions jobs;
  CLI::App* jobs_cmd = client("jobs", "List jobs (queued and running; --all for every job)");
  jobs_cmd->add_option("--tenant", jobs.tenant, "Only this tenant's jobs (admin)");
  jobs_cmd->add_option("--state", jobs.state, "Comma-separated states");
  jobs_cmd->add_flag("--all,-a", jobs.all, "Include finished jobs");
  jobs_cmd->add_option("--limit", jobs.limit, "Rows (default 100; 0: all)");
  jobs_cmd->add_flag("--watch,-w", jobs.watch, "Refresh every 2 s until Ctrl-C");

  uint64_t job_id = 0;
  CLI::App* job_cmd = client("job", "One job: details, placement, events, why it waits");
  job_cmd->add_option("id", job_id, "Job ID")->required();

  std::vector<uint64_t> cancel_ids;
  CLI::App* cancel_cmd = client("cancel", "Cancel jobs");
  cancel_cmd->add_option("ids", cancel_ids, "Job IDs")->required();

  int queue_limit = 50;
  CLI::App* queue_cmd = client("queue", "The queue in scheduling order");
  queue_cmd->add_option("--limit", queue_limit, "Rows (default 50)");

  std::map<std::string, std::string> node_filter;
  std::string f_provider, f_cluster, f_type;
  int node_limit = 50;
  CLI::App* nodes_cmd = client("nodes", "Nodes with their free devices");
  nodes_cmd->add_option("--provider", f_provider, "Only this provider");
  nodes_cmd->add_option("--cluster", f_cluster, "Only this cluster");
  nodes_cmd->add_option("--type", f_type, "Only this device type");
  nodes_cmd->add_option("--limit", node_limit, "Rows (default 50)");

  CLI::App* providers_cmd = client("providers", "Providers: devices, free devices, prices");
  suanpan::cli::TenantOptions tenant_admin;
  CLI::App* tenants_cmd =
      client("tenants", "Tenants: list; create, set, retire, unretire (admin, live: no restart)");
  tenants_cmd->add_option("action", tenant_admin.action, "list | create | set | retire | unretire")
      ->check(CLI::IsMember({"list", "create", "set", "retire", "unretire"}));
  tenants_cmd->add_option("name", tenant_admin.name, "The tenant");
  tenants_cmd->add_option("--weight", tenant_admin.weight, "Fair-share weight (1..1000000)");
  tenants_cmd->add_option("--quota", tenant_admin.quota,
                          "TYPE=GUARANTEED[:MAX], e.g. A100=8:16, A100=:16 (only max), A100=8:- "
                          "(no max), A100=none; repeatable");
  tenants_cmd
      ->add_option("--priority-classes", tenant_admin.priority_classes,
                   "The classes it may use, comma-separated (set: replaces the list)")
      ->delimiter(',');

  suanpan::cli::ProjectOptions project_admin;
  CLI::App* projects_cmd =
      client("projects",
             "Projects (teams) inside tenants: list; create, set, retire, unretire (admin or the "
             "tenant's admin, live)");
  projects_cmd
      ->add_option("action", project_admin.action, "list | create | set | retire | unretire")
      ->check(CLI::IsMember({"list", "create", "set", "retire", "unretire"}));
  projects_cmd->add_option("name", project_admin.name,
                           "TENANT/PROJECT (a tenant token: PROJECT); list: TENANT");
  projects_cmd->add_option("--weight", project_admin.weight,
                           "Fair-share weight inside the tenant (1..1000000)");
  projects_cmd->add_option("--quota", project_admin.quota,
                           "TYPE=GUARANTEED[:MAX], out of the tenant's quota; repeatable");

  suanpan::cli::PoolOptions pool_admin;
  CLI::App* pool_cmd = client(
      "pool", "The live configuration: export it as a pool file; apply a file (--dry-run: show)");
  pool_cmd->add_option("action", pool_admin.action, "export | apply")
      ->required()
      ->check(CLI::IsMember({"export", "apply"}));
  pool_cmd->add_option("file", pool_admin.file, "apply: the pool file");
  pool_cmd->add_option("--out", pool_admin.out, "export: write to this file instead of stdout");
  pool_cmd->add_flag("--dry-run", pool_admin.dry_run,
                     "apply: show what would change and what it does to jobs, change nothing");

  suanpan::cli::PolicyOptions policy_admin;
  CLI::App* policy_cmd =
      client("policy", "The scheduling policy: show it; set it (admin, live: the next round)");
  policy_cmd->add_option("action", policy_admin.action, "show | set")
      ->check(CLI::IsMember({"show", "set"}));
  policy_cmd->add_option("--queue", policy_admin.queue, "fifo, priority, fair_share, las, srtf");
  policy_cmd->add_option("--placement", policy_admin.placement,
                         "best_fit, topology_pack, frag_aware, first_fit");
  policy_cmd->add_option("--preemption", policy_admin.preemption, "true or false");
  policy_cmd->add_option("--backfill", policy_admin.backfill, "true or false");
  policy_cmd->add_option("--blocking", policy_admin.blocking, "true or false");
  policy_cmd->add_option("--half-life-hours", policy_admin.half_life_hours,
                         "Fair-share memory half-life, hours");
  policy_cmd
      ->add_option("--las-thresholds", policy_admin.las_thresholds,
                   "2D-LAS queue limits, device-seconds, comma-separated")
      ->delimiter(',');

  suanpan::cli::UsageOptions usage;
  CLI::App* usage_cmd = client("usage", "Device-hours and cost per tenant, provider and type");
  usage_cmd->add_option("--tenant", usage.tenant, "Only this tenant (admin)");
  usage_cmd->add_option("--from", usage.from, "Start: YYYY-MM-DD, RFC 3339 or unix seconds");
  usage_cmd->add_option("--to", usage.to, "End (default now)");
  usage_cmd->add_option("--by", usage.by,
                        "Group by: tenant,project,user,provider,type (any of them)");

  suanpan::cli::HistoryOptions history;
  CLI::App* history_cmd =
      client("history", "Jobs that ran, as a trace for `suanpan sim --trace suanpan:FILE.jsonl`");
  history_cmd->add_option("--tenant", history.tenant, "Only this tenant (admin)");
  history_cmd->add_option("--from", history.from,
                          "Submitted at or after: YYYY-MM-DD, RFC 3339 or unix seconds");
  history_cmd->add_option("--to", history.to, "Submitted before");

  suanpan::cli::TokenOptions token;
  CLI::App* token_cmd =
      client("token", "API tokens: create, list, revoke (admin; a tenant admin: its tenant's)");
  token_cmd->add_option("action", token.action, "create | list | revoke")
      ->required()
      ->check(CLI::IsMember({"create", "list", "revoke"}));
  token_cmd->add_option("name", token.name, "Token name");
  token_cmd->add_option("--role", token.role,
                        "admin, tenant-admin, member (or tenant), viewer, agent or partner");
  token_cmd->add_option("--tenant", token.tenant, "Tenant of a tenant token");
  token_cmd->add_option("--node", token.node, "Node of an agent token");
  token_cmd->add_option("--provider", token.provider,
                        "Provider of a partner token (reads its nodes, jobs there, statements)");
  token_cmd
      ->add_option("--projects", token.projects,
                   "Member token: the projects it submits to, comma-separated (default: any)")
      ->delimiter(',');
  token_cmd->add_option("--expires", token.expires,
                        "When it stops working: a duration from now (30d, 12h) or a date "
                        "(2027-01-01, RFC 3339); default never");

  // ---- money (docs/money.md) ----
  suanpan::cli::MoneyOptions money;
  auto money_flags = [&](CLI::App* c) {
    c->add_option("--tenant", money.tenant, "The tenant (a tenant token: its own)");
    c->add_option("--month", money.month,
                  "Month, YYYY-MM (UTC; invoices show/export, statements: default this month)");
  };
  CLI::App* prices_cmd = client("prices", "Price lists per provider and type; set a price");
  prices_cmd->add_option("action", money.action, "list | set")
      ->check(CLI::IsMember({"list", "set"}));
  prices_cmd->add_option("--provider", money.provider, "Provider");
  prices_cmd->add_option("--type", money.type, "Device type");
  prices_cmd->add_option("--price", money.amount, "Yuan per device-hour");
  prices_cmd->add_option("--from", money.from, "Effective from (default now)");

  CLI::App* vouchers_cmd = client("vouchers", "Compute vouchers (算力券): list, grant, revoke");
  vouchers_cmd->add_option("action", money.action, "list | grant | revoke")
      ->check(CLI::IsMember({"list", "grant", "revoke"}));
  vouchers_cmd->add_option("id", money.id, "Voucher id (revoke; grant: default V-NNNN)");
  vouchers_cmd->add_option("--tenant", money.tenant, "The tenant");
  vouchers_cmd->add_option("--amount", money.amount, "Yuan");
  vouchers_cmd->add_option("--from", money.from, "Valid from (default now)");
  vouchers_cmd->add_option("--to", money.to, "Valid until (exclusive)");
  vouchers_cmd->add_option("--type", money.types, "A device type it covers (repeat; default all)");
  vouchers_cmd->add_option("--provider", money.providers,
                           "A provider it covers (repeat; default all)");
  vouchers_cmd->add_option("--cap", money.cap_percent,
                           "Pays at most this percentage of each charge (default 100)");
  vouchers_cmd->add_option("--programme", money.memo, "The programme that funds it");

  CLI::App* balance_cmd = client("balance", "Balance, vouchers, spend and limits of a tenant");
  balance_cmd->add_option("--tenant", money.tenant, "The tenant (a tenant token: its own)");
  balance_cmd->add_option("--budget", money.budget, "Set the monthly budget (yuan, or none)");
  balance_cmd->add_option("--credit-limit", money.credit_limit,
                          "Set the credit limit (admin; yuan, or none)");
  balance_cmd->add_option("--hard-limit", money.hard_limit,
                          "Set a monthly hard limit (admin; yuan, or none)");
  balance_cmd->add_option("--on-exhausted", money.on_exhausted,
                          "Running jobs when funds run out: finish or stop (admin)");

  CLI::App* topup_cmd = client("topup", "Add prepaid money to a tenant's balance (admin)");
  topup_cmd->add_option("--tenant", money.tenant, "The tenant")->required();
  topup_cmd->add_option("--amount", money.amount, "Yuan")->required();
  topup_cmd->add_option("--memo", money.memo, "What it is (a payment reference)");
  CLI::App* adjust_cmd =
      client("adjust", "Correct a tenant's prepaid balance up or down, saying why (admin)");
  adjust_cmd->add_option("--tenant", money.tenant, "The tenant")->required();
  adjust_cmd->add_option("--amount", money.amount, "Yuan, signed (-12.50 takes money off)")
      ->required();
  adjust_cmd->add_option("--memo", money.memo, "Why (kept in the ledger and the audit log)")
      ->required();

  CLI::App* invoices_cmd =
      client("invoices", "Invoices: list, show (draft or issued), issue, export, credit");
  invoices_cmd->add_option("action", money.action, "list | show | issue | export | credit")
      ->check(CLI::IsMember({"list", "show", "issue", "export", "credit"}));
  invoices_cmd->add_option("number", money.id, "An issued invoice (INV-...) or credit note");
  money_flags(invoices_cmd);
  invoices_cmd
      ->add_option("--format", money.format,
                   "export: json, csv, html or pdf (pdf: through headless Chromium)")
      ->check(CLI::IsMember({"json", "csv", "html", "pdf"}));
  invoices_cmd->add_option("--file,-f", money.file, "export: write here (default stdout)");
  invoices_cmd->add_option("--amount", money.amount, "credit: yuan to refund");
  invoices_cmd->add_option("--reason", money.memo, "credit: what it corrects");

  CLI::App* statements_cmd = client("statements", "What each partner's hardware earned (admin)");
  statements_cmd->add_option("--month", money.month, "Month, YYYY-MM (UTC; default this month)");
  statements_cmd->add_option("--provider", money.provider, "Only this provider");

  CLI::App* ledger_cmd = client("ledger", "The ledger's lines (double entry)");
  money_flags(ledger_cmd);

  int audit_limit = 50;
  CLI::App* audit_cmd = client(
      "audit", "Admin actions: who did what, when, before -> after (admin; -o jsonl to export)");
  audit_cmd->add_option("--limit", audit_limit, "Rows (default 50)");

  // `suanpan submit [flags] [file] -- command args...`: what follows `--` is the job's command,
  // taken here so that CLI11 does not read it as the job file.
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      for (int j = i + 1; j < argc; ++j) submit.command.emplace_back(argv[j]);
      argc = i;
      break;
    }
  }
  suanpan::cli::AgentCommandOptions agent;
  CLI::App* agent_cmd =
      app.add_subcommand("agent", "Run the node agent: heartbeats, runs assigned workers");
  agent_cmd->add_option("--server", agent.server, "Server URL (env SUANPAN_SERVER)");
  agent_cmd->add_option("--token-file", agent.token_file,
                        "File holding this node's agent token, mode 0600 (env "
                        "SUANPAN_TOKEN_FILE); never on the command line");
  agent_cmd->add_option("--token", agent.token_on_argv)->group("");  // refused, with the reason
  agent_cmd->add_option("--node", agent.node, "Node name, as in the pool file")->required();
  agent_cmd->add_option("--devices", agent.devices,
                        "Declared devices TYPE:COUNT[:GIB] (default: discover with NVML)");
  agent_cmd->add_option("--work-dir", agent.work_dir,
                        "Worker state and output (default suanpan-agent)");
  agent_cmd->add_option("--address", agent.address, "Address gang peers reach (default hostname)");
  agent_cmd->add_option("--grace-seconds", agent.grace_seconds, "SIGTERM to SIGKILL (default 10)");
  agent_cmd->add_option("--log-level", agent.log_level, "trace, debug, info, warn, error, off");
  agent_cmd->add_option("--ca-file", agent.ca_file,
                        "CA of the server's TLS certificate (default: the system's)");
  agent_cmd->add_option("--client-cert", agent.client_cert,
                        "PEM client certificate (CN = this node) for a server with mutual TLS");
  agent_cmd->add_option("--client-key", agent.client_key, "PEM key of --client-cert");
  agent_cmd->add_option("--uid-base", agent.uid_base,
                        "Workers of a job run as UID_BASE + slot (default 200000 as root; 0: as "
                        "the agent's user)");
  agent_cmd->add_flag("--no-isolate", agent.no_isolate, "No pid and mount namespaces for workers");
  agent_cmd->add_option(
      "--cgroup-base", agent.cgroup_base,
      "cgroup under which workers' groups are made (default suanpan; \"\": none)");
  agent_cmd->add_option("--log-cap-mib", agent.log_cap_mib,
                        "Output kept per worker attempt, MiB (default 64)");
  agent_cmd->add_option("--pass-env", agent.pass_env,
                        "Agent environment variables workers also get (repeatable)");
  agent_cmd->add_option("--image-dir", agent.image_dir,
                        "OCI image layouts (DIR/NAME) and archives (DIR/NAME.tar) jobs may name");
  agent_cmd->add_option("--registry", agent.registry,
                        "Registry (host:port[/prefix]) to copy images from that --image-dir lacks");
  agent_cmd->add_flag("--registry-insecure", agent.registry_insecure,
                      "Do not verify the registry's TLS certificate");
  agent_cmd->add_option("--oci-runtime", agent.oci_runtime,
                        "OCI runtime for images (default runc)");
  agent_cmd->add_option("--mount", agent.mounts,
                        "A node directory jobs may ask for: NAME=PATH[:rw] (read-only unless :rw)");
  agent_cmd->add_option(
      "--device-files", agent.device_files,
      "Device file of device N, {} for N (default /dev/nvidia{} or /dev/davinci{})");
  agent_cmd
      ->add_option("--device-control-files", agent.device_control_files,
                   "Device files every worker with devices needs (default: the vendor's)")
      ->expected(0, -1);

  suanpan::cli::DevOptions dev;
  CLI::App* dev_cmd = app.add_subcommand(
      "dev", "Server, store and a local agent in one process: the zero-set-up start");
  dev_cmd->add_option("--data-dir", dev.data_dir, "State, tokens, logs (default .run/dev)");
  dev_cmd->add_option("--listen", dev.listen, "host:port (default 127.0.0.1:7070)");
  dev_cmd->add_option("--devices", dev.devices, "Declared devices per node (default H100:8)");
  dev_cmd->add_option("--nodes", dev.nodes, "Local nodes, one agent each (default 1)");
  dev_cmd->add_option("--lease-seconds", dev.lease_seconds, "Node lease (default 10)");
  dev_cmd->add_option("--log-level", dev.log_level, "Server and agent log level (default warn)");
  dev_cmd->add_option("--image-dir", dev.image_dir,
                      "OCI image layouts/archives jobs may name (--image NAME[:TAG])");
  dev_cmd->add_option("--oidc-issuer", dev.oidc_issuer, "As suanpan server --oidc-issuer");
  dev_cmd->add_option("--oidc-audience", dev.oidc_audience, "As suanpan server --oidc-audience");
  dev_cmd->add_option("--oidc-client-id", dev.oidc_client_id,
                      "As suanpan server --oidc-client-id (the dashboard's sign-in)");
  dev_cmd->add_option("--oidc-scope", dev.oidc_scope, "As suanpan server --oidc-scope");
  dev_cmd->add_option("--mount", dev.mounts,
                      "A directory jobs may ask for: NAME=PATH[:rw] (read-only unless :rw)");

  suanpan::cli::LogsOptions logs;
  CLI::App* logs_cmd = client("logs", "A worker's output (stdout and stderr)");
  logs_cmd->add_option("job", logs.job, "Job ID")->required();
  logs_cmd->add_option("--worker,-w", logs.worker, "Worker rank (default 0)");
  logs_cmd->add_option("--attempt", logs.attempt, "Attempt (default the latest)");
  logs_cmd->add_flag("--follow,-f", logs.follow, "Keep printing until the attempt ends");
  logs_cmd->add_flag("--raw", logs.raw,
                     "Write the output as it is (default: control characters made visible)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; any other usage error prints CLI11's message and exits 2,
    // like every other bad input to suanpan (not CLI11's own codes 100-120).
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (agent_cmd->parsed()) {
    agent.device_control_set = agent_cmd->count("--device-control-files") > 0;
    return suanpan::cli::RunAgent(agent);
  }
  if (dev_cmd->parsed()) return suanpan::cli::RunDev(dev);
  if (logs_cmd->parsed()) return suanpan::cli::RunLogs(flags, logs, stdout, stderr);
  if (plan_cmd->parsed()) return suanpan::cli::RunPlan(plan, stdout, stderr);
  if (sim_cmd->parsed()) return suanpan::cli::RunSim(sim, stdout, stderr);
  if (server_cmd->parsed()) return suanpan::cli::RunServer(server);
  if (flags.output == "jsonl" && !audit_cmd->parsed()) {
    std::fprintf(stderr, "error: --output jsonl is for suanpan audit; use table or json\n");
    return 2;
  }
  if (submit_cmd->parsed()) return suanpan::cli::RunSubmit(flags, submit, stdout, stderr);
  if (jobs_cmd->parsed()) return suanpan::cli::RunJobs(flags, jobs, stdout, stderr);
  if (job_cmd->parsed()) return suanpan::cli::RunJob(flags, job_id, stdout, stderr);
  if (cancel_cmd->parsed()) return suanpan::cli::RunCancel(flags, cancel_ids, stdout, stderr);
  if (queue_cmd->parsed()) return suanpan::cli::RunQueue(flags, queue_limit, stdout, stderr);
  if (nodes_cmd->parsed()) {
    if (!f_provider.empty()) node_filter["provider"] = f_provider;
    if (!f_cluster.empty()) node_filter["cluster"] = f_cluster;
    if (!f_type.empty()) node_filter["device_type"] = f_type;
    return suanpan::cli::RunNodes(flags, node_filter, node_limit, stdout, stderr);
  }
  if (providers_cmd->parsed()) return suanpan::cli::RunProviders(flags, stdout, stderr);
  if (tenants_cmd->parsed()) {
    return suanpan::cli::RunTenantAdmin(flags, tenant_admin, stdout, stderr);
  }
  if (policy_cmd->parsed()) return suanpan::cli::RunPolicy(flags, policy_admin, stdout, stderr);
  if (pool_cmd->parsed()) return suanpan::cli::RunPool(flags, pool_admin, stdout, stderr);
  if (projects_cmd->parsed()) {
    return suanpan::cli::RunProjects(flags, project_admin, stdout, stderr);
  }
  if (usage_cmd->parsed()) return suanpan::cli::RunUsage(flags, usage, stdout, stderr);
  if (prices_cmd->parsed()) return suanpan::cli::RunPrices(flags, money, stdout, stderr);
  if (vouchers_cmd->parsed()) return suanpan::cli::RunVouchers(flags, money, stdout, stderr);
  if (balance_cmd->parsed()) return suanpan::cli::RunBalance(flags, money, stdout, stderr);
  if (topup_cmd->parsed()) return suanpan::cli::RunTopUp(flags, money, stdout, stderr);
  if (adjust_cmd->parsed()) return suanpan::cli::RunAdjust(flags, money, stdout, stderr);
  if (invoices_cmd->parsed()) return suanpan::cli::RunInvoices(flags, money, stdout, stderr);
  if (statements_cmd->parsed()) return suanpan::cli::RunStatements(flags, money, stdout, stderr);
  if (ledger_cmd->parsed()) return suanpan::cli::RunLedger(flags, money, stdout, stderr);
  if (audit_cmd->parsed()) return suanpan::cli::RunAudit(flags, audit_limit, stdout, stderr);

  if (history_cmd->parsed()) return suanpan::cli::RunHistory(flags, history, stdout, stderr);
  if (token_cmd->parsed()) {
    if (token.action != "list" && token.name.empty()) {
      std::fprintf(stderr, "error: token %s: a token name is required\n", token.action.c_str());
      return 2;
    }
    return suanpan::cli::RunToken(flags, token, stdout, stderr);
  }
  return 2;
}
