package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Additive attention masks: 0 where a query may attend to a key, the type's lowest finite value
 * (what transformers adds) where it may not.
 *
 * <p>Query {@code i} (cache slot {@code past + i}) sees key slot {@code j} iff {@code j <= past + i},
 * the key is not padding, and, with a window {@code w > 0}, {@code past + i - w < j} (the window
 * includes the current token, as in transformers' Mistral).
 */
final class AttentionMasks {
    private AttentionMasks() { }

    /**
     * Builds a mask, or returns null when nothing would be masked (one new token, no padding, window not reached).
     *
     * @param m manager of the result
     * @param batch B
     * @param newTokens T
     * @param past slots already in the cache
     * @param keyValid per sequence and key slot ({@code [B][past+T]}), false for padding; null = all valid
     * @param window sliding window, 0 = none
     * @param masked the value hidden positions get (the lowest finite value of the model's type)
     * @return {@code [B,1,T,S]} float32, or null
     */
    static NDArray build(NDManager m, int batch, int newTokens, int past, boolean[][] keyValid, int window,
            float masked) {
        return build(m, batch, newTokens, past, keyValid, null, window, masked);
    }

    /**
     * Builds a mask in which, besides the rules above, a query sees only keys of its own document
     * (block-diagonal causal attention for packed rows).
     *
     * @param m manager of the result
     * @param batch B
     * @param newTokens T
     * @param past slots already in the cache
     * @param keyValid per sequence and key slot ({@code [B][past+T]}), false for padding; null = all valid
     * @param documents per sequence and key slot ({@code [B][past+T]}), the document the slot belongs to;
     *     null = one document per row
     * @param window sliding window, 0 = none
     * @param masked the value hidden positions get (the lowest finite value of the model's type)
     * @return {@code [B,1,T,S]} float32, or null
     */
    static NDArray build(NDManager m, int batch, int newTokens, int past, boolean[][] keyValid, int[][] documents,
            int window, float masked) {
        int keys = past + newTokens;
        boolean padded = keyValid != null && hasPadding(keyValid);
        boolean windowed = window > 0 && keys > window;
        if (newTokens == 1 && !padded && !windowed && documents == null) {
            return null;
        }
        float[] mask = new float[batch * newTokens * keys];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < newTokens; i++) {
                int query = past + i;
                int row = (b * newTokens + i) * keys;
                for (int j = 0; j < keys; j++) {
                    boolean visible = j <= query
                            && (keyValid == null || keyValid[b][j])
                            && (window <= 0 || query - window < j)
                            && (documents == null || documents[b][j] == documents[b][query]);
                    mask[row + j] = visible ? 0f : masked;
                }
            }
        }
        return m.create(mask, new Shape(batch, 1, newTokens, keys));
    }

    /**
     * The mask of a continuous-batching decode step: one query per row at its own position {@code p}, which
     * sees key slots {@code j <= p} (and, with a window {@code w > 0}, {@code p - w < j}).
     *
     * @param m manager of the result
     * @param positions per row, the query's position (its cache slot)
     * @param keys S, the number of key slots attended (the largest position + 1)
     * @param window sliding window, 0 = none
     * @param masked the value hidden positions get
     * @return {@code [B,1,1,S]} float32 (never null: rows differ in length)
     */
    static NDArray rows(NDManager m, int[] positions, int keys, int window, float masked) {
        float[] mask = new float[positions.length * keys];
        for (int b = 0; b < positions.length; b++) {
            int query = positions[b];
            for (int j = 0; j < keys; j++) {
                boolean visible = j <= query && (window <= 0 || query - window < j);
                mask[b * keys + j] = visible ? 0f : masked;
            }
        }
        return m.create(mask, new Shape(positions.length, 1, 1, keys));
    }

    private static boolean hasPadding(boolean[][] keyValid) {
        for (boolean[] row : keyValid) {
            for (boolean v : row) {
                if (!v) {
                    return true;
                }
            }
        }
        return false;
    }
}
