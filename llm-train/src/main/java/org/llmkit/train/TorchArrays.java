package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Small array helpers that keep native memory owned by torch. */
final class TorchArrays {
    private TorchArrays() { }

    /**
     * Copies Java values into a torch-owned float32 array (DJL's {@code create} wraps a Java direct
     * buffer, which must then outlive the array; a duplicate owns its memory).
     *
     * @param manager the owner
     * @param values the values, row-major
     * @param shape the shape
     * @return the array
     */
    static NDArray owned(NDManager manager, float[] values, Shape shape) {
        try (NDArray staging = manager.create(values, shape)) {
            return staging.duplicate();
        }
    }
}
