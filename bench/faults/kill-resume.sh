#!/usr/bin/env bash
# Faults at the store level, through the CLI as a user drives it: random SIGKILLs during import, export, derive,
# compact, rm and gc (each rerun to completion afterwards), two experiments writing one store at once, and a disk that fills up.
# Checks: fsck clean after every kill, no temporary export file left, final content hashes equal a clean run's.
# The engine stages (gen-candidates, judge, train) have their own script: bench/faults/engine-kill-resume.sh.
#
#   bench/faults/kill-resume.sh            # 100 kills (about 5 minutes on 2 cores, debug build)
#   bench/faults/kill-resume.sh --kills 5  # the short CI version
set -euo pipefail
cd "$(dirname "$0")/../.."
KILLS=100
[[ ${1:-} == --kills ]] && KILLS=$2
B=${SRLM:-$PWD/.build/debug/srlm}
DATA=${DATA:-$PWD/../shared/data/hh-rlhf/harmless-base_test.jsonl.gz}
[[ -x $B ]] || { echo "build srlm first: swift build" >&2; exit 2; }
[[ -r $DATA ]] || { echo "missing $DATA" >&2; exit 2; }

work=$(mktemp -d)
mounted=""
cleanup() { [[ -n $mounted ]] && umount "$mounted" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
hash_of() { "$B" sql "SELECT content_hash FROM v_versions WHERE experiment = '$2' AND ref = '$3'" --format csv --store "$1" | sed -n 2p; }

# The clean run every faulty one must end up equal to, and how long each command takes.
clean=$work/clean.sqlite
"$B" init --store "$clean" >/dev/null
timed() { local start; start=$(date +%s.%N); "$@" >/dev/null 2>&1; awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
t_import=$(timed "$B" import pairs "$DATA" --name hh --store "$clean")
t_derive=$(timed "$B" derive short --from hh@1 --where "length(chosen_text) < 200" --store "$clean")
t_export=$(timed "$B" export hh --format trl -o "$work/clean.jsonl" --store "$clean")
want_hh=$(hash_of "$clean" default hh@1)
want_short=$(hash_of "$clean" default short@1)
t_compact=$(timed "$B" compact --store "$clean")
[[ $(hash_of "$clean" default hh@1) == "$want_hh" ]] || fail "compact changed hh@1's content hash"
sqlite3 "$clean" ".backup '$work/scratch.sqlite'"
t_rm=$(timed "$B" rm short --store "$work/scratch.sqlite")
t_gc=$(timed "$B" gc --apply --store "$work/scratch.sqlite")

# Random kills: an import, a derive, an export, a compaction, a removal or a gc, killed after a random fraction of its clean time, until
# $KILLS kills have landed (a command that finishes first does not count).
store=$work/killed.sqlite
"$B" init --store "$store" >/dev/null
kills=0 finished=0 fsck_failures=0 leftovers=0 round=0
while ((kills < KILLS && round < 3 * KILLS + 20)); do
    round=$((round + 1))
    case $((RANDOM % 6)) in
        0) cmd=(import pairs "$DATA" --name hh) t=$t_import ;;
        1) cmd=(derive short --from hh --where "length(chosen_text) < 200") t=$t_derive ;;
        2) cmd=(export hh --format trl -o "$work/out.jsonl" --force) t=$t_export ;;
        3) cmd=(compact) t=$t_compact ;;
        4) cmd=(rm short) t=$t_rm ;;
        5) cmd=(gc --apply) t=$t_gc ;;
    esac
    "$B" "${cmd[@]}" --store "$store" >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v t="$t" -v r=$((RANDOM % 1000)) 'BEGIN { printf "%.3f", t * r / 1000 }')"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); else finished=$((finished + 1)); fi
    wait "$pid" 2>/dev/null || true
    "$B" fsck --store "$store" >/dev/null 2>&1 || fsck_failures=$((fsck_failures + 1))
    leftovers=$((leftovers + $(find "$work" -name '.out.jsonl.*.tmp' | wc -l)))
    if [[ -e $work/out.jsonl ]] && ! cmp -s "$work/out.jsonl" "$work/clean.jsonl"; then fail "a partial export is in place (round $round)"; fi
done
# Resume: whatever the kills left, running each command to the end gives the clean run's content.
"$B" import pairs "$DATA" --name hh --store "$store" >/dev/null
"$B" derive short --from hh@1 --where "length(chosen_text) < 200" --store "$store" >/dev/null
[[ $(hash_of "$store" default hh@1) == "$want_hh" ]] || fail "hh@1 differs from the clean run"
[[ $(hash_of "$store" default short@1) == "$want_short" ]] || fail "short@1 differs from the clean run"
versions=$("$B" sql "SELECT count(*) FROM dataset_version" --format csv --store "$store" | sed -n 2p)
echo "kills: $kills landed in $round rounds ($finished commands finished first); fsck failures: $fsck_failures; temporary files left: $leftovers; versions: $versions (want 2)"
((kills == KILLS && fsck_failures == 0 && leftovers == 0 && versions == 2)) || fail "faults left damage"

# Two experiments writing one store at once.
both=$work/both.sqlite
"$B" init --store "$both" >/dev/null
for e in a b; do
    ("$B" import pairs "$DATA" --name hh --experiment "$e" --store "$both" >/dev/null &&
     "$B" derive short --from hh@1 --where "length(chosen_text) < 200" --experiment "$e" --store "$both" >/dev/null) &
done
wait
for e in a b; do
    [[ $(hash_of "$both" "$e" hh@1) == "$want_hh" && $(hash_of "$both" "$e" short@1) == "$want_short" ]] ||
        fail "experiment $e differs from the clean run"
done
"$B" fsck --store "$both" >/dev/null || fail "fsck after concurrent experiments"
echo "concurrent experiments: a and b equal the clean run, fsck clean"

# A full disk: a small tmpfs (root only), filled up before the import.
disk=$work/disk
mkdir -p "$disk"
if mount -t tmpfs -o size=4m tmpfs "$disk" 2>/dev/null; then
    mounted=$disk
    "$B" init --store "$disk/s.sqlite" >/dev/null
    # Leave 256 KB: the store opens, the import (about 800 KB) runs out of space while writing.
    avail=$(df --output=avail -B1 "$disk" | tail -1)
    dd if=/dev/zero of="$disk/filler" bs=64k count=$(((avail - 262144) / 65536)) 2>/dev/null
    if "$B" import pairs "$DATA" --name hh --store "$disk/s.sqlite" >"$work/full.log" 2>&1; then fail "an import succeeded on a full disk"; fi
    rm "$disk/filler"
    "$B" fsck --store "$disk/s.sqlite" >/dev/null || fail "fsck after a full disk"
    "$B" import pairs "$DATA" --name hh --store "$disk/s.sqlite" >/dev/null
    [[ $(hash_of "$disk/s.sqlite" default hh@1) == "$want_hh" ]] || fail "import after freeing space differs"
    echo "full disk: import refused ($(tail -1 "$work/full.log" | cut -c1-100)), fsck clean, resumed after space was freed"
else
    echo "full disk: skipped (mounting a tmpfs needs root)"
fi
echo "ok"
