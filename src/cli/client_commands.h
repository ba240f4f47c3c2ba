#pragma once
// The client subcommands: the same binary talks to a running server over HTTP.
//   suanpan submit job.toml | --name N --devices 8 --type H100 [--workers 2] [-- cmd args]
//   suanpan jobs [--state pending,running] [--tenant T] [--watch]      (squeue)
//   suanpan job ID                     details, events, why it waits   (scontrol show job)
//   suanpan cancel ID...                                                (scancel)
//   suanpan queue | nodes | providers | tenants | usage | token ...
// Every command prints a table (or JSON with -o json); an error is one line on stderr and exit
// status 1 (2 for bad flags or files).

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace suanpan::cli {

struct ClientFlags {
  std::string server;
  std::string token;
  std::string ca_file;
  std::string output = "table";  // table | json
};

struct SubmitOptions {
  std::string file;  // job file, TOML or JSON; flags override its fields
  std::string name;
  std::string tenant;
  std::string project;
  std::string kind;
  std::optional<int> workers;
  std::string devices;  // per worker: "8" or "0.25"
  std::vector<std::string> types;
  std::string priority_class;
  // Seconds ("3600") or a duration ("90s", "30m", "2h", "1d", "1h30m"); given values go to the
  // server as they are (it names a bad one); unset ones are left out. A limit of 0 means none,
  // as in Slurm.
  std::optional<std::string> runtime_limit;
  std::optional<std::string> runtime_estimate;
  std::optional<int64_t> cpu;         // cores per worker
  std::optional<int64_t> memory_gib;  // per worker
  std::string preemptible;            // "true" | "false" | "" (the class decides)
  std::vector<std::string> env;       // K=V
  std::string workdir;
  std::string image;
  std::vector<std::string> mounts;
  std::optional<int64_t> max_retries;
  std::string idempotency_key;  // default: a fresh random key (safe retries)
  std::vector<std::string> command;
};

struct JobsOptions {
  std::string tenant;
  std::string state;  // comma list; default: not terminal
  bool all = false;
  int limit = 100;
  bool watch = false;
  int watch_seconds = 2;
};

// `suanpan history`: the jobs that ran, as a trace in suanpan's JSONL format (docs/simulator.md),
// so that `suanpan sim --trace suanpan:FILE.jsonl --pool POOL.toml` replays the platform's own
// history through another policy.
struct HistoryOptions {
  std::string tenant;
  std::string from;  // submitted at or after; YYYY-MM-DD, RFC 3339 or unix seconds
  std::string to;    // submitted before
};
int RunHistory(const ClientFlags& flags, const HistoryOptions& o, std::FILE* out, std::FILE* err);

struct UsageOptions {
  std::string tenant;
  std::string from;
  std::string to;
  std::string by = "tenant,provider,device_type";
};

struct TokenOptions {
  std::string action;  // create | list | revoke
  std::string name;
  std::string role;
  std::string tenant;
  std::string node;
  std::string provider;               // role partner
  std::vector<std::string> projects;  // role member: the projects it submits to
  std::string expires;  // a time (YYYY-MM-DD, RFC 3339) or a duration from now (30d, 12h)
};

// "3600", "90s", "30m", "2h", "1d", "1h30m" -> seconds; InvalidArgument names `flag` and the text.
StatusOr<int64_t> ParseSeconds(std::string_view flag, std::string_view text);

int RunSubmit(const ClientFlags& flags, const SubmitOptions& o, std::FILE* out, std::FILE* err);
int RunJobs(const ClientFlags& flags, const JobsOptions& o, std::FILE* out, std::FILE* err);
int RunJob(const ClientFlags& flags, uint64_t id, std::FILE* out, std::FILE* err);
int RunCancel(const ClientFlags& flags, const std::vector<uint64_t>& ids, std::FILE* out,
              std::FILE* err);
int RunQueue(const ClientFlags& flags, int limit, std::FILE* out, std::FILE* err);
int RunNodes(const ClientFlags& flags, const std::map<std::string, std::string>& filter, int limit,
             std::FILE* out, std::FILE* err);
int RunProviders(const ClientFlags& flags, std::FILE* out, std::FILE* err);
int RunTenants(const ClientFlags& flags, std::FILE* out, std::FILE* err);
int RunUsage(const ClientFlags& flags, const UsageOptions& o, std::FILE* out, std::FILE* err);
int RunToken(const ClientFlags& flags, const TokenOptions& o, std::FILE* out, std::FILE* err);

}  // namespace suanpan::cli
