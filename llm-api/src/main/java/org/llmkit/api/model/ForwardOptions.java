package org.llmkit.api.model;

/**
 * What a training or evaluation forward pass does beyond a plain one. Immutable; {@link #DEFAULT} is a
 * plain forward.
 *
 * <p><b>LoRA dropout</b> (PEFT's {@code lora_dropout}): each LoRA branch computes
 * {@code lora_B(lora_A(dropout(x))) * scaling}; the base projection sees {@code x} unchanged. Elements are
 * zeroed with probability {@code p} and the rest scaled by {@code 1 / (1 - p)}. Only while autograd records
 * (training); a forward without gradient recording (evaluation, inference) never drops. Masks come from a
 * {@link java.util.SplittableRandom} seeded with {@code dropoutSeed}, drawn in the forward's fixed order of
 * LoRA projections, so the same seed gives the same masks (exact resume needs no saved RNG state).
 *
 * @param loraDropout the probability of zeroing a LoRA branch's input element, in [0, 1)
 * @param dropoutSeed the seed of this forward's dropout masks
 */
public record ForwardOptions(double loraDropout, long dropoutSeed) {
    /** A plain forward: no dropout. */
    public static final ForwardOptions DEFAULT = new ForwardOptions(0, 0);

    /**
     * Checks ranges.
     *
     * @param loraDropout the probability of zeroing a LoRA branch's input element, in [0, 1)
     * @param dropoutSeed the seed of this forward's dropout masks
     */
    public ForwardOptions {
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new IllegalArgumentException("loraDropout must be in [0, 1), was " + loraDropout);
        }
    }

    /**
     * @param probability LoRA dropout probability, in [0, 1)
     * @param seed the seed of the masks
     * @return a copy with them
     */
    public ForwardOptions withLoraDropout(double probability, long seed) {
        return new ForwardOptions(probability, seed);
    }
}
