#!/usr/bin/env python3
"""Cross-check srlm's ranked-agreement metrics with scipy.

Reads a JSON file of human-ranked prompts, [{"replies": [{"rank": 0, "score": 4.5, "length": 120}, ...]}, ...]
(rank 0 = best; score = the judge's mean score, null when no sample parsed), and prints as JSON:
spearmanPerPrompt / kendallPerPrompt (scipy's spearmanr / kendalltau (τ-b) per prompt over its scored replies,
averaged over the prompts where defined), spearmanPooled / kendallPooled (over all scored replies), and
pairwiseAccuracy (reply pairs with different ranks; a judge tie or an unscored reply counts wrong). Prompts with
fewer than 2 replies are ignored, as srlm ignores them. Usage: python3 metrics_check.py FILE
"""
import json
import math
import sys
import warnings

from scipy.stats import kendalltau, spearmanr

warnings.simplefilter("ignore")  # scipy warns on constant input; the nan it returns is skipped below


def main(path):
    with open(path) as handle:
        prompts = [p["replies"] for p in json.load(handle) if len(p["replies"]) >= 2]
    per_prompt = {"spearman": [], "kendall": []}
    goodness, scores = [], []
    pairs = correct = 0
    for replies in prompts:
        scored = [r for r in replies if r["score"] is not None]
        g = [-r["rank"] for r in scored]  # negated so that higher is better on both sides
        s = [r["score"] for r in scored]
        goodness += g
        scores += s
        if len(scored) >= 2:
            for name, function in (("spearman", spearmanr), ("kendall", kendalltau)):
                value = function(g, s)[0]
                if not math.isnan(value):
                    per_prompt[name].append(value)
        for i, first in enumerate(replies):
            for second in replies[i + 1:]:
                if first["rank"] == second["rank"]:
                    continue
                pairs += 1
                if first["score"] is None or second["score"] is None or first["score"] == second["score"]:
                    continue
                correct += (first["score"] > second["score"]) == (first["rank"] < second["rank"])

    def mean(values):
        return sum(values) / len(values) if values else None

    def defined(value):
        return None if math.isnan(value) else float(value)

    print(json.dumps({
        "spearmanPerPrompt": mean(per_prompt["spearman"]),
        "kendallPerPrompt": mean(per_prompt["kendall"]),
        "spearmanPooled": defined(spearmanr(goodness, scores)[0]) if len(scores) >= 2 else None,
        "kendallPooled": defined(kendalltau(goodness, scores)[0]) if len(scores) >= 2 else None,
        "pairwiseAccuracy": correct / pairs if pairs else None,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
