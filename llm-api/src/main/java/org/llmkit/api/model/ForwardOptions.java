package org.llmkit.api.model;

/**
 * What a training or evaluation forward pass does beyond a plain one: LoRA dropout and document
 * boundaries inside packed rows. Immutable; {@link #DEFAULT} is a plain forward.
 *
 * <p><b>LoRA dropout</b> (PEFT's {@code lora_dropout}): each LoRA branch computes
 * {@code lora_B(lora_A(dropout(x))) * scaling}; the base projection sees {@code x} unchanged. Elements are
 * zeroed with probability {@code p} and the rest scaled by {@code 1 / (1 - p)}. Only while autograd records
 * (training); a forward without gradient recording (evaluation, inference) never drops. Masks come from a
 * {@link java.util.SplittableRandom} seeded with {@code dropoutSeed}, drawn in the forward's fixed order of
 * LoRA projections, so the same seed gives the same masks (exact resume needs no saved RNG state).
 *
 * <p><b>Document boundaries</b>: with {@code documentSeparator >= 0}, a row is read as documents that each
 * end with that token (the last one may be cut off by the row's end). A token attends only to earlier
 * tokens of its own document (a block-diagonal causal mask), positions restart at 0 with each document (as
 * transformers' {@code position_ids} for packed flash-attention, {@code DataCollatorWithFlattening}), and the
 * separator ending one document is not scored against the first token of the next. So each document's
 * logits equal those of the document alone. With -1 (the default, and transformers' default for packed
 * rows) a row is one sequence: attention and positions run across separators.
 *
 * @param loraDropout the probability of zeroing a LoRA branch's input element, in [0, 1)
 * @param dropoutSeed the seed of this forward's dropout masks
 * @param documentSeparator the token id that ends a document in a packed row, or -1 for none
 */
public record ForwardOptions(double loraDropout, long dropoutSeed, int documentSeparator) {
    /** A plain forward: no dropout, rows are single sequences. */
    public static final ForwardOptions DEFAULT = new ForwardOptions(0, 0, -1);

    /**
     * Checks ranges.
     *
     * @param loraDropout the probability of zeroing a LoRA branch's input element, in [0, 1)
     * @param dropoutSeed the seed of this forward's dropout masks
     * @param documentSeparator the token id that ends a document in a packed row, or -1 for none
     */
    public ForwardOptions {
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new IllegalArgumentException("loraDropout must be in [0, 1), was " + loraDropout);
        }
        if (documentSeparator < -1) {
            throw new IllegalArgumentException("documentSeparator must be a token id >= 0 or -1 (none), was "
                    + documentSeparator);
        }
    }

    /**
     * @param probability LoRA dropout probability, in [0, 1)
     * @param seed the seed of the masks
     * @return a copy with them
     */
    public ForwardOptions withLoraDropout(double probability, long seed) {
        return new ForwardOptions(probability, seed, documentSeparator);
    }

    /**
     * @param separator the token id that ends a document in a packed row, or -1 for none
     * @return a copy with it
     */
    public ForwardOptions withDocumentSeparator(int separator) {
        return new ForwardOptions(loraDropout, dropoutSeed, separator);
    }
}
