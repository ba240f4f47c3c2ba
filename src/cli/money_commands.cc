// The money subcommands (docs/money.md):
//   suanpan prices [set --provider P --type T --price 12.50 [--from DATE]]
//   suanpan vouchers list|grant|revoke
//   suanpan balance [--tenant T] [--budget X|none] [--credit-limit X|none] [--hard-limit X|none]
//                   [--on-exhausted finish|stop]
//   suanpan topup --tenant T --amount X [--memo M]
//   suanpan adjust --tenant T --amount [-]X --memo WHY
//   suanpan invoices list|show|issue|export|credit
//   suanpan statements [--month YYYY-MM] [--provider P]
//   suanpan ledger [--tenant T] [--month YYYY-MM]
//   suanpan audit [--limit N]
// Amounts print in yuan to the fen ("1,820.00"); -o json prints what the API answers.

#include "cli/money_commands.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli/client_output.h"
#include "cli/table.h"
#include "core/money.h"
#include "os/process.h"

namespace suanpan::cli {
namespace {

// The printable invoice (HTML) as PDF, through headless Chromium (the `chromium` package; or
// SUANPAN_CHROMIUM names the browser). A temporary directory holds the page, the browser's
// profile and the PDF; it is removed after.
StatusOr<std::string> HtmlToPdf(const std::string& html) {
  std::string browser;
  if (const char* e = std::getenv("SUANPAN_CHROMIUM"); e != nullptr && *e != '\0') {
    browser = e;
  } else if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::stringstream dirs(path);
    std::string dir;
    while (browser.empty() && std::getline(dirs, dir, ':')) {
      for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
        const std::string candidate = dir + "/" + name;
        if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) {
          browser = candidate;
          break;
        }
      }
    }
  }
  if (browser.empty()) {
    return FailedPreconditionError(
        "--format pdf: needs Chromium to print the invoice (apt-get install chromium, or set "
        "SUANPAN_CHROMIUM to the browser); --format html gives the printable page");
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "suanpan-pdf-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return UnavailableError(fmt::format("{}: cannot create a temporary directory", tmpl));
  }
  const std::filesystem::path dir(tmpl);
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  std::ofstream(dir / "invoice.html", std::ios::binary) << html;
  // The page is the server's answer (its fields HTML-escaped, no scripts): Chromium's sandbox
  // stays on unless we are root (it refuses to run as root with it). (--blink-settings=
  // scriptEnabled=false would be safer still, but with it Debian 12's Chromium 156 prints nothing.)
  std::string url = "file://";
  for (char ch : (dir / "invoice.html").string()) {
    if (std::isalnum(static_cast<unsigned char>(ch)) || std::strchr("/._-", ch) != nullptr) {
      url += ch;
    } else {
      url += fmt::format("%{:02X}", static_cast<unsigned char>(ch));
    }
  }
  std::vector<std::string> argv = {browser,
                                   "--headless",
                                   "--disable-gpu",
                                   "--no-pdf-header-footer",
                                   "--user-data-dir=" + (dir / "profile").string(),
                                   "--print-to-pdf=" + (dir / "invoice.pdf").string()};
  if (::geteuid() == 0) argv.push_back("--no-sandbox");
  argv.push_back(url);
  auto ran = os::RunCommand(argv, "", {{"HOME", dir.string()}}, 120);
  if (!ran.ok()) {
    return ran.status().WithPrefix(std::getenv("SUANPAN_CHROMIUM") != nullptr
                                       ? "--format pdf (SUANPAN_CHROMIUM)"
                                       : "--format pdf");
  }
  std::ifstream in(dir / "invoice.pdf", std::ios::binary);
  std::ostringstream pdf;
  pdf << in.rdbuf();
  if (ran->timed_out || pdf.str().rfind("%PDF", 0) != 0) {
    std::string last = ran->err;
    while (!last.empty() && last.back() == '\n') last.pop_back();
    last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
    const std::string why = ran->timed_out ? "it did not finish within 120 s"
                            : WIFEXITED(ran->status)
                                ? fmt::format("it exited {}", WEXITSTATUS(ran->status))
                                : fmt::format("it was killed by signal {}", WTERMSIG(ran->status));
    return UnavailableError(fmt::format("--format pdf: {} did not print the invoice: {}{}", browser,
                                        why, last.empty() ? "" : " (" + last + ")"));
  }
  return pdf.str();
}

