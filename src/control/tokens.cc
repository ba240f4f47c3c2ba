#include "control/tokens.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

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

StatusOr<Caller> Tokens::Authenticate(std::string_view secret) const {
  if (secret.empty()) {
    return UnauthenticatedError("missing bearer token (Authorization: Bearer ...)");
  }
  auto it = by_hash_.find(Sha256Hex(secret));
  if (it == by_hash_.end() || it->second.revoked) {
    return UnauthenticatedError("unknown or revoked token");
  }
  Caller c;
  c.token_name = it->second.name;
  c.scope = it->second.scope;
  if (it->second.role == "admin") {
    c.role = Role::kAdmin;
  } else if (it->second.role == "tenant") {
    c.role = Role::kTenant;
  } else {
    c.role = Role::kAgent;
  }
  return c;
}

StatusOr<CreatedToken> Tokens::Create(const TokenRequest& r, int64_t now_ms, bool known_tenant,
                                      bool known_node, store::WriteBatch& batch) {
  if (!ValidName(r.name)) {
    return FieldError(
        "name", fmt::format("must be 1-64 letters, digits, '-', '_' or '.', got '{}'", r.name));
  }
  if (hash_by_name_.count(r.name)) {
    return AlreadyExistsError(fmt::format("name: a token named '{}' exists", r.name))
        .WithField("name");
  }
  std::string scope;
  if (r.role == "tenant") {
    if (r.tenant.empty()) return FieldError("tenant", "a tenant token needs its tenant");
    if (!known_tenant) return FieldError("tenant", fmt::format("unknown tenant '{}'", r.tenant));
    if (!r.node.empty()) return FieldError("node", "only for role agent");
    scope = r.tenant;
  } else if (r.role == "agent") {
    if (r.node.empty()) return FieldError("node", "an agent token needs its node");
    if (!known_node) return FieldError("node", fmt::format("unknown node '{}'", r.node));
    if (!r.tenant.empty()) return FieldError("tenant", "only for role tenant");
    scope = r.node;
  } else if (r.role == "admin") {
    if (!r.tenant.empty() || !r.node.empty()) {
      return FieldError("role", "an admin token has no tenant or node");
    }
  } else {
    return FieldError("role", fmt::format("must be admin, tenant or agent, got '{}'", r.role));
  }
  SP_ASSIGN_OR_RETURN(std::string secret, NewSecret());
  store::TokenRow row;
  row.name = r.name;
  row.hash = Sha256Hex(secret);
  row.role = r.role;
  row.scope = scope;
  row.created_ms = now_ms;
  batch.tokens.push_back(row);
  hash_by_name_[r.name] = row.hash;
  by_hash_[row.hash] = row;
  return CreatedToken{r.name, r.role, scope, secret};
}

std::vector<TokenView> Tokens::List() const {
  std::vector<TokenView> out;
  for (const auto& [name, hash] : hash_by_name_) {
    const store::TokenRow& t = by_hash_.at(hash);
    out.push_back({t.name, t.role, t.scope, t.created_ms, t.revoked});
  }
  return out;
}

Status Tokens::Revoke(const std::string& name, store::WriteBatch& batch) {
  auto it = hash_by_name_.find(name);
  if (it == hash_by_name_.end()) return NotFoundError(fmt::format("token '{}' not found", name));
  store::TokenRow& t = by_hash_.at(it->second);
  if (t.role == "admin" && !t.revoked) {
    size_t admins = 0;
    for (const auto& [hash, other] : by_hash_) admins += other.role == "admin" && !other.revoked;
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
                      Create(TokenRequest{name, "admin", "", ""}, now_ms, false, false, batch));
  return std::optional<std::string>(created.secret);
}

}  // namespace suanpan::control
