#include "control/tokens.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "control/control_plane.h"  // FormatTimeMs

namespace suanpan::control {
namespace {

std::string Hex(const unsigned char* data, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

StatusOr<std::string> NewSecret() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return InternalError("token: no random bytes");
  return "sp_" + Hex(bytes, sizeof(bytes));
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kTenant:
      return "tenant";
    case Role::kAgent:
      return "agent";
    case Role::kPartner:
      return "partner";
  }
  return "unknown";
}

bool ValidName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

void Tokens::Load(std::vector<store::TokenRow> rows) {
  for (store::TokenRow& t : rows) {
    hash_by_name_[t.name] = t.hash;
    by_hash_[t.hash] = std::move(t);
  }
}

namespace {

bool TenantScoped(std::string_view role) {
  return role == "tenant" || role == "member" || role == "tenant-admin" || role == "viewer";
}

// A tenant admin manages its own tenant's tenant-scoped tokens; the admin every token.
bool Manages(const Caller& by, const store::TokenRow& t) {
  if (by.role == Role::kAdmin) return true;
  return by.tenant_admin() && TenantScoped(t.role) && t.scope == by.scope;
}

Status MayManageTokens(const Caller& by) {
  if (by.role == Role::kAdmin || by.tenant_admin()) return OkStatus();
  return PermissionDeniedError(fmt::format(
      "role {} may not manage tokens (an admin or a tenant admin may)", CallerRoleName(by)));
}

}  // namespace

std::string_view CallerRoleName(const Caller& caller) {
  if (caller.role != Role::kTenant) return RoleName(caller.role);
  switch (caller.grant) {
    case Grant::kTenantAdmin:
      return "tenant-admin";
    case Grant::kViewer:
      return "viewer";
    case Grant::kMember:
      break;
  }
  return "member";
}

StatusOr<Caller> Tokens::Authenticate(std::string_view secret, int64_t now_ms) const {
  if (secret.empty()) {
    return UnauthenticatedError("missing bearer token (Authorization: Bearer ...)");
  }
  auto it = by_hash_.find(Sha256Hex(secret));
  if (it == by_hash_.end() || it->second.revoked) {
    return UnauthenticatedError("unknown or revoked token");
  }
  const store::TokenRow& t = it->second;
  if (t.expires_ms && now_ms >= *t.expires_ms) {
    return UnauthenticatedError(fmt::format("token '{}' expired at {}: ask for a new one", t.name,
                                            FormatTimeMs(*t.expires_ms)));
  }
  Caller c;
  c.token_name = t.name;
  c.scope = t.scope;
  c.expires_ms = t.expires_ms;
  c.projects = t.projects;
  if (t.role == "admin") {
    c.role = Role::kAdmin;
  } else if (TenantScoped(t.role)) {
    c.role = Role::kTenant;
    c.grant = t.role == "tenant-admin" ? Grant::kTenantAdmin
              : t.role == "viewer"     ? Grant::kViewer
                                       : Grant::kMember;
  } else if (t.role == "partner") {
    c.role = Role::kPartner;
  } else {
    c.role = Role::kAgent;
  }
  return c;
}

StatusOr<CreatedToken> Tokens::Create(const Caller& by, const TokenRequest& r, int64_t now_ms,
                                      bool known_tenant, bool known_node, bool known_provider,
                                      store::WriteBatch& batch) {
  SP_RETURN_IF_ERROR(MayManageTokens(by));
  TokenRequest req = r;
  if (by.role != Role::kAdmin) {
    if (!TenantScoped(req.role)) {
      return PermissionDeniedError(
                 fmt::format("role: a tenant admin makes tenant-admin, member or viewer tokens, "
                             "not '{}'",
                             req.role))
          .WithField("role");
    }
    if (req.tenant.empty()) req.tenant = by.scope, known_tenant = true;
    if (req.tenant != by.scope) {
      return PermissionDeniedError(
                 fmt::format("tenant: this token manages tenant '{}' only", by.scope))
          .WithField("tenant");
    }
  }
  if (!ValidName(req.name)) {
    return FieldError(
        "name", fmt::format("must be 1-64 letters, digits, '-', '_' or '.', got '{}'", req.name));
  }
  if (hash_by_name_.count(req.name)) {
    return AlreadyExistsError(fmt::format("name: a token named '{}' exists", req.name))
        .WithField("name");
  }
  // A tenant admin's tokens live no longer than its own (an expiring token cannot mint lasting
  // ones): unset means its own expiry.
  if (by.role != Role::kAdmin && by.expires_ms) {
    if (!req.expires_ms) req.expires_ms = by.expires_ms;
    if (*req.expires_ms > *by.expires_ms) {
      return FieldError("expires", fmt::format("after {}, when this token itself expires",
                                               FormatTimeMs(*by.expires_ms)));
    }
  }
  if (req.expires_ms && *req.expires_ms <= now_ms) {
    return FieldError("expires",
                      fmt::format("{} is not in the future", FormatTimeMs(*req.expires_ms)));
  }
  std::string scope;
  if (!req.provider.empty() && req.role != "partner") {
    return FieldError("provider", "only for role partner");
  }
  if (!req.projects.empty() && req.role != "member" && req.role != "tenant") {
    return FieldError("projects",
                      "only for role member (tenant admins and viewers act on the "
                      "whole tenant)");
  }
  if (TenantScoped(req.role)) {
    if (req.tenant.empty()) return FieldError("tenant", "a tenant token needs its tenant");
    if (!known_tenant) return FieldError("tenant", fmt::format("unknown tenant '{}'", req.tenant));
    if (!req.node.empty()) return FieldError("node", "only for role agent");
    scope = req.tenant;
  } else if (req.role == "partner") {
    if (req.provider.empty()) return FieldError("provider", "a partner token needs its provider");
    if (!known_provider) {
      return FieldError("provider", fmt::format("unknown provider '{}'", req.provider));
    }
    if (!req.tenant.empty() || !req.node.empty()) {
      return FieldError(req.tenant.empty() ? "node" : "tenant", "not for role partner");
    }
    scope = req.provider;
  } else if (req.role == "agent") {
    if (req.node.empty()) return FieldError("node", "an agent token needs its node");
    if (!known_node) return FieldError("node", fmt::format("unknown node '{}'", req.node));
    if (!req.tenant.empty()) return FieldError("tenant", "only for tenant roles");
    scope = req.node;
  } else if (req.role == "admin") {
    if (!req.tenant.empty() || !req.node.empty()) {
      return FieldError("role", "an admin token has no tenant or node");
    }
  } else {
    return FieldError(
        "role",
        fmt::format("must be admin, tenant-admin, member, viewer, agent or partner, got '{}'",
                    req.role));
  }
  SP_ASSIGN_OR_RETURN(std::string secret, NewSecret());
  store::TokenRow row;
  row.name = req.name;
  row.hash = Sha256Hex(secret);
  row.role = req.role;
  row.scope = scope;
  row.created_ms = now_ms;
  row.expires_ms = req.expires_ms;
  row.projects = req.projects;
  batch.tokens.push_back(row);
  hash_by_name_[req.name] = row.hash;
  by_hash_[row.hash] = row;
  return CreatedToken{req.name, req.role, scope, secret};
}

StatusOr<std::vector<TokenView>> Tokens::List(const Caller& by, int64_t now_ms) const {
  SP_RETURN_IF_ERROR(MayManageTokens(by));
  std::vector<TokenView> out;
  for (const auto& [name, hash] : hash_by_name_) {
    const store::TokenRow& t = by_hash_.at(hash);
    if (!Manages(by, t)) continue;
    out.push_back({t.name, t.role, t.scope, t.created_ms, t.revoked, t.expires_ms,
                   t.expires_ms && now_ms >= *t.expires_ms, t.projects});
  }
  return out;
}

Status Tokens::Revoke(const Caller& by, const std::string& name, int64_t now_ms,
                      store::WriteBatch& batch) {
  SP_RETURN_IF_ERROR(MayManageTokens(by));
  auto it = hash_by_name_.find(name);
  if (it == hash_by_name_.end() || !Manages(by, by_hash_.at(it->second))) {
    return NotFoundError(fmt::format("token '{}' not found", name));
  }
  store::TokenRow& t = by_hash_.at(it->second);
  auto live_admin = [&](const store::TokenRow& r) {
    return r.role == "admin" && !r.revoked && !(r.expires_ms && now_ms >= *r.expires_ms);
  };
  if (live_admin(t)) {
    size_t admins = 0;
    for (const auto& [hash, other] : by_hash_) admins += live_admin(other);
    if (admins == 1) {
      return FailedPreconditionError(fmt::format(
          "token '{}' is the last admin token: create another admin token first (or restart the "
          "server with --new-admin-token)",
          name));
    }
  }
  t.revoked = true;
  batch.tokens.push_back(t);
  return OkStatus();
}

StatusOr<std::optional<std::string>> Tokens::EnsureAdmin(bool replace, int64_t now_ms,
                                                         store::WriteBatch& batch) {
  bool have = false;
  for (auto& [hash, t] : by_hash_) {
    if (t.role != "admin" || t.revoked) continue;
    // An expired admin token opens nothing: a server with only expired ones makes a new one.
    if (t.expires_ms && now_ms >= *t.expires_ms && !replace) continue;
    if (replace) {
      t.revoked = true;
      batch.tokens.push_back(t);
    } else {
      have = true;
    }
  }
  if (have) return std::optional<std::string>();
  std::string name = "admin";
  for (int i = 2; hash_by_name_.count(name); ++i) name = fmt::format("admin-{}", i);
  SP_ASSIGN_OR_RETURN(CreatedToken created,
                      Create(Caller{}, TokenRequest{name, "admin", "", "", std::nullopt, ""},
                             now_ms, false, false, false, batch));
  return std::optional<std::string>(created.secret);
}

StatusOr<Caller> ControlPlane::AuthenticateOidc(std::string_view token) const {
  SP_ASSIGN_OR_RETURN(Caller c, oidc_->Verify(token, clock_.NowMs()));
  // A person's session, not a token: what it makes is not bounded by its access token's few
  // minutes (Tokens::Create bounds a tenant admin's tokens by its own expiry).
  c.expires_ms.reset();
  if (c.role == Role::kTenant && !pool_->FindTenant(c.scope)) {
    return PermissionDeniedError(
        fmt::format("token: tenant '{}' (claim '{}') is not a tenant of this hub", c.scope,
                    oidc_->config().tenant_claim));
  }
  return c;
}

}  // namespace suanpan::control
