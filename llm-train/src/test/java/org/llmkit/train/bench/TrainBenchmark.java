package org.llmkit.train.bench;

import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Precision;
import org.llmkit.data.TokenDataset;
import org.llmkit.train.FineTuner;
import org.llmkit.train.Schedule;
import org.llmkit.train.StepMetrics;
import org.llmkit.train.TrainingListener;
import org.llmkit.train.TrainingResult;

/**
 * Training throughput on a model folder, measured like the torch peer's {@code bench.py}: one fixed batch of
 * random tokens (default 4 x 256), AdamW lr 1e-3, weight decay 0.01 on every parameter, no clipping,
 * constant learning rate, 3 warm-up steps, then the median step time of 5; tokens/s = batch tokens / median.
 * Measures full fine-tuning and LoRA (r 8, alpha 16, all seven Llama projections by default), each on a
 * freshly loaded model. Prints one {@code key=value} per line. A benchmark, not a test: run it by hand.
 *
 * <p>With {@code --rounds N} (N &gt; 1) it measures full fine-tuning and LoRA N times each, alternating, and
 * reports each round's LoRA / full ratio and the median of those: a machine whose speed drifts by 10-15% over
 * minutes moves a single full-then-LoRA pair's ratio by as much, but moves both runs of an adjacent pair alike.
 *
 * <p>{@code --precision} sets both runs' precision; {@code --lora-precision} sets LoRA's alone (e.g. full fine-tuning
 * in fp32 against LoRA under bf16 autocast). {@code --load-precision bf16} loads the model in BF16 (then train it with
 * {@code --precision bf16}).
 *
 * <pre>
 * TrainBenchmark MODEL_DIR [--steps 5] [--warmup 3] [--batch 4] [--seq 256] [--precision fp32|fp16|bf16]
 *                [--lora-precision fp32|fp16|bf16] [--load-precision fp32|fp16|bf16]
 *                [--lora-targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj] [--skip full,lora]
 *                [--rounds 1]
 * </pre>
 */
public final class TrainBenchmark {
    /** The precision models are loaded in ({@code --load-precision}). */
    private static Precision loadPrecision = Precision.FP32;

    private TrainBenchmark() { }

