#!/usr/bin/env bash
# The README's main job: SFT and two self-rewarding rounds with SmolLM2-135M on CPU, from the datasets/ samples,
# ending with the round history. A 135M model is here to run the machinery, not to improve.
# Rerunning resumes: finished steps are reused, interrupted ones ask only what the journal lacks.
# Usage: engines/demo.sh   (after `make setup release`; SRLM_STORE picks the store, default demo.sqlite; SRLM the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${SRLM:-.build/release/srlm}
export SRLM_STORE=${SRLM_STORE:-demo.sqlite}

$B init
$B import ift datasets/ift.jsonl --format alpaca
$B import ranked datasets/ranked.jsonl --format oasst
$B import prompts datasets/seeds.jsonl --format alpaca --name seeds
$B import ift datasets/probe.jsonl --format trl --name probe

# Small on purpose: 4 prompts a round, 4 candidates, 2 judge samples, a few trainer steps of 8 examples. --structured judging
# because SmolLM2-135M's free-form judgments rarely parse (the probe shows how rarely), and EFT targets written
# from the human ranks (--eft-targets human): judged by SmolLM2 itself, almost none would agree with the humans.
start=$(date +%s)
$B loop --iterations 2 --prompts-per-round 4 --candidates 4 --judge-samples 2 --structured \
  --eft-targets human --no-baseline --seeds seeds --probe probe --min-pairs 1 \
  --sft-max-steps 8 --dpo-max-steps 6 --train-batch-size 8 --max-length 512 \
  --prompt-max-tokens 64 --candidate-max-tokens 128 --judge-max-tokens 128 --quiet
echo "loop: $(( $(date +%s) - start )) s"

echo; echo "== Free-form judge parse rate on the probe set, per checkpoint (M0 before EFT, M1 after it, M2, M3)"
$B query judge-probe
echo; echo "== Round history"
$B query round-history
echo; echo "== Checkpoints"
$B checkpoints

# Did the rounds work? Each checkpoint judges the ranked prompts no training step saw (not in the IFT data, not in
# the EFT train split) with the loop's judge settings; the random judge is printed beside every figure. At this
# scale (a handful of held-out prompts) the intervals are wide: the README shows the same commands on the OASST trees.
echo; echo "== The judge against human rankings, per checkpoint (held-out ranked prompts)"
for m in M0 M1 M2 M3; do
  $B eval judge --model "$m" --data ranked --exclude ift eft --samples 2 --max-tokens 128 --structured --quiet
done
$B query judge-health
$B report --out demo-report.html
echo; echo "The demo shows the machinery at toy scale; the measured local reproduction (SFT baseline, M1, M2, M3 in"
echo "under an hour, with the paper's figures beside ours) is \`make experiment\`, its results docs/RESULTS.md."
