package org.llmkit.api.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses the next token of one sequence from its logits, on the host (the logits of the last
 * position are small: one {@code float[V]} per sequence and step). Not thread-safe: one per sequence.
 */
public final class Sampler {
    private final SamplingSettings settings;
    private final SplittableRandom random;

    /**
     * Creates a sampler.
     *
     * @param settings sampling settings
     * @param row the sequence's row in its batch (mixes into the seed)
     */
    public Sampler(SamplingSettings settings, int row) {
        this.settings = settings;
        this.random = new SplittableRandom(settings.seed() + row);
    }

    /**
     * Picks the next token. {@code logits} is modified in place.
     *
     * @param logits {@code [V]} raw logits of the last position
     * @param context tokens so far (prompt and generated) for the repetition penalty
     * @param contextLength how many entries of {@code context} are valid
     * @return the chosen token id
     */
    public int next(float[] logits, int[] context, int contextLength) {
        if (settings.repetitionPenalty() != 1) {
            penalize(logits, context, contextLength, (float) settings.repetitionPenalty());
        }
        if (settings.greedy()) {
            return argmax(logits);
        }
        float inverseTemperature = (float) (1.0 / settings.temperature());
        for (int i = 0; i < logits.length; i++) {
            logits[i] *= inverseTemperature;
        }
        long[] order = null;
        int keep = logits.length;
        if (settings.topK() > 0 && settings.topK() < logits.length) {
            order = sortedDescending(logits);
            keep = settings.topK();
        }
        if (settings.topP() < 1) {
            if (order == null) {
                order = sortedDescending(logits);
            }
            keep = Math.min(keep, nucleusSize(logits, order, keep, settings.topP()));
        }
        return order == null ? sampleAll(logits) : sampleAmong(logits, order, keep);
    }

    /**
     * Returns the index of the largest value (the first one on ties, like {@code torch.argmax}).
     *
     * @param values values
     * @return the index
     */
    public static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    // transformers' RepetitionPenaltyLogitsProcessor: divide positive logits, multiply negative ones.
    private static void penalize(float[] logits, int[] context, int length, float penalty) {
        boolean[] seen = new boolean[logits.length];
        for (int i = 0; i < length; i++) {
            int id = context[i];
            if (id >= 0 && id < logits.length && !seen[id]) {
                seen[id] = true;
                logits[id] = logits[id] < 0 ? logits[id] * penalty : logits[id] / penalty;
            }
        }
    }

    /** Token ids sorted by descending logit, packed as (sortable key << 32 | id) for a primitive sort. */
    private static long[] sortedDescending(float[] logits) {
        long[] packed = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            int bits = Float.floatToIntBits(logits[i]);
            int key = bits >= 0 ? bits : bits ^ 0x7fffffff;     // order-preserving int for floats
            packed[i] = ((long) ~key << 32) | i;                // ~key: ascending sort = descending logits
        }
        Arrays.sort(packed);
        return packed;
    }

    private static int id(long packed) {
        return (int) packed;
    }

    // Smallest prefix of the sorted candidates whose probability mass reaches p (at least one token).
    private static int nucleusSize(float[] logits, long[] order, int candidates, double p) {
        float max = logits[id(order[0])];
        double total = 0;
        for (int i = 0; i < candidates; i++) {
            total += Math.exp(logits[id(order[i])] - max);
        }
        double cumulative = 0;
        for (int i = 0; i < candidates; i++) {
            cumulative += Math.exp(logits[id(order[i])] - max) / total;
            if (cumulative >= p) {
                return i + 1;
            }
        }
        return candidates;
    }

    private int sampleAmong(float[] logits, long[] order, int keep) {
        float max = logits[id(order[0])];
        double total = 0;
        for (int i = 0; i < keep; i++) {
            total += Math.exp(logits[id(order[i])] - max);
        }
        double u = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            u -= Math.exp(logits[id(order[i])] - max);
            if (u <= 0) {
                return id(order[i]);
            }
        }
        return id(order[keep - 1]);
    }

    private int sampleAll(float[] logits) {
        float max = logits[argmax(logits)];
        double total = 0;
        for (float l : logits) {
            total += Math.exp(l - max);
        }
        double u = random.nextDouble() * total;
        int last = 0;
        for (int i = 0; i < logits.length; i++) {
            double w = Math.exp(logits[i] - max);
            if (w > 0) {
                last = i;
                u -= w;
                if (u <= 0) {
                    return i;
                }
            }
        }
        return last;
    }
}
