// TLS on the API (issue 12): partners' agents connect across regions. The server serves HTTPS
// with its certificate; clients verify it (their CA file); under mutual TLS an agent token is
// honoured only with a client certificate whose common name is its node. Certificates are made
// for the test with the openssl tool.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "server_process.h"

namespace suanpan {
namespace {

using Json = nlohmann::json;
using testing::ServerProcess;

class Pki {
 public:
  Pki() {
    dir_ = std::filesystem::temp_directory_path() / ("suanpan_pki_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    Run("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
        "-subj /CN=suanpan-test-ca");
    Run("openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 "
        "-subj /CN=rogue-ca");
    std::ofstream(dir_ / "server.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    Sign("server", "127.0.0.1", "ca", "-extfile server.ext");
    Sign("node0", "c\\/n-0000", "ca", "");
    Sign("node1", "c\\/n-0001", "ca", "");
    Sign("forged", "c\\/n-0000", "rogue", "");
  }
  ~Pki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string operator()(const std::string& file) const { return (dir_ / file).string(); }

 private:
  void Run(const std::string& cmd) {
    const std::string full = "cd " + dir_.string() + " && " + cmd + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << full;
  }
  void Sign(const std::string& name, const std::string& cn, const std::string& ca,
            const std::string& extra) {
    Run("openssl req -newkey rsa:2048 -nodes -keyout " + name + ".key -out " + name +
        ".csr -subj '/CN=" + cn + "'");
    Run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
        ".key -CAcreateserial -out " + name + ".pem -days 2 " + extra);
    ::chmod((dir_ / (name + ".key")).c_str(), 0600);
  }
  std::filesystem::path dir_;
};

std::string Https(const ServerProcess& s) {
  return "https://127.0.0.1:" + std::to_string(s.port());
}

client::ApiClient Client(const ServerProcess& s, const std::string& token, const std::string& ca,
                         const std::string& cert = "", const std::string& key = "") {
  client::ClientConfig c{Https(s), token, 10'000};
  c.ca_file = ca;
  c.client_cert = cert;
  c.client_key = key;
  return client::ApiClient(c);
}

TEST(TlsTest, ClientsVerifyTheServersCertificate) {
  Pki pki;
  ServerProcess server("tls", "tests/testdata/agent-pool.toml");
  ASSERT_TRUE(server.Start({"--tls-cert", pki("server.pem"), "--tls-key", pki("server.key")}))
      << server.Log();
  auto ok = Client(server, server.admin_token(), pki("ca.pem")).Call("GET", "/v1/whoami");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString() << server.Log();
  EXPECT_EQ((*ok)["role"], "admin");
  // Without the CA (system CAs only) the client refuses the server, and says what to set.
  auto unknown = Client(server, server.admin_token(), "").Call("GET", "/v1/whoami");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("--ca-file"), std::string::npos)
      << unknown.status().message();
  // The wrong CA: refused too.
  EXPECT_FALSE(
      Client(server, server.admin_token(), pki("rogue.pem")).Call("GET", "/v1/whoami").ok());
  // Plain HTTP to the TLS port gets nothing (no token goes over the wire in clear).
  client::ApiClient plain(client::ClientConfig{server.url(), server.admin_token(), 3'000});
  auto clear = plain.Send("GET", "/v1/whoami");
  EXPECT_TRUE(!clear.ok() || clear->status != 200);
  // The CLI takes --ca-file.
  const std::string cmd = std::string(SUANPAN_BINARY) + " jobs --server " + Https(server) +
                          " --token " + server.admin_token() + " --ca-file " + pki("ca.pem") +
                          " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(TlsTest, UnderMutualTlsAnAgentNeedsItsNodesCertificate) {
  Pki pki;
  ServerProcess server("mtls", "tests/testdata/agent-pool.toml");
  ASSERT_TRUE(server.Start({"--tls-cert", pki("server.pem"), "--tls-key", pki("server.key"),
                            "--tls-client-ca", pki("ca.pem"), "--lease-seconds", "5",
                            "--interval-ms", "10"}))
      << server.Log();
  client::ApiClient admin = Client(server, server.admin_token(), pki("ca.pem"));
  auto agent_token = admin.Call("POST", "/v1/tokens",
                                Json{{"name", "a0"}, {"role", "agent"}, {"node", "c/n-0000"}});
  auto tenant_token =
      admin.Call("POST", "/v1/tokens", Json{{"name", "t"}, {"role", "tenant"}, {"tenant", "t"}});
  ASSERT_TRUE(agent_token.ok() && tenant_token.ok());
  const std::string token = (*agent_token)["token"];
  Json hb{{"devices", Json::array()}};
  for (int i = 0; i < 4; ++i) hb["devices"].push_back({{"index", i}, {"type", "H100"}});
  const std::string path = "/v1/nodes/" + client::UrlEncode("c/n-0000") + "/heartbeat";
  auto status_with = [&](const std::string& cert, const std::string& key) {
    auto r = Client(server, token, pki("ca.pem"), cert, key).Send("POST", path, hb);
    return r.ok() ? r->status : -1;
  };
  EXPECT_EQ(status_with("", ""), 403);  // a stolen token alone is not an agent
  EXPECT_EQ(status_with(pki("node1.pem"), pki("node1.key")), 403);    // another node's
  EXPECT_EQ(status_with(pki("forged.pem"), pki("forged.key")), 403);  // a CA it does not trust
  EXPECT_EQ(status_with(pki("node0.pem"), pki("node0.key")), 200);
  // Tenants need no client certificate.
  EXPECT_TRUE(Client(server, (*tenant_token)["token"], pki("ca.pem")).Call("GET", "/v1/jobs").ok());

  // A real agent over mutual TLS runs a job.
  const std::string token_file = (server.dir() / "a0.token").string();
  std::ofstream(token_file) << token << "\n";
  ::chmod(token_file.c_str(), 0600);
  const pid_t agent =
      testing::Spawn({SUANPAN_BINARY, "agent",          "--server",
                      Https(server),  "--token-file",   token_file,
                      "--node",       "c/n-0000",       "--devices",
                      "H100:4",       "--work-dir",     (server.dir() / "agent0").string(),
                      "--address",    "127.0.0.1",      "--ca-file",
                      pki("ca.pem"),  "--client-cert",  pki("node0.pem"),
                      "--client-key", pki("node0.key"), "--log-level",
                      "warn"},
                     (server.dir() / "agent0.log").string());
  ASSERT_GT(agent, 0);
  client::ApiClient tenant = Client(server, (*tenant_token)["token"], pki("ca.pem"));
  auto job = tenant.Call("POST", "/v1/jobs",
                         Json{{"name", "over-tls"},
                              {"devices_per_worker", 4},
                              {"command", {"sh", "-c", "echo hello over tls"}}});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  const std::string id = std::to_string((*job)["id"].get<uint64_t>());
  std::string state;
  for (int i = 0; i < 500 && state != "succeeded"; ++i) {
    auto j = tenant.Call("GET", "/v1/jobs/" + id);
    if (j.ok()) state = (*j)["state"];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(state, "succeeded");
  auto logs = tenant.Call("GET", "/v1/jobs/" + id + "/logs?worker=0");
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ((*logs)["data"], "hello over tls\n");
  ::kill(agent, SIGKILL);
  waitpid(agent, nullptr, 0);
}

}  // namespace
}  // namespace suanpan
