// Live administration end to end (issue 15): the real server and CLI, no restart anywhere in
// the story. A company is onboarded, given a quota and a tenant admin who makes its engineers'
// tokens (a member's expiring, a viewer's read-only), submits, has its quota cut while
// its jobs run (they keep running, new work waits), and is retired (new submits refused); every
// step is in the audit log with before -> after, and a kill -9 right after an acknowledged change
// loses none of it.

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "config/pool_file.h"
#include "server_process.h"

namespace suanpan {
namespace {

using Json = nlohmann::json;
using testing::Cli;
using testing::CliRun;

Json StateOf(client::ApiClient& c, uint64_t id) {
  auto j = c.Call("GET", "/v1/jobs/" + std::to_string(id));
  return j.ok() ? *j : Json();
}

// Polls until `pred` holds for the job (10 s at most).
template <typename P>
bool WaitJob(client::ApiClient& c, uint64_t id, P pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred(StateOf(c, id))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

uint64_t Submitted(const CliRun& r) {
  // "submitted job 12 (...)" or the like: the first number in the output.
  const size_t i = r.out.find_first_of("0123456789");
  return i == std::string::npos ? 0 : std::stoull(r.out.substr(i));
}

Json TenantRow(client::ApiClient& c, const std::string& name) {
  auto t = c.Call("GET", "/v1/tenants/" + name);
  return t.ok() ? *t : Json();
}

TEST(AdminTest, OnboardQuotaCutAndRetireWithoutARestart) {
  testing::ServerProcess server("admin_live");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  const std::string url = server.url(), root = server.admin_token();
  client::ApiClient admin = server.Client(root);

  // Onboard: the tenant, its quota, a token for its engineers.
  CliRun r = Cli(url, root, "tenants create acme --weight 2 --quota H100=8:16");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("tenant acme created"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("quota (guaranteed/max) H100 8/16"), std::string::npos) << r.out;
  r = Cli(url, root, "tenants create acme");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("tenant 'acme' exists"), std::string::npos) << r.out;
  // The hub admin makes the company's tenant admin; it makes its engineers' tokens itself.
  auto secret_of = [](const CliRun& run) {
    const size_t at = run.out.find("sp_");
    return at == std::string::npos ? std::string()
                                   : run.out.substr(at, run.out.find_first_of(" \n", at) - at);
  };
  r = Cli(url, root, "token create acme-boss --role tenant-admin --tenant acme");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string boss = secret_of(r);
  ASSERT_FALSE(boss.empty()) << r.out;
  r = Cli(url, boss, "token create acme-ci --role member --expires 30d");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string acme = secret_of(r);
  ASSERT_FALSE(acme.empty()) << r.out;
  r = Cli(url, boss, "token create acme-audit --role viewer");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string viewer = secret_of(r);
  r = Cli(url, boss, "token create sneaky --role member --tenant t02-haiyan-bio");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("this token manages tenant 'acme' only"), std::string::npos) << r.out;
  r = Cli(url, boss, "token create root2 --role admin");
  EXPECT_EQ(r.status, 1) << r.out;
  r = Cli(url, boss, "token list");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("acme-ci"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\nadmin "), std::string::npos) << r.out;  // the hub's token is not its
  // A member does not manage tokens; a viewer reads and submits nothing.
  r = Cli(url, acme, "token create x --role member");
  EXPECT_EQ(r.status, 1) << r.out;
  r = Cli(url, viewer, "submit --name v --devices 1 --type H100 -- train");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("role viewer may only read"), std::string::npos) << r.out;
  r = Cli(url, viewer, "jobs");
  EXPECT_EQ(r.status, 0) << r.out;
  client::ApiClient acme_api = server.Client(acme);
  // Its token does not administer.
  r = Cli(url, acme, "tenants create mallory");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("role member may not POST /v1/tenants"), std::string::npos) << r.out;
  r = Cli(url, acme, "tenants set acme --quota H100=64:64");
  EXPECT_EQ(r.status, 1) << r.out;

  // Submit as the new tenant: two 8-device jobs fill its max of 16.
  r = Cli(url, acme, "submit --name a --devices 8 --type H100 -- train");
  ASSERT_EQ(r.status, 0) << r.out;
  const uint64_t a = Submitted(r);
  r = Cli(url, acme, "submit --name b --devices 8 --type H100 -- train");
  ASSERT_EQ(r.status, 0) << r.out;
  const uint64_t b = Submitted(r);
  auto admitted = [](const Json& j) { return j.value("state", "") == "admitted"; };
  ASSERT_TRUE(WaitJob(acme_api, a, admitted)) << StateOf(acme_api, a).dump();
  ASSERT_TRUE(WaitJob(acme_api, b, admitted)) << StateOf(acme_api, b).dump();
  EXPECT_EQ(TenantRow(admin, "acme")["quotas"][0]["used"], "16");

