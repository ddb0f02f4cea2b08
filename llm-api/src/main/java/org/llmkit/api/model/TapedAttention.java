package org.llmkit.api.model;

import static org.llmkit.api.model.BlasTape.floats;
import static org.llmkit.api.model.BlasTape.from;
import static org.llmkit.api.model.BlasTape.pt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.FloatBuffer;

/**
 * Scaled dot-product attention of a training forward ({@link BlasTape}) as OpenBLAS GEMMs outside autograd, with
 * its backward by hand. libtorch's fused CPU kernel (flash attention over MKL) ran 12 layers of B=4, H=12, KVH=4,
 * T=S=256, D=64 in ~400 ms forward + backward (~70 GFLOP/s) on a 2-core AMD EPYC, where OpenBLAS's GEMMs reach
 * 250-320 GFLOP/s.
 *
 * <p>Legend as in {@link Attention}; G = H / KVH. Forward, per batch row and key head: the G grouped query heads
 * {@code [G*T, D]} times {@code K^T} give the scores {@code [G*T, S]} in one GEMM (scaled); the additive mask is added
 * and the rows soft-maxed by libtorch (one vectorized call over all heads); {@code O = P V} is written per query head
 * straight into the {@code [B,T,H*D]} layout that o_proj reads. The output is an autograd leaf. Backward, with
 * {@code dO} the leaf's gradient: {@code dP = dO V^T}, {@code dS = P ∘ (dP - rowsum(dO ∘ O))},
 * {@code dQ = scale dS K}, {@code dK = scale dS^T Q} (the grouped GEMM sums over the G query heads of a key head),
 * {@code dV = Σ_g P_g^T dO_g}; {@code dQ, dK, dV} go into autograd through q, k and v (after rotary embeddings).
 *
 * <p>Memory: the probabilities {@code P [B,H,T,S]} float32 are kept for the backward (12.6 MB a layer at the sizes
 * above, what libtorch's composed attention keeps too); {@code Q, K, V} are read in place when contiguous, else
 * from contiguous copies. A fully masked query row (padding, masked with the lowest finite float, not -inf) gets
 * the uniform distribution autograd's softmax gives it, and its gradient.
 */
final class TapedAttention implements BlasTape.Step {
    private final NDArray q;
    private final NDArray k;
    private final NDArray v;
    private final FloatBuffer qs;
    private final FloatBuffer ks;
    private final FloatBuffer vs;
    private final NDArray probs;
    private final NDArray out;
    private final Dims dims;

    /** The sizes of one attention call. */
    private record Dims(int batch, int heads, int kvHeads, int queries, int keys, int headDim, float scale) {
        int group() {
            return heads / kvHeads;
        }

        // where query head h's (or, for h a multiple of G, the group's) [T, D] block starts in [B,H,T,D]
        int query(int b, int h) {
            return (b * heads + h) * queries * headDim;
        }

        // where key head kvh's [S, D] block starts in [B,KVH,S,D]
        int key(int b, int kvh) {
            return (b * kvHeads + kvh) * keys * headDim;
        }

        // where query head h's (or the group's) [T, S] block starts in [B,H,T,S]
        int score(int b, int h) {
            return (b * heads + h) * queries * keys;
        }

        // where query head h's [T, D] columns start in [B,T,H*D] (row stride H*D)
        int output(int b, int h) {
            return b * queries * heads * headDim + h * headDim;
        }
    }

