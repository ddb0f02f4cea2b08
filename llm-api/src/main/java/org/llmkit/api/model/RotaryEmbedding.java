package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.llmkit.api.ModelConfig;

/**
 * Rotary position embeddings as transformers computes them: {@code inv_freq} in float32 (with the
 * config's scaling), angles {@code position * inv_freq} in float32, {@code emb = cat(freqs, freqs)},
 * and {@code x * cos + rotate_half(x) * sin} with {@code rotate_half(x) = cat(-x[D/2:], x[:D/2])}.
 *
 * <p>{@code rotate_half} is done as one matmul with a signed permutation matrix {@code R [D,D]}
 * ({@code x @ R}): exact (each output is one input times ±1) and one op instead of four.
 */
final class RotaryEmbedding {
    private final float[] invFreq;
    private final int headDim;
    private final NDArray rotateHalf;

    RotaryEmbedding(ModelConfig c, NDManager manager, TensorType type) {
        headDim = c.headDim();
        invFreq = c.ropeScaling().inverseFrequencies(c.ropeTheta(), headDim);
        float[] r = new float[headDim * headDim];
        int half = headDim / 2;
        for (int j = 0; j < half; j++) {
            r[(j + half) * headDim + j] = -1f;
            r[j * headDim + j + half] = 1f;
        }
        NDArray rf = manager.create(r, new Shape(headDim, headDim));
        rotateHalf = type.cast(rf);
    }

    /**
     * Computes {@code cos} and {@code sin} for the given positions.
     *
     * @param m manager for the result
     * @param positions [B][T] absolute positions
     * @param type the activation type
     * @return {@code {cos, sin}}, each {@code [B,1,T,D]}
     */
    NDArray[] cosSin(NDManager m, int[][] positions, TensorType type) {
        int b = positions.length;
        int t = positions[0].length;
        float[] cos = new float[b * t * headDim];
        float[] sin = new float[b * t * headDim];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                float[][] one = cosSin(positions[i][j]);
                int base = (i * t + j) * headDim;
                System.arraycopy(one[0], 0, cos, base, headDim);
                System.arraycopy(one[1], 0, sin, base, headDim);
            }
        }
        Shape shape = new Shape(b, 1, t, headDim);
        return new NDArray[] {type.cast(m.create(cos, shape)), type.cast(m.create(sin, shape))};
    }

    /**
     * Computes {@code cos} and {@code sin} of one position in float32, each value of the first half repeated in
     * the second ({@code emb = cat(freqs, freqs)}).
     *
     * @param position the absolute position
     * @return {@code {cos, sin}}, each {@code [D]}
     */
    float[][] cosSin(int position) {
        int half = headDim / 2;
        float pos = position;
        float[] cos = new float[headDim];
        float[] sin = new float[headDim];
        for (int f = 0; f < half; f++) {
            float angle = pos * invFreq[f];
            float c = (float) Math.cos(angle);
            float s = (float) Math.sin(angle);
            cos[f] = c;
            cos[f + half] = c;
            sin[f] = s;
            sin[f + half] = s;
        }
        return new float[][] {cos, sin};
    }

    /**
     * Rotates queries or keys.
     *
     * @param x {@code [B,heads,T,D]}
     * @param cos {@code [B,1,T,D]}
     * @param sin {@code [B,1,T,D]}
     * @return the rotated array, same shape
     */
    NDArray apply(NDArray x, NDArray cos, NDArray sin) {
        return x.mul(cos).add(x.matMul(rotateHalf).mul(sin));
    }
}
