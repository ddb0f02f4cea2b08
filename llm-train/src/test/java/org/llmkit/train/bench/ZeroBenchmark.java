package org.llmkit.train.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.RopeScaling;
import org.llmkit.data.TokenDataset;
import org.llmkit.train.FineTuner;
import org.llmkit.train.Schedule;
import org.llmkit.train.StepMetrics;
import org.llmkit.train.TrainingListener;

/**
 * Training steps per second of the "m20" model (the samples' {@code --random m20}: Llama-3.1-style, hidden 384, 6
 * layers, GQA 6/2, vocab 32000) for each ZeRO stage on 2 logical CPU ranks, plus stage 0 on one rank without and
 * with activation checkpointing and stage 2 with the optimizer offloaded. FP32, a fixed batch of random tokens
 * (default 4 x 128, split 2 + 2 over the ranks), 2 warm-up steps, then the median of 5, as wall-clock and as the
 * training thread's CPU time (with one intra-op thread libtorch computes on that thread, so the CPU figure is what
 * a busy machine distorts least). A benchmark, not a test.
 * <pre>
 * ZeroBenchmark [--batch 4] [--seq 128] [--steps 5] [--warmup 2]
 * </pre>
 */
public final class ZeroBenchmark {
    private ZeroBenchmark() { }

    /**
     * Runs the benchmark.
     *
     * @param args options
     * @throws Exception when training fails
     */
    public static void main(String[] args) throws Exception {
        int batch = 4;
        int seq = 128;
        int steps = 5;
        int warmup = 2;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--batch" -> batch = Integer.parseInt(args[i + 1]);
                case "--seq" -> seq = Integer.parseInt(args[i + 1]);
                case "--steps" -> steps = Integer.parseInt(args[i + 1]);
                case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        ModelConfig c = ModelConfig.builder("llama").vocabSize(32000).maxPositionEmbeddings(2048).ropeTheta(500000)
                .ropeScaling(RopeScaling.llama3(8, 1, 4, 8192)).hiddenSize(384).numLayers(6).numHeads(6)
                .numKvHeads(2).intermediateSize(1024).build();
        SplittableRandom random = new SplittableRandom(1);
        int[][] data = new int[batch][seq];
        for (int[] s : data) {
            for (int j = 0; j < seq; j++) {
                s[j] = random.nextInt(32000);
            }
        }
        System.out.println("parameters=" + c.parameterCount());
        System.out.println("batch=" + batch + "x" + seq);
        run(c, data, warmup, steps, "1 rank, stage 0", t -> t);
        run(c, data, warmup, steps, "1 rank, stage 0, checkpointing", FineTuner::activationCheckpointing);
        for (int stage = 0; stage <= 3; stage++) {
            int z = stage;
            run(c, data, warmup, steps, "2 ranks, stage " + stage, t -> t.devices(2).zeroStage(z));
        }
        run(c, data, warmup, steps, "2 ranks, stage 2, offloadOptimizer", t -> t.devices(2).zeroStage(2).offloadOptimizer());
    }

    private static void run(ModelConfig c, int[][] data, int warmup, int steps, String name,
            java.util.function.UnaryOperator<FineTuner> setup) throws Exception {
        List<Double> seconds = new ArrayList<>();
        List<Double> cpuSeconds = new ArrayList<>();
        java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        try (LanguageModel m = LanguageModel.create(c, 0)) {
            double[] last = {0, bean.getCurrentThreadCpuTime() / 1e9};
            setup.apply(FineTuner.of(m).learningRate(1e-4).schedule(Schedule.CONSTANT).batchSize(data.length)
                    .shuffle(false).gradientClipping(0).maxSteps(steps + warmup).logEvery(1000))
                    .listener(new TrainingListener() {
                        @Override
                        public void onStep(StepMetrics s) {
                            double cpu = bean.getCurrentThreadCpuTime() / 1e9;
                            seconds.add(s.elapsedSeconds() - last[0]);
                            cpuSeconds.add(cpu - last[1]);
                            last[0] = s.elapsedSeconds();
                            last[1] = cpu;
                        }
                    }).train(TokenDataset.of(data, 32000));
        }
        double wall = median(seconds.subList(warmup, seconds.size()));
        double cpu = median(cpuSeconds.subList(warmup, cpuSeconds.size()));
        System.out.printf(Locale.ROOT, "%s: %.3f s/step wall (%.2f steps/s), %.3f s/step thread CPU (%.2f steps/s)%n",
                name, wall, 1 / wall, cpu, 1 / cpu);
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
