#!/usr/bin/env bash
# Faults in the engine stages, through the CLI against the real engines: random SIGKILLs during gen-candidates and
# judge (SmolLM2 on llama.cpp's server, behind Tests/Fixtures/fault_proxy.py, which logs every request it forwards)
# and during a TRL training step, each stage rerun until it finishes; two experiments' stages at once on one store; a
# stage whose disk fills up (root: a small tmpfs). Checks after every kill: fsck clean, no trainer process left. At the
# end: every version's content hash and the trained weights equal a clean run's, and no call whose answer was already
# in the journal was sent again (the proxy's log against a journal snapshot taken before each invocation).
#
#   bench/faults/engine-kill-resume.sh            # 100 kills, a tenth of them in training (about 25 minutes on 2 cores)
#   bench/faults/engine-kill-resume.sh --kills 5  # the short CI version (about 4 minutes)
#   bench/faults/engine-kill-resume.sh --kills 100 --train-kills 0   # how many land in training (default: a tenth)
# Needs `make setup` (the .venv, llama.cpp's server, SmolLM2) and a build (SRLM=path picks the binary).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
KILLS=100 TRAIN_KILLS=""
while (($#)); do
    case $1 in
        --kills) KILLS=$2; shift 2 ;;
        --train-kills) TRAIN_KILLS=$2; shift 2 ;;
        *) echo "usage: $0 [--kills N] [--train-kills N]" >&2; exit 2 ;;
    esac
done
TRAIN_KILLS=${TRAIN_KILLS:-$(( KILLS / 10 > 0 ? KILLS / 10 : 1 ))}
STAGE_KILLS=$(( KILLS > TRAIN_KILLS ? KILLS - TRAIN_KILLS : 0 ))
B=${SRLM:-$root/.build/debug/srlm}
[[ -x $B ]] || { echo "build srlm first: swift build" >&2; exit 2; }
[[ -x $root/.venv/bin/python ]] || { echo "set up the engines first: make setup" >&2; exit 2; }

work=$(mktemp -d)
mounted="" server="" proxy=""
cleanup() {
    exec 7>&-  # the proxy exits when its stdin closes
    [[ -n $server ]] && kill "$server" 2>/dev/null
    [[ -n $proxy ]] && kill "$proxy" 2>/dev/null
    [[ -n $mounted ]] && umount "$mounted" 2>/dev/null
    wait 2>/dev/null
    if [[ -n ${KEEP_WORK:-} ]]; then echo "work folder kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The real server, and the logging proxy in front of it.
"$B" serve --port 0 --parallel 1 >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 180); do grep -qs '^serving' "$work/serve.log" && break; sleep 1; done
upstream=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1)
[[ -n $upstream ]] || { cat "$work/serve.log" >&2; fail "the server did not start"; }
mkfifo "$work/hold"
"$root/.venv/bin/python" "$root/Tests/Fixtures/fault_proxy.py" --upstream "$upstream" --log "$work/calls.log" \
    <"$work/hold" >"$work/proxy.json" &
proxy=$!
exec 7>"$work/hold"
for _ in $(seq 50); do [[ -s $work/proxy.json ]] && break; sleep 0.2; done
port=$(sed 's/[^0-9]//g' "$work/proxy.json")
[[ -n $port ]] || fail "the proxy did not start"
# llama.cpp gives the same text for the same seed only to a request computed alone (one slot: a request still
# running for a killed srlm is not batched with the next one) and without prompt-cache reuse (--reproducible).
model=(--endpoint "http://127.0.0.1:$port/v1" --weights-id smollm2-135m-q4_1 --reproducible --quiet)

