// /v1/prices, /v1/vouchers, /v1/accounts, /v1/ledger, /v1/invoices, /v1/statements, /v1/audit
// (control/money.cc says who may do what). Amounts go in as yuan ("1820.50", at most two
// decimals, or a JSON number) and come out as integer micro-yuan (`*_micro`).

#include "core/money.h"

#include <fmt/format.h>

#include "api/routes/routes.h"
#include "control/json_fields.h"

namespace suanpan::api {

using control::Caller;
using control::ControlPlane;
using control::KnownFields;
using Json = nlohmann::json;

namespace {

using Result = StatusOr<std::optional<Reply>>;

Result Reply200(StatusOr<Json> r, int status = 0) {
  if (!r.ok()) return r.status();
  return std::optional<Reply>(JsonReply(std::move(*r), status));
}

StatusOr<std::string> Text(const Json& body, const std::string& field, bool required) {
  if (!body.contains(field) || body[field].is_null()) {
    if (required) return FieldError(field, "is required");
    return std::string();
  }
  if (!body[field].is_string()) return FieldError(field, "must be a string");
  return body[field].get<std::string>();
}

// Yuan from a string or a number; nullopt when absent or null.
StatusOr<std::optional<MicroYuan>> Amount(const Json& body, const std::string& field,
                                          bool allow_negative = false) {
  if (!body.contains(field) || body[field].is_null()) return std::optional<MicroYuan>();
  const Json& v = body[field];
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_number_integer()) {
    text = v.dump();
  } else if (v.is_number_float()) {
    text = fmt::format("{:.2f}", v.get<double>());
    if (std::abs(std::stod(text) - v.get<double>()) > 1e-9) {
      return FieldError(field, "at most two decimals (fen)");
    }
  } else {
    return FieldError(field, "must be an amount in yuan, like \"1820.50\"");
  }
  auto m = core::ParseYuan(text, allow_negative);
  if (!m.ok()) return m.status().WithField(field);
  return std::optional<MicroYuan>(*m);
}

StatusOr<MicroYuan> RequiredAmount(const Json& body, const std::string& field,
                                   bool allow_negative = false) {
  SP_ASSIGN_OR_RETURN(auto m, Amount(body, field, allow_negative));
  if (!m) return FieldError(field, "is required (yuan, like \"1820.50\")");
  return *m;
}

StatusOr<std::optional<int64_t>> TimeField(const Json& body, const std::string& field) {
  if (!body.contains(field) || body[field].is_null()) return std::optional<int64_t>();
  if (!body[field].is_string()) return FieldError(field, "must be a time string");
  auto ms = control::ParseTimeMs(body[field].get<std::string>());
  if (!ms.ok()) return ms.status().WithField(field);
  return std::optional<int64_t>(*ms);
}

StatusOr<std::vector<std::string>> Names(const Json& body, const std::string& field) {
  std::vector<std::string> out;
  if (!body.contains(field) || body[field].is_null()) return out;
  if (!body[field].is_array()) return FieldError(field, "must be a list of names");
  for (const Json& v : body[field]) {
    if (!v.is_string()) return FieldError(field, "must be a list of names");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Reply TextReply(std::string text, std::string content_type) {
  Reply r;
  r.text = std::move(text);
  r.content_type = std::move(content_type);
  return r;
}

Result Document(const Json& doc, const std::optional<std::string>& format) {
  const std::string f = format.value_or("json");
  if (f == "json") return std::optional<Reply>(JsonReply(doc));
  if (doc.value("kind", "") != "invoice") {
    return FieldError("format", "a credit note is exported as json");
  }
  if (f == "csv") {
    return std::optional<Reply>(TextReply(control::Billing::InvoiceCsv(doc), "text/csv"));
  }
  if (f == "html") {
    return std::optional<Reply>(
        TextReply(control::Billing::InvoiceHtml(doc), "text/html; charset=utf-8"));
  }
  return FieldError("format", fmt::format("must be json, csv or html, got '{}'", f));
}

}  // namespace

void AddMoneyRoutes(Router& r, const RouteContext&) {
  r.Add("GET", "/v1/prices", kPeople, {},
        [](ControlPlane& p, const Caller& c, Call&) -> Result { return Reply200(p.Prices(c)); });
  r.Add("POST", "/v1/prices", {kAdmin}, Body(201),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          const Json& b = call.body;
          SP_RETURN_IF_ERROR(KnownFields(b, {"provider", "device_type", "price", "effective"}));
          SP_ASSIGN_OR_RETURN(std::string provider, Text(b, "provider", true));
          SP_ASSIGN_OR_RETURN(std::string type, Text(b, "device_type", true));
          SP_ASSIGN_OR_RETURN(MicroYuan price, RequiredAmount(b, "price"));
          SP_ASSIGN_OR_RETURN(auto effective, TimeField(b, "effective"));
          SP_RETURN_IF_ERROR(p.SetPrice(c, provider, type, price, effective));
          return Reply200(p.Prices(c), 201);
        });

  r.Add("GET", "/v1/vouchers", kPeople, Query({"tenant"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          return Reply200(p.Vouchers(c, call.Query("tenant").value_or("")));
        });
  r.Add("POST", "/v1/vouchers", {kAdmin}, Body(201),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          const Json& b = call.body;
          SP_RETURN_IF_ERROR(
              KnownFields(b, {"id", "tenant", "amount", "valid_from", "valid_to", "device_types",
                              "providers", "cap_percent", "programme"}));
          control::VoucherRequest q;
          SP_ASSIGN_OR_RETURN(q.id, Text(b, "id", false));
          SP_ASSIGN_OR_RETURN(q.tenant, Text(b, "tenant", true));
          SP_ASSIGN_OR_RETURN(q.amount, RequiredAmount(b, "amount"));
          SP_ASSIGN_OR_RETURN(auto from, TimeField(b, "valid_from"));
          SP_ASSIGN_OR_RETURN(auto to, TimeField(b, "valid_to"));
          if (!to) return FieldError("valid_to", "is required (when the voucher expires)");
          q.valid_from_ms = from.value_or(p.NowMs());
          q.valid_to_ms = *to;
          SP_ASSIGN_OR_RETURN(q.device_types, Names(b, "device_types"));
          SP_ASSIGN_OR_RETURN(q.providers, Names(b, "providers"));
          if (b.contains("cap_percent")) {
            if (!b["cap_percent"].is_number_integer()) {
              return FieldError("cap_percent", "must be a whole percentage 1..100");
            }
            const int64_t cap = b["cap_percent"].get<int64_t>();
            q.cap_percent = static_cast<int>(std::clamp<int64_t>(cap, -1, 101));
          }
          SP_ASSIGN_OR_RETURN(q.programme, Text(b, "programme", false));
          return Reply200(p.GrantVoucher(c, q), 201);
        });
  r.Add("DELETE", "/v1/vouchers/{id}", {kAdmin}, {},
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          const std::string id = call.params.at("id");
          SP_RETURN_IF_ERROR(p.RevokeVoucher(c, id));
          return std::optional<Reply>(JsonReply(Json{{"id", id}, {"revoked", true}}));
        });

