-- srlm store, migration 019: the rows an import refused under --skip-invalid, each with the file, line and field
-- it was refused at and why, and the row itself (its JSON, a blob; NULL when the line was not JSON at all). Written
-- in the import's transaction with the version it made, so they are there exactly when that version is.
CREATE TABLE import_rejection (
    run_id INTEGER NOT NULL REFERENCES run(id),
    file   TEXT NOT NULL,
    line   INTEGER,
    field  TEXT,
    reason TEXT NOT NULL,
    row    INTEGER
) STRICT;
CREATE INDEX import_rejection_by_run ON import_rejection(run_id);

-- One row per refused input row, beside the version its import made (ref) and the experiment; round and model as
-- every v_* view has them (NULL unless the imported version was put in a round).
CREATE VIEW v_import_rejections AS
SELECT r.run_id, e.name AS experiment, v.round, v.model, v.ref, r.file, r.line, r.field, r.reason,
       srlm_text(r.row) AS row_json
FROM import_rejection r
JOIN run ON run.id = r.run_id
JOIN experiment e ON e.id = run.experiment_id
LEFT JOIN v_versions v ON v.run_id = r.run_id;
