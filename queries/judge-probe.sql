-- Can the model judge? Free-form parse rate of each judge-probe run (the same probe set judged by each model),
-- e.g. M0 before EFT and M1 after it.
SELECT r.id AS run_id, json_extract(r.config, '$.model') AS model, json_extract(r.config, '$.probe') AS probe,
       json_extract(r.config, '$.template') AS template,
       json_extract(r.stats, '$.judged') AS judged, json_extract(r.stats, '$.parsed') AS parsed,
       round(100.0 * json_extract(r.stats, '$.parse_rate'), 1) AS parse_pct, r.started
FROM run r JOIN experiment e ON e.id = r.experiment_id
WHERE e.name = :experiment AND r.stage = 'judge-probe' AND r.status = 'finished'
ORDER BY r.id;
