#!/usr/bin/env bash
# Training tokens/s of llmkit's FineTuner (full fine-tuning and LoRA) beside the PyTorch-eager peer, on the same
# model folder and machine, one after the other: batch 4 x 256 random tokens, AdamW lr 1e-3 wd 0.01, 3 warm-up
# steps, median of 5 (the peer's bench.py settings).
#
#   benchmarks/train-vs-peer.sh [MODEL_DIR] [OUT_DIR]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-$ROOT/../shared/peers}
MODEL=${1:-/tmp/llmkit-bench/m20}
OUT=${2:-$ROOT/benchmarks/results/train-$(basename "$MODEL")-$(date +%Y%m%d-%H%M)}
mkdir -p "$OUT"
if [ ! -f "$MODEL/config.json" ]; then
  /usr/bin/python3 "$PEERS/torch/make_model.py" "$MODEL" --hidden 384 --layers 6 --heads 6 --kv-heads 2 --inter 1024 || exit 1
fi
# compile this checkout's llm-api and llm-data too, and put their classes first: the classpath Maven lists for
# llm-train alone names the org.llmkit snapshots in ~/.m2, which may be another checkout's
(cd "$ROOT" && mvn -B -q -o -pl llm-train -am test-compile -Djavadoc.skip=true) || exit 1
(cd "$ROOT/llm-train" && mvn -B -q -o dependency:build-classpath -Dmdep.outputFile=target/bench.cp \
    -Dmdep.includeScope=test) || exit 1
CP="$ROOT/llm-train/target/test-classes:$ROOT/llm-train/target/classes:$ROOT/llm-api/target/classes"
CP="$CP:$ROOT/llm-data/target/classes:$(cat "$ROOT/llm-train/target/bench.cp")"
{ echo "loadavg_start=$(cut -d' ' -f1 /proc/loadavg)"
  java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" org.llmkit.train.bench.TrainBenchmark "$MODEL" 2>"$OUT/llmkit.err"
} > "$OUT/llmkit.txt"
{ echo "loadavg_start=$(cut -d' ' -f1 /proc/loadavg)"
  env OPENBLAS_CORETYPE=${TORCH_CORETYPE:-Cooperlake} /usr/bin/python3 "$PEERS/torch/bench.py" "$MODEL" --quiet \
      --skip prefill,decode,decode_b8,machine 2>"$OUT/torch.err"
} > "$OUT/torch.txt"
val() { grep -m1 "^$2=" "$OUT/$1.txt" | cut -d= -f2-; }
{
  echo "| engine | full fine-tuning tok/s | LoRA tok/s | load at start |"
  echo "| --- | --- | --- | --- |"
  echo "| llmkit FineTuner | $(val llmkit train_tok_s) | $(val llmkit lora_tok_s) | $(val llmkit loadavg_start) |"
  echo "| PyTorch-eager peer | $(val torch train_tok_s) | – | $(val torch loadavg_start) |"
  awk -v a="$(val llmkit train_tok_s)" -v b="$(val torch train_tok_s)" -v l="$(val llmkit lora_tok_s)" \
      'BEGIN{ if (a+0>0 && b+0>0) printf "\n- full fine-tuning, llmkit / torch: %.2f (goal >= 0.9)\n- LoRA / full: %.2f (goal >= 1.5)\n", a/b, l/a }'
} | tee "$OUT/summary.md"
