-- srlm store, migration 017: views that speak rounds. Every dataset view gains `round` (the iteration of the earliest
-- round of its own experiment that holds the version in `round_member`; NULL outside rounds) and `model` (the
-- checkpoint whose outputs the rows are: a candidate's model, a judgment's judge, else the model named by the run that
-- made the version, else by the run that made its input). Texts are content-addressed, so the same prompt in two
-- rounds is the same blob id: the two new views join candidates, judgments and pairs on version ids (a round's roles,
-- or a run's recorded inputs), never on blob ids alone. Columns, keys and meanings: docs/SQL.md.

-- v_prompt_candidates looks up a candidate's judge samples and pair flags within one version (it names these indexes:
-- without statistics SQLite would read the whole judgments or pairs version for each candidate).
CREATE INDEX judgment_by_reply ON judgment(version_id, prompt, response);
CREATE INDEX pair_by_prompt ON pair(version_id, prompt);

DROP VIEW v_ift;
DROP VIEW v_eft;
DROP VIEW v_ranked;
DROP VIEW v_prompts;
DROP VIEW v_prompt_rejections;
DROP VIEW v_candidates;
DROP VIEW v_judgments;
DROP VIEW v_pairs;
DROP VIEW v_labeled_pairs;
DROP VIEW v_runs;
DROP VIEW v_checkpoints;
DROP VIEW v_versions;

CREATE VIEW v_versions AS
SELECT v.id AS version_id, e.name AS experiment, d.name AS dataset, d.kind, v.version,
       d.name || '@' || v.version AS ref, v.row_count, v.content_hash,
       pd.name || '@' || p.version AS parent, v.run_id, r.stage AS made_by, v.created,
       (SELECT min(ro.iteration) FROM round_member m JOIN round ro ON ro.id = m.round_id
         WHERE m.version_id = v.id AND ro.experiment_id = d.experiment_id) AS round,
       coalesce(nullif(json_extract(r.config, '$.model'), ''),
                (SELECT nullif(json_extract(ir.config, '$.model'), '') FROM run_input i
                   JOIN dataset_version iv ON iv.id = i.version_id JOIN run ir ON ir.id = iv.run_id
                  WHERE i.run_id = v.run_id AND nullif(json_extract(ir.config, '$.model'), '') IS NOT NULL
                  ORDER BY iv.id LIMIT 1)) AS model
FROM dataset_version v
JOIN dataset d ON d.id = v.dataset_id
JOIN experiment e ON e.id = d.experiment_id
LEFT JOIN dataset_version p ON p.id = v.parent_id
LEFT JOIN dataset pd ON pd.id = p.dataset_id
LEFT JOIN run r ON r.id = v.run_id;

CREATE VIEW v_ift AS
SELECT x.version_id, v.experiment, v.round, v.model, v.ref, x.ord,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response)), '$[#-1].content') AS response_text,
       srlm_text(x.prompt) AS prompt_json, srlm_text(x.response) AS response_json,
       x.prompt AS prompt_id
FROM ift_example x JOIN v_versions v USING (version_id);

CREATE VIEW v_eft AS
SELECT x.version_id, v.experiment, v.round, v.model, v.ref, x.ord, x.score, x.target_origin, x.split, x.human_rank,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response)), '$[#-1].content') AS response_text
FROM eft_example x JOIN v_versions v USING (version_id);

CREATE VIEW v_ranked AS
SELECT x.version_id, v.experiment, v.round, v.model, v.ref, x.ord, x.human_rank,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.reply)), '$[#-1].content') AS reply_text,
       x.prompt AS prompt_id
FROM ranked_reply x JOIN v_versions v USING (version_id);

CREATE VIEW v_prompts AS
SELECT x.version_id, v.experiment, v.round, v.model, v.ref, x.ord, x.origin, x.source_run_id, x.category, x.evolution,
       x.difficulty, x.difficulty_sd,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.parent)), '$[#-1].content') AS parent_text,
       x.prompt AS prompt_id
FROM prompt x JOIN v_versions v USING (version_id);

