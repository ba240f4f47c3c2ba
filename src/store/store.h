#pragma once
// The durable store: every state change the control plane acknowledges is committed here first.
//
// The interface is deliberately narrow (two calls) so that a PostgreSQL store can sit behind it
// later: Load() returns everything the control plane needs to rebuild its in-memory state at
// start-up, and Commit() writes one batch atomically and durably. The control plane is the only
// writer (ARCHITECTURE.md: one writer of state) and groups the writes of many requests into one
// batch ("group commit"): one transaction and one fsync for everything that arrived while the
// previous batch was being committed.
//
// Records are plain rows; the job spec travels as the JSON document the API accepted, so that
// the store never needs to change when a spec field is added.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace suanpan::store {

// One job. `spec` is the canonical JSON of the request (control/job_codec.h).
struct JobRow {
  uint64_t id = 0;
  std::string tenant;
  std::string name;
  std::string state;  // core::JobStateName
  std::string spec;
  int64_t submit_ms = 0;
  int64_t updated_ms = 0;
  int attempts = 0;                       // runs started so far
  std::string reason;                     // why it is in its state (last decision)
  std::optional<std::string> request_id;  // Idempotency-Key of the submit, unique per tenant
  std::optional<int> exit_code;
  std::string submitted_by;  // the token's name (schema 5; empty before)
};

// Something that happened to a job, in order. seq is 1, 2, ... per job.
struct EventRow {
  uint64_t job_id = 0;
  int64_t seq = 0;
  int64_t time_ms = 0;
  std::string kind;  // submitted, bound, running, preempted, finished, cancelled, ...
  std::string message;
};

// One run of a job on devices: from bind to release. Usage and invoices are sums over runs, from
// each run's start of work (started_ms) to its end.
struct RunRow {
  uint64_t job_id = 0;
  int attempt = 0;
  std::string provider;
  std::string cluster;
  std::string device_type;
  int64_t devices_milli = 0;  // all workers together
  std::string placement;      // JSON: [{"node": name, "devices": [0, 1], "share": 1000}, ...]
  int64_t start_ms = 0;
  std::optional<int64_t> end_ms;  // open while the job holds its devices
  // Micro-yuan per device-hour when the run started (frozen); unset for runs stored before prices
  // were frozen, or on a type the provider does not price.
  std::optional<int64_t> price_micro;
  // When its workers (all of them) or its engine's job started: billing runs from here to
  // end_ms. Unset until then; a run that never started is not billed.
  std::optional<int64_t> started_ms;
  // The run's job in a delegated provider's engine (the Slurm job id), once submitted.
  std::optional<std::string> engine_ref;
};

// One row of the fair-share memory (sched::UsageMemory::Row), by names.
struct UsageRow {
  std::string tenant;
  std::string device_type;
  int64_t period = 0;
  double value = 0;
};

// A node's service state, kept for nodes that were ever taken out of service.
struct NodeStateRow {
  std::string node;
  bool in_service = true;
  std::string reason;
  int64_t since_ms = 0;
};

// An API token. Only the SHA-256 of the secret is stored.
struct TokenRow {
  std::string name;
  std::string hash;  // hex SHA-256 of the secret
  // admin | tenant-admin | member | viewer | agent ("tenant", before schema 5: a member)
  std::string role;
  std::string scope;  // tenant name (tenant roles), node name (agent), empty (admin)
  int64_t created_ms = 0;
  bool revoked = false;
  std::optional<int64_t> expires_ms;       // unset: never
  std::vector<std::string> projects = {};  // member tokens: its tenant's projects (empty: any)
};

// ---- Money (schema 4, control/billing.h). Amounts are micro-yuan. ----

// A provider's price for a device type from `effective_ms` on.
struct PriceRow {
  std::string provider;
  std::string device_type;
  int64_t effective_ms = 0;
  int64_t price_micro = 0;
  int64_t set_ms = 0;
  std::string set_by;
};

// A compute voucher (算力券). What is left of it is its ledger account (voucher:ID).
struct VoucherRow {
  std::string id;
  std::string tenant;
  int64_t amount_micro = 0;
  int64_t valid_from_ms = 0;
  int64_t valid_to_ms = 0;
  std::string device_types;  // comma-separated; empty: every type
  std::string providers;     // comma-separated; empty: every provider
  int cap_permille = 1000;
  std::string programme;
  int64_t granted_ms = 0;
  std::optional<int64_t> revoked_ms;
};

