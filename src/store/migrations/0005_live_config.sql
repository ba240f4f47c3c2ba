-- Live administration (issue 15): what admins changed through the API, over the pool file.
-- One row per object, its whole current state as JSON; `seq` orders the objects as they were
-- first made, so that tenants made live keep their order across restarts.
CREATE TABLE live_config (
  kind        TEXT NOT NULL,   -- tenant, ...
  name        TEXT NOT NULL,
  seq         BIGINT NOT NULL,
  body        TEXT NOT NULL,
  updated_ms  BIGINT NOT NULL,
  PRIMARY KEY (kind, name)
);

-- Tokens may expire (unset: never); tenant admins and viewers are roles of tenant tokens.
ALTER TABLE tokens ADD COLUMN expires_ms BIGINT;

-- Who submitted each job (the token's name: a person's or a pipeline's), for usage by user.
ALTER TABLE jobs ADD COLUMN submitted_by TEXT NOT NULL DEFAULT '';
