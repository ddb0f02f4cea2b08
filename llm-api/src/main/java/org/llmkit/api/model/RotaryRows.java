package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;

/**
 * Rotary embeddings applied in Java to one head's row of {@code D} values at a time, with the {@code cos}/{@code sin}
 * tables of a forward ({@link ForwardContext}, {@code [B,1,T,D]}: one row per batch row and position, so positions
 * may differ per batch row, as with packed documents). Same convention and same float32 results as
 * {@link RotaryEmbedding#apply} ({@code x cos + rotate_half(x) sin}, {@code rotate_half(x) = cat(-x[D/2:], x[:D/2])}):
 * each output is {@code a·c ± b·s} of the same two products, with no fused multiply-add.
 *
 * <p>Used by {@link TapedAttention} to rotate queries and keys while gathering them into its own layouts, and to
 * send their gradients back through the rotation, without autograd.
 */
final class RotaryRows {
    private final NDArray cosArray;
    private final NDArray sinArray;
    private final float[] cos;
    private final float[] sin;
    private final int positions;
    private final int headDim;

    /**
     * Copies the tables (one copy serves all layers of a forward: {@link BlasTape#rotaryRows}).
     *
     * @param cos {@code [B,1,T,D]} float32
     * @param sin {@code [B,1,T,D]} float32
     */
    RotaryRows(NDArray cos, NDArray sin) {
        this.cosArray = cos;
        this.sinArray = sin;
        this.cos = cos.toFloatArray();
        this.sin = sin.toFloatArray();
        this.positions = (int) cos.getShape().get(2);
        this.headDim = (int) cos.getShape().get(3);
    }

    /**
     * @param cos a {@code cos} table
     * @param sin a {@code sin} table
     * @return whether these rows were copied from exactly these arrays
     */
    boolean isOf(NDArray cos, NDArray sin) {
        return cosArray == cos && sinArray == sin;
    }

    /**
     * Rotates one head's values: for {@code i < D/2},
     * {@code out_i = x_i cos_i - x_{i+D/2} sin_i} and {@code out_{i+D/2} = x_{i+D/2} cos_{i+D/2} + x_i sin_{i+D/2}}.
     * (Out of place, one loop per half: loops the JIT can vectorize.)
     *
     * @param x {@code [D]} a query's or key's values at one position
     * @param out {@code [D]} receives the rotated values (not {@code x})
     * @param b the batch row
     * @param t the position's index in the row
     */
    void rotate(float[] x, float[] out, int b, int t) {
        int at = (b * positions + t) * headDim;
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            out[i] = x[i] * cos[at + i] - x[i + half] * sin[at + i];
        }
        for (int i = half; i < headDim; i++) {
            out[i] = x[i] * cos[at + i] + x[i - half] * sin[at + i];
        }
    }

    /**
     * Turns the gradient of rotated values into the gradient of the values before rotation (the rotation's
     * transpose): {@code out_i = d_i cos_i + d_{i+D/2} sin_{i+D/2}} and
     * {@code out_{i+D/2} = d_{i+D/2} cos_{i+D/2} - d_i sin_i}.
     *
     * @param d {@code [D]} the gradient of one head's rotated values at one position
     * @param out {@code [D]} receives the gradient of the values before rotation (not {@code d})
     * @param b the batch row
     * @param t the position's index in the row
     */
    void rotateBack(float[] d, float[] out, int b, int t) {
        int at = (b * positions + t) * headDim;
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            out[i] = d[i] * cos[at + i] + d[i + half] * sin[at + i + half];
        }
        for (int i = half; i < headDim; i++) {
            out[i] = d[i] * cos[at + i] - d[i - half] * sin[at + i - half];
        }
    }
}
