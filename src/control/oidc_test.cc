// OidcVerifier in isolation: JWTs signed here with a local RSA key (as an identity provider
// signs them), then every way one can be wrong. The real provider is in the integration tests
// (OidcTest, node-oidc-provider).

#include "control/oidc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>

namespace suanpan::control {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;

std::string B64Url(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

// An RSA key pair, its JWK and a signer: what an identity provider holds.
class TestIdp {
 public:
  explicit TestIdp(std::string kid) : kid_(std::move(kid)) { key_ = EVP_RSA_gen(2048); }
  ~TestIdp() { EVP_PKEY_free(key_); }
  Json Jwk() const {
    BIGNUM *n = nullptr, *e = nullptr;
    EVP_PKEY_get_bn_param(key_, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(key_, OSSL_PKEY_PARAM_RSA_E, &e);
    auto bytes = [](const BIGNUM* b) {
      std::string s(static_cast<size_t>(BN_num_bytes(b)), '\0');
      BN_bn2bin(b, reinterpret_cast<unsigned char*>(s.data()));
      return s;
    };
    Json j{{"kty", "RSA"},   {"kid", kid_},           {"use", "sig"},
           {"alg", "RS256"}, {"n", B64Url(bytes(n))}, {"e", B64Url(bytes(e))}};
    BN_free(n);
    BN_free(e);
    return j;
  }
  std::string Sign(const Json& header, const Json& claims) const {
    const std::string input = B64Url(header.dump()) + "." + B64Url(claims.dump());
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(len);
    EVP_MD_CTX_free(md);
    return input + "." + B64Url(sig);
  }
  Json Header() const { return Json{{"alg", "RS256"}, {"typ", "at+jwt"}, {"kid", kid_}}; }

 private:
  std::string kid_;
  EVP_PKEY* key_ = nullptr;
};

constexpr int64_t kNow = 1'800'000'000;  // seconds
const char* kIssuer = "https://idp.example.com/realms/hub";

Json Claims() {
  return Json{{"iss", kIssuer},
              {"aud", "suanpan"},
              {"sub", "5f1c"},
              {"preferred_username", "ana"},
              {"iat", kNow - 10},
              {"exp", kNow + 600},
              {"suanpan_tenant", "lumen-ai"},
              {"suanpan_role", "member"},
              {"suanpan_projects", Json::array({"vision"})}};
}

OidcConfig Config() {
  OidcConfig c;
  c.issuer = kIssuer;
  c.audience = "suanpan";
  return c;
}

TEST(OidcTest, AGoodTokenMakesACallerFromItsClaims) {
  TestIdp idp("k1");
  OidcVerifier v(Config());
  ASSERT_TRUE(v.LoadJwks(Json{{"keys", {idp.Jwk()}}}.dump()).ok());
  const std::string token = idp.Sign(idp.Header(), Claims());
  EXPECT_TRUE(OidcVerifier::LooksLikeJwt(token));
  EXPECT_FALSE(OidcVerifier::LooksLikeJwt("sp_0123456789abcdef"));
  auto c = v.Verify(token, kNow * 1000);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->role, Role::kTenant);
  EXPECT_EQ(c->grant, Grant::kMember);
  EXPECT_EQ(c->scope, "lumen-ai");
  EXPECT_EQ(c->token_name, "ana");
  EXPECT_EQ(c->projects, std::vector<std::string>{"vision"});
  EXPECT_EQ(c->expires_ms, (kNow + 600) * 1000);
  // An audience list, a projects string, other roles, the user from email or sub.
  Json claims = Claims();
  claims["aud"] = Json::array({"account", "suanpan"});
  claims["suanpan_projects"] = "vision llm,robotics";
  claims["suanpan_role"] = "tenant-admin";
  claims.erase("preferred_username");
  c = v.Verify(idp.Sign(idp.Header(), claims), kNow * 1000);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->tenant_admin());
  EXPECT_EQ(c->token_name, "5f1c");
  EXPECT_EQ(c->projects, (std::vector<std::string>{"vision", "llm", "robotics"}));
  claims["suanpan_role"] = "admin";
  c = v.Verify(idp.Sign(idp.Header(), claims), kNow * 1000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->role, Role::kAdmin);
}

TEST(OidcTest, EveryWayATokenIsWrongIsRefusedNamingIt) {
  TestIdp idp("k1"), other("k1");  // `other`: the same kid, another key (a forger)
  OidcVerifier v(Config());
  ASSERT_TRUE(v.LoadJwks(Json{{"keys", {idp.Jwk()}}}.dump()).ok());
  struct Case {
    const char* what;
    std::string token;
    const char* message;
  };
  auto with = [&](const char* key, Json value) {
    Json c = Claims();
    if (value.is_null()) {
      c.erase(key);
    } else {
      c[key] = std::move(value);
    }
    return idp.Sign(idp.Header(), c);
  };
  Json none_header{{"alg", "none"}, {"kid", "k1"}};
  Json hs_header{{"alg", "HS256"}, {"kid", "k1"}};
  Json unknown_kid{{"alg", "RS256"}, {"kid", "k9"}};
  const std::string good = idp.Sign(idp.Header(), Claims());
  std::string tampered = good;
  {
    // Another tenant in the claims, the signature kept.
    Json c = Claims();
    c["suanpan_tenant"] = "t01-qingyun-ai";
    const size_t a = good.find('.'), b = good.rfind('.');
    tampered = good.substr(0, a) + "." + B64Url(c.dump()) + good.substr(b);
  }
  const std::vector<Case> cases = {
      {"forged by another key", other.Sign(other.Header(), Claims()), "signature does not verify"},
      {"claims changed after signing", tampered, "signature does not verify"},
      {"alg none", B64Url(none_header.dump()) + "." + B64Url(Claims().dump()) + ".",
       "alg 'none' is not accepted"},
      {"HMAC", idp.Sign(hs_header, Claims()), "alg 'HS256' is not accepted"},
      {"unknown key", idp.Sign(unknown_kid, Claims()), "key 'k9', which the issuer's JWKS"},
      {"another issuer", with("iss", "https://evil.example.com"),
       "iss 'https://evil.example.com' is not the issuer"},
      {"another audience", with("aud", "billing"), "aud \"billing\" does not name this API"},
      {"no audience", with("aud", nullptr), "aud (none) does not name this API"},
      {"expired", with("exp", kNow - 61), "expired at"},
      {"no exp", with("exp", nullptr), "no exp"},
      {"not yet valid", with("nbf", kNow + 3600), "not valid before"},
      {"issued in the future", with("iat", kNow + 3600), "issued in the future"},
      {"unknown role", with("suanpan_role", "root"), "'root' is not admin, tenant-admin"},
      {"member without a tenant", with("suanpan_tenant", nullptr), "needs its tenant"},
      {"two parts", "eyJhbGciOiJSUzI1NiJ9.eyJ9", "not a JWT"},
      {"four parts", good + ".x", "not a JWT"},
      {"not base64url", "eyJ!!.eyJ.abc", "not base64url"},
      {"header not JSON", B64Url("{nope") + "." + B64Url("{}") + ".AAAA", "not JSON"},
  };
  for (const Case& c : cases) {
    auto r = v.Verify(c.token, kNow * 1000);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << c.what;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.what;
  }
  // Within the leeway (60 s) an expired token still passes: clocks differ.
  EXPECT_TRUE(v.Verify(with("exp", kNow - 30), kNow * 1000).ok());
}

TEST(OidcTest, AJwksWithoutAUsableKeyIsRefusedAndRotationReplacesTheKeys) {
  OidcVerifier v(Config());
  EXPECT_FALSE(v.LoadJwks("not json").ok());
  EXPECT_FALSE(v.LoadJwks(R"({"keys": []})").ok());
  EXPECT_FALSE(v.LoadJwks(R"({"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}]})").ok());
  TestIdp old_key("2026-11"), new_key("2026-12");
  ASSERT_TRUE(v.LoadJwks(Json{{"keys", {old_key.Jwk()}}}.dump()).ok());
  const std::string before = new_key.Sign(new_key.Header(), Claims());
  EXPECT_FALSE(v.Verify(before, kNow * 1000).ok());
  // The provider rotates: both keys published, then only the new one.
  ASSERT_TRUE(v.LoadJwks(Json{{"keys", {old_key.Jwk(), new_key.Jwk()}}}.dump()).ok());
  EXPECT_EQ(v.key_count(), 2u);
  EXPECT_TRUE(v.Verify(before, kNow * 1000).ok());
  EXPECT_TRUE(v.Verify(old_key.Sign(old_key.Header(), Claims()), kNow * 1000).ok());
  ASSERT_TRUE(v.LoadJwks(Json{{"keys", {new_key.Jwk()}}}.dump()).ok());
  EXPECT_FALSE(v.Verify(old_key.Sign(old_key.Header(), Claims()), kNow * 1000).ok());
}

}  // namespace
}  // namespace suanpan::control
