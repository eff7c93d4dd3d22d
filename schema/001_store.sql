-- srlm store, migration 001: experiments, content-addressed blobs, datasets and their immutable versions, runs.
-- Texts are blobs: deduplicated by SHA-256, packed many to a zstd frame in `blob_pack`; artifact tables hold blob
-- ids and typed columns only.

CREATE TABLE experiment (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Trained zstd dictionaries: short chat texts compress badly alone, so packs may name one.
CREATE TABLE zstd_dict (
    id      INTEGER PRIMARY KEY,       -- the dictionary id zstd writes into the frame header
    data    BLOB NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- One zstd frame holding the concatenated raw bytes of many blobs. Blob ids are consecutive integers: a pack holds
-- ids id .. id + count - 1, so a blob is found by a rowid seek (the pack with the largest id <= the blob's id) and
-- costs its store only its share of `sizes` and `keys` (short chat texts are small: per-blob rows would outweigh them).
-- `keys` holds the first 8 bytes of each blob's SHA-256: the dedup index (srlm keeps it in memory while writing;
-- equal keys are confirmed by comparing bytes) and the check every read makes. srlm_blob_key(id) gives the stored key (the first 8 bytes of its SHA-256).
CREATE TABLE blob_pack (
    id       INTEGER PRIMARY KEY,               -- the id of the pack's first blob
    count    INTEGER NOT NULL CHECK (count > 0),
    dict_id  INTEGER REFERENCES zstd_dict(id),  -- NULL: compressed without a dictionary
    raw_size INTEGER NOT NULL,
    sizes    BLOB NOT NULL,                     -- each blob's byte length as an unsigned LEB128 varint, in id order
    keys     BLOB NOT NULL CHECK (length(keys) = 8 * count),
    data     BLOB NOT NULL                      -- one zstd frame with content size and checksum
) STRICT;

CREATE TABLE dataset (
    id            INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiment(id),
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('ift','eft','ranked','prompts','candidates','judgments','pairs')),
    UNIQUE (experiment_id, name)
) STRICT;

CREATE TABLE run (
    id            INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiment(id),
    stage         TEXT NOT NULL,
    config        TEXT NOT NULL,             -- canonical JSON, secrets redacted
    config_hash   TEXT NOT NULL,             -- hex SHA-256 of `config`
    tool_version  TEXT NOT NULL,
    seed          INTEGER,
    status        TEXT NOT NULL CHECK (status IN ('running','finished','failed')),
    error         TEXT,
    provenance    TEXT,                      -- JSON: engine version, model file hash, template ...
    started       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ended         TEXT
) STRICT;
CREATE INDEX run_by_stage ON run(experiment_id, stage, config_hash);

CREATE TABLE dataset_version (
    id           INTEGER PRIMARY KEY,
    dataset_id   INTEGER NOT NULL REFERENCES dataset(id),
    version      INTEGER NOT NULL,
    parent_id    INTEGER REFERENCES dataset_version(id),
    run_id       INTEGER REFERENCES run(id),
    row_count    INTEGER NOT NULL,
    content_hash TEXT NOT NULL,              -- hex SHA-256 over the sorted row hashes (order-independent)
    note         TEXT,
    created      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (dataset_id, version)
) STRICT;

CREATE TABLE run_input (
    run_id     INTEGER NOT NULL REFERENCES run(id),
    version_id INTEGER NOT NULL REFERENCES dataset_version(id),
    role       TEXT NOT NULL DEFAULT 'input',
    PRIMARY KEY (run_id, version_id)
) STRICT, WITHOUT ROWID;

-- Nothing rewrites a version: its rows and its metadata are frozen once written.
CREATE TRIGGER dataset_version_immutable BEFORE UPDATE ON dataset_version
BEGIN SELECT RAISE(ABORT, 'dataset versions are immutable'); END;
CREATE TRIGGER dataset_version_undeletable BEFORE DELETE ON dataset_version
BEGIN SELECT RAISE(ABORT, 'dataset versions are immutable'); END;
