-- srlm store, migration 011: removing what is no longer wanted (`srlm rm`, `srlm gc`) without loosening what is kept.
-- Versions, rows and packs stay guarded by the triggers of migrations 001 and 005; srlm's rm and gc drop and
-- recreate them inside their own transaction, after checking that nothing kept depends on what goes (and the
-- deferred foreign-key check at commit backs that up). Every removal is logged here, with the model files it freed
-- for gc to delete.
CREATE TABLE removal (
    id         INTEGER PRIMARY KEY,
    experiment TEXT NOT NULL,
    what       TEXT NOT NULL,              -- what the user asked: 'pairs@3', 'round 2', 'experiment demo'
    detail     TEXT NOT NULL,              -- JSON: the versions, checkpoints, runs and rounds removed
    created    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Files of removed checkpoints (and their training runs' folders): `srlm gc` deletes each one that still has the
-- recorded size and SHA-256 and that no kept checkpoint lists, then sets `deleted`.
CREATE TABLE removed_file (
    path       TEXT PRIMARY KEY,
    sha256     TEXT,                       -- NULL for a run folder (deleted as a whole when no kept file is inside)
    size       INTEGER,
    removal_id INTEGER NOT NULL REFERENCES removal(id),
    deleted    TEXT
) STRICT;

-- Counters that readers outside this process need to notice. `blob_epoch` grows each time gc rewrites packs:
-- the SQLite extension drops its decoded packs when it changes, so no connection reads a removed blob from memory.
-- A removed blob stays as a hole in its pack (size 0, key of eight zero bytes) so that every other id is kept.
CREATE TABLE store_state (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
