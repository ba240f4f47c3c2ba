// Sign-in through OpenID Connect against a real identity provider (node-oidc-provider from npm,
// tests/oidc/idp.mjs): its RS256 access tokens (RFC 9068) are callers of the real server beside
// suanpan's own tokens. A member signs in and submits to its project as itself; a tenant admin
// makes a team and a token; the hub's operator is admin; a tenant the hub does not have, a token
// changed after signing and a provider's token for another API are refused.

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "server_process.h"

namespace suanpan {
namespace {

using Json = nlohmann::json;
using testing::Cli;
using testing::CliRun;

class OidcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists("tests/oidc/node_modules/oidc-provider"))
        << "make deps installs the test identity provider (npm ci in tests/oidc)";
    out_ = std::filesystem::temp_directory_path() / ("suanpan_idp_" + std::to_string(getpid()));
    std::filesystem::remove(out_);
    idp_ = testing::Spawn({"/usr/bin/node", "tests/oidc/idp.mjs", out_.string()},
                          out_.string() + ".log");
    ASSERT_GT(idp_, 0);
    for (int i = 0; i < 3000 && !std::filesystem::exists(out_); ++i) {  // up to 30 s
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // written whole
    std::ifstream in(out_);
    ASSERT_TRUE(in) << "the identity provider did not start";
    idp_doc_ = Json::parse(in);
  }
  void TearDown() override {
    if (idp_ > 0) {
      kill(idp_, SIGKILL);
      waitpid(idp_, nullptr, 0);
    }
    std::filesystem::remove(out_);
  }
  std::string Issuer() const { return idp_doc_["issuer"]; }
  std::string TokenOf(const std::string& who) const { return idp_doc_["tokens"][who]; }

  std::filesystem::path out_;
  pid_t idp_ = -1;
  Json idp_doc_;
};

TEST_F(OidcTest, PeopleSignInThroughARealIdentityProvider) {
  testing::ServerProcess server("oidc");
  server.Agentless();
  ASSERT_TRUE(server.Start({"--oidc-issuer", Issuer(), "--oidc-audience", "suanpan"}))
      << server.Log();
  const std::string url = server.url(), root = server.admin_token();
  ASSERT_EQ(Cli(url, root, "tenants create lumen-ai --quota H100=16:32").status, 0);
  ASSERT_EQ(Cli(url, root, "projects create lumen-ai/vision --quota H100=8:12").status, 0);

  // The operator signed in at the provider is the hub's admin.
  client::ApiClient ops = server.Client(TokenOf("ops"));
  auto who = ops.Call("GET", "/v1/whoami");
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ((*who)["role"], "admin");
  EXPECT_EQ((*who)["token"], "ops");
  // Without --oidc-client-id the dashboard offers tokens only (its OIDC sign-in: the browser
  // test, tests/web/dashboard.test.mjs).
  auto auth = server.Client("").Call("GET", "/v1/auth/config");
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_TRUE((*auth)["oidc"].is_null()) << auth->dump();

  // The company's tenant admin makes a team and an engineer's token, as with a suanpan token.
  const std::string boss = TokenOf("boss");
  CliRun r = Cli(url, boss, "projects create llm --quota H100=4");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("project lumen-ai/llm created"), std::string::npos) << r.out;
  r = Cli(url, boss, "token create ci-bot --role member --projects llm");
  ASSERT_EQ(r.status, 0) << r.out;
  r = Cli(url, boss, "tenants set lumen-ai --weight 5");
  EXPECT_NE(r.status, 0) << r.out;

  // A member submits as itself, to its project from the claims, and reads its tenant only.
  const std::string ana = TokenOf("ana");
  r = Cli(url, ana, "submit -J detect -G 8 --type H100 -- python detect.py");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("for project lumen-ai/vision"), std::string::npos) << r.out;
  client::ApiClient ana_api = server.Client(ana);
  auto jobs = ana_api.Call("GET", "/v1/jobs");
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ((*jobs)["items"].size(), 1u);
  EXPECT_EQ((*jobs)["items"][0]["user"], "ana");
  EXPECT_EQ((*jobs)["items"][0]["project"], "vision");
  r = Cli(url, ana, "submit -J sneak --project llm -G 1 --type H100 -- x");
  EXPECT_NE(r.out.find("may only submit to projects vision"), std::string::npos) << r.out;
  EXPECT_EQ(ana_api.Send("GET", "/v1/tenants/t01-qingyun-ai")->status, 404);
  EXPECT_EQ(ana_api.Send("POST", "/v1/tenants", Json{{"name", "x"}})->status, 403);

  // Refused: a tenant the hub has not, a token changed after signing, garbage that looks like
  // a JWT; suanpan tokens go on working beside them.
  auto stranger = server.Client(TokenOf("stranger")).Send("GET", "/v1/jobs");
  EXPECT_EQ(stranger->status, 403) << stranger->raw;
  EXPECT_NE(stranger->raw.find("'no-such-tenant'"), std::string::npos) << stranger->raw;
  std::string forged = ana;
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  auto bad = server.Client(forged).Send("GET", "/v1/jobs");
  EXPECT_EQ(bad->status, 401) << bad->raw;
  EXPECT_NE(bad->raw.find("signature does not verify"), std::string::npos) << bad->raw;
  EXPECT_EQ(server.Client("eyJhbGciOiJub25lIn0.eyJ9.").Send("GET", "/v1/jobs")->status, 401);
  EXPECT_TRUE(server.Client(root).Call("GET", "/v1/jobs").ok());

  // The same provider, another API's audience: its tokens are not for this server.
  server.Kill(SIGKILL);
  ASSERT_TRUE(server.Restart({"--oidc-issuer", Issuer(), "--oidc-audience", "billing"}))
      << server.Log();
  auto other_api = server.Client(ana).Send("GET", "/v1/jobs");
  EXPECT_EQ(other_api->status, 401) << other_api->raw;
  EXPECT_NE(other_api->raw.find("does not name this API ('billing')"), std::string::npos)
      << other_api->raw;
  // An issuer that cannot be reached stops the server at start, saying so.
  server.Kill(SIGKILL);
  EXPECT_FALSE(server.Restart({"--oidc-issuer", "http://127.0.0.1:1", "--oidc-audience", "x"}));
  EXPECT_NE(server.Log().find("--oidc-issuer"), std::string::npos) << server.Log();
}

}  // namespace
}  // namespace suanpan
