-- suanpan schema 4: money (control/billing.h). Amounts are micro-yuan, whole fen.
-- Provider price lists with effective dates: the price of a run is the entry in force when it
-- started (frozen in job_runs.price_micro); without an entry, the pool file's price.
CREATE TABLE prices (
  provider      TEXT NOT NULL,
  device_type   TEXT NOT NULL,
  effective_ms  BIGINT NOT NULL,
  price_micro   BIGINT NOT NULL,
  set_ms        BIGINT NOT NULL,
  set_by        TEXT NOT NULL,
  PRIMARY KEY (provider, device_type, effective_ms)
);

-- Compute vouchers (算力券): what is left of one is derived from the ledger (account voucher:ID).
CREATE TABLE vouchers (
  id             TEXT PRIMARY KEY,
  tenant         TEXT NOT NULL,
  amount_micro   BIGINT NOT NULL,
  valid_from_ms  BIGINT NOT NULL,
  valid_to_ms    BIGINT NOT NULL,
  device_types   TEXT NOT NULL,  -- comma-separated; empty: every type
  providers      TEXT NOT NULL,  -- comma-separated; empty: every provider
  cap_permille   INTEGER NOT NULL,
  programme      TEXT NOT NULL,
  granted_ms     BIGINT NOT NULL,
  revoked_ms     BIGINT
);

-- A tenant's terms: credit limit (NULL: no limit), monthly budget (the tenant's), hard limit (the
-- admin's), and what happens to running jobs when the money runs out.
CREATE TABLE accounts (
  tenant                TEXT PRIMARY KEY,
  credit_limit_micro    BIGINT,
  monthly_budget_micro  BIGINT,
  hard_limit_micro      BIGINT,
  on_exhausted          TEXT NOT NULL
);

-- The ledger: append-only, double entry. A transaction (txn) is several lines whose amounts sum
-- to zero; an account's balance is the sum of its lines. `ref` makes a transaction idempotent
-- (charge:JOB:ATTEMPT:MONTH is booked once however often rating runs).
CREATE TABLE ledger (
  txn          BIGINT NOT NULL,
  line         INTEGER NOT NULL,
  time_ms      BIGINT NOT NULL,
  kind         TEXT NOT NULL,   -- grant, topup, charge, expiry, revoke, refund, adjustment
  ref          TEXT NOT NULL,
  account      TEXT NOT NULL,   -- tenant:T:balance, tenant:T:credit, voucher:ID, provider:P, ...
  amount_micro BIGINT NOT NULL,
  tenant       TEXT NOT NULL,
  provider     TEXT NOT NULL,
  device_type  TEXT NOT NULL,
  price_micro  BIGINT NOT NULL,  -- charge: the run's frozen price per device-hour
  milli_ms     BIGINT NOT NULL,  -- charge: milli-device-milliseconds rated
  job_id       BIGINT NOT NULL,
  attempt      INTEGER NOT NULL,
  month        TEXT NOT NULL,    -- YYYY-MM the transaction belongs to
  memo         TEXT NOT NULL,
  PRIMARY KEY (txn, line)
);
CREATE INDEX ledger_ref ON ledger (ref);

-- Issued invoices and credit notes: immutable; `body` is the document as issued (JSON).
CREATE TABLE invoices (
  number     TEXT PRIMARY KEY,
  kind       TEXT NOT NULL,   -- invoice | credit_note
  tenant     TEXT NOT NULL,
  month      TEXT NOT NULL,
  issued_ms  BIGINT NOT NULL,
  corrects   TEXT NOT NULL,   -- credit_note: the invoice it corrects
  body       TEXT NOT NULL
);
CREATE UNIQUE INDEX invoices_tenant_month ON invoices (tenant, month, kind, number);

-- What admins did: who, when, what.
CREATE TABLE audit (
  seq      BIGINT PRIMARY KEY,
  time_ms  BIGINT NOT NULL,
  actor    TEXT NOT NULL,
  action   TEXT NOT NULL,
  detail   TEXT NOT NULL
);
