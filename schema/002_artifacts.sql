-- srlm store, migration 002: the artifacts of the loop. Every dataset row belongs to exactly one version
-- (version_id, ord); text columns hold blob ids (see blob_pack). A row's hash (its meaning, not its provenance) is
-- computed from the texts' SHA-256s when its version is written and checked by `srlm fsck`; it is not stored.

CREATE TABLE ift_example (
    version_id INTEGER NOT NULL REFERENCES dataset_version(id),
    ord        INTEGER NOT NULL,
    prompt     INTEGER NOT NULL,      -- message list (JSON) before the answer
    response   INTEGER NOT NULL,      -- message list (JSON): the answer
    PRIMARY KEY (version_id, ord)
) STRICT, WITHOUT ROWID;

CREATE TABLE eft_example (
    version_id    INTEGER NOT NULL REFERENCES dataset_version(id),
    ord           INTEGER NOT NULL,
    prompt        INTEGER NOT NULL,   -- the LLM-as-a-Judge prompt (message list)
    response      INTEGER NOT NULL,   -- justification + "Score: N" (message list)
    score         REAL,
    target_origin TEXT NOT NULL CHECK (target_origin IN ('judge','human','structured','imported')),
    split         TEXT NOT NULL DEFAULT 'train' CHECK (split IN ('train','eval')),
    question      INTEGER,            -- the judged question and reply, for provenance
    reply         INTEGER,
    human_rank    INTEGER,
    PRIMARY KEY (version_id, ord)
) STRICT, WITHOUT ROWID;

-- Human-ranked replies: one row per (prompt, reply); rank 0 is the best.
CREATE TABLE ranked_reply (
    version_id INTEGER NOT NULL REFERENCES dataset_version(id),
    ord        INTEGER NOT NULL,
    prompt     INTEGER NOT NULL,
    reply      INTEGER NOT NULL,
    human_rank INTEGER NOT NULL,
    PRIMARY KEY (version_id, ord)
) STRICT, WITHOUT ROWID;

CREATE TABLE prompt (
    version_id    INTEGER NOT NULL REFERENCES dataset_version(id),
    ord           INTEGER NOT NULL,
    prompt        INTEGER NOT NULL,
    origin        TEXT NOT NULL CHECK (origin IN ('seed','generated','imported')),
    source_run_id INTEGER REFERENCES run(id),
    PRIMARY KEY (version_id, ord)
) STRICT, WITHOUT ROWID;

-- Prompts a generation run threw away, with the filter that did it.
CREATE TABLE prompt_rejection (
    run_id INTEGER NOT NULL REFERENCES run(id),
    prompt INTEGER NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT
) STRICT;

CREATE TABLE candidate (
    version_id        INTEGER NOT NULL REFERENCES dataset_version(id),
    ord               INTEGER NOT NULL,
    prompt            INTEGER NOT NULL,
    response          INTEGER NOT NULL,
    model             TEXT NOT NULL,       -- checkpoint name or model file hash
    sample_index      INTEGER NOT NULL,
    temperature       REAL,
    top_p             REAL,
    max_tokens        INTEGER,
    seed              INTEGER,
    completion_tokens INTEGER,
    finish_reason     TEXT,
    call_hash         BLOB,                -- model_call.request_hash
    PRIMARY KEY (version_id, ord)
) STRICT, WITHOUT ROWID;

CREATE TABLE judgment (
    version_id   INTEGER NOT NULL REFERENCES dataset_version(id),
    ord          INTEGER NOT NULL,
    prompt       INTEGER NOT NULL,            -- the judged question
    response     INTEGER NOT NULL,            -- the judged candidate
    judge_model  TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    output       INTEGER NOT NULL,            -- raw judge output (text)
    score        REAL,                     -- NULL when the output held no valid score
    parse_error  TEXT,
    mode         TEXT NOT NULL CHECK (mode IN ('free','structured','imported')),
    template     INTEGER,                     -- judge template blob
    call_hash    BLOB,
    PRIMARY KEY (version_id, ord),
    CHECK ((score IS NULL) <> (parse_error IS NULL))
) STRICT, WITHOUT ROWID;

