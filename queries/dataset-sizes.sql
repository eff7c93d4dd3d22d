-- Dataset versions with their sizes and lineage: rows, the parent each version grew from, the run that made it, a short content hash.
SELECT v.experiment, v.ref, v.kind, v.row_count AS rows, v.parent, v.made_by, substr(v.content_hash, 1, 12) AS content,
       v.created
FROM v_versions v
WHERE v.experiment = :experiment
ORDER BY v.dataset, v.version;
