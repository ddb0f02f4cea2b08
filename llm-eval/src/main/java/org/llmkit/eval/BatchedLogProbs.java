package org.llmkit.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.ForwardContext;
import org.llmkit.api.model.NoGradient;

/**
 * One forward pass over several sequences of different lengths, returning the log-probability of
 * each sequence's last {@code k} tokens. Sequences are left-padded (padding masked out of attention,
 * positions restarting at 0 after the padding, as {@link LanguageModel#lastLogits} does), so every
 * sequence ends at the same column and only the last {@code k} columns need the vocabulary
 * projection: {@code [B,k,V]} instead of {@code [B,T,V]}.
 *
 * <p>Legend: B sequences, T the longest length, C hidden size, V vocabulary, k scored tokens.
 */
final class BatchedLogProbs {
    private BatchedLogProbs() { }

    /**
     * @param model the model
     * @param sequences B non-empty sequences, each longer than {@code k}
     * @param k how many trailing tokens to score, at least 1
     * @return {@code [B][k]}: {@code log p(seq[len-k+j] | seq[..len-k+j))}
     */
    static double[][] lastTokens(LanguageModel model, List<int[]> sequences, int k) {
        int b = sequences.size();
        int longest = 0;
        for (int[] s : sequences) {
            if (s.length <= k) {
                throw new IllegalArgumentException("a sequence of " + s.length + " tokens cannot score its last " + k);
            }
            longest = Math.max(longest, s.length);
        }
        long[] flat = new long[b * longest];
        long[] targets = new long[b * k];
        int[][] positions = new int[b][longest];
        boolean[][] valid = new boolean[b][longest];
        boolean ragged = false;
        for (int i = 0; i < b; i++) {
            int[] s = sequences.get(i);
            int pad = longest - s.length;
            ragged |= pad > 0;
            for (int j = 0; j < s.length; j++) {
                flat[i * longest + pad + j] = s[j];
                positions[i][pad + j] = j;
                valid[i][pad + j] = true;
            }
            for (int j = 0; j < k; j++) {
                targets[i * k + j] = s[s.length - k + j];
            }
        }
        DecoderModel block = model.block();
        try (NoGradient g = NoGradient.scope(); NDManager m = model.manager().newSubManager()) {
            ForwardContext ctx = block.context(m, positions, ragged ? valid : null, null, 0);
            NDArray hidden = block.hidden(m.create(flat, new Shape(b, longest)), ctx);     // [B,T,C]
            // column t predicts token t+1: the last k tokens are predicted by columns [T-1-k, T-1)
            NDArray used = hidden.get(new NDIndex(":, {}:{}, :", longest - 1 - k, longest - 1));   // [B,k,C]
            NDArray logProbs = block.tensorType().float32(block.logits(used)).logSoftmax(-1);     // [B,k,V]
            NDArray picked = logProbs.gather(m.create(targets, new Shape(b, k, 1)), -1);          // [B,k,1]
            float[] values = picked.toFloatArray();
            double[][] out = new double[b][k];
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < k; j++) {
                    out[i][j] = values[i * k + j];
                }
            }
            return out;
        }
    }
}
