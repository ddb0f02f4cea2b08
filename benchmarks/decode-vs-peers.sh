#!/usr/bin/env bash
# Prefill / decode throughput of llmkit beside its peers (shared/peers: PyTorch eager and Jlama), on the same
# model folder, one after the other, on this machine. Writes key=value files and a Markdown table to OUT.
#
#   benchmarks/decode-vs-peers.sh [MODEL_DIR] [OUT_DIR]
#
# MODEL_DIR defaults to a ~125M Llama-3.1-style model made by the torch peer's make_model.py (created if absent).
# Needs: mvn install run once (samples/target/llmkit-samples.jar); Debian python3-torch python3-numpy
# libopenblas0-openmp for the torch peer; JDK 25 for Jlama. Run on an idle machine: each step waits until the
# 1-minute load average is below WAIT_LOAD (default 0.5) and records the load it ran under.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-$ROOT/../shared/peers}
MODEL=${1:-/tmp/llmkit-bench/m100}
OUT=${2:-$ROOT/benchmarks/results/$(basename "$MODEL")-$(date +%Y%m%d-%H%M)}
WAIT_LOAD=${WAIT_LOAD:-0.5}
JAR=$ROOT/samples/target/llmkit-samples.jar
mkdir -p "$OUT"

[ -f "$JAR" ] || { echo "build first: mvn -B -q install -DskipTests" >&2; exit 1; }
if [ ! -f "$MODEL/config.json" ]; then
  echo "making $MODEL with $PEERS/torch/make_model.py" >&2
  /usr/bin/python3 "$PEERS/torch/make_model.py" "$MODEL" || exit 1
fi

quiet() {
  local t0=$SECONDS
  while awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v t="$WAIT_LOAD" 'BEGIN{exit !(l>=t)}'; do
    (( SECONDS - t0 > 600 )) && { echo "load still $(cut -d' ' -f1 /proc/loadavg); running anyway" >&2; break; }
    sleep 5
  done
}

run() {  # name, command...
  local name=$1; shift
  quiet
  echo "== $name" >&2
  { echo "loadavg_start=$(cut -d' ' -f1 /proc/loadavg)"; "$@" 2>"$OUT/$name.err"; echo "rc=$?";
    echo "loadavg_end=$(cut -d' ' -f1 /proc/loadavg)"; } > "$OUT/$name.txt"
}

# Two rounds, alternating, because the host's speed drifts by 20-50% over minutes (shared VM): compare within a round.
for round in 1 2; do
  # llmkit: default OpenMP policy (idle machine), libtorch's default threads (all cores)
  run llmkit$round java -jar "$JAR" bench --model "$MODEL" --reps 5
  # torch eager peer; the sandbox may export OPENBLAS_CORETYPE=Haswell, which halves its GEMM speed on AVX-512 CPUs
  run torch$round env OPENBLAS_CORETYPE=${TORCH_CORETYPE:-Cooperlake} /usr/bin/python3 "$PEERS/torch/bench.py" "$MODEL" \
      --quiet --skip train
  # the peer's batch-1 decode (torch.mv) with OpenBLAS's Haswell kernels, which stream a bit faster here than Cooperlake's
  run torchhsw$round env OPENBLAS_CORETYPE=Haswell /usr/bin/python3 "$PEERS/torch/bench.py" "$MODEL" \
      --quiet --skip train,prefill,decode_b8,machine
done
# Jlama (pure-Java Vector API kernels); builds itself with JDK 25 on first use
run jlama env JLAMA_PEER_BUILD=${JLAMA_PEER_BUILD:-/tmp/jlama-peer-build} "$PEERS/jlama/run-jlama.sh" "$MODEL" --reps 5

val() { grep -m1 "^$2=" "$OUT/$1.txt" | cut -d= -f2-; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.2f", a/b; else print "n/a" }'; }
{
  echo "| engine | round | prefill tok/s | decode tok/s (batch 1) | decode tok/s (batch 8) | load during run |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for r in 1 2; do
    echo "| llmkit (DJL 0.36, libtorch 2.7.1) | $r | $(val llmkit$r prefill_tok_s) | $(val llmkit$r decode_tok_s) | $(val llmkit$r decode_b8_tok_s) | $(val llmkit$r loadavg_start)-$(val llmkit$r loadavg_end) |"
    echo "| PyTorch eager peer ($(val torch$r torch), $(val torch$r blas)) | $r | $(val torch$r prefill_tok_s) | $(val torch$r decode_tok_s) | $(val torch$r decode_b8_tok_s) | $(val torch$r loadavg_start)-$(val torch$r loadavg_end) |"
    echo "| PyTorch eager peer ($(val torchhsw$r torch), $(val torchhsw$r blas)) | $r | – | $(val torchhsw$r decode_tok_s) | – | $(val torchhsw$r loadavg_start)-$(val torchhsw$r loadavg_end) |"
  done
  echo "| Jlama 0.8.4 peer (Panama kernels) | - | $(val jlama prefill_tok_s) | $(val jlama decode_tok_s) | n/a | $(val jlama loadavg_start)-$(val jlama loadavg_end) |"
  echo
  for r in 1 2; do
    best=$(awk -v a="$(val torch$r decode_tok_s)" -v b="$(val jlama decode_tok_s)" -v c="$(val torchhsw$r decode_tok_s)" \
        'BEGIN{m=(a+0>b+0)?a:b; print (c+0>m+0)?c:m}')
    echo "- round $r: decode llmkit / faster peer $(ratio "$(val llmkit$r decode_tok_s)" "$best");"\
         "decode batch 8 llmkit / torch $(ratio "$(val llmkit$r decode_b8_tok_s)" "$(val torch$r decode_b8_tok_s)");"\
         "prefill llmkit / torch $(ratio "$(val llmkit$r prefill_tok_s)" "$(val torch$r prefill_tok_s)");"\
         "llmkit decode GEMVs on $(val llmkit$r decode_gemv);"\
         "copy bandwidth $(val llmkit$r copy_gbs) GB/s (torch peer: $(val torch$r copy_gbs)), decode bound"\
         "$(val llmkit$r decode_bound_tok_s) tok/s, llmkit decode = $(ratio "$(val llmkit$r decode_tok_s)" "$(val llmkit$r decode_bound_tok_s)") of it"
  done
  echo "- llmkit memory: heap after load $(val llmkit1 heap_used_after_load_mb) MB, RSS after load $(val llmkit1 rss_after_load_mb) MB, peak RSS $(val llmkit1 peak_rss_mb) MB (model file 476 MB)"
} | tee "$OUT/summary.md"
echo "results in $OUT" >&2
