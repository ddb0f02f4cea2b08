#!/usr/bin/env bash
# LoRA / full fine-tuning tokens/s, measured so that the machine's drift cancels: each engine runs full fine-tuning
# and LoRA alternately, ROUNDS times each, in one process (llmkit's TrainBenchmark --rounds, then
# benchmarks/torch-lora-ratio.py --rounds), and the ratio is the median of the adjacent pairs' ratios. On the
# 2-vCPU machine here the speed drifts 10-15% over minutes, so a single full-then-LoRA pair's ratio moves by as much
# (train-vs-peer.sh's rounds: llmkit 1.16-1.46, the peer 1.19-1.55). Same batch, steps and settings as
# train-vs-peer.sh, with the launcher's malloc and thread settings for both engines.
#
# PRECISION=bf16 runs both engines' full fine-tuning and LoRA under BF16 autocast (llmkit's bf16() on the OpenBLAS
# tape, torch.autocast("cpu", bfloat16)); LORA_PRECISION sets LoRA's alone (e.g. LORA_PRECISION=bf16: full
# fine-tuning in fp32 against LoRA under autocast).
#
#   [LORA_TARGETS=a,b] [PRECISION=fp32|bf16] [LORA_PRECISION=fp32|bf16] benchmarks/lora-ratio-rounds.sh [MODEL_DIR] [ROUNDS] [OUT_DIR]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=${1:-/tmp/llmkit-bench/m20}
ROUNDS=${2:-3}
PRECISION=${PRECISION:-fp32}
LORA_PRECISION=${LORA_PRECISION:-$PRECISION}
OUT=${3:-$ROOT/benchmarks/results/lora-ratio-$(basename "$MODEL")-$PRECISION-$LORA_PRECISION-$(date +%Y%m%d-%H%M)}
mkdir -p "$OUT"
. "$ROOT/benchmarks/train-common.sh"
ENVS="$THREADS OPENBLAS_CORETYPE=$CORE $TUNED"

{ echo "loadavg_start=$(cut -d' ' -f1 /proc/loadavg)"
  env $ENVS java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" org.llmkit.train.bench.TrainBenchmark "$MODEL" \
      --rounds "$ROUNDS" --lora-targets "$TARGETS" --precision "$PRECISION" --lora-precision "$LORA_PRECISION" \
      2>"$OUT/llmkit.err"
} > "$OUT/llmkit.txt"
{ echo "loadavg_start=$(cut -d' ' -f1 /proc/loadavg)"
  env $ENVS /usr/bin/python3 "$ROOT/benchmarks/torch-lora-ratio.py" "$MODEL" --peers "$PEERS" --rounds "$ROUNDS" \
      --targets "$TARGETS" --precision "$PRECISION" --lora-precision "$LORA_PRECISION" 2>"$OUT/torch.err"
} > "$OUT/torch.txt"

val() { grep -m1 "^$2=" "$OUT/$1.txt" | cut -d= -f2- | cut -d, -f1; }
{
  echo "full fine-tuning in $PRECISION, LoRA in $LORA_PRECISION"
  echo
  echo "| engine | full tok/s (median) | LoRA tok/s (median) | LoRA / full per round | LoRA / full (median of rounds) | load at start |"
  echo "| --- | --- | --- | --- | --- | --- |"
  per() { for r in $(seq 1 "$ROUNDS"); do printf '%s ' "$(val "$1" "$2$r")"; done; }
  echo "| llmkit | $(val llmkit train_tok_s) | $(val llmkit lora_tok_s) | $(per llmkit lora_vs_full_r) | $(val llmkit lora_vs_full) | $(val llmkit loadavg_start) |"
  echo "| torch | $(val torch full_tok_s) | $(val torch lora_tok_s) | $(per torch lora_over_full_r) | $(val torch lora_over_full) | $(val torch loadavg_start) |"
} | tee "$OUT/summary.md"
