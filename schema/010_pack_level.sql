-- srlm store, migration 010: each blob pack records the zstd level it was compressed at. New writes use a fast level
-- (srlm keeps up with its input); `srlm compact` rewrites packs of data no longer written into large frames at a
-- high level, and skips packs already compacted. NULL: written before this migration.
ALTER TABLE blob_pack ADD COLUMN level INTEGER;
