"""An srlm JSONL export → Parquet (pyarrow, zstd), for the Hugging Face Hub, DuckDB, Spark and Ray.

Usage: to_parquet.py SOURCE.jsonl TARGET.parquet
Written beside the target and renamed into place, so a failed conversion leaves no partial file. Prints one JSON line:
{"rows": N, "columns": [...], "bytes": B}.
"""
import json
import os
import sys

import pyarrow.json as pajson
import pyarrow.parquet as pq

source, target = sys.argv[1], sys.argv[2]
# One block must hold the longest line (a long conversation): 64 MiB, above srlm's 16 MiB line limit on import.
table = pajson.read_json(source, read_options=pajson.ReadOptions(block_size=64 << 20))
partial = target + ".partial"
try:
    pq.write_table(table, partial, compression="zstd")
    os.replace(partial, target)
finally:
    if os.path.exists(partial):
        os.remove(partial)
print(json.dumps({"rows": table.num_rows, "columns": table.column_names, "bytes": os.path.getsize(target)}))
