package org.llmkit.train;

import ai.djl.ndarray.NDArray;

/**
 * AdamW over one contiguous range of the flat parameter vector (a rank's shard, or everything under ZeRO
 * stage 0), with the formula of {@link AdamW} ({@code torch.optim.AdamW}). Under mixed precision it keeps
 * the FP32 master copy of the range and writes the rounded result into the working parameters.
 */
interface ShardOptimizer extends AutoCloseable {

    /**
     * Applies one update.
     *
     * @param gradients float32 gradients of the range, unscaled and clipped, on the rank's device
     * @param lr this step's learning rate
     */
    void step(NDArray gradients, double lr);

    /**
     * Returns the range's FP32 weights: the master copy under mixed precision, else the working weights.
     *
     * @param owner the manager (and device) of the result
     * @return a new float32 flat array
     */
    NDArray weights(ai.djl.ndarray.NDManager owner);

    /** @return bytes of optimizer state (moments and master weights) in the rank's device memory */
    long deviceBytes();

    /** @return bytes of optimizer state held in host memory (offload) */
    long hostBytes();

    @Override
    void close();

    /**
     * The hyper-parameters and the step counter shared by implementations.
     *
     * @param beta1 first-moment decay
     * @param beta2 second-moment decay
     * @param epsilon added after {@code sqrt(v_hat)}
     * @param weightDecay decoupled decay
     */
    record Hyper(double beta1, double beta2, double epsilon, double weightDecay) {
        /**
         * @param lr learning rate
         * @param t 1-based step
         * @return {@code lr / (1 - beta1^t)}
         */
        double stepSize(double lr, long t) {
            return lr / (1 - Math.pow(beta1, t));
        }

        /**
         * @param t 1-based step
         * @return {@code sqrt(1 - beta2^t)}
         */
        double correction2(long t) {
            return Math.sqrt(1 - Math.pow(beta2, t));
        }
    }
}
