package org.llmkit.api.model;

import java.io.IOException;
import java.util.List;
import org.llmkit.api.ModelConfig;

/** Mistral: Llama with sliding-window attention ({@code sliding_window}, null = full attention). */
public final class MistralArchitecture extends LlamaArchitecture {

    @Override
    public String modelType() {
        return "mistral";
    }

    @Override
    protected void customize(ConfigJson json, ModelConfig.Builder b) throws IOException {
        int window = json.optInt("sliding_window", 0);
        List<Boolean> layers = slidingLayersFromLayerTypes(json);
        b.slidingWindow(window).slidingLayers(layers == null ? List.of() : layers);
    }

    @Override
    protected String architectureClass() {
        return "MistralForCausalLM";
    }
}
