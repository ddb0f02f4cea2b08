package org.llmkit.api.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;

/**
 * Not a test: times a TorchScript call against plain DJL ops, and fused SDPA against composed
 * attention. Run with {@code java -cp <test classpath> org.llmkit.api.tensor.TorchOpsBenchmark}
 * and the same JVM flags as the tests (one intra-op thread).
 */
final class TorchOpsBenchmark {

    private TorchOpsBenchmark() {}

    /**
     * Prints the median time per call of each case, in microseconds.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        try (TorchOps ops = TorchOps.load();
                NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(1);
            NDArray tiny = m.randomNormal(new Shape(4));
            NDArray tinyW = m.ones(new Shape(4));
            time("DJL x.neg() [4]", m, 20000, s -> tiny.neg());
            time("TorchScript to_f32 on f32 [4] (no-op)", m, 20000, s -> ops.toFloat32(tiny));
            time("TorchScript rmsNorm [4]", m, 20000, s -> ops.rmsNorm(tiny, tinyW, 1e-6));
            time("DJL composed rmsNorm [4]", m, 20000, s -> Composed.rmsNorm(tiny, tinyW, 1e-6f));

            attention(ops, m, "decode", 1, 160, false, 3000);
            attention(ops, m, "prefill", 512, 512, true, 60);
        }
    }

    private static void attention(
            TorchOps ops, NDManager m, String name, int t, int s, boolean causal, int iterations) {
        NDArray q = m.randomNormal(new Shape(1, 12, t, 64)); // [B, H, T, D]
        NDArray k = m.randomNormal(new Shape(1, 4, s, 64)); // [B, KVH, S, D]
        NDArray v = m.randomNormal(new Shape(1, 4, s, 64));
        NDArray mask = causal ? Composed.causalMask(m, t) : null;
        float scale = 0.125f;
        String shapes = String.format(Locale.ROOT, " q[1,12,%d,64] kv[1,4,%d,64]", t, s);
        time(name + " fused SDPA (GQA)" + shapes, m, iterations,
                x -> ops.scaledDotProductAttention(q, k, v, mask, scale, true));
        time(name + " composed, kv expanded to 12 heads" + shapes, m, iterations,
                x -> Composed.attention(q, k, v, mask, scale));
        time(name + " composed, q grouped per kv head" + shapes, m, iterations,
                x -> groupedAttention(q, k, v, mask, scale));
    }

    /** Composed GQA without repeating k/v: q [1,12,T,D] to [1,4,3T,D]. */
    private static NDArray groupedAttention(
            NDArray q, NDArray k, NDArray v, NDArray mask, float scale) {
        Shape qs = q.getShape();
        long kvHeads = k.getShape().get(1);
        long group = qs.get(1) / kvHeads;
        NDArray grouped = q.reshape(qs.get(0), kvHeads, group * qs.get(2), qs.get(3));
        NDArray scores =
                grouped.matMul(k.transpose(0, 1, 3, 2))
                        .mul(q.getManager().full(new Shape(), scale)); // [B, KVH, G*T, S]
        if (mask != null) {
            long s = k.getShape().get(2);
            scores = scores.reshape(qs.get(0), kvHeads, group, qs.get(2), s).add(mask)
                    .reshape(qs.get(0), kvHeads, group * qs.get(2), s);
        }
        return scores.softmax(-1).matMul(v).reshape(qs);
    }

    private static void time(
            String label, NDManager parent, int iterations, Function<NDManager, NDArray> op) {
        int warmup = Math.max(20, iterations / 5);
        for (int i = 0; i < warmup; i++) {
            try (NDManager scope = parent.newSubManager()) {
                op.apply(scope).attach(scope);
            }
        }
        double[] medians = new double[5];
        int perRound = Math.max(1, iterations / medians.length);
        for (int r = 0; r < medians.length; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < perRound; i++) {
                try (NDManager scope = parent.newSubManager()) {
                    op.apply(scope).attach(scope);
                }
            }
            medians[r] = (System.nanoTime() - start) / 1e3 / perRound;
        }
        Arrays.sort(medians);
        System.out.printf(
                Locale.ROOT, "%-72s median %9.1f us  (min %9.1f)%n", label, medians[2], medians[0]);
    }
}