  // Cut the quota below what it holds: the running jobs keep their devices, the answer says so,
  // and new work waits for the quota.
  r = Cli(url, root, "tenants set acme --quota H100=4:4");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("H100 in use: 16, above the new max 4: its running jobs keep running"),
            std::string::npos)
      << r.out;
  r = Cli(url, acme, "submit --name c --devices 4 --type H100 -- train");
  ASSERT_EQ(r.status, 0) << r.out;
  const uint64_t c = Submitted(r);
  ASSERT_TRUE(WaitJob(acme_api, c, [](const Json& j) {
    return j.value("reason", "").find("quota") != std::string::npos;
  })) << StateOf(acme_api, c).dump();
  EXPECT_EQ(StateOf(acme_api, c)["state"], "pending");
  EXPECT_EQ(StateOf(acme_api, a)["state"], "admitted");
  EXPECT_EQ(StateOf(acme_api, b)["state"], "admitted");
  // Larger than the new max: refused at submit, naming the quota.
  r = Cli(url, acme, "submit --name d --devices 8 --type H100 -- train");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("may hold at most 4 H100"), std::string::npos) << r.out;

  // Jobs record who submitted them; usage is cut by user.
  EXPECT_EQ(StateOf(acme_api, a)["user"], "acme-ci");
  ASSERT_TRUE(
      admin.Call("POST", "/v1/jobs/" + std::to_string(a) + "/status", Json{{"state", "running"}})
          .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Its jobs end: the waiting one fits under the new quota and is admitted.
  for (uint64_t id : {a, b}) {
    ASSERT_TRUE(admin
                    .Call("POST", "/v1/jobs/" + std::to_string(id) + "/status",
                          Json{{"state", "succeeded"}, {"exit_code", 0}})
                    .ok());
  }
  ASSERT_TRUE(WaitJob(acme_api, c, admitted)) << StateOf(acme_api, c).dump();
  r = Cli(url, boss, "usage --by user,type");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("USER     TYPE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("acme-ci  H100"), std::string::npos) << r.out;

  // The weight went into the fair share without a restart; the others are as they were.
  EXPECT_EQ(TenantRow(admin, "acme")["weight"], 2);
  EXPECT_EQ(TenantRow(admin, "t02-haiyan-bio")["weight"], 1);

  // Retire: new submits are refused, the admitted job goes on.
  r = Cli(url, root, "tenants retire acme");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("retired: new submits are refused; its 0 queued and 1 running job(s) go "
                       "on to their end"),
            std::string::npos)
      << r.out;
  r = Cli(url, acme, "submit --name e --devices 1 --type H100 -- train");
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("'acme' is retired"), std::string::npos) << r.out;
  EXPECT_EQ(StateOf(acme_api, c)["state"], "admitted");
  // It still reads its jobs.
  r = Cli(url, acme, "jobs --all");
  EXPECT_EQ(r.status, 0) << r.out;

  // The audit has each change with before -> after.
  auto audit = admin.Call("GET", "/v1/audit");
  ASSERT_TRUE(audit.ok());
  std::vector<Json> changes;
  for (const Json& e : *audit) {
    if (e["action"].get<std::string>().starts_with("tenant.")) changes.push_back(e);
  }
  ASSERT_EQ(changes.size(), 3u) << audit->dump(1);
  EXPECT_EQ(changes[0]["action"], "tenant.create");
  EXPECT_TRUE(changes[0]["detail"]["before"].is_null());
  EXPECT_EQ(changes[0]["detail"]["after"]["quota"]["H100"]["max"], "16");
  EXPECT_EQ(changes[1]["detail"]["before"]["quota"]["H100"]["max"], "16");
  EXPECT_EQ(changes[1]["detail"]["after"]["quota"]["H100"]["max"], "4");
  EXPECT_EQ(changes[2]["detail"]["after"]["retired"], true);
  EXPECT_EQ(changes[2]["actor"], "admin");
  // The CLI shows a change as the fields that changed, and exports the log as JSONL.
  r = Cli(url, root, "audit");
  EXPECT_NE(r.out.find("acme: quota.H100.guaranteed 8 -> 4, quota.H100.max 16 -> 4"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("acme: retired false -> true"), std::string::npos) << r.out;
  r = Cli(url, root, "audit -o jsonl");
  ASSERT_EQ(r.status, 0) << r.out;
  size_t lines = 0;
  for (size_t i = 0; i < r.out.size(); i = r.out.find('\n', i) + 1) {
    const std::string line = r.out.substr(i, r.out.find('\n', i) - i);
    EXPECT_EQ(Json::parse(line)["seq"], ++lines) << line;
  }
  EXPECT_EQ(lines, audit->size());

  // kill -9 right after an acknowledged change: it is there after the restart, and so is the
  // tenant made live, its job and its token.
  r = Cli(url, root, "tenants create beta --quota H100=:8 --priority-classes low,normal");
  ASSERT_EQ(r.status, 0) << r.out;
  server.Kill(SIGKILL);
  ASSERT_TRUE(server.Restart()) << server.Log();
  client::ApiClient admin2 = server.Client(root);
  Json acme_row = TenantRow(admin2, "acme");
  EXPECT_EQ(acme_row["retired"], true) << acme_row.dump();
  EXPECT_EQ(acme_row["weight"], 2);
  EXPECT_EQ(acme_row["quotas"][0]["max"], "4") << acme_row.dump();
  EXPECT_EQ(acme_row["quotas"][0]["used"], "4") << acme_row.dump();
  Json beta_row = TenantRow(admin2, "beta");
  EXPECT_EQ(beta_row["priority_classes"], Json({"low", "normal"})) << beta_row.dump();
  EXPECT_EQ(beta_row["quotas"][0]["max"], "8") << beta_row.dump();
  client::ApiClient acme2 = server.Client(acme);
  EXPECT_EQ(StateOf(acme2, c)["state"], "admitted");
  r = Cli(url, boss, "token list");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("acme-audit"), std::string::npos) << r.out;
  r = Cli(url, root, "tenants unretire acme");
  ASSERT_EQ(r.status, 0) << r.out;
  r = Cli(url, acme, "submit --name f --devices 1 --type RTX4090 -- train");
  EXPECT_EQ(r.status, 0) << r.out;
  r = Cli(url, root, "tenants");
  EXPECT_NE(r.out.find("beta"), std::string::npos) << r.out;
}

