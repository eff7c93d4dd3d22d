-- srlm store, migration 005: a frozen version's rows cannot change from any SQLite client, not only srlm.
-- Rows are written before their version row (whose content hash needs them all), so a row may be inserted or
-- deleted only while no version row with its version_id exists; once the version row is in, its rows are sealed.
-- The version row itself must count exactly the rows that carry its id. Blob packs and zstd dictionaries are only
-- ever appended: every stored row names blobs by id, so no pack may change, go, or be slipped in below the last.
-- Maintenance that must remove rows (a future rm/gc) drops and recreates these triggers inside its own srlm
-- transaction.

CREATE TRIGGER ift_sealed_insert BEFORE INSERT ON ift_example
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = NEW.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;
CREATE TRIGGER ift_sealed_delete BEFORE DELETE ON ift_example
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = OLD.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;

CREATE TRIGGER eft_sealed_insert BEFORE INSERT ON eft_example
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = NEW.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;
CREATE TRIGGER eft_sealed_delete BEFORE DELETE ON eft_example
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = OLD.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;

CREATE TRIGGER ranked_sealed_insert BEFORE INSERT ON ranked_reply
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = NEW.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;
CREATE TRIGGER ranked_sealed_delete BEFORE DELETE ON ranked_reply
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = OLD.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;

CREATE TRIGGER prompt_sealed_insert BEFORE INSERT ON prompt
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = NEW.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;
CREATE TRIGGER prompt_sealed_delete BEFORE DELETE ON prompt
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = OLD.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;

CREATE TRIGGER candidate_sealed_insert BEFORE INSERT ON candidate
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = NEW.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;
CREATE TRIGGER candidate_sealed_delete BEFORE DELETE ON candidate
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = OLD.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;

CREATE TRIGGER judgment_sealed_insert BEFORE INSERT ON judgment
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = NEW.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;
CREATE TRIGGER judgment_sealed_delete BEFORE DELETE ON judgment
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = OLD.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;

CREATE TRIGGER pair_sealed_insert BEFORE INSERT ON pair
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = NEW.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;
CREATE TRIGGER pair_sealed_delete BEFORE DELETE ON pair
WHEN EXISTS (SELECT 1 FROM dataset_version WHERE id = OLD.version_id)
BEGIN SELECT RAISE(ABORT, 'dataset rows are immutable: version is frozen'); END;

CREATE TRIGGER dataset_version_counts_its_rows BEFORE INSERT ON dataset_version
WHEN NEW.row_count <> (CASE (SELECT kind FROM dataset WHERE id = NEW.dataset_id)
        WHEN 'ift' THEN (SELECT count(*) FROM ift_example WHERE version_id = NEW.id)
        WHEN 'eft' THEN (SELECT count(*) FROM eft_example WHERE version_id = NEW.id)
        WHEN 'ranked' THEN (SELECT count(*) FROM ranked_reply WHERE version_id = NEW.id)
        WHEN 'prompts' THEN (SELECT count(*) FROM prompt WHERE version_id = NEW.id)
        WHEN 'candidates' THEN (SELECT count(*) FROM candidate WHERE version_id = NEW.id)
        WHEN 'judgments' THEN (SELECT count(*) FROM judgment WHERE version_id = NEW.id)
        WHEN 'pairs' THEN (SELECT count(*) FROM pair WHERE version_id = NEW.id)
        END)
BEGIN SELECT RAISE(ABORT, 'a dataset version must count exactly the rows that carry its id'); END;

CREATE TRIGGER blob_pack_immutable BEFORE UPDATE ON blob_pack
BEGIN SELECT RAISE(ABORT, 'blob packs are immutable'); END;
CREATE TRIGGER blob_pack_undeletable BEFORE DELETE ON blob_pack
BEGIN SELECT RAISE(ABORT, 'blob packs are immutable'); END;
CREATE TRIGGER blob_pack_appended_only BEFORE INSERT ON blob_pack
WHEN NEW.id <= (SELECT id + count - 1 FROM blob_pack ORDER BY id DESC LIMIT 1)
BEGIN SELECT RAISE(ABORT, 'blob packs are appended after the last blob id only'); END;
CREATE TRIGGER zstd_dict_immutable BEFORE UPDATE ON zstd_dict
BEGIN SELECT RAISE(ABORT, 'zstd dictionaries are immutable'); END;
CREATE TRIGGER zstd_dict_undeletable BEFORE DELETE ON zstd_dict
BEGIN SELECT RAISE(ABORT, 'zstd dictionaries are immutable'); END;
