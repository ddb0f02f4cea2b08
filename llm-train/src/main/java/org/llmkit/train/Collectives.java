package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * The three collectives ZeRO needs, over one buffer per rank, in the single-process multi-device style of
 * NCCL group calls: list element {@code r} is rank {@code r}'s buffer, on its device. Counts follow MPI's
 * {@code Reduce_scatter}/{@code Allgatherv}: rank {@code r}'s piece is {@code counts[r]} consecutive elements
 * after the pieces of ranks {@code 0..r-1}. {@link LocalCollectives} runs them with device copies inside one
 * process; a backend over NCCL would implement the same calls.
 */
interface Collectives {
    /**
     * Sums the buffers element-wise; every buffer receives the sum, in place.
     *
     * @param buffers one flat buffer per rank, equal lengths and types
     */
    void allReduce(List<NDArray> buffers);

    /**
     * Sums the inputs element-wise and hands rank {@code r} its piece of the sum.
     *
     * @param inputs one flat buffer per rank, equal lengths ({@code sum(counts)}) and types
     * @param counts elements per rank's piece
     * @param outputs one buffer per rank of {@code counts[r]} elements (ignored where 0), overwritten
     */
    void reduceScatter(List<NDArray> inputs, long[] counts, List<NDArray> outputs);

    /**
     * Concatenates every rank's piece into every rank's output.
     *
     * @param inputs rank {@code r}'s piece, {@code counts[r]} elements
     * @param counts elements per piece
     * @param outputs one flat buffer per rank of {@code sum(counts)} elements, overwritten
     */
    void allGather(List<NDArray> inputs, long[] counts, List<NDArray> outputs);
}
