-- srlm store, migration 003: readable views. `srlm_text(id)` returns a blob's text; it is registered by srlm itself
-- and by the loadable extension (libsrlmsqlite), so `sqlite3 store.sqlite -cmd '.load libsrlmsqlite'` reads these too.
-- Message lists are JSON arrays of {role, content}; *_text columns show the last message's content.

CREATE VIEW v_versions AS
SELECT v.id AS version_id, e.name AS experiment, d.name AS dataset, d.kind, v.version,
       d.name || '@' || v.version AS ref, v.row_count, v.content_hash,
       pd.name || '@' || p.version AS parent, v.run_id, r.stage AS made_by, v.created
FROM dataset_version v
JOIN dataset d ON d.id = v.dataset_id
JOIN experiment e ON e.id = d.experiment_id
LEFT JOIN dataset_version p ON p.id = v.parent_id
LEFT JOIN dataset pd ON pd.id = p.dataset_id
LEFT JOIN run r ON r.id = v.run_id;

CREATE VIEW v_ift AS
SELECT x.version_id, v.experiment, v.ref, x.ord,
       json_extract(srlm_text(x.prompt), '$[#-1].content') AS prompt_text,
       json_extract(srlm_text(x.response), '$[#-1].content') AS response_text,
       srlm_text(x.prompt) AS prompt_json, srlm_text(x.response) AS response_json,
       x.prompt AS prompt_id
FROM ift_example x JOIN v_versions v USING (version_id);

CREATE VIEW v_eft AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.score, x.target_origin, x.split, x.human_rank,
       json_extract(srlm_text(x.prompt), '$[#-1].content') AS prompt_text,
       json_extract(srlm_text(x.response), '$[#-1].content') AS response_text
FROM eft_example x JOIN v_versions v USING (version_id);

CREATE VIEW v_ranked AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.human_rank,
       json_extract(srlm_text(x.prompt), '$[#-1].content') AS prompt_text,
       json_extract(srlm_text(x.reply), '$[#-1].content') AS reply_text,
       x.prompt AS prompt_id
FROM ranked_reply x JOIN v_versions v USING (version_id);

CREATE VIEW v_prompts AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.origin, x.source_run_id,
       json_extract(srlm_text(x.prompt), '$[#-1].content') AS prompt_text,
       x.prompt AS prompt_id
FROM prompt x JOIN v_versions v USING (version_id);

CREATE VIEW v_prompt_rejections AS
SELECT r.run_id, r.reason, r.detail, json_extract(srlm_text(r.prompt), '$[#-1].content') AS prompt_text
FROM prompt_rejection r;

CREATE VIEW v_candidates AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.model, x.sample_index, x.temperature, x.top_p, x.max_tokens,
       x.seed, x.completion_tokens, x.finish_reason,
       json_extract(srlm_text(x.prompt), '$[#-1].content') AS prompt_text,
       json_extract(srlm_text(x.response), '$[#-1].content') AS response_text,
       x.prompt AS prompt_id, x.response AS response_id
FROM candidate x JOIN v_versions v USING (version_id);

CREATE VIEW v_judgments AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.judge_model, x.sample_index, x.score, x.parse_error, x.mode,
       json_extract(srlm_text(x.prompt), '$[#-1].content') AS prompt_text,
       json_extract(srlm_text(x.response), '$[#-1].content') AS response_text,
       srlm_text(x.output) AS output_text,
       x.response AS response_id
FROM judgment x JOIN v_versions v USING (version_id);

CREATE VIEW v_pairs AS
SELECT x.version_id, v.experiment, v.ref, x.ord, x.chosen_score, x.rejected_score,
       x.chosen_score - x.rejected_score AS margin,
       json_extract(srlm_text(x.prompt), '$[#-1].content') AS prompt_text,
       json_extract(srlm_text(x.chosen), '$[#-1].content') AS chosen_text,
       json_extract(srlm_text(x.rejected), '$[#-1].content') AS rejected_text,
       x.prompt AS prompt_id
FROM pair x JOIN v_versions v USING (version_id);

CREATE VIEW v_runs AS
SELECT r.id AS run_id, e.name AS experiment, r.stage, r.config_hash, r.status, r.seed, r.tool_version,
       r.started, r.ended,
       round((julianday(coalesce(r.ended, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) - julianday(r.started)) * 86400, 3)
           AS duration_s,
       (SELECT group_concat(d.name || '@' || dv.version, ', ') FROM run_input i
          JOIN dataset_version dv ON dv.id = i.version_id JOIN dataset d ON d.id = dv.dataset_id
          WHERE i.run_id = r.id) AS inputs,
       (SELECT group_concat(d.name || '@' || dv.version, ', ') FROM dataset_version dv
          JOIN dataset d ON d.id = dv.dataset_id WHERE dv.run_id = r.id) AS outputs,
       r.error, r.config
FROM run r JOIN experiment e ON e.id = r.experiment_id;

CREATE VIEW v_checkpoints AS
SELECT c.id AS checkpoint_id, e.name AS experiment, c.name, c.uri, b.name AS base, c.train_run_id,
       d.name || '@' || dv.version AS data_version, c.metrics, c.created
FROM checkpoint c JOIN experiment e ON e.id = c.experiment_id
LEFT JOIN checkpoint b ON b.id = c.base_id
LEFT JOIN dataset_version dv ON dv.id = c.data_version_id
LEFT JOIN dataset d ON d.id = dv.dataset_id;

CREATE VIEW v_model_calls AS
SELECT hex(m.request_hash) AS request_hash, m.model_key, m.status, m.error, m.finish_reason, m.prompt_tokens,
       m.completion_tokens, m.latency_ms, m.attempts, m.run_id, m.created,
       srlm_text(m.request) AS request_json, srlm_text(m.response) AS response_text
FROM model_call m;
