-- srlm store, migration 016: each version's rows cut into segments of consecutive ords, each with a hash of its rows'
-- meaning. A cut falls after a row whose own hash says so (content-defined, as in rsync or a prolly tree), so a
-- version derived from another by edits, drops and appends shares every segment the edits did not touch, and
-- `srlm diff` reads only the rows of the segments the other side lacks. Versions written before this migration have
-- no segments and are diffed by reading all their rows. Sealed with their version, like its rows.
CREATE TABLE version_segment (
    version_id INTEGER NOT NULL REFERENCES dataset_version(id),
    first_ord  INTEGER NOT NULL,
    row_count  INTEGER NOT NULL CHECK (row_count > 0),
    hash       BLOB NOT NULL CHECK (length(hash) = 16),  -- SHA-256 of the rows' hashes in ord order, first 16 bytes
    PRIMARY KEY (version_id, first_ord)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER segment_sealed_insert BEFORE INSERT ON version_segment
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = NEW.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;
CREATE TRIGGER segment_sealed_delete BEFORE DELETE ON version_segment
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = OLD.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;
CREATE TRIGGER segment_sealed_update BEFORE UPDATE ON version_segment
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;
