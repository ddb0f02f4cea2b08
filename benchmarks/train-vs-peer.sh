#!/usr/bin/env bash
# Training tokens/s of llmkit's FineTuner (full fine-tuning and LoRA) beside the PyTorch-eager peer, on the same
# model folder and machine, one after the other: batch 4 x 256 random tokens, AdamW lr 1e-3 wd 0.01, 3 warm-up
# steps, median of 5 (the peer's bench.py settings). torch's own LoRA / full ratio comes from
# benchmarks/torch-lora-ratio.py (LoRA r 8 on the seven projections, as TrainBenchmark).
#
# Every engine runs twice: with glibc malloc's defaults, and with the settings the llmkit launcher exports
# (MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736), which spare both engines the page
# faults of re-allocating their activations every step. Compare within one setting.
#
# LORA_TARGETS=q_proj,v_proj (PEFT's default for Llama) puts both engines' LoRA on those projections instead of all
# seven.
#
#   [LORA_TARGETS=a,b] benchmarks/train-vs-peer.sh [MODEL_DIR] [OUT_DIR]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=${1:-/tmp/llmkit-bench/m20}
OUT=${2:-$ROOT/benchmarks/results/train-$(basename "$MODEL")${LORA_TARGETS:+-lora-${LORA_TARGETS//,/-}}-$(date +%Y%m%d-%H%M)}
mkdir -p "$OUT"
. "$ROOT/benchmarks/train-common.sh"

# Both engines get the same environment in a row: malloc's defaults or the launcher's malloc settings, plus the
# launcher's training thread settings (THREADS) and the same OpenBLAS kernels ($CORE; OpenBLAS 0.3.19 does not know
# Zen 5). llmkit's linear layers run on OpenBLAS when AUTO finds it faster (llmkit-*.txt: train_gemm, lora_gemm).
for setting in default tuned; do
  envs="$THREADS OPENBLAS_CORETYPE=$CORE $([ "$setting" = tuned ] && echo "$TUNED" || echo "LLMKIT_MALLOC=default")"
  { echo "loadavg_start=$(cut -d' ' -f1 /proc/loadavg)"
    env $envs java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" org.llmkit.train.bench.TrainBenchmark "$MODEL" \
        --lora-targets "$TARGETS" 2>"$OUT/llmkit-$setting.err"
  } > "$OUT/llmkit-$setting.txt"
  { echo "loadavg_start=$(cut -d' ' -f1 /proc/loadavg)"
    env $envs /usr/bin/python3 "$PEERS/torch/bench.py" "$MODEL" \
        --skip prefill,decode,decode_b8,machine 2>"$OUT/torch-$setting.err"
  } > "$OUT/torch-$setting.txt"
  { echo "loadavg_start=$(cut -d' ' -f1 /proc/loadavg)"
    env $envs /usr/bin/python3 "$ROOT/benchmarks/torch-lora-ratio.py" "$MODEL" --peers "$PEERS" \
        --targets "$TARGETS" 2>"$OUT/torch-lora-$setting.err"
  } > "$OUT/torch-lora-$setting.txt"
done

val() { grep -m1 "^$2=" "$OUT/$1.txt" | cut -d= -f2- | cut -d, -f1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.2f", a/b; else print "n/a" }'; }
{
  echo "| malloc | llmkit full tok/s | torch full tok/s | llmkit / torch (goal ≥ 0.9) | llmkit LoRA tok/s | llmkit LoRA / full (goal ≥ 1.5) | torch LoRA tok/s | torch LoRA / full | load at start |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  for s in default tuned; do
    echo "| $s | $(val llmkit-$s train_tok_s) | $(val torch-$s train_tok_s) | $(ratio "$(val llmkit-$s train_tok_s)" "$(val torch-$s train_tok_s)") | $(val llmkit-$s lora_tok_s) | $(ratio "$(val llmkit-$s lora_tok_s)" "$(val llmkit-$s train_tok_s)") | $(val torch-lora-$s lora_tok_s) | $(val torch-lora-$s lora_over_full) | $(val llmkit-$s loadavg_start)-$(val torch-lora-$s loadavg_start) |"
  done
} | tee "$OUT/summary.md"
