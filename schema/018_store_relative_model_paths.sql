-- srlm store, migration 018: a store owns the model files under its own run folder, `<store folder>/srlm-runs/<store
-- file name>/`, and records them relative to it, so that a copy of the store names its own files and never the
-- original's (`srlm gc` on a copy made with sqlite3 `.backup` deleted the original's checkpoints). Paths recorded in
-- full that are inside this store's run folder become relative; every other path stays in full: a file outside the
-- folder is not the store's, and `srlm gc` never deletes it. The store's location is SQLite's own name for the
-- file (symbolic links resolved); a path recorded through a link to it stays in full, on the safe side.
CREATE TEMP TABLE run_root AS
SELECT folder || 'srlm-runs/' || substr(file, length(folder) + 1) || '/' AS prefix
FROM (SELECT file, rtrim(file, replace(file, '/', '')) AS folder FROM pragma_database_list WHERE name = 'main' AND file <> '');

UPDATE checkpoint SET uri = substr(uri, length((SELECT prefix FROM run_root)) + 1)
WHERE substr(uri, 1, length((SELECT prefix FROM run_root))) = (SELECT prefix FROM run_root)
  AND length(uri) > length((SELECT prefix FROM run_root));
UPDATE checkpoint_file SET path = substr(path, length((SELECT prefix FROM run_root)) + 1)
WHERE substr(path, 1, length((SELECT prefix FROM run_root))) = (SELECT prefix FROM run_root)
  AND length(path) > length((SELECT prefix FROM run_root));
UPDATE removed_file SET path = substr(path, length((SELECT prefix FROM run_root)) + 1)
WHERE substr(path, 1, length((SELECT prefix FROM run_root))) = (SELECT prefix FROM run_root)
  AND length(path) > length((SELECT prefix FROM run_root));

DROP TABLE run_root;
