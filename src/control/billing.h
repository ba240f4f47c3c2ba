#pragma once
// Billing: price lists, vouchers (算力券), accounts, the ledger, invoices and partner statements
// (issue 14). It lives on the control thread like the rest of the state (one writer: every
// charge, draw and top-up is applied in order, so no voucher or balance is ever overspent by
// concurrent requests), keeps everything in memory, and writes what it books into the control
// plane's batch, committed before the request that caused it is answered.
//
// The ledger is append-only and double entry: a transaction is several lines whose amounts sum
// to zero, and every balance is the sum of its account's lines:
//   grant     external:programme -X, voucher:ID +X
//   topup     external:cash -X, tenant:T:balance +X
//   charge    provider:P +A (gross, with the price and milli-device-ms rated), and the payers:
//             voucher:ID -v ..., tenant:T:balance -b, tenant:T:credit -c (what the tenant owes)
//   expiry    voucher:ID -rest, external:void +rest      (revoke: the same, kind revoke)
//   refund    hub:refunds -x, tenant:T:balance +x         (a credit note: the hub bears it)
//   adjustment tenant:T:balance +/-x, external:adjustment -/+x
// Load() replays it and checks that every transaction sums to zero and no voucher or balance is
// negative; Verify() does the same on the live state (the billing tests call it).
//
// Rating. A run is metered from its start of work (started_ms) to its end, split at calendar
// month boundaries (UTC); each piece is one charge with ref charge:JOB:ATTEMPT:YYYY-MM, booked
// once however often rating runs (idempotent: after a kill -9 the control plane re-rates every
// run at start-up and only what is missing is booked). A piece is booked when the run ends, or
// when its month is over for a run that goes on. Its price is the one frozen in the run when it
// started; its time (for voucher validity) is its last millisecond.
//
// Invoices are per tenant and month: lines per provider x device type x unit price (device-hours,
// unit price, amount = the sum of its charges), voucher deductions per voucher, prepaid balance
// used, credit used (the total due). Issued invoices are numbered INV-YYYY-MM-NNNN, stored as the
// document issued and never change; a correction is a credit note (CN-...) that refunds an amount
// to the tenant's balance and points at the invoice.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/money.h"
#include "core/pool.h"
#include "store/store.h"

namespace suanpan::control {

struct VoucherRequest {
  std::string id;  // empty: V-<n>
  std::string tenant;
  MicroYuan amount;
  int64_t valid_from_ms = 0;
  int64_t valid_to_ms = 0;
  std::vector<std::string> device_types;  // empty: every type
  std::vector<std::string> providers;     // empty: every provider
  int cap_percent = 100;
  std::string programme;
};

struct AccountTerms {
  // Each unset field keeps its value; clear_* removes the limit.
  std::optional<MicroYuan> credit_limit;
  bool clear_credit_limit = false;
  std::optional<MicroYuan> monthly_budget;
  bool clear_monthly_budget = false;
  std::optional<MicroYuan> hard_limit;
  bool clear_hard_limit = false;
  std::optional<std::string> on_exhausted;  // finish | stop
};

class Billing {
 public:
  explicit Billing(const core::Pool& pool) : pool_(pool) {}

  // Rebuilds from the store; FailedPrecondition if the ledger does not balance.
  Status Load(const store::Snapshot& snapshot);
  // Checks the ledger: every transaction sums to zero, balances equal the sums of their lines,
  // no voucher or prepaid balance is negative. O(ledger).
  Status Verify() const;

  // ---- prices ----
  // The price per device-hour in force at `ms`: the latest price-list entry effective at or
  // before it, else the pool file's. O(log entries).
  std::optional<MicroYuan> PriceAt(core::ProviderId provider, core::DeviceTypeId type,
                                   int64_t ms) const;
  Status SetPrice(const std::string& provider, const std::string& type, MicroYuan price,
                  int64_t effective_ms, const std::string& actor, int64_t now_ms,
                  store::WriteBatch& batch);
  nlohmann::json Prices(int64_t now_ms) const;

  // ---- vouchers and accounts ----
  StatusOr<nlohmann::json> Grant(const VoucherRequest& request, const std::string& actor,
                                 int64_t now_ms, store::WriteBatch& batch);
  Status Revoke(const std::string& id, const std::string& actor, int64_t now_ms,
                store::WriteBatch& batch);
  // A tenant's vouchers (all when `tenant` is empty), with what is left and their draws.
  nlohmann::json Vouchers(const std::string& tenant, int64_t now_ms) const;
  std::optional<std::string> VoucherTenant(const std::string& id) const;
  StatusOr<nlohmann::json> TopUp(const std::string& tenant, MicroYuan amount,
                                 const std::string& memo, const std::string& actor, int64_t now_ms,
                                 store::WriteBatch& batch);
  // A signed correction of the balance (admin).
  StatusOr<nlohmann::json> Adjust(const std::string& tenant, MicroYuan amount,
                                  const std::string& memo, const std::string& actor, int64_t now_ms,
                                  store::WriteBatch& batch);
  Status SetAccount(const std::string& tenant, const AccountTerms& terms, bool admin,
                    const std::string& actor, int64_t now_ms, store::WriteBatch& batch);
  // Balance, credit, vouchers, the month's spend and budget; `accrued`: what running jobs have
  // cost so far and is not booked yet.
  nlohmann::json Balance(const std::string& tenant, int64_t now_ms, MicroYuan accrued) const;
  // The ledger lines of a tenant (all when empty) in a month (all when empty).
  nlohmann::json Ledger(const std::string& tenant, const std::string& month) const;
  // What a tenant can pay now, for admission (committed = 0: the control plane adds it).
  core::TenantFunds FundsOf(core::TenantId tenant, int64_t now_ms) const;
  bool OnExhaustedStop(const std::string& tenant) const;

