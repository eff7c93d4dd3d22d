"""One TRL recipe for srlm's SFT (IFT/EFT) and DPO steps, launched by the Swift side as a subprocess.

Usage:  python engines/train.py sft|dpo --config CONFIG.json
   or:  accelerate launch [--cpu --num_processes 1 --num_machines 1 --mixed_precision no --dynamo_backend no] \
            engines/train.py sft|dpo --config CONFIG.json

CONFIG.json: {"model": HF_DIR, "data": ROWS.jsonl, "output_dir": DIR, ...hyperparameters (see DEFAULTS below),
              "lora": null | {"r","alpha","dropout","target_modules"}, dpo: "rpo_alpha": null | A, "trainer_args": {...passed to SFT/DPOConfig}}
Rows: SFT {"prompt":[msgs],"completion":[msgs]} (loss on the completion only);
      DPO {"prompt":[msgs],"chosen":[msgs],"rejected":[msgs]}, optionally "weight" (>= 0, scales the pair's loss) and
      "confidence" (0..1, a soft label) per pair: missing ones are 1, the plain DPO loss (see weighted_dpo.py).
Stdout (rank 0): {"event":"start",...}, {"event":"step","step":N,"max_steps":M} per step, then {"event":"done",...} or {"event":"error","message":...} with exit 1.
Live metrics: one JSON object per log call in OUTPUT_DIR/metrics.jsonl.
"""
import argparse
import dataclasses
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

# Paper defaults (Yuan et al. 2024, training hyperparameters); the global batch is split over devices and steps.
COMMON = {"batch_size": 16, "per_device_train_batch_size": 2, "dropout": 0.1, "max_steps": -1,
          "num_train_epochs": 1.0, "max_length": 1024, "seed": 42, "lora": None, "logging_steps": 1,
          "trainer_args": {}}
DEFAULTS = {"sft": {**COMMON, "learning_rate": 5.5e-6, "min_lr": 1.1e-6},
            "dpo": {**COMMON, "learning_rate": 1e-6, "min_lr": 1e-7, "beta": 0.1, "rpo_alpha": None}}
REQUIRED = ("model", "data", "output_dir")
INT_KEYS = {"batch_size", "per_device_train_batch_size", "max_steps", "max_length", "seed", "logging_steps"}
FLOAT_KEYS = {"dropout", "num_train_epochs", "learning_rate", "min_lr", "beta"}
ROW_KEYS = {"sft": ("prompt", "completion"), "dpo": ("prompt", "chosen", "rejected")}
PAIR_WEIGHTS = {"weight": (0.0, math.inf), "confidence": (0.0, 1.0)}  # optional per DPO row: allowed range
ROLES = {"system", "user", "assistant"}
# Config fields through which Hugging Face architectures take dropout; each one the model has gets the value.
DROPOUT_FIELDS = ("attention_dropout", "dropout", "hidden_dropout", "attn_pdrop", "resid_pdrop", "embd_pdrop",
                  "hidden_dropout_prob", "attention_probs_dropout_prob")


class ConfigError(Exception):
    """Bad input: reported as one clear message, without a traceback."""


# Stdout carries our JSON events only: keep a private handle on it, and send fd 1 to stderr for everything else
# (transformers prints its log dicts and tqdm text to stdout, as Python reprs that a parser would trip on).
EVENTS = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)


def say(event: dict) -> None:
    print(json.dumps(event, separators=(",", ":")), file=EVENTS, flush=True)


def load_config(method: str, path: Path) -> dict:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    missing = [k for k in REQUIRED if not raw.get(k)]
    unknown = sorted(set(raw) - set(REQUIRED) - set(DEFAULTS[method]))
    if missing:
        raise ConfigError(f"{path}: missing required key(s) {', '.join(missing)}")
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)} for {method} "
                          f"(known: {', '.join(REQUIRED + tuple(DEFAULTS[method]))}; others go in trainer_args)")
    cfg = {**DEFAULTS[method], **raw}
    for k, v in cfg.items():
        want = int if k in INT_KEYS else float if k in FLOAT_KEYS else None
        if want and (isinstance(v, bool) or not isinstance(v, (int, float)) or (want is int and v != int(v))):
            raise ConfigError(f"{path}: {k} must be {'an integer' if want is int else 'a number'}, got {v!r}")
    rpo = cfg.get("rpo_alpha")
    if rpo is not None and (isinstance(rpo, bool) or not isinstance(rpo, (int, float)) or rpo < 0):
        raise ConfigError(f"{path}: rpo_alpha must be null or a number >= 0, got {rpo!r}")
    if min(cfg["batch_size"], cfg["per_device_train_batch_size"]) < 1:
        raise ConfigError(f"{path}: batch_size and per_device_train_batch_size must be >= 1")
    lora = cfg["lora"]
    if lora is not None and (not isinstance(lora, dict) or not set(lora) <= {"r", "alpha", "dropout", "target_modules"}):
        raise ConfigError(f"{path}: lora must be null or an object with r, alpha, dropout, target_modules")
    if not isinstance(cfg["trainer_args"], dict):
        raise ConfigError(f"{path}: trainer_args must be an object")
    return cfg


