package org.llmkit.samples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.Precision;
import org.llmkit.api.generate.GenerationResult;
import org.llmkit.api.tensor.ScriptModule;
import org.llmkit.api.tensor.TorchScriptArchive;

/**
 * Prefill and decode throughput of a model, measured the way {@code shared/peers} measure theirs, so the
 * numbers can be put side by side: one 512-token prefill (logits of the last position only); 128 greedy
 * decode steps after a 32-token prompt at batch 1 and batch 8; median of {@code --reps} runs after a
 * warm-up. Also measures the machine's copy bandwidth (read + write bytes of a 256 MiB float32 copy into
 * a preallocated array, as the torch peer does) and derives the decode bound: bandwidth divided by the
 * weight bytes each token streams (all parameters but the input embedding).
 *
 * <p>Output is {@code key=value} lines. Run on an idle machine; {@code loadavg} is printed before and after.
 */
public final class DecodeBenchmark {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private DecodeBenchmark() { }

    /**
     * Runs the benchmark.
     *
     * @param argv options; {@code --help} lists them
     * @throws Exception when loading fails
     */
    public static void main(String[] argv) throws Exception {
        Args args = new Args("java -jar llmkit-samples.jar bench (--model DIR | --random m100|m20) [options]", argv)
                .describe("model", "HuggingFace model folder to measure")
                .describe("random", "instead of --model: a random Llama-3.1-style model, m100 (125M) or m20 (34M)")
                .describe("precision", "fp32 (default), fp16 or bf16")
                .describe("prefill", "prefill length (default 512)")
                .describe("prompt", "decode prompt length (default 32)")
                .describe("gen", "decode steps (default 128)")
                .describe("batch", "batch size of the batched decode (default 8)")
                .describe("reps", "timed repetitions after one warm-up (default 3)")
                .describe("skip", "comma-separated phases to skip: prefill,decode,decode_b8,copy");
        if (args.wantsHelp()) {
            System.out.print(args.helpText());
            return;
        }
        args.checkKnown();
        int reps = args.integer("reps", 3);
        List<String> skip = Arrays.asList(args.string("skip", "").split(","));
        print("loadavg_before", loadAverage());
        long start = System.nanoTime();
        try (LanguageModel m = open(args)) {
            print("load_s", (System.nanoTime() - start) / 1e9);
            System.gc();
            Runtime rt = Runtime.getRuntime();
            print("heap_used_after_load_mb", (rt.totalMemory() - rt.freeMemory()) / 1048576.0);
            print("rss_after_load_mb", procStatus("VmRSS"));
            ModelConfig c = m.config();
            long params = c.parameterCount();
            long embedding = (long) c.vocabSize() * c.hiddenSize();
            long streamed = c.tieWordEmbeddings() ? params : params - embedding;
            int bytesPerWeight = m.precision() == Precision.FP32 ? 4 : 2;
            print("precision", m.precision());
            print("params", params);
            print("params_without_input_embedding", streamed);
            print("libtorch", ai.djl.engine.Engine.getEngine("PyTorch").getVersion());
            SplittableRandom random = new SplittableRandom(1234);
            int vocab = c.vocabSize();
            if (!skip.contains("prefill")) {
                int n = Math.min(args.integer("prefill", 512), c.maxPositionEmbeddings() - 1);
                int[] ids = random.ints(n, 0, vocab).toArray();
                phase("prefill_tok_s", reps, () -> {
                    GenerationResult r = m.generate(ids).maxNewTokens(1).greedy().ignoreEos().result();
                    return n / (r.prefillNanos() / 1e9);
                });
            }
            int prompt = args.integer("prompt", 32);
            int gen = args.integer("gen", 128);
            if (!skip.contains("decode")) {
                int[] ids = random.ints(prompt, 0, vocab).toArray();
                phase("decode_tok_s", reps, () -> decodeRate(m.generate(ids).maxNewTokens(gen).greedy().ignoreEos()
                        .results(), 1));
                print("decode_gemv", m.block().decodesOnOpenBlas() ? "openblas" : "onednn");
            }
            int batch = args.integer("batch", 8);
            if (!skip.contains("decode_b8")) {
                List<int[]> prompts = new ArrayList<>();
                for (int i = 0; i < batch; i++) {
                    prompts.add(random.ints(prompt, 0, vocab).toArray());
                }
                phase("decode_b" + batch + "_tok_s", reps, () -> decodeRate(m.generate(prompts).maxNewTokens(gen)
                        .greedy().ignoreEos().results(), batch));
            }
            if (!skip.contains("copy")) {
                double gbs = copyBandwidth(m.manager(), reps);
                double bytesPerToken = (double) streamed * bytesPerWeight;
                print("weight_mb_per_token", bytesPerToken / (1 << 20));
                print("decode_bound_tok_s", gbs * 1e9 / bytesPerToken);
            }
        }
        print("peak_rss_mb", procStatus("VmHWM"));
        print("loadavg_after", loadAverage());
    }

