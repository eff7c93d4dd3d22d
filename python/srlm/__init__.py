"""Read an srlm store from Python through the srlm binary.

    import srlm
    store = srlm.open("demo.sqlite")
    store.versions()                 # every version: ref, kind, rows, content hash, run, model, round
    store.rounds()                   # each round's members by role
    store.read("pairs@2")            # a pyarrow Table: every column, texts decoded, lineage columns first
    store.read("judgments@1").to_pandas()
    store.table("runs")              # runs, checkpoints, model_calls, eval_metrics, prompt_rejections

Texts live in srlm's zstd packs; rather than a second reader of that format (or a sqlite3 that can load srlm's
extension, which many Python builds cannot), each call runs `srlm export ... --store PATH` and streams its JSON Lines
into pyarrow with the column types srlm reports (`--schema`), so an all-NULL column keeps its type.
"""
import json
import os
import shutil
import subprocess

import pyarrow as pa
import pyarrow.json as pajson

__all__ = ["open", "Store", "SRLMError", "TABLES"]
__version__ = "0.1.0"

TABLES = ("versions", "rounds", "runs", "checkpoints", "model_calls", "eval_metrics", "prompt_rejections")
_TYPES = {"int64": pa.int64(), "double": pa.float64(), "string": pa.string()}


class SRLMError(RuntimeError):
    """srlm refused or failed; the message is what it said."""


def _binary(srlm_bin=None):
    found = srlm_bin or os.environ.get("SRLM_BIN") or shutil.which("srlm")
    if not found:
        raise SRLMError("no srlm binary: put it on PATH, set SRLM_BIN, or pass srlm_bin=")
    return found


class Store:
    """An srlm store, read through `srlm` (nothing is written to it)."""

    def __init__(self, path, srlm_bin=None, experiment=None):
        if not os.path.exists(path):
            raise SRLMError(f"no store at {path}")
        self.path = os.path.abspath(path)
        self.srlm = _binary(srlm_bin)
        self.experiment = experiment

    def __repr__(self):
        return f"srlm.Store({self.path!r}, experiment={self.experiment!r})"

    def read(self, ref, experiment=None):
        """A version (NAME or NAME@N) as a pyarrow Table: its lineage columns, then every column of its kind."""
        return self._table([ref], experiment or self.experiment)

    def to_pandas(self, ref, experiment=None):
        """A version as a pandas DataFrame."""
        return self.read(ref, experiment).to_pandas()

    def table(self, name, experiment=None):
        """One of the store's tables (see TABLES); every experiment unless one is given (here or to open())."""
        if name not in TABLES:
            raise SRLMError(f"no table {name!r}; srlm has {', '.join(TABLES)}")
        return self._table(["--table", name], experiment or self.experiment)

    def versions(self, experiment=None):
        """Every version (of one experiment, when given) with where it came from."""
        return self.table("versions", experiment)

    def rounds(self, experiment=None):
        """Each round's versions and checkpoints, one row per role."""
        return self.table("rounds", experiment)

    def _table(self, target, experiment):
        args = ["export", *target, "--store", self.path]
        if experiment:
            args += ["--experiment", experiment]
        schema = pa.schema([(c["name"], _TYPES[c["type"]]) for c in json.loads(self._output(args + ["--schema"]))])
        process = subprocess.Popen([self.srlm, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        table, failure = None, None
        try:
            # Peek for an empty export (pyarrow refuses an empty JSON stream), then stream the rest in blocks.
            if process.stdout.peek(1)[:1]:
                parse = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
                table = pajson.read_json(process.stdout, read_options=pajson.ReadOptions(block_size=64 << 20),
                                         parse_options=parse).select(schema.names)
            else:
                table = schema.empty_table()
        except Exception as error:  # srlm's own message, read below, says more when it failed too
            failure = error
        finally:
            process.stdout.close()
            errors = process.stderr.read().decode("utf-8", "replace")
            status = process.wait()
        if status != 0:
            raise SRLMError(errors.strip() or f"srlm exited with status {status}")
        if failure is not None:
            raise failure
        return table

    def _output(self, args):
        done = subprocess.run([self.srlm, *args], capture_output=True)
        if done.returncode != 0:
            raise SRLMError(done.stderr.decode("utf-8", "replace").strip() or f"srlm exited with status {done.returncode}")
        return done.stdout


def open(path, srlm_bin=None, experiment=None):  # noqa: A001 - the notebook spelling: srlm.open(path)
    """Opens the store at `path`; `srlm_bin` (else $SRLM_BIN, else PATH) is the binary that reads it."""
    return Store(path, srlm_bin=srlm_bin, experiment=experiment)
