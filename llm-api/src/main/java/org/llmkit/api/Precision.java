package org.llmkit.api;

/**
 * The floating-point format that a model's weights are held and computed in.
 *
 * <p>Checkpoints stored in any of the three formats can be loaded at any precision: values are
 * converted once, at load time.
 */
public enum Precision {
    /** IEEE float32: the reference; what every correctness test compares against. */
    FP32,
    /** IEEE float16: half the memory of FP32. */
    FP16,
    /** bfloat16: float32's range with 8 bits of mantissa; half the memory of FP32. */
    BF16
}
