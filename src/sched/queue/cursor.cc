#include "sched/queue/cursor.h"

#include <algorithm>

namespace suanpan::sched {

QueueCursor::QueueCursor(const QueuePolicy& policy, const QueueContext& context,
                         const std::vector<QueuedJob>& active, const ParkedQueue* parked)
    : policy_(policy), context_(context), parked_(parked) {
  const size_t tenants = context.state.pool().tenants().size() + 1;  // + the system tenant
  active_.resize(tenants);
  next_active_.assign(tenants, 0);
  last_.resize(tenants);
  stamp_.assign(tenants, 0);
  if (policy.MergesByShare()) shares_.emplace(context.state, context.history, context.config);
  for (const QueuedJob& q : active) {
    const uint32_t t = q.spec->tenant.value();
    active_[t].push_back({QueuePosition{policy.Key(q, context.config), q.spec->id.value()}, &q});
  }
  for (auto& list : active_) {
    // Callers keep queues mostly in arrival order: sort only when needed.
    if (!std::is_sorted(list.begin(), list.end(),
                        [](const auto& a, const auto& b) { return a.first < b.first; })) {
      std::sort(list.begin(), list.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    }
  }
  for (uint32_t t = 0; t < tenants; ++t) {
    if (!active_[t].empty()) Push(t);
  }
  if (parked_ != nullptr) {
    for (core::TenantId t : parked_->Tenants()) {
      if (active_[t.value()].empty()) Push(t.value());
    }
  }
}

std::optional<QueueCursor::Head> QueueCursor::HeadOf(uint32_t tenant) const {
  std::optional<Head> head;
  const auto& list = active_[tenant];
  if (next_active_[tenant] < list.size()) {
    const auto& [pos, job] = list[next_active_[tenant]];
    head = Head{job, pos, true};
  }
  if (parked_ != nullptr) {
    const QueuePosition* after = last_[tenant] ? &*last_[tenant] : nullptr;
    if (auto p = parked_->Next(core::TenantId(tenant), after, reservation_open_, context_.state)) {
      if (!head || p->position < head->position) head = Head{p->job, p->position, false};
    }
  }
  return head;
}

QueueCursor::MergeKey QueueCursor::MergeOf(uint32_t tenant, const Head& head) const {
  if (shares_) {
    return {head.position.key[0], shares_->Of(core::TenantId(tenant)), tenant, 0, 0};
  }
  return {head.position.key[0], 0.0, head.position.key[1], head.position.key[2], head.position.id};
}

void QueueCursor::Push(uint32_t tenant) {
  ++stamp_[tenant];
  if (auto head = HeadOf(tenant)) heap_.push({MergeOf(tenant, *head), tenant, stamp_[tenant]});
}

const QueuedJob* QueueCursor::Next(bool reservation_open) {
  reservation_open_ = reservation_open;
  while (!heap_.empty()) {
    const HeapEntry e = heap_.top();
    heap_.pop();
    if (e.stamp != stamp_[e.tenant]) continue;
    std::optional<Head> head = HeadOf(e.tenant);
    if (!head) continue;
    const MergeKey key = MergeOf(e.tenant, *head);
    if (key != e.key) {
      // The entry was made before the tenant's share grew or before a parked job's chance
      // changed: put it back where it belongs now.
      heap_.push({key, e.tenant, e.stamp});
      continue;
    }
    last_[e.tenant] = head->position;
    if (head->active) ++next_active_[e.tenant];
    Push(e.tenant);
    return head->job;
  }
  return nullptr;
}

void QueueCursor::Bound(const QueuedJob& job, core::DeviceTypeId type) {
  if (shares_) shares_->Add(job.spec->tenant, type, job.spec->TotalShare());
}

void QueueCursor::Released(SegmentId s) {
  if (parked_ == nullptr) return;
  for (core::TenantId t : parked_->TenantsOn(s)) Push(t.value());
}

std::vector<size_t> QueueOrder(const QueuePolicy& policy, const std::vector<QueuedJob>& queue,
                               const QueueContext& context) {
  QueueCursor cursor(policy, context, queue);
  std::vector<size_t> order;
  order.reserve(queue.size());
  while (const QueuedJob* q = cursor.Next(false)) {
    order.push_back(static_cast<size_t>(q - queue.data()));
    cursor.Bound(*q, q->spec->worker.types.front());
  }
  return order;
}

}  // namespace suanpan::sched