gen=(gen-candidates --round 1 --prompts four@1 --n 2 --max-tokens 48 "${model[@]}")
judge=(judge --round 1 --samples 2 --max-tokens 48 --structured "${model[@]}")
train=(train sft --data ift@1 --max-steps 2 --batch-size 2 --per-device-batch-size 2 --max-length 128 --quiet)
# A store with the inputs (in experiment $2, default: default): 4 seed prompts to answer, the IFT rows to train on.
new_store() {
    local in=(--experiment "${2:-default}" --store "$1")
    "$B" init --store "$1" >/dev/null
    "$B" import prompts datasets/seeds.jsonl --format alpaca --name seeds "${in[@]}" >/dev/null
    "$B" derive four --from seeds@1 --where "ord % 6 = 0" "${in[@]}" >/dev/null
    "$B" import ift datasets/ift.jsonl --format alpaca "${in[@]}" >/dev/null
}
hash_of() { "$B" sql "SELECT content_hash FROM v_versions WHERE experiment = '${3:-default}' AND ref = '$2'" --format csv --store "$1" | sed -n 2p; }
weights_of() {
    "$B" sql "SELECT group_concat(sha256, ' ') FROM (SELECT f.sha256 FROM checkpoint_file f JOIN checkpoint c ON c.id = f.checkpoint_id
              WHERE c.name = 'SFT' AND f.format = 'hf' ORDER BY f.path)" --format csv --store "$1" | sed -n 2p
}
journal_keys() {
    "$B" sql "SELECT json_extract(request_json, '\$.request.seed') AS seed,
                     json_extract(request_json, '\$.request.messages[#-1].content') AS last
              FROM v_model_calls WHERE status = 'ok'" --format json --store "$1"
}

# The clean run every faulty one must end up equal to, and how long each stage takes.
clean=$work/clean/s.sqlite
mkdir -p "$work/clean"
new_store "$clean"
start=$(now); "$B" "${gen[@]}" --store "$clean" >/dev/null; t_gen=$(elapsed "$start")
start=$(now); "$B" "${judge[@]}" --store "$clean" >/dev/null; t_judge=$(elapsed "$start")
start=$(now); "$B" "${train[@]}" --store "$clean" >/dev/null; t_train=$(elapsed "$start")
want_candidates=$(hash_of "$clean" candidates@1)
want_judgments=$(hash_of "$clean" judgments@1)
want_weights=$(weights_of "$clean")
clean_calls=$(wc -l <"$work/calls.log")
echo "clean run: gen-candidates ${t_gen} s, judge ${t_judge} s, train ${t_train} s; $clean_calls calls"

kills=0 train_kills=0 invocations=0 fsck_failures=0 orphans=0
: >"$work/invocations"
# Runs a stage on a store until it finishes, killing it after a random fraction of its clean time while the kill
# budget lasts. Before each invocation the journal's answered calls are saved, for the resend check at the end.
until_done() {
    local store=$1 t=$2 budget=$3; shift 3
    while :; do
        invocations=$((invocations + 1))
        journal_keys "$store" >"$work/journal.$invocations.json"
        echo "$invocations $(now)" >>"$work/invocations"
        "$B" "$@" --store "$store" >"$work/last.log" 2>&1 &
        local pid=$! rc=0
        if ((budget > 0)); then
            sleep "$(awk -v t="$t" -v r=$((RANDOM % 1000)) 'BEGIN { printf "%.3f", t * r / 1000 }')"
            kill -9 "$pid" 2>/dev/null || true
        fi
        { wait "$pid"; } 2>/dev/null || rc=$?  # (no "Killed" line from bash)
        if ((rc == 0)); then return; fi
        ((rc == 137)) || { cat "$work/last.log" >&2; fail "srlm $* exited $rc"; }
        kills=$((kills + 1)) budget=$((budget - 1))
        "$B" fsck --store "$store" >/dev/null 2>&1 || fsck_failures=$((fsck_failures + 1))
    done
}

# gen-candidates and judge, episode after episode on a fresh store, until the stage kills have landed.
episode=0
while ((kills < STAGE_KILLS)); do
    episode=$((episode + 1))
    store=$work/e$episode/s.sqlite
    mkdir -p "$work/e$episode"
    new_store "$store"
    until_done "$store" "$t_gen" $((STAGE_KILLS - kills)) "${gen[@]}"
    until_done "$store" "$t_judge" $((STAGE_KILLS - kills)) "${judge[@]}"
    [[ $(hash_of "$store" candidates@1) == "$want_candidates" ]] || fail "episode $episode: candidates differ from the clean run"
    [[ $(hash_of "$store" judgments@1) == "$want_judgments" ]] || fail "episode $episode: judgments differ from the clean run"
    "$B" fsck --store "$store" >/dev/null || fail "episode $episode: fsck"
done
stage_episodes=$episode

