"""Reads an `srlm export --all` folder with DuckDB, polars, pandas and Hugging Face datasets, as a researcher without
srlm would, and prints what each saw as one JSON object: per reader, rows per kind, a text, and lineage columns of
round 1's candidates. Also the key-value metadata of the candidates' file.

Usage: export_readers.py DIR   (run offline: HF_DATASETS_OFFLINE=1, HF_HOME in a temporary folder)
"""
import glob
import json
import os
import sys

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
from datasets import load_dataset

root = sys.argv[1]
KINDS = ["prompts", "candidates", "judgments", "pairs"]
out = {}


def candidate(row):
    """What a reader says of candidates@1 ord 1, with the partition columns it sees."""
    return {"ref": row["ref"], "ord": int(row["ord"]), "round": int(row["round"]), "model": row["model"],
            "run_id": int(row["run_id"]), "row_hash": row["row_hash"], "response_text": row["response_text"],
            "dataset": str(row["dataset"]) if "dataset" in row else None,
            "version": int(row["version"]) if "version" in row and row["version"] is not None else None}


con = duckdb.connect()
duck = {"rows": {}}
for kind in KINDS:
    duck["rows"][kind] = con.execute(
        f"SELECT count(*) FROM read_parquet('{root}/kind={kind}/**/*.parquet', hive_partitioning=true)").fetchone()[0]
duck["all_versions"] = con.execute(
    f"SELECT count(*) FROM read_parquet('{root}/kind=*/**/*.parquet', hive_partitioning=true, union_by_name=true)").fetchone()[0]
names = [d[0] for d in con.execute(
    f"SELECT * FROM read_parquet('{root}/kind=candidates/**/*.parquet', hive_partitioning=true) WHERE ord = 1").description]
values = con.execute(
    f"SELECT * FROM read_parquet('{root}/kind=candidates/**/*.parquet', hive_partitioning=true) WHERE ord = 1").fetchone()
duck["candidate"] = candidate(dict(zip(names, values)))
duck["prompt_candidates"] = [
    {"ref": ref, "round": rnd, "chosen": chosen, "rejected": rejected, "scores": json.loads(scores)}
    for ref, rnd, chosen, rejected, scores in con.execute(
        f"SELECT ref, round, chosen, rejected, scores FROM read_parquet('{root}/table=prompt_candidates/**/*.parquet', "
        "hive_partitioning=true) ORDER BY ord").fetchall()]
duck["runs"] = con.execute(f"SELECT count(*) FROM read_parquet('{root}/table=runs/**/*.parquet', hive_partitioning=true)").fetchone()[0]
out["duckdb"] = duck

polars = {"rows": {}}
for kind in KINDS:
    polars["rows"][kind] = pl.scan_parquet(f"{root}/kind={kind}/**/*.parquet", hive_partitioning=True).collect().height
frame = pl.scan_parquet(f"{root}/kind=candidates/**/*.parquet", hive_partitioning=True).filter(pl.col("ord") == 1).collect()
polars["candidate"] = candidate(frame.row(0, named=True))
out["polars"] = polars

pandas = {"rows": {}}
for kind in KINDS:
    pandas["rows"][kind] = len(pd.read_parquet(f"{root}/kind={kind}"))
frame = pd.read_parquet(f"{root}/kind=candidates")
pandas["candidate"] = candidate(frame[frame["ord"] == 1].iloc[0].to_dict())
out["pandas"] = pandas

hf = {"rows": {}}
for kind in KINDS:
    hf["rows"][kind] = load_dataset("parquet", data_dir=f"{root}/kind={kind}", split="train").num_rows
data = load_dataset("parquet", data_dir=f"{root}/kind=candidates", split="train").filter(lambda r: r["ord"] == 1)
hf["candidate"] = candidate(data[0])
out["datasets"] = hf

out["files"] = sorted(os.path.relpath(p, root) for p in glob.glob(f"{root}/kind=candidates/**/*.parquet", recursive=True))
metadata = pq.read_schema(f"{root}/kind=candidates/experiment=default/dataset=candidates/version=1/part-0.parquet").metadata
out["metadata"] = {k.decode(): v.decode() for k, v in metadata.items() if k.decode().startswith("srlm.")}
print(json.dumps(out))
