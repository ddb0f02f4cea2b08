package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.llmkit.api.ModelConfig;

/** One pre-norm decoder layer: {@code x += attn(norm1(x)); x += mlp(norm2(x))}. */
final class DecoderLayer extends SkeletonBlock {
    private final Norm inputNorm;
    private final Attention attention;
    private final Norm postAttentionNorm;
    private final FeedForward mlp;

    DecoderLayer(Map<String, Parameter> registry, int index, ModelConfig c, DecoderSpec spec, RotaryEmbedding rope,
            Constants f32, Kernels kernels) {
        super(registry);
        String p = "model.layers." + index + ".";
        inputNorm = addChildBlock("input_layernorm",
                new Norm(registry, p + "input_layernorm", spec.norm(), c.normEps(), f32, kernels));
        attention = addChildBlock("self_attn", new Attention(registry, p + "self_attn.", index, c, rope, f32, kernels));
        postAttentionNorm = addChildBlock("post_attention_layernorm",
                new Norm(registry, p + "post_attention_layernorm", spec.norm(), c.normEps(), f32, kernels));
        mlp = addChildBlock("mlp", new FeedForward(registry, p + "mlp.", c, spec.mlp(), f32, kernels));
    }

    List<Projection> projections() {
        List<Projection> all = new ArrayList<>(attention.projections());
        all.addAll(mlp.projections());
        return all;
    }

    NDArray apply(NDArray x, ForwardContext ctx) {
        NDArray h = x.add(attention.apply(inputNorm.apply(x, ctx), ctx));
        return h.add(mlp.apply(postAttentionNorm.apply(h, ctx), ctx));
    }
}
