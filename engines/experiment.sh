#!/usr/bin/env bash
# `make experiment`: the local reproduction. SmolLM2-135M-Instruct on CPU: the IFT-only SFT baseline, M1 (IFT +
# EFT from human-ranked OpenAssistant replies), then M2 and M3 by self-rewarding DPO, with the plan in
# experiments/smollm2-cpu.yaml. Then each checkpoint is measured: the free-form judge parse rate on a probe set
# (inside the loop), Table 4 on the OASST prompts no training step saw, head to head M2 vs M1 and M3 vs SFT judged by
# M0 (the untouched SmolLM2-135M-Instruct: the strongest judge on this machine, and a weak one: its own Table-4
# figures are in the report). The report goes to docs/RESULTS.md. Rerunning resumes; every call is journaled.
#
#   engines/experiment.sh                      # about 50 minutes on 2 cores (after `make setup release`)
#   PLAN=my.yaml SRLM_STORE=x.sqlite RESULTS=x.md engines/experiment.sh
# Environment: PLAN (the loop's plan file), LOOP_FLAGS (flags that override it), SRLM_STORE (default
# experiment.sqlite), RESULTS (default docs/RESULTS.md), SRLM (the binary), OASST (the ranked trees), SLICE (every
# SLICE-th AlpacaEval row goes to the probe and the head-to-head prompts; default 25: 33 each), EVAL_MODELS (Table 4;
# default M0 SFT M1 M2 M3), EVAL_SAMPLES / EVAL_MAX_TOKENS (its judging), H2H (A:B pairs; default M2:M1 M3:SFT),
# NOTES (a notes file for the report; '' for none).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${SRLM:-$PWD/.build/release/srlm}
D=${DATA:-../shared/data}
PLAN=${PLAN:-experiments/smollm2-cpu.yaml}
RESULTS=${RESULTS:-docs/RESULTS.md}
TEMPLATE=experiments/judge-short.txt
export SRLM_STORE=${SRLM_STORE:-experiment.sqlite}
start=$(date +%s)

$B init
# IFT: 35 of Self-Instruct's 175 human-written seed tasks (every fifth); all 175 are the shots of self-instruction.
$B import ift "$D/self-instruct/seed_tasks.jsonl" --format self-instruct --name seed-tasks
$B derive ift --from seed-tasks@1 --where "ord % 5 = 0"
# EFT source and Table-4 data: 60 OpenAssistant trees with human-ranked replies (the loop splits them 30/70).
$B import ranked "${OASST:-$D/oasst/en_trees_60.jsonl}" --format oasst --name oasst
# Probe set and head-to-head prompts: disjoint slices of AlpacaEval (Alpaca-7B's answers, shorter than GPT-4's).
$B import ift "$D/alpaca-eval/alpaca-7b_model_outputs.json" --format alpaca-eval --name alpaca-eval
SLICE=${SLICE:-25}
$B derive probe --from alpaca-eval@1 --where "ord % $SLICE = 1"
$B derive h2h-prompts --from alpaca-eval@1 --where "ord % $SLICE = 2"

# shellcheck disable=SC2086 # LOOP_FLAGS is a list of flags
$B loop --plan "$PLAN" ${LOOP_FLAGS:-} --quiet
echo; $B query round-history

# Table 4 on the held-out OASST prompts: the loop's template, one structured sample per reply, with room for the
# grammar's justification (up to 400 characters) before the score line: an untrained judge writes all of it.
for m in ${EVAL_MODELS:-M0 SFT M1 M2 M3}; do
  $B eval judge --model "$m" --data oasst --exclude ift eft --samples "${EVAL_SAMPLES:-1}" \
    --max-tokens "${EVAL_MAX_TOKENS:-160}" --structured --template "$TEMPLATE" --quiet
done
for pair in ${H2H-M2:M1 M3:SFT}; do
  $B eval h2h --a "${pair%%:*}" --b "${pair##*:}" --prompts h2h-prompts --judge M0 --structured --max-tokens 128 --quiet
done
mkdir -p "$(dirname "$RESULTS")"
NOTES=${NOTES-experiments/smollm2-cpu.notes.md}  # the reading of the committed run's figures ('' for none)
$B report --format md --out "$RESULTS" ${NOTES:+--notes "$NOTES"}
echo "experiment: $(( $(date +%s) - start )) s; results in $RESULTS (store $SRLM_STORE)"
