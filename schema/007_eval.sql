-- srlm store, migration 007: evaluation results. An eval run's config names what was measured (the checkpoint and
-- its weights key, the data version, the judge template and the sampling), so its figures are keyed by the run:
-- one row per metric, with its 95 % interval where it has one and the count it was computed over.
CREATE TABLE eval_metric (
    run_id  INTEGER NOT NULL REFERENCES run(id),
    metric  TEXT NOT NULL,
    value   REAL,                -- NULL when undefined on this data (e.g. a correlation of constant scores)
    lo      REAL,
    hi      REAL,
    n       INTEGER,             -- prompts, pairs or items the figure is over
    PRIMARY KEY (run_id, metric)
) STRICT, WITHOUT ROWID;

-- Figures of finished eval runs with what they measured, comparable across checkpoints, rounds and experiments.
CREATE VIEW v_eval AS
SELECT r.id AS run_id, e.name AS experiment, r.stage,
       json_extract(r.config, '$.model') AS model,
       json_extract(r.config, '$.data') AS data,
       json_extract(r.config, '$.template') AS template,
       json_extract(r.config, '$.samples') AS samples,
       json_extract(r.config, '$.structured') AS structured,
       m.metric, m.value, m.lo, m.hi, m.n, r.ended
FROM eval_metric m JOIN run r ON r.id = m.run_id JOIN experiment e ON e.id = r.experiment_id
WHERE r.status = 'finished';
