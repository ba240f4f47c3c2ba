// SQLite store (SQLiteCpp). WAL journal, synchronous=FULL: a commit returns after the WAL is
// fsync'd, so an acknowledged write survives kill -9 and power loss. The control plane batches
// writes (group commit), so the fsync is paid once per batch, not once per request.
//
// Migrations: `schema_migrations(version, name, applied_ms)` records what was applied. At open,
// each migration of this binary above the file's version runs in its own transaction; a file
// whose version is above the binary's is refused (an older binary must not write a newer schema).

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>

#include "store/store.h"

namespace suanpan::store {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename T>
void BindOptional(SQLite::Statement& st, int index, const std::optional<T>& v) {
  if (v) {
    st.bind(index, *v);
  } else {
    st.bind(index);  // NULL
  }
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path)
      : db_(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX) {}

  Status Init() {
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec("PRAGMA synchronous=FULL");
    db_.exec("PRAGMA busy_timeout=5000");
    db_.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, applied_ms BIGINT NOT NULL)");
    int current = 0;
    {
      SQLite::Statement q(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      if (q.executeStep()) current = q.getColumn(0).getInt();
    }
    const std::vector<Migration>& all = Migrations();
    const int known = all.empty() ? 0 : all.back().version;
    if (current > known) {
      return FailedPreconditionError(
          fmt::format("store schema is version {} but this suanpan knows only up to {}: "
                      "upgrade suanpan",
                      current, known));
    }
    for (const Migration& m : all) {
      if (m.version <= current) continue;
      SQLite::Transaction tx(db_);
      db_.exec(m.sql);
      SQLite::Statement ins(db_,
                            "INSERT INTO schema_migrations (version, name, applied_ms) "
                            "VALUES (?, ?, ?)");
      ins.bind(1, m.version);
      ins.bind(2, m.name);
      ins.bind(3, static_cast<int64_t>(NowMs()));
      ins.exec();
      tx.commit();
      current = m.version;
    }
    version_ = current;
    Prepare();
    return OkStatus();
  }

  int SchemaVersion() const override { return version_; }