using client::UrlEncode;
using Json = nlohmann::json;

std::string Yuan(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  return core::FormatYuan(MicroYuan(it->get<int64_t>()));
}

// A deduction: "-150.00", and "0.00" (not "-0.00") when there is none.
std::string Less(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  return core::FormatYuan(MicroYuan(-it->get<int64_t>()));
}

std::string Query(std::initializer_list<std::pair<const char*, std::string>> kv) {
  std::string q;
  for (const auto& [k, v] : kv) {
    if (!v.empty()) q += (q.empty() ? "?" : "&") + std::string(k) + "=" + UrlEncode(v);
  }
  return q;
}

std::string Join(const Json& list) {
  std::string out;
  for (const Json& v : list) out += (out.empty() ? "" : ",") + v.get<std::string>();
  return out.empty() ? "all" : out;
}

// A tenant token's own tenant when none is named.
StatusOr<std::string> TenantOrOwn(client::ApiClient& c, const std::string& tenant) {
  if (!tenant.empty()) return tenant;
  SP_ASSIGN_OR_RETURN(Json who, c.Call("GET", "/v1/whoami"));
  const std::string role = who.value("role", "");
  if (role != "admin" && role != "agent") return who.value("scope", "");  // a tenant role
  return InvalidArgumentError("--tenant: name the tenant");
}

