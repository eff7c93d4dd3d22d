-- The judge against human rankings (the paper's Table 4), one row per `srlm eval judge` run: the checkpoint (its
-- name, also when it ran offline under its key, and the model key beside it), the
-- held-out data and template, then pairwise accuracy with its 95 % bootstrap interval, the ties-as-half variant,
-- 5-best, exact match, Spearman ρ and Kendall τ-b per prompt (averaged), the sample parse rate, the length bias and
-- what a random judge scores on the same data, with the scores it drew from (random_scores; runs before it was
-- recorded drew 1–5). `v_eval` has every figure with its interval and count.
WITH m AS (SELECT * FROM v_eval WHERE experiment = :experiment AND stage = 'eval-judge')
SELECT run_id, coalesce((SELECT c.name FROM run r JOIN checkpoint c ON c.experiment_id = r.experiment_id
                 JOIN checkpoint_file f ON f.checkpoint_id = c.id AND f.format = 'gguf'
                 WHERE r.id = run_id AND 'sha256:' || f.sha256 = json_extract(r.config, '$.modelKey') ORDER BY c.id LIMIT 1),
                model) AS model,
       (SELECT json_extract(r.config, '$.modelKey') FROM run r WHERE r.id = run_id) AS model_key, data, template, samples, structured,
       (SELECT json_extract(r.config, '$.sampling.maxTokens') FROM run r WHERE r.id = run_id) AS max_tokens,
       CAST(max(CASE WHEN metric = 'prompts' THEN value END) AS INTEGER) AS prompts,
       CAST(max(CASE WHEN metric = 'comparable_pairs' THEN value END) AS INTEGER) AS pairs,
       round(max(CASE WHEN metric = 'pairwiseAccuracy' THEN value END), 4) AS pairwise_acc,
       round(max(CASE WHEN metric = 'pairwiseAccuracy' THEN lo END), 4) AS pairwise_lo,
       round(max(CASE WHEN metric = 'pairwiseAccuracy' THEN hi END), 4) AS pairwise_hi,
       round(max(CASE WHEN metric = 'pairwiseAccuracyTiesHalf' THEN value END), 4) AS pairwise_ties_half,
       round(max(CASE WHEN metric = 'fiveBest' THEN value END), 4) AS five_best,
       round(max(CASE WHEN metric = 'exactMatch' THEN value END), 4) AS exact_match,
       round(max(CASE WHEN metric = 'spearmanPerPrompt' THEN value END), 4) AS spearman,
       round(max(CASE WHEN metric = 'kendallPerPrompt' THEN value END), 4) AS kendall,
       round(max(CASE WHEN metric = 'sampleParseRate' THEN value END), 4) AS parse_rate,
       round(max(CASE WHEN metric = 'lengthSpearman' THEN value END), 4) AS length_spearman,
       round(max(CASE WHEN metric = 'random.pairwiseAccuracy' THEN value END), 4) AS random_pairwise_acc,
       round(max(CASE WHEN metric = 'random.fiveBest' THEN value END), 4) AS random_five_best,
       coalesce((SELECT json_extract(r.stats, '$.random_scores') FROM run r WHERE r.id = run_id), '1–5') AS random_scores
FROM m GROUP BY run_id ORDER BY run_id;
