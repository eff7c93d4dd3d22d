"""srlm JSONL exports → Parquet (pyarrow, zstd), for the Hugging Face Hub, DuckDB, polars, Spark and Ray.

Usage: to_parquet.py SOURCE.jsonl TARGET.parquet
       to_parquet.py --jobs JOBS.json
A job list is [{"source": ..., "target": ..., "schema": [{"name": ..., "type": "int64|double|string"}] or null,
"metadata": {key: value}}]: one interpreter converts every file of an `srlm export --all`. With a schema, every
file of a kind has the same column types (an all-NULL column stays a string, not a null column), and an empty source
is a file with no rows. Metadata becomes the file's key-value metadata. Each target is written beside itself and
renamed into place, so a failed conversion leaves no partial file. Prints one JSON line: {"rows", "columns",
"bytes"} for one file, a list of them for a job list.
"""
import json
import os
import sys

import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq

TYPES = {"int64": pa.int64(), "double": pa.float64(), "string": pa.string()}


def convert(source, target, schema=None, metadata=None):
    arrow_schema = pa.schema([(c["name"], TYPES[c["type"]]) for c in schema]) if schema else None
    if arrow_schema is not None and os.path.getsize(source) == 0:
        table = arrow_schema.empty_table()
    else:
        # One block must hold the longest line (a long conversation): 64 MiB, above srlm's 16 MiB line limit on import.
        parse = pajson.ParseOptions(explicit_schema=arrow_schema, unexpected_field_behavior="error") if arrow_schema else None
        table = pajson.read_json(source, read_options=pajson.ReadOptions(block_size=64 << 20), parse_options=parse)
        if arrow_schema is not None:
            table = table.select(arrow_schema.names)
    if metadata:
        table = table.replace_schema_metadata({str(k): str(v) for k, v in metadata.items()})
    partial = target + ".partial"
    try:
        if table.num_rows == 0:
            # No row groups at all: Hugging Face datasets cannot read a row group of 0 rows (it asks for batches of 0).
            pq.ParquetWriter(partial, table.schema, compression="zstd").close()
        else:
            pq.write_table(table, partial, compression="zstd")
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return {"rows": table.num_rows, "columns": table.column_names, "bytes": os.path.getsize(target)}


if sys.argv[1] == "--jobs":
    with open(sys.argv[2]) as f:
        jobs = json.load(f)
    results = []
    for job in jobs:
        os.makedirs(os.path.dirname(job["target"]), exist_ok=True)
        results.append(convert(job["source"], job["target"], job.get("schema"), job.get("metadata")))
    print(json.dumps(results))
else:
    print(json.dumps(convert(sys.argv[1], sys.argv[2])))
