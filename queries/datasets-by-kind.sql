-- How much of each artifact kind the experiment holds: datasets, versions, rows (latest versions only and in all).
SELECT v.kind, count(DISTINCT v.dataset) AS datasets, count(*) AS versions, sum(v.row_count) AS rows_all_versions,
       sum(CASE WHEN v.version = (SELECT max(version) FROM v_versions w WHERE w.experiment = v.experiment AND w.dataset = v.dataset)
                THEN v.row_count END) AS rows_latest
FROM v_versions v
WHERE v.experiment = :experiment
GROUP BY v.kind
ORDER BY v.kind;