struct AccountRow {
  std::string tenant;
  std::optional<int64_t> credit_limit_micro;  // unset: no limit
  std::optional<int64_t> monthly_budget_micro;
  std::optional<int64_t> hard_limit_micro;
  std::string on_exhausted = "finish";  // finish | stop
};

// One line of a ledger transaction (the lines of a transaction sum to zero). Insert-only.
struct LedgerRow {
  int64_t txn = 0;
  int line = 0;
  int64_t time_ms = 0;
  std::string kind;
  std::string ref;
  std::string account;
  int64_t amount_micro = 0;
  std::string tenant;
  std::string provider;
  std::string device_type;
  int64_t price_micro = 0;
  int64_t milli_ms = 0;
  uint64_t job_id = 0;
  int attempt = 0;
  std::string month;
  std::string memo;
};

// An issued invoice or credit note. Insert-only: issued documents never change.
struct InvoiceRow {
  std::string number;
  std::string kind;  // invoice | credit_note
  std::string tenant;
  std::string month;
  int64_t issued_ms = 0;
  std::string corrects;
  std::string body;  // JSON, as issued
};

// An admin action. Insert-only.
struct AuditRow {
  int64_t seq = 0;
  int64_t time_ms = 0;
  std::string actor;
  std::string action;
  std::string detail;
};

// An object an admin made or changed through the API (issue 15): a tenant, ... Its whole current
// state as JSON; it overrides the pool file's object of the same kind and name. Upserts by
// (kind, name); `seq` orders objects as first made.
struct ConfigRow {
  std::string kind;
  std::string name;
  int64_t seq = 0;
  std::string body;
  int64_t updated_ms = 0;
};

// One atomic write. Rows are upserts keyed by their primary key (job id; job id + seq; job id
// + attempt; token name).
struct WriteBatch {
  std::vector<JobRow> jobs;
  std::vector<EventRow> events;
  std::vector<RunRow> runs;
  std::vector<TokenRow> tokens;
  std::vector<UsageRow> usage;       // upserts by (tenant, device_type)
  std::vector<NodeStateRow> nodes;   // upserts by node
  std::vector<PriceRow> prices;      // upserts by (provider, device_type, effective_ms)
  std::vector<VoucherRow> vouchers;  // upserts by id (revoked_ms)
  std::vector<AccountRow> accounts;  // upserts by tenant
  std::vector<LedgerRow> ledger;     // inserts
  std::vector<InvoiceRow> invoices;  // inserts
  std::vector<AuditRow> audit;       // inserts
  std::vector<ConfigRow> config;     // upserts by (kind, name)
  bool empty() const { return size() == 0; }
  size_t size() const {
    return jobs.size() + events.size() + runs.size() + tokens.size() + usage.size() + nodes.size() +
           prices.size() + vouchers.size() + accounts.size() + ledger.size() + invoices.size() +
           audit.size() + config.size();
  }
};

struct Snapshot {
  std::vector<JobRow> jobs;          // by id
  std::vector<EventRow> events;      // by job id, seq
  std::vector<RunRow> runs;          // by job id, attempt
  std::vector<TokenRow> tokens;      // by name
  std::vector<UsageRow> usage;       // by tenant, device type
  std::vector<NodeStateRow> nodes;   // by node name
  std::vector<PriceRow> prices;      // by provider, device type, effective_ms
  std::vector<VoucherRow> vouchers;  // by id
  std::vector<AccountRow> accounts;  // by tenant
  std::vector<LedgerRow> ledger;     // by txn, line
  std::vector<InvoiceRow> invoices;  // by issued_ms, number
  std::vector<AuditRow> audit;       // by seq
  std::vector<ConfigRow> config;     // by seq
};

class Store {
 public:
  virtual ~Store() = default;
  // Everything, ordered as documented on Snapshot. O(rows).
  virtual StatusOr<Snapshot> Load() = 0;
  // Writes the batch in one transaction; returns only once it is durable (fsync'd). On error
  // nothing of the batch is written. Unavailable when the disk refuses (full, read-only).
  virtual Status Commit(const WriteBatch& batch) = 0;
  // The schema version the store is at (the number of the last migration applied).
  virtual int SchemaVersion() const = 0;
};

// Opens (creating if needed) a SQLite database in WAL mode with synchronous=FULL, applies the
// migrations the file does not have yet, each in its own transaction, and refuses a file whose
// schema is newer than this binary knows (FailedPrecondition naming both versions).
StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

// The migrations compiled into this binary, in order: {number, name, sql}.
struct Migration {
  int version;
  const char* name;
  const char* sql;
};
const std::vector<Migration>& Migrations();

}  // namespace suanpan::store