    private TapedAttention(NDArray q, NDArray k, NDArray v, FloatBuffer qs, FloatBuffer ks, FloatBuffer vs,
            NDArray probs, NDArray out, Dims dims) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.qs = qs;
        this.ks = ks;
        this.vs = vs;
        this.probs = probs;
        this.out = out;
        this.dims = dims;
    }

    /**
     * Runs the forward and returns the step that backpropagates through it.
     *
     * @param manager where the forward's arrays live (closed after the backward)
     * @param q queries {@code [B,H,T,D]} float32, in the graph
     * @param k keys {@code [B,KVH,S,D]} float32, in the graph
     * @param v values {@code [B,KVH,S,D]} float32, in the graph
     * @param mask additive float32 mask broadcastable to {@code [B,H,T,S]} as {@code [B,1,T,S]}, or null
     * @param scale what the scores {@code Q K^T} are multiplied by
     * @return the step; {@link #output()} is the attention's result
     */
    static TapedAttention forward(NDManager manager, NDArray q, NDArray k, NDArray v, NDArray mask, float scale) {
        Shape qShape = q.getShape();
        Shape kShape = k.getShape();
        Dims d = new Dims((int) qShape.get(0), (int) qShape.get(1), (int) kShape.get(1), (int) qShape.get(2),
                (int) kShape.get(2), (int) qShape.get(3), scale);
        FloatBuffer qs = floats(q);
        FloatBuffer ks = floats(k);
        FloatBuffer vs = floats(v);
        NDArray probs;
        NDArray out = manager.create(new Shape(d.batch, d.queries, (long) d.heads * d.headDim), DataType.FLOAT32);
        try (NoGradient off = NoGradient.scope();
                NDArray scores = manager.create(new Shape(d.batch, d.heads, d.queries, d.keys), DataType.FLOAT32)) {
            scores(d, qs, ks, floats(scores));
            if (mask != null) {
                scores.addi(mask);
            }
            probs = scores.softmax(-1);
        }
        values(d, floats(probs), vs, floats(out));
        out.setRequiresGradient(true);
        return new TapedAttention(q, k, v, qs, ks, vs, probs, out, d);
    }

    /** @return the attention's result {@code [B,T,H*D]}, a leaf whose gradient {@link #backward} reads */
    NDArray output() {
        return out;
    }

    // S = scale Q K^T, one GEMM per batch row and key head over its G grouped query heads
    private static void scores(Dims d, FloatBuffer qs, FloatBuffer ks, FloatBuffer ss) {
        int g = d.group();
        for (int b = 0; b < d.batch; b++) {
            for (int kvh = 0; kvh < d.kvHeads; kvh++) {
                OpenBlas.gemm(false, true, g * d.queries, d.keys, d.headDim, d.scale, from(qs, d.query(b, kvh * g)),
                        d.headDim, from(ks, d.key(b, kvh)), d.headDim, 0f, from(ss, d.score(b, kvh * g)), d.keys);
            }
        }
    }

    // O = P V per query head, into [B,T,H*D]
    private static void values(Dims d, FloatBuffer ps, FloatBuffer vs, FloatBuffer os) {
        int g = d.group();
        int rowStride = d.heads * d.headDim;
        for (int b = 0; b < d.batch; b++) {
            for (int h = 0; h < d.heads; h++) {
                OpenBlas.gemm(false, false, d.queries, d.headDim, d.keys, 1f, from(ps, d.score(b, h)), d.keys,
                        from(vs, d.key(b, h / g)), d.headDim, 0f, from(os, d.output(b, h)), rowStride);
            }
        }
    }

    @Override
    public void backward(NDManager manager) {
        NDArray dOut = JniUtils.getGradient(pt(out));
        if (dOut == null) {
            return;
        }
        Dims d = dims;
        int g = d.group();
        int rowStride = d.heads * d.headDim;
        FloatBuffer dos = floats(dOut);
        FloatBuffer ps = floats(probs);
        NDArray dq = manager.create(q.getShape(), DataType.FLOAT32);
        NDArray dk = manager.create(k.getShape(), DataType.FLOAT32);
        NDArray dv = manager.create(v.getShape(), DataType.FLOAT32);
        try (NoGradient off = NoGradient.scope();
                NDArray ds = manager.create(probs.getShape(), DataType.FLOAT32)) {
            FloatBuffer dss = floats(ds);
            FloatBuffer dvs = floats(dv);
            for (int b = 0; b < d.batch; b++) {
                for (int h = 0; h < d.heads; h++) {
                    // dP = dO V^T
                    OpenBlas.gemm(false, true, d.queries, d.keys, d.headDim, 1f, from(dos, d.output(b, h)),
                            rowStride, from(vs, d.key(b, h / g)), d.headDim, 0f, from(dss, d.score(b, h)), d.keys);
                    // dV = Σ_g P_g^T dO_g
                    OpenBlas.gemm(true, false, d.keys, d.headDim, d.queries, 1f, from(ps, d.score(b, h)), d.keys,
                            from(dos, d.output(b, h)), rowStride, h % g == 0 ? 0f : 1f, from(dvs, d.key(b, h / g)),
                            d.headDim);
                }
            }
            // dS = P ∘ (dP - rowsum(dO ∘ O)): rowsum(P ∘ dP) = rowsum(dO ∘ O), a sum over D instead of S
            try (NDArray rowsum = dOut.mul(out.stopGradient())
                    .reshape(d.batch, d.queries, d.heads, d.headDim).sum(new int[] {3})
                    .transpose(0, 2, 1).expandDims(3)) {
                ds.subi(rowsum).muli(probs);
            }
            FloatBuffer dqs = floats(dq);
            FloatBuffer dks = floats(dk);
            for (int b = 0; b < d.batch; b++) {
                for (int kvh = 0; kvh < d.kvHeads; kvh++) {
                    FloatBuffer grouped = from(dss, d.score(b, kvh * g));
                    // dQ = scale dS K
                    OpenBlas.gemm(false, false, g * d.queries, d.headDim, d.keys, d.scale, grouped, d.keys,
                            from(ks, d.key(b, kvh)), d.headDim, 0f, from(dqs, d.query(b, kvh * g)), d.headDim);
                    // dK = scale dS^T Q, summed over the group's query heads
                    OpenBlas.gemm(true, false, d.keys, d.headDim, g * d.queries, d.scale, grouped, d.keys,
                            from(qs, d.query(b, kvh * g)), d.headDim, 0f, from(dks, d.key(b, kvh)), d.headDim);
                }
            }
        }
        dOut.close();
        JniUtils.backward(pt(q), pt(dq), true, false);
        JniUtils.backward(pt(k), pt(dk), true, false);
        JniUtils.backward(pt(v), pt(dv), true, false);
        dq.close();
        dk.close();
        dv.close();
    }
}
