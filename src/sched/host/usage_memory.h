#pragma once
// UsageMemory: the memory of fair share, decayed device-seconds per tenant and device type with a
// half-life h, kept so that it is exact across restarts and independent of when rounds run.
//
// Decay is anchored to absolute time, not to rounds. Time is cut into periods of length h
// (period k is [k h, (k + 1) h)). Each value is stored as of the start of the current period K:
//   stored = sum over past use u at time t of u x 2^((t - K h) / h)
// and read at time `now` as stored x 2^(-(now - K h) / h). Entering a later period halves every
// stored value once per period passed: a multiplication by a power of two, exact in binary
// floating point. So the stored values are a function of the uses alone (their amounts and
// times, in order), whatever rounds ran in between; a store that keeps (tenant, type, period,
// value) rows gives back the very same numbers after a restart.
//   h = 1 day, 3,600 device-seconds used at 12:00 of day 0: stored 3,600 x 2^0.5 = 5,091.2;
//   read at 18:00: 5,091.2 x 2^-0.75 = 3,027.4 (= 3,600 x 2^-0.25). At day 1 the row halves to
//   2,545.6, read at 00:00 as 2,545.6 (= 3,600 x 2^-0.5).

#include <cstdint>
#include <set>
#include <vector>

#include "base/quantity.h"
#include "core/pool.h"
#include "sched/policy.h"

namespace suanpan::sched {

class UsageMemory {
 public:
  UsageMemory(size_t tenants, size_t types, Seconds half_life);

  // Moves to the period of `now` (halving the stored values once per period passed). Times
  // must not go back. O(tenants x types) when a period is crossed, O(1) otherwise.
  void Advance(Time now);
  // Adds `device_seconds` of use by `tenant` of `type` at time `t` (after Advance(t)).
  void Add(core::TenantId tenant, core::DeviceTypeId type, double device_seconds, Time t);
  // The decayed values at `now` (after Advance(now)). O(tenants x types).
  UsageHistory At(Time now) const;
  // The same without a copy: the stored values and the factor to apply. O(1).
  UsageHistory View(Time now) const;

  struct Row {
    uint32_t tenant = 0;
    uint16_t type = 0;
    int64_t period = 0;
    double value = 0;  // stored, as of the start of `period`
  };
  // Rows changed since the last call, for a store; in (tenant, type) order.
  std::vector<Row> TakeChanged();
  // Rows as stored (each as of its own period); rows for unknown tenants or types are skipped.
  void Load(const std::vector<Row>& rows);
  // Takes over `old`'s values for the tenants both know (tenants were added: a host rebuilt for
  // a changed pool keeps the memory exactly). Same types and half-life.
  void Adopt(const UsageMemory& old);
  int64_t period() const { return period_; }
  Seconds half_life() const { return half_life_; }

 private:
  size_t types_;
  Seconds half_life_;
  int64_t period_ = 0;
  std::vector<double> stored_;  // [tenant * types + type]
  std::set<size_t> changed_;
};

}  // namespace suanpan::sched
