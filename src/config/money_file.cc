#include "config/money_file.h"

#include <fmt/format.h>

#include <limits>

#include "config/toml_fields.h"
#include "config/toml_file.h"

namespace suanpan::config {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max() / 4;

// Yuan, at most to the fen: 500, 12.5, "1,820.50". Never negative.
StatusOr<std::optional<MicroYuan>> Yuan(const Walker& w, Fields& f, std::string_view key) {
  const toml::node* n = f.Get(key);
  if (n == nullptr) return std::optional<MicroYuan>();
  std::string text;
  if (n->is_string()) {
    text = std::string(*n->value<std::string_view>());
  } else if (n->is_integer()) {
    text = fmt::format("{}", *n->value<int64_t>());
  } else if (n->is_floating_point()) {
    text = fmt::format("{}", *n->value<double>());
  } else {
    return w.Error(*n, f.Path(key), "must be an amount in yuan (500, 12.50 or \"1,820.50\")");
  }
  auto v = core::ParseYuan(text);
  if (!v.ok()) return w.Error(*n, f.Path(key), v.status().message());
  return std::optional<MicroYuan>(*v);
}

StatusOr<MoneyFile::Named> Name(const Walker& w, Fields& f, std::string_view key) {
  const toml::node* n = f.table().get(key);
  SP_ASSIGN_OR_RETURN(std::string name, f.String(key));
  if (name.empty()) return w.Error(*n, f.Path(key), "must not be empty");
  return MoneyFile::Named{name, static_cast<int>(n->source().begin.line), f.Path(key)};
}

StatusOr<std::vector<MoneyFile::Named>> Names(const Walker& w, Fields& f, std::string_view key) {
  SP_ASSIGN_OR_RETURN(const toml::array* a, f.Array(key));
  std::vector<MoneyFile::Named> out;
  if (a == nullptr) return out;
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& n = (*a)[i];
    const std::string path = fmt::format("{}[{}]", f.Path(key), i);
    if (!n.is_string() || n.value<std::string_view>()->empty()) {
      return w.Error(n, path, "must be a name (a non-empty string)");
    }
    out.push_back(
        {std::string(*n.value<std::string_view>()), static_cast<int>(n.source().begin.line), path});
  }
  return out;
}

StatusOr<int64_t> HoursMs(const Walker& w, Fields& f, std::string_view key, int64_t fallback) {
  const toml::node* n = f.table().get(key);
  SP_ASSIGN_OR_RETURN(int64_t milli_hours, f.Fixed(key, 1000, -1));
  if (n == nullptr) return fallback;
  if (milli_hours < 0 || milli_hours > int64_t{1'000'000} * 1000) {
    return w.Error(*n, f.Path(key), "must be in 0..1000000 hours");
  }
  return milli_hours * 3600;  // milli-hours x 3,600 = milliseconds
}

}  // namespace