  StatusOr<Snapshot> Load() override {
    try {
      Snapshot s;
      SQLite::Statement jobs(
          db_,
          "SELECT id, tenant, name, state, spec, submit_ms, updated_ms, "
          "attempts, reason, request_id, exit_code, submitted_by FROM jobs ORDER BY id");
      while (jobs.executeStep()) {
        JobRow r;
        r.id = static_cast<uint64_t>(jobs.getColumn(0).getInt64());
        r.tenant = jobs.getColumn(1).getString();
        r.name = jobs.getColumn(2).getString();
        r.state = jobs.getColumn(3).getString();
        r.spec = jobs.getColumn(4).getString();
        r.submit_ms = jobs.getColumn(5).getInt64();
        r.updated_ms = jobs.getColumn(6).getInt64();
        r.attempts = jobs.getColumn(7).getInt();
        r.reason = jobs.getColumn(8).getString();
        if (!jobs.getColumn(9).isNull()) r.request_id = jobs.getColumn(9).getString();
        if (!jobs.getColumn(10).isNull()) r.exit_code = jobs.getColumn(10).getInt();
        r.submitted_by = jobs.getColumn(11).getString();
        s.jobs.push_back(std::move(r));
      }
      SQLite::Statement events(
          db_, "SELECT job_id, seq, time_ms, kind, message FROM job_events ORDER BY job_id, seq");
      while (events.executeStep()) {
        EventRow e;
        e.job_id = static_cast<uint64_t>(events.getColumn(0).getInt64());
        e.seq = events.getColumn(1).getInt64();
        e.time_ms = events.getColumn(2).getInt64();
        e.kind = events.getColumn(3).getString();
        e.message = events.getColumn(4).getString();
        s.events.push_back(std::move(e));
      }
      SQLite::Statement runs(db_,
                             "SELECT job_id, attempt, provider, cluster, device_type, "
                             "devices_milli, placement, start_ms, end_ms, price_micro, "
                             "started_ms, engine_ref FROM job_runs ORDER BY job_id, attempt");
      while (runs.executeStep()) {
        RunRow r;
        r.job_id = static_cast<uint64_t>(runs.getColumn(0).getInt64());
        r.attempt = runs.getColumn(1).getInt();
        r.provider = runs.getColumn(2).getString();
        r.cluster = runs.getColumn(3).getString();
        r.device_type = runs.getColumn(4).getString();
        r.devices_milli = runs.getColumn(5).getInt64();
        r.placement = runs.getColumn(6).getString();
        r.start_ms = runs.getColumn(7).getInt64();
        if (!runs.getColumn(8).isNull()) r.end_ms = runs.getColumn(8).getInt64();
        if (!runs.getColumn(9).isNull()) r.price_micro = runs.getColumn(9).getInt64();
        if (!runs.getColumn(10).isNull()) r.started_ms = runs.getColumn(10).getInt64();
        if (!runs.getColumn(11).isNull()) r.engine_ref = runs.getColumn(11).getString();
        s.runs.push_back(std::move(r));
      }
      SQLite::Statement usage(db_,
                              "SELECT tenant, device_type, period, value FROM usage_memory "
                              "ORDER BY tenant, device_type");
      while (usage.executeStep()) {
        UsageRow u;
        u.tenant = usage.getColumn(0).getString();
        u.device_type = usage.getColumn(1).getString();
        u.period = usage.getColumn(2).getInt64();
        u.value = usage.getColumn(3).getDouble();
        s.usage.push_back(std::move(u));
      }
      SQLite::Statement nodes(
          db_, "SELECT node, in_service, reason, since_ms FROM node_states ORDER BY node");
      while (nodes.executeStep()) {
        NodeStateRow n;
        n.node = nodes.getColumn(0).getString();
        n.in_service = nodes.getColumn(1).getInt() != 0;
        n.reason = nodes.getColumn(2).getString();
        n.since_ms = nodes.getColumn(3).getInt64();
        s.nodes.push_back(std::move(n));
      }
      SQLite::Statement tokens(
          db_,
          "SELECT name, hash, role, scope, created_ms, revoked, expires_ms, projects FROM "
          "tokens ORDER BY name");
      while (tokens.executeStep()) {
        TokenRow t;
        t.name = tokens.getColumn(0).getString();
        t.hash = tokens.getColumn(1).getString();
        t.role = tokens.getColumn(2).getString();
        t.scope = tokens.getColumn(3).getString();
        t.created_ms = tokens.getColumn(4).getInt64();
        t.revoked = tokens.getColumn(5).getInt() != 0;
        if (!tokens.getColumn(6).isNull()) t.expires_ms = tokens.getColumn(6).getInt64();
        const std::string projects = tokens.getColumn(7).getString();
        for (size_t at = 0; at < projects.size();) {
          size_t comma = projects.find(',', at);
          if (comma == std::string::npos) comma = projects.size();
          if (comma > at) t.projects.push_back(projects.substr(at, comma - at));
          at = comma + 1;
        }
        s.tokens.push_back(std::move(t));
      }
      SQLite::Statement prices(db_,
                               "SELECT provider, device_type, effective_ms, price_micro, set_ms, "
                               "set_by FROM prices ORDER BY provider, device_type, effective_ms");
      while (prices.executeStep()) {
        PriceRow r;
        r.provider = prices.getColumn(0).getString();
        r.device_type = prices.getColumn(1).getString();
        r.effective_ms = prices.getColumn(2).getInt64();
        r.price_micro = prices.getColumn(3).getInt64();
        r.set_ms = prices.getColumn(4).getInt64();
        r.set_by = prices.getColumn(5).getString();
        s.prices.push_back(std::move(r));
      }
      SQLite::Statement vouchers(db_,
                                 "SELECT id, tenant, amount_micro, valid_from_ms, valid_to_ms, "
                                 "device_types, providers, cap_permille, programme, granted_ms, "
                                 "revoked_ms FROM vouchers ORDER BY id");
      while (vouchers.executeStep()) {
        VoucherRow r;
        r.id = vouchers.getColumn(0).getString();
        r.tenant = vouchers.getColumn(1).getString();
        r.amount_micro = vouchers.getColumn(2).getInt64();
        r.valid_from_ms = vouchers.getColumn(3).getInt64();
        r.valid_to_ms = vouchers.getColumn(4).getInt64();
        r.device_types = vouchers.getColumn(5).getString();
        r.providers = vouchers.getColumn(6).getString();
        r.cap_permille = vouchers.getColumn(7).getInt();
        r.programme = vouchers.getColumn(8).getString();
        r.granted_ms = vouchers.getColumn(9).getInt64();
        if (!vouchers.getColumn(10).isNull()) r.revoked_ms = vouchers.getColumn(10).getInt64();
        s.vouchers.push_back(std::move(r));
      }
      SQLite::Statement accounts(db_,
                                 "SELECT tenant, credit_limit_micro, monthly_budget_micro, "
                                 "hard_limit_micro, on_exhausted FROM accounts ORDER BY tenant");
      while (accounts.executeStep()) {
        AccountRow r;
        r.tenant = accounts.getColumn(0).getString();
        if (!accounts.getColumn(1).isNull())
          r.credit_limit_micro = accounts.getColumn(1).getInt64();
        if (!accounts.getColumn(2).isNull()) {
          r.monthly_budget_micro = accounts.getColumn(2).getInt64();
        }
        if (!accounts.getColumn(3).isNull()) r.hard_limit_micro = accounts.getColumn(3).getInt64();
        r.on_exhausted = accounts.getColumn(4).getString();
        s.accounts.push_back(std::move(r));
      }
      SQLite::Statement ledger(db_,
                               "SELECT txn, line, time_ms, kind, ref, account, amount_micro, "
                               "tenant, provider, device_type, price_micro, milli_ms, job_id, "
                               "attempt, month, memo FROM ledger ORDER BY txn, line");
      while (ledger.executeStep()) {
        LedgerRow r;
        r.txn = ledger.getColumn(0).getInt64();
        r.line = ledger.getColumn(1).getInt();
        r.time_ms = ledger.getColumn(2).getInt64();
        r.kind = ledger.getColumn(3).getString();
        r.ref = ledger.getColumn(4).getString();
        r.account = ledger.getColumn(5).getString();
        r.amount_micro = ledger.getColumn(6).getInt64();
        r.tenant = ledger.getColumn(7).getString();
        r.provider = ledger.getColumn(8).getString();
        r.device_type = ledger.getColumn(9).getString();
        r.price_micro = ledger.getColumn(10).getInt64();
        r.milli_ms = ledger.getColumn(11).getInt64();
        r.job_id = static_cast<uint64_t>(ledger.getColumn(12).getInt64());
        r.attempt = ledger.getColumn(13).getInt();
        r.month = ledger.getColumn(14).getString();
        r.memo = ledger.getColumn(15).getString();
        s.ledger.push_back(std::move(r));
      }
      SQLite::Statement invoices(db_,
                                 "SELECT number, kind, tenant, month, issued_ms, corrects, body "
                                 "FROM invoices ORDER BY issued_ms, number");
      while (invoices.executeStep()) {
        InvoiceRow r;
        r.number = invoices.getColumn(0).getString();
        r.kind = invoices.getColumn(1).getString();
        r.tenant = invoices.getColumn(2).getString();
        r.month = invoices.getColumn(3).getString();
        r.issued_ms = invoices.getColumn(4).getInt64();
        r.corrects = invoices.getColumn(5).getString();
        r.body = invoices.getColumn(6).getString();
        s.invoices.push_back(std::move(r));
      }
      SQLite::Statement config(
          db_, "SELECT kind, name, seq, body, updated_ms FROM live_config ORDER BY seq");
      while (config.executeStep()) {
        ConfigRow r;
        r.kind = config.getColumn(0).getString();
        r.name = config.getColumn(1).getString();
        r.seq = config.getColumn(2).getInt64();
        r.body = config.getColumn(3).getString();
        r.updated_ms = config.getColumn(4).getInt64();
        s.config.push_back(std::move(r));
      }
      SQLite::Statement audit(db_,
                              "SELECT seq, time_ms, actor, action, detail FROM audit ORDER BY seq");
      while (audit.executeStep()) {
        AuditRow r;
        r.seq = audit.getColumn(0).getInt64();
        r.time_ms = audit.getColumn(1).getInt64();
        r.actor = audit.getColumn(2).getString();
        r.action = audit.getColumn(3).getString();
        r.detail = audit.getColumn(4).getString();
        s.audit.push_back(std::move(r));
      }
      return s;
    } catch (const std::exception& e) {
      return UnavailableError(fmt::format("store: load: {}", e.what()));
    }
  }

