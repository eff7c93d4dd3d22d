-- Pair lineage: per pairs version, the run that made it, the judgments it was made from (its run's inputs, else its
-- round's), and the runs that read it (training) with the checkpoints they produced. `srlm blame pairs@N ROW` follows
-- one row further: its prompt, candidates, every judge sample and the judging checkpoint.
WITH pv AS (
    SELECT v.id, d.name || '@' || v.version AS ref, v.run_id
    FROM dataset_version v JOIN dataset d ON d.id = v.dataset_id JOIN experiment e ON e.id = d.experiment_id
    WHERE e.name = :experiment AND d.kind = 'pairs'
)
SELECT pv.ref AS pairs, pv.run_id AS made_by_run, r.stage AS made_by,
       coalesce(
           (SELECT group_concat(d.name || '@' || jv.version, ', ') FROM run_input i
              JOIN dataset_version jv ON jv.id = i.version_id JOIN dataset d ON d.id = jv.dataset_id
             WHERE i.run_id = pv.run_id AND d.kind = 'judgments'),
           (SELECT d.name || '@' || jv.version FROM round_member m
              JOIN round_member o ON o.round_id = m.round_id AND o.role = 'judgments'
              JOIN dataset_version jv ON jv.id = o.version_id JOIN dataset d ON d.id = jv.dataset_id
             WHERE m.version_id = pv.id ORDER BY m.round_id DESC LIMIT 1)) AS judgments,
       (SELECT group_concat(i.run_id || ' ' || u.stage, ', ') FROM run_input i JOIN run u ON u.id = i.run_id
         WHERE i.version_id = pv.id) AS used_by,
       (SELECT group_concat(c.name, ', ') FROM run_input i JOIN checkpoint c ON c.train_run_id = i.run_id
         WHERE i.version_id = pv.id) AS checkpoints
FROM pv LEFT JOIN run r ON r.id = pv.run_id
ORDER BY pv.id;