void PrintVouchers(std::FILE* out, const Json& items) {
  Table t({"ID", "TENANT", "AMOUNT", "LEFT", "DRAWN", "VALID FROM", "VALID TO", "TYPES",
           "PROVIDERS", "CAP", "STATE", "PROGRAMME"},
          {false, false, true, true, true, false, false, false, false, true, false, false});
  for (const Json& v : items) {
    t.Add({Str(v, "id"), Str(v, "tenant"), Yuan(v, "amount_micro"), Yuan(v, "remaining_micro"),
           Yuan(v, "drawn_micro"), Str(v, "valid_from"), Str(v, "valid_to"),
           Join(v["device_types"]), Join(v["providers"]), Str(v, "cap_percent") + "%",
           Str(v, "state"), Str(v, "programme") == "" ? "-" : Str(v, "programme")});
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
}

void PrintInvoice(std::FILE* out, const Json& d) {
  if (d.value("kind", "") == "credit_note") {
    std::fprintf(out, "credit note %s (corrects %s) for tenant %s, %s: %s yuan\nreason: %s\n",
                 Str(d, "number").c_str(), Str(d, "corrects").c_str(), Str(d, "tenant").c_str(),
                 Str(d, "month").c_str(), Yuan(d, "amount_micro").c_str(),
                 Str(d, "reason").c_str());
    return;
  }
  std::fprintf(out, "invoice %s  tenant %s  month %s  (%s)\n",
               d["number"].is_null() ? "DRAFT" : Str(d, "number").c_str(), Str(d, "tenant").c_str(),
               Str(d, "month").c_str(), Str(d, "status").c_str());
  Table t({"PROVIDER", "TYPE", "DEVICE-HOURS", "UNIT PRICE", "RUNS", "AMOUNT"},
          {false, false, true, true, true, true});
  for (const Json& l : d["lines"]) {
    t.Add({Str(l, "provider"), Str(l, "device_type"), Str(l, "device_hours"),
           Yuan(l, "unit_price_micro"), Str(l, "runs"), Yuan(l, "amount_micro")});
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  std::vector<std::pair<std::string, std::string>> rows = {{"subtotal", Yuan(d, "subtotal_micro")}};
  for (const Json& v : d["vouchers"]) {
    rows.emplace_back("voucher " + Str(v, "voucher") +
                          (Str(v, "programme") == "" ? "" : " (" + Str(v, "programme") + ")"),
                      Less(v, "amount_micro"));
  }
  rows.emplace_back("prepaid balance", Less(d, "balance_used_micro"));
  rows.emplace_back("total due (on credit)", Yuan(d, "total_due_micro"));
  size_t width = 24;
  for (const auto& [label, amount] : rows) width = std::max(width, label.size());
  for (const auto& [label, amount] : rows) {
    std::fprintf(out, "%-*s %14s\n", static_cast<int>(width), label.c_str(), amount.c_str());
  }
}

}  // namespace

int RunPrices(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err) {
  auto c = Client(flags);
  if (!c.ok()) return Error(err, c.status());
  Json body{{"provider", o.provider}, {"device_type", o.type}, {"price", o.amount}};
  if (!o.from.empty()) body["effective"] = o.from;
  StatusOr<Json> r =
      o.action == "set" ? (*c)->Call("POST", "/v1/prices", body) : (*c)->Call("GET", "/v1/prices");
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  Table t({"PROVIDER", "TYPE", "PRICE NOW (YUAN/H)", "POOL FILE", "CHANGES"},
          {false, false, true, true, false});
  for (const Json& p : *r) {
    std::string changes;
    for (const Json& ch : p["changes"]) {
      changes += fmt::format("{}{} from {}", changes.empty() ? "" : "; ", Yuan(ch, "price_micro"),
                             Str(ch, "effective"));
    }
    t.Add({Str(p, "provider"), Str(p, "device_type"), Yuan(p, "price_micro"),
           Yuan(p, "pool_file_price_micro"), changes.empty() ? "-" : changes});
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  return 0;
}

int RunVouchers(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err) {
  auto c = Client(flags);
  if (!c.ok()) return Error(err, c.status());
  if (o.action == "grant") {
    Json body{{"tenant", o.tenant}, {"amount", o.amount}, {"valid_to", o.to}};
    if (!o.from.empty()) body["valid_from"] = o.from;
    if (!o.id.empty()) body["id"] = o.id;
    if (!o.types.empty()) body["device_types"] = o.types;
    if (!o.providers.empty()) body["providers"] = o.providers;
    if (o.cap_percent) body["cap_percent"] = *o.cap_percent;
    if (!o.memo.empty()) body["programme"] = o.memo;
    auto r = (*c)->Call("POST", "/v1/vouchers", body);
    if (!r.ok()) return Error(err, r.status());
    if (flags.output == "json") {
      PrintJson(out, *r);
    } else {
      PrintVouchers(out, Json::array({*r}));
    }
    return 0;
  }
  if (o.action == "revoke") {
    if (o.id.empty()) return Error(err, InvalidArgumentError("vouchers revoke: name the voucher"));
    auto r = (*c)->Call("DELETE", "/v1/vouchers/" + UrlEncode(o.id));
    if (!r.ok()) return Error(err, r.status());
    std::fprintf(out, "revoked voucher %s: its rest is void\n", o.id.c_str());
    return 0;
  }
  auto r = (*c)->Call("GET", "/v1/vouchers" + Query({{"tenant", o.tenant}}));
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
  } else {
    PrintVouchers(out, *r);
  }
  return 0;
}

int RunBalance(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err) {
  auto c = Client(flags);
  if (!c.ok()) return Error(err, c.status());
  auto tenant = TenantOrOwn(**c, o.tenant);
  if (!tenant.ok()) return Error(err, tenant.status());
  Json terms = Json::object();
  auto limit = [&](const char* field, const std::optional<std::string>& v) {
    if (v) terms[field] = *v == "none" ? Json(nullptr) : Json(*v);
  };
  limit("monthly_budget", o.budget);
  limit("credit_limit", o.credit_limit);
  limit("hard_limit", o.hard_limit);
  if (!o.on_exhausted.empty()) terms["on_exhausted"] = o.on_exhausted;
  const std::string path = "/v1/accounts/" + UrlEncode(*tenant);
  auto r = terms.empty() ? (*c)->Call("GET", path) : (*c)->Call("PATCH", path, terms);
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  const Json& b = *r;
  std::fprintf(out, "tenant %s\n", Str(b, "tenant").c_str());
  std::fprintf(out, "  prepaid balance   %14s yuan\n", Yuan(b, "balance_micro").c_str());
  std::fprintf(out, "  vouchers (valid)  %14s yuan\n", Yuan(b, "vouchers_micro").c_str());
  std::fprintf(out, "  owed (credit)     %14s yuan   credit limit %s\n",
               Yuan(b, "owed_micro").c_str(),
               b["credit_limit_micro"].is_null() ? "none" : Yuan(b, "credit_limit_micro").c_str());
  std::fprintf(out, "  spent in %s  %14s yuan   + %s accruing on running jobs\n",
               Str(b, "month").c_str(), Yuan(b, "spent_micro").c_str(),
               Yuan(b, "accrued_micro").c_str());
  std::fprintf(
      out, "  monthly budget %s, hard limit %s, when funds run out: %s\n",
      b["monthly_budget_micro"].is_null() ? "none" : Yuan(b, "monthly_budget_micro").c_str(),
      b["hard_limit_micro"].is_null() ? "none" : Yuan(b, "hard_limit_micro").c_str(),
      Str(b, "on_exhausted") == "stop" ? "running jobs stop" : "running jobs finish");
  if (!b["vouchers"].empty()) {
    std::fputs("\n", out);
    PrintVouchers(out, b["vouchers"]);
  }
  return 0;
}

int RunTopUp(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err) {
  auto c = Client(flags);
  if (!c.ok()) return Error(err, c.status());
  if (o.tenant.empty()) return Error(err, InvalidArgumentError("--tenant: name the tenant"));
  Json body{{"amount", o.amount}};
  if (!o.memo.empty()) body["memo"] = o.memo;
  auto r = (*c)->Call("POST", "/v1/accounts/" + UrlEncode(o.tenant) + "/topups", body);
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  std::fprintf(out, "topped up %s yuan for %s (%s paid what was owed); balance %s yuan\n",
               Yuan(*r, "amount_micro").c_str(), o.tenant.c_str(), Yuan(*r, "repaid_micro").c_str(),
               Yuan(*r, "balance_micro").c_str());
  return 0;
}

int RunAdjust(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err) {
  auto c = Client(flags);
  if (!c.ok()) return Error(err, c.status());
  Json body{{"amount", o.amount}, {"memo", o.memo}};
  auto r = (*c)->Call("POST", "/v1/accounts/" + UrlEncode(o.tenant) + "/adjustments", body);
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  std::fprintf(out, "adjusted the balance of %s by %s yuan (transaction %s); balance %s yuan\n",
               o.tenant.c_str(), o.amount.c_str(), Str(*r, "txn").c_str(),
               Yuan(*r, "balance_micro").c_str());
  return 0;
}

// --month, or this month (UTC).
std::string MonthOrNow(const MoneyOptions& o) {
  if (!o.month.empty()) return o.month;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return core::MonthOf(now.count()).ToString();
}

int RunInvoices(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err) {
  auto c = Client(flags);
  if (!c.ok()) return Error(err, c.status());
  if (o.action == "issue") {
    if (o.month.empty()) return Error(err, InvalidArgumentError("--month: which month (YYYY-MM)"));
    Json body{{"month", o.month}};
    if (!o.tenant.empty()) body["tenant"] = o.tenant;
    auto r = (*c)->Call("POST", "/v1/invoices", body);
    if (!r.ok()) return Error(err, r.status());
    if (flags.output == "json") {
      PrintJson(out, *r);
      return 0;
    }
    for (const Json& d : *r) {
      std::fprintf(out, "issued %s for %s: %s yuan, %s yuan due\n", Str(d, "number").c_str(),
                   Str(d, "tenant").c_str(), Yuan(d, "subtotal_micro").c_str(),
                   Yuan(d, "total_due_micro").c_str());
    }
    if (r->empty()) std::fprintf(out, "nothing to issue for %s\n", o.month.c_str());
    return 0;
  }
  if (o.action == "credit") {
    Json body{{"amount", o.amount}, {"reason", o.memo}};
    auto r = (*c)->Call("POST", "/v1/invoices/" + UrlEncode(o.id) + "/credit-notes", body);
    if (!r.ok()) return Error(err, r.status());
    if (flags.output == "json") {
      PrintJson(out, *r);
    } else {
      PrintInvoice(out, *r);
    }
    return 0;
  }
  if (o.action == "show" || o.action == "export") {
    std::string path;
    if (!o.id.empty()) {
      path = "/v1/invoices/" + UrlEncode(o.id);
    } else {
      auto tenant = TenantOrOwn(**c, o.tenant);
      if (!tenant.ok()) return Error(err, tenant.status());
      // A draft of this month (so far) unless a month is named.
      path = "/v1/accounts/" + UrlEncode(*tenant) + "/invoice?month=" + UrlEncode(MonthOrNow(o));
    }
    const std::string format = o.action == "export" ? o.format : "json";
    const bool pdf = format == "pdf";
    if (pdf) path += (path.find('?') == std::string::npos ? "?" : "&") + std::string("format=html");
    if (format != "json" && !pdf)
      path += (path.find('?') == std::string::npos ? "?" : "&") + std::string("format=") +
              UrlEncode(format);
    auto res = (*c)->Send("GET", path);
    if (!res.ok()) return Error(err, res.status());
    if (res->status >= 300) {
      const std::string msg = res->body.is_object() && res->body.contains("error")
                                  ? res->body["error"].value("message", res->raw)
                                  : res->raw;
      return Error(err,
                   res->status == 400 ? InvalidArgumentError(msg) : FailedPreconditionError(msg));
    }
    if (o.action == "show") {
      if (flags.output == "json") {
        PrintJson(out, res->body);
      } else {
        PrintInvoice(out, res->body);
      }
      return 0;
    }
    std::string text = format == "json" ? res->body.dump(2) + "\n" : res->raw;
    if (pdf) {
      auto printed = HtmlToPdf(res->raw);
      if (!printed.ok()) return Error(err, printed.status());
      text = std::move(*printed);
    }
    if (o.file.empty() || o.file == "-") {
      std::fwrite(text.data(), 1, text.size(), out);
    } else {
      std::ofstream f(o.file, std::ios::binary);
      f << text;
      if (!f) return Error(err, UnavailableError(fmt::format("{}: cannot write", o.file)));
      std::fprintf(err, "wrote %s\n", o.file.c_str());
    }
    return 0;
  }
  auto r = (*c)->Call("GET", "/v1/invoices" + Query({{"tenant", o.tenant}}));
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  Table t({"NUMBER", "KIND", "TENANT", "MONTH", "ISSUED", "AMOUNT", "DUE", "CORRECTS"},
          {false, false, false, false, false, true, true, false});
  for (const Json& d : *r) {
    const bool cn = Str(d, "kind") == "credit_note";
    t.Add({Str(d, "number"), Str(d, "kind"), Str(d, "tenant"), Str(d, "month"), Str(d, "issued"),
           cn ? Less(d, "amount_micro") : Yuan(d, "subtotal_micro"),
           cn ? "-" : Yuan(d, "total_due_micro"),
           Str(d, "corrects") == "" ? "-" : Str(d, "corrects")});
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  return 0;
}

int RunStatements(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err) {
  auto c = Client(flags);
  if (!c.ok()) return Error(err, c.status());
  const std::string month = MonthOrNow(o);
  auto r =
      (*c)->Call("GET", "/v1/statements" + Query({{"month", month}, {"provider", o.provider}}));
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  std::fprintf(out, "partner statements for %s\n", month.c_str());
  Table t({"PROVIDER", "DEVICE-HOURS", "GROSS", "VOUCHER-PAID", "TENANT-PAID", "MARGIN",
           "DUE TO PARTNER"},
          {false, true, true, true, true, true, true});
  for (const Json& s : *r) {
    t.Add({Str(s, "provider"), Str(s, "device_hours"), Yuan(s, "gross_micro"),
           Yuan(s, "voucher_paid_micro"), Yuan(s, "tenant_paid_micro"),
           Yuan(s, "margin_micro") + " (" + Str(s, "margin_percent") + "%)",
           Yuan(s, "due_to_partner_micro")});
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  return 0;
}

int RunLedger(const ClientFlags& flags, const MoneyOptions& o, std::FILE* out, std::FILE* err) {
  auto c = Client(flags);
  if (!c.ok()) return Error(err, c.status());
  auto r = (*c)->Call("GET", "/v1/ledger" + Query({{"tenant", o.tenant}, {"month", o.month}}));
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  Table t({"TXN", "TIME", "KIND", "ACCOUNT", "AMOUNT", "MEMO"},
          {true, false, false, false, true, false});
  for (const Json& l : *r) {
    t.Add({Str(l, "txn"), Str(l, "time"), Str(l, "kind"), Str(l, "account"),
           Yuan(l, "amount_micro"), Str(l, "memo")});
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  return 0;
}

namespace {

// Leaves of a JSON document by path: {"quota": {"H100": {"max": "16"}}} -> quota.H100.max = "16";
// [{"name": "vision", "weight": 2}] under projects -> projects.vision.weight = "2".
void Flatten(const Json& j, const std::string& path, std::map<std::string, std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) Flatten(v, path.empty() ? k : path + "." + k, out);
    return;
  }
  // A list of named objects (a tenant's projects) by name: projects.vision.weight.
  if (j.is_array() && !j.empty() && std::all_of(j.begin(), j.end(), [](const Json& e) {
        return e.is_object() && e.contains("name") && e["name"].is_string();
      })) {
    for (const Json& e : j) {
      Json rest = e;
      const std::string name = rest["name"].get<std::string>();
      rest.erase("name");
      Flatten(rest.empty() ? Json("made") : rest, path + "." + name, out);
    }
    return;
  }
  out[path] = j.is_string() ? j.get<std::string>() : j.dump();
}

}  // namespace

std::string AuditDetail(const Json& detail) {
  if (!detail.is_object() || !detail.contains("after")) return detail.dump();
  // A change: what it is about, then each field that changed, before -> after.
  std::map<std::string, std::string> before, after;
  if (detail["before"].is_object()) Flatten(detail["before"], "", before);
  Flatten(detail["after"], "", after);
  std::string out;
  // A project's change is about TENANT/PROJECT: its own fields only, without the prefix.
  std::string only;
  if (detail.contains("project") && detail.contains("tenant")) {
    out = Str(detail, "tenant") + "/" + Str(detail, "project");
    only = "projects." + Str(detail, "project") + ".";
  } else {
    for (const auto& [k, v] : detail.items()) {
      if (k != "before" && k != "after")
        out += fmt::format("{}{}", out.empty() ? "" : " ", Str(detail, k.c_str()));
    }
  }
  if (!only.empty()) {
    auto keep = [&](std::map<std::string, std::string>& m) {
      std::map<std::string, std::string> kept;
      for (const auto& [k, v] : m) {
        if (k.starts_with(only)) kept[k.substr(only.size())] = v;
      }
      m = std::move(kept);
    };
    keep(before);
    keep(after);
    if (before.empty()) {
      std::string made;
      for (const auto& [k, v] : after)
        made += fmt::format("{}{} {}", made.empty() ? "" : ", ", k, v);
      return out + " made: " + made;
    }
  }
  if (detail["before"].is_null()) return out + " made: " + detail["after"].dump();
  std::set<std::string> keys;
  for (const auto& [k, v] : before) keys.insert(k);
  for (const auto& [k, v] : after) keys.insert(k);
  std::string changes;
  for (const std::string& k : keys) {
    const std::string b = before.count(k) ? before[k] : "-", a = after.count(k) ? after[k] : "-";
    if (a != b) changes += fmt::format("{}{} {} -> {}", changes.empty() ? "" : ", ", k, b, a);
  }
  return out + ": " + (changes.empty() ? "no change" : changes);
}

int RunAudit(const ClientFlags& flags, int limit, std::FILE* out, std::FILE* err) {
  auto c = Client(flags);
  if (!c.ok()) return Error(err, c.status());
  auto r = (*c)->Call("GET", fmt::format("/v1/audit?limit={}", limit));
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  if (flags.output == "jsonl") {  // one record a line, for an archive or a SIEM
    for (const Json& a : *r) std::fprintf(out, "%s\n", a.dump().c_str());
    return 0;
  }
  Table t({"SEQ", "TIME", "ACTOR", "ACTION", "DETAIL"}, {true, false, false, false, false});
  for (const Json& a : *r) {
    t.Add({Str(a, "seq"), Str(a, "time"), Str(a, "actor"), Str(a, "action"),
           AuditDetail(a["detail"])});
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  return 0;
}

}  // namespace suanpan::cli
