-- The machines the experiment's stage runs ran on (run.provenance.machine: cores, memory, CPU, OS), with how many
-- runs each and when.
SELECT json_extract(r.provenance, '$.machine.cpu') AS cpu, json_extract(r.provenance, '$.machine.cpus') AS cores,
       json_extract(r.provenance, '$.machine.memory_gib') AS memory_gib, json_extract(r.provenance, '$.machine.os') AS os,
       count(*) AS runs, min(r.started) AS first_run, max(r.ended) AS last_run
FROM run r JOIN experiment e ON e.id = r.experiment_id
WHERE e.name = :experiment AND r.status = 'finished' AND json_extract(r.provenance, '$.machine') IS NOT NULL
GROUP BY 1, 2, 3, 4
ORDER BY first_run;
