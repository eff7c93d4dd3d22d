-- Judge health per round: is the self-judge still telling candidates apart? Per iteration: judge samples, the share
-- that did not parse, the sample score histogram (0…5), saturation (share of samples scoring 5), the share of prompts
-- whose scored candidates all tie (no pair), the mean spread (max − min) of a candidate's k samples, pairs kept,
-- chosen and rejected reply length (characters) and their ratio, and the Pearson correlation of a candidate's mean
-- score with its length. Known collapses: saturation near 100 %, parse failures rising, ties swallowing prompts,
-- chosen length growing much faster than rejected (Meta-Rewarding's length inflation).
WITH r AS (
    SELECT r.id, r.iteration FROM round r JOIN experiment e ON e.id = r.experiment_id WHERE e.name = :experiment
),
member AS (
    SELECT m.round_id, m.role, m.version_id FROM round_member m JOIN r ON r.id = m.round_id WHERE m.version_id IS NOT NULL
),
sample AS (
    SELECT m.round_id, j.prompt, j.response, j.score FROM member m JOIN judgment j ON j.version_id = m.version_id
    WHERE m.role = 'judgments'
),
samples AS (
    SELECT round_id, count(*) AS n, avg(score IS NULL) AS unparsed, avg(coalesce(score = 5, 0)) AS top
    FROM sample GROUP BY round_id
),
candidate AS (
    SELECT round_id, prompt, response, avg(score) AS mean, max(score) - min(score) AS spread, count(score) AS parsed
    FROM sample GROUP BY round_id, prompt, response
),
by_prompt AS (
    SELECT round_id, prompt, max(mean) = min(mean) AS tied FROM candidate WHERE parsed > 0 GROUP BY round_id, prompt
    HAVING count(*) >= 2
),
sized AS (
    SELECT round_id, mean AS x, length(json_extract(srlm_text(response), '$[#-1].content')) AS y
    FROM candidate WHERE parsed > 0
),
correlation AS (
    SELECT round_id,
           (count(*) * sum(x * y) - sum(x) * sum(y))
           / nullif(sqrt(count(*) * sum(x * x) - sum(x) * sum(x)) * sqrt(count(*) * sum(y * y) - sum(y) * sum(y)), 0) AS r
    FROM sized GROUP BY round_id
),
pairs AS (
    SELECT m.round_id, count(*) AS pairs,
           avg(length(json_extract(srlm_text(p.chosen), '$[#-1].content'))) AS chosen_len,
           avg(length(json_extract(srlm_text(p.rejected), '$[#-1].content'))) AS rejected_len,
           avg(p.chosen_score - p.rejected_score) AS margin
    FROM member m JOIN pair p ON p.version_id = m.version_id WHERE m.role = 'pairs' GROUP BY m.round_id
)
SELECT r.iteration, s.n AS judge_samples,
       round(100.0 * s.unparsed, 1) AS unparsed_pct,
       (SELECT group_concat(bucket || ':' || n, ' ') FROM (
            SELECT CAST(score AS INTEGER) AS bucket, count(*) AS n FROM sample
            WHERE sample.round_id = r.id AND score IS NOT NULL GROUP BY bucket ORDER BY bucket)) AS score_histogram,
       round(100.0 * s.top, 1) AS saturation_pct,
       (SELECT round(100.0 * avg(tied), 1) FROM by_prompt b WHERE b.round_id = r.id) AS all_tied_prompt_pct,
       (SELECT round(avg(spread), 3) FROM candidate c WHERE c.round_id = r.id AND parsed > 1) AS mean_sample_spread,
       p.pairs, round(p.margin, 3) AS mean_margin,
       round(p.chosen_len, 1) AS chosen_len, round(p.rejected_len, 1) AS rejected_len,
       round(p.chosen_len / nullif(p.rejected_len, 0), 3) AS length_ratio,
       round(c.r, 3) AS length_score_r
FROM r LEFT JOIN samples s ON s.round_id = r.id LEFT JOIN pairs p ON p.round_id = r.id
LEFT JOIN correlation c ON c.round_id = r.id
WHERE s.n IS NOT NULL
ORDER BY r.iteration;
