-- How the data moved round to round (the means behind `srlm diff --rounds`): per round, candidates and their mean
-- length in characters and completion tokens, the judge's mean score, pairs with their mean margin and the mean
-- length of chosen and rejected replies.
WITH r AS (
    SELECT r.id, r.iteration FROM round r JOIN experiment e ON e.id = r.experiment_id WHERE e.name = :experiment
),
member AS (
    SELECT m.round_id, m.role, m.version_id FROM round_member m JOIN r ON r.id = m.round_id WHERE m.version_id IS NOT NULL
)
SELECT r.iteration,
       (SELECT count(*) FROM member m JOIN candidate c ON c.version_id = m.version_id WHERE m.round_id = r.id AND m.role = 'candidates') AS candidates,
       (SELECT round(avg(length(json_extract(srlm_text(c.response), '$[#-1].content'))), 1) FROM member m
          JOIN candidate c ON c.version_id = m.version_id WHERE m.round_id = r.id AND m.role = 'candidates') AS candidate_chars,
       (SELECT round(avg(c.completion_tokens), 1) FROM member m JOIN candidate c ON c.version_id = m.version_id
          WHERE m.round_id = r.id AND m.role = 'candidates') AS candidate_tokens,
       (SELECT round(avg(j.score), 3) FROM member m JOIN judgment j ON j.version_id = m.version_id
          WHERE m.round_id = r.id AND m.role = 'judgments') AS mean_score,
       (SELECT count(*) FROM member m JOIN pair p ON p.version_id = m.version_id WHERE m.round_id = r.id AND m.role = 'pairs') AS pairs,
       (SELECT round(avg(p.chosen_score - p.rejected_score), 3) FROM member m JOIN pair p ON p.version_id = m.version_id
          WHERE m.round_id = r.id AND m.role = 'pairs') AS mean_margin,
       (SELECT round(avg(length(json_extract(srlm_text(p.chosen), '$[#-1].content'))), 1) FROM member m
          JOIN pair p ON p.version_id = m.version_id WHERE m.round_id = r.id AND m.role = 'pairs') AS chosen_chars,
       (SELECT round(avg(length(json_extract(srlm_text(p.rejected), '$[#-1].content'))), 1) FROM member m
          JOIN pair p ON p.version_id = m.version_id WHERE m.round_id = r.id AND m.role = 'pairs') AS rejected_chars
FROM r WHERE EXISTS (SELECT 1 FROM member m WHERE m.round_id = r.id AND m.role = 'candidates')
ORDER BY r.iteration;
