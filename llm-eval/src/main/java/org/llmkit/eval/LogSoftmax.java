package org.llmkit.eval;

/** Log-probabilities from float32 logits, accumulated in double. */
final class LogSoftmax {
    private LogSoftmax() { }

    /** {@code log softmax(logits)[target]} = {@code logits[target] − logsumexp(logits)}. */
    static double of(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        return logits[target] - max - Math.log(sum);
    }
}
