#pragma once
// Money (values only, no I/O): the one rating rule, the one voucher draw rule, what a tenant can
// still pay (for admission), and calendar months in UTC. Shared by the live billing
// (control/billing), the admission step (sched/admission/funds) and the simulator, so that a
// bill, a wait for funds and a simulated cost come out of the same arithmetic.
//
// Amounts are integer micro-yuan (STYLE.md 5). Every amount that reaches the ledger is a whole
// fen (10,000 micro-yuan): a charge is rated to the micro-yuan and rounded half up to the fen,
// voucher caps round down to the fen, top-ups and grants are given in fen. So an invoice whose
// lines are sums of charges adds up exactly, to the fen.
//
// Draw order (DrawCharge): the vouchers that cover the charge's provider and device type and are
// valid at the charge's time, earliest expiry first (then by id); each pays at most its rest and
// its cap (cap_permille of the charge, rounded down to the fen); then the prepaid balance; then
// credit (what is left, also beyond the credit limit: a run that was admitted is billed in full,
// the overrun is owed).
//   charge 300.00 on H100; voucher A (H100 only, 50 % cap, 1,000.00 left, expires Dec 15),
//   voucher B (any type, 100.00 left, expires Dec 31), balance 80.00:
//   A pays min(1,000.00, 150.00) = 150.00; B pays 100.00; balance 50.00; credit 0.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/quantity.h"
#include "core/device_type.h"
#include "core/pool.h"

namespace suanpan::core {

inline constexpr int64_t kMicroPerFen = 10'000;
inline constexpr int64_t kMicroPerYuan = 1'000'000;

// Rounds half up to a whole fen (amounts are never negative here).
constexpr MicroYuan RoundToFen(MicroYuan m) {
  return MicroYuan((m.value() + kMicroPerFen / 2) / kMicroPerFen * kMicroPerFen);
}
constexpr MicroYuan FloorToFen(MicroYuan m) {
  return MicroYuan(m.value() / kMicroPerFen * kMicroPerFen);
}

// The one rating rule: `share` held for `ms` milliseconds at `price` per device-hour, rated to
// the micro-yuan (CostOfMs) and rounded half up to the fen.
//   2 devices x 90 min at 12.50 yuan/h = 2 x 1.5 x 12.50 = 37.50 yuan.
inline MicroYuan RateRun(MicroYuan price_per_device_hour, MilliDevices share, int64_t ms) {
  return RoundToFen(CostOfMs(price_per_device_hour, share, ms));
}

// "1,820.00": yuan to the fen with thousands separators (negative with a leading '-'). Rounds
// half up to the fen if `m` is not whole fen.
std::string FormatYuan(MicroYuan m);
// Parses "1820", "1,820.5", "1820.50" (yuan, at most two decimals) to micro-yuan;
// InvalidArgument naming the text otherwise. Negative amounts are refused unless `allow_negative`.
StatusOr<MicroYuan> ParseYuan(std::string_view text, bool allow_negative = false);

// What a voucher may pay for, and what is left of it.
struct VoucherTerms {
  std::string id;
  MicroYuan remaining;
  int64_t valid_from_ms = 0;  // valid in [valid_from_ms, valid_to_ms)
  int64_t valid_to_ms = 0;
  std::vector<DeviceTypeId> types;    // empty: every type
  std::vector<ProviderId> providers;  // empty: every provider
  int cap_permille = 1000;            // pays at most this share of each charge
  bool Covers(ProviderId provider, DeviceTypeId type) const;
  bool ValidAt(int64_t ms) const { return valid_from_ms <= ms && ms < valid_to_ms; }
};
// Earliest expiry first, then id: the draw order.
bool DrawsBefore(const VoucherTerms& a, const VoucherTerms& b);

struct Draw {
  std::vector<std::pair<size_t, MicroYuan>> vouchers;  // (index into the vouchers given, amount)
  MicroYuan balance;                                   // from the prepaid balance
  MicroYuan credit;                                    // owed (within the limit or beyond it)
  MicroYuan total() const;
};

// Splits a charge of `amount` (whole fen) at `at_ms` on (provider, type) among the vouchers (any
// order; drawn in DrawsBefore order), the prepaid `balance` and credit. Pure; the caller books it.
// O(vouchers log vouchers).
Draw DrawCharge(MicroYuan amount, int64_t at_ms, ProviderId provider, DeviceTypeId type,
                const std::vector<VoucherTerms>& vouchers, MicroYuan balance);

// What a tenant can still pay, for admission (sched/admission/funds).
struct TenantFunds {
  std::vector<VoucherTerms> vouchers;    // their rest now
  MicroYuan balance;                     // prepaid, >= 0
  std::optional<MicroYuan> credit_room;  // credit limit minus what is owed; nullopt: no limit
  std::optional<MicroYuan> budget_left;  // the month's budget (or hard limit) left; nullopt: none
  // What the tenant's running jobs have cost and are estimated to cost until their end, not yet
  // in the ledger: taken off what is left.
  MicroYuan committed;
  // No limit at all: admission does not check funds.
  bool unlimited() const { return !credit_room && !budget_left; }
};

// How much of a charge of `amount` on (provider, type) at `at_ms` the tenant can pay now:
// vouchers (with their caps) + balance + credit room, at most the budget left, less committed.
// May be negative (more is committed than is left). Unlimited funds: nullopt.
std::optional<MicroYuan> Payable(const TenantFunds& funds, MicroYuan amount, int64_t at_ms,
                                 ProviderId provider, DeviceTypeId type);

// Where tenants' money starts, for a replay (the simulator's --money file): accounts and
// vouchers by tenant id. Tenants without an account are unlimited.
struct OpeningFunds {
  struct Account {
    TenantId tenant;
    MicroYuan balance = MicroYuan(0);         // prepaid
    std::optional<MicroYuan> credit_limit;    // nullopt: no limit
    std::optional<MicroYuan> monthly_budget;  // nullopt: none
  };
  struct Voucher {
    TenantId tenant;
    VoucherTerms terms;  // the amount in `remaining`
  };
  std::vector<Account> accounts;
  std::vector<Voucher> vouchers;
};

// ---- Calendar months, UTC ----
struct Month {
  int year = 1970;
  int month = 1;  // 1..12
  auto operator<=>(const Month&) const = default;
  int64_t StartMs() const;
  int64_t EndMs() const { return Next().StartMs(); }
  Month Next() const { return month == 12 ? Month{year + 1, 1} : Month{year, month + 1}; }
  std::string ToString() const;  // "2026-12"
};
Month MonthOf(int64_t ms);
// "2026-12"; InvalidArgument naming the text otherwise.
StatusOr<Month> ParseMonth(std::string_view text);
// Days since 1970-01-01 of a civil date (proleptic Gregorian), and back.
int64_t DaysFromCivil(int year, int month, int day);

}  // namespace suanpan::core
