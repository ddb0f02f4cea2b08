package org.llmkit.api.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.ModelFormatException;
import org.llmkit.api.RopeScaling;

/**
 * Llama 2, 3, 3.1 and 3.2 ({@code model_type: llama}): the base of the family. Checkpoint names are
 * the skeleton's names. Mistral and Qwen2 extend this class and only say how they differ.
 */
public class LlamaArchitecture implements Architecture {

    @Override
    public String modelType() {
        return "llama";
    }

    @Override
    public DecoderSpec spec() {
        return DecoderSpec.LLAMA;
    }

    @Override
    public void applyDefaults(ModelConfig.Builder b) {
        b.defaults("silu", false, false, false, false);
    }

    /**
     * Reads the fields every Llama-family config has, then lets subclasses adjust the builder.
     */
    @Override
    public ModelConfig readConfig(ConfigJson json) throws IOException {
        ModelConfig.Builder b = ModelConfig.builder(modelType())
                .vocabSize(json.requireInt("vocab_size"))
                .hiddenSize(json.requireInt("hidden_size"))
                .intermediateSize(json.requireInt("intermediate_size"))
                .numLayers(json.requireInt("num_hidden_layers"))
                .numHeads(json.requireInt("num_attention_heads"))
                .numKvHeads(json.optInt("num_key_value_heads", -1))
                .headDim(json.optInt("head_dim", -1))
                .maxPositionEmbeddings(json.optInt("max_position_embeddings", 2048))
                .normEps(json.optDouble("rms_norm_eps", 1e-6))
                .hiddenAct(json.optString("hidden_act", "silu"))
                .tieWordEmbeddings(json.optBoolean("tie_word_embeddings", false))
                .bosTokenId(json.optInt("bos_token_id", -1))
                .eosTokenIds(json.intList("eos_token_id"))
                .padTokenId(json.optInt("pad_token_id", -1));
        ConfigJson.Rope rope = json.rope(10000);
        b.ropeTheta(rope.theta()).ropeScaling(rope.scaling());
        boolean attentionBias = json.optBoolean("attention_bias", false);
        b.qkvBias(attentionBias).outputBias(attentionBias).mlpBias(json.optBoolean("mlp_bias", false));
        customize(json, b);
        try {
            return b.build();
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            throw new ModelFormatException(json.file(), e.getMessage(), e);
        }
    }

    /**
     * Hook for subclasses: adjust the builder with architecture-specific fields.
     *
     * @param json the config
     * @param b the builder, already filled with the common fields
     * @throws IOException when a field is malformed
     */
    protected void customize(ConfigJson json, ModelConfig.Builder b) throws IOException {
        List<Boolean> sliding = slidingLayersFromLayerTypes(json);
        if (sliding != null && sliding.contains(true)) {
            b.slidingWindow(json.requireInt("sliding_window")).slidingLayers(sliding);
        }
    }

    /**
     * Reads transformers' {@code layer_types} list ("full_attention" / "sliding_attention").
     *
     * @param json the config
     * @return per-layer sliding flags, or null when the config has no such list
     * @throws ModelFormatException when an entry is neither
     */
    protected static List<Boolean> slidingLayersFromLayerTypes(ConfigJson json) throws ModelFormatException {
        if (!json.has("layer_types")) {
            return null;
        }
        List<Boolean> out = new ArrayList<>();
        for (var n : json.root().get("layer_types")) {
            switch (n.asText()) {
                case "full_attention" -> out.add(false);
                case "sliding_attention" -> out.add(true);
                default -> throw new ModelFormatException(json.file(), "layer_types entry '" + n.asText()
                        + "' is not supported; expected full_attention or sliding_attention");
            }
        }
        return out;
    }

    @Override
    public ObjectNode writeConfig(ModelConfig c) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.putArray("architectures").add(architectureClass());
        o.put("model_type", modelType());
        o.put("vocab_size", c.vocabSize());
        o.put("hidden_size", c.hiddenSize());
        o.put("intermediate_size", c.intermediateSize());
        o.put("num_hidden_layers", c.numLayers());
        o.put("num_attention_heads", c.numHeads());
        o.put("num_key_value_heads", c.numKvHeads());
        o.put("head_dim", c.headDim());
        o.put("max_position_embeddings", c.maxPositionEmbeddings());
        o.put("rms_norm_eps", c.normEps());
        o.put("hidden_act", c.hiddenAct());
        o.put("tie_word_embeddings", c.tieWordEmbeddings());
        o.put("attention_bias", c.qkvBias());
        o.put("mlp_bias", c.mlpBias());
        putTokenIds(o, c);
        o.put("rope_theta", c.ropeTheta());
        RopeScaling s = c.ropeScaling();
        if (!"default".equals(s.type())) {
            ObjectNode r = o.putObject("rope_scaling");
            r.put("rope_type", s.type());
            r.put("factor", s.factor());
            if ("llama3".equals(s.type())) {
                r.put("low_freq_factor", s.lowFreqFactor());
                r.put("high_freq_factor", s.highFreqFactor());
                r.put("original_max_position_embeddings", s.originalMaxPositions());
            }
        }
        if (c.slidingWindow() > 0) {
            o.put("sliding_window", c.slidingWindow());
            ArrayNode types = o.putArray("layer_types");
            c.slidingLayers().forEach(sl -> types.add(sl ? "sliding_attention" : "full_attention"));
        }
        o.put("torch_dtype", "float32");
        return o;
    }

    /**
     * Returns the transformers class name written into {@code architectures}.
     *
     * @return e.g. {@code LlamaForCausalLM}
     */
    protected String architectureClass() {
        return "LlamaForCausalLM";
    }

    static void putTokenIds(ObjectNode o, ModelConfig c) {
        if (c.bosTokenId() >= 0) {
            o.put("bos_token_id", c.bosTokenId());
        } else {
            o.putNull("bos_token_id");
        }
        if (c.eosTokenIds().size() == 1) {
            o.put("eos_token_id", c.eosTokenIds().get(0));
        } else if (c.eosTokenIds().isEmpty()) {
            o.putNull("eos_token_id");
        } else {
            ArrayNode a = o.putArray("eos_token_id");
            c.eosTokenIds().forEach(a::add);
        }
        if (c.padTokenId() >= 0) {
            o.put("pad_token_id", c.padTokenId());
        } else {
            o.putNull("pad_token_id");
        }
    }
}
