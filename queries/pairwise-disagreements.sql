-- Where a pairwise judge and the human labels part (`srlm eval judge --mode pairwise`): per evaluation, each labelled
-- pair whose surviving verdict differs from the label or that got none, with both orders' verdicts (the second mapped
-- back to A and B) and the prompt. `srlm show <ref> --side-by-side` shows the replies and rationales.
SELECT ref, model, labeled_ref, ord, label, verdict, verdict_ab, verdict_ba,
       CASE WHEN verdict IS NULL THEN 'no verdict' WHEN verdict = 'tie' THEN 'judge tie' ELSE 'disagree' END AS why,
       prompt_text
FROM v_pairwise_verdicts
WHERE experiment = :experiment AND (agree IS NULL OR NOT agree)
ORDER BY ref, ord;
