# Sourced by the training benchmarks (train-vs-peer.sh, lora-ratio-rounds.sh): what both engines share.
# Expects ROOT and MODEL; sets PEERS, TUNED, THREADS, CORE, TARGETS and CP (TrainBenchmark's classpath), and makes
# the ~20M model folder when MODEL has none.
PEERS=${PEERS:-$ROOT/../shared/peers}
# the launcher's malloc settings: freed memory stays in one arena for reuse (see README, llm-train)
TUNED="MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736"
# the launcher's training thread settings, and the same OpenBLAS kernels for both engines (OpenBLAS 0.3.19 does
# not know Zen 5)
THREADS="GOMP_SPINCOUNT=1000 OPENBLAS_THREAD_TIMEOUT=4"
CORE=${TORCH_CORETYPE:-Cooperlake}
TARGETS=${LORA_TARGETS:-q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj}
if [ ! -f "$MODEL/config.json" ]; then
  /usr/bin/python3 "$PEERS/torch/make_model.py" "$MODEL" --hidden 384 --layers 6 --heads 6 --kv-heads 2 --inter 1024 || exit 1
fi
# one reactor run, so llm-api and llm-data resolve to their target/classes (nothing needs installing)
(cd "$ROOT" && mvn -B -q -o -pl llm-train -am test-compile dependency:build-classpath -Djavadoc.skip=true \
    -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test) || exit 1
CP="$ROOT/llm-train/target/test-classes:$ROOT/llm-train/target/classes:$ROOT/llm-api/target/classes"
CP="$CP:$ROOT/llm-data/target/classes:$(cat "$ROOT/llm-train/target/bench.cp")"
