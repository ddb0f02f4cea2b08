package org.llmkit.api.model;

import static org.llmkit.api.model.HostArrays.pt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.llmkit.api.tensor.TorchOps;

/**
 * BF16 autocast of a float32 model's training forwards on the CPU ({@link DecoderModel#autocastBf16}), as
 * {@code torch.autocast("cpu", dtype=torch.bfloat16)} treats linear layers: while it is open, the linear layers of
 * every training forward on the OpenBLAS tape ({@link TrainingGemm}), the output projection of the loss included,
 * multiply in bfloat16 through oneDNN. Their inputs and weights are rounded to bf16, the products are summed in
 * float32 and rounded to bf16, and the results are widened to float32; the input's and the weights' gradients are
 * computed the same way. Everything else (norms, attention, activations, LoRA branches, the softmax, the residual
 * stream, gradients' accumulation, the optimizer) stays float32, and the model keeps its float32 weights.
 *
 * <p>Weights that do not require gradients (a LoRA adapter's frozen base) are rounded once, stacked as the layers
 * read them, and kept until {@link #close()} (half their float32 size); trainable weights change at every step and are
 * rounded again at every forward, into arrays kept for the run. The products' rounded operands and results go through
 * bf16 buffers kept for the run too (one per shape), not fresh memory at every call. Do not change frozen weights
 * while autocast is open: their rounded copies would go stale.
 *
 * <p>Closing ends autocast: later forwards run in float32 again. Not thread-safe: one training loop uses it.
 */
public final class Autocast implements AutoCloseable {
    private final TrainingKernel owner;
    private final TorchOps ops;
    private final NDManager manager;
    private final Map<Stack, NDArray> frozen = new HashMap<>();
    private final Map<Stack, NDArray> trainable = new HashMap<>();
    private final Map<List<Long>, NDArray> buffers = new HashMap<>();
    private boolean closed;

    /** Weights stacked by rows, compared by identity. */
    private record Stack(NDArray[] weights) {
        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Stack other) || other.weights.length != weights.length) {
                return false;
            }
            for (int i = 0; i < weights.length; i++) {
                if (weights[i] != other.weights[i]) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            int h = 1;
            for (NDArray w : weights) {
                h = 31 * h + System.identityHashCode(w);
            }
            return h;
        }

        @Override
        public String toString() {
            return "Stack" + Arrays.toString(weights);
        }
    }

    Autocast(TrainingKernel owner, TorchOps ops, NDManager manager) {
        this.owner = owner;
        this.ops = ops;
        this.manager = manager;
    }

    /**
     * The bf16 operand of a linear layer made of these weights: kept from the first forward when none of them trains,
     * else rounded again now into the array kept for them (they change at every step).
     *
     * @param weights each {@code [out_i, in]} float32
     * @return {@code [Σ out_i, in]} bf16
     */
    NDArray weights(NDArray[] weights) {
        if (closed) {
            throw new IllegalStateException("this BF16 autocast is closed");
        }
        for (NDArray w : weights) {
            if (JniUtils.requiresGrad(pt(w))) {
                NDArray out = trainable.computeIfAbsent(new Stack(weights.clone()), s -> {
                    long rows = 0;
                    for (NDArray v : s.weights()) {
                        rows += v.getShape().get(0);
                    }
                    return ops.emptyBFloat16(rows, s.weights()[0].getShape().get(1), manager);
                });
                ops.stackBFloat16Into(weights, out);
                return out;
            }
        }
        return frozen.computeIfAbsent(new Stack(weights.clone()), s -> ops.stackBFloat16(s.weights(), manager));
    }

    /** What a {@link #buffer} holds while a product runs. */
    enum Role {
        /** an operand rounded to bf16 */
        OPERAND,
        /** a second operand rounded to bf16 (a weight gradient's input) */
        SECOND_OPERAND,
        /** a bf16 product before it is widened */
        PRODUCT
    }

    /**
     * A bf16 matrix the products reuse for the whole run instead of fresh memory at every call (a page fault per
     * 4 KiB on first touch): one per role and shape.
     *
     * @param role what it holds
     * @param rows its rows
     * @param cols its columns
     * @return {@code [rows, cols]} bf16 with unspecified values
     */
    NDArray buffer(Role role, long rows, long cols) {
        return buffers.computeIfAbsent(List.of((long) role.ordinal(), rows, cols),
                k -> ops.emptyBFloat16(rows, cols, manager));
    }

    /** @return the model's TorchScript ops, which run the bf16 products */
    TorchOps ops() {
        return ops;
    }

    /** @return how many stacks of frozen weights are kept rounded */
    int frozenStacks() {
        return frozen.size();
    }

    /** @return whether {@link #close()} was called */
    public boolean isClosed() {
        return closed;
    }

    /** Ends autocast and frees the rounded weights. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        owner.endAutocast(this);
        frozen.clear();
        trainable.clear();
        buffers.clear();
        manager.close();
    }
}