  // ---- rating ----
  // Books the charges of the run's pieces that are complete at `up_to_ms` (all of them once the
  // run has ended). Idempotent. O(months of the run + vouchers of the tenant).
  void RateRun(const std::string& tenant, const store::RunRow& run, int64_t up_to_ms,
               store::WriteBatch& batch);
  // Cost of the run from the end of its booked pieces to `now_ms` (not booked yet).
  MicroYuan Accrued(const store::RunRow& run, int64_t now_ms) const;
  // Vouchers whose validity ended by `now_ms` lose their rest (void). Idempotent.
  void ExpireVouchers(int64_t now_ms, store::WriteBatch& batch);

  // ---- invoices and statements ----
  // The invoice of a tenant's month as it stands (a draft: not numbered).
  StatusOr<nlohmann::json> Draft(const std::string& tenant, core::Month month) const;
  // Issues it (the month must be over, and not issued yet: AlreadyExists names the number).
  // FailedPrecondition (field month) until `month` is over: only a finished month is issued.
  static Status MonthOver(core::Month month, int64_t now_ms);
  StatusOr<nlohmann::json> Issue(const std::string& tenant, core::Month month,
                                 const std::string& actor, int64_t now_ms,
                                 store::WriteBatch& batch);
  // A credit note on an issued invoice: refunds `amount` (at most what the invoice charged less
  // earlier credit notes) to the tenant's balance.
  StatusOr<nlohmann::json> CreditNote(const std::string& number, MicroYuan amount,
                                      const std::string& reason, const std::string& actor,
                                      int64_t now_ms, store::WriteBatch& batch);
  // Issued documents (of a tenant when given), newest last.
  nlohmann::json Invoices(const std::string& tenant) const;
  // An issued document, or nullptr.
  const store::InvoiceRow* FindInvoice(const std::string& number) const;
  // Per provider: gross, voucher-paid, hub margin, due to the partner, by device type.
  nlohmann::json Statements(core::Month month, const std::string& provider) const;

  // ---- audit ----
  void Audit(const std::string& actor, const std::string& action, const nlohmann::json& detail,
             int64_t now_ms, store::WriteBatch& batch);
  nlohmann::json AuditLog(size_t limit) const;

  // Invoice CSV: one row per line, then deductions and totals.
  static std::string InvoiceCsv(const nlohmann::json& invoice);
  // A printable HTML page of the invoice.
  static std::string InvoiceHtml(const nlohmann::json& invoice);

 private:
  struct Voucher {
    store::VoucherRow row;
    core::VoucherTerms terms;  // remaining kept in step with the ledger
    bool closed = false;       // expired or revoked: its rest is void
  };
  struct Line {
    std::string account;
    MicroYuan amount;
  };
  // Books one transaction (its lines must sum to zero). Returns its number.
  int64_t Book(const std::string& kind, const std::string& ref, const std::string& tenant,
               int64_t time_ms, const std::string& month, const std::vector<Line>& lines,
               const store::LedgerRow& extra, store::WriteBatch& batch);
  void Apply(const store::LedgerRow& row);
  MicroYuan BalanceOf(const std::string& account) const;
  MicroYuan SpentIn(const std::string& tenant, const std::string& month) const;
  StatusOr<core::TenantId> FindTenant(const std::string& tenant) const;
  store::AccountRow AccountOf(const std::string& tenant) const;
  nlohmann::json VoucherJson(const Voucher& v, int64_t now_ms) const;
  nlohmann::json Document(const std::string& tenant, core::Month month) const;

  const core::Pool& pool_;
  // (provider, type) -> effective_ms -> row
  std::map<std::pair<std::string, std::string>, std::map<int64_t, store::PriceRow>> prices_;
  std::map<std::string, Voucher> vouchers_;
  std::map<std::string, store::AccountRow> accounts_;
  std::vector<store::LedgerRow> ledger_;
  std::map<std::string, MicroYuan> balances_;  // account -> sum of its lines
  std::set<std::string> refs_;                 // booked transactions
  // (tenant, month) -> charged gross, for budgets and invoices
  std::map<std::pair<std::string, std::string>, MicroYuan> spent_;
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> by_tenant_month_;  // lines
  std::map<std::string, std::vector<size_t>> by_month_;                                 // lines
  std::vector<store::InvoiceRow> invoices_;
  std::map<std::string, size_t> invoice_by_number_;
  std::vector<store::AuditRow> audit_;
  int64_t next_txn_ = 1;
  int64_t next_voucher_ = 1;
};

}  // namespace suanpan::control
