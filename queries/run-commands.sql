-- The srlm commands that made the experiment's runs (run.provenance.invocation), in the order they were first
-- used, with how many stage runs each started: enough to run the experiment again.
SELECT json_extract(r.provenance, '$.invocation') AS command, count(*) AS runs, min(r.started) AS first_run
FROM run r JOIN experiment e ON e.id = r.experiment_id
WHERE e.name = :experiment AND json_extract(r.provenance, '$.invocation') IS NOT NULL
GROUP BY 1
ORDER BY min(r.id);