-- A rejection belongs to the run that made it: its round is the round that run was for (its config's), its ref the
-- prompts version the run wrote.
CREATE VIEW v_prompt_rejections AS
SELECT r.run_id, e.name AS experiment, json_extract(run.config, '$.round') AS round,
       nullif(json_extract(run.config, '$.model'), '') AS model,
       (SELECT d.name || '@' || dv.version FROM dataset_version dv JOIN dataset d ON d.id = dv.dataset_id
         WHERE dv.run_id = r.run_id ORDER BY dv.id DESC LIMIT 1) AS ref,
       r.reason, r.detail, json_extract(srlm_json_nul_visible(srlm_text(r.prompt)), '$[#-1].content') AS prompt_text
FROM prompt_rejection r JOIN run ON run.id = r.run_id JOIN experiment e ON e.id = run.experiment_id;

CREATE VIEW v_candidates AS
SELECT x.version_id, v.experiment, v.round, v.ref, x.ord, x.model, x.sample_index, x.temperature, x.top_p, x.max_tokens,
       x.seed, x.completion_tokens, x.finish_reason,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response)), '$[#-1].content') AS response_text,
       x.prompt AS prompt_id, x.response AS response_id
FROM candidate x JOIN v_versions v USING (version_id);

CREATE VIEW v_judgments AS
SELECT x.version_id, v.experiment, v.round, x.judge_model AS model, v.ref, x.ord, x.judge_model, x.sample_index, x.score,
       x.parse_error, x.mode,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response)), '$[#-1].content') AS response_text,
       srlm_nul_visible(srlm_text(x.output)) AS output_text,
       x.prompt AS prompt_id, x.response AS response_id
FROM judgment x JOIN v_versions v USING (version_id);

CREATE VIEW v_pairs AS
SELECT x.version_id, v.experiment, v.round, v.model, v.ref, x.ord, x.chosen_score, x.rejected_score,
       x.chosen_score - x.rejected_score AS margin, x.weight, x.confidence,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.chosen)), '$[#-1].content') AS chosen_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.rejected)), '$[#-1].content') AS rejected_text,
       x.prompt AS prompt_id
FROM pair x JOIN v_versions v USING (version_id);

CREATE VIEW v_labeled_pairs AS
SELECT x.version_id, v.experiment, v.round, v.model, v.ref, x.ord, x.label, x.votes, x.question_id, x.model_a, x.model_b,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response_a)), '$[#-1].content') AS response_a_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response_b)), '$[#-1].content') AS response_b_text,
       x.prompt AS prompt_id
FROM labeled_pair x JOIN v_versions v USING (version_id);

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
       r.error, r.stats, r.provenance, r.config,
       json_extract(r.config, '$.round') AS round, nullif(json_extract(r.config, '$.model'), '') AS model
FROM run r JOIN experiment e ON e.id = r.experiment_id;

-- A checkpoint's round is the one whose training made it (its `result`).
CREATE VIEW v_checkpoints AS
SELECT c.id AS checkpoint_id, e.name AS experiment, c.name, c.uri, b.name AS base, c.train_run_id,
       d.name || '@' || dv.version AS data_version, c.metrics, c.created,
       (SELECT min(ro.iteration) FROM round_member m JOIN round ro ON ro.id = m.round_id
         WHERE m.checkpoint_id = c.id AND m.role = 'result') AS round
FROM checkpoint c JOIN experiment e ON e.id = c.experiment_id
LEFT JOIN checkpoint b ON b.id = c.base_id
LEFT JOIN dataset_version dv ON dv.id = c.data_version_id
LEFT JOIN dataset d ON d.id = dv.dataset_id;

-- Which candidates, judgments and pairs versions belong together: in a round, its three roles; outside rounds, each
-- judgments version whose run read the candidates, with the latest pairs version made from those judgments.
CREATE VIEW v_round_links AS
SELECT r.experiment_id, r.iteration AS round, c.version_id AS candidates_id, j.version_id AS judgments_id,
       p.version_id AS pairs_id
