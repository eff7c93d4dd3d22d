-- srlm store, migration 004: what a run counted (kept/dropped with reasons, calls, tokens, throughput), as JSON.
ALTER TABLE run ADD COLUMN stats TEXT;

DROP VIEW v_runs;
CREATE VIEW v_runs AS
SELECT r.id AS run_id, e.name AS experiment, r.stage, r.config_hash, r.status, r.seed, r.tool_version,
       r.started, r.ended,
       round((julianday(coalesce(r.ended, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) - julianday(r.started)) * 86400, 3)
           AS duration_s,
       (SELECT group_concat(d.name || '@' || dv.version, ', ') FROM run_input i
          JOIN dataset_version dv ON dv.id = i.version_id JOIN dataset d ON d.id = dv.dataset_id
          WHERE i.run_id = r.id) AS inputs,
       (SELECT group_concat(d.name || '@' || dv.version, ', ') FROM dataset_version dv
          JOIN dataset d ON d.id = dv.dataset_id WHERE dv.run_id = r.id) AS outputs,
       r.error, r.stats, r.provenance, r.config
FROM run r JOIN experiment e ON e.id = r.experiment_id;

