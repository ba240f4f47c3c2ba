#include "sched/host/usage_memory.h"

#include <cmath>

namespace suanpan::sched {
namespace {

int64_t PeriodOf(Time t, Seconds h) {
  const int64_t v = t.value(), p = h.value();
  return v >= 0 ? v / p : -((-v + p - 1) / p);
}

}  // namespace

UsageMemory::UsageMemory(size_t tenants, size_t types, Seconds half_life)
    : types_(types), half_life_(half_life.value() > 0 ? half_life : Seconds(1)) {
  stored_.assign(tenants * types, 0.0);
}

void UsageMemory::Adopt(const UsageMemory& old) {
  period_ = old.period_;
  for (size_t i = 0; i < stored_.size() && i < old.stored_.size(); ++i) stored_[i] = old.stored_[i];
  for (size_t i : old.changed_) {
    if (i < stored_.size()) changed_.insert(i);
  }
}

void UsageMemory::Advance(Time now) {
  const int64_t k = PeriodOf(now, half_life_);
  if (k <= period_) return;
  const int64_t passed = k - period_;
  for (double& v : stored_) {
    if (v != 0.0) v = passed > 4000 ? 0.0 : std::ldexp(v, static_cast<int>(-passed));
  }
  period_ = k;
}

void UsageMemory::Add(core::TenantId tenant, core::DeviceTypeId type, double device_seconds,
                      Time t) {
  const size_t i = tenant.value() * types_ + type.value();
  if (i >= stored_.size() || device_seconds <= 0) return;  // the system tenant has no memory
  Advance(t);
  const double into = static_cast<double>(t.value() - period_ * half_life_.value()) /
                      static_cast<double>(half_life_.value());
  stored_[i] += device_seconds * std::exp2(into);
  changed_.insert(i);
}

UsageHistory UsageMemory::At(Time now) const {
  UsageHistory h;
  const size_t tenants = types_ == 0 ? 0 : stored_.size() / types_;
  h.device_seconds.assign(tenants, std::vector<double>(types_, 0.0));
  const double since = static_cast<double>(now.value() - period_ * half_life_.value()) /
                       static_cast<double>(half_life_.value());
  const double factor = std::exp2(-since);
  for (size_t i = 0; i < stored_.size(); ++i) {
    if (stored_[i] != 0.0) h.device_seconds[i / types_][i % types_] = stored_[i] * factor;
  }
  return h;
}

UsageHistory UsageMemory::View(Time now) const {
  UsageHistory h;
  h.stored = &stored_;
  h.types = types_;
  const double since = static_cast<double>(now.value() - period_ * half_life_.value()) /
                       static_cast<double>(half_life_.value());
  h.factor = std::exp2(-since);
  return h;
}

std::vector<UsageMemory::Row> UsageMemory::TakeChanged() {
  std::vector<Row> rows;
  rows.reserve(changed_.size());
  for (size_t i : changed_) {
    rows.push_back({static_cast<uint32_t>(i / types_), static_cast<uint16_t>(i % types_), period_,
                    stored_[i]});
  }
  changed_.clear();
  return rows;
}

void UsageMemory::Load(const std::vector<Row>& rows) {
  int64_t latest = period_;
  for (const Row& r : rows) latest = std::max(latest, r.period);
  period_ = latest;
  for (const Row& r : rows) {
    const size_t i = r.tenant * types_ + r.type;
    if (r.type >= types_ || i >= stored_.size()) continue;
    const int64_t passed = latest - r.period;
    stored_[i] = passed > 4000 ? 0.0 : std::ldexp(r.value, static_cast<int>(-passed));
  }
}

}  // namespace suanpan::sched
