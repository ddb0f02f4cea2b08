#!/usr/bin/env bash
# Serving throughput with continuous batching: aggregate generated tokens/s of HTTP streaming clients at 1, 4 and
# 16 concurrent clients, TTFT p50/p99, on the ~20M random Llama (made with the torch peer's make_model.py).
#
#   benchmarks/serve-bench.sh [MODEL_DIR] [SECONDS_PER_LEVEL] [OUT_DIR]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-$ROOT/../shared/peers}
MODEL=${1:-/tmp/llmkit-bench/m20}
SECONDS_PER_LEVEL=${2:-20}
OUT=${3:-$ROOT/benchmarks/results/serve-$(basename "$MODEL")-$(date +%Y%m%d-%H%M)}
mkdir -p "$OUT"
if [ ! -f "$MODEL/config.json" ]; then
  /usr/bin/python3 "$PEERS/torch/make_model.py" "$MODEL" --hidden 384 --layers 6 --heads 6 --kv-heads 2 --inter 1024 || exit 1
fi
(cd "$ROOT" && mvn -B -q -o -pl llm-api,llm-serve -am test-compile) || exit 1
(cd "$ROOT/llm-serve" && mvn -B -q -o dependency:build-classpath -Dmdep.outputFile=target/bench.cp \
    -Dmdep.includeScope=test) || exit 1
CP="$ROOT/llm-serve/target/test-classes:$ROOT/llm-serve/target/classes:$ROOT/llm-api/target/classes:$(cat "$ROOT/llm-serve/target/bench.cp")"
OMP_WAIT_POLICY=PASSIVE java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dai.djl.offline=true \
    -cp "$CP" org.llmkit.serve.bench.ServeBenchmark "$MODEL" "$SECONDS_PER_LEVEL" 2>"$OUT/serve.err" | tee "$OUT/serve.txt"
