-- The same prompt in several rounds: per round, its candidates, their best and worst mean judge score, and the reply
-- the round's pairs chose. Candidates are matched with their own round's judgments and pairs (v_prompt_candidates), so
-- a prompt asked again in a later round is not scored with the earlier round's samples.
WITH c AS (
    SELECT * FROM v_prompt_candidates WHERE experiment = :experiment AND round IS NOT NULL
),
repeated AS (
    SELECT prompt_id FROM c GROUP BY prompt_id HAVING count(DISTINCT round) > 1
)
SELECT c.prompt_text, c.round, c.model, count(*) AS candidates,
       round(max(c.mean_score), 3) AS best_mean, round(min(c.mean_score), 3) AS worst_mean,
       max(CASE WHEN c.chosen THEN c.response_text END) AS chosen_text
FROM c JOIN repeated USING (prompt_id)
GROUP BY c.prompt_id, c.round
ORDER BY c.prompt_text, c.round;
