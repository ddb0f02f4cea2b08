#!/usr/bin/env python3
"""How much faster LoRA fine-tuning is than full fine-tuning in PyTorch eager, on the same model, batch and machine
as llmkit's TrainBenchmark: the reference for the "LoRA / full" ratio (a property of the model's shape as much as of
the engine). Uses the torch peer's model code (../shared/peers/torch/peer.py); LoRA r=8, alpha 16, on the seven
projections (or those --targets names), base weights frozen (requires_grad=False, so autograd skips their weight
gradients).

    benchmarks/torch-lora-ratio.py MODEL_DIR [--threads 2] [--targets q_proj,v_proj] [--rounds 1]
                                   [--precision fp32|bf16] [--lora-precision fp32|bf16]

bf16 runs the forward under torch.autocast("cpu", dtype=torch.bfloat16) (float32 weights, AdamW and gradients;
linear layers in bf16), the counterpart of llmkit's bf16() on the OpenBLAS tape. --precision sets both runs',
--lora-precision LoRA's alone.

Prints key=value lines: full_tok_s, lora_tok_s, lora_over_full. With --rounds N (N > 1), full fine-tuning and LoRA
run N times each, alternating on two models loaded once, and each round's ratio is printed (lora_over_full_r<n>);
the three keys are then medians over the rounds (a machine whose speed drifts over minutes moves both runs of an
adjacent pair alike).
"""
import argparse, os, statistics, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("model_dir")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
ap.add_argument("--rounds", type=int, default=1)
ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
ap.add_argument("--lora-precision", choices=["fp32", "bf16"], default=None)
ap.add_argument("--peers", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peers"))
a = ap.parse_args()
sys.path.insert(0, os.path.join(a.peers, "torch"))
import peer  # sets OPENBLAS_CORETYPE before torch loads the BLAS
import torch
import torch.nn as nn
from peer import LlamaLike, lm_loss

torch.set_num_threads(a.threads)
torch.manual_seed(0)
TARGETS = tuple(t.strip() for t in a.targets.split(",") if t.strip())


class LoraLinear(nn.Module):
    def __init__(self, base, r=8, alpha=16):
        super().__init__()
        self.base = base
        self.a = nn.Parameter(torch.randn(r, base.in_features) * 0.01)
        self.b = nn.Parameter(torch.zeros(base.out_features, r))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.a.t() @ self.b.t()) * self.scale


def attach_lora(m):
    for p in m.parameters():
        p.requires_grad_(False)
    for module in list(m.modules()):
        for name, child in list(module.named_children()):
            if name in TARGETS:
                setattr(module, name, LoraLinear(child))


def rate(m, x, precision):
    params = [p for p in m.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = m(x)
        loss = lm_loss(logits, x)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    times = []
    for _ in range(5):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return x.numel() / statistics.median(times)


g = torch.Generator().manual_seed(0)
m = LlamaLike.from_pretrained(a.model_dir, torch.float32)
m.train()
x = torch.randint(0, m.cfg.vocab, (4, 256), generator=g)
print(f"torch={torch.__version__}")
print(f"loadavg_start={os.getloadavg()[0]:.2f}")
print(f"lora_targets={','.join(TARGETS)}")
LORA_PRECISION = a.lora_precision or a.precision
print(f"precision={a.precision}")
print(f"lora_precision={LORA_PRECISION}")
if a.rounds <= 1:
    full = rate(m, x, a.precision)
    print(f"full_tok_s={full:.1f}")
    attach_lora(m)
    lora = rate(m, x, LORA_PRECISION)
    print(f"lora_tok_s={lora:.1f}")
    print(f"lora_over_full={lora / full:.2f}")
else:
    adapted = LlamaLike.from_pretrained(a.model_dir, torch.float32)
    adapted.train()
    attach_lora(adapted)
    fulls, loras, ratios = [], [], []
    for r in range(1, a.rounds + 1):
        fulls.append(rate(m, x, a.precision))
        loras.append(rate(adapted, x, LORA_PRECISION))
        ratios.append(loras[-1] / fulls[-1])
        print(f"full_tok_s_r{r}={fulls[-1]:.1f}")
        print(f"lora_tok_s_r{r}={loras[-1]:.1f}")
        print(f"lora_over_full_r{r}={ratios[-1]:.3f}")
    print(f"rounds={a.rounds}")
    print(f"full_tok_s={statistics.median(fulls):.1f}")
    print(f"lora_tok_s={statistics.median(loras):.1f}")
    print(f"lora_over_full={statistics.median(ratios):.3f}")
