-- Where the time went: every finished stage run of the experiment in the order it ran, with its round, its model
-- (or the checkpoint it trained) and its wall time in seconds; the machine it ran on is in run.provenance.machine.
SELECT r.id AS run_id, r.stage,
       json_extract(r.config, '$.round') AS round,
       coalesce(nullif(json_extract(r.config, '$.model'), ''), nullif(json_extract(r.config, '$.name'), ''),
                nullif(json_extract(r.config, '$.a'), '') || ' vs ' || json_extract(r.config, '$.b'), '') AS model,
       round((julianday(r.ended) - julianday(r.started)) * 86400, 1) AS seconds
FROM run r JOIN experiment e ON e.id = r.experiment_id
WHERE e.name = :experiment AND r.status = 'finished' AND r.stage NOT IN ('import', 'derive')
ORDER BY r.id;
