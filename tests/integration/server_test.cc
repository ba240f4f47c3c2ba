// The control plane end to end: the real `suanpan server` binary on loopback, a real SQLite
// file, HTTP through the CLI's client. Restart, kill -9 durability, the authorization matrix
// over every route and role, and a table of malformed requests.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "server_process.h"

namespace suanpan {
namespace {

using Json = nlohmann::json;
using testing::ServerProcess;

constexpr const char* kT1 = "t01-qingyun-ai";
constexpr const char* kT2 = "t02-haiyan-bio";
constexpr const char* kT3 = "t03-tianshu-lab";

Json H100Job(const std::string& name, int workers, int devices, const char* tenant = nullptr) {
  Json j{{"name", name},
         {"workers", workers},
         {"devices_per_worker", devices},
         {"device_types", {"H100"}},
         {"runtime_estimate", 3600},
         {"command", {"sleep", "1"}}};
  if (tenant) j["tenant"] = tenant;
  return j;
}

std::string CreateToken(client::ApiClient& admin, const std::string& name, const std::string& role,
                        const std::string& key, const std::string& value) {
  Json body{{"name", name}, {"role", role}};
  if (!key.empty()) body[key] = value;
  auto r = admin.Call("POST", "/v1/tokens", body);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? (*r)["token"].get<std::string>() : "";
}

// Polls until the job reaches `state` (rounds run every 20 ms) or 5 s pass.
Json WaitForState(client::ApiClient& c, uint64_t id, const std::string& state) {
  Json job;
  for (int i = 0; i < 500; ++i) {
    auto r = c.Call("GET", "/v1/jobs/" + std::to_string(id));
    if (r.ok()) {
      job = *r;
      if (job["state"] == state) return job;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "job " << id << " never reached " << state << ": " << job.dump();
  return job;
}

std::vector<Json> AllJobs(client::ApiClient& admin) {
  std::vector<Json> out;
  uint64_t after = 0;
  for (;;) {
    auto r = admin.Call("GET", "/v1/jobs?limit=10000&after=" + std::to_string(after));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return out;
    for (auto& j : (*r)["items"]) out.push_back(j);
    if ((*r)["next_after"].is_null()) return out;
    after = (*r)["next_after"].get<uint64_t>();
  }
}

Json Essentials(const Json& job) {
  return Json{{"id", job["id"]},
              {"name", job["name"]},
              {"tenant", job["tenant"]},
              {"state", job["state"]},
              {"attempts", job["attempts"]},
              {"placement", job["placement"]},
              {"submitted", job["submitted"]},
              {"spec", job["spec"]}};
}

TEST(ServerTest, SubmitListCancelAndRestartKeepTheState) {
  ServerProcess server("restart");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  client::ApiClient t1 = server.Client(CreateToken(admin, "t1", "tenant", "tenant", kT1));
  client::ApiClient t2 = server.Client(CreateToken(admin, "t2", "tenant", "tenant", kT2));

  auto a = t1.Call("POST", "/v1/jobs", H100Job("a", 2, 8));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)["tenant"], kT1);  // a tenant token submits for its own tenant
  const uint64_t a_id = (*a)["id"];
  Json a_job = WaitForState(t1, a_id, "admitted");
  // 16 H100 held by a; b asks 64 more: t01's max is 64, so b waits on its quota.
  auto b = t1.Call("POST", "/v1/jobs", H100Job("b", 8, 8));
  ASSERT_TRUE(b.ok());
  auto c = t2.Call("POST", "/v1/jobs", H100Job("c", 1, 8));
  ASSERT_TRUE(c.ok());
  const uint64_t c_id = (*c)["id"];
  WaitForState(t2, c_id, "admitted");
  auto cancelled = t2.Call("POST", "/v1/jobs/" + std::to_string(c_id) + "/cancel");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ((*cancelled)["state"], "cancelled");

  auto b_job = t1.Call("GET", "/v1/jobs/" + std::to_string((*b)["id"].get<uint64_t>()));
  ASSERT_TRUE(b_job.ok());
  EXPECT_EQ((*b_job)["state"], "pending");

  const std::string node = a_job["placement"]["workers"][0]["node"];
  const std::string node_path = "/v1/nodes/" + client::UrlEncode(node);
  auto node_before = admin.Call("GET", node_path);
  ASSERT_TRUE(node_before.ok()) << node_before.status().ToString();
  EXPECT_EQ((*node_before)["free_devices"], 0);

  std::vector<Json> before;
  for (const Json& j : AllJobs(admin)) before.push_back(Essentials(j));
  ASSERT_EQ(before.size(), 3u);

  EXPECT_EQ(WEXITSTATUS(server.Kill(SIGTERM)), 0);
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin2 = server.Client(server.admin_token());
  std::vector<Json> after;
  for (const Json& j : AllJobs(admin2)) after.push_back(Essentials(j));
  EXPECT_EQ(after, before);
  // a still holds its devices: nothing else was placed on them, nothing ran twice.
  auto node_after = admin2.Call("GET", node_path);
  ASSERT_TRUE(node_after.ok());
  EXPECT_EQ((*node_after)["free_devices"], 0);
  // Tokens survived too (only their hashes are stored); ids continue.
  client::ApiClient t1_again = server.Client(t1.config().token);
  auto d = t1_again.Call("POST", "/v1/jobs", H100Job("d", 1, 1));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)["id"], 4);
  // The events say what happened, in order.
  auto events = admin2.Call("GET", "/v1/jobs/" + std::to_string(c_id) + "/events");
  ASSERT_TRUE(events.ok());
  std::vector<std::string> kinds;
  for (const Json& e : (*events)["items"]) kinds.push_back(e["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"submitted", "bound", "cancelled"}));
}

TEST(ServerTest, EveryAcknowledgedSubmitSurvivesKillNine) {
  ServerProcess server("durability");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  const std::string token = CreateToken(admin, "t3", "tenant", "tenant", kT3);

  constexpr int kClients = 8;
  std::mutex mu;
  std::map<std::string, uint64_t> acked;  // idempotency key (= job name) -> id
  std::vector<std::string> in_flight;     // sent, no answer: may or may not exist
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      client::ApiClient client = server.Client(token);
      for (int i = 0; !stop; ++i) {
        const std::string key = "k" + std::to_string(c) + "-" + std::to_string(i);
        Json job{{"name", key},
                 {"devices_per_worker", "0.25"},
                 {"device_types", {"RTX4090"}},
                 {"command", {"true"}}};
        auto r = client.Send("POST", "/v1/jobs", job, {{"Idempotency-Key", key}});
        std::lock_guard lock(mu);
        if (r.ok() && r->status == 201) {
          acked[key] = r->body["id"].get<uint64_t>();
        } else {
          in_flight.push_back(key);
          return;  // the server is gone
        }
      }
    });
  }
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  const int delay_ms = std::uniform_int_distribution<int>(300, 900)(rng);
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  server.Kill(SIGKILL);
  stop = true;
  for (auto& t : clients) t.join();
  SCOPED_TRACE("kill after " + std::to_string(delay_ms) + " ms (seed " + std::to_string(seed) +
               ")");
  ASSERT_GT(acked.size(), 50u) << "too few submits before the kill to test anything";

  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin2 = server.Client(server.admin_token());
  std::map<std::string, uint64_t> present;
  for (const Json& j : AllJobs(admin2)) {
    const std::string name = j["name"];
    EXPECT_TRUE(present.emplace(name, j["id"].get<uint64_t>()).second) << name << " twice";
  }
  for (const auto& [key, id] : acked) {
    auto it = present.find(key);
    ASSERT_NE(it, present.end()) << "acknowledged job " << key << " (id " << id << ") lost";
    EXPECT_EQ(it->second, id);
  }
  EXPECT_LE(present.size(), acked.size() + in_flight.size());
  // The client retries what got no answer, with the same keys: each is created at most once.
  client::ApiClient client = server.Client(token);
  for (const std::string& key : in_flight) {
    Json job{{"name", key},
             {"devices_per_worker", "0.25"},
             {"device_types", {"RTX4090"}},
             {"command", {"true"}}};
    auto r = client.Send("POST", "/v1/jobs", job, {{"Idempotency-Key", key}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, present.count(key) ? 200 : 201) << key << ": " << r->raw;
  }
  std::set<std::string> names;
  for (const Json& j : AllJobs(admin2)) EXPECT_TRUE(names.insert(j["name"]).second);
  EXPECT_EQ(names.size(), acked.size() + in_flight.size());
  std::printf("durability: %zu acknowledged, %zu in flight at SIGKILL after %d ms\n", acked.size(),
              in_flight.size(), delay_ms);
}

