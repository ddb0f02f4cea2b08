package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.util.Set;

/** Checkpoint tensors by their checkpoint names, loaded on demand. */
public interface TensorSource {

    /**
     * Returns the names the checkpoint holds.
     *
     * @return the names
     */
    Set<String> names();

    /**
     * Returns whether the checkpoint holds a tensor.
     *
     * @param name the checkpoint name
     * @return true when present
     */
    default boolean contains(String name) {
        return names().contains(name);
    }

    /**
     * Loads a tensor at the model's precision.
     *
     * @param name the checkpoint name
     * @return the array, owned by the model's manager
     * @throws IOException when the tensor is missing (the message names the checkpoint files) or unreadable
     */
    NDArray load(String name) throws IOException;
}
