-- Round history: per iteration, prompts kept, candidates, judge parse rate, mean score, pairs and the policy that made
-- them, DPO reward margin and accuracy (last logged step of the training run that produced the round's checkpoint).
WITH r AS (
    SELECT r.id, r.iteration FROM round r JOIN experiment e ON e.id = r.experiment_id WHERE e.name = :experiment
),
member AS (
    SELECT m.round_id, m.role, m.version_id, m.checkpoint_id FROM round_member m JOIN r ON r.id = m.round_id
),
judged AS (
    SELECT m.round_id, count(*) AS judgments, avg(j.score IS NOT NULL) AS parse_rate, avg(j.score) AS mean_score
    FROM member m JOIN judgment j ON j.version_id = m.version_id WHERE m.role = 'judgments' GROUP BY m.round_id
),
trained AS (
    SELECT m.round_id, c.name AS checkpoint, c.train_run_id FROM member m JOIN checkpoint c ON c.id = m.checkpoint_id
    WHERE m.role = 'result'
),
last_metric AS (
    SELECT t.round_id, t.checkpoint,
           (SELECT value FROM train_metric WHERE run_id = t.train_run_id AND name = 'rewards/margins'
            ORDER BY step DESC LIMIT 1) AS reward_margin,
           (SELECT value FROM train_metric WHERE run_id = t.train_run_id AND name = 'rewards/accuracies'
            ORDER BY step DESC LIMIT 1) AS reward_accuracy
    FROM trained t
)
SELECT r.iteration,
       (SELECT dv.row_count FROM member m JOIN dataset_version dv ON dv.id = m.version_id
         WHERE m.round_id = r.id AND m.role = 'prompts') AS prompts,
       (SELECT dv.row_count FROM member m JOIN dataset_version dv ON dv.id = m.version_id
         WHERE m.round_id = r.id AND m.role = 'candidates') AS candidates,
       j.judgments, round(100.0 * j.parse_rate, 1) AS parse_pct, round(j.mean_score, 3) AS mean_score,
       (SELECT dv.row_count FROM member m JOIN dataset_version dv ON dv.id = m.version_id
         WHERE m.round_id = r.id AND m.role = 'pairs') AS pairs,
       (SELECT coalesce(json_extract(run.config, '$.policy'), 'best-worst')
               || CASE WHEN json_extract(run.config, '$.policy') = 'length-control' THEN ' ρ ' || json_extract(run.config, '$.rho')
                       WHEN json_extract(run.config, '$.policy') = 'anchored' THEN ' ' || json_extract(run.config, '$.anchor') ELSE '' END
          FROM member m JOIN dataset_version dv ON dv.id = m.version_id JOIN run ON run.id = dv.run_id
         WHERE m.round_id = r.id AND m.role = 'pairs') AS policy,
       lm.checkpoint, round(lm.reward_margin, 4) AS dpo_margin, round(lm.reward_accuracy, 3) AS dpo_accuracy
FROM r LEFT JOIN judged j ON j.round_id = r.id LEFT JOIN last_metric lm ON lm.round_id = r.id
ORDER BY r.iteration;
