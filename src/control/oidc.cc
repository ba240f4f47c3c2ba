#include "control/oidc.h"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "control/control_plane.h"  // FormatTimeMs

namespace suanpan::control {
namespace {

using Json = nlohmann::json;

// base64url without padding (RFC 7515 section 2), through OpenSSL's base64 decoder.
std::optional<std::string> Base64Url(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string s(in);
  for (char& c : s) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!std::isalnum(static_cast<unsigned char>(c))) {
      return std::nullopt;  // '+', '/', '=' and the rest are not base64url
    }
  }
  const size_t pad = (4 - s.size() % 4) % 4;
  s.append(pad, '=');
  std::string out(s.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Status Bad(std::string_view what) { return UnauthenticatedError(fmt::format("token: {}", what)); }

std::string FormatMs(int64_t ms) { return FormatTimeMs(ms); }

}  // namespace

struct OidcVerifier::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

OidcVerifier::OidcVerifier(OidcConfig config) : config_(std::move(config)) {}
OidcVerifier::~OidcVerifier() = default;

bool OidcVerifier::LooksLikeJwt(std::string_view bearer) {
  return std::count(bearer.begin(), bearer.end(), '.') == 2 && bearer.starts_with("eyJ");
}

size_t OidcVerifier::key_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_.size();
}