    /**
     * Runs the benchmark.
     *
     * @param args the model folder, then options
     * @throws IOException when the model cannot be loaded
     */
    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            System.err.println("usage: TrainBenchmark MODEL_DIR [--steps 5] [--warmup 3] [--batch 4] [--seq 256]"
                    + " [--precision fp32|fp16|bf16] [--lora-precision fp32|fp16|bf16] [--load-precision fp32|fp16|bf16]"
                    + " [--lora-targets a,b]"
                    + " [--skip full,lora] [--rounds 1]");
            System.exit(2);
        }
        Path folder = Path.of(args[0]);
        Map<String, String> opts = options(Arrays.copyOfRange(args, 1, args.length));
        int steps = Integer.parseInt(opts.getOrDefault("steps", "5"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "3"));
        int batch = Integer.parseInt(opts.getOrDefault("batch", "4"));
        int seq = Integer.parseInt(opts.getOrDefault("seq", "256"));
        String precision = opts.getOrDefault("precision", "fp32");
        String loraPrecision = opts.getOrDefault("lora-precision", precision);
        String[] targets = opts.getOrDefault("lora-targets", "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
                .split(",");
        List<String> skip = List.of(opts.getOrDefault("skip", "").split(","));
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "1"));

        out("model", folder);
        out("precision", precision);
        out("lora_precision", loraPrecision);
        loadPrecision = Precision.valueOf(opts.getOrDefault("load-precision", "fp32").toUpperCase(Locale.ROOT));
        out("load_precision", loadPrecision);
        out("batch", batch + "x" + seq);
        out("warmup_steps", warmup);
        out("timed_steps", steps);
        out("loadavg_before", loadavg());
        if (rounds > 1) {
            alternate(rounds, folder, precision, loraPrecision, batch, seq, warmup, steps, targets);
        } else {
            double full = Double.NaN;
            if (!skip.contains("full")) {
                full = measure("train", folder, precision, batch, seq, warmup, steps, null);
            }
            if (!skip.contains("lora")) {
                out("lora_targets", String.join(",", targets));
                double lora = measure("lora", folder, loraPrecision, batch, seq, warmup, steps, targets);
                if (!Double.isNaN(full)) {
                    out("lora_vs_full", String.format(Locale.ROOT, "%.3f", lora / full));
                }
            }
        }
        out("peak_rss_mb", String.format(Locale.ROOT, "%.0f", procStatusKb("VmHWM") / 1024.0));
        out("loadavg_after", loadavg());
    }

    // full fine-tuning and LoRA, alternating: round r prints train_r<r>_*, lora_r<r>_* and lora_vs_full_r<r>, then
    // the medians over the rounds (train_tok_s, lora_tok_s, lora_vs_full)
    private static void alternate(int rounds, Path folder, String precision, String loraPrecision, int batch, int seq,
            int warmup, int steps, String[] targets) throws IOException {
        out("rounds", rounds);
        out("lora_targets", String.join(",", targets));
        double[] full = new double[rounds];
        double[] lora = new double[rounds];
        double[] ratio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            full[r] = measure("train_r" + (r + 1), folder, precision, batch, seq, warmup, steps, null);
            lora[r] = measure("lora_r" + (r + 1), folder, loraPrecision, batch, seq, warmup, steps, targets);
            ratio[r] = lora[r] / full[r];
            out("lora_vs_full_r" + (r + 1), String.format(Locale.ROOT, "%.3f", ratio[r]));
        }
        out("train_tok_s", String.format(Locale.ROOT, "%.1f", median(full)));
        out("lora_tok_s", String.format(Locale.ROOT, "%.1f", median(lora)));
        out("lora_vs_full", String.format(Locale.ROOT, "%.3f", median(ratio)));
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    // one configuration on a fresh model; prints <name>_tok_s, <name>_step_s, ... and returns tokens/s
    private static double measure(String name, Path folder, String precision, int batch, int seq, int warmup,
            int steps, String[] loraTargets) throws IOException {
        try (LanguageModel model = LanguageModel.from(folder).precision(loadPrecision).load()) {
            TokenDataset data = randomBatch(batch, seq, model.config().vocabSize());
            List<Double> elapsed = new ArrayList<>();
            FineTuner tuner = FineTuner.of(model).learningRate(1e-3).adamBetas(0.9, 0.999).adamEpsilon(1e-8)
                    .weightDecay(0.01).decayBiasAndNorm(true).gradientClipping(0).schedule(Schedule.CONSTANT)
                    .batchSize(batch).shuffle(false).maxSteps(warmup + steps).logEvery(Long.MAX_VALUE)
                    .listener(new TrainingListener() {
                        @Override
                        public void onStep(StepMetrics m) {
                            elapsed.add(m.elapsedSeconds());
                        }
                    });
            if (loraTargets != null) {
                tuner = tuner.lora(8, 16, loraTargets);
            }
            tuner = switch (precision) {
                case "fp16" -> tuner.fp16();
                case "bf16" -> tuner.bf16();
                default -> tuner;
            };
            if (name.equals("train") || name.equals("train_r1")) {
                out("threads", JniUtils.getNumThreads());
                out("params", model.config().parameterCount());
            }
            TrainingResult r = tuner.train(data);
            double[] times = new double[steps];
            for (int i = 0; i < steps; i++) {
                int k = warmup + i;
                times[i] = elapsed.get(k) - (k == 0 ? 0 : elapsed.get(k - 1));
            }
            Arrays.sort(times);
            double median = median(times);
            double tokS = (double) batch * seq / median;
            out(name + "_tok_s", String.format(Locale.ROOT, "%.1f", tokS));
            out(name + "_step_s", String.format(Locale.ROOT, "%.3f", median));
            out(name + "_step_s_min_max", String.format(Locale.ROOT, "%.3f,%.3f", times[0], times[steps - 1]));
            out(name + "_trainable_params", r.trainableParameters());
            out(name + "_loss_first_last", String.format(Locale.ROOT, "%.4f,%.4f", r.losses().get(0), r.finalLoss()));
            out(name + "_skipped_steps", r.skippedSteps().size());
            out(name + "_gemm", model.block().trainsOnOpenBlas() ? "openblas" : "libtorch");
            return tokS;
        }
    }

    private static TokenDataset randomBatch(int batch, int seq, int vocab) {
        SplittableRandom random = new SplittableRandom(0);
        int[][] rows = new int[batch][seq];
        for (int[] row : rows) {
            for (int j = 0; j < seq; j++) {
                row[j] = random.nextInt(vocab);
            }
        }
        return TokenDataset.of(rows, vocab);
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value, found '" + args[i] + "'");
            }
            out.put(args[i].substring(2), args[++i]);
        }
        return out;
    }

    private static String loadavg() throws IOException {
        Path p = Path.of("/proc/loadavg");
        return Files.isReadable(p) ? String.join(",", Arrays.copyOf(Files.readString(p).trim().split(" "), 3)) : "n/a";
    }

    private static long procStatusKb(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    private static void out(String key, Object value) {
        System.out.println(key + "=" + value);
    }
}
