package org.llmkit.api.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The slow twins of {@link TorchOps}: the same math composed from plain DJL ops, with every
 * constant in torch-owned memory ({@code full}) so autograd never keeps a freed Java scalar.
 */
final class Composed {

    private Composed() {}

    /**
     * {@code softmax(q k^T * scale + mask) v}, with k and v repeated to q's head count.
     *
     * @param q [B, H, T, D]
     * @param k [B, KVH, S, D]
     * @param v [B, KVH, S, D]
     * @param mask broadcastable to [B, H, T, S], or null
     * @param scale the score factor
     * @return [B, H, T, D]
     */
    static NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask, float scale) {
        long heads = q.getShape().get(1);
        NDArray keys = repeatHeads(k, heads);
        NDArray values = repeatHeads(v, heads);
        NDManager manager = q.getManager();
        NDArray scores =
                q.matMul(keys.transpose(0, 1, 3, 2)).mul(manager.full(new Shape(), scale)); // [B,H,T,S]
        if (mask != null) {
            scores = scores.add(mask);
        }
        return scores.softmax(-1).matMul(values);
    }

    /** [B, KVH, S, D] to [B, H, S, D], query head h reading key/value head h / (H / KVH). */
    private static NDArray repeatHeads(NDArray kv, long heads) {
        Shape s = kv.getShape();
        long group = heads / s.get(1);
        if (group == 1) {
            return kv;
        }
        return kv.expandDims(2)
                .broadcast(new Shape(s.get(0), s.get(1), group, s.get(2), s.get(3)))
                .reshape(s.get(0), heads, s.get(2), s.get(3));
    }

    /**
     * HF LlamaRMSNorm on float32 input: {@code weight * x / sqrt(mean(x^2, -1) + eps)}.
     *
     * @param x [..., C] float32
     * @param weight [C]
     * @param eps the epsilon
     * @return [..., C]
     */
    static NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
        NDManager manager = x.getManager();
        NDArray variance = x.square().mean(new int[] {-1}, true);
        NDArray inverse =
                variance.add(manager.full(new Shape(), eps)).pow(manager.full(new Shape(), -0.5f));
        return weight.mul(x.mul(inverse));
    }

    /**
     * An additive causal mask: 0 where key position s is at most query position t, -inf after.
     *
     * @param manager where to create it
     * @param length T = S
     * @return [T, T] float32
     */
    static NDArray causalMask(NDManager manager, int length) {
        float[] mask = new float[length * length];
        for (int t = 0; t < length; t++) {
            for (int s = t + 1; s < length; s++) {
                mask[t * length + s] = Float.NEGATIVE_INFINITY;
            }
        }
        return manager.create(mask, new Shape(length, length)).toType(DataType.FLOAT32, true);
    }
}
