-- Judge score distribution per round: how many judgments fell in each score bucket (rounded), and parse failures.
SELECT r.iteration, coalesce(CAST(round(j.score) AS INTEGER), 'unparsed') AS score, count(*) AS judgments,
       round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY r.iteration), 1) AS pct
FROM round r
JOIN experiment e ON e.id = r.experiment_id AND e.name = :experiment
JOIN round_member m ON m.round_id = r.id AND m.role = 'judgments'
JOIN judgment j ON j.version_id = m.version_id
GROUP BY r.iteration, 2
ORDER BY r.iteration, 2;
