package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.ForwardContext;
import org.llmkit.api.model.Losses;

/**
 * The causal-LM loss of an FP16 or BF16 model, differentiable. It equals llm-api's
 * {@code Losses.causalLm} (labels are the inputs shifted by one, right padding neither attended to nor
 * scored, mean over scored tokens) except for the cast of the logits to float32: that one goes through
 * torch's own {@code to} ({@code TorchOps.toFloat32}), because DJL's {@code toType} records no autograd
 * history and backward would fail with "element 0 of tensors does not require grad".
 */
final class MixedLoss {
    private MixedLoss() { }

    /**
     * @param m manager of the per-call arrays
     * @param model the low-precision decoder
     * @param batch sequences of at least two tokens each
     * @return a 0-dim float32 loss
     */
    static NDArray causalLm(NDManager m, DecoderModel model, int[][] batch) {
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
                if (j + 1 < t && j + 1 < s.length) {
                    targets[i * (t - 1) + j] = s[j + 1];
                    weights[i * (t - 1) + j] = 1f;
                    scored++;
                }
            }
        }
        ForwardContext ctx = model.context(m, positions, ragged ? valid : null, null, 0);
        NDArray logits = model.tensorType().ops().toFloat32(model.logits(model.hidden(m.create(ids, new Shape(b, t)), ctx)));
        return Losses.crossEntropy(logits, m.create(targets, new Shape(b, t - 1)), m.create(weights, new Shape(b, t - 1)),
                m.full(new Shape(), scored, DataType.FLOAT32));
    }
}
