package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.List;
import java.util.Map;
import org.llmkit.api.ModelConfig;

/**
 * Causal self-attention with grouped-query heads, optional rotary positions and sliding window.
 *
 * <p>Legend: B batch, T new tokens, S keys (past + T), C hidden, H query heads, KVH key/value heads,
 * G = H / KVH queries per key head, D head dim. Query head {@code h} reads key head {@code h / G}
 * (transformers' {@code repeat_kv}); instead of repeating K/V, queries are grouped
 * {@code [B,KVH,G*T,D]} so one batched matmul serves a whole group.
 *
 * <p>A training forward on a {@link BlasTape} (float32 on the CPU, no KV cache) runs from the q/k/v projections'
 * fused output to the attention's result (biases, rotary embeddings, attention) on OpenBLAS with a hand-written
 * backward ({@link TapedAttention}); every other forward uses libtorch's fused SDPA or the composed matmuls below.
 */
final class Attention extends SkeletonBlock {
    private final Projection q;
    private final Projection k;
    private final Projection v;
    private final Projection o;
    private final int layer;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int window;
    private final NDArray scale;
    private final RotaryEmbedding rope;
    private final Kernels kernels;
    private final double scaleValue;

    Attention(Map<String, Parameter> registry, String prefix, int layer, ModelConfig c, RotaryEmbedding rope,
            Constants f32, Kernels kernels) {
        super(registry);
        this.layer = layer;
        q = addChildBlock("q_proj", new Projection(registry, prefix + "q_proj", c.qkvBias(), kernels));
        k = addChildBlock("k_proj", new Projection(registry, prefix + "k_proj", c.qkvBias(), kernels));
        v = addChildBlock("v_proj", new Projection(registry, prefix + "v_proj", c.qkvBias(), kernels));
        o = addChildBlock("o_proj", new Projection(registry, prefix + "o_proj", c.outputBias(), kernels));
        heads = c.numHeads();
        kvHeads = c.numKvHeads();
        headDim = c.headDim();
        window = c.windowOf(layer);
        scale = f32.of((float) (1.0 / Math.sqrt(headDim)));
        this.rope = rope;
        this.kernels = kernels;
        this.scaleValue = 1.0 / Math.sqrt(headDim);
    }

    List<Projection> projections() {
        return List.of(q, k, v, o);
    }

    /**
     * @param x {@code [B,T,C]}
     * @param ctx shared per-forward inputs
     * @return {@code [B,T,C]}
     */
    NDArray apply(NDArray x, ForwardContext ctx) {
        if (ctx.tape != null && ctx.cache == null && ctx.rowPositions == null && TapedAttention.keepsLittle(
                x.getShape().get(0), heads, x.getShape().get(1), x.getShape().get(1))) {
            return o.apply(onTape(x, ctx), ctx);
        }
        Shape s = x.getShape();
        long b = s.get(0);
        long t = s.get(1);
        int g = heads / kvHeads;
        NDArray[] qkv = Projection.applyAll(x, ctx, q, k, v);
        NDArray qs = qkv[0].reshape(b, t, heads, headDim).transpose(0, 2, 1, 3);   // [B,H,T,D]
        NDArray ks = qkv[1].reshape(b, t, kvHeads, headDim).transpose(0, 2, 1, 3); // [B,KVH,T,D]
        NDArray vs = qkv[2].reshape(b, t, kvHeads, headDim).transpose(0, 2, 1, 3); // [B,KVH,T,D]
        if (rope != null) {
            qs = rope.apply(qs, ctx.cos, ctx.sin);
            ks = rope.apply(ks, ctx.cos, ctx.sin);
        }
        if (ctx.rowPositions != null) {
            NDArray[] kv = ctx.cache.appendRows(layer, ks, vs, ctx.rowPositions,
                    (int) ctx.fullMask.getShape().get(3));
            ks = kv[0];
            vs = kv[1];
        } else if (ctx.cache != null) {
            NDArray[] kv = ctx.cache.append(layer, ks, vs, ctx.past);
            ks = kv[0];
            vs = kv[1];
        }
        NDArray mask = ctx.mask(window);
        NDArray attended = kernels.fused()
                ? kernels.ops().scaledDotProductAttention(qs, ks, vs, mask, scaleValue, heads != kvHeads)
                : composed(qs, ks, vs, mask, b, t, g);                                  // [B,H,T,D]
        NDArray out = attended.transpose(0, 2, 1, 3).reshape(b, t, (long) heads * headDim); // [B,T,H*D]
        return o.apply(out, ctx);
    }

    /**
     * A training forward on a {@link BlasTape}: q/k/v as one taped linear layer, then biases, rotary embeddings and
     * attention on the tape too ({@link TapedAttention}), so that no autograd op runs between the projections' leaf
     * and the attention's result.
     *
     * @return the attention's result {@code [B,T,H*D]}, a leaf
     */
    private NDArray onTape(NDArray x, ForwardContext ctx) {
        TapedAttention.FusedQkv qkv = Projection.qkvOnTape(x, ctx, heads, kvHeads, headDim, q, k, v);
        return ctx.tape.attention(qkv, rope == null ? null : ctx.cos, rope == null ? null : ctx.sin,
                ctx.mask(window), (float) scaleValue);
    }

    /** The slow twin of fused SDPA: grouped matmuls, float32 softmax. Returns {@code [B,H,T,D]}. */
    private NDArray composed(NDArray qs, NDArray ks, NDArray vs, NDArray mask, long b, long t, int g) {
        long keys = ks.getShape().get(2);
        NDArray grouped = qs.reshape(b, kvHeads, g * t, headDim);                      // [B,KVH,G*T,D]
        NDArray scores = grouped.matMul(ks.transpose(0, 1, 3, 2));                     // [B,KVH,G*T,S]
        TensorType type = kernels.type();
        scores = type.float32(scores);                                                  // softmax in float32, as HF
        scores = scores.mul(scale);
        if (mask != null) {
            scores = scores.reshape(b, kvHeads, g, t, keys).add(mask.reshape(b, 1, 1, t, keys))
                    .reshape(b, kvHeads, g * t, keys);
        }
        NDArray probs = type.cast(scores.softmax(-1));
        return probs.matMul(vs).reshape(b, heads, t, headDim);                          // [B,H,T,D]
    }
}
