// Fuzzes the OpenID Connect token check (control/oidc.h): the input is a JWKS document and a
// bearer, separated by the first newline. Any bytes give a caller or an Unauthenticated error
// naming the problem; nothing crashes. A real key is loaded first, so that well-formed tokens
// with its kid reach the signature check.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "control/oidc.h"

namespace {

// A 2048-bit RSA public key as a JWK (made for this target; any would do).
constexpr const char* kJwks =
    R"({"keys":[{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","e":"AQAB","n":")"
    R"(6r32aJ5CDvcODisXR-NQ5qKHEIqGbzt0SQg1Py-5bD6pRleUFygI0scoZt2c72oTXgw22NoWJUtMkQvwad-Yoowk)"
    R"(AcvCpHgAriqI7yxtJZDE2yIMmdRbYP1vipA8hnmCo60hLfmrVa9APQkk7MThvHSBtf5owwiR1kr25pXnG1pgTCEk)"
    R"(7qfsdUhLZd4_Pu7PanUIPqbELKW6qo0cwqIaMFBfoka1TpVPDp2QbcnSUgIGQfVthic329Ce8CFF3jWw1ZewEOHc)"
    R"(TQAcjzdX8eM0rSrbH-Qa_2ho26Qrgf-zd92dQ9-Eubd5r9GlufQeXow0Rq15ogvlT_80Ji8sEsiahw)"
    R"("}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  suanpan::control::OidcConfig config;
  config.issuer = "https://idp.test";
  config.audience = "suanpan";
  suanpan::control::OidcVerifier v(config);
  if (!v.LoadJwks(kJwks).ok()) __builtin_trap();
  if (nl != std::string_view::npos) {
    auto loaded = v.LoadJwks(in.substr(0, nl));
    if (!loaded.ok() && loaded.message().empty()) __builtin_trap();
  }
  const std::string_view token = nl == std::string_view::npos ? in : in.substr(nl + 1);
  auto caller = v.Verify(token, 1'800'000'000'000);
  if (!caller.ok() && caller.status().message().empty()) __builtin_trap();
  return 0;
}
