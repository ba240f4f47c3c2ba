// Money on the control plane (issue 14): who may do what with prices, vouchers, accounts,
// invoices and statements (Billing does the arithmetic and the booking), the funds the
// scheduling rounds admit by, and the billing tick (voucher expiry, month rollover, the
// stop-at-limit policy).
//
// Authorization: reading a tenant's money (balance, vouchers, ledger, invoices) is the admin's or
// that tenant's; a tenant's token names only its own tenant (others are NotFound-free
// PermissionDenied naming the field). Prices are public to tenants. Granting, revoking,
// topping up, adjusting, setting credit and hard limits, issuing invoices and credit notes,
// statements and the audit log are the admin's; every admin action is audited.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "control/control_plane.h"
#include "sched/admission/funds.h"

namespace suanpan::control {
namespace {

Status AdminOnly(const Caller& caller, std::string_view what) {
  if (caller.role != Role::kAdmin) {
    return PermissionDeniedError(fmt::format("only an admin may {}", what));
  }
  return OkStatus();
}

}  // namespace

// A tenant reads its own; an admin names any (empty: all, where allowed).
StatusOr<std::string> ControlPlane::MoneyScope(const Caller& caller, const std::string& tenant,
                                               bool all_allowed) const {
  if (caller.role == Role::kAgent || caller.role == Role::kPartner) {
    return PermissionDeniedError(
        fmt::format("role {} may not read tenants' money", CallerRoleName(caller)));
  }
  if (caller.role == Role::kTenant) {
    if (!tenant.empty() && tenant != caller.scope) {
      return PermissionDeniedError(
                 fmt::format("tenant: this token may only read tenant '{}'", caller.scope))
          .WithField("tenant");
    }
    return caller.scope;
  }
  if (tenant.empty() && !all_allowed) return FieldError("tenant", "name the tenant");
  if (!tenant.empty() && !pool_->FindTenant(tenant)) {
    return FieldError("tenant", fmt::format("unknown tenant '{}'", tenant));
  }
  return tenant;
}

StatusOr<nlohmann::json> ControlPlane::Prices(const Caller& caller) const {
  if (caller.role == Role::kAgent) return PermissionDeniedError("agents may not read prices");
  return billing_.Prices(clock_.NowMs());
}

Status ControlPlane::SetPrice(const Caller& caller, const std::string& provider,
                              const std::string& type, MicroYuan price,
                              std::optional<int64_t> effective_ms) {
  SP_RETURN_IF_ERROR(AdminOnly(caller, "set prices"));
  const int64_t now = clock_.NowMs();
  return billing_.SetPrice(provider, type, price, effective_ms.value_or(now), caller.token_name,
                           now, batch_);
}

StatusOr<nlohmann::json> ControlPlane::GrantVoucher(const Caller& caller,
                                                    const VoucherRequest& request) {
  SP_RETURN_IF_ERROR(AdminOnly(caller, "grant vouchers"));
  auto v = billing_.Grant(request, caller.token_name, clock_.NowMs(), batch_);
  if (v.ok()) dirty_ = true;  // jobs waiting for funds are reconsidered
  return v;
}

Status ControlPlane::RevokeVoucher(const Caller& caller, const std::string& id) {
  SP_RETURN_IF_ERROR(AdminOnly(caller, "revoke vouchers"));
  return billing_.Revoke(id, caller.token_name, clock_.NowMs(), batch_);
}

StatusOr<nlohmann::json> ControlPlane::Vouchers(const Caller& caller,
                                                const std::string& tenant) const {
  SP_ASSIGN_OR_RETURN(std::string t, MoneyScope(caller, tenant, /*all_allowed=*/true));
  return billing_.Vouchers(t, clock_.NowMs());
}

StatusOr<nlohmann::json> ControlPlane::TopUp(const Caller& caller, const std::string& tenant,
                                             MicroYuan amount, const std::string& memo) {
  SP_RETURN_IF_ERROR(AdminOnly(caller, "top up an account"));
  auto r = billing_.TopUp(tenant, amount, memo, caller.token_name, clock_.NowMs(), batch_);
  if (r.ok()) dirty_ = true;
  return r;
}

StatusOr<nlohmann::json> ControlPlane::Adjust(const Caller& caller, const std::string& tenant,
                                              MicroYuan amount, const std::string& memo) {
  SP_RETURN_IF_ERROR(AdminOnly(caller, "adjust a balance"));
  auto r = billing_.Adjust(tenant, amount, memo, caller.token_name, clock_.NowMs(), batch_);
  if (r.ok()) dirty_ = true;
  return r;
}

StatusOr<nlohmann::json> ControlPlane::SetAccount(const Caller& caller, const std::string& tenant,
                                                  const AccountTerms& terms) {
  SP_ASSIGN_OR_RETURN(std::string t, MoneyScope(caller, tenant, /*all_allowed=*/false));
  if (caller.role == Role::kTenant && !caller.tenant_admin()) {
    return PermissionDeniedError(
        fmt::format("role {} may not set the account's terms (its tenant admin sets the budget)",
                    CallerRoleName(caller)));
  }
  SP_RETURN_IF_ERROR(billing_.SetAccount(t, terms, caller.role == Role::kAdmin, caller.token_name,
                                         clock_.NowMs(), batch_));
  dirty_ = true;
  return Balance(caller, t);
}

MicroYuan ControlPlane::AccruedOf(const std::string& tenant, int64_t now_ms) const {
  MicroYuan accrued(0);
  for (const sched::RunningJob* r : host_->state().Running()) {
    const JobRecord* j = jobs_.Find(r->spec->id.value());
    if (j == nullptr || j->runs.empty() || pool_->tenant(j->spec().tenant).name != tenant) {
      continue;
    }
    accrued += billing_.Accrued(j->runs.back(), now_ms);
  }
  return accrued;
}

StatusOr<nlohmann::json> ControlPlane::Balance(const Caller& caller,
                                               const std::string& tenant) const {
  SP_ASSIGN_OR_RETURN(std::string t, MoneyScope(caller, tenant, /*all_allowed=*/false));
  const int64_t now = clock_.NowMs();
  return billing_.Balance(t, now, AccruedOf(t, now));
}

StatusOr<nlohmann::json> ControlPlane::Ledger(const Caller& caller, const std::string& tenant,
                                              const std::string& month) const {
  SP_ASSIGN_OR_RETURN(std::string t, MoneyScope(caller, tenant, /*all_allowed=*/true));
  if (!month.empty()) SP_RETURN_IF_ERROR(core::ParseMonth(month).status().WithField("month"));
  return billing_.Ledger(t, month);
}

StatusOr<nlohmann::json> ControlPlane::DraftInvoice(const Caller& caller, const std::string& tenant,
                                                    const std::string& month) {
  SP_ASSIGN_OR_RETURN(std::string t, MoneyScope(caller, tenant, /*all_allowed=*/false));
  SP_ASSIGN_OR_RETURN(core::Month m, core::ParseMonth(month));
  RateOpenRuns(clock_.NowMs());
  return billing_.Draft(t, m);
}

StatusOr<nlohmann::json> ControlPlane::IssueInvoices(const Caller& caller,
                                                     const std::string& tenant,
                                                     const std::string& month) {
  SP_RETURN_IF_ERROR(AdminOnly(caller, "issue invoices"));
  SP_ASSIGN_OR_RETURN(core::Month m, core::ParseMonth(month));
  const int64_t now = clock_.NowMs();
  RateOpenRuns(now);  // the month's pieces of runs that go on are booked first
  nlohmann::json out = nlohmann::json::array();
  if (!tenant.empty()) {
    SP_ASSIGN_OR_RETURN(nlohmann::json doc,
                        billing_.Issue(tenant, m, caller.token_name, now, batch_));
    out.push_back(std::move(doc));
    return out;
  }
  // Every tenant that used something that month and has no invoice for it yet (a tenant named
  // alone gets one even if it is empty).
  SP_RETURN_IF_ERROR(billing_.MonthOver(m, now));
  std::vector<std::string> already;
  for (const core::Tenant& t : pool_->tenants()) {
    auto draft = billing_.Draft(t.name, m);
    if (draft.ok() && (*draft)["lines"].empty()) continue;
    auto doc = billing_.Issue(t.name, m, caller.token_name, now, batch_);
    if (doc.ok()) {
      out.push_back(std::move(*doc));
    } else if (doc.status().code() == StatusCode::kAlreadyExists) {
      already.push_back(doc.status().message());
    } else {
      return doc.status();
    }
  }
  if (out.empty() && !already.empty()) {
    return AlreadyExistsError(
        fmt::format("every invoice for {} is issued already ({}{})", month, already.front(),
                    already.size() > 1 ? fmt::format(", and {} more", already.size() - 1) : ""));
  }
  return out;
}

StatusOr<nlohmann::json> ControlPlane::CreditNote(const Caller& caller, const std::string& number,
                                                  MicroYuan amount, const std::string& reason) {
  SP_RETURN_IF_ERROR(AdminOnly(caller, "issue credit notes"));
  return billing_.CreditNote(number, amount, reason, caller.token_name, clock_.NowMs(), batch_);
}

StatusOr<nlohmann::json> ControlPlane::Invoices(const Caller& caller,
                                                const std::string& tenant) const {
  SP_ASSIGN_OR_RETURN(std::string t, MoneyScope(caller, tenant, /*all_allowed=*/true));
  return billing_.Invoices(t);
}

StatusOr<nlohmann::json> ControlPlane::InvoiceDocument(const Caller& caller,
                                                       const std::string& number) const {
  const store::InvoiceRow* r = billing_.FindInvoice(number);
  // Another tenant's invoice does not exist for this caller.
  if (r == nullptr || (caller.role == Role::kTenant && r->tenant != caller.scope) ||
      caller.role == Role::kAgent) {
    return NotFoundError(fmt::format("no invoice '{}'", number));
  }
  return nlohmann::json::parse(r->body);
}

StatusOr<nlohmann::json> ControlPlane::Statements(const Caller& caller, const std::string& month,
                                                  const std::string& provider) {
  std::string of = provider;
  if (caller.role == Role::kPartner) {  // a partner reads its own statement
    if (!of.empty() && of != caller.scope) {
      return PermissionDeniedError(
                 fmt::format("provider: this token may only read provider '{}'", caller.scope))
          .WithField("provider");
    }
    of = caller.scope;
  } else {
    SP_RETURN_IF_ERROR(AdminOnly(caller, "read partner statements"));
  }
  SP_ASSIGN_OR_RETURN(core::Month m, core::ParseMonth(month));
  if (!of.empty() && !pool_->FindProvider(of)) {
    return FieldError("provider", fmt::format("unknown provider '{}'", of));
  }
  RateOpenRuns(clock_.NowMs());
  return billing_.Statements(m, of);
}

StatusOr<nlohmann::json> ControlPlane::AuditLog(const Caller& caller, size_t limit) const {
  SP_RETURN_IF_ERROR(AdminOnly(caller, "read the audit log"));
  return billing_.AuditLog(limit);
}

// ---------------------------------------------------------------------------------------------
// Rating, funds and the billing tick.

void ControlPlane::RateOpenRuns(int64_t now_ms) {
  for (const sched::RunningJob* r : host_->state().Running()) {
    JobRecord* j = jobs_.Find(r->spec->id.value());
    if (j == nullptr || j->runs.empty()) continue;
    billing_.RateRun(pool_->tenant(j->spec().tenant).name, j->runs.back(), now_ms, batch_);
  }
}

void ControlPlane::RefreshFunds(int64_t now_ms) {
  std::vector<core::TenantFunds> tenants(pool_->tenants().size());
  bool any = false;
  for (size_t t = 0; t < tenants.size(); ++t) {
    tenants[t] = billing_.FundsOf(core::TenantId(static_cast<uint32_t>(t)), now_ms);
    any = any || !tenants[t].unlimited();
  }
  if (!any) {
    host_->SetFunds(std::nullopt);
    return;
  }
  // What running jobs of limited tenants have cost since their booked pieces, and are estimated
  // to cost until their expected end (at least until now).
  for (const sched::RunningJob* r : host_->state().Running()) {
    const JobRecord* j = jobs_.Find(r->spec->id.value());
    if (j == nullptr || j->runs.empty()) continue;
    core::TenantFunds& f = tenants[j->spec().tenant.value()];
    const store::RunRow& run = j->runs.back();
    if (f.unlimited() || run.end_ms || !run.price_micro) continue;
    f.committed +=
        sched::CommittedCost(MicroYuan(*run.price_micro), MilliDevices(run.devices_milli),
                             j->spec().ExpectedRuntime(), run.started_ms.value_or(now_ms), now_ms);
  }
  sched::FundsInput in;
  in.tenants = std::move(tenants);
  in.now_ms = now_ms;
  const auto& segments = host_->state().segments();
  in.segment_price.assign(segments.size(), -1);
  for (size_t s = 0; s < segments.size(); ++s) {
    if (auto p = billing_.PriceAt(segments[s].provider, segments[s].type, now_ms)) {
      in.segment_price[s] = p->value();
    }
  }
  host_->SetFunds(std::move(in));
}

void ControlPlane::BillingTick(int64_t now_ms) {
  if (now_ms - last_billing_tick_ms_ < 1000) return;
  last_billing_tick_ms_ = now_ms;
  const core::Month month = core::MonthOf(now_ms);
  if (month != rated_month_) {
    // A month ended: the pieces of the runs that go on are booked in the month they ran (before
    // vouchers that ended with the month expire: they pay for it).
    RateOpenRuns(now_ms);
    rated_month_ = month;
  }
  billing_.ExpireVouchers(now_ms, batch_);
  // Tenants whose account says stop at the limit: once what they can still pay (vouchers counted
  // whole, balance, credit room, budget left) is used up by what their running jobs have cost,
  // those jobs stop and queue again (they wait for funds).
  for (size_t t = 0; t < pool_->tenants().size(); ++t) {
    const std::string& name = pool_->tenants()[t].name;
    if (!billing_.OnExhaustedStop(name)) continue;
    const core::TenantFunds f = billing_.FundsOf(core::TenantId(static_cast<uint32_t>(t)), now_ms);
    if (f.unlimited()) continue;
    MicroYuan left = f.balance;
    for (const core::VoucherTerms& v : f.vouchers) {
      if (v.ValidAt(now_ms)) left += v.remaining;
    }
    if (f.credit_room) {
      left += std::max(*f.credit_room, MicroYuan(0));
    } else {
      left = MicroYuan::Max();
    }
    if (f.budget_left) left = std::min(left, *f.budget_left);
    const MicroYuan accrued = AccruedOf(name, now_ms);
    if (accrued.value() == 0 || accrued < left) continue;
    std::vector<JobRecord*> stop;
    for (const sched::RunningJob* r : host_->state().Running()) {
      JobRecord* j = jobs_.Find(r->spec->id.value());
      if (j != nullptr && j->spec().tenant.value() == t) stop.push_back(j);
    }
    for (JobRecord* j : stop) {
      const std::string why = fmt::format(
          "funds exhausted: tenant '{}' has used what it can pay ({} yuan) and its account "
          "stops at the limit",
          name, core::FormatYuan(std::min(left, accrued)));
      spdlog::info("job={} {}", j->id(), why);
      EndAttempt(*j, /*retry=*/true, /*lost=*/true, why);
    }
  }
}

}  // namespace suanpan::control
