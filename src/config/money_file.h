#pragma once
// The simulator's money file (`suanpan sim --money FILE`): where tenants' money starts in a
// replay, so that a policy can be judged on what tenants pay and on who waits for funds.
//
//   [[accounts]]
//   tenant = "lab-a"
//   balance = 500            # yuan: an integer, a decimal with at most 2 places, or "1,820.50"
//   credit_limit = 0         # optional: no limit when absent
//   monthly_budget = 2000    # optional
//
//   [[vouchers]]
//   id = "sh-2026-001"       # optional: "voucher-N" (N from 1, in file order)
//   tenant = "lab-a"
//   amount = 1000
//   from_hour = 0            # optional: hours of the trace's clock, valid in [from, to)
//   to_hour = 720            # optional: never expires when absent
//   device_types = ["V100"]  # optional: every type when absent or empty
//   providers = ["p1"]       # optional: every provider
//   cap_percent = 50         # optional: pays at most this share of each charge (1..100)
//
// Reading checks the file alone (types, ranges, unknown fields); Resolve checks it against the
// pool (tenants, device types and providers exist). Every error names file:line and the field:
//   money.toml:7: vouchers[0].device_types[1]: unknown device type 'H200' (the pool has: V100)

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/money.h"
#include "core/pool.h"

namespace suanpan::config {

class MoneyFile {
 public:
  struct Named {
    std::string name;
    int line = 0;
    std::string path;  // "vouchers[0].device_types[1]"
  };
  struct Account {
    Named tenant;
    MicroYuan balance = MicroYuan(0);
    std::optional<MicroYuan> credit_limit, monthly_budget;
  };
  struct Voucher {
    std::string id;
    Named tenant;
    MicroYuan amount = MicroYuan(0);
    int64_t from_ms = 0, to_ms = 0;
    std::vector<Named> device_types, providers;
    int cap_permille = 1000;
  };

  // The opening funds on `pool`, or InvalidArgument naming file:line and the field.
  StatusOr<core::OpeningFunds> Resolve(const core::Pool& pool) const;

  std::string file;
  std::vector<Account> accounts;
  std::vector<Voucher> vouchers;
};

StatusOr<MoneyFile> ParseMoneyFile(std::string_view text, std::string_view name);
StatusOr<MoneyFile> ReadMoneyFile(const std::string& path);

}  // namespace suanpan::config
