package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Causal language-modelling loss with transformers' convention: labels are the inputs, logits at
 * position t are scored against token t+1, the mean is over all predicted tokens.
 */
public final class Losses {
    private Losses() { }

    /**
     * Computes the mean next-token cross-entropy of a (possibly ragged) batch. Shorter sequences are
     * right-padded; padded positions are neither attended to nor scored. Works under autograd.
     *
     * @param m manager of the per-call arrays
     * @param model the model
     * @param batch sequences of at least two valid token ids each
     * @return a 0-dim float32 array
     */
    public static NDArray causalLm(NDManager m, DecoderModel model, int[][] batch) {
        return causalLm(m, model, batch, ForwardOptions.DEFAULT);
    }

    /**
     * Computes the mean next-token cross-entropy of a (possibly ragged) batch, as
     * {@link #causalLm(NDManager, DecoderModel, int[][])} does, with a training forward's extras.
     *
     * @param m manager of the per-call arrays
     * @param model the model
     * @param batch sequences of at least two valid token ids each
     * @param options LoRA dropout (applied only while autograd records)
     * @return a 0-dim float32 array
     */
    public static NDArray causalLm(NDManager m, DecoderModel model, int[][] batch, ForwardOptions options) {
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
                    boolean scoredHere = j + 1 < s.length;
                    targets[i * (t - 1) + j] = scoredHere ? s[j + 1] : 0;
                    weights[i * (t - 1) + j] = scoredHere ? 1f : 0f;
                    scored += scoredHere ? 1 : 0;
                }
            }
        }
        ForwardContext ctx = model.context(m, positions, ragged ? valid : null, null, 0);
        if (options.loraDropout() > 0 && !ctx.inference) {
            ctx = ctx.withLoraDropout(new LoraDropout(options.loraDropout(), options.dropoutSeed()));
        }
        NDArray logits = model.tensorType().float32(model.logits(model.hidden(m.create(ids, new Shape(b, t)), ctx)));
        return crossEntropy(logits, m.create(targets, new Shape(b, t - 1)), m.create(weights, new Shape(b, t - 1)),
                m.full(new Shape(), scored, DataType.FLOAT32));
    }

    /**
     * Weighted mean cross-entropy of shifted logits.
     *
     * @param logits {@code [B,T,V]} float32
     * @param targets {@code [B,T-1]} int64: the token each of the first T-1 positions should predict
     * @param weights {@code [B,T-1]} float32: 1 to score a position, 0 to skip it
     * @param count 0-dim float32: the sum of the weights
     * @return 0-dim float32 loss
     */
    public static NDArray crossEntropy(NDArray logits, NDArray targets, NDArray weights, NDArray count) {
        NDArray shifted = logits.get(new NDIndex(":, :-1, :"));
        NDArray logProbs = shifted.logSoftmax(-1);
        NDArray picked = logProbs.gather(targets.expandDims(-1), -1).squeeze(-1);   // [B,T-1]
        return picked.mul(weights).sum().neg().div(count);
    }
}
