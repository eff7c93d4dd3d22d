"""Per-pair weights for TRL's DPOTrainer (srlm's `pair.weight` and `pair.confidence`).

A pair's loss becomes  weight x [confidence x DPO(chosen, rejected) + (1 - confidence) x DPO(rejected, chosen)]
with DPO(a, b) = -log sigmoid(beta x delta): `weight` scales the pair (ScPO's vote margin), `confidence` is a soft
label (CREAM's consistency; 1 = the paper's hard label). TRL 1.x takes no per-example weight (its `use_weighting` is
WPO's own), so this subclass swaps the sigmoid loss's log-sigmoid for one that applies the batch's weights while
TRL's `_compute_loss` runs; every other part of the loss, the metrics and the reference model stay TRL's.
Only the sigmoid loss (alone, or with "sft" for RPO) under the reverse-KL divergence is supported: those are the
combinations whose single log-sigmoid call is the DPO term.
"""
import torch
import torch.nn.functional as F
import trl.trainer.dpo_trainer as dpo_module
from trl import DPOTrainer

COLUMNS = ("weight", "confidence")
SUPPORTED_LOSSES = ({"sigmoid"}, {"sigmoid", "sft"})


class _WeightedFunctional:
    """torch.nn.functional with a log-sigmoid that weights the one per-pair DPO term of a batch."""

    def __init__(self, weight: torch.Tensor, confidence: torch.Tensor):
        self.weight, self.confidence, self.calls = weight, confidence, 0

    def __getattr__(self, name):
        return getattr(F, name)

    def logsigmoid(self, x):
        self.calls += 1
        if self.calls > 1 or x.shape != self.weight.shape:
            raise RuntimeError("weighted DPO: TRL's loss no longer has the one per-pair log-sigmoid this relies on "
                               f"(call {self.calls}, shape {tuple(x.shape)} vs {tuple(self.weight.shape)})")
        w, c = self.weight.to(x.dtype), self.confidence.to(x.dtype)
        # -(returned) is the pair's loss: w·(c·(−log σ(x)) + (1 − c)·(−log σ(−x))).
        return w * (c * F.logsigmoid(x) + (1 - c) * F.logsigmoid(-x))


class WeightedDPOTrainer(DPOTrainer):
    """DPOTrainer whose rows may carry `weight` (>= 0) and `confidence` (0..1)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if set(self.loss_types) not in SUPPORTED_LOSSES or self.f_divergence_type != "reverse_kl":
            raise ValueError(f"per-pair weights work with loss_type sigmoid (or sigmoid + sft) and reverse_kl; "
                             f"this run has {self.loss_types}, {self.f_divergence_type}")
        inner = self.data_collator

        def collate(examples):
            batch = inner(examples)
            for name in COLUMNS:
                batch[name] = torch.tensor([float(e[name]) for e in examples], dtype=torch.float32)
            return batch

        self.data_collator = collate

    def _set_signature_columns_if_needed(self):
        super()._set_signature_columns_if_needed()
        self._signature_columns = list(self._signature_columns) + [c for c in COLUMNS if c not in self._signature_columns]

    def _compute_loss(self, model, inputs, return_outputs):
        inputs = dict(inputs)
        weight, confidence = (inputs.pop(name).to(self.accelerator.device) for name in COLUMNS)
        shim = _WeightedFunctional(weight, confidence)
        dpo_module.F = shim
        try:
            result = super()._compute_loss(model, inputs, return_outputs)
        finally:
            dpo_module.F = F
        if shim.calls != 1:
            raise RuntimeError(f"weighted DPO: TRL's loss called log-sigmoid {shim.calls} times, expected once")
        return result
