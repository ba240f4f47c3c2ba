-- suanpan schema 3: a run is billed from when its workers (or its engine's job) started, not
-- from the bind: started_ms is NULL until then (a run that never started costs nothing).
-- Runs stored before were billed from the bind and keep that. engine_ref names the run's job in
-- a delegated provider's engine (the Slurm job id), so that a restart finds it again.
ALTER TABLE job_runs ADD COLUMN started_ms BIGINT;
ALTER TABLE job_runs ADD COLUMN engine_ref TEXT;
UPDATE job_runs SET started_ms = start_ms;