def read_rows(method: str, path: Path) -> list:
    """Validate every row up front so that a bad one is named by file and line, not by a trainer traceback."""
    keys, rows = ROW_KEYS[method], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigError(f"{path}: {e}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            raise ConfigError(f"{path}:{n}: invalid JSON: {e}") from None
        if not isinstance(row, dict):
            raise ConfigError(f"{path}:{n}: expected an object")
        for k in keys:
            msgs = row.get(k)
            if not isinstance(msgs, list) or not msgs:
                raise ConfigError(f"{path}:{n}: field '{k}' must be a non-empty list of messages")
            for i, m in enumerate(msgs):
                if not (isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content"), str)):
                    raise ConfigError(f"{path}:{n}: {k}[{i}] must be {{\"role\": system|user|assistant, "
                                      f"\"content\": string}}")
        kept = {k: [{"role": m["role"], "content": m["content"]} for m in row[k]] for k in keys}
        for k, (low, high) in PAIR_WEIGHTS.items() if method == "dpo" else ():
            v = row.get(k)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (low <= v <= high):
                raise ConfigError(f"{path}:{n}: field '{k}' must be a number in [{low:g}, {high:g}], got {v!r}")
            kept[k] = float(v)
        rows.append(kept)
    if not rows:
        raise ConfigError(f"{path}: no rows")
    if any(k in r for r in rows for k in PAIR_WEIGHTS):
        # One schema for the dataset: a row without a weight (e.g. mixed-in judge pairs) counts as plain DPO.
        for r in rows:
            for k in PAIR_WEIGHTS:
                r.setdefault(k, 1.0)
    return rows


def numbers(d: dict) -> dict:
    """Log values as JSON numbers (tensors and numpy scalars become floats; non-finite ones become null)."""
    out = {}
    for k, v in d.items():
        if hasattr(v, "item"):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        out[k] = v
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description="SFT or DPO with TRL (srlm)")
    ap.add_argument("method", choices=["sft", "dpo"])
    ap.add_argument("--config", required=True, type=Path)
    args = ap.parse_args()
    method = args.method
    cfg = load_config(method, args.config)
    rows = read_rows(method, Path(cfg["data"]))
    cfg["model"] = str(Path(cfg["model"]).resolve())  # recorded as the base in LoRA adapters: must not depend on cwd
    if not (Path(cfg["model"]) / "config.json").is_file():
        raise ConfigError(f"{args.config}: model: {cfg['model']} is not a Hugging Face model folder")

    # With OpenMP's default spin-waiting, 2 threads on 2 cores ran ~4x slower per step as soon as anything else
    # (the llama.cpp server, a build) took a core (7.7-8.6 s vs 2.2 s per micro-batch with passive waiting).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch
    from datasets import Dataset
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, TrainerCallback

    # Several ranks on one host share its cores; torch's default would oversubscribe them.
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(max(1, cpus // local_world))

    world = int(os.environ.get("WORLD_SIZE", 1))
    per_step = cfg["per_device_train_batch_size"] * world
    if cfg["batch_size"] % per_step:
        raise ConfigError(f"{args.config}: batch_size {cfg['batch_size']} is not a multiple of "
                          f"per_device_train_batch_size {cfg['per_device_train_batch_size']} x {world} processes")
    cuda = torch.cuda.is_available()
    targs = dict(output_dir=cfg["output_dir"], learning_rate=cfg["learning_rate"],
                 lr_scheduler_type="cosine_with_min_lr", lr_scheduler_kwargs={"min_lr": cfg["min_lr"]},
                 per_device_train_batch_size=cfg["per_device_train_batch_size"],
                 gradient_accumulation_steps=cfg["batch_size"] // per_step,
                 max_steps=cfg["max_steps"], num_train_epochs=cfg["num_train_epochs"], max_length=cfg["max_length"],
                 seed=cfg["seed"], logging_steps=cfg["logging_steps"], report_to="none",
                 save_strategy="no",  # checkpoints are opt-in through trainer_args; the final model is always saved
                 use_cpu=not cuda, bf16=cuda and torch.cuda.is_bf16_supported())
    if not cuda:
        # TRL turns activation checkpointing on to save GPU memory; on CPU RAM is ample for small models and
        # recomputing the forward pass cost ~30 % per step (measured on SmolLM2-135M).
        targs["gradient_checkpointing"] = False
    if method == "sft":
        from trl import SFTConfig as Config, SFTTrainer as Trainer
        targs["completion_only_loss"] = True
    else:
        from trl import DPOConfig as Config, DPOTrainer as Trainer
        if "weight" in rows[0]:
            from weighted_dpo import WeightedDPOTrainer as Trainer
        targs["beta"] = cfg["beta"]
        if cfg["rpo_alpha"] is not None:
            # Iterative RPO: DPO + alpha x the chosen reply's NLL. TRL 1.x combines named losses; earlier TRL had
            # the rpo_alpha field itself.
            if "rpo_alpha" in {f.name for f in dataclasses.fields(Config)}:
                targs["rpo_alpha"] = cfg["rpo_alpha"]
            else:
                targs["loss_type"] = ["sigmoid", "sft"]
                targs["loss_weights"] = [1.0, float(cfg["rpo_alpha"])]
        targs["disable_dropout"] = False  # the paper trains DPO with dropout 0.1 too
    targs.update(cfg["trainer_args"])  # the last word, for anything this recipe does not name
    try:
        config = Config(**targs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{args.config}: trainer arguments: {e}") from None

    model_config = AutoConfig.from_pretrained(cfg["model"])
    dropout_set = [f for f in DROPOUT_FIELDS
                   if isinstance(getattr(model_config, f, None), (int, float)) and not isinstance(getattr(model_config, f), bool)]
    for f in dropout_set:
        setattr(model_config, f, float(cfg["dropout"]))
    model = AutoModelForCausalLM.from_pretrained(cfg["model"], config=model_config, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(cfg["model"])
    peft_config = None
    if cfg["lora"] is not None:
        from peft import LoraConfig
        lc = {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear", **cfg["lora"]}
        peft_config = LoraConfig(r=lc["r"], lora_alpha=lc["alpha"], lora_dropout=lc["dropout"],
                                 target_modules=lc["target_modules"], task_type="CAUSAL_LM")

    out = Path(cfg["output_dir"])
    metrics_path = out / "metrics.jsonl"
    last_log = {}

    class JsonlMetrics(TrainerCallback):
        """Live metrics for the Swift side: one JSON line per log call, written by rank 0 only."""

        def on_train_begin(self, args_, state, control, **kw):
            if state.is_world_process_zero:
                out.mkdir(parents=True, exist_ok=True)
                metrics_path.write_text("")  # one run per output_dir: do not mix in an earlier run's lines

        def on_step_end(self, args_, state, control, **kw):
            # The terminal's progress bar: one small stdout event per optimizer step.
            if state.is_world_process_zero:
                say({"event": "step", "step": state.global_step, "max_steps": state.max_steps})

        def on_log(self, args_, state, control, logs=None, **kw):
            if state.is_world_process_zero and logs:
                entry = numbers({"step": state.global_step, "epoch": state.epoch, **logs})
                if "train_runtime" not in logs:
                    last_log.clear()
                    last_log.update(entry)
                with open(metrics_path, "a") as f:
                    f.write(json.dumps(entry) + "\n")

    trainer = Trainer(model=model, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                      peft_config=peft_config, callbacks=[JsonlMetrics()])
    rank0 = trainer.is_world_process_zero()
    if rank0:
        say({"event": "start", "method": method, "rows": len(rows), "world_size": world,
             "gradient_accumulation_steps": config.gradient_accumulation_steps, "dropout_fields": dropout_set,
             "device": "cuda" if cuda else "cpu", "metrics_path": str(metrics_path),
             "pair_weights": {k: sum(r[k] for r in rows) / len(rows) for k in PAIR_WEIGHTS} if "weight" in rows[0] else None})
    t0 = time.monotonic()
    result = trainer.train()
    trainer.save_model(cfg["output_dir"])  # full model, or the LoRA adapter alone (+ tokenizer either way)
    trainer.save_state()  # trainer_state.json with the whole log_history
    merged = None
    if peft_config is not None and rank0:
        # llama.cpp can serve base + adapter, but a merged folder converts to one self-contained GGUF.
        merged = out / "merged"
        trainer.accelerator.unwrap_model(trainer.model).merge_and_unload().save_pretrained(merged)
        tokenizer.save_pretrained(merged)
    if rank0:
        say({"event": "done", "method": method, "output_dir": str(out), "merged_dir": merged and str(merged),
             "steps": trainer.state.global_step, "metrics": numbers(result.metrics), "last_log": last_log,
             "train_runtime": result.metrics.get("train_runtime", time.monotonic() - t0),
             "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ConfigError as e:
        say({"event": "error", "message": str(e)})
        print(f"train: error: {e}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:  # anything else: the traceback for people, one line for the Swift side
        import traceback
        traceback.print_exc()
        say({"event": "error", "message": f"{type(e).__name__}: {e}"})
        sys.exit(1)
