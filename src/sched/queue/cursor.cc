#include "sched/queue/cursor.h"

#include <algorithm>

namespace suanpan::sched {

namespace {

// A plain queue, indexed by tenant and key once.
class VectorQueue final : public ActiveQueue {
 public:
  // Indexed by queue (core::QueueId).
  VectorQueue(const QueuePolicy& policy, const PolicyConfig& config,
              const std::vector<QueuedJob>& jobs, const core::Pool& pool)
      : by_tenant_(pool.QueueCount()), size_(jobs.size()) {
    for (const QueuedJob& q : jobs) {
      by_tenant_[core::QueueOfJob(pool, *q.spec).value()].push_back(
          {QueuePosition{policy.Key(q, config), q.spec->id.value()}, &q});
    }
    for (uint32_t t = 0; t < by_tenant_.size(); ++t) {
      auto& list = by_tenant_[t];
      if (list.empty()) continue;
      tenants_.push_back(core::TenantId(t));
      // Callers keep queues mostly in arrival order: sort only when needed.
      auto less = [](const auto& a, const auto& b) { return a.first < b.first; };
      if (!std::is_sorted(list.begin(), list.end(), less)) {
        std::sort(list.begin(), list.end(), less);
      }
    }
  }
  std::vector<core::TenantId> Tenants() const override { return tenants_; }
  size_t size() const override { return size_; }
  std::optional<std::pair<QueuePosition, const QueuedJob*>> Next(
      core::TenantId tenant, const QueuePosition* after) const override {
    const auto& list = by_tenant_[tenant.value()];
    auto it =
        after ? std::upper_bound(list.begin(), list.end(), *after,
                                 [](const QueuePosition& p, const auto& e) { return p < e.first; })
              : list.begin();
    if (it == list.end()) return std::nullopt;
    return *it;
  }

