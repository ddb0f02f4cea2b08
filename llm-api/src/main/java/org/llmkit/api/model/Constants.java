package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.Map;

/**
 * Scalar constants held as 0-dim arrays in torch-owned memory.
 *
 * <p>Why: DJL's {@code x.mul(2f)} wraps the number in a temporary tensor over a Java buffer that is
 * freed right after the op while autograd may still hold it; after a GC, backward reads freed memory
 * (DJL-NOTES trap 1). Multiplying by arrays made with {@code manager.full} is safe.
 */
public final class Constants {
    private final NDManager manager;
    private final DataType dataType;
    private final Map<Float, NDArray> cache = new HashMap<>();

    /**
     * Creates a constant pool.
     *
     * @param manager owner of the constants (lives as long as the model)
     * @param dataType their type
     */
    public Constants(NDManager manager, DataType dataType) {
        this.manager = manager;
        this.dataType = dataType;
    }

    /**
     * Returns a 0-dim array holding {@code value}.
     *
     * @param value the value
     * @return the array (owned by this pool; do not close)
     */
    public synchronized NDArray of(float value) {
        return cache.computeIfAbsent(value, v -> manager.full(new Shape(), v, dataType));
    }
}
