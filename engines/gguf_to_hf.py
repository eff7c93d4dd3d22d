"""Convert a GGUF model into an ordinary Hugging Face folder (fp32 safetensors + tokenizer).

The local SmolLM2 exists only as a Q4_1 GGUF; training needs an HF folder. Converting once (engines/setup.sh) is
cheaper than dequantizing on every training run, and lets DPOTrainer build its reference model from the folder.

Usage: python engines/gguf_to_hf.py MODEL.gguf OUT_DIR
"""
import argparse
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gguf", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    if not args.gguf.is_file():
        print(f"gguf_to_hf: {args.gguf}: no such file", file=sys.stderr)
        return 2

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = args.gguf.resolve()
    model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    # The weights are dequantized to fp32 on load, but the model stays flagged as quantized and then
    # save_pretrained/Trainer refuse it; drop the flag so the folder is a plain fp32 model.
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    model.config._is_quantized = False
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    n = sum(p.numel() for p in model.parameters())
    print(f"gguf_to_hf: {src.name} -> {args.out} ({n / 1e6:.1f}M parameters, fp32)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