 private:
  std::vector<std::vector<std::pair<QueuePosition, const QueuedJob*>>> by_tenant_;
  std::vector<core::TenantId> tenants_;
  size_t size_;
};

}  // namespace

QueueCursor::QueueCursor(const QueuePolicy& policy, const QueueContext& context,
                         const std::vector<QueuedJob>& active)
    : policy_(policy), context_(context), parked_(nullptr) {
  owned_ = std::make_unique<VectorQueue>(policy, context.config, active, context.state.pool());
  active_ = owned_.get();
  Init();
}

QueueCursor::QueueCursor(const QueuePolicy& policy, const QueueContext& context,
                         const ActiveQueue& active, ParkedQueue* parked)
    : policy_(policy), context_(context), parked_(parked), active_(&active) {
  Init();
}

QueueCursor::~QueueCursor() = default;

void QueueCursor::Init() {
  const size_t tenants = context_.state.pool().QueueCount();  // queues, indexed by QueueId
  last_.resize(tenants);
  stamp_.assign(tenants, 0);
  released_tenant_.assign(tenants, 0);
  parked_head_.resize(tenants);
  parked_head_known_.assign(tenants, 0);
  if (policy_.MergesByShare()) shares_.emplace(context_.state, context_.history, context_.config);
  std::vector<uint8_t> pushed(tenants, 0);
  for (core::TenantId t : active_->Tenants()) {
    pushed[t.value()] = 1;
    Push(t.value());
  }
  if (parked_ != nullptr) {
    for (core::TenantId t : parked_->Tenants()) {
      if (!pushed[t.value()]) Push(t.value());
    }
  }
}

std::optional<QueueCursor::Head> QueueCursor::HeadOf(uint32_t tenant) const {
  std::optional<Head> head;
  if (auto a = active_->Next(core::TenantId(tenant), last_[tenant] ? &*last_[tenant] : nullptr)) {
    head = Head{a->second, a->first, true};
  }
  if (parked_ != nullptr) {
    std::optional<QueuePosition> after = last_[tenant];
    // Keys merge in position order: slots before the last job handed out have been passed.
    if (!shares_ && current_position_ && (!after || *after < *current_position_)) {
      after = current_position_;
    }
    // The look-up is kept while its answer still stands: it lies ahead, and the reason it was
    // offered (room on its segment, the open reservation) still holds. Within a round capacity
    // only shrinks between releases, and a release forgets the answers of the tenants parked there.
    auto& known = parked_head_[tenant];
    bool keep = parked_head_known_[tenant] != 0;
    if (keep && known) {
      const ParkedQueue::Entry& k = *known;
      if (after && !(*after < k.position)) keep = false;
      if (k.via && !parked_->MayFit(k, context_.state)) keep = false;
      if (k.for_reservation && !reservation_open_ && !released_tenant_[tenant]) keep = false;
      if (k.behind && !behind_open_ && !released_tenant_[tenant]) keep = false;
    }
    if (!keep) {
      known.reset();
      while (auto p =
                 parked_->Next(core::TenantId(tenant), after ? &*after : nullptr, reservation_open_,
                               released_tenant_[tenant] != 0, behind_open_, context_.state)) {
        const Head candidate{p->job, p->position, false};
        if (!current_ || MergeOf(tenant, candidate) >= *current_) {
          known = *p;
          break;
        }
        after = p->position;  // its slot was passed while it could not fit
      }
      parked_head_known_[tenant] = 1;
    }
    if (known && (!head || known->position < head->position)) {
      if (!current_ || MergeOf(tenant, Head{known->job, known->position, false}) >= *current_) {
        head = Head{known->job, known->position, false};
      }
    }
  }
  return head;
}

QueueCursor::MergeKey QueueCursor::MergeOf(uint32_t tenant, const Head& head) const {
  if (shares_) {
    // Hierarchical: the tenant with the smallest share, then inside it the queue (project, or
    // the tenant's own jobs) with the smallest share. Without projects the second term is 0.
    const core::Pool& pool = context_.state.pool();
    const core::TenantId owner = pool.TenantOfQueue(core::QueueId(tenant));
    return {head.position.key[0],
            shares_->Of(owner),
            owner.value(),
            shares_->OfQueue(core::QueueId(tenant)),
            tenant,
            0,
            0};
  }
  return {head.position.key[0], 0.0, 0, 0.0, head.position.key[1], head.position.key[2],
          head.position.id};
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
    current_ = key;
    current_position_ = head->position;
    if (head->active) {
      ++emitted_active_;
    } else {
      emitted_parked_.push_back(head->job);
    }
    Push(e.tenant);
    return head->job;
  }
  return nullptr;
}

void QueueCursor::Bound(const QueuedJob& job, core::DeviceTypeId type) {
  if (shares_) {
    shares_->Add(job.spec->tenant, type, job.spec->TotalShare());
    if (job.spec->project) {
      shares_->AddQueue(core::QueueOfJob(context_.state.pool(), *job.spec), type,
                        job.spec->TotalShare());
    }
  }
}

void QueueCursor::Released(SegmentId s) {
  if (parked_ == nullptr) return;
  parked_->ReleasedInRound(s, context_.state);
  for (core::TenantId t : parked_->TenantsOn(s)) {
    parked_head_known_[t.value()] = 0;
    Push(t.value());
  }
}

void QueueCursor::ReservationSettled(std::optional<uint64_t> signature) {
  if (parked_ == nullptr) return;
  behind_open_ = !(signature && parked_->BehindSignature() == signature);
  std::fill(parked_head_known_.begin(), parked_head_known_.end(), 0);
}

void QueueCursor::TenantReleased(core::TenantId tenant) {
  if (parked_ == nullptr || tenant.value() >= released_tenant_.size()) return;
  for (core::QueueId q : context_.state.pool().QueuesOf(tenant)) {
    released_tenant_[q.value()] = 1;
    parked_head_known_[q.value()] = 0;
    Push(q.value());
  }
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
