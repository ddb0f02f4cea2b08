package org.llmkit.api.generate;

/**
 * How the next token is chosen from the logits, in the order transformers applies its logits
 * processors: repetition penalty, temperature, top-k, top-p, then sampling (or argmax when greedy).
 *
 * @param greedy take the most likely token (ignores temperature, top-k, top-p and seed)
 * @param temperature divides the logits; > 0
 * @param topK keep the k most likely tokens; 0 = off
 * @param topP keep the smallest set whose probability reaches p; 1 = off
 * @param repetitionPenalty CTRL-style penalty on tokens already present; 1 = off
 * @param seed seeds the sampler; row {@code i} of a batch uses {@code seed + i}
 */
public record SamplingSettings(boolean greedy, double temperature, int topK, double topP, double repetitionPenalty,
        long seed) {

    /** Greedy decoding, no penalty. */
    public static final SamplingSettings GREEDY = new SamplingSettings(true, 1, 0, 1, 1, 0);

    /** Validates every value; messages name the option and its range.
     *
     * @param greedy take the most likely token (ignores temperature, top-k, top-p and seed)
     * @param temperature divides the logits; > 0
     * @param topK keep the k most likely tokens; 0 = off
     * @param topP keep the smallest set whose probability reaches p; 1 = off
     * @param repetitionPenalty CTRL-style penalty on tokens already present; 1 = off
     * @param seed seeds the sampler; row {@code i} of a batch uses {@code seed + i}
     */
    public SamplingSettings {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be > 0 (use greedy() for argmax) but is " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 = off) but is " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1] but is " + topP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be > 0 (1 = off) but is " + repetitionPenalty);
        }
    }
}
