-- srlm store, migration 012: a prompt's category (coding, math, reasoning, writing, advice, open-qa), set by
-- `srlm categorize` on a new version of the prompts and read by `srlm judge --rubrics DIR` to pick each prompt's
-- rubric. NULL: not categorized. A row's hash counts the category only when it is set, so versions written before
-- this column keep their content hashes.
ALTER TABLE prompt ADD COLUMN category TEXT;

DROP VIEW v_prompts;
CREATE VIEW v_prompts AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.origin, x.source_run_id, x.category,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       x.prompt AS prompt_id
FROM prompt x JOIN v_versions v USING (version_id);
