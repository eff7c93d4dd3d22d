-- Pair policies side by side: every pairs run of the experiment, grouped by the judgments it paired, with its policy
-- and filters (from the run's config), the pairs it kept and dropped, mean score margin, chosen and rejected reply
-- length (characters) and their ratio, and how often the judge's own samples agree with the pairs (every chosen
-- sample against every rejected one; ties half), and the per-pair weights when the run made them (`--weighting`,
-- `--consistency-with`: mean weight and mean soft label; NULL when every pair counts 1). Replays of one round's judgments under several policies (`srlm
-- pairs --round N --policy P --name NAME`) line up on the same `judgments` value.
WITH runs AS (
    SELECT r.id, r.config, r.stats, d.name || '@' || v.version AS pairs, v.id AS version_id
    FROM run r
    JOIN experiment e ON e.id = r.experiment_id AND e.name = :experiment
    JOIN dataset_version v ON v.run_id = r.id
    JOIN dataset d ON d.id = v.dataset_id
    WHERE r.stage = 'pairs' AND r.status = 'finished'
),
rows AS (
    SELECT p.version_id, count(*) AS n, avg(p.chosen_score - p.rejected_score) AS margin,
           avg(length(json_extract(srlm_text(p.chosen), '$[#-1].content'))) AS chosen_chars,
           avg(length(json_extract(srlm_text(p.rejected), '$[#-1].content'))) AS rejected_chars,
           avg(p.weight) AS weight, avg(p.confidence) AS confidence
    FROM pair p WHERE p.version_id IN (SELECT version_id FROM runs) GROUP BY p.version_id
)
SELECT json_extract(runs.config, '$.judgments') AS judgments, runs.id AS run_id, runs.pairs,
       coalesce(json_extract(runs.config, '$.policy'), 'best-worst') AS policy,
       json_extract(runs.config, '$.rho') AS rho, nullif(json_extract(runs.config, '$.anchor'), '') AS anchor,
       coalesce(rows.n, 0) AS pairs_kept, json_extract(runs.stats, '$.prompts') AS prompts,
       coalesce((SELECT sum(value) FROM json_each(runs.stats, '$.dropped')), 0) AS dropped,
       round(rows.margin, 3) AS mean_margin, round(rows.chosen_chars, 1) AS chosen_chars,
       round(rows.rejected_chars, 1) AS rejected_chars, round(rows.chosen_chars / rows.rejected_chars, 3) AS length_ratio,
       round(json_extract(runs.stats, '$.judge_agreement'), 3) AS judge_agreement,
       round(rows.weight, 3) AS mean_weight, round(rows.confidence, 3) AS mean_confidence
FROM runs LEFT JOIN rows ON rows.version_id = runs.version_id
ORDER BY judgments, runs.id;