  r.Add("GET", "/v1/accounts/{tenant}", kPeople, {},
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          return Reply200(p.Balance(c, call.params.at("tenant")));
        });
  r.Add("PATCH", "/v1/accounts/{tenant}", kPeople, Body(),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          const Json& b = call.body;
          SP_RETURN_IF_ERROR(
              KnownFields(b, {"credit_limit", "monthly_budget", "hard_limit", "on_exhausted"}));
          control::AccountTerms t;
          auto read = [&](const std::string& field, std::optional<MicroYuan>& value,
                          bool& clear) -> Status {
            if (!b.contains(field)) return OkStatus();
            if (b[field].is_null()) {
              clear = true;
              return OkStatus();
            }
            SP_ASSIGN_OR_RETURN(value, Amount(b, field));
            return OkStatus();
          };
          SP_RETURN_IF_ERROR(read("credit_limit", t.credit_limit, t.clear_credit_limit));
          SP_RETURN_IF_ERROR(read("monthly_budget", t.monthly_budget, t.clear_monthly_budget));
          SP_RETURN_IF_ERROR(read("hard_limit", t.hard_limit, t.clear_hard_limit));
          if (b.contains("on_exhausted")) {
            SP_ASSIGN_OR_RETURN(std::string e, Text(b, "on_exhausted", true));
            t.on_exhausted = e;
          }
          return Reply200(p.SetAccount(c, call.params.at("tenant"), t));
        });
  r.Add("POST", "/v1/accounts/{tenant}/topups", {kAdmin}, Body(201),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          SP_RETURN_IF_ERROR(KnownFields(call.body, {"amount", "memo"}));
          SP_ASSIGN_OR_RETURN(MicroYuan amount, RequiredAmount(call.body, "amount"));
          SP_ASSIGN_OR_RETURN(std::string memo, Text(call.body, "memo", false));
          return Reply200(p.TopUp(c, call.params.at("tenant"), amount, memo), 201);
        });
  r.Add("POST", "/v1/accounts/{tenant}/adjustments", {kAdmin}, Body(201),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          SP_RETURN_IF_ERROR(KnownFields(call.body, {"amount", "memo"}));
          SP_ASSIGN_OR_RETURN(MicroYuan amount,
                              RequiredAmount(call.body, "amount", /*allow_negative=*/true));
          SP_ASSIGN_OR_RETURN(std::string memo, Text(call.body, "memo", true));
          return Reply200(p.Adjust(c, call.params.at("tenant"), amount, memo), 201);
        });
  r.Add("GET", "/v1/accounts/{tenant}/invoice", kPeople, Query({"month", "format"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          const auto month = call.Query("month");
          if (!month) return FieldError("month", "is required (YYYY-MM)");
          SP_ASSIGN_OR_RETURN(Json doc, p.DraftInvoice(c, call.params.at("tenant"), *month));
          return Document(doc, call.Query("format"));
        });

  r.Add("GET", "/v1/ledger", kPeople, Query({"tenant", "month"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          return Reply200(
              p.Ledger(c, call.Query("tenant").value_or(""), call.Query("month").value_or("")));
        });

  r.Add("GET", "/v1/invoices", kPeople, Query({"tenant"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          return Reply200(p.Invoices(c, call.Query("tenant").value_or("")));
        });
  r.Add("POST", "/v1/invoices", {kAdmin}, Body(201),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          SP_RETURN_IF_ERROR(KnownFields(call.body, {"month", "tenant"}));
          SP_ASSIGN_OR_RETURN(std::string month, Text(call.body, "month", true));
          SP_ASSIGN_OR_RETURN(std::string tenant, Text(call.body, "tenant", false));
          return Reply200(p.IssueInvoices(c, tenant, month), 201);
        });
  r.Add("GET", "/v1/invoices/{number}", kPeople, Query({"format"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          SP_ASSIGN_OR_RETURN(Json doc, p.InvoiceDocument(c, call.params.at("number")));
          return Document(doc, call.Query("format"));
        });
  r.Add("POST", "/v1/invoices/{number}/credit-notes", {kAdmin}, Body(201),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          SP_RETURN_IF_ERROR(KnownFields(call.body, {"amount", "reason"}));
          SP_ASSIGN_OR_RETURN(MicroYuan amount, RequiredAmount(call.body, "amount"));
          SP_ASSIGN_OR_RETURN(std::string reason, Text(call.body, "reason", true));
          return Reply200(p.CreditNote(c, call.params.at("number"), amount, reason), 201);
        });

  r.Add("GET", "/v1/statements", {kAdmin, kPartner}, Query({"month", "provider"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          const auto month = call.Query("month");
          if (!month) return FieldError("month", "is required (YYYY-MM)");
          return Reply200(p.Statements(c, *month, call.Query("provider").value_or("")));
        });
  r.Add("GET", "/v1/audit", {kAdmin}, Query({"limit"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> Result {
          SP_ASSIGN_OR_RETURN(size_t limit, call.Size("limit", 100, 100'000, 1));
          return Reply200(p.AuditLog(c, limit));
        });
}

}  // namespace suanpan::api
