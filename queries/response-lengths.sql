-- Response length per round (characters of the candidate's answer; tokens where the engine reported them), and of
-- the chosen vs rejected side of the pairs: length inflation shows here first.
SELECT r.iteration, count(*) AS candidates,
       round(avg(length(json_extract(srlm_text(c.response), '$[#-1].content'))), 1) AS mean_chars,
       round(avg(c.completion_tokens), 1) AS mean_tokens,
       (SELECT round(avg(length(json_extract(srlm_text(p.chosen), '$[#-1].content'))), 1)
          FROM round_member pm JOIN pair p ON p.version_id = pm.version_id
         WHERE pm.round_id = r.id AND pm.role = 'pairs') AS chosen_chars,
       (SELECT round(avg(length(json_extract(srlm_text(p.rejected), '$[#-1].content'))), 1)
          FROM round_member pm JOIN pair p ON p.version_id = pm.version_id
         WHERE pm.round_id = r.id AND pm.role = 'pairs') AS rejected_chars
FROM round r
JOIN experiment e ON e.id = r.experiment_id AND e.name = :experiment
JOIN round_member m ON m.round_id = r.id AND m.role = 'candidates'
JOIN candidate c ON c.version_id = m.version_id
GROUP BY r.id
ORDER BY r.iteration;
