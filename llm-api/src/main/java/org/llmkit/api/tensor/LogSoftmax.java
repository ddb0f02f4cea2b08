package org.llmkit.api.tensor;

/**
 * A log-probability from float32 logits on the host, accumulated in double: for scoring (perplexity, multiple
 * choice, self-improvement samples) and for a training loss's rows whose probability underflows float32.
 */
public final class LogSoftmax {
    private LogSoftmax() { }

    /**
     * @param logits one row of logits
     * @param target an index into {@code logits}
     * @return {@code log softmax(logits)[target]} = {@code logits[target] − logsumexp(logits)}
     */
    public static double of(float[] logits, int target) {
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
