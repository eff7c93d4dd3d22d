-- Judging per prompt category (from `srlm categorize`), per round and per judge: candidates judged, parse rate, mean
-- score and its spread. With several judges (`srlm judge --judges`) the rows of one category set the judges side by
-- side: where their mean scores part is where they disagree. Uncategorized prompts count as '(none)'.
WITH cat AS (
    -- each prompt's newest category in the experiment
    SELECT p.prompt, p.category FROM prompt p
    JOIN dataset_version v ON v.id = p.version_id JOIN dataset d ON d.id = v.dataset_id
    JOIN experiment e ON e.id = d.experiment_id AND e.name = :experiment
    WHERE p.category IS NOT NULL
      AND v.id = (SELECT max(p2.version_id) FROM prompt p2 JOIN dataset_version v2 ON v2.id = p2.version_id
                  JOIN dataset d2 ON d2.id = v2.dataset_id
                  WHERE p2.prompt = p.prompt AND p2.category IS NOT NULL AND d2.experiment_id = d.experiment_id)
)
SELECT r.iteration AS round, coalesce(cat.category, '(none)') AS category, j.judge_model AS judge,
       count(DISTINCT j.prompt || ':' || j.response) AS candidates, count(*) AS judgments,
       round(100.0 * avg(j.score IS NOT NULL), 1) AS parse_pct, round(avg(j.score), 3) AS mean_score,
       round(sqrt(max(avg(j.score * j.score) - avg(j.score) * avg(j.score), 0)), 3) AS score_sd
FROM round r
JOIN experiment e ON e.id = r.experiment_id AND e.name = :experiment
JOIN round_member m ON m.round_id = r.id AND m.role = 'judgments'
JOIN judgment j ON j.version_id = m.version_id
LEFT JOIN (SELECT DISTINCT prompt, category FROM cat) cat ON cat.prompt = j.prompt
GROUP BY r.iteration, category, j.judge_model
ORDER BY r.iteration, category, j.judge_model;
