-- Is the policy better? One row per `srlm eval h2h` / `eval winrate` run: the two sides, the judge that compared
-- them (a checkpoint judging itself, another checkpoint, or an endpoint; a checkpoint's name also offline, with
-- the judge's model key beside it), prompts compared, A's win / tie / loss
-- rates with 95 % bootstrap intervals, the win rate with ties as half, the length-controlled win rate, the judge's
-- position consistency, and both sides' mean answer length (characters).
WITH m AS (SELECT * FROM v_eval WHERE experiment = :experiment AND stage = 'eval-compare')
SELECT m.run_id, json_extract(r.config, '$.kind') AS kind,
       json_extract(r.config, '$.aModel') AS a, json_extract(r.config, '$.bModel') AS b,
       coalesce((SELECT c.name FROM run r JOIN checkpoint c ON c.experiment_id = r.experiment_id
                 JOIN checkpoint_file f ON f.checkpoint_id = c.id AND f.format = 'gguf'
                 WHERE r.id = m.run_id AND 'sha256:' || f.sha256 = json_extract(r.config, '$.modelKey') ORDER BY c.id LIMIT 1),
                m.model) AS judge,
       (SELECT json_extract(r.config, '$.modelKey') FROM run r WHERE r.id = m.run_id) AS judge_key,
       CAST(max(CASE WHEN metric = 'items' THEN value END) AS INTEGER) AS items,
       round(max(CASE WHEN metric = 'win' THEN value END), 4) AS win,
       round(max(CASE WHEN metric = 'win' THEN lo END), 4) AS win_lo,
       round(max(CASE WHEN metric = 'win' THEN hi END), 4) AS win_hi,
       round(max(CASE WHEN metric = 'tie' THEN value END), 4) AS tie,
       round(max(CASE WHEN metric = 'tie' THEN lo END), 4) AS tie_lo,
       round(max(CASE WHEN metric = 'tie' THEN hi END), 4) AS tie_hi,
       round(max(CASE WHEN metric = 'loss' THEN value END), 4) AS loss,
       round(max(CASE WHEN metric = 'loss' THEN lo END), 4) AS loss_lo,
       round(max(CASE WHEN metric = 'loss' THEN hi END), 4) AS loss_hi,
       round(max(CASE WHEN metric = 'win_rate' THEN value END), 4) AS win_rate,
       round(max(CASE WHEN metric = 'lc_win_rate' THEN value END), 4) AS lc_win_rate,
       round(max(CASE WHEN metric = 'consistency' THEN value END), 4) AS consistency,
       round(max(CASE WHEN metric = 'a_length' THEN value END), 1) AS a_length,
       round(max(CASE WHEN metric = 'b_length' THEN value END), 1) AS b_length
FROM m JOIN run r ON r.id = m.run_id GROUP BY m.run_id ORDER BY m.run_id;