    /** A memory figure from /proc/self/status, in MiB. */
    private static double procStatus(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (java.io.IOException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    private static LanguageModel open(Args args) throws Exception {
        Precision precision = Precision.valueOf(args.string("precision", "fp32").toUpperCase(Locale.ROOT));
        String random = args.string("random", null);
        if (random != null) {
            if (precision != Precision.FP32) {
                throw new IllegalArgumentException("--random models are float32; save one and load it with --precision");
            }
            ModelConfig.Builder b = ModelConfig.builder("llama").vocabSize(32000).maxPositionEmbeddings(2048)
                    .ropeTheta(500000).ropeScaling(org.llmkit.api.RopeScaling.llama3(8, 1, 4, 8192));
            switch (random) {
                case "m100" -> b.hiddenSize(768).numLayers(12).numHeads(12).numKvHeads(4).intermediateSize(2048);
                case "m20" -> b.hiddenSize(384).numLayers(6).numHeads(6).numKvHeads(2).intermediateSize(1024);
                default -> throw new IllegalArgumentException("--random expects m100 or m20 but got " + random);
            }
            return LanguageModel.create(b.build(), 0);
        }
        String model = args.string("model", null);
        if (model == null) {
            throw new IllegalArgumentException("--model or --random is required\n" + args.helpText());
        }
        return LanguageModel.from(Path.of(model)).precision(precision).load();
    }

    private static double decodeRate(List<GenerationResult> results, int batch) {
        GenerationResult r = results.get(0);
        int steps = r.newTokens().length - 1;          // the first new token comes from the prefill
        return (double) batch * steps / ((r.totalNanos() - r.prefillNanos()) / 1e9);
    }

    /** One warm-up, then the median of {@code reps}; also prints the best run and CPU cores used. */
    private static void phase(String key, int reps, Supplier<Double> run) {
        run.get();
        double[] rates = new double[reps];
        long cpu0 = OS.getProcessCpuTime();
        long wall0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            rates[i] = run.get();
        }
        double cpuUtil = (OS.getProcessCpuTime() - cpu0) / (double) (System.nanoTime() - wall0);
        Arrays.sort(rates);
        print(key, rates[reps / 2]);
        print(key + "_best", rates[reps - 1]);
        print(key + "_cpu_util", cpuUtil);
    }

    /**
     * Read + write bytes per second of a 256 MiB float32 {@code copy_} into a preallocated array (STREAM
     * convention, the torch peer's definition), through a one-line TorchScript method so it is torch's own copy.
     */
    private static double copyBandwidth(NDManager parent, int reps) {
        try (NDManager m = parent.newSubManager();
                ScriptModule copy = ScriptModule.load(TorchScriptArchive.of("LlmkitCopy", List.of(
                        "def copy(self, dst: Tensor, src: Tensor) -> Tensor:\n    return dst.copy_(src)\n")),
                        List.of("copy"))) {
            long n = 64L << 20;
            NDArray src = m.ones(new Shape(n), DataType.FLOAT32);
            NDArray dst = m.zeros(new Shape(n), DataType.FLOAT32);
            copy.callInference("copy", dst, src).close();
            double[] gbs = new double[Math.max(reps, 5)];
            for (int i = 0; i < gbs.length; i++) {
                long t0 = System.nanoTime();
                copy.callInference("copy", dst, src).close();
                gbs[i] = 2.0 * n * 4 / (System.nanoTime() - t0);
            }
            Arrays.sort(gbs);
            print("copy_gbs", gbs[gbs.length / 2]);
            return gbs[gbs.length / 2];
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim().split(" ")[0];
        } catch (java.io.IOException e) {
            return "n/a";
        }
    }

    private static void print(String key, Object value) {
        if (value instanceof Double d) {
            System.out.printf(Locale.ROOT, "%s=%.2f%n", key, d);
        } else {
            System.out.println(key + "=" + value);
        }
    }
}
