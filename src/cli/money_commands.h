#pragma once
// The money subcommands (money_commands.cc; docs/money.md).

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/client_commands.h"

namespace suanpan::cli {

struct MoneyOptions {
  std::string action;  // list | set | grant | revoke | show | issue | export | credit
  std::string id;      // voucher id, invoice number
  std::string tenant, provider, type;
  std::string amount;  // yuan, as typed (the server parses it)
  std::string from, to, month;
  std::vector<std::string> types, providers;
  std::optional<int> cap_percent;
  std::string memo;  // top-up memo, voucher programme, credit note reason
  std::optional<std::string> budget, credit_limit, hard_limit;  // "none" removes
  std::string on_exhausted;
  std::string format = "json";  // export: json | csv | html
  std::string file;             // export: where to write ("" or "-": stdout)
};

int RunPrices(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err);
int RunVouchers(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err);
int RunBalance(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err);
int RunTopUp(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err);
// A signed correction of a tenant's prepaid balance (admin), with the reason.
int RunAdjust(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err);
int RunInvoices(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err);
int RunStatements(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err);
int RunLedger(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err);
int RunAudit(const ClientFlags& flags, int limit, std::FILE* out, std::FILE* err);
// An audit record's detail in a line; a change {"before", "after", ...} as the fields that
// changed: "acme: quota.H100.max 16 -> 4, weight 1 -> 2".
std::string AuditDetail(const nlohmann::json& detail);

}  // namespace suanpan::cli
