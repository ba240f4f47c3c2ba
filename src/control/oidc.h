#pragma once
// Sign-in for people through OpenID Connect (issue 15): when the server is given an issuer, a
// bearer that is a JWT signed by that issuer (an OIDC access token, RFC 9068, or an ID token) is a
// caller like a suanpan token. Tokens stay the built-in default; both work side by side.
//
// What is checked, in order: three base64url parts; the header's alg is RS256 (RSASSA-PKCS1-v1_5
// with SHA-256, what OIDC requires every provider to offer; "none" and HMAC are refused, so a
// token cannot pick its own key); the key is the issuer's, by kid, from its JWKS; the signature
// (OpenSSL EVP_DigestVerify); then the claims: iss is the issuer exactly, aud holds the audience,
// exp is in the future and nbf/iat not (with a leeway for clock skew).
//
// The caller comes from the claims (names configurable): the role (admin, tenant-admin, member,
// viewer; default member), the tenant (required for tenant roles), the projects a member submits
// to, and the user (preferred_username, else email, else sub), which jobs record as who submitted
// them. The token's exp is the caller's expiry.
//
// Why not a JWT library: Debian's C++ one (libcpp-jwt-dev, cpp-jwt 1.4) refuses RFC 9068 access
// tokens (typ "at+jwt": "type mismatch"); the signature check is OpenSSL's, the rest is parsing.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "control/tokens.h"

namespace suanpan::control {

struct OidcConfig {
  std::string issuer;    // https://idp.example.com/realms/hub; empty: OIDC is off
  std::string audience;  // what `aud` must hold (the API's identifier at the provider)
  std::string role_claim = "suanpan_role";
  std::string tenant_claim = "suanpan_tenant";
  std::string projects_claim = "suanpan_projects";  // a list, or names separated by spaces/commas
  int leeway_seconds = 60;
  // Sign-in in the dashboard (authorization code flow with PKCE, a public client): the client id
  // registered at the provider for the dashboard's URL, and the scopes to ask for. Empty client
  // id: the dashboard offers tokens only. Served unauthenticated by GET /v1/auth/config.
  std::string client_id;
  std::string scope = "openid";
};

class OidcVerifier {
 public:
  explicit OidcVerifier(OidcConfig config);
  ~OidcVerifier();
  OidcVerifier(const OidcVerifier&) = delete;
  OidcVerifier& operator=(const OidcVerifier&) = delete;

  // Replaces the signing keys with a JWKS document ({"keys": [...]}); RSA signing keys are kept,
  // others skipped. InvalidArgument when it holds no usable key. Thread-safe.
  Status LoadJwks(std::string_view jwks_json);
  size_t key_count() const;

  // Whether `bearer` looks like a JWT (three dot-separated parts), so it is not a suanpan token.
  static bool LooksLikeJwt(std::string_view bearer);

  // The caller the token makes, or Unauthenticated naming what failed ("token: signature does
  // not verify", "token: expired at ...", "token: iss 'x' is not the issuer 'y'"). O(token).
  StatusOr<Caller> Verify(std::string_view token, int64_t now_ms) const;

  const OidcConfig& config() const { return config_; }

 private:
  struct Key;
  OidcConfig config_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Key>> keys_;  // by kid ("" when the JWKS gave none)
};

}  // namespace suanpan::control
