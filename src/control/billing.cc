#include "control/billing.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/text.h"
#include "control/control_plane.h"  // FormatTimeMs

namespace suanpan::control {
namespace {

using json = nlohmann::json;
using core::FormatYuan;
using core::Month;

std::string TenantBalance(const std::string& t) { return "tenant:" + t + ":balance"; }
std::string TenantCredit(const std::string& t) { return "tenant:" + t + ":credit"; }
std::string VoucherAccount(const std::string& id) { return "voucher:" + id; }
std::string ProviderAccount(const std::string& p) { return "provider:" + p; }

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string JoinList(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

// 3,600,000,000 milli-device-ms are one device-hour: "12.500".
std::string DeviceHours(int64_t milli_ms) {
  const int64_t milli_hours = (milli_ms + 1'800'000) / 3'600'000;
  return fmt::format("{}.{:03}", milli_hours / 1000, milli_hours % 1000);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Loading and checking.

Status Billing::Load(const store::Snapshot& snapshot) {
  for (const store::PriceRow& r : snapshot.prices) {
    prices_[{r.provider, r.device_type}][r.effective_ms] = r;
  }
  for (const store::AccountRow& r : snapshot.accounts) accounts_[r.tenant] = r;
  for (const store::VoucherRow& r : snapshot.vouchers) {
    Voucher v;
    v.row = r;
    v.terms.id = r.id;
    v.terms.valid_from_ms = r.valid_from_ms;
    v.terms.valid_to_ms = r.valid_to_ms;
    v.terms.cap_permille = r.cap_permille;
    // A name the pool no longer has matches nothing (an invalid id), so a voucher limited to a
    // type that left the pool does not become a voucher for every type.
    for (const std::string& t : SplitList(r.device_types)) {
      auto id = pool_.catalog().Find(t);
      v.terms.types.push_back(id ? *id : core::DeviceTypeId::Invalid());
    }
    for (const std::string& p : SplitList(r.providers)) {
      auto id = pool_.FindProvider(p);
      v.terms.providers.push_back(id ? *id : core::ProviderId::Invalid());
    }
    v.closed = r.revoked_ms.has_value();
    vouchers_[r.id] = std::move(v);
  }
  next_voucher_ = static_cast<int64_t>(vouchers_.size()) + 1;
  for (const store::LedgerRow& r : snapshot.ledger) {
    Apply(r);
    next_txn_ = std::max(next_txn_, r.txn + 1);
  }
  for (auto& [id, v] : vouchers_) {
    v.terms.remaining = BalanceOf(VoucherAccount(id));
    if (refs_.count("expiry:" + id) || refs_.count("revoke:" + id)) v.closed = true;
  }
  for (const store::InvoiceRow& r : snapshot.invoices) {
    invoice_by_number_[r.number] = invoices_.size();
    invoices_.push_back(r);
  }
  audit_ = snapshot.audit;
  return Verify();
}

Status Billing::Verify() const {
  std::map<int64_t, int64_t> sums;
  std::map<std::string, int64_t> balances;
  for (const store::LedgerRow& r : ledger_) {
    sums[r.txn] += r.amount_micro;
    balances[r.account] += r.amount_micro;
  }
  for (const auto& [txn, sum] : sums) {
    if (sum != 0) {
      return FailedPreconditionError(
          fmt::format("ledger: transaction {} does not balance (its lines sum to {})", txn, sum));
    }
  }
  for (const auto& [account, sum] : balances) {
    auto it = balances_.find(account);
    if (it == balances_.end() || it->second.value() != sum) {
      return InternalError(
          fmt::format("ledger: the balance kept for {} differs from its lines", account));
    }
    const bool must_not_be_negative =
        account.starts_with("voucher:") || account.ends_with(":balance");
    if (must_not_be_negative && sum < 0) {
      return FailedPreconditionError(fmt::format("ledger: {} is negative ({})", account, sum));
    }
  }
  for (const auto& [id, v] : vouchers_) {
    if (v.terms.remaining != BalanceOf(VoucherAccount(id))) {
      return InternalError(fmt::format("ledger: what is left of voucher {} differs", id));
    }
  }
  return OkStatus();
}

void Billing::Apply(const store::LedgerRow& row) {
  const size_t index = ledger_.size();
  ledger_.push_back(row);
  balances_[row.account] += MicroYuan(row.amount_micro);
  refs_.insert(row.ref);
  by_tenant_month_[{row.tenant, row.month}].push_back(index);
  by_month_[row.month].push_back(index);
  if (row.kind == "charge" && row.account.starts_with("provider:")) {
    spent_[{row.tenant, row.month}] += MicroYuan(row.amount_micro);
  }
}

int64_t Billing::Book(const std::string& kind, const std::string& ref, const std::string& tenant,
                      int64_t time_ms, const std::string& month, const std::vector<Line>& lines,
                      const store::LedgerRow& extra, store::WriteBatch& batch) {
  int64_t sum = 0;
  for (const Line& l : lines) sum += l.amount.value();
  SP_CHECK(sum == 0) << "unbalanced transaction " << ref;
  const int64_t txn = next_txn_++;
  int n = 0;
  for (const Line& l : lines) {
    store::LedgerRow r = extra;
    r.txn = txn;
    r.line = ++n;
    r.time_ms = time_ms;
    r.kind = kind;
    r.ref = ref;
    r.account = l.account;
    r.amount_micro = l.amount.value();
    r.tenant = tenant;
    r.month = month;
    Apply(r);
    if (l.account.starts_with("voucher:")) {
      auto it = vouchers_.find(l.account.substr(8));
      if (it != vouchers_.end()) it->second.terms.remaining = BalanceOf(l.account);
    }
    batch.ledger.push_back(std::move(r));
  }
  return txn;
}

MicroYuan Billing::BalanceOf(const std::string& account) const {
  auto it = balances_.find(account);
  return it == balances_.end() ? MicroYuan(0) : it->second;
}

MicroYuan Billing::SpentIn(const std::string& tenant, const std::string& month) const {
  auto it = spent_.find({tenant, month});
  return it == spent_.end() ? MicroYuan(0) : it->second;
}

StatusOr<core::TenantId> Billing::FindTenant(const std::string& tenant) const {
  auto id = pool_.FindTenant(tenant);
  if (!id) return FieldError("tenant", fmt::format("unknown tenant '{}'", tenant));
  return *id;
}

store::AccountRow Billing::AccountOf(const std::string& tenant) const {
  auto it = accounts_.find(tenant);
  if (it != accounts_.end()) return it->second;
  store::AccountRow r;
  r.tenant = tenant;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Prices.

std::optional<MicroYuan> Billing::PriceAt(core::ProviderId provider, core::DeviceTypeId type,
                                          int64_t ms) const {
  const core::Provider& p = pool_.provider(provider);
  auto it = prices_.find({p.name, pool_.catalog().Get(type).name});
  if (it != prices_.end()) {
    auto e = it->second.upper_bound(ms);
    if (e != it->second.begin()) return MicroYuan(std::prev(e)->second.price_micro);
  }
  return p.price_per_device_hour[type.value()];
}

Status Billing::SetPrice(const std::string& provider, const std::string& type, MicroYuan price,
                         int64_t effective_ms, const std::string& actor, int64_t now_ms,
                         store::WriteBatch& batch) {
  if (!pool_.FindProvider(provider)) {
    return FieldError("provider", fmt::format("unknown provider '{}'", provider));
  }
  if (!pool_.catalog().Find(type)) {
    return FieldError("device_type", fmt::format("unknown device type '{}' (known: {})", type,
                                                 pool_.catalog().Names()));
  }
  if (price.value() <= 0) return FieldError("price", "must be more than 0");
  // A price applies to runs that start after it: it cannot reach back (a minute of slack for
  // clocks), so no run's frozen price is ever contradicted by the list.
  if (effective_ms < now_ms - 60'000) {
    return FieldError("effective", fmt::format("{} is in the past: a price applies to runs "
                                               "that start after it",
                                               FormatTimeMs(effective_ms)));
  }
  store::PriceRow r{provider, type, std::max(effective_ms, now_ms), price.value(), now_ms, actor};
  prices_[{provider, type}][r.effective_ms] = r;
  batch.prices.push_back(r);
  Audit(actor, "price.set",
        {{"provider", provider},
         {"device_type", type},
         {"price_micro", price.value()},
         {"effective", FormatTimeMs(r.effective_ms)}},
        now_ms, batch);
  return OkStatus();
}

json Billing::Prices(int64_t now_ms) const {
  json out = json::array();
  for (size_t p = 0; p < pool_.providers().size(); ++p) {
    const core::Provider& prov = pool_.providers()[p];
    for (size_t t = 0; t < pool_.catalog().size(); ++t) {
      const core::DeviceTypeId type(static_cast<uint32_t>(t));
      const std::string& tname = pool_.catalog().Get(type).name;
      auto list = prices_.find({prov.name, tname});
      if (!prov.price_per_device_hour[t] && list == prices_.end()) continue;
      json e = {{"provider", prov.name}, {"device_type", tname}};
      const auto now = PriceAt(core::ProviderId(static_cast<uint32_t>(p)), type, now_ms);
      e["price_micro"] = now ? json(now->value()) : json(nullptr);
      e["pool_file_price_micro"] = prov.price_per_device_hour[t]
                                       ? json(prov.price_per_device_hour[t]->value())
                                       : json(nullptr);
      json changes = json::array();
      if (list != prices_.end()) {
        for (const auto& [eff, r] : list->second) {
          changes.push_back({{"effective", FormatTimeMs(eff)},
                             {"effective_ms", eff},
                             {"price_micro", r.price_micro},
                             {"set_by", r.set_by}});
        }
      }
      e["changes"] = std::move(changes);
      out.push_back(std::move(e));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Vouchers and accounts.

StatusOr<json> Billing::Grant(const VoucherRequest& q, const std::string& actor, int64_t now_ms,
                              store::WriteBatch& batch) {
  SP_RETURN_IF_ERROR(FindTenant(q.tenant).status());
  std::string id = q.id;
  if (id.empty()) {
    do {
      id = fmt::format("V-{:04}", next_voucher_++);
    } while (vouchers_.count(id));
  } else if (!IsSafeToken(id, 64)) {
    return FieldError("id", "1..64 characters of A-Z a-z 0-9 . _ : -");
  } else if (vouchers_.count(id)) {
    return AlreadyExistsError(fmt::format("voucher '{}' exists", id)).WithField("id");
  }
  if (q.amount.value() <= 0) return FieldError("amount", "must be more than 0");
  if (q.valid_to_ms <= q.valid_from_ms) return FieldError("valid_to", "must be after valid_from");
  if (q.valid_to_ms <= now_ms) {
    return FieldError("valid_to", fmt::format("{} is already over", FormatTimeMs(q.valid_to_ms)));
  }
  if (q.cap_percent < 1 || q.cap_percent > 100) {
    return FieldError("cap_percent", fmt::format("must be 1..100, got {}", q.cap_percent));
  }
  Voucher v;
  for (const std::string& t : q.device_types) {
    auto type = pool_.catalog().Find(t);
    if (!type) {
      return FieldError("device_types", fmt::format("unknown device type '{}' (known: {})", t,
                                                    pool_.catalog().Names()));
    }
    v.terms.types.push_back(*type);
  }
  for (const std::string& p : q.providers) {
    auto prov = pool_.FindProvider(p);
    if (!prov) return FieldError("providers", fmt::format("unknown provider '{}'", p));
    v.terms.providers.push_back(*prov);
  }
  v.row = {id,
           q.tenant,
           q.amount.value(),
           q.valid_from_ms,
           q.valid_to_ms,
           JoinList(q.device_types),
           JoinList(q.providers),
           q.cap_percent * 10,
           q.programme,
           now_ms,
           std::nullopt};
  v.terms.id = id;
  v.terms.valid_from_ms = q.valid_from_ms;
  v.terms.valid_to_ms = q.valid_to_ms;
  v.terms.cap_permille = q.cap_percent * 10;
  batch.vouchers.push_back(v.row);
  vouchers_[id] = std::move(v);
  store::LedgerRow extra;
  extra.memo = q.programme.empty() ? "voucher granted" : q.programme;
  Book("grant", "grant:" + id, q.tenant, now_ms, core::MonthOf(now_ms).ToString(),
       {{"external:programme", -q.amount}, {VoucherAccount(id), q.amount}}, extra, batch);
  Audit(actor, "voucher.grant",
        {{"id", id}, {"tenant", q.tenant}, {"amount_micro", q.amount.value()}}, now_ms, batch);
  return VoucherJson(vouchers_[id], now_ms);
}

Status Billing::Revoke(const std::string& id, const std::string& actor, int64_t now_ms,
                       store::WriteBatch& batch) {
  auto it = vouchers_.find(id);
  if (it == vouchers_.end()) return NotFoundError(fmt::format("no voucher '{}'", id));
  Voucher& v = it->second;
  if (v.closed) {
    return FailedPreconditionError(
        fmt::format("voucher '{}' is {} already", id, v.row.revoked_ms ? "revoked" : "expired"));
  }
  v.closed = true;
  v.row.revoked_ms = now_ms;
  batch.vouchers.push_back(v.row);
  if (v.terms.remaining.value() > 0) {
    store::LedgerRow extra;
    extra.memo = "revoked: its rest is void";
    const MicroYuan rest = v.terms.remaining;
    Book("revoke", "revoke:" + id, v.row.tenant, now_ms, core::MonthOf(now_ms).ToString(),
         {{VoucherAccount(id), -rest}, {"external:void", rest}}, extra, batch);
  }
  Audit(actor, "voucher.revoke", {{"id", id}, {"tenant", v.row.tenant}}, now_ms, batch);
  return OkStatus();
}

void Billing::ExpireVouchers(int64_t now_ms, store::WriteBatch& batch) {
  for (auto& [id, v] : vouchers_) {
    if (v.closed || v.terms.valid_to_ms > now_ms) continue;
    v.closed = true;
    const MicroYuan rest = v.terms.remaining;
    if (rest.value() <= 0) continue;
    store::LedgerRow extra;
    extra.memo = "expired: its rest is void";
    Book("expiry", "expiry:" + id, v.row.tenant, v.terms.valid_to_ms,
         core::MonthOf(v.terms.valid_to_ms - 1).ToString(),
         {{VoucherAccount(id), -rest}, {"external:void", rest}}, extra, batch);
  }
}

json Billing::VoucherJson(const Voucher& v, int64_t now_ms) const {
  std::string state = "active";
  if (v.row.revoked_ms) {
    state = "revoked";
  } else if (v.closed || v.terms.valid_to_ms <= now_ms) {
    state = "expired";
  } else if (v.terms.valid_from_ms > now_ms) {
    state = "not_yet_valid";
  } else if (v.terms.remaining.value() == 0) {
    state = "used_up";
  }
  MicroYuan drawn(0);
  const std::string account = VoucherAccount(v.row.id);
  for (const auto& [key, idx] : by_tenant_month_) {
    if (key.first != v.row.tenant) continue;
    for (size_t i : idx) {
      if (ledger_[i].account == account && ledger_[i].kind == "charge") {
        drawn -= MicroYuan(ledger_[i].amount_micro);
      }
    }
  }
  return {{"id", v.row.id},
          {"tenant", v.row.tenant},
          {"amount_micro", v.row.amount_micro},
          {"remaining_micro", v.terms.remaining.value()},
          {"drawn_micro", drawn.value()},
          {"valid_from", FormatTimeMs(v.row.valid_from_ms)},
          {"valid_to", FormatTimeMs(v.row.valid_to_ms)},
          {"device_types", SplitList(v.row.device_types)},
          {"providers", SplitList(v.row.providers)},
          {"cap_percent", v.row.cap_permille / 10},
          {"programme", v.row.programme},
          {"state", state}};
}

json Billing::Vouchers(const std::string& tenant, int64_t now_ms) const {
  std::vector<const Voucher*> list;
  for (const auto& [id, v] : vouchers_) {
    if (tenant.empty() || v.row.tenant == tenant) list.push_back(&v);
  }
  std::sort(list.begin(), list.end(), [](const Voucher* a, const Voucher* b) {
    return core::DrawsBefore(a->terms, b->terms);
  });
  json out = json::array();
  for (const Voucher* v : list) out.push_back(VoucherJson(*v, now_ms));
  return out;
}

std::optional<std::string> Billing::VoucherTenant(const std::string& id) const {
  auto it = vouchers_.find(id);
  if (it == vouchers_.end()) return std::nullopt;
  return it->second.row.tenant;
}

StatusOr<json> Billing::TopUp(const std::string& tenant, MicroYuan amount, const std::string& memo,
                              const std::string& actor, int64_t now_ms, store::WriteBatch& batch) {
  SP_RETURN_IF_ERROR(FindTenant(tenant).status());
  if (amount.value() <= 0) return FieldError("amount", "must be more than 0");
  // A top-up first pays what the tenant owes, then adds to its prepaid balance.
  const MicroYuan owed = std::max(-BalanceOf(TenantCredit(tenant)), MicroYuan(0));
  const MicroYuan repay = std::min(owed, amount);
  std::vector<Line> lines = {{"external:cash", -amount}};
  if (repay.value() > 0) lines.push_back({TenantCredit(tenant), repay});
  if (amount > repay) lines.push_back({TenantBalance(tenant), amount - repay});
  store::LedgerRow extra;
  extra.memo = memo.empty() ? "top-up" : memo;
  const int64_t txn = Book("topup", fmt::format("topup:{}", next_txn_), tenant, now_ms,
                           core::MonthOf(now_ms).ToString(), lines, extra, batch);
  Audit(actor, "account.topup",
        {{"tenant", tenant}, {"amount_micro", amount.value()}, {"txn", txn}}, now_ms, batch);
  return json{{"txn", txn},
              {"tenant", tenant},
              {"amount_micro", amount.value()},
              {"repaid_micro", repay.value()},
              {"balance_micro", BalanceOf(TenantBalance(tenant)).value()}};
}

StatusOr<json> Billing::Adjust(const std::string& tenant, MicroYuan amount, const std::string& memo,
                               const std::string& actor, int64_t now_ms, store::WriteBatch& batch) {
  SP_RETURN_IF_ERROR(FindTenant(tenant).status());
  if (amount.value() == 0) return FieldError("amount", "must not be 0");
  if (memo.empty()) return FieldError("memo", "say why the balance is adjusted");
  if (BalanceOf(TenantBalance(tenant)) + amount < MicroYuan(0)) {
    return FailedPreconditionError(fmt::format("tenant '{}' has {} yuan: it cannot go below 0",
                                               tenant,
                                               FormatYuan(BalanceOf(TenantBalance(tenant)))));
  }
  store::LedgerRow extra;
  extra.memo = memo;
  const int64_t txn =
      Book("adjustment", fmt::format("adjustment:{}", next_txn_), tenant, now_ms,
           core::MonthOf(now_ms).ToString(),
           {{TenantBalance(tenant), amount}, {"external:adjustment", -amount}}, extra, batch);
  Audit(actor, "account.adjust",
        {{"tenant", tenant}, {"amount_micro", amount.value()}, {"memo", memo}}, now_ms, batch);
  return json{{"txn", txn}, {"balance_micro", BalanceOf(TenantBalance(tenant)).value()}};
}

Status Billing::SetAccount(const std::string& tenant, const AccountTerms& t, bool admin,
                           const std::string& actor, int64_t now_ms, store::WriteBatch& batch) {
  SP_RETURN_IF_ERROR(FindTenant(tenant).status());
  if (!admin && (t.credit_limit || t.clear_credit_limit || t.hard_limit || t.clear_hard_limit ||
                 t.on_exhausted)) {
    return PermissionDeniedError(
        "a tenant sets only its monthly budget; the credit limit, the hard limit and the "
        "exhaustion policy are the admin's");
  }
  store::AccountRow r = AccountOf(tenant);
  auto check = [](std::string_view field, const std::optional<MicroYuan>& v) -> Status {
    if (v && v->value() < 0) return FieldError(field, "must not be negative");
    return OkStatus();
  };
  SP_RETURN_IF_ERROR(check("credit_limit", t.credit_limit));
  SP_RETURN_IF_ERROR(check("monthly_budget", t.monthly_budget));
  SP_RETURN_IF_ERROR(check("hard_limit", t.hard_limit));
  if (t.credit_limit) r.credit_limit_micro = t.credit_limit->value();
  if (t.clear_credit_limit) r.credit_limit_micro.reset();
  if (t.monthly_budget) r.monthly_budget_micro = t.monthly_budget->value();
  if (t.clear_monthly_budget) r.monthly_budget_micro.reset();
  if (t.hard_limit) r.hard_limit_micro = t.hard_limit->value();
  if (t.clear_hard_limit) r.hard_limit_micro.reset();
  if (t.on_exhausted) {
    if (*t.on_exhausted != "finish" && *t.on_exhausted != "stop") {
      return FieldError("on_exhausted",
                        fmt::format("must be finish or stop, got '{}'", *t.on_exhausted));
    }
    r.on_exhausted = *t.on_exhausted;
  }
  accounts_[tenant] = r;
  batch.accounts.push_back(r);
  auto opt = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
  Audit(actor, "account.set",
        {{"tenant", tenant},
         {"credit_limit_micro", opt(r.credit_limit_micro)},
         {"monthly_budget_micro", opt(r.monthly_budget_micro)},
         {"hard_limit_micro", opt(r.hard_limit_micro)},
         {"on_exhausted", r.on_exhausted}},
        now_ms, batch);
  return OkStatus();
}

bool Billing::OnExhaustedStop(const std::string& tenant) const {
  return AccountOf(tenant).on_exhausted == "stop";
}

core::TenantFunds Billing::FundsOf(core::TenantId tenant, int64_t now_ms) const {
  const std::string& name = pool_.tenant(tenant).name;
  const store::AccountRow a = AccountOf(name);
  core::TenantFunds f;
  for (const auto& [id, v] : vouchers_) {
    if (v.row.tenant == name && !v.closed && v.terms.remaining.value() > 0) {
      f.vouchers.push_back(v.terms);
    }
  }
  f.balance = BalanceOf(TenantBalance(name));
  const MicroYuan owed = std::max(-BalanceOf(TenantCredit(name)), MicroYuan(0));
  if (a.credit_limit_micro) f.credit_room = MicroYuan(*a.credit_limit_micro) - owed;
  std::optional<int64_t> cap = a.monthly_budget_micro;
  if (a.hard_limit_micro) cap = cap ? std::min(*cap, *a.hard_limit_micro) : *a.hard_limit_micro;
  if (cap) f.budget_left = MicroYuan(*cap) - SpentIn(name, core::MonthOf(now_ms).ToString());
  return f;
}

json Billing::Balance(const std::string& tenant, int64_t now_ms, MicroYuan accrued) const {
  const store::AccountRow a = AccountOf(tenant);
  const std::string month = core::MonthOf(now_ms).ToString();
  const MicroYuan owed = std::max(-BalanceOf(TenantCredit(tenant)), MicroYuan(0));
  MicroYuan vouchers(0);
  for (const auto& [id, v] : vouchers_) {
    if (v.row.tenant == tenant && !v.closed && v.terms.ValidAt(now_ms)) {
      vouchers += v.terms.remaining;
    }
  }
  auto opt = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
  json out = {{"tenant", tenant},
              {"balance_micro", BalanceOf(TenantBalance(tenant)).value()},
              {"owed_micro", owed.value()},
              {"credit_limit_micro", opt(a.credit_limit_micro)},
              {"vouchers_micro", vouchers.value()},
              {"month", month},
              {"spent_micro", SpentIn(tenant, month).value()},
              {"accrued_micro", accrued.value()},
              {"monthly_budget_micro", opt(a.monthly_budget_micro)},
              {"hard_limit_micro", opt(a.hard_limit_micro)},
              {"on_exhausted", a.on_exhausted},
              {"vouchers", Vouchers(tenant, now_ms)}};
  if (a.credit_limit_micro) {
    out["credit_left_micro"] = (MicroYuan(*a.credit_limit_micro) - owed).value();
  }
  return out;
}

json Billing::Ledger(const std::string& tenant, const std::string& month) const {
  json out = json::array();
  for (const store::LedgerRow& r : ledger_) {
    if (!tenant.empty() && r.tenant != tenant) continue;
    if (!month.empty() && r.month != month) continue;
    json e = {{"txn", r.txn},
              {"line", r.line},
              {"time", FormatTimeMs(r.time_ms)},
              {"kind", r.kind},
              {"ref", r.ref},
              {"account", r.account},
              {"amount_micro", r.amount_micro},
              {"tenant", r.tenant},
              {"month", r.month},
              {"memo", r.memo}};
    if (r.kind == "charge") {
      e["provider"] = r.provider;
      e["device_type"] = r.device_type;
      e["job"] = r.job_id;
      e["attempt"] = r.attempt;
    }
    out.push_back(std::move(e));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rating.

void Billing::RateRun(const std::string& tenant, const store::RunRow& run, int64_t up_to_ms,
                      store::WriteBatch& batch) {
  if (!run.started_ms) return;  // never started: not billed
  const int64_t start = *run.started_ms;
  // An open run is booked up to the start of the month `up_to_ms` is in (complete months only).
  const int64_t end = run.end_ms ? *run.end_ms : core::MonthOf(up_to_ms).StartMs();
  if (end <= start) return;
  auto provider = pool_.FindProvider(run.provider);
  auto type = pool_.catalog().Find(run.device_type);
  std::optional<MicroYuan> price;
  if (run.price_micro) {
    price = MicroYuan(*run.price_micro);
  } else if (provider && type) {
    price = PriceAt(*provider, *type, start);  // runs stored before prices were frozen
  }
  if (!price) return;  // a type the provider does not price costs nothing
  const MilliDevices share(run.devices_milli);
  for (Month m = core::MonthOf(start); m.StartMs() < end; m = m.Next()) {
    const int64_t from = std::max(start, m.StartMs());
    const int64_t to = std::min(end, m.EndMs());
    if (to <= from) continue;
    const std::string ref = fmt::format("charge:{}:{}:{}", run.job_id, run.attempt, m.ToString());
    if (refs_.count(ref)) continue;
    const MicroYuan amount = core::RateRun(*price, share, to - from);
    const int64_t at = to - 1;  // the last millisecond it meters
    std::vector<std::string> ids;
    std::vector<core::VoucherTerms> terms;
    for (const auto& [id, v] : vouchers_) {
      if (v.row.tenant == tenant && !v.closed) {
        ids.push_back(id);
        terms.push_back(v.terms);
      }
    }
    const core::Draw d = core::DrawCharge(
        amount, at, provider ? *provider : core::ProviderId::Invalid(),
        type ? *type : core::DeviceTypeId::Invalid(), terms, BalanceOf(TenantBalance(tenant)));
    std::vector<Line> lines = {{ProviderAccount(run.provider), amount}};
    for (const auto& [i, pay] : d.vouchers) lines.push_back({VoucherAccount(ids[i]), -pay});
    if (d.balance.value() > 0) lines.push_back({TenantBalance(tenant), -d.balance});
    if (d.credit.value() > 0) lines.push_back({TenantCredit(tenant), -d.credit});
    store::LedgerRow extra;
    extra.provider = run.provider;
    extra.device_type = run.device_type;
    extra.price_micro = price->value();
    extra.milli_ms = run.devices_milli * (to - from);
    extra.job_id = run.job_id;
    extra.attempt = run.attempt;
    extra.memo = fmt::format("job {} attempt {}", run.job_id, run.attempt);
    Book("charge", ref, tenant, at, m.ToString(), lines, extra, batch);
  }
}

MicroYuan Billing::Accrued(const store::RunRow& run, int64_t now_ms) const {
  if (!run.started_ms || run.end_ms) return MicroYuan(0);
  const int64_t from = std::max(*run.started_ms, core::MonthOf(now_ms).StartMs());
  if (now_ms <= from) return MicroYuan(0);
  std::optional<MicroYuan> price;
  if (run.price_micro) price = MicroYuan(*run.price_micro);
  if (!price) return MicroYuan(0);
  return core::RateRun(*price, MilliDevices(run.devices_milli), now_ms - from);
}

// ---------------------------------------------------------------------------------------------
// Invoices and statements.

json Billing::Document(const std::string& tenant, Month month) const {
  struct Group {
    int64_t milli_ms = 0;
    MicroYuan amount;
    std::set<std::pair<uint64_t, int>> runs;
  };
  std::map<std::tuple<std::string, std::string, int64_t>, Group> groups;
  std::map<std::string, MicroYuan> by_voucher;
  MicroYuan subtotal, balance_used, credit_used;
  auto it = by_tenant_month_.find({tenant, month.ToString()});
  if (it != by_tenant_month_.end()) {
    for (size_t i : it->second) {
      const store::LedgerRow& r = ledger_[i];
      if (r.kind != "charge") continue;
      const MicroYuan a(r.amount_micro);
      if (r.account.starts_with("provider:")) {
        Group& g = groups[{r.provider, r.device_type, r.price_micro}];
        g.milli_ms += r.milli_ms;
        g.amount += a;
        g.runs.emplace(r.job_id, r.attempt);
        subtotal += a;
      } else if (r.account.starts_with("voucher:")) {
        by_voucher[r.account.substr(8)] -= a;
      } else if (r.account.ends_with(":balance")) {
        balance_used -= a;
      } else if (r.account.ends_with(":credit")) {
        credit_used -= a;
      }
    }
  }
  json lines = json::array();
  for (const auto& [key, g] : groups) {
    const auto& [provider, type, price] = key;
    lines.push_back({{"provider", provider},
                     {"device_type", type},
                     {"device_hours", DeviceHours(g.milli_ms)},
                     {"milli_device_ms", g.milli_ms},
                     {"unit_price_micro", price},
                     {"amount_micro", g.amount.value()},
                     {"runs", g.runs.size()}});
  }
  json vouchers = json::array();
  MicroYuan vouchers_total;
  for (const auto& [id, amount] : by_voucher) {
    auto v = vouchers_.find(id);
    vouchers.push_back({{"voucher", id},
                        {"programme", v == vouchers_.end() ? "" : v->second.row.programme},
                        {"amount_micro", amount.value()}});
    vouchers_total += amount;
  }
  return {{"kind", "invoice"},
          {"tenant", tenant},
          {"month", month.ToString()},
          {"period_from", FormatTimeMs(month.StartMs())},
          {"period_to", FormatTimeMs(month.EndMs())},
          {"lines", std::move(lines)},
          {"subtotal_micro", subtotal.value()},
          {"vouchers", std::move(vouchers)},
          {"vouchers_total_micro", vouchers_total.value()},
          {"balance_used_micro", balance_used.value()},
          {"credit_used_micro", credit_used.value()},
          {"total_due_micro", credit_used.value()}};
}

StatusOr<json> Billing::Draft(const std::string& tenant, Month month) const {
  SP_RETURN_IF_ERROR(FindTenant(tenant).status());
  json doc = Document(tenant, month);
  doc["number"] = nullptr;
  doc["status"] = "draft";
  return doc;
}

Status Billing::MonthOver(Month month, int64_t now_ms) {
  if (now_ms >= month.EndMs()) return OkStatus();
  return FailedPreconditionError(
             fmt::format("month {} is not over (it ends {}): `suanpan invoices show` gives the "
                         "draft so far",
                         month.ToString(), FormatTimeMs(month.EndMs())))
      .WithField("month");
}

StatusOr<json> Billing::Issue(const std::string& tenant, Month month, const std::string& actor,
                              int64_t now_ms, store::WriteBatch& batch) {
  SP_RETURN_IF_ERROR(FindTenant(tenant).status());
  SP_RETURN_IF_ERROR(MonthOver(month, now_ms));
  int count = 0;
  for (const store::InvoiceRow& r : invoices_) {
    if (r.month != month.ToString() || r.kind != "invoice") continue;
    ++count;
    if (r.tenant == tenant) {
      return AlreadyExistsError(fmt::format("the invoice of tenant '{}' for {} is issued: {}",
                                            tenant, month.ToString(), r.number));
    }
  }
  json doc = Document(tenant, month);
  const std::string number = fmt::format("INV-{}-{:04}", month.ToString(), count + 1);
  doc["number"] = number;
  doc["status"] = "issued";
  doc["issued"] = FormatTimeMs(now_ms);
  store::InvoiceRow r{number, "invoice", tenant, month.ToString(), now_ms, "", doc.dump()};
  invoice_by_number_[number] = invoices_.size();
  invoices_.push_back(r);
  batch.invoices.push_back(r);
  Audit(actor, "invoice.issue", {{"number", number}, {"tenant", tenant}}, now_ms, batch);
  return doc;
}

StatusOr<json> Billing::CreditNote(const std::string& number, MicroYuan amount,
                                   const std::string& reason, const std::string& actor,
                                   int64_t now_ms, store::WriteBatch& batch) {
  const store::InvoiceRow* inv = FindInvoice(number);
  if (inv == nullptr || inv->kind != "invoice") {
    return NotFoundError(fmt::format("no issued invoice '{}'", number));
  }
  if (reason.empty()) return FieldError("reason", "say what the credit note corrects");
  if (amount.value() <= 0) return FieldError("amount", "must be more than 0");
  const json doc = json::parse(inv->body);
  MicroYuan left(doc.value("subtotal_micro", int64_t{0}));
  int count = 0;
  for (const store::InvoiceRow& r : invoices_) {
    if (r.kind != "credit_note") continue;
    if (r.month == inv->month) ++count;
    if (r.corrects == number)
      left -= MicroYuan(json::parse(r.body).value("amount_micro", int64_t{0}));
  }
  if (amount > left) {
    return FieldError(
        "amount", fmt::format("at most {} yuan is left to credit on {}", FormatYuan(left), number));
  }
  const std::string cn = fmt::format("CN-{}-{:04}", inv->month, count + 1);
  store::LedgerRow extra;
  extra.memo = fmt::format("{} corrects {}: {}", cn, number, reason);
  Book("refund", "refund:" + cn, inv->tenant, now_ms, inv->month,
       {{"hub:refunds", -amount}, {TenantBalance(inv->tenant), amount}}, extra, batch);
  json body = {{"kind", "credit_note"}, {"number", cn},
               {"corrects", number},    {"tenant", inv->tenant},
               {"month", inv->month},   {"amount_micro", amount.value()},
               {"reason", reason},      {"issued", FormatTimeMs(now_ms)},
               {"status", "issued"}};
  store::InvoiceRow r{cn, "credit_note", inv->tenant, inv->month, now_ms, number, body.dump()};
  invoice_by_number_[cn] = invoices_.size();
  invoices_.push_back(r);
  batch.invoices.push_back(r);
  Audit(actor, "invoice.credit_note",
        {{"number", cn}, {"corrects", number}, {"amount_micro", amount.value()}}, now_ms, batch);
  return body;
}

json Billing::Invoices(const std::string& tenant) const {
  json out = json::array();
  for (const store::InvoiceRow& r : invoices_) {
    if (!tenant.empty() && r.tenant != tenant) continue;
    const json doc = json::parse(r.body);
    out.push_back({{"number", r.number},
                   {"kind", r.kind},
                   {"tenant", r.tenant},
                   {"month", r.month},
                   {"issued", FormatTimeMs(r.issued_ms)},
                   {"corrects", r.corrects},
                   {"subtotal_micro", doc.value("subtotal_micro", int64_t{0})},
                   {"total_due_micro", doc.value("total_due_micro", int64_t{0})},
                   {"amount_micro", doc.value("amount_micro", int64_t{0})}});
  }
  return out;
}

const store::InvoiceRow* Billing::FindInvoice(const std::string& number) const {
  auto it = invoice_by_number_.find(number);
  return it == invoice_by_number_.end() ? nullptr : &invoices_[it->second];
}

json Billing::Statements(Month month, const std::string& provider) const {
  struct Sum {
    MicroYuan gross, voucher_paid;
    int64_t milli_ms = 0;
  };
  std::map<std::string, std::map<std::string, Sum>> sums;  // provider -> type -> sum
  auto it = by_month_.find(month.ToString());
  if (it != by_month_.end()) {
    for (size_t i : it->second) {
      const store::LedgerRow& r = ledger_[i];
      if (r.kind != "charge" || (!provider.empty() && r.provider != provider)) continue;
      Sum& s = sums[r.provider][r.device_type];
      if (r.account.starts_with("provider:")) {
        s.gross += MicroYuan(r.amount_micro);
        s.milli_ms += r.milli_ms;
      } else if (r.account.starts_with("voucher:")) {
        s.voucher_paid -= MicroYuan(r.amount_micro);
      }
    }
  }
  json out = json::array();
  for (const core::Provider& p : pool_.providers()) {
    if (!provider.empty() && p.name != provider) continue;
    Sum total;
    json types = json::array();
    for (const auto& [type, s] : sums[p.name]) {
      types.push_back({{"device_type", type},
                       {"device_hours", DeviceHours(s.milli_ms)},
                       {"gross_micro", s.gross.value()},
                       {"voucher_paid_micro", s.voucher_paid.value()}});
      total.gross += s.gross;
      total.voucher_paid += s.voucher_paid;
      total.milli_ms += s.milli_ms;
    }
    const MicroYuan margin = core::FloorToFen(MicroYuan(static_cast<int64_t>(
        static_cast<__int128>(total.gross.value()) * p.margin_permille / 1000)));
    out.push_back({{"provider", p.name},
                   {"month", month.ToString()},
                   {"device_hours", DeviceHours(total.milli_ms)},
                   {"gross_micro", total.gross.value()},
                   {"voucher_paid_micro", total.voucher_paid.value()},
                   {"tenant_paid_micro", (total.gross - total.voucher_paid).value()},
                   {"margin_percent", p.margin_permille / 10.0},
                   {"margin_micro", margin.value()},
                   {"due_to_partner_micro", (total.gross - margin).value()},
                   {"by_device_type", std::move(types)}});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Audit.

void Billing::Audit(const std::string& actor, const std::string& action, const json& detail,
                    int64_t now_ms, store::WriteBatch& batch) {
  store::AuditRow r{static_cast<int64_t>(audit_.size()) + 1, now_ms, actor, action, detail.dump()};
  audit_.push_back(r);
  batch.audit.push_back(std::move(r));
}

json Billing::AuditLog(size_t limit) const {
  json out = json::array();
  const size_t from = audit_.size() > limit ? audit_.size() - limit : 0;
  for (size_t i = from; i < audit_.size(); ++i) {
    const store::AuditRow& r = audit_[i];
    out.push_back({{"seq", r.seq},
                   {"time", FormatTimeMs(r.time_ms)},
                   {"actor", r.actor},
                   {"action", r.action},
                   {"detail", json::parse(r.detail, nullptr, false)}});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Exports.

std::string Billing::InvoiceCsv(const json& doc) {
  auto yuan = [](const json& v) { return FormatYuan(MicroYuan(v.get<int64_t>())); };
  auto less = [](const json& v) { return FormatYuan(MicroYuan(-v.get<int64_t>())); };
  std::string out = "section,provider,device_type,device_hours,unit_price_yuan,amount_yuan\n";
  for (const json& l : doc.value("lines", json::array())) {
    out += fmt::format("line,{},{},{},{},{}\n", CsvField(l["provider"].get<std::string>()),
                       CsvField(l["device_type"].get<std::string>()),
                       l["device_hours"].get<std::string>(), CsvField(yuan(l["unit_price_micro"])),
                       CsvField(yuan(l["amount_micro"])));
  }
  out += fmt::format("subtotal,,,,,{}\n", CsvField(yuan(doc["subtotal_micro"])));
  for (const json& v : doc.value("vouchers", json::array())) {
    out += fmt::format("voucher,{},,,,{}\n", CsvField(v["voucher"].get<std::string>()),
                       CsvField(less(v["amount_micro"])));
  }
  out += fmt::format("prepaid_balance,,,,,{}\n", CsvField(less(doc["balance_used_micro"])));
  out += fmt::format("total_due,,,,,{}\n", CsvField(yuan(doc["total_due_micro"])));
  return out;
}

std::string Billing::InvoiceHtml(const json& doc) {
  auto yuan = [](const json& v) { return FormatYuan(MicroYuan(v.get<int64_t>())); };
  auto less = [](const json& v) { return FormatYuan(MicroYuan(-v.get<int64_t>())); };
  const std::string number =
      doc["number"].is_string() ? doc["number"].get<std::string>() : std::string("DRAFT");
  std::string rows;
  for (const json& l : doc.value("lines", json::array())) {
    rows += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>"
        "</tr>\n",
        XmlEscaped(l["provider"].get<std::string>()),
        XmlEscaped(l["device_type"].get<std::string>()), l["device_hours"].get<std::string>(),
        yuan(l["unit_price_micro"]), yuan(l["amount_micro"]));
  }
  std::string deductions;
  for (const json& v : doc.value("vouchers", json::array())) {
    deductions += fmt::format("<tr><td colspan=4>Voucher {} {}</td><td class=n>{}</td></tr>\n",
                              XmlEscaped(v["voucher"].get<std::string>()),
                              XmlEscaped(v.value("programme", "")), less(v["amount_micro"]));
  }
  return fmt::format(
      R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {0}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
tfoot td {{ font-weight: bold; }}
@media print {{ body {{ margin: 0; }} }}
</style></head><body>
<h1>Invoice {0}</h1>
<p>Tenant: <b>{1}</b><br>Period: {2} to {3} (UTC)<br>Status: {4}</p>
<table>
<thead><tr><th>Provider</th><th>Device type</th><th class=n>Device-hours</th><th class=n>Unit price (yuan/h)</th><th class=n>Amount (yuan)</th></tr></thead>
<tbody>
{5}<tr><td colspan=4>Subtotal</td><td class=n>{6}</td></tr>
{7}<tr><td colspan=4>Prepaid balance used</td><td class=n>{8}</td></tr>
</tbody>
<tfoot><tr><td colspan=4>Total due</td><td class=n>{9}</td></tr></tfoot>
</table>
</body></html>
)",
      XmlEscaped(number), XmlEscaped(doc.value("tenant", "")), doc.value("period_from", ""),
      doc.value("period_to", ""), XmlEscaped(doc.value("status", "")), rows,
      yuan(doc["subtotal_micro"]), deductions, less(doc["balance_used_micro"]),
      yuan(doc["total_due_micro"]));
}

}  // namespace suanpan::control
