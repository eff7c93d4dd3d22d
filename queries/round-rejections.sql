-- Prompts the self-instruct filters turned away, per round and reason: the gen-prompts run that made each round's
-- prompts, and its prompt_rejection rows.
SELECT r.iteration, x.reason, count(*) AS rejected
FROM round r JOIN experiment e ON e.id = r.experiment_id
JOIN round_member m ON m.round_id = r.id AND m.role = 'prompts'
JOIN dataset_version dv ON dv.id = m.version_id
JOIN prompt_rejection x ON x.run_id = dv.run_id
WHERE e.name = :experiment
GROUP BY r.iteration, x.reason
ORDER BY r.iteration, rejected DESC, x.reason;