// A company with two teams (projects), through the real server and CLI, no restart: the hub
// admin opens the tenant and its tenant admin; the tenant admin makes the teams with quotas out
// of the tenant's and its engineers' tokens, each for its team; an engineer submits to its own
// team only; a team's max holds its work back while the tenant has room; a team is retired;
// usage is cut by team; another tenant's admin cannot touch the teams; kill -9 loses nothing.
TEST(AdminTest, ACompanyWithTwoTeamsWithoutARestart) {
  testing::ServerProcess server("admin_projects");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  const std::string url = server.url(), root = server.admin_token();
  client::ApiClient admin = server.Client(root);
  auto secret_of = [](const CliRun& run) {
    const size_t at = run.out.find("sp_");
    return at == std::string::npos ? std::string()
                                   : run.out.substr(at, run.out.find_first_of(" \n", at) - at);
  };

  CliRun r = Cli(url, root, "tenants create lumen --quota H100=16:32");
  ASSERT_EQ(r.status, 0) << r.out;
  r = Cli(url, root, "token create lumen-boss --role tenant-admin --tenant lumen");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string boss = secret_of(r);
  ASSERT_FALSE(boss.empty()) << r.out;

  // The tenant admin makes the teams: guarantees out of the tenant's 16.
  r = Cli(url, boss, "projects create vision --quota H100=8:12");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("project lumen/vision created"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("quota (guaranteed/max) H100 8/12"), std::string::npos) << r.out;
  r = Cli(url, boss, "projects create llm --quota H100=8");
  ASSERT_EQ(r.status, 0) << r.out;
  r = Cli(url, boss, "projects create extra --quota H100=4");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("quota.H100.guaranteed: the projects' guarantees add up to 20, more than "
                       "the tenant's 16"),
            std::string::npos)
      << r.out;
  r = Cli(url, boss, "projects create vision");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("project 'lumen/vision' exists"), std::string::npos) << r.out;

  // Its engineers' tokens, each for its team.
  r = Cli(url, boss, "token create ana --role member --projects vision");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string ana = secret_of(r);
  r = Cli(url, boss, "token create li --role member --projects llm");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string li = secret_of(r);
  r = Cli(url, boss, "token create nobody --role member --projects robotics");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("projects[0]: tenant 'lumen' has no project 'robotics'"), std::string::npos)
      << r.out;
  r = Cli(url, boss, "token list");
  EXPECT_NE(r.out.find("lumen/vision"), std::string::npos) << r.out;

  // An engineer submits to its own team (by default) and to no other; a member makes no teams.
  r = Cli(url, ana, "submit --name v1 --devices 8 --type H100 -- train");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("for project lumen/vision"), std::string::npos) << r.out;
  const uint64_t v1 = Submitted(r);
  r = Cli(url, ana, "submit --name sneak --project llm --devices 1 --type H100 -- train");
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("project: this token may only submit to projects vision"), std::string::npos)
      << r.out;
  r = Cli(url, ana, "projects create vision2");
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("only an admin or the tenant's tenant admin"), std::string::npos) << r.out;
  r = Cli(url, li, "submit --name l1 --workers 2 --devices 8 --type H100 -- train");
  ASSERT_EQ(r.status, 0) << r.out;
  const uint64_t l1 = Submitted(r);
  client::ApiClient ana_api = server.Client(ana);
  auto admitted = [](const Json& j) { return j.value("state", "") == "admitted"; };
  ASSERT_TRUE(WaitJob(ana_api, v1, admitted)) << StateOf(ana_api, v1).dump();
  ASSERT_TRUE(WaitJob(ana_api, l1, admitted)) << StateOf(ana_api, l1).dump();
  EXPECT_EQ(StateOf(ana_api, v1)["project"], "vision");

  // vision's max (12) holds its next 8 back, though lumen holds 24 of its 32 and H100 are idle.
  r = Cli(url, ana, "submit --name v2 --devices 8 --type H100 -- train");
  ASSERT_EQ(r.status, 0) << r.out;
  const uint64_t v2 = Submitted(r);
  ASSERT_TRUE(WaitJob(ana_api, v2, [](const Json& j) {
    return j.value("reason", "").find("project 'lumen/vision' holds 8 of its max 12 H100") !=
           std::string::npos;
  })) << StateOf(ana_api, v2).dump();
  r = Cli(url, boss, "projects");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("H100 8/8/12"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("H100 16/8/-"), std::string::npos) << r.out;
  // Raised: it starts, without a restart.
  r = Cli(url, boss, "projects set vision --quota H100=8:16");
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_TRUE(WaitJob(ana_api, v2, admitted)) << StateOf(ana_api, v2).dump();

  // Usage by team: v1 ran for a while.
  ASSERT_TRUE(
      admin.Call("POST", "/v1/jobs/" + std::to_string(v1) + "/status", Json{{"state", "running"}})
          .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(admin
                  .Call("POST", "/v1/jobs/" + std::to_string(v1) + "/status",
                        Json{{"state", "succeeded"}, {"exit_code", 0}})
                  .ok());
  r = Cli(url, boss, "usage --by project,user");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("PROJECT  USER"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vision   ana"), std::string::npos) << r.out;

  // Another tenant's admin cannot see or touch lumen's teams.
  r = Cli(url, root, "token create haiyan-boss --role tenant-admin --tenant t02-haiyan-bio");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string other = secret_of(r);
  r = Cli(url, other, "projects create lumen/evil");
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("tenant 'lumen' not found"), std::string::npos) << r.out;
  r = Cli(url, other, "projects set lumen/vision --quota H100=0:0");
  EXPECT_NE(r.status, 0) << r.out;
  r = Cli(url, other, "projects lumen");
  EXPECT_NE(r.status, 0) << r.out;

  // Retire a team: its running job goes on, new work is refused.
  r = Cli(url, boss, "projects retire llm");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("retired: new submits to it are refused; its 0 queued and 1 running "
                       "job(s) go on to their end"),
            std::string::npos)
      << r.out;
  r = Cli(url, li, "submit --name l2 --devices 1 --type H100 -- train");
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("project: 'lumen/llm' is retired and takes no new jobs"), std::string::npos)
      << r.out;
  EXPECT_EQ(StateOf(ana_api, l1)["state"], "admitted");

  // The audit has every team change, by the tenant admin.
  auto audit = admin.Call("GET", "/v1/audit");
  ASSERT_TRUE(audit.ok());
  std::vector<std::string> actions;
  for (const Json& e : *audit) {
    const std::string a = e["action"].get<std::string>();
    if (a.starts_with("project.")) {
      actions.push_back(a);
      EXPECT_EQ(e["actor"], "lumen-boss") << e.dump();
    }
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"project.create", "project.create", "project.update",
                                               "project.update"}));

  // kill -9 right after the acknowledged retirement: all of it is there after the restart.
  server.Kill(SIGKILL);
  ASSERT_TRUE(server.Restart()) << server.Log();
  client::ApiClient admin2 = server.Client(root);
  Json lumen = TenantRow(admin2, "lumen");
  ASSERT_EQ(lumen["projects"].size(), 2u) << lumen.dump();
  EXPECT_EQ(lumen["projects"][0]["name"], "vision");
  EXPECT_EQ(lumen["projects"][0]["quotas"][0]["max"], "16") << lumen.dump();
  EXPECT_EQ(lumen["projects"][0]["quotas"][0]["used"], "8") << lumen.dump();
  EXPECT_EQ(lumen["projects"][1]["retired"], true) << lumen.dump();
  EXPECT_EQ(lumen["projects"][1]["quotas"][0]["used"], "16") << lumen.dump();
  client::ApiClient ana2 = server.Client(ana);
  EXPECT_EQ(StateOf(ana2, v2)["project"], "vision");
  r = Cli(url, li, "submit --name l3 --devices 1 --type H100 -- train");
  EXPECT_NE(r.status, 0) << r.out;
  r = Cli(url, ana, "submit --name v3 --devices 1 --type H100 -- train");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("for project lumen/vision"), std::string::npos) << r.out;
  // The token is still for its team only.
  r = Cli(url, ana, "submit --name v4 --project llm --devices 1 --type H100 -- train");
  EXPECT_NE(r.out.find("may only submit to projects vision"), std::string::npos) << r.out;
}

