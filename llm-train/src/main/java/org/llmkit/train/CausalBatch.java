package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.ForwardContext;

/**
 * The arrays of one causal-LM micro-batch, for running the model layer by layer: the same inputs, targets
 * and weights {@code Losses.causalLm} builds (labels are the inputs shifted by one; right padding is neither
 * attended to nor scored), split so the loss can be taken from the last hidden states.
 *
 * @param ids {@code [B,T]} int64 token ids (0 in padding)
 * @param context positions and masks for every layer
 * @param targets {@code [B,T-1]} int64 next tokens
 * @param weights {@code [B,T-1]} float32, 1 where scored
 * @param count 0-dim float32, the number of scored tokens
 * @param scored the same count as a number
 */
record CausalBatch(NDArray ids, ForwardContext context, NDArray targets, NDArray weights, NDArray count, int scored) {

    /**
     * @param m owner of the arrays
     * @param model the model (builds the context)
     * @param batch sequences of at least 2 tokens
     * @return the arrays
     */
    static CausalBatch of(NDManager m, DecoderModel model, int[][] batch) {
        int b = batch.length;
        int t = 0;
        for (int[] s : batch) {
            t = Math.max(t, s.length);
        }
        long[] ids = new long[b * t];
        long[] targets = new long[b * (t - 1)];
        float[] weights = new float[b * (t - 1)];
        int[][] positions = new int[b][t];
        boolean[][] valid = new boolean[b][t];
        boolean ragged = false;
        int scored = 0;
        for (int i = 0; i < b; i++) {
            int[] s = batch[i];
            ragged |= s.length != t;
            for (int j = 0; j < t; j++) {
                positions[i][j] = j;
                valid[i][j] = j < s.length;
                ids[i * t + j] = j < s.length ? s[j] : 0;
                if (j + 1 < t) {
                    boolean here = j + 1 < s.length;
                    targets[i * (t - 1) + j] = here ? s[j + 1] : 0;
                    weights[i * (t - 1) + j] = here ? 1f : 0f;
                    scored += here ? 1 : 0;
                }
            }
        }
        ForwardContext ctx = model.context(m, positions, ragged ? valid : null, null, 0);
        return new CausalBatch(m.create(ids, new Shape(b, t)), ctx, m.create(targets, new Shape(b, t - 1)),
                m.create(weights, new Shape(b, t - 1)), m.full(new Shape(), scored, DataType.FLOAT32), scored);
    }

    /**
     * @param batch sequences
     * @return tokens scored by the loss: every token but each sequence's first
     */
    static int scoredTokens(int[][] batch) {
        int n = 0;
        for (int[] s : batch) {
            n += s.length - 1;
        }
        return n;
    }
}
