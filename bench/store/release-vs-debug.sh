#!/usr/bin/env bash
# Release vs debug build of srlm on the same files: import and export (trl) wall time, median of N runs each, one
# build after the other (issue 13). Both builds must exist: `make release` and `swift build`.
#   bench/store/release-vs-debug.sh FILE.jsonl [FILE.jsonl ...]     (N=3 by default: N=5 bench/store/...)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seconds() { local start; start=$(date +%s.%N); "$@" >/dev/null 2>&1; awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }
median() { tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] " (" v[1] "–" v[NR] ")" }'; }
printf "| file | build | import s | export s |\n|---|---|---|---|\n"
for file in "$@"; do
    for build in release debug; do
        B=.build/$build/srlm
        imports="" exports=""
        for _ in $(seq "$N"); do
            rm -f "$work"/s.sqlite*
            "$B" init --store "$work/s.sqlite" >/dev/null
            imports+="$(seconds "$B" import pairs "$file" --name data --store "$work/s.sqlite") "
            exports+="$(seconds "$B" export data --format trl -o "$work/out.jsonl" --force --store "$work/s.sqlite") "
        done
        printf "| %s | %s | %s | %s |\n" "$(basename "$file")" "$build" "$(echo $imports | median)" "$(echo $exports | median)"
    done
done
