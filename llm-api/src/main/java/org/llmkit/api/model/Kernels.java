package org.llmkit.api.model;

import org.llmkit.api.tensor.TorchOps;

/**
 * Which implementation the hot ops use: torch's fused kernels through TorchScript ({@code fused}:
 * scaled-dot-product attention, RMSNorm) or the same math composed from DJL ops (the slow twin, kept
 * to check the fast path against). BF16 always uses the fused kernels.
 *
 * @param ops torch's own ops
 * @param fused whether attention and RMSNorm use the fused kernels
 * @param type the model's tensor type
 * @param cpu whether the weights live on the CPU (oneDNN's inner product is a CPU kernel)
 */
record Kernels(TorchOps ops, boolean fused, TensorType type, boolean cpu) {

    /**
     * Whether linear layers may use oneDNN's inner product in this forward: fused kernels, on the CPU, a
     * type oneDNN runs (float32, bf16) and no autograd recording (the oneDNN op has no backward).
     *
     * @param ctx the forward's context
     * @return true for oneDNN
     */
    boolean oneDnnLinear(ForwardContext ctx) {
        return oneDnn() && ctx.inference;
    }

    /** @return whether oneDNN's inner product can run this model's linear layers at inference */
    boolean oneDnn() {
        return fused && cpu && type.precision() != org.llmkit.api.Precision.FP16;
    }
}
