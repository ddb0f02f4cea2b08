package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.llmkit.api.model.TensorType;

/**
 * Chooses the host-memory AdamW of {@code offloadOptimizer()}: ND4J's fused updater or the same update with
 * DJL ops on a CPU manager, whichever measured faster ({@code OffloadBenchmark}, 100M parameters).
 */
final class OffloadKernel {
    /** Whether ND4J runs the offloaded step (else DJL on the CPU). */
    static final boolean ND4J = true;

    private OffloadKernel() { }

    /**
     * @param hyper AdamW's hyper-parameters
     * @param host the host-memory manager (state of the DJL variant lives in a child of it)
     * @param params the range's working weights on the rank's device
     * @param type their type
     * @param decay sub-ranges that get weight decay
     * @return the optimizer
     */
    static ShardOptimizer choose(ShardOptimizer.Hyper hyper, NDManager host, NDArray params, TensorType type,
            List<FlatLayout.Range> decay) {
        return ND4J ? new Nd4jAdamW(hyper, params, type, decay)
                : new DjlAdamW(hyper, host.newSubManager(), params, type, decay, true);
    }
}
