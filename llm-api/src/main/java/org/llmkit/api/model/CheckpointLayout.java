package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import org.llmkit.api.ModelConfig;

/**
 * Maps checkpoint tensors onto the skeleton's parameters (named like transformers' Llama:
 * {@code model.layers.0.self_attn.q_proj.weight}) and back. Architectures whose checkpoints use
 * those names need nothing more than {@link #IDENTITY}.
 */
public interface CheckpointLayout {

    /** Checkpoint names are skeleton names. */
    CheckpointLayout IDENTITY = new CheckpointLayout() {
        @Override
        public void read(TensorSource source, Collection<String> names, ModelConfig config,
                BiConsumer<String, NDArray> sink) throws IOException {
            for (String name : names) {
                sink.accept(name, source.load(name));
            }
        }

        @Override
        public Map<String, NDArray> write(Map<String, NDArray> skeleton, ModelConfig config) {
            return new LinkedHashMap<>(skeleton);
        }
    };

    /**
     * Reads every skeleton parameter from the checkpoint.
     *
     * @param source the checkpoint
     * @param names the skeleton names to produce
     * @param config the model config
     * @param sink receives (skeleton name, array); arrays must be contiguous
     * @throws IOException when a tensor is missing or unreadable
     */
    void read(TensorSource source, Collection<String> names, ModelConfig config, BiConsumer<String, NDArray> sink)
            throws IOException;

    /**
     * Converts skeleton parameters to checkpoint tensors, in the order the checkpoint should list them.
     * New arrays this creates belong to the manager of the arrays they come from.
     *
     * @param skeleton skeleton name to array
     * @param config the model config
     * @return checkpoint name to array
     */
    Map<String, NDArray> write(Map<String, NDArray> skeleton, ModelConfig config);

    /**
     * The module a skeleton projection belongs to in this layout's checkpoints, as PEFT names the modules its
     * adapters target ({@code target_modules} match its suffixes; adapter tensors are named after it). Several
     * projections may share one module: GPT-2's q/k/v are one {@code c_attn}, whose adapter has one {@code lora_A}
     * and one {@code lora_B} spanning their outputs.
     *
     * @param projection a skeleton projection's name, e.g. {@code model.layers.0.self_attn.q_proj}
     * @return the checkpoint module's name; the projection's own name where the checkpoint uses skeleton names
     */
    default String moduleOf(String projection) {
        return projection;
    }

    /**
     * @return whether the checkpoint modules named by {@link #moduleOf} store their weights as {@code [in, out]}
     *     ({@code Conv1D}), so that PEFT saves their adapters with {@code fan_in_fan_out = true} (the adapters' own
     *     {@code lora_A [r, in]} and {@code lora_B [out, r]} keep the {@code nn.Linear} layout)
     */
    default boolean conv1dModules() {
        return false;
    }
}
