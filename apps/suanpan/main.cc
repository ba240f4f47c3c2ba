// suanpan: one binary, subcommands. Today: `plan` (one scheduling round on a pool file).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/plan.h"

int main(int argc, char** argv) {
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

  CLI11_PARSE(app, argc, argv);
  if (plan_cmd->parsed()) return suanpan::cli::RunPlan(plan, stdout, stderr);
  return 2;
}
