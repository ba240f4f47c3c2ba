#include "core/money.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace suanpan::core {

std::string FormatYuan(MicroYuan m) {
  int64_t v = m.value();
  const bool negative = v < 0;
  // Half up on the magnitude, so that -0.005 shows as -0.01 like 0.005 shows as 0.01.
  __int128 mag = negative ? -static_cast<__int128>(v) : v;
  const int64_t fen = static_cast<int64_t>((mag + kMicroPerFen / 2) / kMicroPerFen);
  std::string whole = fmt::format("{}", fen / 100);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped += ',';
    grouped += whole[i];
  }
  return fmt::format("{}{}.{:02}", negative && fen > 0 ? "-" : "", grouped, fen % 100);
}

StatusOr<MicroYuan> ParseYuan(std::string_view text, bool allow_negative) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("'{}' is not an amount in yuan: {}", text, why));
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    if (!allow_negative) return bad("it must not be negative");
    negative = true;
    s.remove_prefix(1);
  }
  std::string digits;
  int decimals = -1;
  for (char c : s) {
    if (c == ',' && decimals < 0) continue;
    if (c == '.' && decimals < 0) {
      decimals = 0;
      continue;
    }
    if (c < '0' || c > '9') return bad("write it like 1820 or 1,820.50");
    digits += c;
    if (decimals >= 0 && ++decimals > 2) return bad("at most two decimals (fen)");
  }
  if (digits.empty()) return bad("write it like 1820 or 1,820.50");
  if (decimals < 0) decimals = 0;
  int64_t fen = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), fen);
  if (ec != std::errc() || p != digits.data() + digits.size()) return bad("too large");
  for (int i = decimals; i < 2; ++i) {
    auto r = CheckedMul(fen, 10);
    if (!r) return bad("too large");
    fen = *r;
  }
  // At most 10^12 yuan: far above any bill, far below int64 micro-yuan.
  if (fen > int64_t{100'000'000'000'000}) return bad("too large");
  return MicroYuan((negative ? -fen : fen) * kMicroPerFen);
}

bool VoucherTerms::Covers(ProviderId provider, DeviceTypeId type) const {
  return (types.empty() || std::find(types.begin(), types.end(), type) != types.end()) &&
         (providers.empty() ||
          std::find(providers.begin(), providers.end(), provider) != providers.end());
}

bool DrawsBefore(const VoucherTerms& a, const VoucherTerms& b) {
  if (a.valid_to_ms != b.valid_to_ms) return a.valid_to_ms < b.valid_to_ms;
  return a.id < b.id;
}

MicroYuan Draw::total() const {
  MicroYuan t = balance + credit;
  for (const auto& [i, m] : vouchers) t += m;
  return t;
}

namespace {

// The vouchers that may pay at `at_ms` on (provider, type), in draw order.
std::vector<size_t> Eligible(const std::vector<VoucherTerms>& vouchers, int64_t at_ms,
                             ProviderId provider, DeviceTypeId type) {
  std::vector<size_t> order;
  for (size_t i = 0; i < vouchers.size(); ++i) {
    const VoucherTerms& v = vouchers[i];
    if (v.remaining.value() > 0 && v.ValidAt(at_ms) && v.Covers(provider, type)) {
      order.push_back(i);
    }
  }
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return DrawsBefore(vouchers[a], vouchers[b]); });
  return order;
}

MicroYuan CapOf(const VoucherTerms& v, MicroYuan amount) {
  const __int128 cap = static_cast<__int128>(amount.value()) * v.cap_permille / 1000;
  return FloorToFen(MicroYuan(static_cast<int64_t>(cap)));
}

}  // namespace

Draw DrawCharge(MicroYuan amount, int64_t at_ms, ProviderId provider, DeviceTypeId type,
                const std::vector<VoucherTerms>& vouchers, MicroYuan balance) {
  Draw d;
  MicroYuan left = amount;
  for (size_t i : Eligible(vouchers, at_ms, provider, type)) {
    if (left.value() <= 0) break;
    const MicroYuan pay = std::min({vouchers[i].remaining, CapOf(vouchers[i], amount), left});
    if (pay.value() <= 0) continue;
    d.vouchers.emplace_back(i, pay);
    left -= pay;
  }
  d.balance = std::clamp(balance, MicroYuan(0), std::max(left, MicroYuan(0)));
  left -= d.balance;
  d.credit = std::max(left, MicroYuan(0));
  return d;
}

std::optional<MicroYuan> Payable(const TenantFunds& funds, MicroYuan amount, int64_t at_ms,
                                 ProviderId provider, DeviceTypeId type) {
  if (funds.unlimited()) return std::nullopt;
  MicroYuan from_vouchers(0);
  MicroYuan left = amount;
  for (size_t i : Eligible(funds.vouchers, at_ms, provider, type)) {
    const MicroYuan pay =
        std::min({funds.vouchers[i].remaining, CapOf(funds.vouchers[i], amount), left});
    if (pay.value() <= 0) continue;
    from_vouchers += pay;
    left -= pay;
  }
  // Money beyond the vouchers: the balance, then the credit room (no limit: all of the rest).
  MicroYuan general = funds.balance;
  if (funds.credit_room) {
    general += std::max(*funds.credit_room, MicroYuan(0));
  } else {
    general = std::max(general, left);
  }
  MicroYuan payable = from_vouchers + std::min(general, MicroYuan::Max() - from_vouchers);
  if (funds.budget_left) payable = std::min(payable, *funds.budget_left);
  return payable - funds.committed;
}

// ---- months ----

int64_t DaysFromCivil(int year, int month, int day) {
  // H. Hinnant's days_from_civil.
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t yoe = year - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t Month::StartMs() const { return DaysFromCivil(year, month, 1) * 86'400'000; }

std::string Month::ToString() const { return fmt::format("{:04}-{:02}", year, month); }

Month MonthOf(int64_t ms) {
  int64_t z = (ms >= 0 ? ms : ms - 86'399'999) / 86'400'000;  // days, floored
  // H. Hinnant's civil_from_days.
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int y = static_cast<int>(yoe + era * 400 + (m <= 2));
  return Month{y, m};
}

StatusOr<Month> ParseMonth(std::string_view text) {
  Month m;
  if (text.size() == 7 && text[4] == '-') {
    auto [p1, e1] = std::from_chars(text.data(), text.data() + 4, m.year);
    auto [p2, e2] = std::from_chars(text.data() + 5, text.data() + 7, m.month);
    if (e1 == std::errc() && e2 == std::errc() && p1 == text.data() + 4 && p2 == text.data() + 7 &&
        m.year >= 1970 && m.month >= 1 && m.month <= 12) {
      return m;
    }
  }
  return InvalidArgumentError(fmt::format("'{}' is not a month: write it as YYYY-MM", text));
}

}  // namespace suanpan::core
