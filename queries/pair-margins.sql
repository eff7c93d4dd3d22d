-- Pair counts and score margins per round.
SELECT r.iteration, count(*) AS pairs, round(avg(p.chosen_score - p.rejected_score), 3) AS mean_margin,
       min(p.chosen_score - p.rejected_score) AS min_margin, max(p.chosen_score - p.rejected_score) AS max_margin,
       round(avg(p.chosen_score), 3) AS mean_chosen, round(avg(p.rejected_score), 3) AS mean_rejected
FROM round r
JOIN experiment e ON e.id = r.experiment_id AND e.name = :experiment
JOIN round_member m ON m.round_id = r.id AND m.role = 'pairs'
JOIN pair p ON p.version_id = m.version_id
GROUP BY r.iteration
ORDER BY r.iteration;
