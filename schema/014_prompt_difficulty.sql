-- srlm store, migration 014: a prompt's difficulty as the loop measured it (`srlm difficulty --round N`): the mean of
-- its candidates' mean judge scores (lower: harder) and their standard deviation (how differently its candidates
-- fared). Set on a new version of the prompts; like `category`, counted in a row's hash only when set.
ALTER TABLE prompt ADD COLUMN difficulty REAL;
ALTER TABLE prompt ADD COLUMN difficulty_sd REAL;

DROP VIEW v_prompts;
CREATE VIEW v_prompts AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.origin, x.source_run_id, x.category, x.evolution,
       x.difficulty, x.difficulty_sd,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.parent)), '$[#-1].content') AS parent_text,
       x.prompt AS prompt_id
FROM prompt x JOIN v_versions v USING (version_id);
