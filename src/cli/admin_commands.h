#pragma once
// Live administration from the CLI (admin_commands.cc; docs/admin.md): tenants made, changed and
// retired on a running server, no restart.

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "cli/client_commands.h"

namespace suanpan::cli {

struct TenantOptions {
  std::string action;  // list | create | set | retire | unretire
  std::string name;
  std::optional<int64_t> weight;
  // TYPE=GUARANTEED[:MAX]: "A100=8:16", "A100=8" (create: no max; set: max unchanged),
  // "A100=:16" (only the max), "A100=8:-" (no max), "A100=none" (nothing guaranteed, no max).
  std::vector<std::string> quota;
  std::optional<std::vector<std::string>> priority_classes;  // set: replaces the list
};

// The quota flags as an API body's "quota" object; InvalidArgument naming the flag's text.
StatusOr<nlohmann::json> QuotaFlags(const std::vector<std::string>& flags);

// `suanpan projects`: a tenant's projects (teams). NAME is TENANT/PROJECT (a tenant token may
// write PROJECT alone: its own tenant's).
struct ProjectOptions {
  std::string action;  // list | create | set | retire | unretire
  std::string name;    // list: TENANT (optional); else TENANT/PROJECT or PROJECT
  std::optional<int64_t> weight;
  std::vector<std::string> quota;  // as TenantOptions::quota
};

int RunProjects(const ClientFlags& flags, const ProjectOptions& o, std::FILE* out, std::FILE* err);

// `suanpan pool export [--out FILE]` / `suanpan pool apply FILE [--dry-run]`.
struct PoolOptions {
  std::string action;  // export | apply
  std::string file;    // apply: the pool file
  std::string out;     // export: write here instead of stdout
  bool dry_run = false;
};

int RunPool(const ClientFlags& flags, const PoolOptions& o, std::FILE* out, std::FILE* err);

// `suanpan policy [show|set] --queue Q --placement P --preemption true|false ...`.
struct PolicyOptions {
  std::string action;                                            // show | set
  std::string queue, placement, preemption, backfill, blocking;  // "": unchanged
  std::string half_life_hours;
  std::optional<std::vector<int64_t>> las_thresholds;
};

int RunPolicy(const ClientFlags& flags, const PolicyOptions& o, std::FILE* out, std::FILE* err);

int RunTenantAdmin(const ClientFlags& flags, const TenantOptions& o, std::FILE* out,
                   std::FILE* err);

}  // namespace suanpan::cli