Status OidcVerifier::LoadJwks(std::string_view jwks_json) {
  const Json doc = Json::parse(jwks_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return InvalidArgumentError("jwks: must be a JSON object with a \"keys\" list");
  }
  std::map<std::string, std::shared_ptr<Key>> keys;
  for (const Json& k : doc["keys"]) {
    if (!k.is_object() || k.value("kty", "") != "RSA") continue;
    if (k.contains("use") && k["use"] != "sig") continue;
    if (k.contains("alg") && k["alg"] != "RS256") continue;
    if (!k.contains("n") || !k["n"].is_string() || !k.contains("e") || !k["e"].is_string())
      continue;
    auto n = Base64Url(k["n"].get<std::string>());
    auto e = Base64Url(k["e"].get<std::string>());
    if (!n || !e || n->size() < 256) continue;  // RSA of 2048 bits at least
    // JWK (n, e) -> an OpenSSL public key (OpenSSL 3: from parameters).
    BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr);
    BIGNUM* be = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM* params = nullptr;
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
    auto key = std::make_shared<Key>();
    const bool ok = bn != nullptr && be != nullptr && bld != nullptr && ctx != nullptr &&
                    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
                    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1 &&
                    (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr &&
                    EVP_PKEY_fromdata_init(ctx) == 1 &&
                    EVP_PKEY_fromdata(ctx, &key->pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(bn);
    BN_free(be);
    if (!ok) continue;
    keys[k.value("kid", "")] = std::move(key);
  }
  if (keys.empty()) return InvalidArgumentError("jwks: no RSA signing key (RS256) in it");
  std::lock_guard<std::mutex> lock(mu_);
  keys_ = std::move(keys);
  return OkStatus();
}

StatusOr<Caller> OidcVerifier::Verify(std::string_view token, int64_t now_ms) const {
  const size_t a = token.find('.'), b = token.find('.', a + 1);
  if (a == std::string_view::npos || b == std::string_view::npos ||
      token.find('.', b + 1) != std::string_view::npos) {
    return Bad("not a JWT (three base64url parts separated by dots)");
  }
  auto header_raw = Base64Url(token.substr(0, a));
  auto payload_raw = Base64Url(token.substr(a + 1, b - a - 1));
  auto signature = Base64Url(token.substr(b + 1));
  if (!header_raw || !payload_raw || !signature) return Bad("a part is not base64url");
  const Json header = Json::parse(*header_raw, nullptr, false);
  const Json claims = Json::parse(*payload_raw, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return Bad("header or claims are not JSON");
  const std::string alg = header.value("alg", "");
  if (alg != "RS256") {
    return Bad(fmt::format("alg '{}' is not accepted (RS256 only)", alg));
  }
  if (header.contains("crit")) return Bad("critical header extensions are not understood");
  std::shared_ptr<Key> key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string kid = header.value("kid", "");
    auto it = keys_.find(kid);
    if (it == keys_.end() && kid.empty() && keys_.size() == 1) it = keys_.begin();
    if (it == keys_.end()) {
      return Bad(fmt::format("signed with key '{}', which the issuer's JWKS does not hold", kid));
    }
    key = it->second;
  }
  // The signature covers "header.payload" as sent.
  const std::string_view signed_part = token.substr(0, b);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  const bool verified =
      md != nullptr && EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key->pkey) == 1 &&
      EVP_DigestVerify(
          md, reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
          reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
  EVP_MD_CTX_free(md);
  if (!verified) return Bad("signature does not verify");

  // Claims.
  const std::string iss = claims.value("iss", "");
  if (iss != config_.issuer) {
    return Bad(fmt::format("iss '{}' is not the issuer '{}'", iss, config_.issuer));
  }
  bool audience = false;
  if (claims.contains("aud")) {
    const Json& aud = claims["aud"];
    if (aud.is_string()) audience = aud == config_.audience;
    if (aud.is_array()) {
      for (const Json& x : aud) audience |= x.is_string() && x == config_.audience;
    }
  }
  if (!audience) {
    return Bad(fmt::format("aud {} does not name this API ('{}')",
                           claims.contains("aud") ? claims["aud"].dump() : "(none)",
                           config_.audience));
  }
  const int64_t now = now_ms / 1000, leeway = config_.leeway_seconds;
  if (!claims.contains("exp") || !claims["exp"].is_number()) return Bad("no exp");
  const int64_t exp = claims["exp"].get<int64_t>();
  if (exp + leeway <= now) return Bad(fmt::format("expired at {}", FormatMs(exp * 1000)));
  if (claims.contains("nbf") && claims["nbf"].is_number() &&
      claims["nbf"].get<int64_t>() - leeway > now) {
    return Bad(fmt::format("not valid before {}", FormatMs(claims["nbf"].get<int64_t>() * 1000)));
  }
  if (claims.contains("iat") && claims["iat"].is_number() &&
      claims["iat"].get<int64_t>() - leeway > now) {
    return Bad("issued in the future (iat): check the clocks");
  }

  // The caller.
  Caller c;
  for (const char* k : {"preferred_username", "email", "sub"}) {
    if (claims.contains(k) && claims[k].is_string() && !claims[k].get<std::string>().empty()) {
      c.token_name = claims[k].get<std::string>();
      break;
    }
  }
  if (c.token_name.empty()) return Bad("no user in it (preferred_username, email or sub)");
  c.expires_ms = exp * 1000;
  const std::string role = claims.value(config_.role_claim, std::string("member"));
  if (role == "admin") {
    c.role = Role::kAdmin;
  } else if (role == "tenant-admin" || role == "member" || role == "viewer") {
    c.role = Role::kTenant;
    c.grant = role == "tenant-admin" ? Grant::kTenantAdmin
              : role == "viewer"     ? Grant::kViewer
                                     : Grant::kMember;
    if (!claims.contains(config_.tenant_claim) || !claims[config_.tenant_claim].is_string() ||
        claims[config_.tenant_claim].get<std::string>().empty()) {
      return Bad(
          fmt::format("role {} needs its tenant in the claim '{}'", role, config_.tenant_claim));
    }
    c.scope = claims[config_.tenant_claim].get<std::string>();
  } else {
    return Bad(fmt::format("{} '{}' is not admin, tenant-admin, member or viewer",
                           config_.role_claim, role));
  }
  if (claims.contains(config_.projects_claim)) {
    const Json& p = claims[config_.projects_claim];
    if (p.is_array()) {
      for (const Json& x : p) {
        if (x.is_string()) c.projects.push_back(x.get<std::string>());
      }
    } else if (p.is_string()) {
      std::string s = p.get<std::string>();
      std::replace(s.begin(), s.end(), ',', ' ');
      for (size_t at = 0; at < s.size();) {
        const size_t sp = s.find(' ', at);
        const size_t end = sp == std::string::npos ? s.size() : sp;
        if (end > at) c.projects.push_back(s.substr(at, end - at));
        at = end + 1;
      }
    }
  }
  return c;
}

}  // namespace suanpan::control
