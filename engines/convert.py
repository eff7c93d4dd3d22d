"""Convert a trained Hugging Face folder to GGUF for llama.cpp, with llama.cpp's own converters (engines/setup.sh
puts them in models/llama.cpp/).

Usage: .venv/bin/python engines/convert.py SRC_DIR OUT.gguf [q8_0|f16|bf16|f32] [--base BASE_HF_DIR]
  SRC_DIR a full model        -> convert_hf_to_gguf.py (default q8_0: near-lossless, half the size of f16)
  SRC_DIR a PEFT LoRA adapter -> convert_lora_to_gguf.py --base (BASE_HF_DIR, else the adapter's own base path)
Stdout: one JSON line, {"event":"done",...} or {"event":"error","message":...} with a non-zero exit.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONVERTERS = ROOT / "models" / "llama.cpp"


def say(event: dict) -> None:
    print(json.dumps(event, separators=(",", ":")), flush=True)


def fail(message: str) -> int:
    say({"event": "error", "message": message})
    print(f"convert: error: {message}", file=sys.stderr)
    return 1


def main() -> int:
    ap = argparse.ArgumentParser(description="HF folder or LoRA adapter -> GGUF")
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("outtype", nargs="?", default="q8_0", choices=["q8_0", "f16", "bf16", "f32"])
    ap.add_argument("--base", type=Path, help="base model folder of a LoRA adapter")
    args = ap.parse_args()

    src = args.src.resolve()
    adapter_config = src / "adapter_config.json"
    if adapter_config.is_file():
        kind = "lora"
        base = args.base
        if base is None:
            base = json.loads(adapter_config.read_text()).get("base_model_name_or_path")
            if not base:
                return fail(f"{adapter_config}: no base_model_name_or_path; pass --base")
            base = Path(base)
        if not (base / "config.json").is_file():
            return fail(f"LoRA base {base} is not a Hugging Face model folder")
        script = CONVERTERS / "convert_lora_to_gguf.py"
        extra = ["--base", str(base.resolve())]
    elif (src / "config.json").is_file():
        kind, script, extra = "model", CONVERTERS / "convert_hf_to_gguf.py", []
    else:
        return fail(f"{src}: neither a model folder (config.json) nor a LoRA adapter (adapter_config.json)")
    if not script.is_file():
        return fail(f"{script} is missing: run engines/setup.sh")

    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")  # never leave a truncated GGUF under the real name
    t0 = time.monotonic()
    # The converter's chatter goes to our stderr, so that stdout stays one JSON line.
    proc = subprocess.run([sys.executable, str(script), str(src), "--outfile", str(part), "--outtype", args.outtype,
                           *extra], stdout=sys.stderr, stderr=sys.stderr)
    if proc.returncode != 0 or not part.is_file():
        part.unlink(missing_ok=True)
        return fail(f"{script.name} exited with {proc.returncode} for {src}")
    os.replace(part, out)
    say({"event": "done", "kind": kind, "src": str(src), "output": str(out), "outtype": args.outtype,
         "bytes": out.stat().st_size, "seconds": round(time.monotonic() - t0, 2)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
