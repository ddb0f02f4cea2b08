package org.llmkit.api;

import java.util.Locale;

/**
 * How rotary position embeddings are rescaled for long contexts, as in transformers'
 * {@code rope_parameters} (v5) or {@code rope_scaling} (v4).
 *
 * <p>Supported {@code type}s: {@code "default"} (no scaling), {@code "linear"} (positions divided by
 * {@code factor}) and {@code "llama3"} (Llama 3.1's frequency-dependent scaling, which uses all
 * four numbers).
 *
 * @param type the rope type, lower case
 * @param factor the scaling factor (1 for {@code default})
 * @param lowFreqFactor llama3: wavelengths longer than {@code originalMaxPositions / lowFreqFactor} are scaled
 * @param highFreqFactor llama3: wavelengths shorter than {@code originalMaxPositions / highFreqFactor} are kept
 * @param originalMaxPositions llama3: the context length the model was pre-trained with
 */
public record RopeScaling(
        String type,
        double factor,
        double lowFreqFactor,
        double highFreqFactor,
        int originalMaxPositions) {

    /** No scaling: plain RoPE. */
    public static final RopeScaling NONE = new RopeScaling("default", 1, 0, 0, 0);

    /** Validates the combination of values for the given type.
     *
     * @param type the rope type, lower case
     * @param factor the scaling factor (1 for {@code default})
     * @param lowFreqFactor llama3: wavelengths longer than {@code originalMaxPositions / lowFreqFactor} are scaled
     * @param highFreqFactor llama3: wavelengths shorter than {@code originalMaxPositions / highFreqFactor} are kept
     * @param originalMaxPositions llama3: the context length the model was pre-trained with
     */
    public RopeScaling {
        type = type == null ? "default" : type.toLowerCase(Locale.ROOT);
        switch (type) {
            case "default" -> { }
            case "linear" -> require(factor > 0, "factor (" + factor + ") must be > 0 for linear rope scaling");
            case "llama3" -> {
                require(factor > 0, "factor (" + factor + ") must be > 0 for llama3 rope scaling");
                require(originalMaxPositions > 0,
                        "original_max_position_embeddings (" + originalMaxPositions + ") must be > 0 for llama3");
                require(lowFreqFactor > 0 && highFreqFactor > lowFreqFactor,
                        "llama3 rope scaling needs 0 < low_freq_factor (" + lowFreqFactor
                                + ") < high_freq_factor (" + highFreqFactor + ")");
            }
            default -> throw new UnsupportedOperationException(
                    "rope type '" + type + "' is not supported yet; supported: default, linear, llama3");
        }
    }

    /**
     * Llama 3.1's rope scaling.
     *
     * @param factor the scaling factor (8 for Llama 3.1)
     * @param lowFreqFactor the low-frequency factor (1)
     * @param highFreqFactor the high-frequency factor (4)
     * @param originalMaxPositions the pre-training context (8192)
     * @return the scaling
     */
    public static RopeScaling llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
        return new RopeScaling("llama3", factor, lowFreqFactor, highFreqFactor, originalMaxPositions);
    }

    /**
     * Returns the inverse frequencies {@code 1 / theta^(2i/d)} for {@code i < d/2}, rescaled by this
     * scaling, computed in float32 as transformers does.
     *
     * @param theta the rope base ({@code rope_theta})
     * @param rotaryDim the number of rotated dimensions (the head dimension)
     * @return {@code rotaryDim / 2} inverse frequencies
     */
    public float[] inverseFrequencies(double theta, int rotaryDim) {
        float[] inv = new float[rotaryDim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / rotaryDim;
            inv[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
        switch (type) {
            case "linear" -> {
                for (int i = 0; i < inv.length; i++) {
                    inv[i] = (float) (inv[i] / factor);
                }
            }
            case "llama3" -> applyLlama3(inv);
            default -> { }
        }
        return inv;
    }

    // transformers' _compute_llama3_parameters: long wavelengths are divided by factor, short ones kept,
    // the band in between is interpolated smoothly.
    private void applyLlama3(float[] inv) {
        double lowFreqWavelen = originalMaxPositions / lowFreqFactor;
        double highFreqWavelen = originalMaxPositions / highFreqFactor;
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowFreqWavelen) {
                inv[i] = (float) (inv[i] / factor);
            } else if (wavelen >= highFreqWavelen) {
                double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                inv[i] = (float) ((1 - smooth) * inv[i] / factor + smooth * inv[i]);
            }
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