CREATE TABLE pair (
    version_id     INTEGER NOT NULL REFERENCES dataset_version(id),
    ord            INTEGER NOT NULL,
    prompt         INTEGER NOT NULL,
    chosen         INTEGER NOT NULL,
    rejected       INTEGER NOT NULL,
    chosen_score   REAL,
    rejected_score REAL,
    PRIMARY KEY (version_id, ord)
) STRICT, WITHOUT ROWID;

CREATE TABLE checkpoint (
    id              INTEGER PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES experiment(id),
    name            TEXT NOT NULL,
    uri             TEXT NOT NULL,
    base_id         INTEGER REFERENCES checkpoint(id),
    train_run_id    INTEGER REFERENCES run(id),
    data_version_id INTEGER REFERENCES dataset_version(id),
    config          TEXT,
    metrics         TEXT,                  -- JSON: final metrics of the training run
    created         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (experiment_id, name)
) STRICT;

CREATE TABLE checkpoint_file (
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoint(id),
    path          TEXT NOT NULL,
    format        TEXT NOT NULL,           -- hf, gguf, lora, lora-gguf
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    PRIMARY KEY (checkpoint_id, path)
) STRICT, WITHOUT ROWID;

CREATE TABLE train_metric (
    run_id INTEGER NOT NULL REFERENCES run(id),
    step   INTEGER NOT NULL,
    name   TEXT NOT NULL,
    value  REAL,
    PRIMARY KEY (run_id, step, name)
) STRICT, WITHOUT ROWID;

-- A round of the loop: iteration N and the versions and checkpoints it used and made.
CREATE TABLE round (
    id            INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiment(id),
    iteration     INTEGER NOT NULL,
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (experiment_id, iteration)
) STRICT;

CREATE TABLE round_member (
    round_id      INTEGER NOT NULL REFERENCES round(id),
    role          TEXT NOT NULL,          -- prompts, candidates, judgments, pairs, policy, result ...
    version_id    INTEGER REFERENCES dataset_version(id),
    checkpoint_id INTEGER REFERENCES checkpoint(id),
    PRIMARY KEY (round_id, role),
    CHECK ((version_id IS NULL) <> (checkpoint_id IS NULL))
) STRICT, WITHOUT ROWID;

-- Journal of model calls: an answer stored here is never requested again.
CREATE TABLE model_call (
    request_hash      BLOB PRIMARY KEY,    -- SHA-256 over model weights id + every output-affecting field
    model_key         TEXT NOT NULL,
    request           INTEGER NOT NULL,       -- blob: canonical request JSON
    response          INTEGER,                -- blob: the answer text
    status            TEXT NOT NULL CHECK (status IN ('ok','failed','pending')),  -- pending: sent in an offline batch
    error             TEXT,
    finish_reason     TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    latency_ms        REAL,
    attempts          INTEGER NOT NULL DEFAULT 1,
    run_id            INTEGER REFERENCES run(id),
    created           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT, WITHOUT ROWID;

-- Versioned prompt templates (the judge prompt, the self-instruct prompt).
CREATE TABLE template (
    name    TEXT NOT NULL,
    version INTEGER NOT NULL,
    body    INTEGER NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (name, version)
) STRICT;

-- The plan of a loop, stored as data: stages and their configs, in order.
CREATE TABLE plan (
    experiment_id INTEGER NOT NULL REFERENCES experiment(id),
    step          INTEGER NOT NULL,
    stage         TEXT NOT NULL,
    config        TEXT NOT NULL,
    PRIMARY KEY (experiment_id, step)
) STRICT;

-- Rows of a version are frozen with it.
CREATE TRIGGER ift_frozen BEFORE UPDATE ON ift_example BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable'); END;
CREATE TRIGGER eft_frozen BEFORE UPDATE ON eft_example BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable'); END;
CREATE TRIGGER ranked_frozen BEFORE UPDATE ON ranked_reply BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable'); END;
CREATE TRIGGER prompt_frozen BEFORE UPDATE ON prompt BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable'); END;
CREATE TRIGGER candidate_frozen BEFORE UPDATE ON candidate BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable'); END;
CREATE TRIGGER judgment_frozen BEFORE UPDATE ON judgment BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable'); END;
CREATE TRIGGER pair_frozen BEFORE UPDATE ON pair BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable'); END;
