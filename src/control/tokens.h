#pragma once
// API tokens and the callers they make. A token has a role: admin (the hub's: everything), one of
// the tenant roles (one tenant's jobs and views): tenant-admin (also makes and revokes its
// tenant's tokens), member (submits and reads; "tenant" is the older name of this role), viewer
// (reads only), agent (one node: its heartbeat, assignments, reports and logs), or partner (one
// provider: its nodes, the jobs on them, its statements). A token may
// expire. Only the SHA-256 of a secret is kept; the secret is shown once, when it is made.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "control/views.h"
#include "store/store.h"

namespace suanpan::control {

// kPartner: a compute partner (one provider): its own nodes, the jobs that ran there (without
// their commands and environment) and its earnings.
enum class Role { kAdmin, kTenant, kAgent, kPartner };
std::string_view RoleName(Role role);
// Within its tenant, what a tenant-scoped caller (Role::kTenant) may do.
enum class Grant { kMember, kTenantAdmin, kViewer };

// Who is calling, from the bearer token.
struct Caller {
  Role role = Role::kAdmin;
  std::string scope;  // tenant name (kTenant), node name (kAgent), provider name (kPartner)
  std::string token_name;
  Grant grant = Grant::kMember;                      // kTenant only
  std::optional<int64_t> expires_ms = std::nullopt;  // the token's
  // A member's projects (it submits to these only; empty: any of its tenant's).
  std::vector<std::string> projects = {};
  bool tenant_admin() const { return role == Role::kTenant && grant == Grant::kTenantAdmin; }
  bool viewer() const { return role == Role::kTenant && grant == Grant::kViewer; }
};
// admin, tenant-admin, member, viewer or agent.
std::string_view CallerRoleName(const Caller& caller);

struct TokenRequest {
  std::string name;
  std::string role;  // admin | tenant-admin | member | viewer | agent ("tenant": member)
  std::string tenant;
  std::string node;
  std::optional<int64_t> expires_ms;       // unset: never
  std::string provider;                    // role partner
  std::vector<std::string> projects = {};  // role member: the projects it submits to
};

class Tokens {
 public:
  // Rebuilds from stored rows.
  void Load(std::vector<store::TokenRow> rows);
  // Unauthenticated for a missing, unknown, revoked or expired token.
  StatusOr<Caller> Authenticate(std::string_view secret, int64_t now_ms) const;
  // Checks who asks (`by`: an admin, or a tenant admin for member, viewer and tenant-admin tokens
  // of its own tenant) and the request (names, role, scope exists through `known_tenant` /
  // `known_node`, expiry after now), makes the secret and appends the row to `batch`.
  // AlreadyExists for a name in use.
  StatusOr<CreatedToken> Create(const Caller& by, const TokenRequest& request, int64_t now_ms,
                                bool known_tenant, bool known_node, bool known_provider,
                                store::WriteBatch& batch);
  // The admin sees every token; a tenant admin its tenant's.
  StatusOr<std::vector<TokenView>> List(const Caller& by, int64_t now_ms) const;
  // FailedPrecondition for the last admin token; NotFound for a token `by` may not see.
  // An expired admin token does not count as the other admin.
  Status Revoke(const Caller& by, const std::string& name, int64_t now_ms,
                store::WriteBatch& batch);
  // Makes sure an admin token exists (with `replace`, revokes the others and makes a new one);
  // returns the new secret, if one was made.
  StatusOr<std::optional<std::string>> EnsureAdmin(bool replace, int64_t now_ms,
                                                   store::WriteBatch& batch);
  size_t size() const { return by_hash_.size(); }

 private:
  std::map<std::string, store::TokenRow, std::less<>> by_hash_;
  std::map<std::string, std::string, std::less<>> hash_by_name_;
};

// Names of tokens, nodes and the like: 1-64 letters, digits, '-', '_' or '.'.
bool ValidName(std::string_view s);

}  // namespace suanpan::control