FROM round r JOIN round_member c ON c.round_id = r.id AND c.role = 'candidates'
LEFT JOIN round_member j ON j.round_id = r.id AND j.role = 'judgments'
LEFT JOIN round_member p ON p.round_id = r.id AND p.role = 'pairs'
UNION ALL
SELECT d.experiment_id, NULL, cv.id, jv.id,
       (SELECT pv.id FROM run_input pi JOIN dataset_version pv ON pv.run_id = pi.run_id
          JOIN dataset pd ON pd.id = pv.dataset_id AND pd.kind = 'pairs'
         WHERE pi.version_id = jv.id ORDER BY pv.id DESC LIMIT 1)
FROM dataset_version cv JOIN dataset d ON d.id = cv.dataset_id AND d.kind = 'candidates'
LEFT JOIN (run_input i JOIN dataset_version jv ON jv.run_id = i.run_id
           JOIN dataset jd ON jd.id = jv.dataset_id AND jd.kind = 'judgments') ON i.version_id = cv.id
WHERE NOT EXISTS (SELECT 1 FROM round_member m WHERE m.version_id = cv.id);

-- One row per candidate (per round, or per judging outside rounds): its reply, every judge sample's score and
-- rationale (JSON arrays in judge, sample order), their mean, and whether the same round's pairs chose or rejected
-- it. Candidates with the same reply text to the same prompt are one reply to the loop: they share their samples.
CREATE VIEW v_prompt_candidates AS
SELECT e.name AS experiment, l.round, x.model, cd.name || '@' || cv.version AS ref, x.version_id, x.ord,
       jd.name || '@' || jv.version AS judgments_ref, pd.name || '@' || pv.version AS pairs_ref,
       x.sample_index,
       json_extract(srlm_json_nul_visible(srlm_text(x.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(x.response)), '$[#-1].content') AS response_text,
       (SELECT json_group_array(score) FROM (SELECT j.score FROM judgment j INDEXED BY judgment_by_reply
          WHERE j.version_id = l.judgments_id AND j.prompt = x.prompt AND j.response = x.response
          ORDER BY j.judge_model, j.sample_index, j.ord)) AS scores,
       (SELECT json_group_array(rationale) FROM (SELECT srlm_nul_visible(srlm_text(j.output)) AS rationale FROM judgment j INDEXED BY judgment_by_reply
          WHERE j.version_id = l.judgments_id AND j.prompt = x.prompt AND j.response = x.response
          ORDER BY j.judge_model, j.sample_index, j.ord)) AS rationales,
       (SELECT json_group_array(judge_model) FROM (SELECT j.judge_model FROM judgment j INDEXED BY judgment_by_reply
          WHERE j.version_id = l.judgments_id AND j.prompt = x.prompt AND j.response = x.response
          ORDER BY j.judge_model, j.sample_index, j.ord)) AS judges,
       (SELECT avg(j.score) FROM judgment j INDEXED BY judgment_by_reply
          WHERE j.version_id = l.judgments_id AND j.prompt = x.prompt AND j.response = x.response) AS mean_score,
       CASE WHEN l.pairs_id IS NOT NULL THEN EXISTS (SELECT 1 FROM pair p INDEXED BY pair_by_prompt
          WHERE p.version_id = l.pairs_id AND p.prompt = x.prompt AND p.chosen = x.response) END AS chosen,
       CASE WHEN l.pairs_id IS NOT NULL THEN EXISTS (SELECT 1 FROM pair p INDEXED BY pair_by_prompt
          WHERE p.version_id = l.pairs_id AND p.prompt = x.prompt AND p.rejected = x.response) END AS rejected,
       x.completion_tokens, x.finish_reason, l.judgments_id, l.pairs_id, x.prompt AS prompt_id, x.response AS response_id
FROM v_round_links l
JOIN candidate x ON x.version_id = l.candidates_id
JOIN dataset_version cv ON cv.id = l.candidates_id JOIN dataset cd ON cd.id = cv.dataset_id
JOIN experiment e ON e.id = l.experiment_id
LEFT JOIN dataset_version jv ON jv.id = l.judgments_id LEFT JOIN dataset jd ON jd.id = jv.dataset_id
LEFT JOIN dataset_version pv ON pv.id = l.pairs_id LEFT JOIN dataset pd ON pd.id = pv.dataset_id;

-- A pairwise evaluation (`srlm eval judge --mode pairwise`) writes item i of its labeled pairs as judgments ords 2i
-- (A shown first) and 2i+1 (B shown first), each scored as A's outcome with the swapped verdict mapped back
-- (1 A, 0.5 tie, 0 B). One row per labeled pair and evaluation run: the raw verdicts as the judge gave them in the
-- order shown, both mapped to the pair's sides, the verdict that survives the swap (a flip is a tie), the human
-- label and whether they agree (NULL when an order gave no verdict).
CREATE VIEW v_pairwise_verdicts AS
WITH item AS (
    SELECT jv.id AS version_id, jd.experiment_id, jd.name || '@' || jv.version AS ref, jv.run_id,
           i.version_id AS labeled_id, nullif(json_extract(r.config, '$.model'), '') AS model
    FROM dataset_version jv JOIN dataset jd ON jd.id = jv.dataset_id AND jd.kind = 'judgments'
    JOIN run r ON r.id = jv.run_id AND r.stage = 'eval-pairwise'
    JOIN run_input i ON i.run_id = jv.run_id
    JOIN dataset_version lv ON lv.id = i.version_id JOIN dataset ld ON ld.id = lv.dataset_id AND ld.kind = 'labeled_pairs'
),
judged AS (
    SELECT it.*, lp.ord, lp.label, lp.votes, lp.prompt, lp.response_a, lp.response_b,
           CASE ab.score WHEN 1 THEN 'a' WHEN 0 THEN 'b' WHEN 0.5 THEN 'tie' END AS verdict_ab,
           coalesce(ab.judge_model, ba.judge_model) AS judge_model, ab.output AS output_ab,
           CASE ba.score WHEN 1 THEN 'a' WHEN 0 THEN 'b' WHEN 0.5 THEN 'tie' END AS verdict_ba, ba.output AS output_ba
    FROM item it JOIN labeled_pair lp ON lp.version_id = it.labeled_id
    LEFT JOIN judgment ab ON ab.version_id = it.version_id AND ab.ord = 2 * lp.ord AND ab.prompt = lp.prompt
    LEFT JOIN judgment ba ON ba.version_id = it.version_id AND ba.ord = 2 * lp.ord + 1 AND ba.prompt = lp.prompt
),
combined AS (
    SELECT judged.*, CASE WHEN verdict_ab IS NULL OR verdict_ba IS NULL THEN NULL
                          WHEN verdict_ab = verdict_ba THEN verdict_ab ELSE 'tie' END AS verdict
    FROM judged
)
SELECT c.version_id, e.name AS experiment, v.round, c.model, c.ref, c.run_id,
       ld.name || '@' || lv.version AS labeled_ref, c.ord, c.judge_model,
       c.verdict_ab,
       CASE c.verdict_ba WHEN 'a' THEN 'b' WHEN 'b' THEN 'a' ELSE c.verdict_ba END AS verdict_ba_shown,
       c.verdict_ba, c.verdict, c.label, c.votes,
       CASE WHEN c.verdict IS NOT NULL THEN c.verdict = c.label END AS agree,
       json_extract(srlm_json_nul_visible(srlm_text(c.prompt)), '$[#-1].content') AS prompt_text,
       json_extract(srlm_json_nul_visible(srlm_text(c.response_a)), '$[#-1].content') AS response_a_text,
       json_extract(srlm_json_nul_visible(srlm_text(c.response_b)), '$[#-1].content') AS response_b_text,
       srlm_nul_visible(srlm_text(c.output_ab)) AS output_ab, srlm_nul_visible(srlm_text(c.output_ba)) AS output_ba
FROM combined c JOIN experiment e ON e.id = c.experiment_id
JOIN v_versions v ON v.version_id = c.version_id
JOIN dataset_version lv ON lv.id = c.labeled_id JOIN dataset ld ON ld.id = lv.dataset_id;