// ---------------------------------------------------------------------------------------------
// Authorization: every route, every kind of caller.

enum Who {
  kNone,
  kBadToken,
  kAdmin,
  kTenantOwn,
  kTenantOther,
  kAgentOwn,
  kAgentOther,
  kTenantAdminOwn,
  kViewerOwn,
  kPartnerOwn,
  kPartnerOther,
  kWhoCount
};
const char* kWhoNames[] = {"no token",
                           "bad token",
                           "admin",
                           "member (own)",
                           "member (other)",
                           "agent (own node)",
                           "agent (other node)",
                           "tenant admin (own)",
                           "viewer (own)",
                           "partner (job a's provider)",
                           "partner (another provider)"};

struct Fixture {
  std::string node_x;           // where job a runs
  std::string node_y;           // another node
  uint64_t a = 0;               // t01's admitted job on node_x
  std::vector<uint64_t> spare;  // t01 pending jobs, one per cancel attempt
};

struct MatrixRow {
  std::string method;
  std::string pattern;
  // Builds the concrete path and body for one attempt.
  std::function<std::pair<std::string, std::optional<Json>>(Fixture&, int attempt)> make;
  std::array<int, kWhoCount> expect;
};

TEST(ServerTest, AuthorizationMatrixOverEveryRouteAndRole) {
  ServerProcess server("authz");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  std::array<std::string, kWhoCount> tokens;
  tokens[kNone] = "";
  tokens[kBadToken] = "sp_not_a_token";
  tokens[kAdmin] = server.admin_token();
  tokens[kTenantOwn] = CreateToken(admin, "t1", "tenant", "tenant", kT1);
  tokens[kTenantOther] = CreateToken(admin, "t2", "tenant", "tenant", kT2);
  tokens[kTenantAdminOwn] = CreateToken(admin, "t1-boss", "tenant-admin", "tenant", kT1);
  tokens[kViewerOwn] = CreateToken(admin, "t1-viewer", "viewer", "tenant", kT1);
  tokens[kPartnerOwn] = CreateToken(admin, "p-pudong", "partner", "provider", "pudong-dc");
  tokens[kPartnerOther] = CreateToken(admin, "p-binhai", "partner", "provider", "binhai-xinchuang");

  Fixture fx;
  client::ApiClient t1 = server.Client(tokens[kTenantOwn]);
  auto a = t1.Call("POST", "/v1/jobs", H100Job("a", 1, 8));
  ASSERT_TRUE(a.ok());
  fx.a = (*a)["id"];
  Json a_job = WaitForState(t1, fx.a, "admitted");
  fx.node_x = a_job["placement"]["workers"][0]["node"];
  auto nodes = admin.Call("GET", "/v1/nodes?device_type=RTX4090&limit=1");
  ASSERT_TRUE(nodes.ok());
  fx.node_y = (*nodes)["items"][0]["name"];
  tokens[kAgentOwn] = CreateToken(admin, "agent-x", "agent", "node", fx.node_x);
  tokens[kAgentOther] = CreateToken(admin, "agent-y", "agent", "node", fx.node_y);
  for (int i = 0; i < kWhoCount; ++i) {
    // Pending (over quota) jobs of t01 to cancel: 64 H100 more than its max allows now.
    auto p = t1.Call("POST", "/v1/jobs", H100Job("spare" + std::to_string(i), 8, 8));
    ASSERT_TRUE(p.ok());
    fx.spare.push_back((*p)["id"]);
  }
  for (int i = 0; i < kWhoCount; ++i)
    CreateToken(admin, "victim" + std::to_string(i), "admin", "", "");
  for (const char* t : {kT1, kT2}) {
    ASSERT_TRUE(admin
                    .Call("POST", std::string("/v1/tenants/") + t + "/projects",
                          Json{{"name", "authz-team"}})
                    .ok());
  }

  auto fixed = [](std::string path) {
    return [path](Fixture&, int) { return std::make_pair(path, std::optional<Json>()); };
  };
  auto with_body = [](std::string path, Json body) {
    return [path, body](Fixture&, int) { return std::make_pair(path, std::optional<Json>(body)); };
  };
  // A voucher to revoke and an issued (empty) invoice to read.
  ASSERT_TRUE(
      admin
          .Call(
              "POST", "/v1/vouchers",
              Json{{"id", "V-AUTHZ"}, {"tenant", kT1}, {"amount", "5"}, {"valid_to", "2030-01-01"}})
          .ok());
  ASSERT_TRUE(admin.Call("POST", "/v1/invoices", Json{{"month", "2020-02"}, {"tenant", kT1}}).ok());
  auto job_path = [](std::string suffix) {
    return [suffix](Fixture& f, int) {
      return std::make_pair("/v1/jobs/" + std::to_string(f.a) + suffix, std::optional<Json>());
    };
  };
  const int U = 401, F = 403, N = 404, K = 200, C = 201;
  std::vector<MatrixRow> rows = {
      // method, pattern, request, {none, bad, admin, own tenant, other tenant, own agent, other}
      {"GET", "/healthz", fixed("/healthz"), {K, K, K, K, K, K, K}},
      {"GET", "/readyz", fixed("/readyz"), {K, K, K, K, K, K, K}},
      {"GET", "/v1/openapi.json", fixed("/v1/openapi.json"), {K, K, K, K, K, K, K}},
      {"GET", "/v1/auth/config", fixed("/v1/auth/config"), {K, K, K, K, K, K, K}},
      {"GET", "/metrics", fixed("/metrics"), {U, U, K, F, F, F, F}},
      {"GET", "/v1/whoami", fixed("/v1/whoami"), {U, U, K, K, K, K, K}},
      {"GET", "/v1/providers", fixed("/v1/providers"), {U, U, K, K, K, F, F}},
      {"GET", "/v1/clusters", fixed("/v1/clusters"), {U, U, K, K, K, F, F}},
      {"GET", "/v1/nodes", fixed("/v1/nodes"), {U, U, K, K, K, F, F}},
      {"GET", "/v1/overview", fixed("/v1/overview"), {U, U, K, K, K, F, F}},
      {"GET", "/v1/utilization", fixed("/v1/utilization?hours=2"), {U, U, K, K, K, F, F}},
      {"GET",
       "/v1/nodes/{name}",
       [](Fixture& f, int) {
         return std::make_pair("/v1/nodes/" + client::UrlEncode(f.node_x), std::optional<Json>());
       },
       {U, U, K, K, K, K, N}},
      {"GET",
       "/v1/nodes/{name}/assignments",
       [](Fixture& f, int) {
         return std::make_pair("/v1/nodes/" + client::UrlEncode(f.node_x) + "/assignments",
                               std::optional<Json>());
       },
       {U, U, K, F, F, K, N}},
      {"GET", "/v1/tenants", fixed("/v1/tenants"), {U, U, K, K, K, F, F}},
      {"GET",
       "/v1/tenants/{name}",
       fixed(std::string("/v1/tenants/") + kT1),
       {U, U, K, K, N, F, F}},
      // Live administration (issue 15): the admin's alone.
      {"POST",
       "/v1/tenants",
       [](Fixture&, int attempt) {
         return std::make_pair(
             std::string("/v1/tenants"),
             std::optional<Json>(Json{{"name", "onboard" + std::to_string(attempt)}}));
       },
       {U, U, C, F, F, F, F}},
      {"PATCH",
       "/v1/tenants/{name}",
       [](Fixture&, int attempt) {
         return std::make_pair(std::string("/v1/tenants/") + kT2,
                               std::optional<Json>(Json{{"weight", 1 + attempt}}));
       },
       {U, U, K, F, F, F, F}},
      // The live pool as a file, and a file against it: the admin's alone.
      {"GET", "/v1/pool/export", fixed("/v1/pool/export"), {U, U, K, F, F, F, F, F, F, F, F}},
      {"POST",
       "/v1/pool/apply",
       with_body("/v1/pool/apply", Json{{"file", "# an empty pool"}, {"dry_run", true}}),
       {U, U, 400, F, F, F, F, F, F, F, F}},
      // The scheduling policy: people read it, the admin changes it.
      {"GET", "/v1/policy", fixed("/v1/policy"), {U, U, K, K, K, F, F, K, K, F, F}},
      {"PATCH",
       "/v1/policy",
       with_body("/v1/policy", Json{{"backfill", true}}),
       {U, U, K, F, F, F, F, F, F, F, F}},
      // Projects inside a tenant: the admin, or the tenant's own tenant admin.
      {"POST",
       "/v1/tenants/{name}/projects",
       [](Fixture&, int attempt) {
         return std::make_pair(
             std::string("/v1/tenants/") + kT1 + "/projects",
             std::optional<Json>(Json{{"name", "team" + std::to_string(attempt)}}));
       },
       {U, U, C, F, F, F, F, C, F, F, F}},
      {"PATCH",
       "/v1/tenants/{name}/projects/{project}",
       [](Fixture&, int attempt) {
         return std::make_pair(std::string("/v1/tenants/") + kT1 + "/projects/authz-team",
                               std::optional<Json>(Json{{"weight", 1 + attempt}}));
       },
       {U, U, K, F, F, F, F, K, F, F, F}},
      // Tokens: the admin's, and a tenant admin's for its own tenant (the victims are admin
      // tokens: not its to see).
      {"GET", "/v1/tokens", fixed("/v1/tokens"), {U, U, K, F, F, F, F, K, F}},
      {"POST",
       "/v1/tokens",
       [](Fixture&, int attempt) {
         return std::make_pair(
             std::string("/v1/tokens"),
             std::optional<Json>(Json{
                 {"name", "new" + std::to_string(attempt)}, {"role", "tenant"}, {"tenant", kT1}}));
       },
       {U, U, C, F, F, F, F, C, F}},
      {"DELETE",
       "/v1/tokens/{name}",
       [](Fixture&, int attempt) {
         return std::make_pair("/v1/tokens/victim" + std::to_string(attempt),
                               std::optional<Json>());
       },
       {U, U, K, F, F, F, F, N, F}},
      {"POST",
       "/v1/jobs",
       [](Fixture&, int attempt) {
         return std::make_pair(
             std::string("/v1/jobs"),
             std::optional<Json>(H100Job("m" + std::to_string(attempt), 1, 1, kT1)));
       },
       // another tenant may not submit for t01 (403); agents never submit
       {U, U, C, C, F, F, F}},
      {"GET", "/v1/jobs", fixed("/v1/jobs"), {U, U, K, K, K, F, F}},
      {"GET", "/v1/jobs/{id}", job_path(""), {U, U, K, K, N, K, N}},
      {"POST",
       "/v1/jobs/{id}/cancel",
       [](Fixture& f, int attempt) {
         return std::make_pair("/v1/jobs/" + std::to_string(f.spare[attempt]) + "/cancel",
                               std::optional<Json>());
       },
       {U, U, K, K, N, F, F}},
      {"GET", "/v1/jobs/{id}/events", job_path("/events"), {U, U, K, K, N, K, N}},
      {"GET", "/v1/jobs/{id}/explain", job_path("/explain"), {U, U, K, K, N, F, F}},
      {"POST",
       "/v1/jobs/{id}/status",
       [](Fixture& f, int) {
         return std::make_pair("/v1/jobs/" + std::to_string(f.a) + "/status",
                               std::optional<Json>(Json{{"state", "running"}}));
       },
       {U, U, K, F, F, F, F}},
      {"GET", "/v1/queue", fixed("/v1/queue"), {U, U, K, K, K, F, F}},
      {"GET", "/v1/usage", fixed("/v1/usage"), {U, U, K, K, K, F, F}},
      // The agent protocol (node x is pd-h100's: 8 H100).
      {"POST",
       "/v1/nodes/{name}/heartbeat",
       [](Fixture& f, int) {
         Json devices = Json::array();
         for (int i = 0; i < 8; ++i) devices.push_back({{"index", i}, {"type", "H100"}});
         return std::make_pair("/v1/nodes/" + client::UrlEncode(f.node_x) + "/heartbeat",
                               std::optional<Json>(Json{{"devices", devices}}));
       },
       {U, U, K, F, F, K, N}},
      {"POST",
       "/v1/jobs/{id}/workers/{rank}/status",
       [](Fixture& f, int) {
         return std::make_pair("/v1/jobs/" + std::to_string(f.a) + "/workers/0/status",
                               std::optional<Json>(Json{{"attempt", 1}, {"state", "running"}}));
       },
       {U, U, K, F, F, K, N}},
      {"POST",
       "/v1/jobs/{id}/workers/{rank}/logs",
       [](Fixture& f, int) {
         return std::make_pair(
             "/v1/jobs/" + std::to_string(f.a) + "/workers/0/logs?attempt=1&offset=0",
             std::optional<Json>(Json("hello")));
       },
       {U, U, K, F, F, K, N}},
      {"GET", "/v1/jobs/{id}/logs", job_path("/logs?worker=0"), {U, U, K, K, N, F, F}},
      // Money: a tenant reads its own; granting, topping up, issuing and statements are the
      // admin's (the admin's 400 on the credit note: an empty invoice has nothing to credit).
      {"GET", "/v1/prices", fixed("/v1/prices"), {U, U, K, K, K, F, F}},
      {"POST",
       "/v1/prices",
       with_body("/v1/prices",
                 {{"provider", "pudong-dc"}, {"device_type", "H100"}, {"price", "15.50"}}),
       {U, U, C, F, F, F, F}},
      {"GET", "/v1/vouchers", fixed("/v1/vouchers"), {U, U, K, K, K, F, F}},
      {"POST",
       "/v1/vouchers",
       with_body("/v1/vouchers", {{"tenant", kT1}, {"amount", "10"}, {"valid_to", "2030-01-01"}}),
       {U, U, C, F, F, F, F}},
      {"DELETE", "/v1/vouchers/{id}", fixed("/v1/vouchers/V-AUTHZ"), {U, U, K, F, F, F, F}},
      {"GET",
       "/v1/accounts/{tenant}",
       fixed(std::string("/v1/accounts/") + kT1),
       {U, U, K, K, F, F, F}},
      {"PATCH",
       "/v1/accounts/{tenant}",
       with_body(std::string("/v1/accounts/") + kT1, {{"monthly_budget", "1000000"}}),
       // the budget is its tenant admin's
       {U, U, K, F, F, F, F, K, F}},
      {"POST",
       "/v1/accounts/{tenant}/topups",
       with_body(std::string("/v1/accounts/") + kT1 + "/topups", {{"amount", "1"}}),
       {U, U, C, F, F, F, F}},
      {"POST",
       "/v1/accounts/{tenant}/adjustments",
       with_body(std::string("/v1/accounts/") + kT1 + "/adjustments",
                 {{"amount", "1"}, {"memo", "authz"}}),
       {U, U, C, F, F, F, F}},
      {"GET",
       "/v1/accounts/{tenant}/invoice",
       fixed(std::string("/v1/accounts/") + kT1 + "/invoice?month=2026-01"),
       {U, U, K, K, F, F, F}},
      {"GET", "/v1/ledger", fixed("/v1/ledger"), {U, U, K, K, K, F, F}},
      {"GET", "/v1/invoices", fixed("/v1/invoices"), {U, U, K, K, K, F, F}},
      {"POST",
       "/v1/invoices",
       with_body("/v1/invoices", {{"month", "2020-01"}, {"tenant", kT1}}),
       {U, U, C, F, F, F, F}},
      {"GET",
       "/v1/invoices/{number}",
       fixed("/v1/invoices/INV-2020-02-0001"),
       {U, U, K, K, N, F, F}},
      {"POST",
       "/v1/invoices/{number}/credit-notes",
       with_body("/v1/invoices/INV-2020-02-0001/credit-notes",
                 {{"amount", "0.01"}, {"reason", "authz"}}),
       {U, U, 400, F, F, F, F}},
      {"GET", "/v1/statements", fixed("/v1/statements?month=2026-01"), {U, U, K, F, F, F, F}},
      {"GET", "/v1/audit", fixed("/v1/audit"), {U, U, K, F, F, F, F}},
  };

  // Tenant admins and viewers of t01 (the last two columns, where a row does not say): a tenant
  // admin may do what a member may; a viewer may read what a member may, and change nothing.
  for (MatrixRow& r : rows) {
    if (r.expect[kTenantAdminOwn] == 0) r.expect[kTenantAdminOwn] = r.expect[kTenantOwn];
    if (r.expect[kViewerOwn] == 0)
      r.expect[kViewerOwn] = r.method == "GET" ? r.expect[kTenantOwn] : F;
  }

  // Partners (the last two columns): public routes, and the reads of their own provider's part;
  // nothing else. Job a runs on pudong-dc's node x.
  const std::map<std::pair<std::string, std::string>, std::pair<int, int>> partner = {
      {{"GET", "/v1/whoami"}, {K, K}},       {{"GET", "/v1/providers"}, {K, K}},
      {{"GET", "/v1/clusters"}, {K, K}},     {{"GET", "/v1/nodes"}, {K, K}},
      {{"GET", "/v1/nodes/{name}"}, {K, N}}, {{"GET", "/v1/jobs"}, {K, K}},
      {{"GET", "/v1/jobs/{id}"}, {K, N}},    {{"GET", "/v1/usage"}, {K, K}},
      {{"GET", "/v1/statements"}, {K, K}},   {{"GET", "/v1/overview"}, {K, K}},
      {{"GET", "/v1/utilization"}, {K, K}},
  };
  for (MatrixRow& r : rows) {
    auto it = partner.find({r.method, r.pattern});
    const bool open = r.expect[kNone] == K;  // no token needed
    r.expect[kPartnerOwn] = it != partner.end() ? it->second.first : open ? K : F;
    r.expect[kPartnerOther] = it != partner.end() ? it->second.second : open ? K : F;
  }

  // The matrix covers every route the OpenAPI document lists, and nothing else.
  auto doc = admin.Call("GET", "/v1/openapi.json");
  ASSERT_TRUE(doc.ok());
  std::set<std::pair<std::string, std::string>> documented, tested;
  for (const auto& [path, ops] : (*doc)["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      (void)op;
      std::string m = method;
      for (char& ch : m) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      documented.emplace(m, path);
    }
  }
  for (const MatrixRow& r : rows) tested.emplace(r.method, r.pattern);
  EXPECT_EQ(tested, documented);

  for (const MatrixRow& r : rows) {
    for (int who = 0; who < kWhoCount; ++who) {
      client::ApiClient client = server.Client(tokens[who]);
      auto [path, body] = r.make(fx, who);
      auto res = client.Send(r.method, path, body);
      ASSERT_TRUE(res.ok()) << res.status().ToString();
      EXPECT_EQ(res->status, r.expect[who])
          << r.method << " " << path << " as " << kWhoNames[who] << ": " << res->raw;
      if (res->status >= 400) {
        ASSERT_TRUE(res->body.is_object() && res->body.contains("error")) << res->raw;
      }
    }
  }

  // Beyond status codes: a partner sees its own provider's part, and no job's command.
  client::ApiClient p1 = server.Client(tokens[kPartnerOwn]);
  auto p1_providers = p1.Call("GET", "/v1/providers");
  ASSERT_TRUE(p1_providers.ok());
  ASSERT_EQ((*p1_providers)["items"].size(), 1u);
  EXPECT_EQ((*p1_providers)["items"][0]["name"], "pudong-dc");
  auto p1_nodes = p1.Call("GET", "/v1/nodes?limit=1000");
  ASSERT_TRUE(p1_nodes.ok());
  for (const Json& n : (*p1_nodes)["items"]) EXPECT_EQ(n["provider"], "pudong-dc") << n.dump();
  EXPECT_EQ(p1.Send("GET", "/v1/nodes?provider=binhai-xinchuang")->status, 403);
  auto p1_job = p1.Call("GET", "/v1/jobs/" + std::to_string(fx.a));
  ASSERT_TRUE(p1_job.ok());
  EXPECT_EQ((*p1_job)["spec"], Json::object()) << p1_job->dump();
  EXPECT_EQ((*p1_job)["placement"]["provider"], "pudong-dc");
  client::ApiClient p2 = server.Client(tokens[kPartnerOther]);
  auto p2_jobs = p2.Call("GET", "/v1/jobs");
  ASSERT_TRUE(p2_jobs.ok());
  EXPECT_TRUE((*p2_jobs)["items"].empty()) << p2_jobs->dump();
  auto p2_statements = p2.Call("GET", "/v1/statements?month=2026-01");
  ASSERT_TRUE(p2_statements.ok());
  EXPECT_EQ(p2.Send("GET", "/v1/statements?month=2026-01&provider=pudong-dc")->status, 403);
  // Usage on its hardware by type, not by tenant or user.
  EXPECT_EQ(p1.Send("GET", std::string("/v1/usage?tenant=") + kT1)->status, 403);
  auto p1_usage = p1.Call("GET", "/v1/usage");
  ASSERT_TRUE(p1_usage.ok());
  for (const Json& l : (*p1_usage)["items"]) {
    EXPECT_EQ(l["tenant"], "") << l.dump();
    EXPECT_EQ(l["user"], "") << l.dump();
    EXPECT_EQ(l["provider"], "pudong-dc") << l.dump();
  }
  EXPECT_EQ((*p1_job)["user"], "");

  // A tenant admin acting on another tenant's projects finds nothing there.
  client::ApiClient t1_boss = server.Client(tokens[kTenantAdminOwn]);
  EXPECT_EQ(t1_boss
                .Send("PATCH", std::string("/v1/tenants/") + kT2 + "/projects/authz-team",
                      Json{{"weight", 3}})
                ->status,
            404);
  EXPECT_EQ(
      t1_boss
          .Send("POST", std::string("/v1/tenants/") + kT2 + "/projects", Json{{"name", "mine-now"}})
          ->status,
      404);

  // Beyond status codes: what a tenant sees is its own.
  client::ApiClient t2 = server.Client(tokens[kTenantOther]);
  auto t2_jobs = t2.Call("GET", "/v1/jobs");
  ASSERT_TRUE(t2_jobs.ok());
  for (const Json& j : (*t2_jobs)["items"]) EXPECT_EQ(j["tenant"], kT2) << j.dump();
  auto t2_other = t2.Send("GET", std::string("/v1/jobs?tenant=") + kT1);
  ASSERT_TRUE(t2_other.ok());
  EXPECT_EQ(t2_other->status, 403);
  auto t2_usage = t2.Send("GET", std::string("/v1/usage?tenant=") + kT1);
  ASSERT_TRUE(t2_usage.ok());
  EXPECT_EQ(t2_usage->status, 403);
  auto t2_tenants = t2.Call("GET", "/v1/tenants");
  ASSERT_TRUE(t2_tenants.ok());
  ASSERT_EQ((*t2_tenants)["items"].size(), 1u);
  EXPECT_EQ((*t2_tenants)["items"][0]["name"], kT2);
  auto t2_queue = t2.Call("GET", "/v1/queue");
  ASSERT_TRUE(t2_queue.ok());
  for (const Json& e : (*t2_queue)["items"]) EXPECT_EQ(e["tenant"], kT2);
  // A revoked token no longer works.
  client::ApiClient victim = server.Client("sp_not_a_token");
  auto revoked = admin.Call("DELETE", "/v1/tokens/t2");
  ASSERT_TRUE(revoked.ok());
  auto after = t2.Send("GET", "/v1/jobs");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 401);
}

