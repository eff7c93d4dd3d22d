-- Do two judges agree on the same candidates — this round's judge and the previous round's (`srlm judge --round 2
-- --model M1 --keep-round` judges round 2's candidates with M1 without replacing the round's judgments)? For every two
-- judge runs over the same candidates version with different judges: candidates both scored, the Pearson correlation
-- of their mean scores, and the share of same-prompt candidate pairs the two order alike (both tie counts as alike).
WITH j AS (
    SELECT dv.id AS version_id, d.name || '@' || dv.version AS ref, ri.version_id AS candidates_id,
           json_extract(r.config, '$.model') AS judge, json_extract(r.config, '$.round') AS round
    FROM run r JOIN experiment e ON e.id = r.experiment_id JOIN run_input ri ON ri.run_id = r.id
    JOIN dataset_version dv ON dv.run_id = r.id JOIN dataset d ON d.id = dv.dataset_id
    WHERE r.stage = 'judge' AND r.status = 'finished' AND e.name = :experiment
),
mean AS (
    SELECT j.version_id, x.prompt, x.response, avg(x.score) AS s
    FROM j JOIN judgment x ON x.version_id = j.version_id WHERE x.score IS NOT NULL GROUP BY j.version_id, x.prompt, x.response
),
both AS (
    SELECT a.version_id AS va, b.version_id AS vb, ma.prompt, ma.response, ma.s AS sa, mb.s AS sb
    FROM j a JOIN j b ON a.candidates_id = b.candidates_id AND a.version_id < b.version_id AND a.judge <> b.judge
    JOIN mean ma ON ma.version_id = a.version_id
    JOIN mean mb ON mb.version_id = b.version_id AND mb.prompt = ma.prompt AND mb.response = ma.response
),
orders AS (
    SELECT x.va, x.vb, ((x.sa - y.sa) * (x.sb - y.sb) > 0) OR (x.sa = y.sa AND x.sb = y.sb) AS alike
    FROM both x JOIN both y ON x.va = y.va AND x.vb = y.vb AND x.prompt = y.prompt AND x.response < y.response
)
SELECT ja.round, ja.ref AS judgments_a, ja.judge AS judge_a, jb.ref AS judgments_b, jb.judge AS judge_b,
       count(*) AS candidates,
       round((count(*) * sum(sa * sb) - sum(sa) * sum(sb))
             / nullif(sqrt(count(*) * sum(sa * sa) - sum(sa) * sum(sa)) * sqrt(count(*) * sum(sb * sb) - sum(sb) * sum(sb)), 0), 3)
           AS score_r,
       (SELECT count(*) FROM orders o WHERE o.va = b.va AND o.vb = b.vb) AS candidate_pairs,
       (SELECT round(100.0 * avg(alike), 1) FROM orders o WHERE o.va = b.va AND o.vb = b.vb) AS order_agreement_pct
FROM both b JOIN j ja ON ja.version_id = b.va JOIN j jb ON jb.version_id = b.vb
GROUP BY b.va, b.vb ORDER BY ja.round, b.va, b.vb;
