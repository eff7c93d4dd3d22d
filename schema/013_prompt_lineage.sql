-- srlm store, migration 013: an evolved prompt's lineage (`srlm gen-prompts --strategy evol`): the prompt it was
-- rewritten from (a blob id) and the Evol-Instruct operator that rewrote it. Provenance, not meaning: neither
-- counts in the row's hash.
ALTER TABLE prompt ADD COLUMN parent INTEGER;
ALTER TABLE prompt ADD COLUMN evolution TEXT;

DROP VIEW v_prompts;
CREATE VIEW v_prompts AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.origin, x.source_run_id, x.category, x.evolution,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.parent)), '$[#-1].content') AS parent_text,
       x.prompt AS prompt_id
FROM prompt x JOIN v_versions v USING (version_id);
