#!/usr/bin/env bash
# The store tour on the shared data and one small self-instruction round on SmolLM2 (CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
B=.build/debug/srlm; D=../shared/data; export SRLM_STORE=${SRLM_STORE:-demo.sqlite}
$B init
$B import ift "$D/oasst/en_trees_60.jsonl" --format oasst
$B import prompts "$D/oasst/en_trees_60.jsonl" --format oasst --name oasst-prompts
$B derive round1-prompts --from oasst-prompts@1 --where "ord < 8"
time $B gen-candidates --round 1 --prompts round1-prompts --n 4 --max-tokens 128
time $B judge --round 1 --samples 3 --structured
$B pairs --round 1
$B query pair-margins
$B log
