#pragma once
// The discrete-event simulator: trace events and a runtime model around a sched::Host, the same
// scheduling host the control plane runs (so the two cannot diverge), on a simulated clock.
//
// Events are ordered by (time, seq); the simulated clock is the only clock. At each instant the
// simulator hands the host every event due (finishes, device failures, arrivals), then runs one
// round if anything changed or the host asked for one (Host::NextDue: a running job's 2D-LAS
// rank changes). The host applies the decisions; the simulator gives them their consequences: a
// bind starts the job (its end is scheduled from the runtime model), a preemption stops it (work
// since its last checkpoint is lost; the restart pays the restore cost). Same trace, seed and
// config give the same result, bit for bit.
//
// Cost: O(E log E) for E events, plus one scheduling round per distinct event time.
//
// Money (SimConfig::funds): each run is rated when it ends, by the live billing's rule (its share
// at the provider's price, per calendar month of the simulated clock, time 0 being 1970-01-01
// UTC, rounded to the fen) and drawn from the tenant's vouchers, then its balance, then credit
// (core::DrawCharge); before each round the host gets what each tenant can still pay, so a job
// whose estimate cannot be paid waits for funds (sched/admission/funds) as it would live. A
// voucher's start and, for tenants with a budget, each month's start wake the scheduler.
// Running jobs of a tenant that runs out finish (the live "let finish" policy).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/money.h"
#include "core/pool.h"
#include "sched/decision.h"
#include "sched/policy.h"
#include "sim/model/runtime_model.h"

namespace suanpan::sim {

struct SimJob {
  core::JobSpec spec;  // id = position + 1; tenant, workers, acceptable types, submit time
  // Run time on each device type of the pool, seconds (index: device type id); 0 where the job
  // cannot run on that type.
  std::vector<int64_t> duration_by_type;
};

// What happens to the cluster besides the trace: a job cancelled, a node out of service and back.
// At an instant, they come after the finishes and failures due then and before the arrivals,
// in the order given.
struct ExternalEvent {
  enum class Kind { kCancel, kNodeDown, kNodeUp };
  Kind kind = Kind::kCancel;
  Time t = Time(0);
  core::JobId job;    // kCancel: queued, it leaves; running, its run ends (not finished)
  core::NodeId node;  // kNodeDown: its jobs stop and queue again; held until kNodeUp
};

struct SimConfig {
  sched::PolicyConfig policy;
  RuntimeModel model;
  uint64_t seed = 1;
  std::optional<Time> until;  // stop the clock here (jobs still queued or running are unfinished)
  std::vector<ExternalEvent> events;
  // Called after every round with its time and decisions (the equivalence test compares them
  // with the control plane's).
  std::function<void(Time, const sched::Decisions&)> on_round;
  std::optional<core::OpeningFunds>
      funds;  // nullopt: no money (costs at the providers' prices only)
};

struct JobOutcome {
  bool finished = false;
  bool cancelled = false;
  int attempts = 0;  // runs started
  Time submit = Time(0);
  std::optional<Time> first_start;
  Time end = Time(0);
  int preemptions = 0;
  int failures = 0;
  int64_t device_seconds = 0;     // devices held x seconds, over every attempt
  MicroYuan cost = MicroYuan(0);  // at the providers' prices
  // With funds: what its runs were charged (rated to the fen, per month piece) and how that was
  // paid: by vouchers, from the balance, on credit.
  MicroYuan charged = MicroYuan(0);
  MicroYuan voucher_paid = MicroYuan(0);
  MicroYuan balance_paid = MicroYuan(0);
  MicroYuan credit_paid = MicroYuan(0);
  int64_t queued_seconds = 0;  // time spent waiting, over every attempt
  // Where its last run was (unset if it never ran).
  std::optional<core::DeviceTypeId> type;
  std::optional<core::ProviderId> provider;
};

struct TimePoint {
  Time t;
  int64_t allocated_milli = 0;
  int64_t queued = 0;
  int64_t running = 0;
  // Share of the free whole devices that sit on partly used nodes (unusable by a whole-node job).
  double fragmentation = 0.0;
};

// A voucher at the end of a simulation with money.
struct VoucherOutcome {
  core::TenantId tenant;
  std::string id;
  MicroYuan granted = MicroYuan(0);
  MicroYuan drawn = MicroYuan(0);
  MicroYuan left = MicroYuan(0);  // void if the voucher has expired by then
  int64_t valid_to_ms = 0;
};

struct SimResult {
  std::vector<JobOutcome> jobs;          // by job position
  bool with_funds = false;               // SimConfig::funds was given
  std::vector<VoucherOutcome> vouchers;  // with funds: as given
  std::vector<TimePoint> timeline;       // one point per instant with events
  int64_t rounds = 0;
  int64_t events = 0;
  int64_t preemptions = 0;
  int64_t failures = 0;
  Time end = Time(0);  // the last instant simulated
};

// Progress callback: fraction of jobs finished, called at most every 1 % of progress.
using Progress = std::function<void(double)>;

StatusOr<SimResult> Simulate(const core::Pool& pool, const std::vector<SimJob>& jobs,
                             const SimConfig& config, const Progress& progress = nullptr);

}  // namespace suanpan::sim
