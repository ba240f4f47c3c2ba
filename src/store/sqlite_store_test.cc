// The SQLite store: migrations, round trips, atomic batches, reopen (what a restart sees).

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "store/store.h"

namespace suanpan::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("suanpan_store_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "s.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static JobRow Job(uint64_t id, std::string tenant, std::optional<std::string> request_id = {}) {
    JobRow r;
    r.id = id;
    r.tenant = std::move(tenant);
    r.name = "job" + std::to_string(id);
    r.state = "pending";
    r.spec = R"({"name":"x"})";
    r.submit_ms = 1000 + static_cast<int64_t>(id);
    r.updated_ms = r.submit_ms;
    r.request_id = std::move(request_id);
    return r;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, AppliesEveryMigrationOnAnEmptyFile) {
  auto store = OpenSqliteStore(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_FALSE(Migrations().empty());
  EXPECT_EQ((*store)->SchemaVersion(), Migrations().back().version);
  auto snap = (*store)->Load();
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE(snap->jobs.empty());
}

TEST_F(SqliteStoreTest, MigrationsAreNumberedOneByOne) {
  int expected = 1;
  for (const Migration& m : Migrations()) EXPECT_EQ(m.version, expected++) << m.name;
}

TEST_F(SqliteStoreTest, CommittedRowsSurviveReopen) {
  {
    auto store = OpenSqliteStore(path_);
    ASSERT_TRUE(store.ok());
    WriteBatch b;
    JobRow first = Job(1, "t1", "key-1");
    first.submitted_by = "yunfan-li";  // written once, at submit
    b.jobs.push_back(first);
    b.jobs.push_back(Job(2, "t2"));
    b.events.push_back({1, 1, 1001, "submitted", "by token 'a'"});
    b.runs.push_back({1,
                      1,
                      "p",
                      "c",
                      "H100",
                      8000,
                      R"([{"node":"n1","devices":[0]}])",
                      2000,
                      {},
                      15800000,
                      {},
                      {}});
    b.tokens.push_back({"admin", "abc123", "admin", "", 5, false, int64_t{86'400'000}});
    // Live administration: an object, then its change (an upsert by kind and name).
    b.config.push_back({"tenant", "acme", 1, R"({"weight":1})", 10});
    ASSERT_TRUE((*store)->Commit(b).ok());
    // An update: the job finishes, its run closes, the token is revoked.
    WriteBatch u;
    JobRow done = Job(1, "t1", "key-1");
    done.state = "succeeded";
    done.exit_code = 0;
    u.jobs.push_back(done);
    u.runs.push_back(
        {1, 1, "p", "c", "H100", 8000, "[]", 2000, 9000, 15800000, 2500, std::string("4711")});
    u.tokens.push_back({"admin", "abc123", "admin", "", 5, true, int64_t{86'400'000}});
    u.config.push_back({"tenant", "acme", 1, R"({"weight":2})", 20});
    u.config.push_back({"tenant", "beta", 2, R"({"weight":3})", 20});
    ASSERT_TRUE((*store)->Commit(u).ok());
  }
  auto store = OpenSqliteStore(path_);
  ASSERT_TRUE(store.ok());
  auto snap = (*store)->Load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->jobs.size(), 2u);
  EXPECT_EQ(snap->jobs[0].state, "succeeded");
  EXPECT_EQ(snap->jobs[0].exit_code, 0);
  EXPECT_EQ(snap->jobs[0].request_id, "key-1");
  EXPECT_EQ(snap->jobs[1].request_id, std::nullopt);
  EXPECT_EQ(snap->jobs[0].submitted_by, "yunfan-li");
  EXPECT_EQ(snap->jobs[1].submitted_by, "");
  ASSERT_EQ(snap->events.size(), 1u);
  EXPECT_EQ(snap->events[0].message, "by token 'a'");
  ASSERT_EQ(snap->runs.size(), 1u);
  EXPECT_EQ(snap->runs[0].end_ms, 9000);
  // The placement of a run is written once, at bind; an update only closes the run.
  EXPECT_EQ(snap->runs[0].placement, R"([{"node":"n1","devices":[0]}])");
  EXPECT_EQ(snap->runs[0].price_micro, 15'800'000);
  // ... and records when its work started and its engine job.
  EXPECT_EQ(snap->runs[0].started_ms, 2500);
  EXPECT_EQ(snap->runs[0].engine_ref, "4711");
  ASSERT_EQ(snap->tokens.size(), 1u);
  EXPECT_TRUE(snap->tokens[0].revoked);
  EXPECT_EQ(snap->tokens[0].expires_ms, 86'400'000);
  ASSERT_EQ(snap->config.size(), 2u);
  EXPECT_EQ(snap->config[0].name, "acme");
  EXPECT_EQ(snap->config[0].body, R"({"weight":2})");
  EXPECT_EQ(snap->config[0].updated_ms, 20);
  EXPECT_EQ(snap->config[1].name, "beta");
}

TEST_F(SqliteStoreTest, FairShareMemoryRoundTripsBitForBit) {
  const double value = 5091.168824543142;  // 3,600 x 2^0.5, not a short decimal
  {
    auto store = OpenSqliteStore(path_);
    ASSERT_TRUE(store.ok());
    WriteBatch b;
    b.usage.push_back({"t1", "H100", 3, value});
    b.usage.push_back({"t1", "A100", 2, 1.0});
    ASSERT_TRUE((*store)->Commit(b).ok());
    WriteBatch u;  // an upsert replaces the row of (tenant, type)
    u.usage.push_back({"t1", "A100", 4, 0.25});
    ASSERT_TRUE((*store)->Commit(u).ok());
  }
  auto store = OpenSqliteStore(path_);
  ASSERT_TRUE(store.ok());
  auto snap = (*store)->Load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->usage.size(), 2u);
  EXPECT_EQ(snap->usage[0].device_type, "A100");
  EXPECT_EQ(snap->usage[0].period, 4);
  EXPECT_EQ(snap->usage[0].value, 0.25);
  EXPECT_EQ(snap->usage[1].value, value);  // exactly
}