// `suanpan pool export` writes the live configuration as a pool file that a server reads; `pool
// apply FILE --dry-run` shows what a file changes and does to running work and changes nothing;
// `pool apply FILE` applies the tenant and project changes live (audited, kept after kill -9) and
// names what takes a restart.
TEST(AdminTest, PoolExportAndApplyWithADryRun) {
  testing::ServerProcess server("admin_pool");
  server.Agentless();
  ASSERT_TRUE(server.Start()) << server.Log();
  const std::string url = server.url(), root = server.admin_token();
  client::ApiClient admin = server.Client(root);
  ASSERT_EQ(Cli(url, root, "tenants create lumen-ai --quota H100=16:32").status, 0);
  ASSERT_EQ(Cli(url, root, "projects create lumen-ai/vision --quota H100=8:12").status, 0);
  CliRun r = Cli(url, root, "submit --tenant t01-qingyun-ai -J big -N 4 -G 8 --type H100 -- train");
  ASSERT_EQ(r.status, 0) << r.out;
  const uint64_t big = Submitted(r);
  ASSERT_TRUE(
      WaitJob(admin, big, [](const Json& j) { return j.value("state", "") == "admitted"; }));

  const std::string live = (server.dir() / "live.toml").string(),
                    next = (server.dir() / "next.toml").string();
  r = Cli(url, root, "pool export --out " + live);
  ASSERT_EQ(r.status, 0) << r.out;
  auto text = config::ReadFile(live);
  ASSERT_TRUE(text.ok());
  // A pool file the reader takes, with the tenant and project made live.
  auto parsed = config::ParsePool(*text, "live.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << *text;
  auto lumen = parsed->pool.FindTenant("lumen-ai");
  ASSERT_TRUE(lumen.has_value()) << *text;
  ASSERT_EQ(parsed->pool.tenant(*lumen).projects.size(), 1u);
  r = Cli(url, root, "pool apply " + live + " --dry-run");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("0 tenant change(s)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("not applied live"), std::string::npos) << r.out;

  // A file that cuts t01 below what it runs, adds a team and a tenant, and drops two nodes.
  std::string changed = *text;
  auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = changed.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    changed.replace(at, from.size(), to);
  };
  replace("quota = { H100 = { guaranteed = 32, max = 64 } }",
          "quota = { H100 = { guaranteed = 16, max = 16 } }");
  replace("quota = { H100 = { guaranteed = 8, max = 12 } }\n",
          "quota = { H100 = { guaranteed = 8, max = 12 } }\n\n[[tenants.projects]]\nname = "
          "\"llm\"\nquota = { H100 = { guaranteed = 8 } }\n");
  replace("count = 8", "count = 6");
  changed += "[[tenants]]\nname = \"nova-bio\"\nquota = { RTX4090 = { guaranteed = 4 } }\n";
  {
    std::ofstream f(next);
    f << changed;
  }
  r = Cli(url, root, "pool apply " + next + " --dry-run");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("next.toml: 3 tenant change(s) (dry run: nothing changed)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("change t01-qingyun-ai: quota.H100.guaranteed 32 -> 16, quota.H100.max 64 "
                       "-> 16"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("H100 in use: 32, above the new max 16: its running jobs keep running"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("change lumen-ai: projects.llm.quota.H100.guaranteed - -> 8"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("create nova-bio"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("provider \"pudong-dc\": differs from the live pool"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("2 node(s) of the live pool are not in the file"), std::string::npos)
      << r.out;
  // The dry run changed nothing.
  EXPECT_EQ(TenantRow(admin, "t01-qingyun-ai")["quotas"][0]["max"], "64");
  EXPECT_FALSE(admin.Call("GET", "/v1/tenants/nova-bio").ok());

  // Bad files are refused whole, naming the line.
  {
    std::ofstream f(server.dir() / "bad.toml");
    f << changed << "colour = 1\n";
  }
  r = Cli(url, root, "pool apply " + (server.dir() / "bad.toml").string());
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("bad.toml:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("colour: unknown field"), std::string::npos) << r.out;
  r = Cli(url, root, "token create lumen-boss --role tenant-admin --tenant lumen-ai");
  const std::string boss = r.out.substr(r.out.find("sp_"), 51);
  r = Cli(url, boss, "pool apply " + next);
  EXPECT_NE(r.status, 0) << r.out;
  r = Cli(url, boss, "pool export");
  EXPECT_NE(r.status, 0) << r.out;

  // The policy is live too: set it, and a file's policy shows (and applies) as a change.
  r = Cli(url, root, "policy");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("queue fair_share, placement topology_pack"), std::string::npos) << r.out;
  r = Cli(url, root, "policy set --queue las --las-thresholds 600,3600 --half-life-hours 1.5");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("queue las, placement topology_pack"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("half-life 1.5 h, 2D-LAS limits [600,3600]"), std::string::npos) << r.out;
  r = Cli(url, root, "policy set --queue lottery");
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("queue: unknown policy 'lottery'"), std::string::npos) << r.out;
  r = Cli(url, boss, "policy set --queue fifo");
  EXPECT_NE(r.status, 0) << r.out;
  r = Cli(url, root, "pool apply " + next + " --dry-run");
  EXPECT_NE(r.out.find("policy: fair_share_half_life_hours 1.5 -> 168"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("queue las -> fair_share"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\"policy\" differs"), std::string::npos) << r.out;
  r = Cli(url, root, "policy set --queue las --las-thresholds 600,3600 --half-life-hours 1.5");

  r = Cli(url, root, "pool apply " + next);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("next.toml: 3 tenant change(s)\n"), std::string::npos) << r.out;
  r = Cli(url, root, "policy set --queue las");  // after the file's fair_share, before the kill
  EXPECT_EQ(TenantRow(admin, "t01-qingyun-ai")["quotas"][0]["max"], "16");
  EXPECT_EQ(StateOf(admin, big)["state"], "admitted");  // it keeps running
  server.Kill(SIGKILL);
  ASSERT_TRUE(server.Restart()) << server.Log();
  client::ApiClient admin2 = server.Client(root);
  EXPECT_EQ(TenantRow(admin2, "nova-bio")["quotas"][0]["guaranteed"], "4");
  EXPECT_EQ(TenantRow(admin2, "lumen-ai")["projects"].size(), 2u);
  r = Cli(url, root, "policy");
  EXPECT_NE(r.out.find("queue las, placement topology_pack"), std::string::npos) << r.out;
  r = Cli(url, root, "pool apply " + next + " --dry-run");
  EXPECT_NE(r.out.find("0 tenant change(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("policy: queue las -> fair_share"), std::string::npos) << r.out;
  auto audit = admin2.Call("GET", "/v1/audit");
  ASSERT_TRUE(audit.ok());
  int via_apply = 0;
  for (const Json& e : *audit) via_apply += e["detail"].value("via", "") == "pool apply";
  EXPECT_EQ(via_apply, 3) << audit->dump(1);
}

}  // namespace
}  // namespace suanpan