StatusOr<MoneyFile> ParseMoneyFile(std::string_view text, std::string_view name) {
  SP_ASSIGN_OR_RETURN(toml::table doc, ParseToml(text, name));
  const Walker w(name);
  Fields top(w, doc, "");
  MoneyFile out;
  out.file = std::string(name);
  SP_ASSIGN_OR_RETURN(auto accounts, top.Tables("accounts"));
  for (size_t i = 0; i < accounts.size(); ++i) {
    Fields f(w, *accounts[i], fmt::format("accounts[{}]", i));
    MoneyFile::Account a;
    SP_ASSIGN_OR_RETURN(a.tenant, Name(w, f, "tenant"));
    SP_ASSIGN_OR_RETURN(auto balance, Yuan(w, f, "balance"));
    a.balance = balance.value_or(MicroYuan(0));
    SP_ASSIGN_OR_RETURN(a.credit_limit, Yuan(w, f, "credit_limit"));
    SP_ASSIGN_OR_RETURN(a.monthly_budget, Yuan(w, f, "monthly_budget"));
    SP_RETURN_IF_ERROR(f.Finish());
    for (const MoneyFile::Account& b : out.accounts) {
      if (b.tenant.name == a.tenant.name) {
        return w.Error(*accounts[i]->get("tenant"), a.tenant.path,
                       fmt::format("tenant '{}' already has an account (line {})", a.tenant.name,
                                   b.tenant.line));
      }
    }
    out.accounts.push_back(std::move(a));
  }
  SP_ASSIGN_OR_RETURN(auto vouchers, top.Tables("vouchers"));
  for (size_t i = 0; i < vouchers.size(); ++i) {
    Fields f(w, *vouchers[i], fmt::format("vouchers[{}]", i));
    MoneyFile::Voucher v;
    SP_ASSIGN_OR_RETURN(v.id, f.String("id", fmt::format("voucher-{}", i + 1)));
    SP_ASSIGN_OR_RETURN(v.tenant, Name(w, f, "tenant"));
    SP_ASSIGN_OR_RETURN(auto amount, Yuan(w, f, "amount"));
    if (!amount) return f.Missing("amount");
    if (amount->value() == 0) {
      return w.Error(*vouchers[i]->get("amount"), f.Path("amount"), "must be more than 0");
    }
    v.amount = *amount;
    SP_ASSIGN_OR_RETURN(v.from_ms, HoursMs(w, f, "from_hour", 0));
    SP_ASSIGN_OR_RETURN(v.to_ms, HoursMs(w, f, "to_hour", kNever));
    if (v.to_ms <= v.from_ms) {
      return w.Error(*vouchers[i]->get("to_hour"), f.Path("to_hour"), "must be after from_hour");
    }
    SP_ASSIGN_OR_RETURN(v.device_types, Names(w, f, "device_types"));
    SP_ASSIGN_OR_RETURN(v.providers, Names(w, f, "providers"));
    SP_ASSIGN_OR_RETURN(int64_t cap, f.Int("cap_percent", 100));
    if (cap < 1 || cap > 100) {
      return w.Error(*vouchers[i]->get("cap_percent"), f.Path("cap_percent"),
                     fmt::format("must be in 1..100, got {}", cap));
    }
    v.cap_permille = static_cast<int>(cap * 10);
    SP_RETURN_IF_ERROR(f.Finish());
    for (const MoneyFile::Voucher& u : out.vouchers) {
      if (u.id == v.id) {
        return w.Error(*vouchers[i], f.Path("id"), fmt::format("voucher '{}' twice", v.id));
      }
    }
    out.vouchers.push_back(std::move(v));
  }
  SP_RETURN_IF_ERROR(top.Finish());
  return out;
}

StatusOr<MoneyFile> ReadMoneyFile(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseMoneyFile(text, path);
}

StatusOr<core::OpeningFunds> MoneyFile::Resolve(const core::Pool& pool) const {
  auto error = [&](const Named& n, const std::string& message) {
    return InvalidArgumentError(fmt::format("{}:{}: {}: {}", file, n.line, n.path, message));
  };
  auto tenant = [&](const Named& n) -> StatusOr<core::TenantId> {
    if (auto t = pool.FindTenant(n.name)) return *t;
    std::string names;
    for (const core::Tenant& t : pool.tenants()) names += (names.empty() ? "" : ", ") + t.name;
    return error(n, fmt::format("unknown tenant '{}' (the pool has: {})", n.name, names));
  };
  core::OpeningFunds out;
  for (const Account& a : accounts) {
    SP_ASSIGN_OR_RETURN(core::TenantId t, tenant(a.tenant));
    out.accounts.push_back({t, a.balance, a.credit_limit, a.monthly_budget});
  }
  for (const Voucher& v : vouchers) {
    core::OpeningFunds::Voucher o;
    SP_ASSIGN_OR_RETURN(o.tenant, tenant(v.tenant));
    o.terms.id = v.id;
    o.terms.remaining = v.amount;
    o.terms.valid_from_ms = v.from_ms;
    o.terms.valid_to_ms = v.to_ms;
    o.terms.cap_permille = v.cap_permille;
    for (const Named& n : v.device_types) {
      auto ty = pool.catalog().Find(n.name);
      if (!ty) {
        return error(n, fmt::format("unknown device type '{}' (the pool has: {})", n.name,
                                    pool.catalog().Names()));
      }
      o.terms.types.push_back(*ty);
    }
    for (const Named& n : v.providers) {
      auto p = pool.FindProvider(n.name);
      if (!p) {
        std::string names;
        for (const core::Provider& q : pool.providers()) {
          names += (names.empty() ? "" : ", ") + q.name;
        }
        return error(n, fmt::format("unknown provider '{}' (the pool has: {})", n.name, names));
      }
      o.terms.providers.push_back(*p);
    }
    out.vouchers.push_back(std::move(o));
  }
  return out;
}

}  // namespace suanpan::config
