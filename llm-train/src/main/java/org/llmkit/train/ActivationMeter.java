package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * Peak bytes of the arrays a training step holds besides weights, gradients and optimizer state: activations
 * and per-step temporaries, counted from the NDArrays alive in the step's managers (views are counted at full
 * size) at the points where they peak: before a backward pass starts.
 */
final class ActivationMeter {
    private long peak;

    /**
     * Records the bytes alive in a manager and its children now.
     *
     * @param scratch a rank's step manager
     */
    void sample(NDManager scratch) {
        long bytes = 0;
        for (NDArray a : scratch.getManagedArrays()) {
            if (!a.isReleased()) {
                DataType t = a.getDataType();
                bytes += a.getShape().size() * (t == DataType.UNKNOWN ? 2 : t.getNumOfBytes());
            }
        }
        peak = Math.max(peak, bytes);
    }

    /** @return the largest sample so far */
    long peakBytes() {
        return peak;
    }
}
