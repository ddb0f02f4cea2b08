package org.llmkit.api.model;

/**
 * The few ways decoder-only architectures differ inside the shared skeleton ({@link DecoderModel}).
 *
 * @param norm RMSNorm (Llama family) or LayerNorm with bias (GPT-2)
 * @param positions rotary embeddings applied to q/k, or learned absolute embeddings added to the input
 * @param mlp gated ({@code down(act(gate(x)) * up(x))}, SwiGLU) or plain ({@code down(act(up(x)))})
 */
public record DecoderSpec(Norm norm, Positions positions, Mlp mlp) {

    /** Normalisation layers. */
    public enum Norm {
        /** {@code x / sqrt(mean(x^2) + eps) * w}, computed in float32. */
        RMS,
        /** {@code (x - mean) / sqrt(var + eps) * w + b}. */
        LAYER
    }

    /** Position information. */
    public enum Positions {
        /** Rotary embeddings (rotate_half pairing i, i + D/2). */
        ROTARY,
        /** A learned [maxPositions, C] table added to the token embeddings. */
        LEARNED
    }

    /** MLP shapes. */
    public enum Mlp {
        /** {@code down(act(gate(x)) * up(x))}. */
        GATED,
        /** {@code down(act(up(x)))}. */
        PLAIN
    }

    /** The Llama family: RMSNorm, rotary positions, SwiGLU. */
    public static final DecoderSpec LLAMA = new DecoderSpec(Norm.RMS, Positions.ROTARY, Mlp.GATED);

    /** GPT-2: LayerNorm, learned positions, plain GELU MLP. */
    public static final DecoderSpec GPT2 = new DecoderSpec(Norm.LAYER, Positions.LEARNED, Mlp.PLAIN);
}
