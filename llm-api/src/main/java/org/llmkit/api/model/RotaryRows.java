package org.llmkit.api.model;

import static org.llmkit.api.model.BlasTape.floats;

import ai.djl.ndarray.NDArray;
import java.nio.FloatBuffer;

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
    private final FloatBuffer cos;
    private final FloatBuffer sin;
    private final int positions;
    private final int headDim;

    /**
     * @param cos {@code [B,1,T,D]} float32, contiguous
     * @param sin {@code [B,1,T,D]} float32, contiguous
     */
    RotaryRows(NDArray cos, NDArray sin) {
        this.cos = floats(cos);
        this.sin = floats(sin);
        this.positions = (int) cos.getShape().get(2);
        this.headDim = (int) cos.getShape().get(3);
    }

    /**
     * Rotates one head's values in place: for {@code i < D/2},
     * {@code x_i ← x_i cos_i - x_{i+D/2} sin_i} and {@code x_{i+D/2} ← x_{i+D/2} cos_{i+D/2} + x_i sin_{i+D/2}}.
     *
     * @param x {@code [D]} a query's or key's values at one position
     * @param b the batch row
     * @param t the position's index in the row
     */
    void rotate(float[] x, int b, int t) {
        int at = (b * positions + t) * headDim;
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float lo = x[i];
            float hi = x[i + half];
            x[i] = lo * cos.get(at + i) - hi * sin.get(at + i);
            x[i + half] = hi * cos.get(at + i + half) + lo * sin.get(at + i + half);
        }
    }

    /**
     * Turns the gradient of rotated values into the gradient of the values before rotation, in place (the rotation's
     * transpose): {@code d_i ← d_i cos_i + d_{i+D/2} sin_{i+D/2}} and
     * {@code d_{i+D/2} ← d_{i+D/2} cos_{i+D/2} - d_i sin_i}.
     *
     * @param d {@code [D]} the gradient of one head's rotated values at one position
     * @param b the batch row
     * @param t the position's index in the row
     */
    void rotateBack(float[] d, int b, int t) {
        int at = (b * positions + t) * headDim;
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float lo = d[i];
            float hi = d[i + half];
            d[i] = lo * cos.get(at + i) + hi * sin.get(at + i + half);
            d[i + half] = hi * cos.get(at + i + half) - lo * sin.get(at + i);
        }
    }
}
