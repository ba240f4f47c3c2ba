-- suanpan schema 1: jobs, their events and runs, API tokens.
-- Portable SQL (SQLite and PostgreSQL): INTEGER/BIGINT, TEXT, no SQLite-only types.
CREATE TABLE jobs (
  id          BIGINT PRIMARY KEY,
  tenant      TEXT NOT NULL,
  name        TEXT NOT NULL,
  state       TEXT NOT NULL,
  spec        TEXT NOT NULL,
  submit_ms   BIGINT NOT NULL,
  updated_ms  BIGINT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  reason      TEXT NOT NULL DEFAULT '',
  request_id  TEXT,
  exit_code   INTEGER
);
CREATE UNIQUE INDEX jobs_tenant_request ON jobs (tenant, request_id);
CREATE INDEX jobs_tenant_state ON jobs (tenant, state);

CREATE TABLE job_events (
  job_id   BIGINT NOT NULL,
  seq      BIGINT NOT NULL,
  time_ms  BIGINT NOT NULL,
  kind     TEXT NOT NULL,
  message  TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
);

CREATE TABLE job_runs (
  job_id         BIGINT NOT NULL,
  attempt        INTEGER NOT NULL,
  provider       TEXT NOT NULL,
  cluster        TEXT NOT NULL,
  device_type    TEXT NOT NULL,
  devices_milli  BIGINT NOT NULL,
  placement      TEXT NOT NULL,
  start_ms       BIGINT NOT NULL,
  end_ms         BIGINT,
  PRIMARY KEY (job_id, attempt)
);
CREATE INDEX job_runs_start ON job_runs (start_ms);

CREATE TABLE tokens (
  name        TEXT PRIMARY KEY,
  hash        TEXT NOT NULL UNIQUE,
  role        TEXT NOT NULL,
  scope       TEXT NOT NULL,
  created_ms  BIGINT NOT NULL,
  revoked     INTEGER NOT NULL DEFAULT 0
);
