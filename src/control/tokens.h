#pragma once
// API tokens and the callers they make. A token has a role: admin (everything), tenant (one
// tenant's jobs and views), agent (one node: its heartbeat, assignments, reports and logs). Only
// the SHA-256 of a secret is kept; the secret is shown once, when it is made.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "control/views.h"
#include "store/store.h"

namespace suanpan::control {

enum class Role { kAdmin, kTenant, kAgent };
std::string_view RoleName(Role role);

// Who is calling, from the bearer token.
struct Caller {
  Role role = Role::kAdmin;
  std::string scope;  // tenant name (kTenant), node name (kAgent)
  std::string token_name;
};

struct TokenRequest {
  std::string name;
  std::string role;  // admin | tenant | agent
  std::string tenant;
  std::string node;
};

class Tokens {
 public:
  // Rebuilds from stored rows.
  void Load(std::vector<store::TokenRow> rows);
  // Unauthenticated for a missing, unknown or revoked token.
  StatusOr<Caller> Authenticate(std::string_view secret) const;
  // Checks the request (names, role, scope exists through `known_tenant` / `known_node`), makes
  // the secret and appends the row to `batch`. AlreadyExists for a name in use.
  StatusOr<CreatedToken> Create(const TokenRequest& request, int64_t now_ms, bool known_tenant,
                                bool known_node, store::WriteBatch& batch);
  std::vector<TokenView> List() const;
  // FailedPrecondition for the last admin token.
  Status Revoke(const std::string& name, store::WriteBatch& batch);
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
