-- srlm store, migration 015: per-pair training weights a pair policy can attach (`srlm pairs --weighting vote`,
-- `--consistency-with JUDGMENTS`). `weight` scales the pair's DPO loss (ScPO's vote margin); `confidence` is the
-- probability that chosen is the better reply, a soft label (CREAM's consistency c: c·DPO(y⁺,y⁻) + (1−c)·DPO(y⁻,y⁺)).
-- NULL: 1, the paper's plain DPO. Like the prompt's category, counted in a row's hash only when set, so versions
-- written before these columns keep their content hashes.
ALTER TABLE pair ADD COLUMN weight REAL CHECK (weight IS NULL OR weight >= 0);
ALTER TABLE pair ADD COLUMN confidence REAL CHECK (confidence IS NULL OR confidence BETWEEN 0 AND 1);

DROP VIEW v_pairs;
CREATE VIEW v_pairs AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.chosen_score, x.rejected_score,
       x.chosen_score - x.rejected_score AS margin, x.weight, x.confidence,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.chosen)), '$[#-1].content') AS chosen_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.rejected)), '$[#-1].content') AS rejected_text,
       x.prompt AS prompt_id
FROM pair x JOIN v_versions v USING (version_id);