// The last admin token cannot be revoked: nobody could administer the server any more.
TEST(ServerTest, TheLastAdminTokenStays) {
  ServerProcess server("last_admin");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  auto last = admin.Send("DELETE", "/v1/tokens/admin");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->status, 409) << last->raw;
  EXPECT_EQ(last->body["error"]["code"], "FAILED_PRECONDITION");
  EXPECT_NE(last->raw.find("'admin' is the last admin token"), std::string::npos) << last->raw;
  auto ops = admin.Call("POST", "/v1/tokens", Json{{"name", "ops"}, {"role", "admin"}});
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_TRUE(admin.Call("DELETE", "/v1/tokens/admin").ok());
  client::ApiClient ops_client = server.Client((*ops)["token"]);
  auto again = ops_client.Send("DELETE", "/v1/tokens/ops");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 409) << again->raw;
}

// ---------------------------------------------------------------------------------------------
// Malformed requests: a 4xx that names the field, never a 500 or a crash.

struct BadCase {
  std::string what;
  std::string method;
  std::string path;
  std::string body;
  int status;
  std::string field;  // "" when the error names none
  std::map<std::string, std::string> headers = {};
};

TEST(ServerTest, MalformedRequestsGetA4xxNamingTheField) {
  ServerProcess server("badinput");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  const std::string t2_token = CreateToken(admin, "t2", "tenant", "tenant", kT2);
  client::ApiClient t2 = server.Client(t2_token);
  auto done = t2.Call("POST", "/v1/jobs", H100Job("done", 1, 1));
  ASSERT_TRUE(done.ok());
  const std::string done_id = std::to_string((*done)["id"].get<uint64_t>());
  ASSERT_TRUE(t2.Call("POST", "/v1/jobs/" + done_id + "/cancel").ok());
  ASSERT_TRUE(
      t2.Send("POST", "/v1/jobs", H100Job("keyed", 1, 1), {{"Idempotency-Key", "k1"}}).ok());
  ASSERT_TRUE(admin
                  .Call("POST", std::string("/v1/tenants/") + kT2 + "/projects",
                        Json{{"name", "authz-team"}})
                  .ok());

  const std::string ok_job = R"("devices_per_worker": 1, "device_types": ["H100"])";
  const std::vector<BadCase> cases = {
      {"malformed JSON", "POST", "/v1/jobs", "{\"name\": ", 400, "body"},
      {"not an object", "POST", "/v1/jobs", "[1, 2]", 400, "body"},
      {"empty body", "POST", "/v1/jobs", "", 400, "body"},
      {"unknown field", "POST", "/v1/jobs", R"({"name": "x", "colour": "red", )" + ok_job + "}",
       400, "colour"},
      {"missing name", "POST", "/v1/jobs", "{" + ok_job + "}", 400, "name"},
      {"no command", "POST", "/v1/jobs",
       R"({"name": "x", "devices_per_worker": 1, "device_types": ["H100"]})", 400, "command"},
      {"empty command", "POST", "/v1/jobs",
       R"({"name": "x", "command": [], "devices_per_worker": 1, "device_types": ["H100"]})", 400,
       "command"},
      {"empty name", "POST", "/v1/jobs", R"({"name": "", )" + ok_job + "}", 400, "name"},
      {"name not a string", "POST", "/v1/jobs", R"({"name": 7, )" + ok_job + "}", 400, "name"},
      {"workers a string", "POST", "/v1/jobs", R"({"name": "x", "workers": "two", )" + ok_job + "}",
       400, "workers"},
      {"workers zero", "POST", "/v1/jobs", R"({"name": "x", "workers": 0, )" + ok_job + "}", 400,
       "workers"},
      {"workers huge", "POST", "/v1/jobs", R"({"name": "x", "workers": 1e30, )" + ok_job + "}", 400,
       "workers"},
      {"devices missing", "POST", "/v1/jobs", R"({"name": "x", "device_types": ["H100"]})", 400,
       "devices_per_worker"},
      {"devices 1.5", "POST", "/v1/jobs",
       R"({"name": "x", "devices_per_worker": 1.5, "device_types": ["H100"]})", 400,
       "devices_per_worker"},
      {"devices 65", "POST", "/v1/jobs",
       R"({"name": "x", "devices_per_worker": 65, "device_types": ["H100"]})", 400,
       "devices_per_worker"},
      {"devices negative", "POST", "/v1/jobs",
       R"({"name": "x", "devices_per_worker": -1, "device_types": ["H100"]})", 400,
       "devices_per_worker"},
      {"devices a list", "POST", "/v1/jobs",
       R"({"name": "x", "devices_per_worker": [1], "device_types": ["H100"]})", 400,
       "devices_per_worker"},
      {"no types", "POST", "/v1/jobs",
       R"({"name": "x", "devices_per_worker": 1, "device_types": []})", 400, "device_types"},
      {"unknown type", "POST", "/v1/jobs",
       R"({"name": "x", "devices_per_worker": 1, "device_types": ["H200"]})", 400, "device_types"},
      {"type not a string", "POST", "/v1/jobs",
       R"({"name": "x", "devices_per_worker": 1, "device_types": [5]})", 400, "device_types[0]"},
      {"class not allowed", "POST", "/v1/jobs",
       R"({"name": "x", "priority_class": "high", )" + ok_job + "}", 400, "priority_class"},
      {"unknown class", "POST", "/v1/jobs",
       R"({"name": "x", "priority_class": "urgent", )" + ok_job + "}", 400, "priority_class"},
      {"other tenant", "POST", "/v1/jobs",
       std::string(R"({"name": "x", "tenant": ")") + kT1 + R"(", )" + ok_job + "}", 403, "tenant"},
      {"bad kind", "POST", "/v1/jobs", R"({"name": "x", "kind": "mining", )" + ok_job + "}", 400,
       "kind"},
      {"negative limit", "POST", "/v1/jobs",
       R"({"name": "x", "runtime_limit": -5, )" + ok_job + "}", 400, "runtime_limit"},
      {"env value", "POST", "/v1/jobs", R"({"name": "x", "env": {"A": 1}, )" + ok_job + "}", 400,
       "env.A"},
      {"command not strings", "POST", "/v1/jobs",
       R"({"name": "x", "command": "echo hi", )" + ok_job + "}", 400, "command"},
      {"gang too large", "POST", "/v1/jobs",
       R"({"name": "x", "workers": 9, "devices_per_worker": 8, "device_types": ["H100"]})", 400,
       "workers"},
      {"fraction for a gang", "POST", "/v1/jobs",
       R"({"name": "x", "workers": 2, "devices_per_worker": 0.5, "device_types": ["RTX4090"]})",
       400, "devices_per_worker"},
      {"key reused for another job",
       "POST",
       "/v1/jobs",
       R"({"name": "other", )" + ok_job + "}",
       409,
       "Idempotency-Key",
       {{"Idempotency-Key", "k1"}}},
      {"oversized body", "POST", "/v1/jobs", "{\"name\": \"" + std::string(2 << 20, 'x') + "\"}",
       413, ""},
      {"id not a number", "GET", "/v1/jobs/abc", "", 400, "id"},
      {"id zero", "GET", "/v1/jobs/0", "", 400, "id"},
      {"id overflow", "GET", "/v1/jobs/99999999999999999999999", "", 400, "id"},
      {"no such job", "GET", "/v1/jobs/424242", "", 404, ""},
      {"cancel twice", "POST", "/v1/jobs/" + done_id + "/cancel", "", 409, ""},
      {"unknown state filter", "GET", "/v1/jobs?state=pending,exploded", "", 400, "state"},
      {"limit not a number", "GET", "/v1/jobs?limit=many", "", 400, "limit"},
      {"limit zero", "GET", "/v1/jobs?limit=0", "", 400, "limit"},
      {"unknown query parameter", "GET", "/v1/jobs?colour=red", "", 400, "colour"},
      {"unknown job order", "GET", "/v1/jobs?order=sideways", "", 400, "order"},
      {"before without newest first", "GET", "/v1/jobs?before=5", "", 400, "before"},
      {"after with newest first", "GET", "/v1/jobs?order=newest&after=5", "", 400, "after"},
      {"bad usage time", "GET", "/v1/usage?from=yesterday", "", 400, "from"},
      {"usage range reversed", "GET", "/v1/usage?from=2026-02-01&to=2026-01-01", "", 400, "to"},
      {"unknown route", "GET", "/v1/gpus", "", 404, "path"},
      {"method not allowed", "PATCH", "/v1/jobs", "", 405, "method"},
      {"no such node", "GET", "/v1/nodes/nope", "", 404, ""},
      {"nodes of an unknown type", "GET", "/v1/nodes?device_type=B200", "", 400, "device_type"},
      {"utilization hours zero", "GET", "/v1/utilization?hours=0", "", 400, "hours"},
      {"utilization hours past 92 days", "GET", "/v1/utilization?hours=9999", "", 400, "hours"},
      {"utilization points not a number", "GET", "/v1/utilization?points=lots", "", 400, "points"},
      {"overview with a query", "GET", "/v1/overview?tenant=x", "", 400, "tenant"},
      {"utilization of an unknown tenant", "GET", "/v1/utilization?tenant=nope", "", 400, "tenant"},
      {"nodes of an unknown provider", "GET", "/v1/nodes?provider=nope", "", 400, "provider"},
      {"no such tenant", "GET", "/v1/tenants/nope", "", 404, ""},
      // Issue 12: each of these crashed the server or was accepted on the previous main.
      {"100,000 nested [ in name", "POST", "/v1/jobs",
       R"({"name": )" + std::string(100'000, '[') + std::string(100'000, ']') + ", " + ok_job + "}",
       400, "body"},
      {"400,000 nested [ in an unknown field", "POST", "/v1/jobs",
       R"({"x": )" + std::string(400'000, '[') + std::string(400'000, ']') + "}", 400, "body"},
      {"workers 1e400", "POST", "/v1/jobs", R"({"name": "x", "workers": 1e400, )" + ok_job + "}",
       400, "workers"},
      {"name with a right-to-left override", "POST", "/v1/jobs",
       "{\"name\": \"invoice\u202Egnp.exe\", " + ok_job + "}", 400, "name"},
      {"name with a zero-width space", "POST", "/v1/jobs",
       "{\"name\": \"ad\u200Bmin\", " + ok_job + "}", 400, "name"},
      {"name with DEL", "POST", "/v1/jobs", "{\"name\": \"a\u007Fb\", " + ok_job + "}", 400,
       "name"},
      {"name of 129 characters (3 bytes each)", "POST", "/v1/jobs",
       "{\"name\": \"" +
           [] {
             std::string n;
             for (int i = 0; i < 129; ++i) n += "\u7b97";
             return n;
           }() +
           "\", " + ok_job + "}",
       400, "name"},
      {"env name with NUL", "POST", "/v1/jobs",
       R"({"name": "x", "command": ["true"], "env": {"A\u0000B": "v"}, )" + ok_job + "}", 400,
       "env"},
      {"env value with NUL", "POST", "/v1/jobs",
       R"({"name": "x", "command": ["true"], "env": {"A": "v\u0000w"}, )" + ok_job + "}", 400,
       "env.A"},
      {"absolute workdir", "POST", "/v1/jobs",
       R"({"name": "x", "command": ["true"], "workdir": "/etc", )" + ok_job + "}", 400, "workdir"},
  };
  for (const BadCase& c : cases) {
    auto r = t2.SendRaw(c.method, c.path, c.body, c.headers);
    ASSERT_TRUE(r.ok()) << c.what << ": " << r.status().ToString();
    EXPECT_EQ(r->status, c.status) << c.what << ": " << r->raw.substr(0, 300);
    ASSERT_TRUE(r->body.is_object() && r->body.contains("error"))
        << c.what << ": " << r->raw.substr(0, 300);
    const Json& e = r->body["error"];
    EXPECT_TRUE(e["code"].is_string() && e["message"].is_string()) << c.what;
    if (c.field.empty()) {
      EXPECT_TRUE(e["field"].is_null()) << c.what << ": " << e.dump();
    } else {
      EXPECT_EQ(e["field"], c.field) << c.what << ": " << e.dump();
    }
  }
  // Admin-only inputs.
  auto nodes = admin.Call("GET", "/v1/nodes?limit=1");
  ASSERT_TRUE(nodes.ok());
  const std::string node0 = client::UrlEncode((*nodes)["items"][0]["name"].get<std::string>());
  const std::vector<BadCase> admin_cases = {
      {"token name with a space", "POST", "/v1/tokens",
       R"({"name": "a b", "role": "tenant", "tenant": "t02-haiyan-bio"})", 400, "name"},
      {"unknown role", "POST", "/v1/tokens", R"({"name": "r", "role": "root"})", 400, "role"},
      {"agent without node", "POST", "/v1/tokens",
       R"({"name": "g", "role": "agent", "node": "nope"})", 400, "node"},
      {"duplicate token name", "POST", "/v1/tokens", R"({"name": "t2", "role": "admin"})", 409,
       "name"},
      {"admin without tenant", "POST", "/v1/jobs", "{\"name\": \"x\", " + ok_job + "}", 400,
       "tenant"},
      {"bad status", "POST", "/v1/jobs/" + done_id + "/status", R"({"state": "exploded"})", 400,
       "state"},
      {"status with unknown field", "POST", "/v1/jobs/" + done_id + "/status",
       R"({"state": "running", "pid": 1})", 400, "pid"},
      // Issue 12: a wrong-typed field on an agent route was a 500; a 2^32+1 attempt read as 1.
      {"worker report attempt a string", "POST", "/v1/jobs/" + done_id + "/workers/0/status",
       R"({"attempt": "one", "state": "running"})", 400, "attempt"},
      {"worker report attempt 2^32+1", "POST", "/v1/jobs/" + done_id + "/workers/0/status",
       R"({"attempt": 4294967297, "state": "running"})", 400, "attempt"},
      {"heartbeat devices a string", "POST", "/v1/nodes/" + node0 + "/heartbeat",
       R"({"devices": "all"})", 400, "devices"},
      {"partner without provider", "POST", "/v1/tokens", R"({"name": "pp", "role": "partner"})",
       400, "provider"},
      {"partner of an unknown provider", "POST", "/v1/tokens",
       R"({"name": "pp", "role": "partner", "provider": "nope"})", 400, "provider"},
      {"provider on a member token", "POST", "/v1/tokens",
       R"({"name": "pp", "role": "member", "tenant": "t02-haiyan-bio", "provider": "pudong-dc"})",
       400, "provider"},
      {"expiry in the past", "POST", "/v1/tokens",
       R"({"name": "pp", "role": "member", "tenant": "t02-haiyan-bio", "expires": "2020-01-01"})",
       400, "expires"},
      {"expiry not a time", "POST", "/v1/tokens",
       R"({"name": "pp", "role": "member", "tenant": "t02-haiyan-bio", "expires": "soon"})", 400,
       "expires"},
      // Live administration of tenants (issue 15).
      {"tenant without a name", "POST", "/v1/tenants", R"({"weight": 2})", 400, "name"},
      {"tenant name not a string", "POST", "/v1/tenants", R"({"name": 5})", 400, "name"},
      {"tenant name with a space", "POST", "/v1/tenants", R"({"name": "a b"})", 400, "name"},
      {"tenant exists", "POST", "/v1/tenants", R"({"name": "t02-haiyan-bio"})", 409, "name"},
      {"tenant body a list", "POST", "/v1/tenants", "[1]", 400, "body"},
      {"tenant unknown field", "POST", "/v1/tenants", R"({"name": "n1", "colour": "red"})", 400,
       "colour"},
      {"tenant weight zero", "POST", "/v1/tenants", R"({"name": "n1", "weight": 0})", 400,
       "weight"},
      {"tenant weight a string", "POST", "/v1/tenants", R"({"name": "n1", "weight": "2"})", 400,
       "weight"},
      {"tenant unknown class", "POST", "/v1/tenants",
       R"({"name": "n1", "priority_classes": ["urgent"]})", 400, "priority_classes[0]"},
      {"tenant classes a string", "POST", "/v1/tenants",
       R"({"name": "n1", "priority_classes": "low"})", 400, "priority_classes"},
      {"quota unknown type", "POST", "/v1/tenants",
       R"({"name": "n1", "quota": {"B200": {"max": 8}}})", 400, "quota.B200"},
      {"quota max below guaranteed", "POST", "/v1/tenants",
       R"({"name": "n1", "quota": {"H100": {"guaranteed": 8, "max": 4}}})", 400, "quota.H100.max"},
      {"quota negative", "POST", "/v1/tenants",
       R"({"name": "n1", "quota": {"H100": {"guaranteed": -1}}})", 400, "quota.H100.guaranteed"},
      {"quota a word", "POST", "/v1/tenants",
       R"({"name": "n1", "quota": {"H100": {"max": "lots"}}})", 400, "quota.H100.max"},
      {"quota unknown field", "POST", "/v1/tenants",
       R"({"name": "n1", "quota": {"H100": {"min": 1}}})", 400, "quota.H100.min"},
      {"guarantees beyond the pool", "POST", "/v1/tenants",
       R"({"name": "n1", "quota": {"H100": {"guaranteed": 100000}}})", 400,
       "quota.H100.guaranteed"},
      {"change an unknown tenant", "PATCH", "/v1/tenants/nope", R"({"weight": 2})", 404, ""},
      {"policy unknown queue", "PATCH", "/v1/policy", R"({"queue": "lottery"})", 400, "queue"},
      {"policy unknown placement", "PATCH", "/v1/policy", R"({"placement": 3})", 400, "placement"},
      {"policy preemption a string", "PATCH", "/v1/policy", R"({"preemption": "yes"})", 400,
       "preemption"},
      {"policy half-life zero", "PATCH", "/v1/policy", R"({"fair_share_half_life_hours": 0})", 400,
       "fair_share_half_life_hours"},
      {"policy las thresholds decreasing", "PATCH", "/v1/policy",
       R"({"las_thresholds_device_seconds": [100, 50]})", 400, "las_thresholds_device_seconds"},
      {"policy las threshold a word", "PATCH", "/v1/policy",
       R"({"las_thresholds_device_seconds": ["x"]})", 400, "las_thresholds_device_seconds[0]"},
      {"policy unknown field", "PATCH", "/v1/policy", R"({"speed": 11})", 400, "speed"},
      {"policy body a list", "PATCH", "/v1/policy", "[]", 400, "body"},
      {"apply without a file", "POST", "/v1/pool/apply", R"({"dry_run": true})", 400, "file"},
      {"apply a file not a string", "POST", "/v1/pool/apply", R"({"file": 5})", 400, "file"},
      {"apply dry_run not a boolean", "POST", "/v1/pool/apply", R"({"file": "", "dry_run": "yes"})",
       400, "dry_run"},
      {"apply unknown field", "POST", "/v1/pool/apply", R"({"file": "", "force": true})", 400,
       "force"},
      {"apply a file with no providers", "POST", "/v1/pool/apply",
       R"({"file": "[[tenants]]\nname = \"x\"\n", "dry_run": true})", 400, "file"},
      {"apply a file with a TOML error", "POST", "/v1/pool/apply",
       R"({"file": "[[providers]\n", "dry_run": true})", 400, "file"},
      {"project without a name", "POST", "/v1/tenants/t02-haiyan-bio/projects", R"({"weight": 2})",
       400, "name"},
      {"project name with a slash", "POST", "/v1/tenants/t02-haiyan-bio/projects",
       R"({"name": "a/b"})", 400, "name"},
      {"project of no tenant", "POST", "/v1/tenants/nope/projects", R"({"name": "p"})", 404, ""},
      {"project unknown field", "POST", "/v1/tenants/t02-haiyan-bio/projects",
       R"({"name": "p", "colour": "red"})", 400, "colour"},
      {"project weight zero", "POST", "/v1/tenants/t02-haiyan-bio/projects",
       R"({"name": "p", "weight": 0})", 400, "weight"},
      {"project quota unknown type", "POST", "/v1/tenants/t02-haiyan-bio/projects",
       R"({"name": "p", "quota": {"B200": {"guaranteed": 1}}})", 400, "quota.B200"},
      {"project guarantee beyond the tenant's", "POST", "/v1/tenants/t02-haiyan-bio/projects",
       R"({"name": "p", "quota": {"H100": {"guaranteed": 17}}})", 400, "quota.H100.guaranteed"},
      {"project max below guaranteed", "POST", "/v1/tenants/t02-haiyan-bio/projects",
       R"({"name": "p", "quota": {"H100": {"guaranteed": 4, "max": 2}}})", 400, "quota.H100.max"},
      {"change an unknown project", "PATCH", "/v1/tenants/t02-haiyan-bio/projects/nope",
       R"({"weight": 2})", 404, ""},
      {"rename a project", "PATCH", "/v1/tenants/t02-haiyan-bio/projects/authz-team",
       R"({"name": "other"})", 400, "name"},
      {"remove a project through the tenant", "PATCH", "/v1/tenants/t02-haiyan-bio",
       R"({"projects": []})", 400, "projects.authz-team"},
      {"projects not a list", "PATCH", "/v1/tenants/t02-haiyan-bio", R"({"projects": {}})", 400,
       "projects"},
      {"job of an unknown project", "POST", "/v1/jobs",
       R"({"name": "j", "tenant": "t02-haiyan-bio", "project": "nope", "devices_per_worker": 1,
           "device_types": ["H100"], "command": ["x"]})",
       400, "project"},
      {"token projects not a list", "POST", "/v1/tokens",
       R"({"name": "pp", "role": "member", "tenant": "t02-haiyan-bio", "projects": "a"})", 400,
       "projects"},
      {"token projects for a viewer", "POST", "/v1/tokens",
       R"({"name": "pp", "role": "viewer", "tenant": "t02-haiyan-bio", "projects": ["authz-team"]})",
       400, "projects"},
      {"rename a tenant", "PATCH", "/v1/tenants/t02-haiyan-bio", R"({"name": "other"})", 400,
       "name"},
      {"retired not a boolean", "PATCH", "/v1/tenants/t02-haiyan-bio", R"({"retired": "yes"})", 400,
       "retired"},
  };
  for (const BadCase& c : admin_cases) {
    auto r = admin.SendRaw(c.method, c.path, c.body, c.headers);
    ASSERT_TRUE(r.ok()) << c.what;
    EXPECT_EQ(r->status, c.status) << c.what << ": " << r->raw;
    if (r->body.is_object() && r->body.contains("error")) {
      EXPECT_EQ(r->body["error"]["field"], c.field.empty() ? Json(nullptr) : Json(c.field))
          << c.what << ": " << r->raw;
    } else {
      ADD_FAILURE() << c.what << ": " << r->raw;
    }
  }
  // After all that, the server still serves and holds exactly the jobs that were valid.
  auto jobs = admin.Call("GET", "/v1/jobs");
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ((*jobs)["items"].size(), 2u);
}

TEST(ServerTest, AnAgentReportDrivesAJobToTheEndAndUsageIsMetered) {
  ServerProcess server("lifecycle");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  client::ApiClient t1 = server.Client(CreateToken(admin, "t1", "tenant", "tenant", kT1));
  auto a = t1.Call("POST", "/v1/jobs", H100Job("train", 1, 8));
  ASSERT_TRUE(a.ok());
  const std::string id = std::to_string((*a)["id"].get<uint64_t>());
  Json job = WaitForState(t1, (*a)["id"], "admitted");
  const std::string node = job["placement"]["workers"][0]["node"];
  client::ApiClient agent = server.Client(CreateToken(admin, "agent", "agent", "node", node));
  auto assignments = agent.Call("GET", "/v1/nodes/" + client::UrlEncode(node) + "/assignments");
  ASSERT_TRUE(assignments.ok());
  ASSERT_EQ((*assignments)["items"].size(), 1u);
  EXPECT_EQ((*assignments)["items"][0]["world_size"], 1);
  EXPECT_EQ((*assignments)["items"][0]["command"], Json({"sleep", "1"}));
  const std::string worker = "/v1/jobs/" + id + "/workers/0/status";
  ASSERT_TRUE(agent.Call("POST", worker, Json{{"attempt", 1}, {"state", "running"}}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto finished =
      agent.Call("POST", worker,
                 Json{{"attempt", 1}, {"state", "exited"}, {"exit_code", 3}, {"message", "oom"}});
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  EXPECT_EQ((*finished)["state"], "failed");
  EXPECT_EQ((*finished)["exit_code"], 3);
  // A repeated report (the agent retried) is refused as over; it changes nothing.
  auto again =
      agent.Send("POST", worker, Json{{"attempt", 1}, {"state", "exited"}, {"exit_code", 3}});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, 409) << again->raw;
  // The devices are free again; usage counts 8 H100 for >= 0.3 s, at 15.50 yuan per device-hour.
  auto n = admin.Call("GET", "/v1/nodes/" + client::UrlEncode(node));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ((*n)["free_devices"], 8);
  auto usage = t1.Call("GET", "/v1/usage");
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ((*usage)["items"].size(), 1u);
  const Json& u = (*usage)["items"][0];
  EXPECT_EQ(u["tenant"], kT1);
  EXPECT_EQ(u["provider"], "pudong-dc");
  EXPECT_EQ(u["device_type"], "H100");
  // 8 devices x >= 0.3 s = >= 2.4 device-seconds = >= 0.00067 device-hours (rounded to 0.001).
  EXPECT_GE(u["device_hours"].get<double>(), 0.001);
  EXPECT_LT(u["device_hours"].get<double>(), 0.1);
  // Metrics reflect it.
  auto metrics = admin.Send("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->raw.find("suanpan_jobs{state=\"failed\"} 1"), std::string::npos)
      << metrics->raw;
  EXPECT_NE(metrics->raw.find("suanpan_store_commit_seconds_count"), std::string::npos);
  EXPECT_NE(metrics->raw.find("suanpan_api_request_seconds_count{code=\"200\""), std::string::npos);
  EXPECT_NE(
      metrics->raw.find("suanpan_devices_free{device_type=\"H100\",provider=\"pudong-dc\"} 64"),
      std::string::npos);
}

TEST(ServerTest, WhyPendingNamesTheQuotaAndTheExpectedStart) {
  ServerProcess server("explain");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  client::ApiClient t1 = server.Client(CreateToken(admin, "t1", "tenant", "tenant", kT1));
  // 48 H100 for 1 h, then 32 more: t01's max is 64, so the second waits for the first to end.
  auto a = t1.Call("POST", "/v1/jobs", H100Job("a", 6, 8));
  ASSERT_TRUE(a.ok());
  WaitForState(t1, (*a)["id"], "admitted");
  auto b = t1.Call("POST", "/v1/jobs", H100Job("b", 4, 8));
  ASSERT_TRUE(b.ok());
  auto why = t1.Call("GET", "/v1/jobs/" + std::to_string((*b)["id"].get<uint64_t>()) + "/explain");
  ASSERT_TRUE(why.ok()) << why.status().ToString();
  EXPECT_EQ((*why)["pending"], true);
  EXPECT_NE((*why)["reason"].get<std::string>().find("quota"), std::string::npos) << why->dump();
  EXPECT_EQ((*why)["position"], 1);
}

// Tried as a hub operator would: a pool with no agents, and one node whose agent heartbeats but
// never starts its workers. Before: the job was placed on a node nobody runs and stayed admitted
// forever, billed from the bind.
TEST(ServerTest, ANodeNoAgentServesTakesNoWorkAndAJobThatNeverStartsIsRequeuedUnbilled) {
  ServerProcess server("stranding");
  ASSERT_TRUE(server.Start({"--start-timeout", "2"})) << server.Log();
  client::ApiClient admin = server.Client(server.admin_token());
  client::ApiClient t1 = server.Client(CreateToken(admin, "t1", "tenant", "tenant", kT1));
  auto a = t1.Call("POST", "/v1/jobs", H100Job("train", 1, 8));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const uint64_t id = (*a)["id"];
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  auto waiting = t1.Call("GET", "/v1/jobs/" + std::to_string(id));
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ((*waiting)["state"], "pending") << waiting->dump();  // no node has an agent
  EXPECT_NE((*waiting)["reason"].get<std::string>().find("until their agent heartbeats"),
            std::string::npos)
      << waiting->dump();

  // One node's agent (this test) heartbeats: the job goes there, and nowhere else.
  auto nodes = admin.Call("GET", "/v1/nodes?device_type=H100&limit=1");
  ASSERT_TRUE(nodes.ok());
  const std::string node = (*nodes)["items"][0]["name"];
  client::ApiClient agent = server.Client(CreateToken(admin, "agent", "agent", "node", node));
  Json devices = Json::array();
  for (int i = 0; i < 8; ++i) devices.push_back({{"index", i}, {"type", "H100"}});
  ASSERT_TRUE(agent
                  .Call("POST", "/v1/nodes/" + client::UrlEncode(node) + "/heartbeat",
                        Json{{"devices", devices}})
                  .ok());
  Json job = WaitForState(t1, id, "admitted");
  EXPECT_EQ(job["placement"]["workers"][0]["node"], node);
  // Its worker never starts: after the start timeout the attempt ends and the job queues again.
  bool timed_out = false;
  for (int i = 0; i < 100 && !timed_out; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto events = t1.Call("GET", "/v1/jobs/" + std::to_string(id) + "/events");
    ASSERT_TRUE(events.ok());
    for (const Json& e : (*events)["items"]) {
      if (e["kind"] == "retry" &&
          e["message"].get<std::string>().find("start timeout on " + node) != std::string::npos) {
        timed_out = true;
      }
    }
  }
  EXPECT_TRUE(timed_out) << server.Log();
  // Nothing of it is billed: it never ran.
  auto usage = t1.Call("GET", "/v1/usage");
  ASSERT_TRUE(usage.ok());
  EXPECT_TRUE((*usage)["items"].empty()) << usage->dump();
}

}  // namespace
}  // namespace suanpan
