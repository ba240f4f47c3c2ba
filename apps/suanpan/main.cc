// suanpan: one binary, subcommands: `plan` (one scheduling round on a pool file) and `sim`
// (replay a trace through the scheduler on a simulated clock).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/plan.h"
#include "cli/sim.h"

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

  CLI11_PARSE(app, argc, argv);
  if (plan_cmd->parsed()) return suanpan::cli::RunPlan(plan, stdout, stderr);
  if (sim_cmd->parsed()) return suanpan::cli::RunSim(sim, stdout, stderr);
  return 2;
}
