-- suanpan schema 2: the price of a run is frozen when it starts (NULL for runs stored before:
-- they are rated at the provider's current price), and the fair-share memory is stored so that a
-- restart rebuilds it exactly (sched::UsageMemory: the value as of the start of its period, in
-- periods of one half-life).
ALTER TABLE job_runs ADD COLUMN price_micro BIGINT;

CREATE TABLE usage_memory (
  tenant       TEXT NOT NULL,
  device_type  TEXT NOT NULL,
  period       BIGINT NOT NULL,
  value        DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (tenant, device_type)
);

-- Nodes taken out of service (lost, reported down by their backend): they stay out across a
-- restart until they come back. One row per node that was ever out; in_service 1 when back.
CREATE TABLE node_states (
  node         TEXT PRIMARY KEY,
  in_service   INTEGER NOT NULL,
  reason       TEXT NOT NULL,
  since_ms     BIGINT NOT NULL
);