# Training: killed while it loads, trains, saves or converts, episode after episode on a fresh store until the
# training kills have landed; the trainer's processes must go with srlm, and the weights equal the clean run's.
before=$kills train_episodes=0
while ((kills - before < TRAIN_KILLS)); do
    train_episodes=$((train_episodes + 1))
    store=$work/t$train_episodes/s.sqlite
    mkdir -p "$work/t$train_episodes"
    new_store "$store"
    until_done "$store" "$t_train" $((TRAIN_KILLS - (kills - before))) "${train[@]}"
    [[ $(weights_of "$store") == "$want_weights" ]] || fail "training episode $train_episodes: the weights differ from the clean run's"
done
train_kills=$((kills - before))
sleep 12  # engines/supervise.py polls for its parent every 0.5 s and gives the trainer 10 s to stop
orphans=$(pgrep -f "$work/t[0-9]*/srlm-runs" | wc -l || true)
((orphans == 0)) || fail "$orphans trainer processes outlived a killed srlm"

# No finished call sent twice: a request the proxy saw during invocation i must not be in the journal saved before it.
resent=$("$root/.venv/bin/python" - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
starts = [(int(n), float(t)) for n, t in (line.split() for line in open(f"{work}/invocations"))]
calls = [json.loads(line) for line in open(f"{work}/calls.log")]
finished_twice = 0
for i, (n, start) in enumerate(starts):
    end = starts[i + 1][1] if i + 1 < len(starts) else float("inf")
    journal = {(r["seed"], r["last"]) for r in json.load(open(f"{work}/journal.{n}.json"))}
    sent = [(c["seed"], c["last"]) for c in calls if start <= c["sent"] < end]
    finished_twice += sum(key in journal for key in sent)
print(finished_twice, len(calls))
EOF
)
read -r finished_twice total_calls <<<"$resent"
echo "kills: $kills ($((kills - train_kills)) in gen-candidates/judge over $stage_episodes episodes, $train_kills in training over $train_episodes), $invocations invocations"
echo "calls sent: $total_calls for $((stage_episodes + 1)) runs of $clean_calls calls (the rest: in flight when a kill landed, never answered to srlm); finished calls sent again: $finished_twice"
echo "fsck failures: $fsck_failures; trainer processes left: $orphans; every episode equals the clean run's candidates, judgments and weights"
((fsck_failures == 0 && finished_twice == 0)) || fail "faults left damage"

# Two experiments' stages at once on one store (their identical calls may both reach the server: the journal keeps one).
both=$work/both/s.sqlite
mkdir -p "$work/both"
new_store "$both" a
new_store "$both" b
both_pids=()
for e in a b; do
    ("$B" "${gen[@]}" --experiment "$e" --store "$both" >/dev/null &&
     "$B" "${judge[@]}" --experiment "$e" --store "$both" >/dev/null) &
    both_pids+=($!)
done
wait "${both_pids[@]}"  # (not a bare wait: the server and the proxy run until the end)
for e in a b; do
    [[ $(hash_of "$both" candidates@1 "$e") == "$want_candidates" && $(hash_of "$both" judgments@1 "$e") == "$want_judgments" ]] ||
        fail "experiment $e differs from the clean run"
done
"$B" fsck --store "$both" >/dev/null || fail "fsck after concurrent experiments"
echo "concurrent experiments: gen-candidates and judge of a and b equal the clean run, fsck clean"

# A disk that fills up during gen-candidates (root only: a small tmpfs).
disk=$work/disk
mkdir -p "$disk"
if mount -t tmpfs -o size=8m tmpfs "$disk" 2>/dev/null; then
    mounted=$disk
    new_store "$disk/s.sqlite"
    avail=$(df --output=avail -B1 "$disk" | tail -1)
    dd if=/dev/zero of="$disk/filler" bs=16k count=$(((avail - 65536) / 16384)) 2>/dev/null
    if "$B" "${gen[@]}" --store "$disk/s.sqlite" >"$work/full.log" 2>&1; then fail "gen-candidates succeeded on a full disk"; fi
    rm "$disk/filler"
    "$B" fsck --store "$disk/s.sqlite" >/dev/null || fail "fsck after a full disk"
    "$B" "${gen[@]}" --store "$disk/s.sqlite" >/dev/null
    [[ $(hash_of "$disk/s.sqlite" candidates@1) == "$want_candidates" ]] || fail "gen-candidates after freeing space differs"
    echo "full disk: gen-candidates refused ($(grep -m1 -i error "$work/full.log" | cut -c1-110)), fsck clean, resumed after space was freed"
else
    echo "full disk: skipped (mounting a tmpfs needs root)"
fi
echo "ok"
