-- The judge against human pairwise labels, one row per run: `srlm eval judge --mode pairwise` (mode pairwise: the
-- judge compares both replies, in both orders) or `eval judge` on labelled pairs (mode pointwise: each reply scored
-- alone, the higher mean wins). The judge (a checkpoint's name also when it ran offline under its key, and the
-- model key beside it), the labelled data, pairs judged, pairs with a verdict (pairwise: both
-- orders parsed), pairs people did not call a tie, then accuracy over those (a judge tie, an order-inconsistent or
-- an unparsed verdict is wrong) with its 95 % bootstrap interval, three-class agreement (a / b / tie), Cohen's κ,
-- the unparsed rate, the judge's position consistency (pairwise: same verdict after swapping the replies) and the
-- sample parse rate (pointwise). `v_eval` has every figure with its interval and count.
WITH m AS (SELECT * FROM v_eval WHERE experiment = :experiment AND stage IN ('eval-pairwise', 'eval-pointwise-pairs'))
SELECT run_id, CASE stage WHEN 'eval-pairwise' THEN 'pairwise' ELSE 'pointwise' END AS mode,
       coalesce((SELECT c.name FROM run r JOIN checkpoint c ON c.experiment_id = r.experiment_id
                 JOIN checkpoint_file f ON f.checkpoint_id = c.id AND f.format = 'gguf'
                 WHERE r.id = run_id AND 'sha256:' || f.sha256 = json_extract(r.config, '$.modelKey') ORDER BY c.id LIMIT 1),
                model) AS model,
       (SELECT json_extract(r.config, '$.modelKey') FROM run r WHERE r.id = run_id) AS model_key, data, template,
       samples, structured,
       CAST(max(CASE WHEN metric = 'items' THEN value END) AS INTEGER) AS items,
       CAST(max(CASE WHEN metric = 'decided' THEN value END) AS INTEGER) AS decided,
       CAST(max(CASE WHEN metric = 'decisive' THEN value END) AS INTEGER) AS decisive,
       round(max(CASE WHEN metric = 'accuracy' THEN value END), 4) AS accuracy,
       round(max(CASE WHEN metric = 'accuracy' THEN lo END), 4) AS accuracy_lo,
       round(max(CASE WHEN metric = 'accuracy' THEN hi END), 4) AS accuracy_hi,
       round(max(CASE WHEN metric = 'agreement' THEN value END), 4) AS agreement,
       round(max(CASE WHEN metric = 'agreement' THEN lo END), 4) AS agreement_lo,
       round(max(CASE WHEN metric = 'agreement' THEN hi END), 4) AS agreement_hi,
       round(max(CASE WHEN metric = 'kappa' THEN value END), 4) AS kappa,
       round(max(CASE WHEN metric = 'kappa' THEN lo END), 4) AS kappa_lo,
       round(max(CASE WHEN metric = 'kappa' THEN hi END), 4) AS kappa_hi,
       round(max(CASE WHEN metric = 'unparsed_rate' THEN value END), 4) AS unparsed_rate,
       round(max(CASE WHEN metric = 'consistency' THEN value END), 4) AS consistency,
       round(max(CASE WHEN metric = 'consistency' THEN lo END), 4) AS consistency_lo,
       round(max(CASE WHEN metric = 'consistency' THEN hi END), 4) AS consistency_hi,
       round(max(CASE WHEN metric = 'sample_parse_rate' THEN value END), 4) AS sample_parse_rate
FROM m GROUP BY run_id ORDER BY run_id;
