"""The store benchmark: srlm beside DuckDB, Parquet (pyarrow) and zstd on the same three JSONL files, in one run.

    make bench-store            (builds srlm-bench-store in release, makes bench/.venv with duckdb and pyarrow)
    bench/.venv/bin/python bench/store/peers.py --bench .build/release/srlm-bench-store [--repeats 3] [--out FILE]

Every timed step runs `--repeats` times, srlm and DuckDB alternating, each on a fresh store; the table shows the
median and the range (min–max) and the ratio of medians. srlm's side is timed in-process by srlm-bench-store (one
JSON object per run), DuckDB's in-process here. Both ingest single-threaded (DuckDB `SET threads=1`, srlm
`--threads 1`) and with two threads.

What each column does, the same on both sides:
  ingest   srlm: `import pairs FILE --format trl` into a new store (one transaction); DuckDB: CREATE TABLE AS
           read_json(FILE) into a new database file, then CHECKPOINT.
  export   srlm: `export --format trl` to JSONL (every text checked against its SHA-256 key, the file fsynced
           before it is renamed into place); DuckDB: COPY t TO FILE (FORMAT json). 1 thread, and hot with 2.
  scan     every text of every row: srlm sums length(srlm_text(col)) over prompt, chosen and rejected; DuckDB sums
           the length of every message content in the three list columns.
  random   1,000 rows by position (seeded), one query each, their three texts read.
  size     srlm: the store file minus an empty store, hot (as imported) and after `srlm compact` (+ VACUUM);
           DuckDB: the database file; Parquet: pyarrow, zstd level 3 and 19; JSONL.zst: the zstd CLI, -3 and -19.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.json as pajson
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent


def timed(body):
    start = time.perf_counter()
    body()
    return time.perf_counter() - start


def remove(path):
    for suffix in ("", ".wal", "-wal", "-shm"):
        try:
            os.remove(str(path) + suffix)
        except FileNotFoundError:
            pass


def duckdb_run(jsonl, work, threads, ords):
    db = work / "peer.duckdb"
    remove(db)
    con = duckdb.connect(str(db))
    con.execute(f"SET threads={threads}")
    out = {}
    out["ingest_s"] = timed(lambda: (con.execute("CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited')",
                                                 [str(jsonl)]), con.execute("CHECKPOINT")))
    con.close()
    out["store_bytes"] = os.path.getsize(db)
    con = duckdb.connect(str(db))
    con.execute(f"SET threads={threads}")
    exported = work / "peer.export.jsonl"
    out["export_s"] = timed(lambda: con.execute(f"COPY t TO '{exported}' (FORMAT json)"))
    os.remove(exported)
    texts = ("list_sum(list_transform(prompt, lambda m: length(m.content))) + list_sum(list_transform(chosen, lambda m: length(m.content)))"
             " + list_sum(list_transform(rejected, lambda m: length(m.content)))")
    out["scan_s"] = timed(lambda: con.execute(f"SELECT sum({texts}) FROM t").fetchall())
    out["random_s"] = timed(lambda: [con.execute(f"SELECT {texts} FROM t WHERE rowid = ?", [o]).fetchone() for o in ords])
    con.close()
    remove(db)
    return out


def srlm_run(bench, jsonl, work, threads):
    # Reads and compaction are measured on the single-threaded runs; the two-thread runs time the ingest.
    result = subprocess.run([bench, "measure", str(jsonl), "--store", str(work / "srlm.sqlite"), "--threads", str(threads)]
                            + (["--no-compact"] if threads > 1 else []), check=True, capture_output=True, text=True)
    remove(work / "srlm.sqlite")
    return json.loads(result.stdout)


def sizes(jsonl, work):
    out = {}
    for level in (3, 19):
        target = work / f"peer.{level}.zst"
        subprocess.run(["zstd", "-q", "-f", "-T1", f"-{level}", str(jsonl), "-o", str(target)], check=True)
        out[f"zst{level}"] = os.path.getsize(target)
        os.remove(target)
    table = pajson.read_json(str(jsonl))
    for level in (3, 19):
        target = work / f"peer.{level}.parquet"
        pq.write_table(table, str(target), compression="zstd", compression_level=level)
        out[f"parquet{level}"] = os.path.getsize(target)
        os.remove(target)
    return out


def median_range(values, digits=2):
    m = statistics.median(values)
    return f"{m:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})", m


def mb(n):
    return f"{n / 1e6:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", default=".build/release/srlm-bench-store")
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--work", default="/tmp/srlm-bench-store")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markov-rows", type=int, default=100_000)
    parser.add_argument("--sets", default="real,spliced,markov")
    parser.add_argument("--out", help="also write the Markdown table here")
    parser.add_argument("--scale-base", type=int, default=0,
                        help="also run `srlm-bench-store scale` with this many prompts at 1x (the issue's 1x is 30,000)")
    parser.add_argument("--scale-factors", default="1,3,10")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    files = {}
    wanted = args.sets.split(",")
    if "real" in wanted or "spliced" in wanted:
        subprocess.run([sys.executable, str(HERE / "datasets.py"), args.data, str(work)], check=True, stdout=subprocess.DEVNULL)
        files["real"], files["spliced"] = work / "real.jsonl", work / "spliced.jsonl"
    if "markov" in wanted:
        files["markov"] = work / "markov.jsonl"
        subprocess.run([args.bench, "markov", "--rows", str(args.markov_rows), "--data", args.data, "--out", str(files["markov"]),
                        "--second", str(work / "markov.v2.jsonl")], check=True)

    import random
    lines = []
    detail = {}
    for name in wanted:
        jsonl = files[name]
        rows = sum(1 for _ in open(jsonl))
        rng = random.Random(7)
        ords = [rng.randrange(rows) for _ in range(1000)]
        print(f"{name}: {rows} rows, {mb(os.path.getsize(jsonl))} MB", file=sys.stderr)
        runs = {("srlm", 1): [], ("srlm", 2): [], ("duckdb", 1): [], ("duckdb", 2): []}
        for _ in range(args.repeats):
            for threads in (1, 2):
                runs[("srlm", threads)].append(srlm_run(args.bench, jsonl, work, threads))
                runs[("duckdb", threads)].append(duckdb_run(jsonl, work, threads, ords))
        peer_sizes = sizes(jsonl, work)
        detail[name] = {"rows": rows, "bytes": os.path.getsize(jsonl), "sizes": peer_sizes,
                        "runs": {f"{k[0]}-{k[1]}": v for k, v in runs.items()}}
        s1, d1 = runs[("srlm", 1)], runs[("duckdb", 1)]
        lines.append(f"| **{name}** ({rows:,} rows, JSONL {mb(os.path.getsize(jsonl))} MB) | srlm | DuckDB | srlm / DuckDB |")
        lines.append("|---|---|---|---|")

        def row(label, srlm_values, duck_values, digits=2, lower_is_better=True):
            a, am = median_range(srlm_values, digits)
            b, bm = median_range(duck_values, digits)
            lines.append(f"| {label} | {a} | {b} | {am / bm:.2f}× |")

        for threads in (1, 2):
            row(f"ingest, {threads} thread{'s' if threads > 1 else ''} (s)", [r["ingest_s"] for r in runs[("srlm", threads)]],
                [r["ingest_s"] for r in runs[("duckdb", threads)]])
        for phase in ("hot", "compacted"):
            row(f"export JSONL, {phase} (s)", [r[phase]["export_s"] for r in s1], [r["export_s"] for r in d1], 3)
            if phase == "hot":
                row("export JSONL, hot, 2 threads (s)", [r["hot"]["export_s"] for r in runs[("srlm", 2)]],
                    [r["export_s"] for r in runs[("duckdb", 2)]], 3)
            row(f"scan every text, {phase} (s)", [r[phase]["scan_s"] for r in s1], [r["scan_s"] for r in d1], 3)
            row(f"1,000 random rows, {phase} (s)", [r[phase]["random_s"] for r in s1], [r["random_s"] for r in d1], 3)
        compact_time, _ = median_range([r["compact_s"] for r in s1])
        lines.append(f"| srlm compact, 1 thread (s) | {compact_time} | – | – |")
        hot, compact = s1[0]["store_bytes"], s1[0]["compact_bytes"]
        duck = d1[0]["store_bytes"]
        cache = max(r[p]["random_cache"]["bytes"] for r in s1 for p in ("hot", "compacted"))
        lines.append(f"| size, hot / compacted (MB) | {mb(hot)} / {mb(compact)} | {mb(duck)} | {hot / duck:.2f}× / {compact / duck:.2f}× |")
        lines.append(f"| vs Parquet-zstd 3 ({mb(peer_sizes['parquet3'])} MB), 19 ({mb(peer_sizes['parquet19'])} MB) | "
                     f"{hot / peer_sizes['parquet3']:.2f}× / {compact / peer_sizes['parquet3']:.2f}× of zstd 3 | | |")
        lines.append(f"| vs JSONL.zst -3 ({mb(peer_sizes['zst3'])} MB), -19 ({mb(peer_sizes['zst19'])} MB) | "
                     f"compacted {compact / peer_sizes['zst19']:.2f}× of -19 | | |")
        lines.append(f"| decode cache after random reads (MB, limit {mb(s1[0]['hot']['random_cache']['limit'])}) | {mb(cache)} | | |")
        lines.append("")
    if "markov" in wanted:
        diff = json.loads(subprocess.run([args.bench, "diff", str(files["markov"]), str(work / "markov.v2.jsonl"),
                                          "--store", str(work / "diff.sqlite"), "--repeats", str(max(3, args.repeats))],
                                         check=True, capture_output=True, text=True).stdout)
        remove(work / "diff.sqlite")
        text, _ = median_range(diff["diff_s"], 3)
        full, _ = median_range(diff["full_read_diff_s"], 3)
        lines += ["", f"`srlm diff` of two {diff['rows']:,}-row markov versions (1% changed, 0.5% dropped, 0.5% added): "
                  f"{text} s, reading both in full {full} s ({diff['stat']})", "",
                  "| rows changed in a derived version | diff with segments (s) | reading both in full (s) |", "|---|---|---|"]
        for seg, whole in zip(diff["derived"], diff["derived_full_read"]):
            lines.append(f"| {seg['changed']:,} | {median_range(seg['diff_s'], 4)[0]} | {median_range(whole['diff_s'], 4)[0]} |")
        detail["diff"] = diff
    if args.scale_base:
        lines += ["", f"| scale (1x = {args.scale_base:,} prompts, 4 candidates, 3 judge samples) | rows | s per million rows "
                  "| MB per million rows | peak RSS (MB), of it the harness's word chain |", "|---|---|---|---|---|"]
        detail["scale"] = []
        for factor in args.scale_factors.split(","):
            out = subprocess.run([args.bench, "scale", "--factors", factor, "--base-prompts", str(args.scale_base),
                                  "--store", str(work / "scale.sqlite"), "--data", args.data],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out)
            remove(work / "scale.sqlite")
            detail["scale"].append(r)
            lines.append(f"| {factor}x | {r['rows']:,} | {r['seconds_per_million_rows']:.0f} | "
                         f"{r['bytes_per_million_rows'] / 1e6:.0f} | {r['peak_rss_mb']:.0f}, {r['harness_rss_mb']:.0f} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")
        Path(args.out).with_suffix(".json").write_text(json.dumps(detail, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