TEST_F(SqliteStoreTest, ABatchIsAllOrNothing) {
  auto store = OpenSqliteStore(path_);
  ASSERT_TRUE(store.ok());
  WriteBatch first;
  first.jobs.push_back(Job(1, "t1", "same-key"));
  ASSERT_TRUE((*store)->Commit(first).ok());
  // Job 3 is fine, job 2 reuses tenant t1's idempotency key: the whole batch is refused.
  WriteBatch second;
  second.jobs.push_back(Job(3, "t1"));
  second.jobs.push_back(Job(2, "t1", "same-key"));
  Status s = (*store)->Commit(second);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  auto snap = (*store)->Load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->jobs.size(), 1u);
  EXPECT_EQ(snap->jobs[0].id, 1u);
}

TEST_F(SqliteStoreTest, TheSameKeyUnderAnotherTenantIsAnotherJob) {
  auto store = OpenSqliteStore(path_);
  ASSERT_TRUE(store.ok());
  WriteBatch b;
  b.jobs.push_back(Job(1, "t1", "k"));
  b.jobs.push_back(Job(2, "t2", "k"));
  EXPECT_TRUE((*store)->Commit(b).ok());
}

TEST_F(SqliteStoreTest, RefusesASchemaNewerThanTheBinary) {
  { ASSERT_TRUE(OpenSqliteStore(path_).ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO schema_migrations (version, name, applied_ms) "
                         "VALUES (999, 'from_the_future', 0)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = OpenSqliteStore(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("version 999"), std::string::npos)
      << store.status().message();
}

TEST_F(SqliteStoreTest, UsesWalJournal) {
  { ASSERT_TRUE(OpenSqliteStore(path_).ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, AnUnwritablePathIsAnErrorNotACrash) {
  auto store = OpenSqliteStore((dir_ / "no" / "such" / "dir" / "s.db").string());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace suanpan::store
