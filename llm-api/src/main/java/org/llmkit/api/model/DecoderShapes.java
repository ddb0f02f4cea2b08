package org.llmkit.api.model;

import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import org.llmkit.api.ModelConfig;

/**
 * Every parameter of the skeleton, by name, with the shape the config implies. The single source of
 * truth for loading (shape checks), random initialisation and parameter counts.
 */
public final class DecoderShapes {
    private DecoderShapes() { }

    /**
     * Lists the parameters of a model.
     *
     * @param c the config
     * @param spec the architecture's skeleton variant
     * @return skeleton name to shape, in checkpoint order
     */
    public static Map<String, Shape> of(ModelConfig c, DecoderSpec spec) {
        Map<String, Shape> s = new LinkedHashMap<>();
        long hidden = c.hiddenSize();
        long qDim = (long) c.numHeads() * c.headDim();
        long kvDim = (long) c.numKvHeads() * c.headDim();
        long inter = c.intermediateSize();
        s.put("model.embed_tokens.weight", new Shape(c.vocabSize(), hidden));
        if (spec.positions() == DecoderSpec.Positions.LEARNED) {
            s.put("model.embed_positions.weight", new Shape(c.maxPositionEmbeddings(), hidden));
        }
        for (int i = 0; i < c.numLayers(); i++) {
            String l = "model.layers." + i + ".";
            norm(s, spec, l + "input_layernorm", hidden);
            linear(s, l + "self_attn.q_proj", qDim, hidden, c.qkvBias());
            linear(s, l + "self_attn.k_proj", kvDim, hidden, c.qkvBias());
            linear(s, l + "self_attn.v_proj", kvDim, hidden, c.qkvBias());
            linear(s, l + "self_attn.o_proj", hidden, qDim, c.outputBias());
            norm(s, spec, l + "post_attention_layernorm", hidden);
            if (spec.mlp() == DecoderSpec.Mlp.GATED) {
                linear(s, l + "mlp.gate_proj", inter, hidden, c.mlpBias());
            }
            linear(s, l + "mlp.up_proj", inter, hidden, c.mlpBias());
            linear(s, l + "mlp.down_proj", hidden, inter, c.mlpBias());
        }
        norm(s, spec, "model.norm", hidden);
        if (!c.tieWordEmbeddings()) {
            s.put("lm_head.weight", new Shape(c.vocabSize(), hidden));
        }
        return s;
    }

    private static void linear(Map<String, Shape> s, String name, long out, long in, boolean bias) {
        s.put(name + ".weight", new Shape(out, in));
        if (bias) {
            s.put(name + ".bias", new Shape(out));
        }
    }

    private static void norm(Map<String, Shape> s, DecoderSpec spec, String name, long hidden) {
        s.put(name + ".weight", new Shape(hidden));
        if (spec.norm() == DecoderSpec.Norm.LAYER) {
            s.put(name + ".bias", new Shape(hidden));
        }
    }
}
