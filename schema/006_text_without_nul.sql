-- srlm store, migration 006: *_text columns show a NUL inside a text as U+2400 (␀). json_extract() ends a string
-- at an escaped NUL, and SQLite's length(), LIKE and GLOB stop at one, so a `derive --where` or `srlm sql` filter
-- would otherwise see only the text before it. The views are those of 003 with the text columns read through
-- srlm_json_nul_visible / srlm_nul_visible (the C extension); message JSON (*_json) is left as stored.

DROP VIEW v_ift;
CREATE VIEW v_ift AS
SELECT x.version_id, v.experiment, v.ref, x.ord,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response)), '$[#-1].content') AS response_text,
       srlm_text(x.prompt) AS prompt_json, srlm_text(x.response) AS response_json,
       x.prompt AS prompt_id
FROM ift_example x JOIN v_versions v USING (version_id);

DROP VIEW v_eft;
CREATE VIEW v_eft AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.score, x.target_origin, x.split, x.human_rank,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response)), '$[#-1].content') AS response_text
FROM eft_example x JOIN v_versions v USING (version_id);

DROP VIEW v_ranked;
CREATE VIEW v_ranked AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.human_rank,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.reply)), '$[#-1].content') AS reply_text,
       x.prompt AS prompt_id
FROM ranked_reply x JOIN v_versions v USING (version_id);

DROP VIEW v_prompts;
CREATE VIEW v_prompts AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.origin, x.source_run_id,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       x.prompt AS prompt_id
FROM prompt x JOIN v_versions v USING (version_id);

DROP VIEW v_prompt_rejections;
CREATE VIEW v_prompt_rejections AS
SELECT r.run_id, r.reason, r.detail, json_extract(srlm_json_nul_visible(srlm_text(r.prompt)), '$[#-1].content') AS prompt_text
FROM prompt_rejection r;

DROP VIEW v_candidates;
CREATE VIEW v_candidates AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.model, x.sample_index, x.temperature, x.top_p, x.max_tokens,
       x.seed, x.completion_tokens, x.finish_reason,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response)), '$[#-1].content') AS response_text,
       x.prompt AS prompt_id, x.response AS response_id
FROM candidate x JOIN v_versions v USING (version_id);

DROP VIEW v_judgments;
CREATE VIEW v_judgments AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.judge_model, x.sample_index, x.score, x.parse_error, x.mode,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response)), '$[#-1].content') AS response_text,
       srlm_nul_visible(srlm_text(x.output)) AS output_text,
       x.response AS response_id
FROM judgment x JOIN v_versions v USING (version_id);

DROP VIEW v_pairs;
CREATE VIEW v_pairs AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.chosen_score, x.rejected_score,
       x.chosen_score - x.rejected_score AS margin,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.chosen)), '$[#-1].content') AS chosen_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.rejected)), '$[#-1].content') AS rejected_text,
       x.prompt AS prompt_id
FROM pair x JOIN v_versions v USING (version_id);

DROP VIEW v_model_calls;
CREATE VIEW v_model_calls AS
SELECT hex(m.request_hash) AS request_hash, m.model_key, m.status, m.error, m.finish_reason, m.prompt_tokens,
       m.completion_tokens, m.latency_ms, m.attempts, m.run_id, m.created,
       srlm_text(m.request) AS request_json, srlm_nul_visible(srlm_text(m.response)) AS response_text
FROM model_call m;
