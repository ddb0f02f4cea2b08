package org.llmkit.api.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.llmkit.api.ModelConfig;

/**
 * Qwen2: Llama with biases on q/k/v (not on o_proj), usually tied embeddings, and an optional sliding
 * window on layers from {@code max_window_layers} on when {@code use_sliding_window} is true.
 */
public final class Qwen2Architecture extends LlamaArchitecture {

    @Override
    public String modelType() {
        return "qwen2";
    }

    @Override
    public void applyDefaults(ModelConfig.Builder b) {
        b.defaults("silu", true, false, false, false);
    }

    @Override
    protected void customize(ConfigJson json, ModelConfig.Builder b) throws IOException {
        b.qkvBias(true).outputBias(false).mlpBias(false);
        if (!json.optBoolean("use_sliding_window", false)) {
            return;
        }
        int numLayers = json.requireInt("num_hidden_layers");
        List<Boolean> layers = slidingLayersFromLayerTypes(json);
        if (layers == null) {
            int from = json.optInt("max_window_layers", numLayers);
            layers = new ArrayList<>();
            for (int i = 0; i < numLayers; i++) {
                layers.add(i >= from);
            }
        }
        b.slidingWindow(json.requireInt("sliding_window")).slidingLayers(layers);
    }

    @Override
    public ObjectNode writeConfig(ModelConfig c) {
        ObjectNode o = super.writeConfig(c);
        o.remove("attention_bias");
        o.remove("mlp_bias");
        o.put("use_sliding_window", c.slidingWindow() > 0);
        return o;
    }

    @Override
    protected String architectureClass() {
        return "Qwen2ForCausalLM";
    }
}
