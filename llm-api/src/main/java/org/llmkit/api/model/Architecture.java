package org.llmkit.api.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import org.llmkit.api.ModelConfig;

/**
 * What one HuggingFace {@code model_type} adds to the shared decoder skeleton: how its
 * {@code config.json} maps onto {@link ModelConfig}, which {@link DecoderSpec} it uses, and how its
 * checkpoint names map onto the skeleton's (Llama) names. Register new ones in {@link Architectures}.
 */
public interface Architecture {

    /**
     * Returns the HF {@code model_type} this architecture reads.
     *
     * @return e.g. {@code "llama"}
     */
    String modelType();

    /**
     * Returns the skeleton variant.
     *
     * @return the spec
     */
    DecoderSpec spec();

    /**
     * Maps a parsed {@code config.json} onto a {@link ModelConfig}.
     *
     * @param json the config
     * @return the model config
     * @throws IOException when a field is missing or has the wrong type (the reader names it)
     */
    ModelConfig readConfig(ConfigJson json) throws IOException;

    /**
     * Writes a {@code config.json} that transformers (and this class) can read back.
     *
     * @param config the config
     * @return the JSON object
     */
    ObjectNode writeConfig(ModelConfig config);

    /**
     * Fills architecture defaults into a config builder for values the caller left unset.
     *
     * @param builder the builder
     */
    void applyDefaults(ModelConfig.Builder builder);

    /**
     * Returns how checkpoint tensors map to skeleton parameters.
     *
     * @return the layout
     */
    default CheckpointLayout layout() {
        return CheckpointLayout.IDENTITY;
    }
}
