-- srlm store, migration 009: human-labelled pairwise data — a prompt, two replies shown as A and B, and the human
-- verdict (a, b or tie), with the annotators' votes when there were several (the label is their strict majority,
-- tie without one) and where the row came from (MT-Bench human judgments: question id and the two models).

-- dataset.kind gains 'labeled_pairs'. SQLite cannot alter a CHECK, so the table is rebuilt with the same ids
-- (foreign keys are off during migrations and checked after). legacy_alter_table keeps the rename from rewriting
-- or re-validating the views and triggers that name `dataset`: they name it again once the rename is done.
PRAGMA legacy_alter_table = ON;
CREATE TABLE dataset_new (
    id            INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiment(id),
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('ift','eft','ranked','prompts','candidates','judgments','pairs',
                                                'labeled_pairs')),
    UNIQUE (experiment_id, name)
) STRICT;
INSERT INTO dataset_new(id, experiment_id, name, kind) SELECT id, experiment_id, name, kind FROM dataset;
DROP TABLE dataset;
ALTER TABLE dataset_new RENAME TO dataset;
PRAGMA legacy_alter_table = OFF;

CREATE TABLE labeled_pair (
    version_id  INTEGER NOT NULL REFERENCES dataset_version(id),
    ord         INTEGER NOT NULL,
    prompt      INTEGER NOT NULL,      -- message list (JSON): the question
    response_a  INTEGER NOT NULL,      -- message list (JSON): the reply shown as A
    response_b  INTEGER NOT NULL,      -- message list (JSON): the reply shown as B
    label       TEXT NOT NULL CHECK (label IN ('a','b','tie')),
    votes       TEXT CHECK (votes IS NULL OR json_valid(votes)),  -- JSON array of the annotators' verdicts
    question_id TEXT,                  -- provenance: the source's question id and the two models, when known
    model_a     TEXT,
    model_b     TEXT,
    PRIMARY KEY (version_id, ord)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER labeled_pair_frozen BEFORE UPDATE ON labeled_pair BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable'); END;
-- Sealed like every artifact table (migration 005): no row in or out once its version row exists.
CREATE TRIGGER labeled_pair_sealed_insert BEFORE INSERT ON labeled_pair
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = NEW.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;
CREATE TRIGGER labeled_pair_sealed_delete BEFORE DELETE ON labeled_pair
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = OLD.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;

DROP TRIGGER dataset_version_counts_its_rows;
CREATE TRIGGER dataset_version_counts_its_rows BEFORE INSERT ON dataset_version
WHEN NEW.row_count <> (CASE (SELECT kind FROM dataset WHERE id = NEW.dataset_id)
        WHEN 'ift' THEN (SELECT count(*) FROM ift_example WHERE version_id = NEW.id)
        WHEN 'eft' THEN (SELECT count(*) FROM eft_example WHERE version_id = NEW.id)
        WHEN 'ranked' THEN (SELECT count(*) FROM ranked_reply WHERE version_id = NEW.id)
        WHEN 'prompts' THEN (SELECT count(*) FROM prompt WHERE version_id = NEW.id)
        WHEN 'candidates' THEN (SELECT count(*) FROM candidate WHERE version_id = NEW.id)
        WHEN 'judgments' THEN (SELECT count(*) FROM judgment WHERE version_id = NEW.id)
        WHEN 'pairs' THEN (SELECT count(*) FROM pair WHERE version_id = NEW.id)
        WHEN 'labeled_pairs' THEN (SELECT count(*) FROM labeled_pair WHERE version_id = NEW.id)
        END)
BEGIN SELECT RAISE(ABORT, 'a dataset version must count exactly the rows that carry its id'); END;

CREATE VIEW v_labeled_pairs AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.label, x.votes, x.question_id, x.model_a, x.model_b,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response_a)), '$[#-1].content') AS response_a_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response_b)), '$[#-1].content') AS response_b_text,
       x.prompt AS prompt_id
FROM labeled_pair x JOIN v_versions v USING (version_id);