  Status Commit(const WriteBatch& batch) override {
    if (batch.empty()) return OkStatus();
    try {
      SQLite::Transaction tx(db_);
      for (const JobRow& r : batch.jobs) {
        SQLite::Statement& st = *upsert_job_;
        st.reset();
        st.bind(1, static_cast<int64_t>(r.id));
        st.bind(2, r.tenant);
        st.bind(3, r.name);
        st.bind(4, r.state);
        st.bind(5, r.spec);
        st.bind(6, r.submit_ms);
        st.bind(7, r.updated_ms);
        st.bind(8, r.attempts);
        st.bind(9, r.reason);
        BindOptional(st, 10, r.request_id);
        BindOptional(st, 11, r.exit_code);
        st.bind(12, r.submitted_by);
        st.exec();
      }
      for (const EventRow& e : batch.events) {
        SQLite::Statement& st = *insert_event_;
        st.reset();
        st.bind(1, static_cast<int64_t>(e.job_id));
        st.bind(2, e.seq);
        st.bind(3, e.time_ms);
        st.bind(4, e.kind);
        st.bind(5, e.message);
        st.exec();
      }
      for (const RunRow& r : batch.runs) {
        SQLite::Statement& st = *upsert_run_;
        st.reset();
        st.bind(1, static_cast<int64_t>(r.job_id));
        st.bind(2, r.attempt);
        st.bind(3, r.provider);
        st.bind(4, r.cluster);
        st.bind(5, r.device_type);
        st.bind(6, r.devices_milli);
        st.bind(7, r.placement);
        st.bind(8, r.start_ms);
        BindOptional(st, 9, r.end_ms);
        BindOptional(st, 10, r.price_micro);
        BindOptional(st, 11, r.started_ms);
        BindOptional(st, 12, r.engine_ref);
        st.exec();
      }
      for (const UsageRow& u : batch.usage) {
        SQLite::Statement& st = *upsert_usage_;
        st.reset();
        st.bind(1, u.tenant);
        st.bind(2, u.device_type);
        st.bind(3, u.period);
        st.bind(4, u.value);
        st.exec();
      }
      for (const NodeStateRow& n : batch.nodes) {
        SQLite::Statement& st = *upsert_node_;
        st.reset();
        st.bind(1, n.node);
        st.bind(2, n.in_service ? 1 : 0);
        st.bind(3, n.reason);
        st.bind(4, n.since_ms);
        st.exec();
      }
      for (const TokenRow& t : batch.tokens) {
        SQLite::Statement& st = *upsert_token_;
        st.reset();
        st.bind(1, t.name);
        st.bind(2, t.hash);
        st.bind(3, t.role);
        st.bind(4, t.scope);
        st.bind(5, t.created_ms);
        st.bind(6, t.revoked ? 1 : 0);
        BindOptional(st, 7, t.expires_ms);
        std::string projects;
        for (const std::string& p : t.projects) projects += (projects.empty() ? "" : ",") + p;
        st.bind(8, projects);
        st.exec();
      }
      for (const PriceRow& r : batch.prices) {
        SQLite::Statement& st = *upsert_price_;
        st.reset();
        st.bind(1, r.provider);
        st.bind(2, r.device_type);
        st.bind(3, r.effective_ms);
        st.bind(4, r.price_micro);
        st.bind(5, r.set_ms);
        st.bind(6, r.set_by);
        st.exec();
      }
      for (const VoucherRow& r : batch.vouchers) {
        SQLite::Statement& st = *upsert_voucher_;
        st.reset();
        st.bind(1, r.id);
        st.bind(2, r.tenant);
        st.bind(3, r.amount_micro);
        st.bind(4, r.valid_from_ms);
        st.bind(5, r.valid_to_ms);
        st.bind(6, r.device_types);
        st.bind(7, r.providers);
        st.bind(8, r.cap_permille);
        st.bind(9, r.programme);
        st.bind(10, r.granted_ms);
        BindOptional(st, 11, r.revoked_ms);
        st.exec();
      }
      for (const ConfigRow& r : batch.config) {
        SQLite::Statement& st = *upsert_config_;
        st.reset();
        st.bind(1, r.kind);
        st.bind(2, r.name);
        st.bind(3, r.seq);
        st.bind(4, r.body);
        st.bind(5, r.updated_ms);
        st.exec();
      }
      for (const AccountRow& r : batch.accounts) {
        SQLite::Statement& st = *upsert_account_;
        st.reset();
        st.bind(1, r.tenant);
        BindOptional(st, 2, r.credit_limit_micro);
        BindOptional(st, 3, r.monthly_budget_micro);
        BindOptional(st, 4, r.hard_limit_micro);
        st.bind(5, r.on_exhausted);
        st.exec();
      }
      for (const LedgerRow& r : batch.ledger) {
        SQLite::Statement& st = *insert_ledger_;
        st.reset();
        st.bind(1, r.txn);
        st.bind(2, r.line);
        st.bind(3, r.time_ms);
        st.bind(4, r.kind);
        st.bind(5, r.ref);
        st.bind(6, r.account);
        st.bind(7, r.amount_micro);
        st.bind(8, r.tenant);
        st.bind(9, r.provider);
        st.bind(10, r.device_type);
        st.bind(11, r.price_micro);
        st.bind(12, r.milli_ms);
        st.bind(13, static_cast<int64_t>(r.job_id));
        st.bind(14, r.attempt);
        st.bind(15, r.month);
        st.bind(16, r.memo);
        st.exec();
      }
      for (const InvoiceRow& r : batch.invoices) {
        SQLite::Statement& st = *insert_invoice_;
        st.reset();
        st.bind(1, r.number);
        st.bind(2, r.kind);
        st.bind(3, r.tenant);
        st.bind(4, r.month);
        st.bind(5, r.issued_ms);
        st.bind(6, r.corrects);
        st.bind(7, r.body);
        st.exec();
      }
      for (const AuditRow& r : batch.audit) {
        SQLite::Statement& st = *insert_audit_;
        st.reset();
        st.bind(1, r.seq);
        st.bind(2, r.time_ms);
        st.bind(3, r.actor);
        st.bind(4, r.action);
        st.bind(5, r.detail);
        st.exec();
      }
      tx.commit();
      return OkStatus();
    } catch (const SQLite::Exception& e) {
      if (e.getErrorCode() == SQLITE_CONSTRAINT) {
        return AlreadyExistsError(fmt::format("store: {}", e.what()));
      }
      return UnavailableError(fmt::format("store: commit: {}", e.what()));
    } catch (const std::exception& e) {
      return UnavailableError(fmt::format("store: commit: {}", e.what()));
    }
  }

 private:
  void Prepare() {
    upsert_job_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO jobs (id, tenant, name, state, spec, submit_ms, updated_ms, attempts, "
        "reason, request_id, exit_code, submitted_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms, "
        "attempts = excluded.attempts, reason = excluded.reason, exit_code = excluded.exit_code");
    insert_event_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO job_events (job_id, seq, time_ms, kind, message) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (job_id, seq) DO NOTHING");
    upsert_run_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO job_runs (job_id, attempt, provider, cluster, device_type, devices_milli, "
        "placement, start_ms, end_ms, price_micro, started_ms, engine_ref) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (job_id, attempt) DO UPDATE SET end_ms = excluded.end_ms, "
        "started_ms = excluded.started_ms, engine_ref = excluded.engine_ref");
    upsert_usage_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO usage_memory (tenant, device_type, period, value) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (tenant, device_type) DO UPDATE SET period = excluded.period, "
        "value = excluded.value");
    upsert_node_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO node_states (node, in_service, reason, since_ms) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (node) DO UPDATE SET in_service = excluded.in_service, "
        "reason = excluded.reason, since_ms = excluded.since_ms");
    upsert_token_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO tokens (name, hash, role, scope, created_ms, revoked, expires_ms, projects) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET revoked = "
        "excluded.revoked");
    upsert_price_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO prices (provider, device_type, effective_ms, price_micro, set_ms, set_by) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider, device_type, effective_ms) DO UPDATE "
        "SET price_micro = excluded.price_micro, set_ms = excluded.set_ms, "
        "set_by = excluded.set_by");
    upsert_voucher_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO vouchers (id, tenant, amount_micro, valid_from_ms, valid_to_ms, "
        "device_types, providers, cap_permille, programme, granted_ms, revoked_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET revoked_ms = excluded.revoked_ms");
    upsert_account_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO accounts (tenant, credit_limit_micro, monthly_budget_micro, "
        "hard_limit_micro, on_exhausted) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE "
        "SET credit_limit_micro = excluded.credit_limit_micro, "
        "monthly_budget_micro = excluded.monthly_budget_micro, "
        "hard_limit_micro = excluded.hard_limit_micro, on_exhausted = excluded.on_exhausted");
    insert_ledger_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO ledger (txn, line, time_ms, kind, ref, account, amount_micro, tenant, "
        "provider, device_type, price_micro, milli_ms, job_id, attempt, month, memo) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert_invoice_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO invoices (number, kind, tenant, month, issued_ms, corrects, body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    upsert_config_ = std::make_unique<SQLite::Statement>(
        db_,
        "INSERT INTO live_config (kind, name, seq, body, updated_ms) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (kind, name) DO UPDATE SET body = excluded.body, "
        "updated_ms = excluded.updated_ms");
    insert_audit_ = std::make_unique<SQLite::Statement>(
        db_, "INSERT INTO audit (seq, time_ms, actor, action, detail) VALUES (?, ?, ?, ?, ?)");
  }

  SQLite::Database db_;
  int version_ = 0;
  std::unique_ptr<SQLite::Statement> upsert_job_;
  std::unique_ptr<SQLite::Statement> insert_event_;
  std::unique_ptr<SQLite::Statement> upsert_run_;
  std::unique_ptr<SQLite::Statement> upsert_token_;
  std::unique_ptr<SQLite::Statement> upsert_usage_;
  std::unique_ptr<SQLite::Statement> upsert_node_;
  std::unique_ptr<SQLite::Statement> upsert_price_;
  std::unique_ptr<SQLite::Statement> upsert_voucher_;
  std::unique_ptr<SQLite::Statement> upsert_account_;
  std::unique_ptr<SQLite::Statement> insert_ledger_;
  std::unique_ptr<SQLite::Statement> insert_invoice_;
  std::unique_ptr<SQLite::Statement> insert_audit_;
  std::unique_ptr<SQLite::Statement> upsert_config_;
};

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
#include "migrations.inc"
  };
  return kMigrations;
}

StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  try {
    auto store = std::make_unique<SqliteStore>(path);
    Status s = store->Init();
    if (!s.ok()) return s.WithPrefix(path);
    return std::unique_ptr<Store>(std::move(store));
  } catch (const std::exception& e) {
    return UnavailableError(fmt::format("{}: cannot open store: {}", path, e.what()));
  }
}

}  // namespace suanpan::store
